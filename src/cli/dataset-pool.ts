/**
 * Who explains the chunks of a dataset run: the main thread itself (--workers 1), or a pool of
 * worker threads (src/cli/dataset-worker.ts), each with its own model, one chunk at a time each.
 * Both run explainChunk, so the outputs are the same.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CliError } from './errors.js';
import type { ContextOptions, ModelContext } from './context.js';
import { explainChunk, type ChunkResult, type ChunkSettings } from './dataset-chunk.js';
import type { DatasetItem } from './dataset-inputs.js';
import type { FromWorker, ToWorker } from './dataset-worker.js';

export interface ChunkRunner {
  /** Chunks that can be in progress at once. */
  readonly slots: number;
  run(c: number, items: DatasetItem[]): Promise<ChunkResult>;
  close(): Promise<void>;
}

/** Explains in the calling thread. */
export function inlineRunner(ctx: ModelContext, settings: ChunkSettings): ChunkRunner {
  return {
    slots: 1,
    run: async (c, items) => explainChunk(ctx, settings, c, items),
    close: async () => {},
  };
}

const rebuild = (e: { name: string; code?: string; message: string }) => new CliError(e.message, 1, e.code ?? 'E_CLI');

interface Job {
  c: number;
  items: DatasetItem[];
  resolve: (r: ChunkResult) => void;
  reject: (e: Error) => void;
}

/** Starts `count` worker threads, each loading the model; resolves when all are ready. */
export async function workerRunner(count: number, context: ContextOptions, settings: ChunkSettings): Promise<ChunkRunner> {
  const script = new URL('./dataset-worker.js', import.meta.url);
  if (!existsSync(fileURLToPath(script))) throw new CliError(`--workers needs the compiled worker script ${fileURLToPath(script)} (run npm run build)`);
  const queue: Job[] = [];
  const busy = new Map<Worker, Job>();
  const idle: Worker[] = [];
  let failed: Error | null = null;
  const workers: Worker[] = [];
  let closing = false;

  const failAll = (e: Error) => {
    failed ??= e;
    for (const job of [...busy.values(), ...queue.splice(0)]) job.reject(failed);
    busy.clear();
  };
  const dispatch = () => {
    while (!failed && idle.length > 0 && queue.length > 0) {
      const w = idle.pop()!;
      const job = queue.shift()!;
      busy.set(w, job);
      w.postMessage({ type: 'chunk', c: job.c, items: job.items } satisfies ToWorker);
    }
  };

  const ready: Array<Promise<void>> = [];
  for (let n = 0; n < count; n++) {
    const w = new Worker(script);
    workers.push(w);
    ready.push(
      new Promise<void>((resolve, reject) => {
        let started = false;
        w.on('message', (msg: FromWorker) => {
          if (!started) {
            started = true;
            if (msg.type === 'ready') {
              idle.push(w);
              resolve();
              dispatch();
            } else reject(msg.type === 'error' ? rebuild(msg.error) : new CliError('worker thread did not start'));
            return;
          }
          const job = busy.get(w);
          busy.delete(w);
          if (msg.type === 'done') job?.resolve(msg.result);
          else if (msg.type === 'error') {
            failAll(rebuild(msg.error));
            return;
          }
          idle.push(w);
          dispatch();
        });
        const died = (why: string) => {
          const e = new CliError(`worker thread ${n + 1} of ${count} stopped (${why})`);
          if (!started) reject(e);
          failAll(e);
        };
        w.on('error', (e) => died(e.message));
        w.on('exit', (code) => {
          if (!closing) died(`exit code ${code}`);
        });
        w.postMessage({ type: 'init', context, settings } satisfies ToWorker);
      }),
    );
  }
  const close = async () => {
    closing = true;
    await Promise.all(workers.map((w) => w.terminate()));
  };
  try {
    await Promise.all(ready);
  } catch (e) {
    await close();
    throw e;
  }
  return {
    slots: count,
    run: (c, items) =>
      new Promise<ChunkResult>((resolve, reject) => {
        if (failed) return reject(failed);
        queue.push({ c, items, resolve, reject });
        dispatch();
      }),
    close,
  };
}
