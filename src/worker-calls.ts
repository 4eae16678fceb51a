/**
 * The calls a worker answers, on the one model it holds: load, predict, explain, attribute,
 * describe, warmup, explainImage, and the chunked forms explainer.ts uses (explainChunked,
 * predictChunked), which run `batch` samples at a time, post { id, progress } after each chunk and
 * yield to the event loop in between, so that a { cancel: id } message stops them; and the
 * evaluation calls (compareMethods, sanityCheck: worker-evaluate.ts), which stop between methods.
 */
import { loadModel } from './load.js';
import type { ExplainOptions, Explanation, Model } from './model.js';
import { concatExplanations, sliceExplainOptions } from './explanation-parts.js';

export interface Call {
  id: number;
  method?: string;
  args?: unknown[];
  /** Stop the call with this id at its next chunk. */
  cancel?: number;
}

type Post = (msg: unknown, transfer?: ArrayBuffer[]) => void;

let model: Model | null = null;
const cancelled = new Set<number>();

class Cancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'AbortError';
  }
}

/** Lets queued messages (a cancel) in between two chunks. */
const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** The ArrayBuffers of the typed arrays in a result that own them, each once (moved, not copied, to the caller). */
function transferables(value: unknown, out = new Set<ArrayBuffer>(), depth = 0): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    const b = value.buffer;
    if (b instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === b.byteLength) out.add(b);
  } else if (value && typeof value === 'object' && depth < 3 && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) transferables(v, out, depth + 1);
  }
  return [...out];
}

async function chunked<T>(id: number, n: number, batch: number, post: Post, run: (a: number, b: number) => T): Promise<T[]> {
  const parts: T[] = [];
  for (let a = 0; a < n; a += batch) {
    if (cancelled.has(id)) throw new Cancelled();
    const b = Math.min(n, a + batch);
    parts.push(run(a, b));
    post({ id, progress: { done: b, total: n } });
    if (b < n) await yieldToEvents();
  }
  return parts;
}

function samplesOf(m: Model, x: ArrayLike<number>): number | null {
  const n = x && typeof x.length === 'number' ? x.length / m.inputSize : NaN;
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** Between two pieces of a call: lets a cancel in, and stops the call if it came. */
async function checkpoint(id: number): Promise<void> {
  await yieldToEvents();
  if (cancelled.has(id)) throw new Cancelled();
}

const slice = (x: ArrayLike<number>, a: number, b: number): ArrayLike<number> =>
  ArrayBuffer.isView(x) ? (x as unknown as Float32Array).subarray(a, b) : Array.prototype.slice.call(x, a, b);

async function run(m: Model, msg: Call, post: Post): Promise<unknown> {
  const args = msg.args ?? [];
  switch (msg.method) {
    case 'predict':
      return m.predict(args[0] as Float32Array, args[1] as { batch?: number });
    case 'explain':
      return m.explain(args[0] as Float32Array, args[1] as ExplainOptions);
    case 'attribute':
      return m.attribute(args[0] as Float32Array, args[1] as Parameters<Model['attribute']>[1]);
    case 'describe':
      return m.describe(args[0] as Parameters<Model['describe']>[0]);
    case 'warmup':
      return m.warmup(args[0] as number, args[1] as ExplainOptions);
    case 'explainImage':
      return m.explainImage(args[0] as Parameters<Model['explainImage']>[0], args[1] as Parameters<Model['explainImage']>[1]);
    case 'explainChunked': {
      const x = args[0] as ArrayLike<number>;
      const opts = (args[1] ?? {}) as ExplainOptions;
      const n = samplesOf(m, x);
      if (n === null || n <= (opts.batch ?? 32)) {
        const r = m.explain(x, opts); // one chunk, or an input explain() rejects with the right message
        post({ id: msg.id, progress: { done: r.targets.length, total: r.targets.length } });
        return r;
      }
      const per = m.inputSize;
      const parts = await chunked(msg.id, n, opts.batch ?? 32, post, (a, b) => m.explain(slice(x, a * per, b * per), sliceExplainOptions(opts, a, b, m.outputSize)));
      return concatExplanations(parts as Explanation[]);
    }
    case 'predictChunked': {
      const x = args[0] as ArrayLike<number>;
      const opts = (args[1] ?? {}) as { batch?: number; checkRange?: boolean };
      const n = samplesOf(m, x);
      if (n === null) return m.predict(x, opts);
      const per = m.inputSize;
      const parts = await chunked(msg.id, n, opts.batch ?? 32, post, (a, b) => m.predict(slice(x, a * per, b * per), opts));
      const out = new Float32Array(n * m.outputSize);
      parts.forEach((p, i) => out.set(p, i * (opts.batch ?? 32) * m.outputSize));
      return out;
    }
    case 'compareMethods':
    case 'sanityCheck': {
      const { compareCall, sanityCall } = await import('./worker-evaluate.js'); // loaded with the first evaluation
      const report = (progress: unknown) => post({ id: msg.id, progress });
      return (msg.method === 'compareMethods' ? compareCall : sanityCall)(m, args, report, () => checkpoint(msg.id));
    }
    default:
      throw new Error(`unknown call ${String(msg.method)}`);
  }
}

export async function answerCall(msg: Call, post: Post): Promise<void> {
  if (msg.cancel !== undefined) {
    cancelled.add(msg.cancel);
    return;
  }
  try {
    let value: unknown;
    if (msg.method === 'load') {
      model?.dispose();
      model = null;
      model = await loadModel(msg.args![0] as Parameters<typeof loadModel>[0], msg.args![1] as Parameters<typeof loadModel>[1]);
      value = { inputShape: model.inputShape, inputLayout: model.inputLayout, outputSize: model.outputSize, name: model.name, metadata: model.metadata, inputRange: model.graph.inputRange ?? null, backendName: model.backendName, threads: model.threads };
    } else if (!model) throw new Error('no model loaded in this worker');
    else value = await run(model, msg, post);
    post({ id: msg.id, ok: true, value }, transferables(value));
  } catch (e) {
    const err = e as Error & { code?: string };
    post({ id: msg.id, ok: false, error: { name: err.name, code: err.code, message: err.message } });
  } finally {
    cancelled.delete(msg.id);
  }
}
