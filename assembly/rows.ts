// Float64 helpers over one row of float32 values (layer norm and softmax work row by row, [rows, features]).
// SIMD bodies promote four float32 lanes to two f64x2 halves; the sums are float64 throughout, so a row of 768
// values keeps float32 accuracy whatever its cancellation.

// @ts-ignore: decorator
@inline export function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }

/** The lower two float32 lanes of v as f64x2. */
// @ts-ignore: decorator
@inline export function lo64(v: v128): v128 { return f64x2.promote_low_f32x4(v); }

/** The upper two float32 lanes of v as f64x2. */
// @ts-ignore: decorator
@inline export function hi64(v: v128): v128 { return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3)); }

/** Two f64x2 rounded to float32 and packed as one f32x4 (lo's lanes first). */
// @ts-ignore: decorator
@inline export function pack32(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** Sum of both lanes. */
// @ts-ignore: decorator
@inline export function lanes(v: v128): f64 { return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1); }

/** Sum of x[0..F) in float64. */
export function rowSum(x: usize, F: i32): f64 {
  let s: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let a = f64x2.splat(0), b = f64x2.splat(0);
    for (; i + 4 <= F; i += 4) {
      const v = v128.load(at(x, i));
      a = f64x2.add(a, lo64(v));
      b = f64x2.add(b, hi64(v));
    }
    s = lanes(f64x2.add(a, b));
  }
  for (; i < F; i++) s += <f64>load<f32>(at(x, i));
  return s;
}

/** Sum of x[i]·y[i] over i < F in float64 (each product exact). */
export function rowDot(x: usize, y: usize, F: i32): f64 {
  let s: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let a = f64x2.splat(0), b = f64x2.splat(0);
    for (; i + 4 <= F; i += 4) {
      const u = v128.load(at(x, i)), v = v128.load(at(y, i));
      a = f64x2.add(a, f64x2.mul(lo64(u), lo64(v)));
      b = f64x2.add(b, f64x2.mul(hi64(u), hi64(v)));
    }
    s = lanes(f64x2.add(a, b));
  }
  for (; i < F; i++) s += <f64>load<f32>(at(x, i)) * <f64>load<f32>(at(y, i));
  return s;
}

/** Sum of (x[i] − m)² over i < F in float64. */
export function rowSquaredDeviation(x: usize, F: i32, m: f64): f64 {
  let s: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f64x2.splat(m);
    let a = f64x2.splat(0), b = f64x2.splat(0);
    for (; i + 4 <= F; i += 4) {
      const v = v128.load(at(x, i));
      const d0 = f64x2.sub(lo64(v), mv), d1 = f64x2.sub(hi64(v), mv);
      a = f64x2.add(a, f64x2.mul(d0, d0));
      b = f64x2.add(b, f64x2.mul(d1, d1));
    }
    s = lanes(f64x2.add(a, b));
  }
  for (; i < F; i++) {
    const d = <f64>load<f32>(at(x, i)) - m;
    s += d * d;
  }
  return s;
}
