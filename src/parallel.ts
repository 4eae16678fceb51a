/**
 * Parallelism over the batch: each worker (a Node worker thread, or a module Web Worker in a
 * browser) owns its own model, WASM instance and memory, and explains a contiguous slice of the
 * samples. Off by default; worth it for batches of several samples on more than one core.
 */
import { platform } from '#platform';
import * as errors from './errors.js';
import { DisposedError, InputError, WorkerError, type LrpError } from './errors.js';
import type { LoadOptions, ModelSource } from './load.js';
import type { AttributeOptions, ExplainOptions, Explanation, Model } from './model.js';
import { concatExplanations } from './explanation-parts.js';
import type { WorkerFactory, WorkerPort } from './platform/types.js';
import type { ExplainerOptions } from './explainer.js';
import { startWorkers } from './worker-start.js';
import { toWorkerSource } from './worker-source.js';

export interface ParallelOptions extends LoadOptions {
  /** Number of workers (default: the number of CPU cores, at least 1). */
  workers?: number;
  /**
   * Browsers: URL of the bundled worker script (src/parallel-worker.ts, exported as
   * 'lrp-wasm/worker'), started as a module Web Worker. Node uses worker threads and ignores it.
   */
  workerUrl?: string | URL;
  /** Browsers, instead of workerUrl: makes each worker (see {@link ExplainerOptions.createWorker}). */
  createWorker?: WorkerFactory;
}

async function defaultWorkerCount(): Promise<number> {
  return platform.cpuCount();
}

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: { name: string; code?: string; message: string };
}

/** What a ParallelModel knows of the model its workers hold. */
export interface ModelInfo {
  /** Per-sample input shape, NCHW order. */
  inputShape: number[];
  /** Layout of the arrays passed and returned. */
  inputLayout: 'NCHW' | 'NHWC';
  /** Number of outputs (classes). */
  outputSize: number;
  /** The model's name. */
  name: string;
}

/**
 * A model loaded once per worker ({@link loadModelParallel}); predict and explain split each batch
 * over the workers and return promises.
 */
export class ParallelModel {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Set by dispose(), or when a worker died: every call from then on rejects with it. */
  private closed: LrpError | null = null;

  private constructor(
    private readonly workers: WorkerPort[],
    /** The model's shape, layout, outputs and name. */
    readonly info: ModelInfo,
  ) {
    workers.forEach((w, i) =>
      w.onFailure((why) => {
        if (this.closed) return; // terminated by dispose()
        // the other workers hold slices of the same calls: stop them all rather than hang
        this.failPending(new WorkerError(`parallel model worker ${i + 1} of ${workers.length} stopped (${why}); load the model again`));
        void Promise.all(workers.map((x) => x.terminate()));
      }),
    );
    for (const w of workers)
      w.onReply((msg) => {
        const reply = msg as Reply;
        const p = this.pending.get(reply.id);
        if (!p) return;
        this.pending.delete(reply.id);
        if (reply.ok) p.resolve(reply.value);
        else p.reject(rebuildError(reply.error!));
      });
  }

  /** Rejects every pending call with `e`, and every later one. */
  private failPending(e: LrpError): void {
    this.closed ??= e;
    for (const p of this.pending.values()) p.reject(this.closed);
    this.pending.clear();
  }

  /** Load `source` once per worker. */
  static async load(source: ModelSource, opts: ParallelOptions = {}): Promise<ParallelModel> {
    const count = opts.workers ?? (await defaultWorkerCount());
    if (!Number.isInteger(count) || count < 1) throw new InputError(`workers must be a positive integer, got ${opts.workers}`);
    const src = await toWorkerSource(source);
    const { workers: _w, workerUrl, createWorker, ...loadOpts } = opts;
    const workers = await startWorkers(count, workerUrl, undefined, createWorker);
    const pm = new ParallelModel(workers, { inputShape: [], inputLayout: 'NCHW', outputSize: 0, name: '' });
    try {
      // the workers already share the cores: one kernel thread each unless asked otherwise
      const infos = (await Promise.all(workers.map((w) => pm.call(w, 'load', [src, { ...loadOpts, threads: loadOpts.threads ?? 1 }])))) as ModelInfo[];
      Object.assign(pm.info, infos[0]);
    } catch (e) {
      await pm.dispose();
      throw e;
    }
    return pm;
  }

  /** Per-sample input shape, NCHW order. */
  get inputShape(): number[] {
    return this.info.inputShape;
  }

  /** Number of outputs (classes). */
  get outputSize(): number {
    return this.info.outputSize;
  }

  /** Layout of the arrays passed and returned: 'NCHW', or 'NHWC' for TF.js image models. */
  get inputLayout(): 'NCHW' | 'NHWC' {
    return this.info.inputLayout;
  }

  /** {@link Model.describe}: the layers, their output shapes and the rule each gets. */
  describe(composite?: Parameters<Model['describe']>[0]): Promise<string> {
    return this.call(this.workers[0], 'describe', [composite]) as Promise<string>;
  }

  /**
   * {@link Model.attribute}, split over the workers like explain; SmoothGrad runs in one worker,
   * since its noise is drawn over the whole batch (so that the numbers equal one model's).
   */
  async attribute(x: ArrayLike<number>, opts: AttributeOptions): Promise<Explanation> {
    const n = this.samples(x);
    if (opts?.method === 'smoothgrad' || this.workers.length === 1) return (await this.call(this.workers[0], 'attribute', [Float32Array.from(x), opts])) as Explanation;
    const per = x.length / n;
    const parts = (await Promise.all(
      this.slices(n).map(([a, b], i) => {
        const o: AttributeOptions = { ...opts };
        if (opts.target !== undefined && typeof opts.target !== 'string' && typeof opts.target !== 'number') o.target = Array.from(opts.target).slice(a, b);
        if (opts.start instanceof Float32Array) o.start = opts.start.slice(a * this.info.outputSize, b * this.info.outputSize);
        return this.call(this.workers[i], 'attribute', [Float32Array.from(sliceOf(x, a * per, b * per)), o]);
      }),
    )) as Explanation[];
    return concatExplanations(parts);
  }

  private call(w: WorkerPort, method: string, args: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.post({ id, method, args });
    });
  }

  /** Per-worker slices [start, end) of n samples. */
  private slices(n: number): Array<[number, number]> {
    const k = Math.min(this.workers.length, n);
    const out: Array<[number, number]> = [];
    for (let i = 0; i < k; i++) out.push([Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)]);
    return out;
  }

  private samples(x: ArrayLike<number>): number {
    if (this.closed) throw this.closed;
    if (!x || typeof x !== 'object' || typeof x.length !== 'number' || x instanceof BigInt64Array || x instanceof BigUint64Array)
      throw new InputError('x must be a Float32Array (or an array of numbers)');
    const per = this.info.inputShape.reduce((a, b) => a * b, 1);
    if (!x || x.length === 0 || x.length % per !== 0)
      throw new InputError(`input length ${x?.length} is not a whole number of samples of ${per} values`);
    return x.length / per;
  }

  /** {@link Model.predict}, each worker taking a slice of the samples. */
  async predict(x: ArrayLike<number>, opts: { batch?: number } = {}): Promise<Float32Array> {
    const n = this.samples(x);
    checkOptions(opts, 'predict');
    const per = x.length / n;
    const parts = (await Promise.all(
      this.slices(n).map(([a, b], i) => this.call(this.workers[i], 'predict', [Float32Array.from(sliceOf(x, a * per, b * per)), opts])),
    )) as Float32Array[];
    return concat(parts);
  }

  /** {@link Model.explain}, each worker taking a slice of the samples. */
  async explain(x: ArrayLike<number>, opts: ExplainOptions = {}): Promise<Explanation> {
    const n = this.samples(x);
    checkOptions(opts, 'explain');
    const per = x.length / n;
    const O = this.info.outputSize;
    const parts = (await Promise.all(
      this.slices(n).map(([a, b], i) => {
        const o: ExplainOptions = { ...opts };
        if (opts.target !== undefined && typeof opts.target !== 'string' && typeof opts.target !== 'number') o.target = Array.from(opts.target).slice(a, b);
        if (opts.start instanceof Float32Array) o.start = opts.start.slice(a * O, b * O);
        return this.call(this.workers[i], 'explain', [Float32Array.from(sliceOf(x, a * per, b * per)), o]);
      }),
    )) as Explanation[];
    const layers: Record<string, Float32Array<ArrayBuffer>> | undefined = opts.layers ? {} : undefined;
    if (layers) for (const name of Object.keys(parts[0].layers ?? {})) layers[name] = concat(parts.map((p) => p.layers![name]));
    return {
      relevance: concat(parts.map((p) => p.relevance)),
      layout: parts[0].layout,
      logits: concat(parts.map((p) => p.logits)),
      targets: Int32Array.from(parts.flatMap((p) => Array.from(p.targets))),
      layers,
      sums: { start: concat(parts.map((p) => p.sums.start)), input: concat(parts.map((p) => p.sums.input)) },
    };
  }

  /** Stops the workers; calls still running reject with a DisposedError, as does every later call. */
  async dispose(): Promise<void> {
    this.failPending(new DisposedError(`parallel model '${this.info.name}' has been disposed`));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Load a model into `workers` threads that explain slices of each batch in parallel (Node). */
export function loadModelParallel(source: ModelSource, opts: ParallelOptions = {}): Promise<ParallelModel> {
  return ParallelModel.load(source, opts);
}

function sliceOf(x: ArrayLike<number>, a: number, b: number): ArrayLike<number> {
  return ArrayBuffer.isView(x) ? (x as Float32Array).subarray(a, b) : Array.prototype.slice.call(x, a, b);
}

function concat(parts: Float32Array[]): Float32Array<ArrayBuffer> {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function rebuildError(e: { name: string; code?: string; message: string }): Error {
  const Ctor = (errors as unknown as Record<string, new (m: string, c?: string) => Error>)[e.name];
  return Ctor && e.name !== 'LrpError' ? new Ctor(e.message, e.code) : Object.assign(new Error(e.message), { name: e.name });
}

function checkOptions(opts: unknown, call: string): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new InputError(`${call}() options must be an object, got ${opts === null ? 'null' : typeof opts}`);
}
