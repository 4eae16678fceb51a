/**
 * createExplainer: the model in a worker (a module Web Worker in browsers, a worker thread in
 * Node), so that explaining never blocks the page. Every call returns a promise, takes an
 * AbortSignal (the promise rejects at once with the signal's reason; the worker stops at its next
 * chunk of `batch` samples) and reports progress (samples done / total) after each chunk. With
 * `workers: k` the samples of a call are split over k workers (same numbers as one model).
 */
import { platform } from '#platform';
import * as errors from './errors.js';
import type { CompareOptions, MethodEvaluation } from './evaluate/compare.js';
import type { Method } from './evaluate/methods.js';
import type { SanityOptions, SanityResult } from './evaluate/sanity.js';
import { DisposedError, InputError, WorkerError } from './errors.js';
import { concatExplanations, sliceExplainOptions } from './explanation-parts.js';
import type { ExplainImageOptions, ImageExplanation } from './image/explain-image.js';
import type { ModelMetadata } from './image/metadata.js';
import type { ImageInput } from './image/types.js';
import { locate } from './import/location.js';
import type { ThreadInfo } from './wasm/thread-info.js';
import type { LoadOptions, ModelSource } from './load.js';
import type { AttributeOptions, ExplainOptions, Explanation } from './model.js';
import type { WorkerFactory, WorkerPort } from './platform/types.js';
import { toWorkerSource } from './worker-source.js';
import { START_TIMEOUT_MS, startWorkers } from './worker-start.js';

/** Options of {@link createExplainer}. */
export interface ExplainerOptions extends LoadOptions {
  /**
   * Browsers: the URL of the bundled worker script (`lrp-wasm/worker`, bundled as its own entry;
   * with Vite: `import workerUrl from 'lrp-wasm/worker?worker&url'`). Node starts the package's
   * own worker script in a worker thread and ignores it.
   */
  workerUrl?: string | URL;
  /**
   * Browsers, instead of workerUrl: makes the worker, written so that your bundler sees the
   * worker script and bundles it: `() => new Worker(new URL('./lrp-worker.js', import.meta.url),
   * { type: 'module' })` with lrp-worker.js holding `import 'lrp-wasm/worker'` (webpack 5, Vite,
   * Parcel). Node ignores it.
   */
  createWorker?: WorkerFactory;
  /** Workers to split each call's samples over (default 1). */
  workers?: number;
  /** How long a worker may take to load its script and answer, in ms (default 15 000), before a WorkerError. */
  startTimeoutMs?: number;
}

/** Progress of one call: samples done out of total (compareMethods: samples over all methods; sanityCheck: randomised layers over all methods). */
export interface Progress {
  /** Samples done. */
  done: number;
  /** Samples in the call. */
  total: number;
  /** compareMethods and sanityCheck: the method at work. */
  method?: string;
}

/** What every Explainer call takes besides its own options. */
export interface CallOptions {
  /** Cancels the call: its promise rejects with `signal.reason` (an AbortError by default). */
  signal?: AbortSignal;
  /** Called after each chunk of `batch` samples. */
  onProgress?: (progress: Progress) => void;
}

interface Reply {
  id: number;
  ok?: boolean;
  value?: unknown;
  error?: { name: string; code?: string; message: string };
  progress?: Progress;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  onProgress?(p: Progress): void;
}

interface LoadedInfo {
  inputShape: number[];
  inputLayout: 'NCHW' | 'NHWC';
  outputSize: number;
  name: string;
  metadata: ModelMetadata | null;
  inputRange: [number, number] | null;
  backendName: string;
  threads: ThreadInfo;
}

/** A model that lives in workers; see {@link createExplainer}. */
export class Explainer {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private disposed = false;
  /** Per-sample input shape, NCHW order. */
  readonly inputShape: number[] = [];
  /** Layout of the arrays passed and returned: 'NCHW', or 'NHWC' for TF.js image models. */
  readonly inputLayout: 'NCHW' | 'NHWC' = 'NCHW';
  /** Number of outputs (classes). */
  readonly outputSize: number = 0;
  /** The model's name. */
  readonly name: string = '';
  /** The metadata given to createExplainer, parsed (or null). */
  readonly metadata: ModelMetadata | null = null;
  /** The kernels the workers run (e.g. 'wasm-simd', 'wasm-relaxed-simd'): numbers are reproducible on the same ones. */
  readonly backendName: string = '';
  /** Kernel threads of each worker's model and why not more (see `Model.threads`). */
  readonly threads: ThreadInfo = { count: 1, reason: null };

  private constructor(private readonly workers: WorkerPort[]) {
    for (const w of workers) {
      w.onReply((msg) => this.onReply(msg as Reply));
      w.onFailure((why) => this.failAll(new WorkerError(`the explainer's worker stopped: ${why}`)));
    }
  }

  /** Starts the workers and loads `source` in each. */
  static async create(source: ModelSource, opts: ExplainerOptions = {}): Promise<Explainer> {
    const { workerUrl, createWorker, workers = 1, startTimeoutMs = START_TIMEOUT_MS, ...loadOpts } = opts;
    if (!Number.isInteger(workers) || workers < 1) throw new InputError(`workers must be a positive integer, got ${workers}`);
    // relative URLs mean what they mean on this side (the page), not to the worker script
    if (typeof loadOpts.metadata === 'string' && platform.kind !== 'node') loadOpts.metadata = (locate(loadOpts.metadata) as { href: string }).href;
    if (loadOpts.metadata instanceof URL) loadOpts.metadata = loadOpts.metadata.href;
    const src = await toWorkerSource(source);
    const ex = new Explainer(await startWorkers(workers, workerUrl, startTimeoutMs, createWorker));
    try {
      // several workers already share the cores: one kernel thread each unless asked otherwise
      const perWorker = workers > 1 ? { ...loadOpts, threads: loadOpts.threads ?? 1 } : loadOpts;
      const infos = (await Promise.all(ex.workers.map((w) => ex.call(w, 'load', [src, perWorker])))) as LoadedInfo[];
      Object.assign(ex, { inputShape: infos[0].inputShape, inputLayout: infos[0].inputLayout, outputSize: infos[0].outputSize, name: infos[0].name, metadata: infos[0].metadata, backendName: infos[0].backendName, threads: infos[0].threads });
    } catch (e) {
      await ex.dispose();
      throw e;
    }
    return ex;
  }

  /** Input values per sample. */
  get inputSize(): number {
    return this.inputShape.reduce((a, b) => a * b, 1);
  }

  private onReply(msg: Reply): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.progress) {
      p.onProgress?.(msg.progress);
      return;
    }
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.value);
    else p.reject(rebuildError(msg.error!));
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private call(w: WorkerPort, method: string, args: unknown[], signal?: AbortSignal, onProgress?: (p: Progress) => void): Promise<unknown> {
    if (this.disposed) return Promise.reject(new DisposedError(`explainer for '${this.name}' has been disposed`));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (!this.pending.delete(id)) return;
        w.post({ cancel: id });
        reject(signal!.reason);
      };
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (v) => (done(), resolve(v)),
        reject: (e) => (done(), reject(e)),
        onProgress,
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        w.post({ id, method, args });
      } catch (e) {
        this.pending.delete(id);
        done();
        reject(new InputError(`cannot send the input to the worker: ${(e as Error).message}`));
      }
    });
  }

  /** Samples [a, b) per worker, or null when x is not a whole number of samples (the worker then names the problem). */
  private split(x: ArrayLike<number>): Array<[number, number]> | null {
    const n = x && typeof x.length === 'number' ? x.length / this.inputSize : NaN;
    if (!Number.isInteger(n) || n < 1 || this.workers.length === 1) return null;
    const k = Math.min(this.workers.length, n);
    return Array.from({ length: k }, (_, i) => [Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)]);
  }

  /** Runs `method` over the workers' slices of x, summing their progress. */
  private async scatter<T, O extends object>(method: string, x: ArrayLike<number>, opts: CallOptions & O, sliceOpts: (rest: O, a: number, b: number) => object): Promise<T[]> {
    const { signal, onProgress, ...others } = opts;
    const rest = others as unknown as O;
    const parts = this.split(x);
    if (!parts) return [(await this.call(this.workers[0], method, [x, rest], signal, onProgress)) as T];
    const per = this.inputSize;
    const done = parts.map(() => 0);
    const total = parts.reduce((s, [a, b]) => s + b - a, 0);
    const each = (i: number) => (p: Progress) => {
      done[i] = p.done;
      onProgress?.({ done: done.reduce((s, d) => s + d, 0), total });
    };
    const calls = parts.map(([a, b], i) =>
      this.call(this.workers[i], method, [ArrayBuffer.isView(x) ? (x as unknown as Float32Array).subarray(a * per, b * per) : Array.prototype.slice.call(x, a * per, b * per), sliceOpts(rest, a, b)], signal, each(i)),
    );
    return (await Promise.all(calls)) as T[];
  }

  /** {@link Model.explain} in the worker(s). */
  async explain(x: ArrayLike<number>, opts: ExplainOptions & CallOptions = {}): Promise<Explanation> {
    const parts = await this.scatter<Explanation, ExplainOptions>('explainChunked', x, opts, (rest, a, b) => sliceExplainOptions(rest, a, b, this.outputSize));
    return parts.length === 1 ? parts[0] : concatExplanations(parts);
  }

  /** {@link Model.predict} (logits) in the worker(s). */
  async predict(x: ArrayLike<number>, opts: { batch?: number; checkRange?: boolean } & CallOptions = {}): Promise<Float32Array<ArrayBuffer>> {
    const parts = await this.scatter<Float32Array, { batch?: number; checkRange?: boolean }>('predictChunked', x, opts, (rest) => rest);
    if (parts.length === 1) return parts[0] as Float32Array<ArrayBuffer>;
    const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) out.set(p, (at += p.length) - p.length);
    return out;
  }

  /**
   * {@link Model.explainImage}: the image's pixels are read here (DOM images need the page's
   * canvas), everything else happens in the worker.
   */
  async explainImage(image: ImageInput, opts: ExplainImageOptions & CallOptions = {}): Promise<ImageExplanation> {
    const { signal, onProgress, ...rest } = opts;
    const { readPixels } = await import('./image/pixels.js'); // the decoders load with the first image
    const p = await readPixels(image, opts.pixelRange);
    const pixels = { data: p.data, width: p.width, height: p.height, channels: p.channels };
    const r = (await this.call(this.workers[0], 'explainImage', [pixels, { ...rest, pixelRange: p.range }], signal)) as ImageExplanation;
    onProgress?.({ done: 1, total: 1 });
    return r;
  }

  /** {@link Model.attribute} in one worker (SmoothGrad's noise runs over the whole batch); progress at the end. */
  async attribute(x: ArrayLike<number>, opts: AttributeOptions & CallOptions): Promise<Explanation> {
    const { signal, onProgress, ...rest } = opts;
    const r = (await this.call(this.workers[0], 'attribute', [x, rest], signal)) as Explanation;
    onProgress?.({ done: r.targets.length, total: r.targets.length });
    return r;
  }

  /**
   * `compareMethods` (src/evaluate/) in one worker: the same numbers as in this thread on the same kernels
   * ({@link backendName}). Progress counts samples over all methods; a cancelled call rejects at
   * once and the worker stops before the next method.
   */
  compareMethods(x: Float32Array, methods: ReadonlyArray<string | Method>, opts: Omit<CompareOptions, 'onProgress'> & CallOptions = {}): Promise<MethodEvaluation[]> {
    const { signal, onProgress, ...rest } = opts;
    return this.call(this.workers[0], 'compareMethods', [x, methods, rest], signal, onProgress) as Promise<MethodEvaluation[]>;
  }

  /**
   * `sanityCheck` (src/evaluate/) in one worker. Progress counts randomised layers over all methods; a
   * cancelled call rejects at once and the worker stops before the next method.
   */
  sanityCheck(x: Float32Array, methods: ReadonlyArray<string | Method>, opts: Omit<SanityOptions, 'onProgress'> & CallOptions = {}): Promise<SanityResult> {
    const { signal, onProgress, ...rest } = opts;
    return this.call(this.workers[0], 'sanityCheck', [x, methods, rest], signal, onProgress) as Promise<SanityResult>;
  }

  /** {@link Model.describe}: the layers, their shapes and rules. */
  describe(composite?: Parameters<import('./model.js').Model['describe']>[0]): Promise<string> {
    return this.call(this.workers[0], 'describe', [composite]) as Promise<string>;
  }

  /** {@link Model.warmup} in every worker: sets up batch size `batch` before the first real call. */
  async warmup(batch = 1, opts: ExplainOptions = {}): Promise<void> {
    await Promise.all(this.workers.map((w) => this.call(w, 'warmup', [batch, opts])));
  }

  /** Stops the workers; calls still running reject with DisposedError. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.failAll(new DisposedError(`explainer for '${this.name}' has been disposed`));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * Loads a model into a worker and returns an {@link Explainer}, whose calls run there: the page
 * stays responsive, calls can be cancelled with an AbortSignal and report progress. A wrong or
 * missing worker URL rejects with a WorkerError within `startTimeoutMs` (a 404 at once).
 * @example
 * ```ts
 * import workerUrl from 'lrp-wasm/worker?worker&url'; // Vite; esbuild: bundle lrp-wasm/worker as an entry
 * const explainer = await createExplainer('model/model.json', { workerUrl, metadata: 'model/metadata.json' });
 * const r = await explainer.explainImage(imgElement, { composite: 'epsilon-gamma-box', signal });
 * ctx.putImageData(r.overlay, 0, 0);
 * ```
 */
export function createExplainer(source: ModelSource, opts: ExplainerOptions = {}): Promise<Explainer> {
  return Explainer.create(source, opts);
}

function rebuildError(e: { name: string; code?: string; message: string }): Error {
  if (e.name === 'AbortError') return Object.assign(new Error(e.message), { name: 'AbortError' });
  const Ctor = (errors as unknown as Record<string, new (m: string, c?: string) => Error>)[e.name];
  return Ctor && e.name !== 'LrpError' && e.name !== 'DisposedError' ? new Ctor(e.message, e.code) : Object.assign(new Error(e.message), { name: e.name, code: e.code });
}
