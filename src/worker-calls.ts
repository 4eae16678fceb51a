/**
 * The calls a worker answers, on the one model it holds: load, predict, explain, attribute,
 * describe, warmup, explainImage. explain runs in chunks of `batch` samples, posting progress
 * after each and yielding to the event loop in between, so that a cancel message can stop it.
 */
import { loadModel } from './load.js';
import type { Model } from './model.js';

export interface Call {
  id: number;
  method?: string;
  args?: unknown[];
  /** Stop the call with this id (explain, attribute) at the next chunk. */
  cancel?: number;
}

type Post = (msg: unknown, transfer?: ArrayBuffer[]) => void;

let model: Model | null = null;
const cancelled = new Set<number>();

export async function answerCall(msg: Call, post: Post): Promise<void> {
  if (msg.cancel !== undefined) {
    cancelled.add(msg.cancel);
    return;
  }
  try {
    const args = msg.args ?? [];
    let value: unknown;
    if (msg.method === 'load') {
      model?.dispose();
      model = await loadModel(args[0] as Parameters<typeof loadModel>[0], args[1] as Parameters<typeof loadModel>[1]);
      value = { inputShape: model.inputShape, inputLayout: model.inputLayout, outputSize: model.outputSize, name: model.name };
    } else if (!model) throw new Error('no model loaded in this worker');
    else if (msg.method === 'predict') value = model.predict(args[0] as Float32Array, args[1] as { batch?: number });
    else if (msg.method === 'explain') value = model.explain(args[0] as Float32Array, args[1] as object);
    else throw new Error(`unknown call ${msg.method}`);
    post({ id: msg.id, ok: true, value });
  } catch (e) {
    const err = e as Error & { code?: string };
    post({ id: msg.id, ok: false, error: { name: err.name, code: err.code, message: err.message } });
  } finally {
    cancelled.delete(msg.id);
  }
}
