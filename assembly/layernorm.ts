// Layer normalisation over the last axis, layout [rows, features]: y = (x − mean)/sqrt(var + eps)·w + b, with the
// row's mean and variance in float64 and every output computed in float64 and rounded once. A weight or bias
// pointer of 0 means none (w = 1, b = 0). Outputs may alias the inputs: each row's statistics are taken before
// its outputs are written, and each output element is written after the last read of its own inputs.
import { at, hi64, lanes, lo64, pack32, rowSquaredDeviation, rowSum } from "./rows";

// the statistics of the current row (set by stats())
let mean: f64 = 0;
let invStd: f64 = 0;

// @ts-ignore: decorator
@inline function stats(x: usize, F: i32, eps: f64): void {
  mean = rowSum(x, F) / <f64>F;
  invStd = 1 / Math.sqrt(rowSquaredDeviation(x, F, mean) / <f64>F + eps);
}

// @ts-ignore: decorator
@inline function row(p: usize, r: i32, F: i32): usize { return p + ((<usize>r * <usize>F) << 2); }

// @ts-ignore: decorator
@inline function vecOr(p: usize, i: i32, fallback: v128): v128 { return p != 0 ? v128.load(at(p, i)) : fallback; }

// @ts-ignore: decorator
@inline function valOr(p: usize, i: i32, fallback: f64): f64 { return p != 0 ? <f64>load<f32>(at(p, i)) : fallback; }

/** y = ((x − mean)·invStd)·w + b per row. */
export function layer_norm_forward_f32(x: usize, w: usize, b: usize, y: usize, rows: i32, F: i32, eps: f64): void {
  for (let r = 0; r < rows; r++) {
    const xr = row(x, r, F), yr = row(y, r, F);
    stats(xr, F, eps);
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const m = f64x2.splat(mean), s = f64x2.splat(invStd), one = f32x4.splat(1), zero = f32x4.splat(0);
      for (; i + 4 <= F; i += 4) {
        const v = v128.load(at(xr, i)), wv = vecOr(w, i, one), bv = vecOr(b, i, zero);
        const lo = f64x2.add(f64x2.mul(f64x2.mul(f64x2.sub(lo64(v), m), s), lo64(wv)), lo64(bv));
        const hi = f64x2.add(f64x2.mul(f64x2.mul(f64x2.sub(hi64(v), m), s), hi64(wv)), hi64(bv));
        v128.store(at(yr, i), pack32(lo, hi));
      }
    }
    for (; i < F; i++) {
      store<f32>(at(yr, i), <f32>(((<f64>load<f32>(at(xr, i)) - mean) * invStd) * valOr(w, i, 1) + valOr(b, i, 0)));
    }
  }
}

/**
 * AttnLRP's relevance (identity rule on the division by the std, epsilon rule on the rest):
 * c = r / (y + stab·sign(y)) (sign(0) = +1), k = mean_j(w_j c_j), out_i = (x_i·invStd)·(w_i c_i − k).
 * y is the forward output (with the bias).
 */
export function layer_norm_attnlrp_f32(x: usize, y: usize, w: usize, rel: usize, out: usize, rows: i32, F: i32, eps: f64, stab: f64): void {
  for (let r = 0; r < rows; r++) {
    const xr = row(x, r, F), yr = row(y, r, F), rr = row(rel, r, F), or = row(out, r, F);
    stats(xr, F, eps);
    // k = mean of w·c
    let sum: f64 = 0;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const one = f32x4.splat(1), z = f64x2.splat(0), sp = f64x2.splat(stab), sn = f64x2.splat(-stab);
      let a = f64x2.splat(0), b = f64x2.splat(0);
      for (; i + 4 <= F; i += 4) {
        const yv = v128.load(at(yr, i)), rv = v128.load(at(rr, i)), wv = vecOr(w, i, one);
        const y0 = lo64(yv), y1 = hi64(yv);
        const c0 = f64x2.div(lo64(rv), f64x2.add(y0, v128.bitselect(sp, sn, f64x2.ge(y0, z))));
        const c1 = f64x2.div(hi64(rv), f64x2.add(y1, v128.bitselect(sp, sn, f64x2.ge(y1, z))));
        a = f64x2.add(a, f64x2.mul(lo64(wv), c0));
        b = f64x2.add(b, f64x2.mul(hi64(wv), c1));
      }
      sum = lanes(f64x2.add(a, b));
    }
    for (; i < F; i++) {
      const yv = <f64>load<f32>(at(yr, i));
      sum += valOr(w, i, 1) * (<f64>load<f32>(at(rr, i)) / (yv + (yv >= 0 ? stab : -stab)));
    }
    const k = sum / <f64>F;
    i = 0;
    if (ASC_FEATURE_SIMD) {
      const one = f32x4.splat(1), z = f64x2.splat(0), sp = f64x2.splat(stab), sn = f64x2.splat(-stab);
      const kv = f64x2.splat(k), s = f64x2.splat(invStd);
      for (; i + 4 <= F; i += 4) {
        const xv = v128.load(at(xr, i)), yv = v128.load(at(yr, i)), rv = v128.load(at(rr, i)), wv = vecOr(w, i, one);
        const y0 = lo64(yv), y1 = hi64(yv);
        const c0 = f64x2.div(lo64(rv), f64x2.add(y0, v128.bitselect(sp, sn, f64x2.ge(y0, z))));
        const c1 = f64x2.div(hi64(rv), f64x2.add(y1, v128.bitselect(sp, sn, f64x2.ge(y1, z))));
        const o0 = f64x2.mul(f64x2.mul(lo64(xv), s), f64x2.sub(f64x2.mul(lo64(wv), c0), kv));
        const o1 = f64x2.mul(f64x2.mul(hi64(xv), s), f64x2.sub(f64x2.mul(hi64(wv), c1), kv));
        v128.store(at(or, i), pack32(o0, o1));
      }
    }
    for (; i < F; i++) {
      const yv = <f64>load<f32>(at(yr, i));
      const c = <f64>load<f32>(at(rr, i)) / (yv + (yv >= 0 ? stab : -stab));
      store<f32>(at(or, i), <f32>((<f64>load<f32>(at(xr, i)) * invStd) * (valOr(w, i, 1) * c - k)));
    }
  }
}

/**
 * The exact input gradient (vector-Jacobian product, the variance included): with h = g·w and xhat = (x − mean)·invStd,
 * A = mean_j(h_j), B = mean_j(h_j·xhat_j): out_i = invStd·(h_i − A − xhat_i·B).
 */
export function layer_norm_gradient_f32(x: usize, w: usize, g: usize, out: usize, rows: i32, F: i32, eps: f64): void {
  for (let r = 0; r < rows; r++) {
    const xr = row(x, r, F), gr = row(g, r, F), or = row(out, r, F);
    stats(xr, F, eps);
    let sa: f64 = 0, sb: f64 = 0;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const one = f32x4.splat(1), m = f64x2.splat(mean), s = f64x2.splat(invStd);
      let a = f64x2.splat(0), b = f64x2.splat(0);
      for (; i + 4 <= F; i += 4) {
        const xv = v128.load(at(xr, i)), gv = v128.load(at(gr, i)), wv = vecOr(w, i, one);
        const h0 = f64x2.mul(lo64(gv), lo64(wv)), h1 = f64x2.mul(hi64(gv), hi64(wv));
        a = f64x2.add(a, f64x2.add(h0, h1));
        const d0 = f64x2.mul(f64x2.sub(lo64(xv), m), s), d1 = f64x2.mul(f64x2.sub(hi64(xv), m), s);
        b = f64x2.add(b, f64x2.add(f64x2.mul(h0, d0), f64x2.mul(h1, d1)));
      }
      sa = lanes(a);
      sb = lanes(b);
    }
    for (; i < F; i++) {
      const h = <f64>load<f32>(at(gr, i)) * valOr(w, i, 1);
      sa += h;
      sb += h * ((<f64>load<f32>(at(xr, i)) - mean) * invStd);
    }
    const A = sa / <f64>F, B = sb / <f64>F;
    i = 0;
    if (ASC_FEATURE_SIMD) {
      const one = f32x4.splat(1), m = f64x2.splat(mean), s = f64x2.splat(invStd), av = f64x2.splat(A), bv = f64x2.splat(B);
      for (; i + 4 <= F; i += 4) {
        const xv = v128.load(at(xr, i)), gv = v128.load(at(gr, i)), wv = vecOr(w, i, one);
        const h0 = f64x2.mul(lo64(gv), lo64(wv)), h1 = f64x2.mul(hi64(gv), hi64(wv));
        const d0 = f64x2.mul(f64x2.sub(lo64(xv), m), s), d1 = f64x2.mul(f64x2.sub(hi64(xv), m), s);
        const o0 = f64x2.mul(s, f64x2.sub(f64x2.sub(h0, av), f64x2.mul(d0, bv)));
        const o1 = f64x2.mul(s, f64x2.sub(f64x2.sub(h1, av), f64x2.mul(d1, bv)));
        v128.store(at(or, i), pack32(o0, o1));
      }
    }
    for (; i < F; i++) {
      const h = <f64>load<f32>(at(gr, i)) * valOr(w, i, 1);
      const d = (<f64>load<f32>(at(xr, i)) - mean) * invStd;
      store<f32>(at(or, i), <f32>(invStd * ((h - A) - d * B)));
    }
  }
}
