/**
 * The command line for text models (token ids into an embedding): texts from --text and text
 * files (one sample per line) are tokenized by the vocabulary in metadata.json, explained or
 * predicted, and printed as tokens coloured by relevance; --out DIR writes text.html,
 * relevance.npy and relevance.json, all at once.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { escapeHtml, formatRelevance, parseVocabulary, readNpy, textHeatmap, writeNpy, type ExplainOptions, type TokenizedText, type Vocabulary } from '../index.js';
import { detokenize, tokenize } from '../text/tokenize.js';
import type { CliOptions } from './args.js';
import { resolveTargets, type CliIO } from './commands.js';
import { classLabel, type ModelContext } from './context.js';
import { CliError } from './errors.js';
import { checkOutDir, checkOutFile, jnum, num, table } from './outputs.js';
import { StagedFiles } from './staged-files.js';

/** One text sample: where it came from and its tokens. */
export interface TextSample {
  /** `--text 1`, `reviews.txt:3`, `ids.npy[0]`. */
  source: string;
  /** The text as given (null for ids from .npy). */
  text: string | null;
  tokens: TokenizedText;
}

/** Options of the image path that mean nothing for token ids. */
const IMAGE_ONLY = ['size', 'overlay', 'normalize', 'scale', 'mean', 'std', 'low', 'high'];

const DEFAULT_BATCH = 32;

const display = (p: string) => (path.isAbsolute(p) ? p : p.split(path.sep).join('/'));

/** --text on a model that takes values: say so before anything runs. */
export function checkTextModel(o: CliOptions, ctx: ModelContext): void {
  if (o.texts.length > 0 && ctx.model.inputKind !== 'tokens')
    throw new CliError(
      `--text needs a text model (token ids into an embedding), but model '${ctx.model.name}' takes values of shape [${ctx.model.inputShape.join(', ')}]; give its inputs as images or .npy`,
    );
}

/** The vocabulary of a text model, from its metadata.json; checked against the model. */
export function readVocabulary(ctx: ModelContext): Vocabulary {
  const { model } = ctx;
  if (!ctx.meta)
    throw new CliError(
      `model '${model.name}' takes token ids but has no vocabulary to turn text into them: put a metadata.json with "tokens", "pad", "unknown" and "maxLength" next to it, or pass --metadata FILE (see docs/text.md)`,
    );
  const file = ctx.meta.file;
  let vocab: Vocabulary;
  try {
    vocab = parseVocabulary(JSON.parse(readFileSync(file, 'utf8')), file);
  } catch (e) {
    throw new CliError(e instanceof SyntaxError ? `${file}: not valid JSON: ${e.message}` : (e as Error).message);
  }
  const T = model.inputSize;
  if (vocab.maxLength !== null && vocab.maxLength !== T)
    throw new CliError(`${file}: "maxLength" is ${vocab.maxLength}, but model '${model.name}' takes ${T} token ids per sample`);
  if (model.vocabSize !== null && vocab.tokens.length > model.vocabSize)
    throw new CliError(`${file}: the vocabulary has ${vocab.tokens.length} tokens, but the model's embedding has ${model.vocabSize} rows (ids 0..${model.vocabSize - 1})`);
  return vocab;
}

/** One line for `lrp info`: the token input and the vocabulary (or why there is none). */
export function textModelInfo(ctx: ModelContext): string {
  const head = `input: ${ctx.model.inputSize} token ids per sample, embedding of ${ctx.model.vocabSize ?? 'unknown size'}`;
  try {
    const v = readVocabulary(ctx);
    const r = v.rule;
    return `${head}; vocabulary: ${v.tokens.length} tokens, pad ${JSON.stringify(v.tokens[v.pad])}, unknown ${JSON.stringify(v.tokens[v.unknown])}, ${r.lowercase ? 'lowercase, ' : ''}${r.description}, padding ${r.padding}, truncation ${r.truncation}`;
  } catch (e) {
    return `${head}; no usable vocabulary: ${(e as Error).message}`;
  }
}

/** The samples: every --text, then each INPUT file (text: one sample per non-blank line; .npy: ids [N, T]). */
export function readTexts(o: CliOptions, ctx: ModelContext, vocab: Vocabulary): TextSample[] {
  const T = ctx.model.inputSize;
  const samples: TextSample[] = o.texts.map((text, i) => ({ source: `--text ${i + 1}`, text, tokens: tokenize(text, vocab, T) }));
  for (const file of o.inputs) {
    let bytes: Buffer;
    try {
      if (statSync(file).isDirectory()) throw new CliError(`input ${file} is a folder, expected a text file (one sample per line)`);
      bytes = readFileSync(file);
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError((e as NodeJS.ErrnoException).code === 'ENOENT' ? `input not found: ${file}` : `cannot read input ${file}: ${(e as Error).message}`);
    }
    const base = path.basename(file);
    if (bytes.subarray(0, 6).equals(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]))) {
      const { data, shape } = readNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
      const n = shape.length === 2 ? shape[0] : shape.length === 1 ? 1 : -1;
      if (n < 1 || shape[shape.length - 1] !== T)
        throw new CliError(`${file}: shape [${shape.join(', ')}] does not fit model '${ctx.model.name}', which takes token ids [N, ${T}]`);
      for (let i = 0; i < n; i++) samples.push({ source: `${base}[${i}]`, text: null, tokens: detokenize(data.subarray(i * T, (i + 1) * T), vocab) });
      continue;
    }
    const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    if (text.includes('\u0000')) throw new CliError(`${file}: not a text file (it holds NUL bytes); a text model takes text files (one sample per line), --text or .npy ids`);
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() !== '') samples.push({ source: `${base}:${i + 1}`, text: line, tokens: tokenize(line, vocab, T) });
    });
  }
  if (samples.length === 0) throw new CliError(`no text to ${o.command}: the input files hold only blank lines`);
  return samples;
}

/** 24-bit colours on a terminal, unless NO_COLOR is set (no-color.org); FORCE_COLOR turns them on anywhere. */
export function useColour(io: CliIO): boolean {
  const env = process.env;
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  return io.stdoutIsTTY ?? false;
}

function openText(o: CliOptions, ctx: ModelContext): { vocab: Vocabulary; samples: TextSample[]; ids: Int32Array } {
  for (const name of IMAGE_ONLY) if (o.given.has(name)) throw new CliError(`--${name} applies to image models; model '${ctx.model.name}' takes token ids`, 2);
  const vocab = readVocabulary(ctx);
  const samples = readTexts(o, ctx, vocab);
  const T = ctx.model.inputSize;
  const ids = new Int32Array(samples.length * T);
  samples.forEach((smp, i) => ids.set(smp.tokens.ids, i * T));
  return { vocab, samples, ids };
}

function notes(samples: TextSample[], vocab: Vocabulary, T: number): string[] {
  const out: string[] = [];
  for (const smp of samples) {
    if (smp.tokens.truncated > 0) out.push(`${smp.source}: ${smp.tokens.truncated} token${smp.tokens.truncated === 1 ? '' : 's'} beyond ${T} dropped (${vocab.rule.truncation === 'post' ? 'at the end' : 'at the start'})`);
    const unk = smp.text === null ? [] : smp.tokens.unknown.map((p) => smp.tokens.tokens[p]);
    if (unk.length) out.push(`${smp.source}: not in the vocabulary (read as ${vocab.tokens[vocab.unknown]}): ${unk.join(' ')}`);
  }
  return out;
}

function softmax(row: Float32Array): Float64Array {
  let m = -Infinity;
  for (const v of row) m = Math.max(m, v);
  const e = Float64Array.from(row, (v) => Math.exp(v - m));
  const s = e.reduce((a, v) => a + v, 0);
  return e.map((v) => v / s);
}

function argmax(row: ArrayLike<number>): number {
  let k = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[k]) k = j;
  return k;
}

// ---------------------------------------------------------------------------------------------

export async function explainText(o: CliOptions, ctx: ModelContext, io: CliIO): Promise<number> {
  if (o.outGiven) checkOutDir(o.out);
  if (o.npy) checkOutFile(o.npy, '--npy');
  const { model } = ctx;
  const { vocab, samples, ids } = openText(o, ctx);
  const n = samples.length;
  const T = model.inputSize;
  const O = model.outputSize;
  const targets = resolveTargets(o.target, n, ctx);
  const opts: ExplainOptions = { start: o.start };
  if (o.composite) opts.composite = o.composite;
  if (o.rule) opts.rule = o.rule;
  if (o.firstRule) opts.firstRule = o.firstRule;
  const r = model.explain(ids, { ...opts, target: targets, batch: o.batch ?? DEFAULT_BATCH });
  const composite = o.rule ? 'rule' : (o.composite ?? 'epsilon-plus');
  const colormap = o.cmap;
  const rel = (i: number) => r.relevance.subarray(i * T, (i + 1) * T);
  let max: number | undefined;
  if (o.sharedScale) {
    let m = 0;
    samples.forEach((smp, i) => smp.tokens.padding.forEach((pad, t) => pad || (m = Math.max(m, Math.abs(rel(i)[t])))));
    max = m > 0 ? m : undefined;
  }
  const rows = samples.map((smp, i) => {
    const logits = r.logits.subarray(i * O, (i + 1) * O);
    const predicted = argmax(logits);
    return { smp, logits, predicted, probability: softmax(logits)[predicted], explained: r.targets[i] };
  });

  const staged = new StagedFiles();
  if (o.outGiven) {
    staged.add(path.join(o.out, 'text.html'), new TextEncoder().encode(textPage(ctx, composite, rows, rel, { colormap, max })));
    staged.add(path.join(o.out, 'relevance.npy'), writeNpy(r.relevance, [n, T]));
    staged.add(path.join(o.out, 'relevance.json'), new TextEncoder().encode(`${JSON.stringify(summary(), null, 2)}\n`));
  }
  if (o.npy) staged.add(o.npy, writeNpy(r.relevance, [n, T]));
  await staged.commit();

  function summary() {
    return {
      command: 'explain',
      model: o.model,
      name: ctx.displayName,
      inputKind: 'tokens',
      sequenceLength: T,
      composite,
      start: o.start,
      samples: rows.map(({ smp, logits, predicted, probability, explained }, i) => ({
        source: smp.source,
        text: smp.text,
        tokens: smp.tokens.tokens,
        ids: Array.from(smp.tokens.ids),
        padding: smp.tokens.padding,
        unknown: smp.tokens.unknown,
        truncated: smp.tokens.truncated,
        relevance: Array.from(rel(i), jnum),
        predicted,
        ...(ctx.classes ? { predictedClassName: ctx.classes[predicted] } : {}),
        probability: jnum(probability),
        target: explained,
        ...(ctx.classes ? { className: ctx.classes[explained] } : {}),
        logits: Array.from(logits, jnum),
        startRelevance: jnum(r.sums.start[i]),
        relevanceSum: jnum(r.sums.input[i]),
      })),
    };
  }

  if (o.json) {
    io.stdout.write(`${JSON.stringify({ ...summary(), out: o.outGiven ? display(o.out) : null, npy: o.npy ? { file: display(o.npy), shape: [n, T] } : null }, null, 2)}\n`);
    return 0;
  }
  for (const line of notes(samples, vocab, T)) io.stderr.write(`lrp: note: ${line}\n`);
  const format = useColour(io) ? 'ansi' : 'plain';
  const lines = [`${ctx.displayName}, ${composite}: relevance per token (${format === 'ansi' ? legend(colormap) : 'token(relevance)'})`];
  rows.forEach(({ smp, predicted, probability, explained }, i) => {
    const expl = explained === predicted ? '' : `, explained ${classLabel(ctx, explained)}`;
    lines.push(`${smp.source}: predicted ${classLabel(ctx, predicted)} (p ${probability.toFixed(3)})${expl}; R start ${num(r.sums.start[i])}, sum ${num(r.sums.input[i])}`);
    lines.push(`  ${textHeatmap(smp.tokens, rel(i), { format, colormap, max })}`);
  });
  if (o.outGiven || o.npy) {
    const wrote = [o.outGiven ? `text.html, relevance.npy [${n}, ${T}] and relevance.json to ${display(o.out)}` : '', o.npy ? `relevance [${n}, ${T}] to ${display(o.npy)}` : ''].filter(Boolean);
    lines.push(`wrote ${wrote.join('; ')}`);
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export async function predictText(o: CliOptions, ctx: ModelContext, io: CliIO): Promise<number> {
  if (o.npy) checkOutFile(o.npy, '--npy');
  const { model } = ctx;
  const { vocab, samples, ids } = openText(o, ctx);
  const n = samples.length;
  const O = model.outputSize;
  const logits = model.predict(ids, { batch: o.batch ?? DEFAULT_BATCH });
  if (o.npy) {
    const staged = new StagedFiles();
    staged.add(o.npy, writeNpy(logits, [n, O]));
    await staged.commit();
  }
  const rows = samples.map((smp, i) => {
    const row = logits.subarray(i * O, (i + 1) * O);
    const k = argmax(row);
    return { smp, row, k, p: softmax(row)[k] };
  });
  if (o.json) {
    const out = {
      command: 'predict',
      model: o.model,
      name: ctx.displayName,
      inputKind: 'tokens',
      npy: o.npy ? { file: display(o.npy), shape: [n, O] } : null,
      samples: rows.map(({ smp, row, k, p }) => ({
        source: smp.source,
        text: smp.text,
        tokens: smp.tokens.tokens.filter((_, t) => !smp.tokens.padding[t]),
        predicted: k,
        ...(ctx.classes ? { className: ctx.classes[k] } : {}),
        logit: jnum(row[k]),
        probability: jnum(p),
        logits: Array.from(row, jnum),
      })),
    };
    io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  for (const line of notes(samples, vocab, model.inputSize)) io.stderr.write(`lrp: note: ${line}\n`);
  const clip = (s: string) => (s.length > 60 ? `${s.slice(0, 57)}...` : s);
  const tableRows = rows.map(({ smp, row, k, p }) => [smp.source, classLabel(ctx, k), num(row[k]), p.toFixed(4), clip(smp.text ?? smp.tokens.tokens.filter((_, t) => !smp.tokens.padding[t]).join(' '))]);
  io.stdout.write(`${table(['input', 'class', 'logit', 'prob', 'text'], tableRows)}\n`);
  if (o.npy) io.stdout.write(`wrote logits [${n}, ${O}] to ${display(o.npy)}\n`);
  return 0;
}

/** What the colours mean: the map's upper end is relevance for the class, its lower end against. */
function legend(colormap: string): string {
  return colormap === 'bwr' ? 'red: for the explained class, blue: against' : `colour map ${colormap}: upper end for the explained class, lower end against`;
}

/** text.html: every sample's tokens coloured by relevance, with its source, prediction and a legend. */
function textPage(
  ctx: ModelContext,
  composite: string,
  rows: { smp: TextSample; predicted: number; probability: number; explained: number }[],
  rel: (i: number) => Float32Array,
  opts: { colormap: string; max?: number },
): string {
  const title = `${ctx.displayName}: ${composite}`;
  const items = rows.map(({ smp, predicted, probability, explained }, i) => {
    const expl = explained === predicted ? '' : `, explained ${escapeHtml(classLabel(ctx, explained))}`;
    const range = smp.tokens.padding.reduce((m, pad, t) => (pad ? m : Math.max(m, Math.abs(rel(i)[t]))), 0);
    return `<section>
<h2>${escapeHtml(smp.source)}: predicted ${escapeHtml(classLabel(ctx, predicted))} (p ${probability.toFixed(3)})${expl}</h2>
<p class="tokens">${textHeatmap(smp.tokens, rel(i), { format: 'html', colormap: opts.colormap, max: opts.max })}</p>
<p class="scale">colour scale: ±${escapeHtml(formatRelevance(opts.max ?? range).replace(/^\+/, ''))}</p>
</section>`;
  });
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 60em; }
h1 { font-size: 1.3em; } h2 { font-size: 1em; font-weight: normal; color: #333; margin-bottom: 0.3em; }
.tokens { font-family: ui-monospace, monospace; line-height: 2; }
.lrp-token { padding: 0.15em 0.2em; border-radius: 0.2em; }
.scale { font-size: 0.8em; color: #666; margin-top: 0; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>Relevance of each token (${escapeHtml(legend(opts.colormap))}; hover a token for its value). Padding is not shown.</p>
${items.join('\n')}
</body>
</html>
`;
}
