/**
 * What differs between Node and browsers, behind one interface. The package's `imports` map
 * ("#platform", see package.json) picks node.ts under the `node` condition and browser.ts
 * everywhere else, so that browser bundles never see a `node:` import.
 */

/** One worker (Node worker thread or Web Worker) as the library talks to it. */
export interface WorkerPort {
  post(msg: unknown, transfer?: ArrayBuffer[]): void;
  onReply(cb: (msg: unknown) => void): void;
  /** The worker failed to start or crashed: script not found, syntax error, uncaught exception. */
  onFailure(cb: (message: string) => void): void;
  terminate(): Promise<unknown> | void;
  /** Node: let the process exit while the worker runs (a no-op in browsers). */
  unref?(): void;
}

/** The parent side as a worker script sees it. */
export interface ParentPort {
  post(msg: unknown, transfer?: ArrayBuffer[]): void;
  onMessage(cb: (msg: unknown) => void): void;
}

/** What a Web Worker is to the library (the DOM's Worker has all of it). */
export interface WebWorkerLike {
  /** Sends a message to the worker, moving the buffers listed in `transfer`. */
  postMessage(m: unknown, transfer: ArrayBuffer[]): void;
  /** Messages from the worker, and its failures. */
  addEventListener(type: 'message' | 'error' | 'messageerror', cb: (e: { data?: unknown; message?: string }) => void): void;
  /** Stops the worker. */
  terminate(): void;
}

/** Makes the worker, e.g. `() => new Worker(new URL('./lrp-worker.js', import.meta.url), { type: 'module' })`. */
export type WorkerFactory = () => WebWorkerLike;

export interface Platform {
  readonly kind: 'node' | 'browser';
  /**
   * The URL relative location strings resolve against: the page's `document.baseURI` or the
   * worker's `self.location.href` in browsers; undefined in Node, where they are file paths.
   */
  baseUrl(): string | undefined;
  /** Bytes of a local file (a path or a file: URL). Browsers cannot read paths: they throw. */
  readFile(pathOrFileUrl: string, what: string): Promise<Uint8Array>;
  /** Whether a local path is a folder (false when it does not exist). */
  isDirectory(path: string): Promise<boolean>;
  /** `name` inside the local folder `dir`. */
  joinPath(dir: string, name: string): string;
  /** `rel` (a URL-encoded path from a model file) next to the local file `file`. */
  siblingPath(file: string, rel: string): string;
  /** A file: URL as a local path. */
  fileUrlToPath(url: string): string;
  /** Logical cores for the default worker count. */
  cpuCount(): number;
  /**
   * Starts a worker running the library's worker script: made by `factory` (browsers: a
   * `() => new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })` that bundlers
   * see and bundle), else from `url`, else (Node only) the script shipped beside this file.
   */
  startWorker(url: string | URL | undefined, factory?: WorkerFactory): WorkerPort;
  /**
   * Starts a worker running `source`, a self-contained classic script (the kernel threads of
   * src/wasm/thread-pool.ts): Node `eval` worker thread, browsers a Web Worker from a Blob URL.
   */
  startInlineWorker(source: string): WorkerPort;
  /** The parent of the current worker, or null when not running in a worker. */
  parentPort(): ParentPort | null;
  /**
   * Lets WebAssembly use relaxed SIMD where the runtime has it only behind a switch (Node 20: V8's
   * --experimental-wasm-relaxed-simd, shipped on by default from Node 22). Browsers cannot: a no-op.
   */
  enableRelaxedSimd(): void;
}
