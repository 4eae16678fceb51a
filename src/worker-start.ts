/**
 * Starting the library's workers (Node worker threads or module Web Workers) with a handshake: a
 * worker script announces itself with READY as soon as it runs, so that a wrong or missing script
 * URL (a 404, an HTML page, some other script) is a WorkerError within seconds instead of a
 * promise that never settles.
 */
import { platform } from '#platform';
import { WorkerError } from './errors.js';
import type { WorkerFactory, WorkerPort } from './platform/types.js';

/** The first message every lrp-wasm worker sends. */
export const READY = 'lrp-wasm-worker-ready';

/** How long a worker may take to load and run its script. */
export const START_TIMEOUT_MS = 15_000;

function startOne(workerUrl: string | URL | undefined, timeoutMs: number, factory?: WorkerFactory): Promise<WorkerPort> {
  const port = platform.startWorker(workerUrl, factory);
  const url = factory && platform.kind !== 'node' ? 'the worker made by createWorker' : workerUrl === undefined ? 'the bundled worker script' : `the worker script ${String(workerUrl)}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void port.terminate();
      reject(new WorkerError(`${url} did not start: ${why}`));
    };
    const timer = setTimeout(
      () => fail(`no answer within ${Math.round(timeoutMs / 1000)} s (is it lrp-wasm/worker, bundled as its own entry and served as JavaScript?)`),
      timeoutMs,
    );
    port.onFailure((why) => fail(why));
    port.onReply((msg) => {
      if (settled || msg !== READY) return;
      settled = true;
      clearTimeout(timer);
      resolve(port);
    });
  });
}

/** Starts `count` workers; rejects with WorkerError (and stops the others) if any fails to start. */
export async function startWorkers(count: number, workerUrl: string | URL | undefined, timeoutMs = START_TIMEOUT_MS, factory?: WorkerFactory): Promise<WorkerPort[]> {
  const url = platform.kind === 'node' ? undefined : workerUrl;
  const starting = Array.from({ length: count }, () => startOne(url, timeoutMs, factory));
  const results = await Promise.allSettled(starting);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    for (const r of results) if (r.status === 'fulfilled') void r.value.terminate();
    throw failed.reason;
  }
  return results.map((r) => (r as PromiseFulfilledResult<WorkerPort>).value);
}
