/**
 * Explaining a batch in parts (worker chunks, one slice per worker) and putting the parts back
 * together: the per-sample options (target list, start values) are sliced like the input, and the
 * results are concatenated in order, so the whole equals one explain() of the batch.
 */
import type { ExplainOptions, Explanation } from './model.js';

/** The options for samples [a, b): target lists and start arrays sliced, everything else as it is. */
export function sliceExplainOptions(opts: ExplainOptions, a: number, b: number, outputs: number): ExplainOptions {
  const o: ExplainOptions = { ...opts };
  if (opts.target !== undefined && typeof opts.target !== 'string' && typeof opts.target !== 'number') o.target = Array.from(opts.target).slice(a, b);
  if (opts.start instanceof Float32Array) o.start = opts.start.slice(a * outputs, b * outputs);
  return o;
}

function concat<T extends Float32Array | Int32Array>(parts: T[], Ctor: new (n: number) => T): T {
  const out = new Ctor(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The parts' results in order, as one Explanation. */
export function concatExplanations(parts: Explanation[]): Explanation {
  const F = Float32Array as unknown as new (n: number) => Float32Array<ArrayBuffer>;
  const layers = parts[0].layers ? Object.fromEntries(Object.keys(parts[0].layers).map((k) => [k, concat(parts.map((p) => p.layers![k]), F)])) : undefined;
  return {
    relevance: concat(parts.map((p) => p.relevance), F),
    layout: parts[0].layout,
    logits: concat(parts.map((p) => p.logits), F),
    targets: concat(parts.map((p) => p.targets), Int32Array as unknown as new (n: number) => Int32Array<ArrayBuffer>),
    ...(layers ? { layers } : {}),
    sums: { start: concat(parts.map((p) => p.sums.start), F), input: concat(parts.map((p) => p.sums.input), F) },
  };
}
