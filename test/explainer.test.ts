// createExplainer in Node (worker threads running the compiled package, dist/, which npm test
// builds): the same numbers as a Model, progress per chunk, cancellation with an AbortSignal,
// dispose, typed errors; and ParallelModel's describe / attribute / inputLayout.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose, modelDir } from './helpers/fixtures.js';

const dist = new URL('../dist/index.js', import.meta.url);
type Lib = typeof import('../src/index.js');
const DIR = join(import.meta.dirname, '..', 'models', 'fashion-mnist');
const MODEL = join(DIR, 'tfjs', 'model.json');
const META = join(DIR, 'metadata.json');
const inputs = (n: number) => Float32Array.from({ length: n * 784 }, (_, i) => ((i * 31) % 253) / 253);

describe('createExplainer (worker threads)', () => {
  let lib: Lib;
  let model: InstanceType<Lib['Model']>;
  beforeAll(async () => {
    expect(existsSync(dist), 'run npm run build first (npm test does)').toBe(true);
    lib = (await import(dist.href)) as Lib;
    model = await lib.loadModel(MODEL, { metadata: META });
  });
  afterAll(() => model?.dispose());

  it('explains like the model, chunk by chunk with progress, on one worker or two', async () => {
    const x = inputs(40);
    const want = model.explain(x, { composite: 'epsilon-gamma-box', batch: 8, layers: true });
    for (const workers of [1, 2]) {
      const ex = await lib.createExplainer(MODEL, { workers, metadata: META });
      try {
        expect([ex.name, ex.inputLayout, ex.outputSize, ex.inputSize]).toEqual(['fashion-mnist', 'NHWC', 10, 784]);
        expect(ex.metadata?.classNames?.[9]).toBe('Ankle boot');
        const seen: number[] = [];
        const r = await ex.explain(x, { composite: 'epsilon-gamma-box', batch: 8, layers: true, onProgress: (p) => (expect(p.total).toBe(40), seen.push(p.done)) });
        // one worker runs the same chunks as the model; two run other batch sizes, whose kernels
        // sum in another order (float rounding)
        if (workers === 1) expect(r.relevance).toEqual(want.relevance);
        else expectClose(r.relevance, want.relevance, 40, 1e-5, 'two workers');
        expectClose(r.logits, want.logits, 40, 1e-6, 'logits');
        expect(r.targets).toEqual(want.targets);
        expect(Object.keys(r.layers!)).toEqual(Object.keys(want.layers!));
        expect(seen.at(-1)).toBe(40);
        expect(seen.length).toBe(workers === 1 ? 5 : 6); // 8, 16, …, 40; or two workers' 20 each in chunks of 8
        expect([...seen].sort((a, b) => a - b)).toEqual(seen);
        expectClose(await ex.predict(x, { batch: 16 }), model.predict(x), 40, 1e-6, 'predict');
      } finally {
        await ex.dispose();
      }
    }
  });

  it('cancels with an AbortSignal: rejects at once, the worker stops and stays usable', async () => {
    const ex = await lib.createExplainer(MODEL);
    try {
      const x = inputs(400);
      const ctrl = new AbortController();
      const chunks: number[] = [];
      const t0 = performance.now();
      const call = ex.explain(x, {
        batch: 4,
        signal: ctrl.signal,
        onProgress: (p) => {
          chunks.push(p.done);
          if (p.done === 8) ctrl.abort();
        },
      });
      await expect(call).rejects.toMatchObject({ name: 'AbortError' });
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(chunks.at(-1)).toBe(8);
      // a signal aborted before the call rejects without running anything
      await expect(ex.explain(x, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
      const small = inputs(2);
      expect((await ex.explain(small)).relevance).toEqual(model.explain(small).relevance);
    } finally {
      await ex.dispose();
    }
  });

  it('explainImage, attribute, describe, warmup; typed errors; dispose', async () => {
    const ex = await lib.createExplainer(MODEL, { metadata: META });
    const png = new Uint8Array(readFileSync(join(DIR, 'samples', '0000_ankle_boot.png')));
    const img = await ex.explainImage(png, { composite: 'epsilon-gamma-box' });
    const want = await model.explainImage(png, { composite: 'epsilon-gamma-box' });
    expect(img.relevance).toEqual(want.relevance);
    expect(Array.from(img.overlay.data)).toEqual(Array.from(want.overlay.data));
    expect(img.predictedName).toBe('Ankle boot');
    const x = inputs(3);
    expect((await ex.attribute(x, { method: 'integrated-gradients', samples: 8 })).relevance).toEqual(model.attribute(x, { method: 'integrated-gradients', samples: 8 }).relevance);
    expect(await ex.describe('epsilon-gamma-box')).toBe(model.describe('epsilon-gamma-box'));
    await ex.warmup(4);
    await expect(ex.explain(new Float32Array(5))).rejects.toThrow(lib.InputError);
    await expect(ex.explain(x, { composite: 'nope' as never })).rejects.toThrow(lib.RuleError);
    await expect(ex.explain(new Uint8ClampedArray(784 * 4))).rejects.toMatchObject({ name: 'InputError', code: 'E_PIXELS' });
    const running = expect(ex.explain(inputs(200), { batch: 2 })).rejects.toThrow(lib.DisposedError);
    await ex.dispose();
    await running;
    await expect(ex.explain(x)).rejects.toThrow(lib.DisposedError);
  });
});

describe('ParallelModel: describe, attribute, inputLayout', () => {
  it('give what one model gives', async () => {
    const lib = (await import(dist.href)) as Lib;
    const path = `${modelDir('cnn')}/model.json`;
    const one = await lib.loadModel(path);
    const pm = await lib.loadModelParallel(path, { workers: 2 });
    try {
      const x = Float32Array.from({ length: 4 * 784 }, (_, i) => (i % 89) / 89);
      expect(pm.inputLayout).toBe('NCHW');
      expect(await pm.describe('epsilon-plus')).toBe(one.describe('epsilon-plus'));
      for (const method of ['gradient-x-input', 'smoothgrad', 'integrated-gradients'] as const) {
        const a = one.attribute(x, { method, samples: 4, target: [1, 2, 3, 4] });
        const b = await pm.attribute(x, { method, samples: 4, target: [1, 2, 3, 4] });
        expect(b.relevance, method).toEqual(a.relevance);
        expect(b.targets).toEqual(a.targets);
      }
    } finally {
      one.dispose();
      await pm.dispose();
    }
  });
});
