/**
 * Reference twins of the row kernels (layer norm and softmax over the last axis, [rows, features]): each row is
 * read into float64 first (so outputs may alias inputs), computed in float64 with the formulas of
 * src/kernels/abi.ts, and rounded once when stored.
 */
import type { Kernels } from '../kernels/abi.js';

type RowKernels = Pick<
  Kernels,
  'layerNormForward' | 'layerNormAttnLrp' | 'layerNormGradient' | 'softmaxForward' | 'softmaxAttnLrp' | 'softmaxGradient'
>;

export function referenceRowKernels(heap: () => Float32Array): RowKernels {
  /** Row r of the [rows, F] array at byte pointer p, in float64 (ones / zeros for a null pointer). */
  const read = (p: number, r: number, F: number, fallback = 0): Float64Array => {
    if (p === 0) return new Float64Array(F).fill(fallback);
    return Float64Array.from(heap().subarray((p >>> 2) + r * F, (p >>> 2) + (r + 1) * F));
  };
  const write = (p: number, r: number, F: number, v: Float64Array) => heap().set(v, (p >>> 2) + r * F);
  const sum = (v: Float64Array) => v.reduce((a, b) => a + b, 0);
  const stats = (x: Float64Array, eps: number) => {
    const mean = sum(x) / x.length;
    const variance = sum(x.map((v) => (v - mean) ** 2)) / x.length;
    return { mean, invStd: 1 / Math.sqrt(variance + eps) };
  };
  const stabilize = (y: number, stab: number) => y + (y >= 0 ? stab : -stab);
  const param = (p: number, F: number, fallback: number) => (p === 0 ? new Float64Array(F).fill(fallback) : read(p, 0, F));

  return {
    layerNormForward(x, w, b, y, rows, F, eps) {
      const wv = param(w, F, 1), bv = param(b, F, 0);
      for (let r = 0; r < rows; r++) {
        const xr = read(x, r, F);
        const { mean, invStd } = stats(xr, eps);
        write(y, r, F, xr.map((v, i) => (v - mean) * invStd * wv[i] + bv[i]));
      }
    },
    layerNormAttnLrp(x, y, w, rel, out, rows, F, eps, stab) {
      const wv = param(w, F, 1);
      for (let r = 0; r < rows; r++) {
        const xr = read(x, r, F), yr = read(y, r, F), rr = read(rel, r, F);
        const { invStd } = stats(xr, eps);
        const wc = rr.map((v, i) => wv[i] * (v / stabilize(yr[i], stab)));
        const k = sum(wc) / F;
        write(out, r, F, xr.map((v, i) => v * invStd * (wc[i] - k)));
      }
    },
    layerNormGradient(x, w, g, out, rows, F, eps) {
      const wv = param(w, F, 1);
      for (let r = 0; r < rows; r++) {
        const xr = read(x, r, F), gr = read(g, r, F);
        const { mean, invStd } = stats(xr, eps);
        const h = gr.map((v, i) => v * wv[i]);
        const xhat = xr.map((v) => (v - mean) * invStd);
        const A = sum(h) / F, B = sum(h.map((v, i) => v * xhat[i])) / F;
        write(out, r, F, h.map((v, i) => invStd * (v - A - xhat[i] * B)));
      }
    },
    softmaxForward(x, y, rows, F) {
      for (let r = 0; r < rows; r++) {
        const xr = read(x, r, F);
        const max = xr.reduce((a, b) => Math.max(a, b), -Infinity);
        const e = xr.map((v) => Math.exp(v - max));
        const total = sum(e);
        write(y, r, F, e.map((v) => v / total));
      }
    },
    softmaxAttnLrp(x, s, rel, out, rows, F) {
      for (let r = 0; r < rows; r++) {
        const xr = read(x, r, F), sr = read(s, r, F), rr = read(rel, r, F);
        const total = sum(rr);
        write(out, r, F, xr.map((v, i) => (v === -Infinity ? 0 : v) * (rr[i] - sr[i] * total)));
      }
    },
    softmaxGradient(s, g, out, rows, F) {
      for (let r = 0; r < rows; r++) {
        const sr = read(s, r, F), gr = read(g, r, F);
        const d = sum(sr.map((v, i) => v * gr[i]));
        write(out, r, F, sr.map((v, i) => v * (gr[i] - d)));
      }
    },
  };
}
