// SIGMOID and SILU (and their derivatives) in float32, four lanes at a time: EfficientNet applies SiLU to every
// feature map, so these two get a float32 exp instead of the f64x2 path of the other kinds (about 2x slower,
// bench/kernels.mjs), at the price of a few float32 ulps instead of one rounding. Each function exists twice with
// the same IEEE float32 operations in the same order (a scalar one for the tail and the scalar build, an f32x4
// one), so an element gets the same bits wherever it sits.
//
// e^{-|x|} = p * 2^n: n = nearest(-|x| / ln2) by the 1.5 * 2^23 shifter, r = -|x| - n ln2 (ln2 in two parts,
// n * LN2_HI exact), p = 1 + r + r^2 P(r) with P our Chebyshev fit of (e^r - 1 - r) / r^2 on [-ln2/2, ln2/2]
// (max error 0.94 float32 ulp over [-104, 0]). 2^n is applied last, in two factors (n goes down to -246), so a
// result is rounded into the denormal range at most once and normal results keep their relative accuracy.
// Below x = -170 every result is 0 (SILU's factor x is zeroed explicitly: x e^x underflows there, x * 2^n need not).
// Measured max error against the float64 reference: see tolerance() in test/kernels/activations.test.ts.

const LOG2E: f32 = 1.44269504;
const SHIFT: f32 = 12582912.0; // 1.5 * 2^23
const SHIFT_BITS: i32 = 0x4b400000; // reinterpret<i32>(SHIFT)
const LN2_HI: f32 = 0.693359375; // 355/512
const LN2_LO: f32 = -2.12194442e-4; // ln2 - LN2_HI
const MIN_Y: f32 = -170; // |x| e^-|x| < 2^-150 below it (rounds to 0); 2^n's two factors stay normal down to here
const P5: f32 = 1.98909809e-4;
const P4: f32 = 1.39336416e-3;
const P3: f32 = 8.33331048e-3;
const P2: f32 = 4.16664667e-2;
const P1: f32 = 1.66666672e-1;
const P0: f32 = 0.5;
const ONE: f32 = 1;

// ---- scalar -------------------------------------------------------------------------------------------------

/** -|x| clamped to MIN_Y (NaN stays NaN) */
// @ts-ignore: decorator
@inline function negAbs(x: f32): f32 { return Mathf.max(-Mathf.abs(x), MIN_Y); }
/** nearest(y / ln2) + SHIFT: n as a float in t - SHIFT, as an integer in its low mantissa bits */
// @ts-ignore: decorator
@inline function shifted(y: f32): f32 { return y * LOG2E + SHIFT; }
/** p = e^(y - n ln2) in [0.7, 1.42] */
// @ts-ignore: decorator
@inline function reduced(y: f32, t: f32): f32 {
  const n = t - SHIFT;
  const r = (y - n * LN2_HI) - n * LN2_LO;
  let q = P5 * r + P4;
  q = q * r + P3;
  q = q * r + P2;
  q = q * r + P1;
  q = q * r + P0;
  return ONE + (r + (r * r) * q);
}
/** 2^(n >> 1) and 2^(n - (n >> 1)): two normal factors of 2^n for n >= -150 */
// @ts-ignore: decorator
@inline function scaleLo(t: f32): f32 { return reinterpret<f32>((((reinterpret<i32>(t) - SHIFT_BITS) >> 1) + 127) << 23); }
// @ts-ignore: decorator
@inline function scaleHi(t: f32): f32 {
  const n = reinterpret<i32>(t) - SHIFT_BITS;
  return reinterpret<f32>(((n - (n >> 1)) + 127) << 23);
}

/** 1 / (1 + e^-x) */
export function sigmoid32(x: f32): f32 {
  const y = negAbs(x), t = shifted(y), p = reduced(y, t), s1 = scaleLo(t), s2 = scaleHi(t);
  const q = (x >= 0 ? ONE : p) / (ONE + (p * s1) * s2); // one division for both branches
  return x >= 0 ? q : (q * s1) * s2;
}
/** x / (1 + e^-x) */
export function silu32(x: f32): f32 {
  const y = negAbs(x), t = shifted(y), p = reduced(y, t), s1 = scaleLo(t), s2 = scaleHi(t);
  const q = (x >= 0 ? x : x * p) / (ONE + (p * s1) * s2);
  if (x < MIN_Y) return 0;
  return x >= 0 ? q : (q * s1) * s2;
}
/** sigmoid'(x) = e / (1 + e)^2, e = e^-|x| */
export function sigmoidDerivative32(x: f32): f32 {
  const y = negAbs(x), t = shifted(y), p = reduced(y, t), s1 = scaleLo(t), s2 = scaleHi(t);
  const d = ONE + (p * s1) * s2;
  return ((p / (d * d)) * s1) * s2;
}
/** silu'(x) = s(x) (1 + x s(-x)) */
export function siluDerivative32(x: f32): f32 {
  const y = negAbs(x), t = shifted(y), p = reduced(y, t), s1 = scaleLo(t), s2 = scaleHi(t);
  const e = (p * s1) * s2;
  const q = ONE / (ONE + e); // s(x) for x >= 0, s(-x) below
  if (x < MIN_Y) return 0;
  return x >= 0 ? (ONE + x * (e * q)) * q : (((p * q) * (ONE + x * q)) * s1) * s2;
}

// ---- f32x4: the same operations ---------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function negAbs4(x: v128): v128 { return f32x4.max(f32x4.neg(f32x4.abs(x)), f32x4.splat(MIN_Y)); }
// @ts-ignore: decorator
@inline function shifted4(y: v128): v128 { return f32x4.add(f32x4.mul(y, f32x4.splat(LOG2E)), f32x4.splat(SHIFT)); }
// @ts-ignore: decorator
@inline function reduced4(y: v128, t: v128): v128 {
  const n = f32x4.sub(t, f32x4.splat(SHIFT));
  const r = f32x4.sub(f32x4.sub(y, f32x4.mul(n, f32x4.splat(LN2_HI))), f32x4.mul(n, f32x4.splat(LN2_LO)));
  let q = f32x4.add(f32x4.mul(f32x4.splat(P5), r), f32x4.splat(P4));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(P3));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(P2));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(P1));
  q = f32x4.add(f32x4.mul(q, r), f32x4.splat(P0));
  return f32x4.add(f32x4.splat(1), f32x4.add(r, f32x4.mul(f32x4.mul(r, r), q)));
}
// @ts-ignore: decorator
@inline function scaleLo4(t: v128): v128 {
  const n = i32x4.sub(t, i32x4.splat(SHIFT_BITS));
  return i32x4.shl(i32x4.add(i32x4.shr_s(n, 1), i32x4.splat(127)), 23);
}
// @ts-ignore: decorator
@inline function scaleHi4(t: v128): v128 {
  const n = i32x4.sub(t, i32x4.splat(SHIFT_BITS));
  return i32x4.shl(i32x4.add(i32x4.sub(n, i32x4.shr_s(n, 1)), i32x4.splat(127)), 23);
}
// @ts-ignore: decorator
@inline function scaled4(v: v128, s1: v128, s2: v128): v128 { return f32x4.mul(f32x4.mul(v, s1), s2); }

// @ts-ignore: decorator
@inline export function sigmoid32x4(x: v128): v128 {
  const y = negAbs4(x), t = shifted4(y), p = reduced4(y, t), s1 = scaleLo4(t), s2 = scaleHi4(t);
  const pos = f32x4.ge(x, f32x4.splat(0));
  const q = f32x4.div(v128.bitselect(f32x4.splat(1), p, pos), f32x4.add(f32x4.splat(1), scaled4(p, s1, s2)));
  return v128.bitselect(q, scaled4(q, s1, s2), pos);
}
// @ts-ignore: decorator
@inline export function silu32x4(x: v128): v128 {
  const y = negAbs4(x), t = shifted4(y), p = reduced4(y, t), s1 = scaleLo4(t), s2 = scaleHi4(t);
  const pos = f32x4.ge(x, f32x4.splat(0));
  const q = f32x4.div(v128.bitselect(x, f32x4.mul(x, p), pos), f32x4.add(f32x4.splat(1), scaled4(p, s1, s2)));
  const r = v128.bitselect(q, scaled4(q, s1, s2), pos);
  return v128.andnot(r, f32x4.lt(x, f32x4.splat(MIN_Y)));
}
// @ts-ignore: decorator
@inline export function sigmoidDerivative32x4(x: v128): v128 {
  const y = negAbs4(x), t = shifted4(y), p = reduced4(y, t), s1 = scaleLo4(t), s2 = scaleHi4(t);
  const d = f32x4.add(f32x4.splat(1), scaled4(p, s1, s2));
  return scaled4(f32x4.div(p, f32x4.mul(d, d)), s1, s2);
}
// @ts-ignore: decorator
@inline export function siluDerivative32x4(x: v128): v128 {
  const y = negAbs4(x), t = shifted4(y), p = reduced4(y, t), s1 = scaleLo4(t), s2 = scaleHi4(t);
  const e = scaled4(p, s1, s2);
  const one = f32x4.splat(1);
  const q = f32x4.div(one, f32x4.add(one, e));
  const posBranch = f32x4.mul(f32x4.add(one, f32x4.mul(x, f32x4.mul(e, q))), q);
  const negBranch = scaled4(f32x4.mul(f32x4.mul(p, q), f32x4.add(one, f32x4.mul(x, q))), s1, s2);
  const r = v128.bitselect(posBranch, negBranch, f32x4.ge(x, f32x4.splat(0)));
  return v128.andnot(r, f32x4.lt(x, f32x4.splat(MIN_Y)));
}
