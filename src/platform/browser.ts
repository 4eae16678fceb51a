/**
 * Platform for browsers and every runtime without the `node` condition: fetch only, module Web
 * Workers, relative strings resolve against the page (or the worker's script).
 */
import { InputError, ModelFormatError, WorkerError } from '../errors.js';
import type { ParentPort, Platform, WebWorkerLike, WorkerPort } from './types.js';

type WorkerCtor = new (url: string | URL, opts?: { type: 'module' | 'classic' }) => WebWorkerLike;

interface WorkerScope {
  postMessage(m: unknown, transfer?: ArrayBuffer[]): void;
  addEventListener(type: 'message', cb: (e: { data: unknown }) => void): void;
}

const scope = globalThis as unknown as {
  document?: { baseURI?: string };
  location?: { href?: string };
  navigator?: { hardwareConcurrency?: number };
  Worker?: WorkerCtor;
  WorkerGlobalScope?: unknown;
};

const noFiles = (what: string, p: string) =>
  new ModelFormatError(`${what} '${p}' is a file path, and this runtime reads URLs only (fetch): pass a URL, a Response, bytes or a File`);

export const platform: Platform = {
  kind: 'browser',
  baseUrl: () => scope.document?.baseURI ?? scope.location?.href,
  readFile: (p, what) => Promise.reject(noFiles(what, p)),
  isDirectory: () => Promise.resolve(false),
  joinPath: (dir) => {
    throw noFiles('folder', dir);
  },
  siblingPath: (file) => {
    throw noFiles('file', file);
  },
  fileUrlToPath: (url) => {
    throw noFiles('file', url);
  },
  cpuCount: () => Math.max(1, scope.navigator?.hardwareConcurrency ?? 1),
  startWorker(url, factory) {
    const Ctor = scope.Worker;
    if (!Ctor && !factory) throw new WorkerError('this runtime has no Web Workers; use loadModel() instead');
    if (!url && !factory)
      throw new InputError("browsers need { workerUrl } (the URL of the bundled worker script, 'lrp-wasm/worker') or { createWorker }", 'E_WORKER_URL');
    const w = factory ? factory() : new Ctor!(url!, { type: 'module' });
    if (!w || typeof w.postMessage !== 'function') throw new InputError('createWorker must return a Worker', 'E_WORKER_URL');
    return {
      post: (m, transfer) => w.postMessage(m, transfer ?? []),
      onReply: (cb) => w.addEventListener('message', (e) => cb(e.data)),
      onFailure: (cb) => {
        // a 404, a MIME type refused for module scripts, a syntax error or an uncaught exception
        w.addEventListener('error', (e) => cb(e.message || 'it failed to load or threw (a wrong URL, a 404, or not served as JavaScript?)'));
        w.addEventListener('messageerror', () => cb('a message from the worker could not be deserialized'));
      },
      terminate: () => w.terminate(),
    };
  },
  startInlineWorker(source) {
    const Ctor = scope.Worker;
    const urls = globalThis.URL as unknown as { createObjectURL?(b: Blob): string; revokeObjectURL?(u: string): void };
    if (!Ctor || typeof Blob === 'undefined' || !urls.createObjectURL) throw new WorkerError('this runtime has no Web Workers or Blob URLs');
    const url = urls.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    const w = new Ctor(url);
    return {
      post: (m, transfer) => w.postMessage(m, transfer ?? []),
      onReply: (cb) => w.addEventListener('message', (e) => cb(e.data)),
      onFailure: (cb) => w.addEventListener('error', (e) => cb(e.message || 'the worker failed to start (a Content-Security-Policy without blob: workers?)')),
      terminate: () => {
        w.terminate();
        urls.revokeObjectURL?.(url);
      },
    };
  },
  parentPort(): ParentPort | null {
    if (typeof scope.WorkerGlobalScope === 'undefined') return null;
    const self = globalThis as unknown as WorkerScope;
    return { post: (m, transfer) => self.postMessage(m, transfer), onMessage: (cb) => self.addEventListener('message', (e) => cb(e.data)) };
  },
  enableRelaxedSimd() {},
};
