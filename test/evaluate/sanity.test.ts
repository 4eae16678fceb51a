// The cascading randomisation sanity check: exact on a linear model, the caller's model untouched,
// layers randomised from the top, and gradient explanations of a CNN lose their structure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, sanityCheck, spearman, ssim, type DenseNode, type Model } from '../../src/index.js';
import { deriveSeed } from '../../src/evaluate/random.js';
import { randomiseNode } from '../../src/evaluate/sanity.js';
import { modelDir, readF32 } from '../helpers/fixtures.js';
import { linearModel, wave } from './linear-model.js';

describe('sanityCheck()', () => {
  let linear: Model;
  let cnn: Model;
  beforeAll(async () => {
    ({ model: linear } = await linearModel());
    cnn = await loadModel(`${modelDir('cnn')}/model.json`);
  });
  afterAll(() => {
    linear.dispose();
    cnn.dispose();
  });

  it('linear model: gradient x input before and after randomising the one layer, compared by hand', async () => {
    const x = Float32Array.from(wave(3 * 64, 0.9), (v) => (v + 1) / 2);
    const r = await sanityCheck(linear, x, ['gradient-x-input'], { seed: 5, target: 2 });
    expect(r.steps.map((s) => s.layer)).toEqual(['fc']);
    const fc = linear.graph.nodes.find((n) => n.name === 'fc') as DenseNode;
    const random = randomiseNode(fc, deriveSeed(5, 0)) as DenseNode;
    expect(random.weight).not.toEqual(fc.weight);
    const sim = r.steps[0].methods['gradient-x-input'];
    for (let s = 0; s < 3; s++) {
      const xs = x.subarray(s * 64, (s + 1) * 64);
      const before = Float64Array.from(xs, (v, i) => fc.weight[2 * 64 + i] * v);
      const after = Float64Array.from(xs, (v, i) => random.weight[2 * 64 + i] * v);
      expect(sim.spearman.perSample[s]).toBeCloseTo(spearman(before, after), 5);
      expect(sim.spearmanAbs.perSample[s]).toBeCloseTo(spearman(before.map(Math.abs), after.map(Math.abs)), 5);
      const scale = (m: Float64Array) => m.map((v) => v / Math.max(...m.map(Math.abs)));
      expect(sim.ssim.perSample[s]).toBeCloseTo(ssim(scale(before), scale(after), 8, 8, 2), 5);
    }
    // new parameters keep the layer's mean and spread
    const std = (t: Float32Array) => Math.sqrt(t.reduce((p, v) => p + v * v, 0) / t.length - (t.reduce((p, v) => p + v, 0) / t.length) ** 2);
    expect(std(random.weight) / std(fc.weight)).toBeGreaterThan(0.9);
    expect(std(random.weight) / std(fc.weight)).toBeLessThan(1.1);
  });

  it('randomises from the top down, leaves the caller model as it was, and is reproducible', async () => {
    const x = readF32('cnn', 'inputs.f32');
    const before = cnn.predict(x);
    const weights = cnn.graph.nodes.map((n) => ('weight' in n ? n.weight.slice() : null));
    const methods = ['gradient', 'epsilon-plus'];
    const r = await sanityCheck(cnn, x, methods, { seed: 3 });
    const linearNodes = cnn.graph.nodes.filter((n) => n.op === 'dense' || n.op === 'conv2d').map((n) => n.name);
    expect(r.steps.map((s) => s.layer)).toEqual(linearNodes.reverse());
    expect(cnn.predict(x)).toEqual(before);
    cnn.graph.nodes.forEach((n, i) => 'weight' in n && expect(n.weight).toEqual(weights[i]));
    const again = await sanityCheck(cnn, x, methods, { seed: 3 });
    expect(again.steps[1].methods.gradient.spearman.perSample).toEqual(r.steps[1].methods.gradient.spearman.perSample);
    // every value is a finite similarity
    for (const step of r.steps)
      for (const m of methods)
        for (const k of ['spearman', 'spearmanAbs', 'ssim'] as const)
          for (const v of step.methods[m][k].perSample) expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-9);
    // once every layer is random the gradient has nothing left of the trained one (Adebayo et al.)
    expect(Math.abs(r.steps.at(-1)!.methods.gradient.spearman.summary.mean)).toBeLessThan(0.3);
  });
});

describe('sanityCheck() with an input range from metadata only', () => {
  it('zbox composites take the bounds of metadata.json on the randomised copies too', async () => {
    const meta = JSON.parse((await import('node:fs')).readFileSync('models/fashion-mnist/metadata.json', 'utf8'));
    const model = await loadModel('models/fashion-mnist/model.onnx', { metadata: meta });
    try {
      expect(model.graph.inputRange).toBeUndefined();
      const x = new Float32Array(2 * model.inputSize).map((_, i) => ((i * 37) % 100) / 100);
      const r = await sanityCheck(model, x, ['epsilon-gamma-box'], { seed: 1 });
      expect(r.steps.length).toBeGreaterThan(0);
      for (const s of r.steps) expect(Number.isFinite(s.methods['epsilon-gamma-box'].spearman.summary.mean)).toBe(true);
    } finally {
      model.dispose();
    }
  });
});
