/**
 * A worker thread of `lrp explain --workers N`: opens its own copy of the model (the same options
 * as the main thread), then explains the chunks it is sent with explainChunk and posts back the
 * results, PNGs and relevance (transferred, not copied).
 */
import { parentPort } from 'node:worker_threads';
import { openModel, type ContextOptions, type ModelContext } from './context.js';
import { explainChunk, type ChunkSettings } from './dataset-chunk.js';
import type { DatasetItem } from './dataset-inputs.js';

/** Main thread → worker. */
export type ToWorker = { type: 'init'; context: ContextOptions; settings: ChunkSettings } | { type: 'chunk'; c: number; items: DatasetItem[] };

/** Worker → main thread. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'done'; result: ReturnType<typeof explainChunk> }
  | { type: 'error'; error: { name: string; code?: string; message: string } };

const port = parentPort;
if (port) {
  let ctx: ModelContext | null = null;
  let settings: ChunkSettings | null = null;
  const fail = (e: unknown) => {
    const err = e as Error & { code?: string };
    port.postMessage({ type: 'error', error: { name: err?.name ?? 'Error', code: err?.code, message: err?.message ?? String(e) } } satisfies FromWorker);
  };
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'init') {
      openModel(msg.context).then(
        (c) => {
          ctx = c;
          settings = msg.settings;
          port.postMessage({ type: 'ready' } satisfies FromWorker);
        },
        fail,
      );
      return;
    }
    try {
      const result = explainChunk(ctx!, settings!, msg.c, msg.items);
      port.postMessage({ type: 'done', result } satisfies FromWorker, [result.relevance.buffer as ArrayBuffer, ...result.pngs.map((p) => p.bytes.buffer as ArrayBuffer)]);
    } catch (e) {
      fail(e);
    }
  });
}
