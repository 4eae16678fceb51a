// Softmax over the last axis, layout [rows, features], and its two backward maps. The forward subtracts the row's
// maximum, takes exp in float64 (exp64), sums in float64 and rounds each output once. Outputs may alias inputs.
import { SMALL_WORKSPACE_BYTES, workspace } from "./common";
import { exp64, exp64x2 } from "./exp64";
import { at, hi64, lanes, lo64, pack32, rowDot, rowSum } from "./rows";

// @ts-ignore: decorator
@inline function row(p: usize, r: i32, F: i32): usize { return p + ((<usize>r * <usize>F) << 2); }

function rowMax(x: usize, F: i32): f32 {
  let m: f32 = -Infinity;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    if (F >= 4) {
      let v = v128.load(x);
      for (i = 4; i + 4 <= F; i += 4) v = f32x4.max(v, v128.load(at(x, i)));
      m = Mathf.max(Mathf.max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), Mathf.max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
    }
  }
  for (; i < F; i++) m = Mathf.max(m, load<f32>(at(x, i)));
  return m;
}

/** Rows up to this length keep their float64 exponentials in the static workspace (idle outside the GEMM). */
const CACHED_ROW: i32 = <i32>(SMALL_WORKSPACE_BYTES >> 3);

/** y = exp(x − max) / sum_row exp(x − max) */
export function softmax_forward_f32(x: usize, y: usize, rows: i32, F: i32): void {
  if (F <= CACHED_ROW) softmaxCached(x, y, rows, F);
  else softmaxRecomputed(x, y, rows, F);
}

/**
 * sum_i exp(x_i − m) over one row, in float64; with `cache` ≠ 0 each exp is also stored there (float64) for the
 * division, so the row's exponentials are computed once.
 */
function rowExpSum(xr: usize, F: i32, m: f64, cache: usize): f64 {
  let sum: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f64x2.splat(m);
    let a = f64x2.splat(0), b = f64x2.splat(0);
    for (; i + 4 <= F; i += 4) {
      const v = v128.load(at(xr, i));
      const e0 = exp64x2(f64x2.sub(lo64(v), mv)), e1 = exp64x2(f64x2.sub(hi64(v), mv));
      if (cache) {
        v128.store(cache + (<usize>i << 3), e0);
        v128.store(cache + (<usize>i << 3), e1, 16);
      }
      a = f64x2.add(a, e0);
      b = f64x2.add(b, e1);
    }
    sum = lanes(f64x2.add(a, b));
  }
  for (; i < F; i++) {
    const ev = exp64(<f64>load<f32>(at(xr, i)) - m);
    if (cache) store<f64>(cache + (<usize>i << 3), ev);
    sum += ev;
  }
  return sum;
}

/** exp computed once per element, kept in float64 between the sum and the division (same values as below). */
function softmaxCached(x: usize, y: usize, rows: i32, F: i32): void {
  const e = workspace();
  for (let r = 0; r < rows; r++) {
    const xr = row(x, r, F), yr = row(y, r, F);
    const inv = 1 / rowExpSum(xr, F, <f64>rowMax(xr, F), e);
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const s = f64x2.splat(inv);
      for (; i + 4 <= F; i += 4) {
        const p = e + (<usize>i << 3);
        v128.store(at(yr, i), pack32(f64x2.mul(v128.load(p), s), f64x2.mul(v128.load(p, 16), s)));
      }
    }
    for (; i < F; i++) store<f32>(at(yr, i), <f32>(load<f64>(e + (<usize>i << 3)) * inv));
  }
}

/** Rows too long for the workspace: exp computed twice per element. */
function softmaxRecomputed(x: usize, y: usize, rows: i32, F: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = row(x, r, F), yr = row(y, r, F);
    const m = <f64>rowMax(xr, F);
    const inv = 1 / rowExpSum(xr, F, m, 0);
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const mv = f64x2.splat(m), s = f64x2.splat(inv);
      for (; i + 4 <= F; i += 4) {
        const v = v128.load(at(xr, i));
        v128.store(at(yr, i), pack32(f64x2.mul(exp64x2(f64x2.sub(lo64(v), mv)), s), f64x2.mul(exp64x2(f64x2.sub(hi64(v), mv)), s)));
      }
    }
    for (; i < F; i++) store<f32>(at(yr, i), <f32>(exp64(<f64>load<f32>(at(xr, i)) - m) * inv));
  }
}

/**
 * AttnLRP's softmax rule (Prop. 3.1): out = x·(r − s·sum_row r), s the forward output. An input of −∞ (a masked
 * position) counts as 0 there, as in LXT: it gets no relevance instead of NaN.
 */
export function softmax_attnlrp_f32(x: usize, s: usize, rel: usize, out: usize, rows: i32, F: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = row(x, r, F), sr = row(s, r, F), rr = row(rel, r, F), or = row(out, r, F);
    const total = rowSum(rr, F);
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const t = f64x2.splat(total), ninf = f32x4.splat(-Infinity);
      for (; i + 4 <= F; i += 4) {
        const xraw = v128.load(at(xr, i));
        const xv = v128.andnot(xraw, f32x4.eq(xraw, ninf));
        const sv = v128.load(at(sr, i)), rv = v128.load(at(rr, i));
        const o0 = f64x2.mul(lo64(xv), f64x2.sub(lo64(rv), f64x2.mul(lo64(sv), t)));
        const o1 = f64x2.mul(hi64(xv), f64x2.sub(hi64(rv), f64x2.mul(hi64(sv), t)));
        v128.store(at(or, i), pack32(o0, o1));
      }
    }
    for (; i < F; i++) {
      const xv = load<f32>(at(xr, i));
      const xs: f64 = xv == -Infinity ? 0 : <f64>xv;
      store<f32>(at(or, i), <f32>(xs * (<f64>load<f32>(at(rr, i)) - <f64>load<f32>(at(sr, i)) * total)));
    }
  }
}

/** The input gradient: out = s·(g − sum_row(g·s)), s the forward output. */
export function softmax_gradient_f32(s: usize, g: usize, out: usize, rows: i32, F: i32): void {
  for (let r = 0; r < rows; r++) {
    const sr = row(s, r, F), gr = row(g, r, F), or = row(out, r, F);
    const d = rowDot(gr, sr, F);
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const dv = f64x2.splat(d);
      for (; i + 4 <= F; i += 4) {
        const sv = v128.load(at(sr, i)), gv = v128.load(at(gr, i));
        v128.store(at(or, i), pack32(f64x2.mul(lo64(sv), f64x2.sub(lo64(gv), dv)), f64x2.mul(hi64(sv), f64x2.sub(hi64(gv), dv))));
      }
    }
    for (; i < F; i++) store<f32>(at(or, i), <f32>(<f64>load<f32>(at(sr, i)) * (<f64>load<f32>(at(gr, i)) - d)));
  }
}
