/**
 * Worker side of src/parallel.ts: one model per thread, answering load/predict/explain calls.
 * Runs as a Node worker thread or as a browser module Web Worker (bundle this file as its own
 * entry, e.g. `esbuild lrp-wasm/worker --bundle --format=esm`, and pass its URL as `workerUrl`).
 */
import { loadModel } from './load.js';
import type { Model } from './model.js';

interface Call {
  id: number;
  method: string;
  args: unknown[];
}

let model: Model | null = null;

async function answer(msg: Call, reply: (m: unknown) => void): Promise<void> {
  try {
    let value: unknown;
    if (msg.method === 'load') {
      model = await loadModel(msg.args[0] as Parameters<typeof loadModel>[0], msg.args[1] as Parameters<typeof loadModel>[1]);
      value = { inputShape: model.inputShape, inputLayout: model.inputLayout, outputSize: model.outputSize, name: model.name };
    } else if (!model) throw new Error('no model loaded in this worker');
    else if (msg.method === 'predict') value = model.predict(msg.args[0] as Float32Array, msg.args[1] as { batch?: number });
    else if (msg.method === 'explain') value = model.explain(msg.args[0] as Float32Array, msg.args[1] as object);
    else throw new Error(`unknown call ${msg.method}`);
    reply({ id: msg.id, ok: true, value });
  } catch (e) {
    const err = e as Error & { code?: string };
    reply({ id: msg.id, ok: false, error: { name: err.name, code: err.code, message: err.message } });
  }
}

const webWorker = globalThis as unknown as { WorkerGlobalScope?: unknown; postMessage(m: unknown): void; onmessage: ((e: { data: Call }) => void) | null };
if (typeof webWorker.WorkerGlobalScope !== 'undefined') {
  webWorker.onmessage = (e) => void answer(e.data, (m) => webWorker.postMessage(m));
} else {
  const { parentPort } = await import('node:worker_threads');
  parentPort!.on('message', (msg: Call) => void answer(msg, (m) => parentPort!.postMessage(m)));
}
