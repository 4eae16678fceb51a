/**
 * Summary statistics for evaluation results: mean and standard error, Spearman rank correlation
 * and SSIM. All accumulate in float64; none returns NaN (see each function for its edge cases).
 */

/** A mean and its standard error. */
export interface MeanStdErr {
  /** Mean of the values (0 for none). */
  mean: number;
  /** Standard error of the mean (sample standard deviation / sqrt(n)); null for fewer than 2 values. */
  stderr: number | null;
}

/** Mean and standard error of the values. */
export function meanStdErr(values: ArrayLike<number>): MeanStdErr {
  const n = values.length;
  if (n === 0) return { mean: 0, stderr: null };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  if (n < 2) return { mean, stderr: null };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  return { mean, stderr: Math.sqrt(ss / (n - 1) / n) };
}

/** Ranks 1..n, ties get their average rank. */
export function ranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const r = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && values[idx[j]] === values[idx[i]]) j++;
    const avg = (i + j + 1) / 2; // ranks i+1 .. j
    for (let k = i; k < j; k++) r[idx[k]] = avg;
    i = j;
  }
  return r;
}

/** Pearson correlation; 0 when either side is constant (a constant map orders nothing). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return 0;
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}

/** Spearman rank correlation (Pearson of the average ranks); 0 when either side is constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`spearman: lengths differ (${a.length} vs ${b.length})`);
  if (a.length < 2) return 0;
  return pearson(ranks(a), ranks(b));
}

/**
 * Mean structural similarity (Wang et al. 2004) of two H x W maps, over every full window of
 * min(7, H) x min(7, W) pixels (uniform weights, like scikit-image's default), with data range L:
 * C1 = (0.01 L)^2, C2 = (0.03 L)^2. Two identical maps give 1.
 */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, height: number, width: number, dataRange: number): number {
  if (a.length !== height * width || b.length !== height * width) throw new RangeError(`ssim: maps must hold ${height}x${width} values`);
  const wh = Math.min(7, height);
  const ww = Math.min(7, width);
  const c1 = (0.01 * dataRange) ** 2;
  const c2 = (0.03 * dataRange) ** 2;
  const count = wh * ww;
  // unbiased (sample) covariance, as scikit-image does
  const cov = count > 1 ? count / (count - 1) : 1;
  let total = 0;
  let windows = 0;
  for (let y0 = 0; y0 + wh <= height; y0++)
    for (let x0 = 0; x0 + ww <= width; x0++) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let y = y0; y < y0 + wh; y++)
        for (let x = x0; x < x0 + ww; x++) {
          const va = a[y * width + x];
          const vb = b[y * width + x];
          sa += va;
          sb += vb;
          saa += va * va;
          sbb += vb * vb;
          sab += va * vb;
        }
      const ma = sa / count;
      const mb = sb / count;
      const va = (saa / count - ma * ma) * cov;
      const vb = (sbb / count - mb * mb) * cov;
      const vab = (sab / count - ma * mb) * cov;
      total += ((2 * ma * mb + c1) * (2 * vab + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      windows++;
    }
  return total / windows;
}
