// Region perturbation on a model with a known answer (linear: contributions W x), the random order
// checked statistically (seeded), replacements, and reproducibility.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate, type Model } from '../../src/index.js';
import { contributions, linearModel, wave } from './linear-model.js';

describe('evaluate() on a linear model', () => {
  let model: Model;
  let weight: Float32Array;
  let bias: Float32Array;
  const n = 6;
  const x = Float32Array.from(wave(n * 64, 0.1), (v) => (v + 1) / 2); // in [0, 1]
  beforeAll(async () => ({ model, weight, bias } = await linearModel()));
  afterAll(() => model.dispose());

  const exact = (t: number) => {
    const a = new Float32Array(x.length);
    for (let s = 0; s < n; s++) a.set(contributions(weight, x.subarray(s * 64, (s + 1) * 64), t), s * 64);
    return a;
  };

  it('follows the analytic curve: f(x_k) = f(x) - (sum of the k largest contributions) with patch 1 and constant 0', () => {
    const t = 1;
    const a = exact(t);
    const r = evaluate(model, x, a, { patch: 1, steps: 64, order: ['morf', 'lerf'], target: t });
    for (let s = 0; s < n; s++) {
      const c = Array.from(a.subarray(s * 64, (s + 1) * 64));
      const f0 = c.reduce((p, v) => p + v, 0) + bias[t];
      const desc = [...c].sort((p, q) => q - p);
      const asc = [...c].sort((p, q) => p - q);
      let morf = f0;
      let lerf = f0;
      let aopc = 0;
      for (let k = 0; k <= 64; k++) {
        if (k > 0) {
          morf -= desc[k - 1];
          lerf -= asc[k - 1];
        }
        expect(r.morf!.curves[s * 65 + k]).toBeCloseTo(morf, 4);
        expect(r.lerf!.curves[s * 65 + k]).toBeCloseTo(lerf, 4);
        aopc += f0 - morf;
      }
      expect(r.morf!.aopc[s]).toBeCloseTo(aopc / 65, 4);
      expect(r.area!.perSample[s]).toBeCloseTo(r.morf!.aopc[s] - r.lerf!.aopc[s], 10);
    }
    expect(Array.from(r.targets)).toEqual(new Array(n).fill(t));
    expect(r.fractions[0]).toBe(0);
    expect(r.fractions[64]).toBe(1);
  });

  it('AOPC(W x) >= AOPC of any other ordering (MoRF), and <= for LeRF, with 2x2 patches', () => {
    const a = exact(0);
    const opts = { patch: 2, steps: 16, target: 0 } as const;
    const best = evaluate(model, x, a, opts);
    const contenders: Float32Array[] = [
      Float32Array.from(a, Math.abs), // |W x|
      Float32Array.from({ length: x.length }, (_, i) => weight[i % 64]), // the gradient W[0]
      Float32Array.from(x), // the input itself
    ];
    for (let k = 0; k < 200; k++) contenders.push(wave(x.length, 10 + k * 0.37)); // arbitrary orderings
    for (const other of contenders) {
      const r = evaluate(model, x, other, opts);
      for (let s = 0; s < n; s++) {
        expect(best.morf!.aopc[s]).toBeGreaterThanOrEqual(r.morf!.aopc[s] - 1e-5);
        expect(best.lerf!.aopc[s]).toBeLessThanOrEqual(r.lerf!.aopc[s] + 1e-5);
      }
    }
    // and it is strictly better than the arbitrary ones on average
    const rnd = evaluate(model, x, contenders[3], opts);
    expect(best.morf!.summary.mean).toBeGreaterThan(rnd.morf!.summary.mean + 0.1);
    // gradient x input from onehot is the exact contribution here (from 'logit' it is scaled by the logit, whose sign may flip the order)
    const gxi = model.attribute(x, { method: 'gradient-x-input', target: 0, start: 'onehot' });
    const viaGxi = evaluate(model, x, gxi.relevance, opts);
    expect(viaGxi.morf!.aopc).toEqual(best.morf!.aopc);
  });

  it('random order: every region is equally likely at every step, and the mean curve is f(x) - k/R sum(c)', () => {
    // one sample repeated N times: each copy gets its own seeded permutation of the 16 regions
    const N = 4000;
    const R = 16;
    const one = x.subarray(0, 64);
    const xs = new Float32Array(N * 64);
    for (let s = 0; s < N; s++) xs.set(one, s * 64);
    const r = evaluate(model, xs, null, { patch: 2, steps: R, order: 'random', target: 0, seed: 7, batch: 64 });
    const c = contributions(weight, one, 0);
    const region = new Float64Array(R); // contribution of each 2x2 region
    for (let i = 0; i < 64; i++) region[Math.floor(Math.floor(i / 8) / 2) * 4 + Math.floor((i % 8) / 2)] += c[i];
    // recover each permutation from the steps of its curve: f(x_{k-1}) - f(x_k) is the region removed
    const counts = Array.from({ length: R }, () => new Float64Array(R)); // counts[region][step]
    for (let s = 0; s < N; s++)
      for (let k = 1; k <= R; k++) {
        const drop = r.random!.curves[s * (R + 1) + k - 1] - r.random!.curves[s * (R + 1) + k];
        let best = 0;
        for (let q = 1; q < R; q++) if (Math.abs(region[q] - drop) < Math.abs(region[best] - drop)) best = q;
        counts[best][k - 1]++;
      }
    // chi-square over the R x R (region, step) table, expected N / R per cell; df = (R-1)^2 = 225, sd = sqrt(2 df) = 21.2
    const e = N / R;
    let chi2 = 0;
    for (const row of counts) for (const o of row) chi2 += (o - e) ** 2 / e;
    expect(chi2).toBeLessThan(225 + 5 * 21.2);
    expect(chi2).toBeGreaterThan(225 - 5 * 21.2);
    // mean curve vs its expectation; variance of a sum of k of R without replacement: k (R - k) / (R - 1) * var(region)
    const total = region.reduce((p, v) => p + v, 0);
    const mu = total / R;
    const varRegion = region.reduce((p, v) => p + (v - mu) ** 2, 0) / R;
    const f0 = r.random!.meanCurve[0];
    for (let k = 1; k < R; k++) {
      const expected = f0 - (k / R) * total;
      const sd = Math.sqrt(((k * (R - k)) / (R - 1)) * varRegion);
      expect(Math.abs(r.random!.meanCurve[k] - expected)).toBeLessThan((5 * sd) / Math.sqrt(N));
      // the standard error the result reports is that sd over sqrt(N)
      expect(r.random!.stderrCurve[k] / (sd / Math.sqrt(N))).toBeGreaterThan(0.9);
      expect(r.random!.stderrCurve[k] / (sd / Math.sqrt(N))).toBeLessThan(1.1);
    }
    expect(r.random!.meanCurve[R]).toBeCloseTo(f0 - total, 4);
  });

  it('replacements: constant value, the sample mean, blur and seeded uniform noise', () => {
    const a = exact(0);
    const one = x.subarray(0, 64);
    const c = contributions(weight, one, 0);
    const f0 = c.reduce((p, v) => p + v, 0) + bias[0];
    const full = (opts: object) => evaluate(model, one, a.subarray(0, 64), { patch: 1, steps: 64, order: 'morf', target: 0, ...opts }).morf!.curves[64];
    const wsum = weight.subarray(0, 64).reduce((p, v) => p + v, 0);
    // everything replaced: the curve ends at f(replacement image)
    expect(full({ replacement: 'constant', value: 0.5 })).toBeCloseTo(0.5 * wsum + bias[0], 4);
    const mean = one.reduce((p, v) => p + v, 0) / 64;
    expect(full({ replacement: 'mean' })).toBeCloseTo(mean * wsum + bias[0], 4);
    // a blurred image keeps its mean roughly and is smooth; with a tiny sigma it is the image itself
    expect(full({ replacement: 'blur', sigma: 0.01 })).toBeCloseTo(f0, 4);
    expect(full({ replacement: 'blur', sigma: 2 })).not.toBeCloseTo(f0, 2);
    const u1 = full({ replacement: 'uniform', seed: 3 });
    expect(full({ replacement: 'uniform', seed: 3 })).toBe(u1);
    expect(full({ replacement: 'uniform', seed: 4 })).not.toBe(u1);
    // noise in [0, 0]: the constant 0
    expect(full({ replacement: 'uniform', range: [0, 0] })).toBeCloseTo(bias[0], 4);
  });

  it('probability score: the softmax of the target', () => {
    const r = evaluate(model, x, exact(0), { patch: 4, steps: 4, score: 'probability', target: 0 });
    const logits = model.predict(x);
    for (let s = 0; s < n; s++) {
      const row = Array.from(logits.subarray(s * 3, s * 3 + 3));
      const p = Math.exp(row[0]) / row.reduce((q, v) => q + Math.exp(v), 0);
      expect(r.morf!.curves[s * 5]).toBeCloseTo(p, 5);
    }
  });

  it('leaves x and the attributions as they were; the same seed and batch give the same numbers', () => {
    const a = exact(0);
    const xCopy = x.slice();
    const aCopy = a.slice();
    const opts = { patch: 2, steps: 10, order: ['morf', 'lerf', 'random'], replacement: 'uniform', seed: 11 } as const;
    const r1 = evaluate(model, x, a, opts);
    const r2 = evaluate(model, x, a, opts);
    expect(x).toEqual(xCopy);
    expect(a).toEqual(aCopy);
    expect(r2.morf!.curves).toEqual(r1.morf!.curves);
    expect(r2.random!.curves).toEqual(r1.random!.curves);
    // another batch size runs other GEMM blockings: the same up to float32 rounding
    const r4 = evaluate(model, x, a, { ...opts, batch: 5 });
    r4.random!.curves.forEach((v, i) => expect(v).toBeCloseTo(r1.random!.curves[i], 4));
    const r3 = evaluate(model, x, a, { ...opts, seed: 12 });
    expect(r3.random!.curves).not.toEqual(r1.random!.curves);
  });
});
