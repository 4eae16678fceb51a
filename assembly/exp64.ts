// exp and expm1 in float64, each written twice with the very same IEEE operations: once for a scalar and once for
// the two lanes of an f64x2 (no fused multiply-add), so the SIMD body, the scalar tail and the scalar build of an
// activation produce the same bits. Accurate to ~2e-13 relative, far below the float32 rounding (2^-24) the
// activations end with; several times cheaper than a call to Math.exp per element, and two lanes at a time.
//
// exp(x) = 2^k * e^r with k = nearest(x / ln2), r = x - k ln2 (ln2 split in two parts so k * LN2_HI is exact),
// |r| <= ln2/2, and e^r by its Taylor polynomial of degree 10 (remainder < 0.35^11/11! = 2.2e-13).
// Domain: x <= 709; below -708 the result is 0 (it is far below float32's smallest denormal, 1.4e-45).

const LOG2E: f64 = 1.4426950408889634;
const SHIFT: f64 = 6755399441055744.0; // 1.5 * 2^52: adding it rounds to an integer held in the low mantissa bits
const LN2_HI: f64 = 6.93147180369123816490e-01; // ln 2 with its low 21 bits zero
const LN2_LO: f64 = 1.90821492927058770002e-10; // ln 2 - LN2_HI
const MIN_X: f64 = -708;
const EXPM1_SMALL: f64 = 0.34657359027997264; // ln2/2: below it, expm1 uses its own series (exp - 1 would cancel)

// 1/n! for n = 2..11
const C2: f64 = 1.0 / 2;
const C3: f64 = 1.0 / 6;
const C4: f64 = 1.0 / 24;
const C5: f64 = 1.0 / 120;
const C6: f64 = 1.0 / 720;
const C7: f64 = 1.0 / 5040;
const C8: f64 = 1.0 / 40320;
const C9: f64 = 1.0 / 362880;
const C10: f64 = 1.0 / 3628800;
const C11: f64 = 1.0 / 39916800;

/** e^x for x <= 709 (0 below -708); NaN for NaN. */
// @ts-ignore: decorator
@inline export function exp64(x: f64): f64 {
  const xc = Math.max(x, MIN_X);
  const t = xc * LOG2E + SHIFT;
  const k = t - SHIFT;
  const r = (xc - k * LN2_HI) - k * LN2_LO;
  let p = C10 * r + C9;
  p = p * r + C8;
  p = p * r + C7;
  p = p * r + C6;
  p = p * r + C5;
  p = p * r + C4;
  p = p * r + C3;
  p = p * r + C2;
  p = p * r + 1;
  p = p * r + 1;
  const scale = reinterpret<f64>((reinterpret<i64>(t) + 1023) << 52); // 2^k
  return x < MIN_X ? 0 : p * scale;
}

/** e^x - 1 for x <= 709, accurate also near 0; NaN for NaN. */
// @ts-ignore: decorator
@inline export function expm1_64(x: f64): f64 {
  let q = C11 * x + C10;
  q = q * x + C9;
  q = q * x + C8;
  q = q * x + C7;
  q = q * x + C6;
  q = q * x + C5;
  q = q * x + C4;
  q = q * x + C3;
  q = q * x + C2;
  q = q * x + 1;
  const series = q * x; // remainder < 0.35^12/12! relative to x: 2e-14
  const viaExp = exp64(x) - 1;
  return Math.abs(x) < EXPM1_SMALL ? series : viaExp;
}

/** exp64 on both lanes of an f64x2. */
// @ts-ignore: decorator
@inline export function exp64x2(x: v128): v128 {
  const xc = f64x2.max(x, f64x2.splat(MIN_X));
  const t = f64x2.add(f64x2.mul(xc, f64x2.splat(LOG2E)), f64x2.splat(SHIFT));
  const k = f64x2.sub(t, f64x2.splat(SHIFT));
  const r = f64x2.sub(f64x2.sub(xc, f64x2.mul(k, f64x2.splat(LN2_HI))), f64x2.mul(k, f64x2.splat(LN2_LO)));
  let p = f64x2.add(f64x2.mul(f64x2.splat(C10), r), f64x2.splat(C9));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(C8));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(C7));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(C6));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(C5));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(C4));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(C3));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(C2));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1));
  const scale = i64x2.shl(i64x2.add(t, i64x2.splat(1023)), 52);
  return v128.andnot(f64x2.mul(p, scale), f64x2.lt(x, f64x2.splat(MIN_X)));
}

/** expm1_64 on both lanes of an f64x2. */
// @ts-ignore: decorator
@inline export function expm1_64x2(x: v128): v128 {
  let q = f64x2.add(f64x2.mul(f64x2.splat(C11), x), f64x2.splat(C10));
  q = f64x2.add(f64x2.mul(q, x), f64x2.splat(C9));
  q = f64x2.add(f64x2.mul(q, x), f64x2.splat(C8));
  q = f64x2.add(f64x2.mul(q, x), f64x2.splat(C7));
  q = f64x2.add(f64x2.mul(q, x), f64x2.splat(C6));
  q = f64x2.add(f64x2.mul(q, x), f64x2.splat(C5));
  q = f64x2.add(f64x2.mul(q, x), f64x2.splat(C4));
  q = f64x2.add(f64x2.mul(q, x), f64x2.splat(C3));
  q = f64x2.add(f64x2.mul(q, x), f64x2.splat(C2));
  q = f64x2.add(f64x2.mul(q, x), f64x2.splat(1));
  const series = f64x2.mul(q, x);
  const viaExp = f64x2.sub(exp64x2(x), f64x2.splat(1));
  return v128.bitselect(series, viaExp, f64x2.lt(f64x2.abs(x), f64x2.splat(EXPM1_SMALL)));
}
