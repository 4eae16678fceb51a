// Element-wise kernels over float32 arrays (len = number of floats). Every loop runs 4 lanes at
// a time with a scalar tail; outputs may alias inputs (each element is read before it is written).
import { madd } from "./common";

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }

/** r / (z + eps · (z >= 0 ? 1 : -1)): the stabilised division of the rules (pe = eps, ne = -eps, zero = 0). */
// @ts-ignore: decorator
@inline function stabDiv4(r: v128, z: v128, pe: v128, ne: v128, zero: v128): v128 {
  return f32x4.div(r, f32x4.add(z, v128.bitselect(pe, ne, f32x4.ge(z, zero))));
}
// @ts-ignore: decorator
@inline function stabDiv(r: f32, z: f32, eps: f32): f32 {
  return r / (z + (z >= 0 ? eps : -eps));
}

/** y = max(x, 0) */
export function relu_f32(x: usize, y: usize, len: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    for (; i + 4 <= len; i += 4) v128.store(at(y, i), f32x4.pmax(z, v128.load(at(x, i))));
  }
  for (; i < len; i++) {
    const v = load<f32>(at(x, i));
    store<f32>(at(y, i), v > 0 ? v : 0);
  }
}

/** y = min(x, 0) */
export function neg_part_f32(x: usize, y: usize, len: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    for (; i + 4 <= len; i += 4) v128.store(at(y, i), f32x4.pmin(z, v128.load(at(x, i))));
  }
  for (; i < len; i++) {
    const v = load<f32>(at(x, i));
    store<f32>(at(y, i), v < 0 ? v : 0);
  }
}

/** 1 if any x < 0, else 0 */
export function has_negative_f32(x: usize, len: i32): i32 {
  return anyLane(x, len, false);
}

/** 1 if any x is not zero (NaN counts: it is not zero), else 0; -0 is zero */
export function has_nonzero_f32(x: usize, len: i32): i32 {
  return anyLane(x, len, true);
}

/**
 * 1 if any x < 0 (nonZero false) or any x != 0 (nonZero true), else 0. Four or-ed masks over 16 floats
 * a step, tested every 1024 floats (see has_non_finite_f32); nonZero is a constant at both call sites,
 * so the inlined copies keep one compare each.
 */
// @ts-ignore: decorator
@inline function anyLane(x: usize, len: i32, nonZero: bool): i32 {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    let m0 = i32x4.splat(0), m1 = i32x4.splat(0), m2 = i32x4.splat(0), m3 = i32x4.splat(0);
    while (i + 16 <= len) {
      const end = min(len & ~15, i + 1024);
      for (; i < end; i += 16) {
        const p = at(x, i);
        const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
        m0 = v128.or(m0, nonZero ? f32x4.ne(v0, z) : f32x4.lt(v0, z));
        m1 = v128.or(m1, nonZero ? f32x4.ne(v1, z) : f32x4.lt(v1, z));
        m2 = v128.or(m2, nonZero ? f32x4.ne(v2, z) : f32x4.lt(v2, z));
        m3 = v128.or(m3, nonZero ? f32x4.ne(v3, z) : f32x4.lt(v3, z));
      }
      if (v128.any_true(v128.or(v128.or(m0, m1), v128.or(m2, m3)))) return 1;
    }
  }
  for (; i < len; i++) {
    const v = load<f32>(at(x, i));
    if (nonZero ? v != 0 : v < 0) return 1;
  }
  return 0;
}

/** 1 if any element is NaN or +-Infinity, else 0 */
export function has_non_finite_f32(x: usize, len: i32): i32 {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // The bits of |v| as an integer exceed FLT_MAX's (0x7f7fffff) exactly for NaN and +-inf: a running
    // integer max of them, four independent ones over 16 floats a step (integer ops: latency 1, three
    // ports), checked every 1024 floats for an early exit: 1.17x the float sums of v - v it replaced (whose
    // adds' latency bound them) on L2-resident arrays, as fast on larger ones (memory-bound).
    const abs = i32x4.splat(0x7fffffff);
    let m0 = i32x4.splat(0), m1 = i32x4.splat(0), m2 = i32x4.splat(0), m3 = i32x4.splat(0);
    while (i + 16 <= len) {
      const end = min(len & ~15, i + 1024);
      for (; i < end; i += 16) {
        const p = at(x, i);
        m0 = i32x4.max_s(m0, v128.and(v128.load(p), abs));
        m1 = i32x4.max_s(m1, v128.and(v128.load(p, 16), abs));
        m2 = i32x4.max_s(m2, v128.and(v128.load(p, 32), abs));
        m3 = i32x4.max_s(m3, v128.and(v128.load(p, 48), abs));
      }
      const m = i32x4.max_s(i32x4.max_s(m0, m1), i32x4.max_s(m2, m3));
      if (v128.any_true(i32x4.gt_s(m, i32x4.splat(0x7f7fffff)))) return 1;
    }
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(at(x, i));
      const d = f32x4.sub(v, v);
      if (v128.any_true(f32x4.ne(d, d))) return 1;
    }
  }
  for (; i < len; i++) {
    const v = load<f32>(at(x, i));
    if (!isFinite<f32>(v)) return 1;
  }
  return 0;
}

/** y = a + b */
export function add_f32(a: usize, b: usize, y: usize, len: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= len; i += 4) v128.store(at(y, i), f32x4.add(v128.load(at(a, i)), v128.load(at(b, i))));
  }
  for (; i < len; i++) store<f32>(at(y, i), load<f32>(at(a, i)) + load<f32>(at(b, i)));
}

/** y = a * b */
export function mul_f32(a: usize, b: usize, y: usize, len: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= len; i += 4) v128.store(at(y, i), f32x4.mul(v128.load(at(a, i)), v128.load(at(b, i))));
  }
  for (; i < len; i++) store<f32>(at(y, i), load<f32>(at(a, i)) * load<f32>(at(b, i)));
}

/** y += coef * a * b */
export function mul_acc_f32(a: usize, b: usize, y: usize, len: i32, coef: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const cv = f32x4.splat(coef);
    for (; i + 4 <= len; i += 4) {
      const ab = f32x4.mul(f32x4.mul(cv, v128.load(at(a, i))), v128.load(at(b, i)));
      v128.store(at(y, i), f32x4.add(v128.load(at(y, i)), ab));
    }
  }
  for (; i < len; i++) store<f32>(at(y, i), load<f32>(at(y, i)) + coef * load<f32>(at(a, i)) * load<f32>(at(b, i)));
}

/** y = r / (z + eps * (z >= 0 ? 1 : -1)) */
export function stab_divide_f32(r: usize, z: usize, y: usize, len: i32, eps: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const pe = f32x4.splat(eps), ne = f32x4.splat(-eps), zero = f32x4.splat(0);
    for (; i + 4 <= len; i += 4) v128.store(at(y, i), stabDiv4(v128.load(at(r, i)), v128.load(at(z, i)), pe, ne, zero));
  }
  for (; i < len; i++) store<f32>(at(y, i), stabDiv(load<f32>(at(r, i)), load<f32>(at(z, i)), eps));
}

/** y = (sign * m > 0) ? r / (z + eps * (z >= 0 ? 1 : -1)) : 0, sign = +1 or -1 */
export function stab_divide_masked_f32(r: usize, z: usize, m: usize, y: usize, len: i32, eps: f32, sign: f32): void {
  let i = 0;
  const sg: f32 = sign >= 0 ? 1 : -1;
  if (ASC_FEATURE_SIMD) {
    const pe = f32x4.splat(eps), ne = f32x4.splat(-eps), zero = f32x4.splat(0), sv = f32x4.splat(sg);
    for (; i + 4 <= len; i += 4) {
      const q = stabDiv4(v128.load(at(r, i)), v128.load(at(z, i)), pe, ne, zero);
      const keep = f32x4.gt(f32x4.mul(sv, v128.load(at(m, i))), zero);
      v128.store(at(y, i), v128.and(q, keep));
    }
  }
  for (; i < len; i++) {
    const keep = sg * load<f32>(at(m, i)) > 0;
    store<f32>(at(y, i), keep ? stabDiv(load<f32>(at(r, i)), load<f32>(at(z, i)), eps) : 0);
  }
}

/**
 * Gamma's two quotients for an input without negatives, in one pass (they were seven: copy, three
 * mul_acc, two stab_divide_masked and a nonzero scan, which cost gamma a fifth more than z⁺ on small
 * images): with zp = z + cUp·z⁺ and zn = (z⁺ + cDown·z⁺) + cOne·z (cUp = γ, cDown = −γ−1, cOne = 1+γ,
 * the operations of those kernels in their order (their factor 1 aside, which changes no float)),
 *   gp = z > 0 ? r / (zp ± eps) : 0,   gn = z < 0 ? r / (zn ± eps) : 0   (± the sign of the denominator).
 * Returns 1 if any gn is not zero (a NaN counts), else 0.
 */
export function gamma_divide_f32(r: usize, z: usize, zplus: usize, gp: usize, gn: usize, len: i32, cUp: f32, cDown: f32, cOne: f32, eps: f32): i32 {
  let i = 0;
  let any = 0;
  if (ASC_FEATURE_SIMD) {
    const pe = f32x4.splat(eps), ne = f32x4.splat(-eps), zero = f32x4.splat(0);
    const up = f32x4.splat(cUp), down = f32x4.splat(cDown), one = f32x4.splat(cOne);
    let m = i32x4.splat(0);
    for (; i + 4 <= len; i += 4) {
      const zv = v128.load(at(z, i)), pv = v128.load(at(zplus, i)), rv = v128.load(at(r, i));
      const zp = f32x4.add(zv, f32x4.mul(up, pv));
      const zn = f32x4.add(f32x4.add(pv, f32x4.mul(down, pv)), f32x4.mul(one, zv));
      const n = v128.and(stabDiv4(rv, zn, pe, ne, zero), f32x4.lt(zv, zero));
      v128.store(at(gp, i), v128.and(stabDiv4(rv, zp, pe, ne, zero), f32x4.gt(zv, zero)));
      v128.store(at(gn, i), n);
      m = v128.or(m, f32x4.ne(n, zero));
    }
    any = v128.any_true(m) ? 1 : 0;
  }
  for (; i < len; i++) {
    const zv = load<f32>(at(z, i)), pv = load<f32>(at(zplus, i)), rv = load<f32>(at(r, i));
    const zp = zv + cUp * pv;
    const zn = (pv + cDown * pv) + cOne * zv;
    store<f32>(at(gp, i), zv > 0 ? stabDiv(rv, zp, eps) : 0);
    const n: f32 = zv < 0 ? stabDiv(rv, zn, eps) : 0;
    store<f32>(at(gn, i), n);
    if (n != 0) any = 1;
  }
  return any;
}

/** y = x * scale[c] + shift[c] for x laid out [n, C, inner] */
export function channel_affine_f32(x: usize, scale: usize, shift: usize, y: usize, n: i32, channels: i32, inner: i32): void {
  let base = 0;
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < channels; c++) {
      const a = load<f32>(at(scale, c));
      const b = load<f32>(at(shift, c));
      const xs = at(x, base), ys = at(y, base);
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        const av = f32x4.splat(a), bv = f32x4.splat(b);
        for (; i + 4 <= inner; i += 4) v128.store(at(ys, i), madd(v128.load(at(xs, i)), av, bv));
      }
      for (; i < inner; i++) store<f32>(at(ys, i), load<f32>(at(xs, i)) * a + b);
      base += inner;
    }
  }
}

/** y = x * scale[c] for [n, C, inner] */
export function channel_scale_f32(x: usize, scale: usize, y: usize, n: i32, channels: i32, inner: i32): void {
  let base = 0;
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < channels; c++) {
      const a = load<f32>(at(scale, c));
      const xs = at(x, base), ys = at(y, base);
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        const av = f32x4.splat(a);
        for (; i + 4 <= inner; i += 4) v128.store(at(ys, i), f32x4.mul(v128.load(at(xs, i)), av));
      }
      for (; i < inner; i++) store<f32>(at(ys, i), load<f32>(at(xs, i)) * a);
      base += inner;
    }
  }
}

/** y = value */
export function fill_f32(y: usize, len: i32, value: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const v = f32x4.splat(value);
    for (; i + 4 <= len; i += 4) v128.store(at(y, i), v);
  }
  for (; i < len; i++) store<f32>(at(y, i), value);
}

/** y = x (overlap-safe) */
export function copy_f32(x: usize, y: usize, len: i32): void {
  if (len > 0) memory.copy(y, x, <usize>len << 2);
}

/** dst[b*dstStride + k] = src[b*srcStride + k] for b < blocks, k < blockLen (floats) */
export function copy_blocks_f32(src: usize, dst: usize, blocks: i32, blockLen: i32, srcStride: i32, dstStride: i32): void {
  if (blockLen <= 0) return;
  for (let b = 0; b < blocks; b++) {
    memory.copy(at(dst, b * dstStride), at(src, b * srcStride), <usize>blockLen << 2);
  }
}

/** dst += src, strided like copy_blocks_f32 */
export function add_blocks_f32(src: usize, dst: usize, blocks: i32, blockLen: i32, srcStride: i32, dstStride: i32): void {
  for (let b = 0; b < blocks; b++) {
    const s = at(src, b * srcStride), d = at(dst, b * dstStride);
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      for (; i + 4 <= blockLen; i += 4) v128.store(at(d, i), f32x4.add(v128.load(at(d, i)), v128.load(at(s, i))));
    }
    for (; i < blockLen; i++) store<f32>(at(d, i), load<f32>(at(d, i)) + load<f32>(at(s, i)));
  }
}
