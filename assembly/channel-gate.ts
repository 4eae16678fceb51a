// Per-sample channel gate (squeeze-excitation), layout [n, C, inner] with the gate [n, C]: the forward product and
// the gate's gradient (a per-channel dot product over the spatial positions).

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }

/** y[s,c,i] = x[s,c,i] * gate[s,c]  (y may alias x) */
export function channel_mul_f32(x: usize, gate: usize, y: usize, n: i32, channels: i32, inner: i32): void {
  let base = 0;
  for (let sc = 0; sc < n * channels; sc++) {
    const gv = load<f32>(at(gate, sc));
    const xs = at(x, base), ys = at(y, base);
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const gs = f32x4.splat(gv);
      for (; i + 4 <= inner; i += 4) v128.store(at(ys, i), f32x4.mul(v128.load(at(xs, i)), gs));
    }
    for (; i < inner; i++) store<f32>(at(ys, i), load<f32>(at(xs, i)) * gv);
    base += inner;
  }
}

/**
 * out[s,c] = (accumulate ? out[s,c] : 0) + sum_i a[s,c,i] * b[s,c,i]. The products of two float32 are exact in
 * float64 and are summed in float64 (two f64x2 accumulators), then rounded once: global sums over large images
 * keep float32 accuracy.
 */
export function channel_dot_f32(a: usize, b: usize, out: usize, n: i32, channels: i32, inner: i32, accumulate: i32): void {
  let base = 0;
  for (let sc = 0; sc < n * channels; sc++) {
    const as = at(a, base), bs = at(b, base);
    let sum: f64 = 0;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      let lo = f64x2.splat(0), hi = f64x2.splat(0);
      for (; i + 4 <= inner; i += 4) {
        const av = v128.load(at(as, i)), bv = v128.load(at(bs, i));
        lo = f64x2.add(lo, f64x2.mul(f64x2.promote_low_f32x4(av), f64x2.promote_low_f32x4(bv)));
        const ah = v128.shuffle<f32>(av, av, 2, 3, 2, 3), bh = v128.shuffle<f32>(bv, bv, 2, 3, 2, 3);
        hi = f64x2.add(hi, f64x2.mul(f64x2.promote_low_f32x4(ah), f64x2.promote_low_f32x4(bh)));
      }
      const t = f64x2.add(lo, hi);
      sum = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
    }
    for (; i < inner; i++) sum += <f64>load<f32>(at(as, i)) * <f64>load<f32>(at(bs, i));
    const o = at(out, sc);
    store<f32>(o, <f32>(accumulate ? <f64>load<f32>(o) + sum : sum));
    base += inner;
  }
}
