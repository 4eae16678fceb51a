/**
 * Platform for Node (picked by the `node` condition of "#platform"): node:fs for paths,
 * worker_threads for workers.
 */
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import { Worker, parentPort as nodeParentPort } from 'node:worker_threads';
import { ModelFormatError } from '../errors.js';
import type { ParentPort, Platform, WorkerPort } from './types.js';

function workerPort(w: Worker): WorkerPort {
  return {
    post: (m, transfer) => w.postMessage(m, transfer),
    onReply: (cb) => w.on('message', cb),
    onFailure: (cb) => {
      w.on('error', (e) => cb(e.message));
      w.on('exit', (code) => cb(`worker thread exited with code ${code}`));
    },
    terminate: () => w.terminate(),
    unref: () => w.unref(),
  };
}

export const platform: Platform = {
  kind: 'node',
  baseUrl: () => undefined,
  async readFile(location, what) {
    const p = /^file:/i.test(location) ? fileURLToPath(location) : location;
    try {
      const buf = await readFile(p);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new ModelFormatError(`${what} not found: ${p}`);
      if (code === 'EISDIR') throw new ModelFormatError(`${what} ${p} is a folder, expected a file`);
      throw new ModelFormatError(`cannot read ${p}: ${(e as Error).message}`);
    }
  },
  async isDirectory(p) {
    try {
      return (await stat(/^file:/i.test(p) ? fileURLToPath(p) : p)).isDirectory();
    } catch {
      return false;
    }
  },
  joinPath: (dir, name) => path.join(dir, name),
  siblingPath: (file, rel) => path.join(path.dirname(file), decodeURIComponent(rel)),
  fileUrlToPath: (url) => fileURLToPath(url),
  cpuCount: () => Math.max(1, os.availableParallelism?.() ?? os.cpus().length),
  startWorker(url) {
    // worker threads run the package's own script (a browser-side factory does not apply)
    const script = url ?? new URL('../parallel-worker.js', import.meta.url);
    return workerPort(new Worker(script));
  },
  // eval workers are modules or CommonJS like their parent: take worker_threads by import(), and give
  // the script the Web Worker interface it is written against (self.postMessage, message events)
  startInlineWorker: (source) =>
    workerPort(
      new Worker(
        `import('node:worker_threads').then(({ parentPort }) => {
          const self = {
            postMessage: (m) => parentPort.postMessage(m),
            addEventListener: (type, cb, o) => parentPort[o && o.once ? 'once' : 'on'](type, (data) => cb({ data })),
          };
          ${source}
        });`,
        { eval: true },
      ),
    ),
  parentPort(): ParentPort | null {
    const port = nodeParentPort;
    if (!port) return null;
    return { post: (m, transfer) => port.postMessage(m, transfer), onMessage: (cb) => port.on('message', cb) };
  },
  // The flag only admits the relaxed-SIMD opcodes to validation (V8 reads it when it compiles a module,
  // in every thread). Node 20's V8 (11.3) has the final proposal behind it; V8 shipped it on in 11.4.
  // Older V8s (Node 18 and before, outside package.json's engines) had prototype opcodes: left alone.
  enableRelaxedSimd() {
    const [major, minor] = process.versions.v8.split('.').map(Number);
    if (major > 11 || (major === 11 && minor >= 3)) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  },
};
