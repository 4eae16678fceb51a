// PReLU with one slope per channel, layout [n, C, inner]: y = x > 0 ? x : slope[c] * x, and its input gradient.
// Float32 products are rounded once, so the SIMD body, the scalar tail and the scalar build agree bit for bit.
// Outputs may alias inputs.

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }

/** y = x > 0 ? x : slope[c] * x */
export function prelu_forward_f32(x: usize, slope: usize, y: usize, n: i32, channels: i32, inner: i32): void {
  let base = 0;
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < channels; c++) {
      const sl = load<f32>(at(slope, c));
      const xs = at(x, base), ys = at(y, base);
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        const sv = f32x4.splat(sl), z = f32x4.splat(0);
        for (; i + 4 <= inner; i += 4) {
          const v = v128.load(at(xs, i));
          v128.store(at(ys, i), v128.bitselect(v, f32x4.mul(sv, v), f32x4.gt(v, z)));
        }
      }
      for (; i < inner; i++) {
        const v = load<f32>(at(xs, i));
        store<f32>(at(ys, i), v > 0 ? v : sl * v);
      }
      base += inner;
    }
  }
}

/** out = g * (x > 0 ? 1 : slope[c])  (the slope at x = 0, as PyTorch's prelu backward) */
export function prelu_gradient_f32(x: usize, slope: usize, g: usize, out: usize, n: i32, channels: i32, inner: i32): void {
  let base = 0;
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < channels; c++) {
      const sl = load<f32>(at(slope, c));
      const xs = at(x, base), gs = at(g, base), os = at(out, base);
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        const sv = f32x4.splat(sl), one = f32x4.splat(1), z = f32x4.splat(0);
        for (; i + 4 <= inner; i += 4) {
          const d = v128.bitselect(one, sv, f32x4.gt(v128.load(at(xs, i)), z));
          v128.store(at(os, i), f32x4.mul(v128.load(at(gs, i)), d));
        }
      }
      for (; i < inner; i++) {
        const d: f32 = load<f32>(at(xs, i)) > 0 ? 1 : sl;
        store<f32>(at(os, i), load<f32>(at(gs, i)) * d);
      }
      base += inner;
    }
  }
}
