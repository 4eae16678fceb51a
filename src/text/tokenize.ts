/**
 * Text → token ids by a vocabulary's rule (src/text/vocabulary.ts): lowercase, the rule's
 * pattern picks the tokens, tokens not in the vocabulary become `unknown`, and the sequence is
 * truncated or padded to maxLength. Browser-safe.
 */
import { InputError } from '../errors.js';
import type { Vocabulary } from './vocabulary.js';

/** One text as the model sees it. */
export interface TokenizedText {
  /** maxLength ids (padded / truncated), ready for predict/explain. */
  ids: Int32Array<ArrayBuffer>;
  /** The token at each position as the text spells it (original case); the pad token at pad positions. */
  tokens: string[];
  /** Whether each position is padding. */
  padding: boolean[];
  /** Positions whose token is not in the vocabulary (their id is `unknown`). */
  unknown: number[];
  /** Tokens dropped because the text is longer than maxLength. */
  truncated: number;
  /** The pad token (for {@link textHeatmap}, which hides pad positions). */
  pad: string;
}

/** One token of a text before lookup. */
export interface TextPiece {
  /** The token as looked up (lowercased if the rule says so). */
  token: string;
  /** The same as the text spells it. */
  spelled: string;
}

/** A batch of texts as ids. */
export interface TokenizedBatch {
  /** [texts × length] ids. */
  ids: Int32Array<ArrayBuffer>;
  /** Each text's tokens. */
  texts: TokenizedText[];
}

/** The tokens of one text by the vocabulary's rule, before lookup, padding and truncation. */
export function splitTokens(text: string, vocab: Vocabulary): TextPiece[] {
  if (typeof text !== 'string') throw new InputError(`tokenize: text must be a string, got ${text === null ? 'null' : typeof text}`);
  const { rule } = vocab;
  const lowered = rule.lowercase ? text.toLowerCase() : text;
  // the original spelling is shown where lowercasing kept every position (it does except for a few letters, e.g. 'İ')
  const sameSpan = lowered.length === text.length;
  const out: TextPiece[] = [];
  for (const m of lowered.matchAll(new RegExp(rule.pattern.source, rule.pattern.flags))) {
    if (m[0] === '') continue;
    out.push({ token: m[0], spelled: sameSpan ? text.slice(m.index!, m.index! + m[0].length) : m[0] });
  }
  return out;
}

/**
 * Token ids of `text` for a model with this vocabulary: `length` ids (default: the vocabulary's
 * maxLength), padded with the pad id or truncated on the rule's side.
 * @throws {@link InputError} when text is not a string or no length is known.
 */
export function tokenize(text: string, vocab: Vocabulary, length: number | null = vocab.maxLength): TokenizedText {
  if (length === null || !Number.isInteger(length) || length < 1)
    throw new InputError(`tokenize: the sequence length must be a positive integer (the vocabulary gives no maxLength: pass it), got ${length}`);
  let pieces = splitTokens(text, vocab);
  const truncated = Math.max(0, pieces.length - length);
  if (truncated > 0) pieces = vocab.rule.truncation === 'post' ? pieces.slice(0, length) : pieces.slice(truncated);
  const ids = new Int32Array(length).fill(vocab.pad);
  const padToken = vocab.tokens[vocab.pad];
  const tokens = new Array<string>(length).fill(padToken);
  const padding = new Array<boolean>(length).fill(true);
  const unknown: number[] = [];
  const offset = vocab.rule.padding === 'post' ? 0 : length - pieces.length;
  pieces.forEach((p, i) => {
    const at = offset + i;
    const id = vocab.ids.get(p.token);
    if (id === undefined) unknown.push(at);
    ids[at] = id ?? vocab.unknown;
    tokens[at] = p.spelled;
    padding[at] = false;
  });
  return { ids, tokens, padding, unknown, truncated, pad: padToken };
}

/** Several texts as one batch: [texts.length × length] ids, plus each text's tokens. */
export function tokenizeBatch(texts: readonly string[], vocab: Vocabulary, length: number | null = vocab.maxLength): TokenizedBatch {
  const out = texts.map((t) => tokenize(t, vocab, length));
  const T = out.length ? out[0].ids.length : 0;
  const ids = new Int32Array(out.length * T);
  out.forEach((t, i) => ids.set(t.ids, i * T));
  return { ids, texts: out };
}

/** The tokens of ids (e.g. from a .npy of ids), for display: unknown ids as `<id N>`. */
export function detokenize(ids: ArrayLike<number>, vocab: Vocabulary): TokenizedText {
  const tokens: string[] = [];
  const padding: boolean[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    tokens.push(vocab.tokens[id] ?? `<id ${id}>`);
    padding.push(id === vocab.pad);
    if (id === vocab.unknown) unknown.push(i);
  }
  return { ids: Int32Array.from(ids), tokens, padding, unknown, truncated: 0, pad: vocab.tokens[vocab.pad] };
}
