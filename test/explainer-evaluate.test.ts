// Explainer.compareMethods / sanityCheck in Node (worker threads running the compiled package,
// dist/, which npm test builds): the numbers of the library's compareMethods / sanityCheck in this
// thread, progress over all methods, cancellation between methods, typed errors before any work.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const dist = new URL('../dist/index.js', import.meta.url);
type Lib = typeof import('../src/index.js');
const DIR = join(import.meta.dirname, '..', 'models', 'fashion-mnist');
const MODEL = join(DIR, 'tfjs', 'model.json');
const META = join(DIR, 'metadata.json');
const inputs = (n: number) => Float32Array.from({ length: n * 784 }, (_, i) => ((i * 37) % 251) / 251);
/** The backend choice that runs the kernels a backendName names. */
const choiceOf = (name: string) => (({ 'wasm-relaxed-simd': 'wasm-relaxed', 'wasm-simd': 'wasm-simd', 'wasm-scalar': 'wasm-scalar', reference: 'reference' }) as const)[name]!;

describe('Explainer: compareMethods and sanityCheck in a worker', () => {
  let lib: Lib;
  let ex: Awaited<ReturnType<Lib['createExplainer']>>;
  let model: InstanceType<Lib['Model']>;
  beforeAll(async () => {
    expect(existsSync(dist), 'run npm run build first (npm test does)').toBe(true);
    lib = (await import(dist.href)) as Lib;
    ex = await lib.createExplainer(MODEL, { metadata: META });
    model = await lib.loadModel(MODEL, { metadata: META, backend: choiceOf(ex.backendName) });
  });
  afterAll(async () => {
    model?.dispose();
    await ex?.dispose();
  });

  it('compareMethods gives the numbers of the library in this thread, with progress per method', async () => {
    const x = inputs(6);
    const methods = ['epsilon-gamma-box', 'smoothgrad', 'random'];
    const options = { patch: 4, steps: 5, replacement: 'uniform' as const, seed: 3, order: ['morf', 'lerf', 'random'] as const };
    const want = lib.compareMethods(model, x, methods, { ...options, order: [...options.order] });
    const seen: Array<{ done: number; total: number; method?: string }> = [];
    const got = await ex.compareMethods(x, methods, { ...options, order: [...options.order], onProgress: (p) => seen.push(p) });
    expect(got.map((r) => r.label)).toEqual(methods);
    got.forEach((r, k) => {
      const [a, b] = [r.evaluation, want[k].evaluation];
      for (const order of ['morf', 'lerf', 'random'] as const) {
        expect(a[order]!.curves, `${r.label} ${order}`).toEqual(b[order]!.curves);
        expect(a[order]!.aopc).toEqual(b[order]!.aopc);
        expect(a[order]!.summary).toEqual(b[order]!.summary);
      }
      expect(a.area!.summary).toEqual(b.area!.summary);
      expect(a.targets).toEqual(b.targets);
    });
    expect(lib.aopcTable(got)).toEqual(lib.aopcTable(want));
    expect(x).toEqual(inputs(6)); // not modified
    expect(seen.every((p) => p.total === 18)).toBe(true);
    expect(seen.at(-1)).toEqual({ done: 18, total: 18, method: 'random' });
    expect([...new Set(seen.map((p) => p.method))]).toEqual(methods);
    expect(seen.map((p) => p.done)).toEqual([...seen.map((p) => p.done)].sort((a, b) => a - b));
  });

  it('sanityCheck gives the numbers of the library in this thread', async () => {
    const x = inputs(3);
    const methods = ['epsilon-plus', 'gradient'];
    const want = await lib.sanityCheck(model, x, methods, { seed: 5 });
    const seen: number[] = [];
    const got = await ex.sanityCheck(x, methods, { seed: 5, onProgress: (p) => seen.push(p.done) });
    expect(got.steps.map((s) => s.layer)).toEqual(want.steps.map((s) => s.layer));
    expect(lib.sanityTable(got)).toEqual(lib.sanityTable(want));
    got.steps.forEach((s, i) => {
      for (const m of methods) expect(s.methods[m].spearman.perSample, `${s.layer} ${m}`).toEqual(want.steps[i].methods[m].spearman.perSample);
    });
    expect(seen.at(-1)).toBe(2 * want.steps.length);
  });

  it('cancels between methods: rejects at once with an AbortError, the worker stays usable', async () => {
    const ctrl = new AbortController();
    const labels: string[] = [];
    const call = ex.compareMethods(inputs(16), ['gradient', 'smoothgrad', 'integrated-gradients', 'epsilon-plus'], {
      steps: 49,
      signal: ctrl.signal,
      onProgress: (p) => {
        labels.push(p.method!);
        ctrl.abort();
      },
    });
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    expect(labels).toEqual(['gradient']);
    await expect(ex.compareMethods(inputs(1), ['random'], { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    const x = inputs(2);
    const after = await ex.compareMethods(x, ['epsilon-plus'], { steps: 3 });
    expect(lib.aopcTable(after)).toEqual(lib.aopcTable(lib.compareMethods(model, x, ['epsilon-plus'], { steps: 3 })));
  });

  it('bad options are typed errors, named before any method runs', async () => {
    const x = inputs(2);
    await expect(ex.compareMethods(x, ['epsilon-plus', 'nope'])).rejects.toMatchObject({ name: 'InputError', code: 'E_METHOD', message: expect.stringMatching(/unknown method 'nope'/) });
    await expect(ex.compareMethods(x, [])).rejects.toMatchObject({ name: 'InputError', code: 'E_METHOD' });
    await expect(ex.compareMethods(x, ['gradient'], { patch: 40 })).rejects.toMatchObject({ name: 'InputError', code: 'E_OPTION', message: expect.stringMatching(/patch 40x40 is larger than the 28x28 input/) });
    await expect(ex.compareMethods(x, ['gradient'], { steps: 0 })).rejects.toMatchObject({ code: 'E_OPTION', message: expect.stringMatching(/steps must be a positive integer/) });
    await expect(ex.compareMethods(new Float32Array(5), ['gradient'])).rejects.toMatchObject({ name: 'InputError', code: 'E_INPUT' });
    await expect(ex.sanityCheck(x, ['epsilon-plus', 'random'])).rejects.toMatchObject({ name: 'InputError', code: 'E_METHOD', message: expect.stringMatching(/'random' does not depend on the model/) });
    await expect(ex.sanityCheck(x, ['epsilon-plus'], { seed: -1 })).rejects.toMatchObject({ code: 'E_OPTION' });
  });
});
