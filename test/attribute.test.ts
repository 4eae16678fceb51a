// Gradient baselines on the LRP engine: SmoothGrad and Integrated Gradients properties and errors
// (gradient and gradient x input are checked against the Zennit vectors in the lrp-*.test.ts suites).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, loadModel, type Model } from '../src/index.js';
import { modelDir, readF32 } from './helpers/fixtures.js';

describe('attribute()', () => {
  let model: Model;
  let cnn: Model;
  beforeAll(async () => {
    model = await loadModel(`${modelDir('mlp')}/model.json`);
    cnn = await loadModel(`${modelDir('cnn')}/model.json`);
  });
  afterAll(() => {
    model.dispose();
    cnn.dispose();
  });

  it('integrated gradients are complete: they sum to logit(x) - logit(baseline)', () => {
    for (const m of [model, cnn]) {
      const x = readF32(m === model ? 'mlp' : 'cnn', 'inputs.f32');
      const r = m.attribute(x, { method: 'integrated-gradients', samples: 256, baseline: 0 });
      const base = m.predict(new Float32Array(x.length));
      for (let s = 0; s < 4; s++) {
        const t = r.targets[s];
        const delta = r.logits[s * 10 + t] - base[s * 10 + t];
        expect(Math.abs(r.sums.input[s] - delta)).toBeLessThan(2e-2 * Math.max(Math.abs(delta), 0.1));
      }
    }
  });

  it('smoothgrad without noise is the gradient; with noise it is reproducible per seed', () => {
    const x = readF32('mlp', 'inputs.f32');
    const g = model.attribute(x, { method: 'gradient', start: 'onehot' });
    const s0 = model.attribute(x, { method: 'smoothgrad', noise: 0, samples: 3 });
    const diff = g.relevance.reduce((m, v, i) => Math.max(m, Math.abs(v - s0.relevance[i])), 0);
    expect(diff).toBeLessThan(1e-6);
    const a = model.attribute(x, { method: 'smoothgrad', noise: 0.2, samples: 8, seed: 3 });
    const b = model.attribute(x, { method: 'smoothgrad', noise: 0.2, samples: 8, seed: 3 });
    const c = model.attribute(x, { method: 'smoothgrad', noise: 0.2, samples: 8, seed: 4 });
    expect(a.relevance).toEqual(b.relevance);
    expect(a.relevance).not.toEqual(c.relevance);
    expect(Array.from(a.targets)).toEqual(Array.from(g.targets));
  });

  it('rejects bad options', () => {
    const x = readF32('mlp', 'inputs.f32');
    expect(() => model.attribute(x, { method: 'saliency' as never })).toThrow(/unknown attribution method 'saliency'/);
    expect(() => model.attribute(x, { method: 'smoothgrad', samples: 0 })).toThrow(InputError);
    expect(() => model.attribute(x, { method: 'smoothgrad', noise: -1 })).toThrow(InputError);
    expect(() => model.attribute(x, { method: 'integrated-gradients', baseline: new Float32Array(3) })).toThrow(/baseline has 3 values/);
    expect(() => model.attribute(x, { method: 'integrated-gradients', start: 'logit' })).toThrow(/onehot/);
  });
});
