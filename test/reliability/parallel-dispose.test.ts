// D4: ParallelModel.explain/predict after dispose() returned promises that never settled.
// D6: calls in flight during dispose() rejected with a plain Error, not a DisposedError.
// Also: a worker that dies rejects the calls waiting on it instead of leaving them pending.
// Runs against dist/ (worker threads load JavaScript files; `npm test` builds it).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FASHION, inputs, ROOT } from './helpers.js';

const lib = (await import(path.join(ROOT, 'dist', 'index.js'))) as typeof import('../../src/index.js');
const MODEL = path.join(FASHION, 'model.onnx');

/** Settles `p` within `ms` or fails: a promise that never settles is the defect. */
function settled<T>(p: Promise<T>, ms = 10_000): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms))]);
}

describe('D4, D6: ParallelModel and dispose()', () => {
  it('calls after dispose() reject at once with a DisposedError', async () => {
    const pm = await lib.loadModelParallel(MODEL, { workers: 2 });
    await pm.dispose();
    for (const call of [() => pm.explain(inputs(784 * 2)), () => pm.predict(inputs(784))]) {
      const e = await settled(call()).catch((err) => err);
      expect(e).toBeInstanceOf(lib.DisposedError);
      expect(e.code).toBe('E_DISPOSED');
    }
    await pm.dispose(); // twice is fine
  });

  it('calls in flight during dispose() reject with a DisposedError', async () => {
    const pm = await lib.loadModelParallel(MODEL, { workers: 2 });
    // (caught at once: they reject while dispose() is awaited)
    const inFlight = pm.explain(inputs(784 * 64), { composite: 'epsilon-gamma-box', low: 0, high: 1 }).catch((err) => err);
    const predicting = pm.predict(inputs(784 * 64)).catch((err) => err);
    await pm.dispose();
    for (const p of [inFlight, predicting]) {
      const e = await settled(p);
      expect(e).toBeInstanceOf(lib.DisposedError);
      expect(e.message).toMatch(/parallel model '.*' has been disposed/);
    }
  });

  it('a worker that stops rejects the waiting calls and every later one with E_WORKER', async () => {
    const pm = await lib.loadModelParallel(MODEL, { workers: 2 });
    try {
      const workers = (pm as unknown as { workers: Array<{ terminate(): Promise<unknown> }> }).workers;
      const waiting = pm.explain(inputs(784 * 64)).catch((err) => err);
      await workers[1].terminate(); // as if the thread had died (out of memory, a crash)
      for (const p of [waiting, pm.predict(inputs(784)).catch((err) => err)]) {
        const e = await settled(p);
        expect(e).toBeInstanceOf(lib.LrpError);
        expect(e.code).toBe('E_WORKER');
        expect(e.message).toMatch(/worker 2 of 2 stopped \(worker thread exited with code 1\)/);
      }
    } finally {
      await pm.dispose();
    }
  });

  it('bad arguments are typed errors, not TypeErrors', async () => {
    const pm = await lib.loadModelParallel(MODEL, { workers: 1 });
    try {
      expect(await pm.predict(new BigInt64Array(784) as never).catch((e) => e)).toBeInstanceOf(lib.InputError);
      expect(await pm.explain(inputs(784), null as never).catch((e) => e)).toBeInstanceOf(lib.InputError);
    } finally {
      await pm.dispose();
    }
  });
});
