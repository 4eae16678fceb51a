/**
 * A text model's vocabulary and tokenisation rule, as its metadata.json describes them:
 *
 * ```json
 * {
 *   "tokens": ["<pad>", "<unk>", "the", "movie", …],   // the id of a token is its index
 *   "pad": "<pad>",  "unknown": "<unk>",                // tokens (or their ids)
 *   "maxLength": 32,                                    // ids per sample (padded / truncated to it)
 *   "tokenizer": { "lowercase": true, "pattern": "[a-z0-9']+|[^\\sa-z0-9']",
 *                  "padding": "post", "truncation": "post" }
 * }
 * ```
 *
 * `tokenizer` (also `tokenization`) says how text becomes tokens: `lowercase` (default true), then
 * either `pattern` (a regular expression whose matches are the tokens, as Python's `re.findall`)
 * or `split` (one of `'whitespace'`, `'whitespace-punctuation'`: words and each punctuation mark,
 * `'whitespace-drop-punctuation'`: words only). Default: `'whitespace-punctuation'`. `padding` and
 * `truncation` are `'post'` (at the end, default) or `'pre'` (at the start, as Keras's
 * pad_sequences), or a sentence that says so: "append <pad> …" / "keep the first N tokens" (post),
 * "prepend …" / "keep the last N tokens" (pre); `truncate` is read as `truncation`. Other keys of
 * `tokenizer` (e.g. a prose `rule`) are ignored. The vocabulary may also sit under `vocabulary` / `vocab` as an object with
 * these keys. Browser-safe.
 */
import { InputError } from '../errors.js';
import { readJsonFile } from '../import/location.js';

/** Where padding or truncation happens: at the end ('post') or at the start ('pre'). */
export type SequenceSide = 'pre' | 'post';

/** How text becomes tokens (see the module comment). */
export interface TokenizationRule {
  /** Lowercase the text before matching. */
  lowercase: boolean;
  /** The regular expression whose matches are the tokens (global, Unicode). */
  pattern: RegExp;
  /** Its source, as given in the metadata or implied by `split`. */
  description: string;
  /** Where pad ids go when a text is shorter than maxLength. */
  padding: SequenceSide;
  /** Which end loses its tokens when a text is longer than maxLength. */
  truncation: SequenceSide;
}

/** A text model's vocabulary: tokens by id, the special ids and the tokenisation rule. */
export interface Vocabulary {
  /** The token of each id. */
  readonly tokens: readonly string[];
  /** The id of each token. */
  readonly ids: ReadonlyMap<string, number>;
  /** The id given to tokens that are not in the vocabulary. */
  readonly unknown: number;
  /** The id that fills a sequence up to maxLength. */
  readonly pad: number;
  /** Ids per sample (null when the metadata does not say; the model's input length then decides). */
  readonly maxLength: number | null;
  /** How text becomes tokens. */
  readonly rule: TokenizationRule;
}

/** The named splitting rules: words of letters, digits and apostrophes; punctuation marks one by one, or dropped. */
const SPLITS: Record<string, string> = {
  whitespace: '\\S+',
  'whitespace-punctuation': "[\\p{L}\\p{N}_']+|[^\\s\\p{L}\\p{N}_']",
  'whitespace-drop-punctuation': "[\\p{L}\\p{N}_']+",
};

function pick(o: Record<string, unknown>, keys: string[]): unknown {
  for (const k of keys) if (o[k] !== undefined) return o[k];
  return undefined;
}

/**
 * Reads the vocabulary of a parsed metadata.json. `source` names the file in errors.
 * @throws {@link InputError} (code `E_VOCABULARY`) naming the key that is missing or malformed.
 */
export function parseVocabulary(json: unknown, source = 'metadata'): Vocabulary {
  const fail = (msg: string) => new InputError(`${source}: ${msg}`, 'E_VOCABULARY');
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw fail('metadata must be a JSON object');
  let o = json as Record<string, unknown>;
  const nested = pick(o, ['vocabulary', 'vocab']);
  if (nested && typeof nested === 'object' && !Array.isArray(nested)) o = { ...o, ...(nested as Record<string, unknown>) };
  const list = pick(o, ['tokens', 'vocabulary', 'vocab']);
  if (list === undefined) throw fail('no vocabulary: a text model\'s metadata needs "tokens", the list of tokens (the index of each is its id)');
  if (!Array.isArray(list) || list.length === 0 || !list.every((t) => typeof t === 'string'))
    throw fail('"tokens" must be a non-empty list of strings (the index of each is its id)');
  const tokens = list as string[];
  const ids = new Map<string, number>();
  tokens.forEach((t, i) => {
    if (ids.has(t)) throw fail(`token ${JSON.stringify(t)} appears twice in "tokens" (ids ${ids.get(t)} and ${i})`);
    ids.set(t, i);
  });
  const special = (keys: string[], what: string): number => {
    const v = pick(o, keys);
    if (v === undefined) throw fail(`"${keys[0]}" is missing: the ${what} token (a string from "tokens", or its id)`);
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 0 || v >= tokens.length) throw fail(`"${keys[0]}" id ${v} is not an id of the ${tokens.length} tokens`);
      return v;
    }
    if (typeof v !== 'string' || !ids.has(v)) throw fail(`"${keys[0]}" ${JSON.stringify(v)} is not one of the tokens`);
    return ids.get(v)!;
  };
  const unknown = special(['unknown', 'unk', 'unknownToken', 'unknown_token'], 'unknown-word');
  const pad = special(['pad', 'padding_token', 'padToken', 'pad_token'], 'padding');
  const ml = pick(o, ['maxLength', 'max_length', 'maxlen', 'sequenceLength', 'sequence_length']);
  if (ml !== undefined && (typeof ml !== 'number' || !Number.isInteger(ml) || ml < 1)) throw fail(`"maxLength" must be a positive integer, got ${JSON.stringify(ml)}`);
  return { tokens, ids, unknown, pad, maxLength: (ml as number | undefined) ?? null, rule: parseRule(pick(o, ['tokenizer', 'tokenization', 'tokenize']), fail) };
}

function parseRule(spec: unknown, fail: (msg: string) => InputError): TokenizationRule {
  if (spec === undefined) spec = {};
  if (typeof spec === 'string') spec = { split: spec };
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw fail('"tokenizer" must be an object ({ lowercase, pattern | split, padding, truncation })');
  const s = spec as Record<string, unknown>;
  const lowercase = s.lowercase ?? s.lower ?? true;
  if (typeof lowercase !== 'boolean') throw fail(`"tokenizer.lowercase" must be true or false, got ${JSON.stringify(lowercase)}`);
  const side = (keys: string[]): SequenceSide => {
    const key = keys.find((k) => s[k] !== undefined);
    if (key === undefined) return 'post';
    const v = s[key];
    const side = typeof v === 'string' ? sideOf(v) : null;
    if (!side)
      throw fail(`"tokenizer.${key}" must be 'pre' or 'post' (or a sentence starting "append" / "keep the first" for post, "prepend" / "keep the last" for pre), got ${JSON.stringify(v)}`);
    return side;
  };
  let source: string;
  let description: string;
  if (s.pattern !== undefined) {
    if (typeof s.pattern !== 'string' || s.pattern === '') throw fail('"tokenizer.pattern" must be a regular expression (a string)');
    // Python's named groups (?P<name>…) are JavaScript's (?<name>…)
    source = s.pattern.replace(/\(\?P</g, '(?<');
    description = `pattern ${s.pattern}`;
  } else {
    const split = s.split ?? 'whitespace-punctuation';
    if (typeof split !== 'string' || !(split in SPLITS))
      throw fail(`"tokenizer.split" must be one of ${Object.keys(SPLITS).join(', ')} (or give "pattern"), got ${JSON.stringify(split)}`);
    source = SPLITS[split];
    description = split;
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp(source, 'gu');
  } catch (e) {
    throw fail(`"tokenizer.pattern" is not a valid regular expression: ${(e as Error).message}`);
  }
  if (pattern.test('')) throw fail(`"tokenizer.pattern" ${source} matches the empty string, so it would give empty tokens`);
  return { lowercase, pattern, description, padding: side(['padding']), truncation: side(['truncation', 'truncate']) };
}

/**
 * 'pre' / 'post', or a trainer's description of it: "append <pad> …" and "keep the first N tokens"
 * act at the end (post); "prepend …" and "keep the last N tokens" at the start (pre).
 */
function sideOf(v: string): SequenceSide | null {
  const t = v.trim().toLowerCase();
  if (t === 'post' || t === 'end' || /^(append|keep the first)\b/.test(t)) return 'post';
  if (t === 'pre' || t === 'start' || /^(prepend|keep the last)\b/.test(t)) return 'pre';
  return null;
}

/**
 * Fetches (or, in Node, reads) a metadata.json and returns its vocabulary. Relative strings
 * resolve as for {@link loadModel}: against the page in browsers, as paths in Node.
 * @throws {@link ModelFormatError} when the file cannot be read, {@link InputError} (`E_VOCABULARY`) when it has no usable vocabulary.
 */
export async function loadVocabulary(source: string | URL): Promise<Vocabulary> {
  const { json, from } = await readJsonFile(source, 'metadata file', 'E_VOCABULARY');
  return parseVocabulary(json, from);
}
