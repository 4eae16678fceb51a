// model.memoryPlan(batch), loadModel({ memoryLimit }) and the automatic batch of calls without `batch`.
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends.js';
import { canonicalize, InputError, loadModel, Model, type Graph } from '../../src/index.js';
import { archOnnx } from '../helpers/arch.js';
import { bitDiffs, relDiff } from '../helpers/oracle.js';

const MiB = 2 ** 20;

describe('memory plan', () => {
  it('reports every part; the workspace parts grow linearly with the batch; caches appear once rules ran', async () => {
    const model = await loadModel(archOnnx('resnet18'));
    const p1 = model.memoryPlan(1);
    const p4 = model.memoryPlan(4);
    expect(p1.parameters).toBeGreaterThan(0);
    expect(p4.parameters).toBe(p1.parameters);
    for (const k of ['activations', 'relevanceUnshared'] as const) expect(p4[k]).toBeGreaterThanOrEqual(4 * p1[k] - 64);
    expect(p1.relevance).toBeLessThan(p1.relevanceUnshared);
    expect(p1.total).toBe(p1.parameters + p1.modifiedParameters + p1.constants + p1.activations + p1.relevance + p1.scratch);
    expect(p1.modifiedParameters).toBe(0);
    const x = new Float32Array(2 * model.inputSize).fill(0.5);
    model.explain(x, { composite: 'epsilon-plus' });
    const after = model.memoryPlan(2);
    // zplus on the convs caches W+ (as large as the conv weights)
    expect(after.modifiedParameters).toBeGreaterThan(0.5 * after.parameters);
    expect(after.linearMemory).toBeGreaterThanOrEqual(after.total - after.scratch);
    expect(() => model.memoryPlan(0)).toThrow(InputError);
    model.dispose();
  });

  it('without `batch`, calls run the largest chunk that fits in memoryLimit, with the same numbers', async () => {
    const big = await loadModel(archOnnx('efficientnet_b0'));
    const plan = big.memoryPlan(1);
    const perSample = big.memoryPlan(2).total - plan.total;
    // room for the parameters, one modified copy and about 3 samples
    const limit = plan.total + plan.parameters + 3 * perSample;
    const small = await loadModel(archOnnx('efficientnet_b0'), { memoryLimit: Math.max(limit, 16 * MiB) });
    const n = 12;
    const x = new Float32Array(n * big.inputSize).map((_, i) => ((i * 7919) % 97) / 97);
    const a = big.explain(x, { composite: 'epsilon-plus' });
    const b = small.explain(x, { composite: 'epsilon-plus' });
    expect(b.relevance).toEqual(a.relevance);
    expect(small.memoryBytes).toBeLessThan(big.memoryBytes);
    big.dispose();
    small.dispose();
  });

  it('modified parameter sets stay cached while they fit in memoryLimit and are recomputed per step when not, with the same numbers', async () => {
    const free = await wideMlp();
    const plan = free.memoryPlan(2);
    // room for the workspace and about a third of one modified copy of the weights
    const tight = await wideMlp();
    tight.memoryLimit = plan.total + plan.parameters / 3;
    const x = new Float32Array(2 * free.inputSize).map((_, i) => ((i * 7919) % 97) / 97 - 0.3);
    for (const rule of ['gamma:0.25', 'alphabeta:2:1', 'wsquare']) {
      const a = free.explain(x, { rule, batch: 2 });
      const b = tight.explain(x, { rule, batch: 2 });
      expect(b.relevance).toEqual(a.relevance);
      const p = tight.memoryPlan(2);
      expect(p.recomputedParameters).toBeGreaterThan(0);
      expect(free.memoryPlan(2).recomputedParameters).toBe(0);
      // nothing recomputed stays allocated: what is live fits the limit
      expect(p.parameters + p.modifiedParameters + p.constants + p.activations + p.relevance).toBeLessThanOrEqual(tight.memoryLimit);
    }
    expect(tight.memoryPlan(2).modifiedParameters).toBeLessThan(free.memoryPlan(2).modifiedParameters);
    expect(tight.memoryBytes).toBeLessThan(free.memoryBytes);
    free.dispose();
    tight.dispose();
  });

  it('a workspace that would not fit in memoryLimit next to the caches evicts them; later calls recompute what they need', async () => {
    const model = await wideMlp();
    const x = new Float32Array(16 * model.inputSize).map((_, i) => ((i * 7919) % 97) / 97);
    const first = model.explain(x.subarray(0, model.inputSize), { rule: 'gamma:0.25', batch: 1 });
    const cached = model.memoryPlan(1).modifiedParameters;
    expect(cached).toBeGreaterThan(0);
    const p16 = model.memoryPlan(16);
    model.memoryLimit = p16.total - cached + p16.parameters / 2; // the batch-16 workspace fits only without the caches
    const many = model.explain(x, { rule: 'gamma:0.25', batch: 16 });
    expect(model.memoryPlan(16).modifiedParameters).toBeLessThan(cached);
    const fresh = await wideMlp();
    expect(many.relevance).toEqual(fresh.explain(x, { rule: 'gamma:0.25', batch: 16 }).relevance);
    expect(first.relevance).toEqual(fresh.explain(x.subarray(0, model.inputSize), { rule: 'gamma:0.25', batch: 1 }).relevance);
    model.dispose();
    fresh.dispose();
  });

  it("the Winograd transforms of W give way to a composite's sets (even one this call's forward used), which give way to nothing", async () => {
    const x = new Float32Array(2 * 64 * 16 * 16).map((_, i) => ((i * 7919) % 97) / 97);
    const egb = { composite: 'epsilon-gamma-box', low: 0, high: 1 } as const;
    const free = await wideConvNet();
    const want = free.explain(x, egb).relevance;
    const alone = free.memoryPlan(2);
    const byPredict = await wideConvNet();
    const logits = byPredict.predict(x);
    const predictSets = byPredict.memoryPlan(2).modifiedParameters; // the Winograd transforms of W: c1's and c2's
    expect(predictSets).toBe(36 * (64 * 256 + 256 * 256) * 4);
    // epsilon-gamma-box computes c2's output with its transform too (c1 is zbox's); room for this call's
    // sets only if both of predict's transforms give way, c2's after this call's forward used it
    const ownC2 = 36 * 256 * 256 * 4;
    const tight = await wideConvNet();
    tight.memoryLimit = alone.total - ownC2;
    tight.predict(x);
    const got = tight.explain(x, egb).relevance;
    const p = tight.memoryPlan(2);
    // every set of the call was cached (uncached, the transposed products would take im2col: other bits)
    expect(p.recomputedParameters).toBe(0);
    expect(bitDiffs(got, want)).toBe(0);
    expect(p.modifiedParameters).toBe(alone.modifiedParameters - ownC2);
    expect(p.parameters + p.modifiedParameters + p.constants + p.activations + p.relevance + p.scratch).toBeLessThanOrEqual(tight.memoryLimit);
    // predict again: the explain's sets stay, so W's own forward takes im2col where its transforms have no
    // room (the logits agree to Winograd's rounding); so does the next explain's, with every set cached.
    // Measured apart by 1.3e-5 (logits) and 3.5e-5 (relevance) of their largest values; bound: the
    // Zennit vectors' tolerance
    const again = tight.predict(x);
    expect(bitDiffs(again, logits)).toBeGreaterThan(0);
    expect(relDiff(again, logits)).toBeLessThan(1e-4);
    const next = tight.explain(x, egb).relevance;
    expect(bitDiffs(next, want)).toBeGreaterThan(0);
    expect(relDiff(next, want)).toBeLessThan(1e-4);
    expect(tight.memoryPlan(2).recomputedParameters).toBe(0);
    expect(tight.memoryPlan(2).modifiedParameters).toBe(alone.modifiedParameters - ownC2);
    for (const m of [free, byPredict, tight]) m.dispose();
  });

  it('memoryLimit must be a number of bytes between 16 MiB and 4 GiB', async () => {
    for (const bad of [0, -1, 1e3, 2 ** 33, Number.NaN, '1GB'])
      await expect(loadModel(archOnnx('resnet18'), { memoryLimit: bad as number })).rejects.toThrow(/memoryLimit must be a number of bytes/);
    const model = await loadModel(archOnnx('resnet18'));
    expect(() => (model.memoryLimit = 2 ** 40)).toThrow(/memoryLimit must be a number of bytes/);
    expect(model.memoryLimit).toBe(2 ** 31);
    model.dispose();
  });
});

/** Dense 1024 → 2048 → 2048 → 10 with ReLUs: 24 MiB of weights, so limits above the 16 MiB minimum bite. */
async function wideMlp(): Promise<Model> {
  const wave = (n: number, phase: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 2.399 + phase) * 0.05);
  const dense = (name: string, input: string, inF: number, outF: number, k: number) =>
    ({ name, op: 'dense', inputs: [input], inFeatures: inF, outFeatures: outF, weight: wave(inF * outF, k), bias: wave(outF, k + 0.5) }) as const;
  const graph: Graph = {
    name: 'wide-mlp',
    inputShape: [1024],
    inputLayout: 'NCHW',
    inputRange: [-1, 1],
    nodes: [
      dense('fc1', 'input', 1024, 2048, 0.1),
      { name: 'r1', op: 'relu', inputs: ['fc1'] },
      dense('fc2', 'r1', 2048, 2048, 0.7),
      { name: 'r2', op: 'relu', inputs: ['fc2'] },
      dense('fc3', 'r2', 2048, 10, 1.3),
    ],
    output: 'fc3',
    notes: [],
    format: 'lrp-json',
  };
  return new Model(canonicalize(graph), await createBackend('wasm'));
}

/** Conv 64 → 256 → 256 (3×3, 16×16) with ReLUs, flatten, dense → 10, Winograd on: F(4,3) transforms of 2.4 and 9.4 MiB per set. */
async function wideConvNet(): Promise<Model> {
  const wave = (n: number, phase: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 2.399 + phase) * 0.05);
  const conv = (name: string, input: string, C: number, O: number, k: number) =>
    ({ name, op: 'conv2d', inputs: [input], inChannels: C, outChannels: O, kernel: [3, 3], stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1, weight: wave(O * C * 9, k), bias: wave(O, k + 0.5) }) as const;
  const graph: Graph = {
    name: 'wide-conv',
    inputShape: [64, 16, 16],
    inputLayout: 'NCHW',
    inputRange: [0, 1],
    nodes: [
      conv('c1', 'input', 64, 256, 0.1),
      { name: 'r1', op: 'relu', inputs: ['c1'] },
      conv('c2', 'r1', 256, 256, 0.7),
      { name: 'r2', op: 'relu', inputs: ['c2'] },
      { name: 'f', op: 'flatten', inputs: ['r2'] },
      { name: 'fc', op: 'dense', inputs: ['f'], inFeatures: 256 * 16 * 16, outFeatures: 10, weight: wave(256 * 256 * 10, 1.3), bias: wave(10, 1.8) },
    ],
    output: 'fc',
    notes: [],
    format: 'lrp-json',
  };
  return new Model(canonicalize(graph), await createBackend('wasm', 1, null, 'on'));
}
