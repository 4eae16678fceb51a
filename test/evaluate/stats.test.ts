// Spearman rank correlation and SSIM against values worked out by hand.
import { describe, expect, it } from 'vitest';
import { meanStdErr, spearman, ssim } from '../../src/index.js';

describe('statistics', () => {
  it('mean and standard error', () => {
    const r = meanStdErr([1, 2, 3, 4]);
    expect(r.mean).toBe(2.5);
    expect(r.stderr).toBeCloseTo(Math.sqrt(5 / 3) / 2, 12); // sample sd sqrt(5/3), over sqrt(4)
    expect(meanStdErr([7]).stderr).toBeNull();
  });

  it('spearman: monotone maps give 1 / -1, ties take average ranks, constants give 0', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 1000])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // ranks a = [1, 2.5, 2.5, 4], b = [1, 2, 3, 4]: pearson = 4.5 / sqrt(4.5 * 5)
    expect(spearman([1, 5, 5, 9], [1, 2, 3, 4])).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
    expect(spearman([3, 3, 3], [1, 2, 3])).toBe(0);
  });

  it('ssim: 1 for identical maps; one 7x7 window by the formula', () => {
    const a = Float64Array.from({ length: 49 }, (_, i) => Math.sin(i));
    const b = Float64Array.from({ length: 49 }, (_, i) => Math.cos(i * 0.7));
    expect(ssim(a, a, 7, 7, 2)).toBeCloseTo(1, 12);
    const mean = (v: Float64Array) => v.reduce((p, q) => p + q, 0) / v.length;
    const ma = mean(a);
    const mb = mean(b);
    const cov = (u: Float64Array, mu: number, v: Float64Array, mv: number) => u.reduce((p, q, i) => p + (q - mu) * (v[i] - mv), 0) / (u.length - 1);
    const [c1, c2] = [(0.01 * 2) ** 2, (0.03 * 2) ** 2];
    const want = ((2 * ma * mb + c1) * (2 * cov(a, ma, b, mb) + c2)) / ((ma * ma + mb * mb + c1) * (cov(a, ma, a, ma) + cov(b, mb, b, mb) + c2));
    expect(ssim(a, b, 7, 7, 2)).toBeCloseTo(want, 10);
    expect(ssim(new Float64Array(49), new Float64Array(49), 7, 7, 2)).toBe(1);
  });
});
