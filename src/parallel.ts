/**
 * Parallelism over the batch: each worker (a Node worker thread, or a module Web Worker in a
 * browser) owns its own model, WASM instance and memory, and explains a contiguous slice of the
 * samples. Off by default; worth it for batches of several samples on more than one core.
 */
import * as errors from './errors.js';
import { DisposedError, InputError, LrpError } from './errors.js';
import type { LoadOptions, ModelSource } from './load.js';
import type { ExplainOptions, Explanation } from './model.js';

export interface ParallelOptions extends LoadOptions {
  /** Number of workers (default: the number of CPU cores, at least 1). */
  workers?: number;
  /**
   * Browsers: URL of the bundled worker script (src/parallel-worker.ts, exported as
   * 'lrp-wasm/worker'), started as a module Web Worker. Node uses worker threads and ignores it.
   */
  workerUrl?: string | URL;
}

/** What ParallelModel needs from a Node worker thread or a Web Worker. */
interface WorkerPort {
  post(msg: unknown): void;
  onReply(cb: (msg: Reply) => void): void;
  /** The worker died (uncaught error, out of memory, exit) without being terminated by us. */
  onFailure(cb: (why: string) => void): void;
  terminate(): Promise<unknown> | void;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof (globalThis as { window?: unknown }).window === 'undefined';

async function startWorkers(count: number, workerUrl: string | URL | undefined): Promise<WorkerPort[]> {
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    return Array.from({ length: count }, () => {
      const w = new Worker(new URL('./parallel-worker.js', import.meta.url));
      return {
        post: (m) => w.postMessage(m),
        onReply: (cb) => w.on('message', cb),
        onFailure: (cb) => {
          w.on('error', (e) => cb(e.message));
          w.on('exit', (code) => cb(`exited with code ${code}`));
        },
        terminate: () => w.terminate(),
      };
    });
  }
  const WebWorker = (
    globalThis as {
      Worker?: new (
        url: string | URL,
        o: { type: 'module' },
      ) => { postMessage(m: unknown): void; onmessage: ((e: { data: Reply }) => void) | null; onerror: ((e: { message?: string }) => void) | null; terminate(): void };
    }
  ).Worker;
  if (!WebWorker) throw new InputError('this runtime has no Web Workers; use loadModel() instead');
  if (!workerUrl) throw new InputError("browsers need { workerUrl }: the URL of the bundled worker script ('lrp-wasm/worker')");
  return Array.from({ length: count }, () => {
    const w = new WebWorker(workerUrl, { type: 'module' });
    return {
      post: (m) => w.postMessage(m),
      onReply: (cb) => {
        w.onmessage = (e) => cb(e.data);
      },
      onFailure: (cb) => {
        w.onerror = (e) => cb(e.message ?? 'failed to start or threw');
      },
      terminate: () => w.terminate(),
    };
  });
}

async function defaultWorkerCount(): Promise<number> {
  if (isNode) {
    const os = await import('node:os');
    return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  }
  return Math.max(1, (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1);
}

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: { name: string; code?: string; message: string };
}

export interface ModelInfo {
  inputShape: number[];
  inputLayout: 'NCHW' | 'NHWC';
  outputSize: number;
  name: string;
}

export class ParallelModel {
  private nextId = 1;
  private readonly pending = new Map<number, { worker: WorkerPort; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Set by dispose(), or when a worker died: every call from then on rejects with it. */
  private closed: LrpError | null = null;

  private constructor(
    private readonly workers: WorkerPort[],
    readonly info: ModelInfo,
  ) {
    workers.forEach((w, i) => {
      w.onReply((msg: Reply) => {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.value);
        else p.reject(rebuildError(msg.error!));
      });
      w.onFailure((why) => {
        if (this.closed) return; // terminated by dispose()
        // the other workers hold slices of the same calls: stop them all rather than hang
        this.close(new LrpError('E_WORKER', `parallel model worker ${i + 1} of ${workers.length} stopped (${why}); load the model again`));
        void Promise.all(workers.map((x) => x.terminate()));
      });
    });
  }

  /** Load `source` once per worker. */
  static async load(source: ModelSource, opts: ParallelOptions = {}): Promise<ParallelModel> {
    const count = opts.workers ?? (await defaultWorkerCount());
    if (!Number.isInteger(count) || count < 1) throw new InputError(`workers must be a positive integer, got ${opts.workers}`);
    const src = source instanceof URL ? source.toString() : source;
    const { workers: _w, workerUrl, ...loadOpts } = opts;
    const workers = await startWorkers(count, workerUrl);
    const pm = new ParallelModel(workers, { inputShape: [], inputLayout: 'NCHW', outputSize: 0, name: '' });
    try {
      const infos = (await Promise.all(workers.map((w) => pm.call(w, 'load', [src, loadOpts])))) as ModelInfo[];
      Object.assign(pm.info, infos[0]);
    } catch (e) {
      await pm.dispose();
      throw e;
    }
    return pm;
  }

  get inputShape(): number[] {
    return this.info.inputShape;
  }

  get outputSize(): number {
    return this.info.outputSize;
  }

  private call(w: WorkerPort, method: string, args: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { worker: w, resolve, reject });
      w.post({ id, method, args });
    });
  }

  /** Rejects every pending call with `error`, and every later one. */
  private close(error: LrpError): void {
    this.closed ??= error;
    for (const p of this.pending.values()) p.reject(this.closed);
    this.pending.clear();
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

  async predict(x: ArrayLike<number>, opts: { batch?: number } = {}): Promise<Float32Array> {
    const n = this.samples(x);
    checkOptions(opts, 'predict');
    const per = x.length / n;
    const parts = (await Promise.all(
      this.slices(n).map(([a, b], i) => this.call(this.workers[i], 'predict', [Float32Array.from(sliceOf(x, a * per, b * per)), opts])),
    )) as Float32Array[];
    return concat(parts);
  }

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
    const layers: Record<string, Float32Array> | undefined = opts.layers ? {} : undefined;
    if (layers) for (const name of Object.keys(parts[0].layers ?? {})) layers[name] = concat(parts.map((p) => p.layers![name]));
    return {
      relevance: concat(parts.map((p) => p.relevance)),
      logits: concat(parts.map((p) => p.logits)),
      targets: Int32Array.from(parts.flatMap((p) => Array.from(p.targets))),
      layers,
      sums: { start: concat(parts.map((p) => p.sums.start)), input: concat(parts.map((p) => p.sums.input)) },
    };
  }

  /** Stops the workers; calls still running reject with a DisposedError, as does every later call. */
  async dispose(): Promise<void> {
    this.close(new DisposedError(`parallel model '${this.info.name}' has been disposed`));
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

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function checkOptions(opts: unknown, call: string): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new InputError(`${call}() options must be an object, got ${opts === null ? 'null' : typeof opts}`);
}

function rebuildError(e: { name: string; code?: string; message: string }): Error {
  const Ctor = (errors as unknown as Record<string, new (m: string, c?: string) => Error>)[e.name];
  if (Ctor && e.name !== 'LrpError') return new Ctor(e.message, e.code);
  if (e.code) return new LrpError(e.code, e.message);
  return Object.assign(new Error(e.message), { name: e.name });
}
