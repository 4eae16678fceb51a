/** Worker side of src/parallel.ts: one model per thread, answering load/predict/explain calls. */
import { parentPort } from 'node:worker_threads';
import { loadModel } from './load.js';
import type { Model } from './model.js';

let model: Model | null = null;

parentPort!.on('message', async (msg: { id: number; method: string; args: unknown[] }) => {
  try {
    let value: unknown;
    if (msg.method === 'load') {
      model = await loadModel(msg.args[0] as Parameters<typeof loadModel>[0], msg.args[1] as Parameters<typeof loadModel>[1]);
      value = { inputShape: model.inputShape, inputLayout: model.inputLayout, outputSize: model.outputSize, name: model.name };
    } else if (msg.method === 'predict') value = model!.predict(msg.args[0] as Float32Array, msg.args[1] as { batch?: number });
    else if (msg.method === 'explain') value = model!.explain(msg.args[0] as Float32Array, msg.args[1] as object);
    else throw new Error(`unknown call ${msg.method}`);
    parentPort!.postMessage({ id: msg.id, ok: true, value });
  } catch (e) {
    const err = e as Error & { code?: string };
    parentPort!.postMessage({ id: msg.id, ok: false, error: { name: err.name, code: err.code, message: err.message } });
  }
});
