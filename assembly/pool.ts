// Max and average pooling (forward and transpose). Descriptor (Int32 x 16):
// C H W KH KW SH SW PT PL DH DW OH OW. Window of output (oh, ow) starts at (oh*SH-PT, ow*SW-PL),
// taps at +kh*DH, +kw*DW; taps outside the input are ignored.
//
// The common 2x2 / stride 2 window (no dilation), and for max pooling also ResNet's 3x3 / stride 2,
// runs 4 output columns at a time with SIMD wherever the 4 windows lie fully inside the input
// (even/odd lane shuffles of row loads); every other window, and every other pooling shape, takes the
// scalar path, whose valid tap range is computed up front so the inner loops carry no bounds checks.

import { threadPartStart } from "./common";

// @ts-ignore: decorator
@inline function di(desc: usize, i: i32): i32 { return load<i32>(desc + <usize>(i * 4)); }

// @ts-ignore: decorator
@inline function lowTap(start: i32, D: i32, K: i32): i32 {
  return start >= 0 ? 0 : min(K, (-start + D - 1) / D);
}
// @ts-ignore: decorator
@inline function highTap(start: i32, D: i32, K: i32, limit: i32): i32 {
  const u = limit - start;
  return u <= 0 ? 0 : min(K, (u + D - 1) / D);
}

/** 2x2 window, stride 2, no dilation: the SIMD fast path applies to interior windows. */
// @ts-ignore: decorator
@inline function is2x2s2(KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32): bool {
  return KH == 2 && KW == 2 && SH == 2 && SW == 2 && DH == 1 && DW == 1;
}

/**
 * Square window of 2 or 3 taps, stride 2, no dilation: its side, for which max pooling has a SIMD fast
 * path over interior windows; else 0.
 */
// @ts-ignore: decorator
@inline function maxFastWindow(KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32): i32 {
  return KH == KW && (KH == 2 || KH == 3) && SH == 2 && SW == 2 && DH == 1 && DW == 1 ? KH : 0;
}

/**
 * Where the fast path would leave fewer than 4 columns to the scalar loop: the start of the 4-column
 * SIMD block ending at OW if its loads (`reach` floats from the first window's start) lie inside the
 * row, else ow. The block recomputes columns already written, from the same windows: only for the
 * forwards, which overwrite, and the 2x2 transpose, whose windows do not overlap.
 */
// @ts-ignore: decorator
@inline function lastBlock(ow: i32, OW: i32, SW: i32, PL: i32, W: i32, reach: i32): i32 {
  const w0 = (OW - 4) * SW - PL;
  return OW >= 4 && w0 >= 0 && w0 + reach <= W ? OW - 4 : ow;
}


/**
 * y = max over each window; argmax (i32) = h*W+w of the first maximum in row-major window order
 * (strictly greater). A window with no valid tap gives -inf and argmax -1. Part `part` of `parts` (threads)
 * computes its own range of planes (sample, channel); parts = 1 computes all.
 */
export function maxpool2d_forward_f32(desc: usize, x: usize, y: usize, argmax: usize, n: i32, part: i32, parts: i32): void {
  const C = di(desc, 0), H = di(desc, 1), W = di(desc, 2), KH = di(desc, 3), KW = di(desc, 4);
  const SH = di(desc, 5), SW = di(desc, 6), PT = di(desc, 7), PL = di(desc, 8);
  const DH = di(desc, 9), DW = di(desc, 10), OH = di(desc, 11), OW = di(desc, 12);
  const planes = n * C, HW = H * W, P = OH * OW;
  // K: the fast path's window side (0: none); its loads reach 8 (K = 2) or 10 (K = 3) floats into a row
  const K = maxFastWindow(KH, KW, SH, SW, DH, DW), reach = K == 3 ? 10 : 8;
  const p1 = threadPartStart(planes, 1, part + 1, parts);
  for (let pl = threadPartStart(planes, 1, part, parts); pl < p1; pl++) {
    const xc = x + <usize>(pl * HW) * 4;
    const yc = y + <usize>(pl * P) * 4;
    const ac = argmax + <usize>(pl * P) * 4;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * SH - PT;
      const kh0 = lowTap(h0, DH, KH), kh1 = highTap(h0, DH, KH, H);
      const fast = ASC_FEATURE_SIMD && K != 0 && h0 >= 0 && h0 + K <= H;
      let ow = 0;
      while (ow < OW) {
        if (ASC_FEATURE_SIMD && fast && ow + 4 > OW) ow = lastBlock(ow, OW, SW, PL, W, reach);
        const w0 = ow * SW - PL;
        if (ASC_FEATURE_SIMD && fast && ow + 4 <= OW && w0 >= 0 && w0 + reach <= W) {
          // lanes j = 0..3: window of output ow+j covers columns w0+2j .. w0+2j+K-1 of rows h0 .. h0+K-1,
          // visited in row-major order; a tap replaces the best so far only when strictly greater
          const lane2 = i32x4(0, 2, 4, 6), one = i32x4.splat(1), two = i32x4.splat(2);
          let best = f32x4.splat(0), idx = i32x4.splat(0);
          for (let kh = 0; kh < K; kh++) {
            const t = (h0 + kh) * W + w0;
            const p = xc + <usize>t * 4;
            const a = v128.load(p), b = v128.load(p, 16);
            const i0 = i32x4.add(i32x4.splat(t), lane2);
            let v = i32x4.shuffle(a, b, 0, 2, 4, 6);
            let gt = f32x4.gt(v, best);
            if (kh == 0) {
              best = v;
              idx = i0;
            } else {
              best = v128.bitselect(v, best, gt);
              idx = v128.bitselect(i0, idx, gt);
            }
            v = i32x4.shuffle(a, b, 1, 3, 5, 7);
            gt = f32x4.gt(v, best);
            best = v128.bitselect(v, best, gt);
            idx = v128.bitselect(i32x4.add(i0, one), idx, gt);
            if (K == 3) {
              v = i32x4.shuffle(v128.load(p, 8), v128.load(p, 24), 0, 2, 4, 6);
              gt = f32x4.gt(v, best);
              best = v128.bitselect(v, best, gt);
              idx = v128.bitselect(i32x4.add(i0, two), idx, gt);
            }
          }
          const o = <usize>(oh * OW + ow) * 4;
          v128.store(yc + o, best);
          v128.store(ac + o, idx);
          ow += 4;
          continue;
        }
        const kw0 = lowTap(w0, DW, KW), kw1 = highTap(w0, DW, KW, W);
        let m: f32 = -Infinity;
        let idx = -1;
        for (let kh = kh0; kh < kh1; kh++) {
          const rowIdx = (h0 + kh * DH) * W + w0;
          for (let kw = kw0; kw < kw1; kw++) {
            const t = rowIdx + kw * DW;
            const v = load<f32>(xc + <usize>t * 4);
            if (v > m || idx < 0) { m = v; idx = t; }
          }
        }
        const o = <usize>(oh * OW + ow) * 4;
        store<f32>(yc + o, m);
        store<i32>(ac + o, idx);
        ow++;
      }
    }
  }
}

/** out = 0, then out[n,c,argmax] += g[n,c,oh,ow] for every output; in parts by planes, as the forward. */
export function maxpool2d_backward_f32(desc: usize, g: usize, argmax: usize, out: usize, n: i32, part: i32, parts: i32): void {
  const C = di(desc, 0), H = di(desc, 1), W = di(desc, 2), OH = di(desc, 11), OW = di(desc, 12);
  const planes = n * C, HW = H * W, P = OH * OW;
  const p0 = threadPartStart(planes, 1, part, parts), p1 = threadPartStart(planes, 1, part + 1, parts);
  if (p0 >= p1) return;
  memory.fill(out + <usize>(p0 * HW) * 4, 0, <usize>((p1 - p0) * HW) * 4);
  for (let pl = p0; pl < p1; pl++) {
    const oc = out + <usize>(pl * HW) * 4;
    const gc = g + <usize>(pl * P) * 4;
    const ac = argmax + <usize>(pl * P) * 4;
    for (let p = 0; p < P; p++) {
      const idx = load<i32>(ac + <usize>p * 4);
      if (idx >= 0) {
        const q = oc + <usize>idx * 4;
        store<f32>(q, load<f32>(q) + load<f32>(gc + <usize>p * 4));
      }
    }
  }
}

/** y[n,c,oh,ow] = invDiv[oh*OW+ow] * sum of x over the valid positions of the window. */
export function avgpool2d_forward_f32(desc: usize, x: usize, invDiv: usize, y: usize, n: i32): void {
  const C = di(desc, 0), H = di(desc, 1), W = di(desc, 2), KH = di(desc, 3), KW = di(desc, 4);
  const SH = di(desc, 5), SW = di(desc, 6), PT = di(desc, 7), PL = di(desc, 8);
  const DH = di(desc, 9), DW = di(desc, 10), OH = di(desc, 11), OW = di(desc, 12);
  const planes = n * C, HW = H * W, P = OH * OW;
  const fast2 = is2x2s2(KH, KW, SH, SW, DH, DW);
  for (let pl = 0; pl < planes; pl++) {
    const xc = x + <usize>(pl * HW) * 4;
    const yc = y + <usize>(pl * P) * 4;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * SH - PT;
      const kh0 = lowTap(h0, DH, KH), kh1 = highTap(h0, DH, KH, H);
      const fast = ASC_FEATURE_SIMD && fast2 && h0 >= 0 && h0 + 2 <= H;
      let ow = 0;
      while (ow < OW) {
        if (ASC_FEATURE_SIMD && fast && ow + 4 > OW) ow = lastBlock(ow, OW, SW, PL, W, 8);
        const w0 = ow * SW - PL;
        const o = <usize>(oh * OW + ow) * 4;
        if (ASC_FEATURE_SIMD && fast && ow + 4 <= OW && w0 >= 0 && w0 + 8 <= W) {
          const p0 = xc + <usize>(h0 * W + w0) * 4, p1 = p0 + <usize>W * 4;
          const r = f32x4.add(v128.load(p0), v128.load(p1)); // column sums, cols 0..3
          const q = f32x4.add(v128.load(p0, 16), v128.load(p1, 16)); // cols 4..7
          const sum = f32x4.add(i32x4.shuffle(r, q, 0, 2, 4, 6), i32x4.shuffle(r, q, 1, 3, 5, 7));
          v128.store(yc + o, f32x4.mul(sum, v128.load(invDiv + o)));
          ow += 4;
          continue;
        }
        const kw0 = lowTap(w0, DW, KW), kw1 = highTap(w0, DW, KW, W);
        // f64 sum: a global pool adds up H·W values, where an f32 running sum loses ~1e-3 relative
        let s: f64 = 0;
        for (let kh = kh0; kh < kh1; kh++) {
          const rowIdx = (h0 + kh * DH) * W + w0;
          for (let kw = kw0; kw < kw1; kw++) s += <f64>load<f32>(xc + <usize>(rowIdx + kw * DW) * 4);
        }
        store<f32>(yc + o, <f32>(s * <f64>load<f32>(invDiv + o)));
        ow++;
      }
    }
  }
}

/** out = 0, then out[valid window positions] += g * invDiv. */
export function avgpool2d_transpose_f32(desc: usize, g: usize, invDiv: usize, out: usize, n: i32): void {
  const C = di(desc, 0), H = di(desc, 1), W = di(desc, 2), KH = di(desc, 3), KW = di(desc, 4);
  const SH = di(desc, 5), SW = di(desc, 6), PT = di(desc, 7), PL = di(desc, 8);
  const DH = di(desc, 9), DW = di(desc, 10), OH = di(desc, 11), OW = di(desc, 12);
  const planes = n * C, HW = H * W, P = OH * OW;
  memory.fill(out, 0, <usize>(planes * HW) * 4);
  const fast2 = is2x2s2(KH, KW, SH, SW, DH, DW);
  for (let pl = 0; pl < planes; pl++) {
    const oc = out + <usize>(pl * HW) * 4;
    const gc = g + <usize>(pl * P) * 4;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * SH - PT;
      const kh0 = lowTap(h0, DH, KH), kh1 = highTap(h0, DH, KH, H);
      const fast = ASC_FEATURE_SIMD && fast2 && h0 >= 0 && h0 + 2 <= H;
      let ow = 0;
      while (ow < OW) {
        // 2x2 stride 2 windows do not overlap: each position they cover gets exactly one 0 + v, so a block
        // may store (the same floats as adding onto the zeros) and the row's last block may overlap the one
        // before, as in the forwards
        if (ASC_FEATURE_SIMD && fast && ow + 4 > OW) ow = lastBlock(ow, OW, SW, PL, W, 8);
        const w0 = ow * SW - PL;
        const o = <usize>(oh * OW + ow) * 4;
        if (ASC_FEATURE_SIMD && fast && ow + 4 <= OW && w0 >= 0 && w0 + 8 <= W) {
          const v = f32x4.add(f32x4.splat(0), f32x4.mul(v128.load(gc + o), v128.load(invDiv + o)));
          const lo = i32x4.shuffle(v, v, 0, 0, 1, 1), hi = i32x4.shuffle(v, v, 2, 2, 3, 3);
          const p0 = oc + <usize>(h0 * W + w0) * 4, p1 = p0 + <usize>W * 4;
          v128.store(p0, lo);
          v128.store(p0, hi, 16);
          v128.store(p1, lo);
          v128.store(p1, hi, 16);
          ow += 4;
          continue;
        }
        const kw0 = lowTap(w0, DW, KW), kw1 = highTap(w0, DW, KW, W);
        const v = load<f32>(gc + o) * load<f32>(invDiv + o);
        for (let kh = kh0; kh < kh1; kh++) {
          const rowIdx = (h0 + kh * DH) * W + w0;
          for (let kw = kw0; kw < kw1; kw++) {
            const q = oc + <usize>(rowIdx + kw * DW) * 4;
            store<f32>(q, load<f32>(q) + v);
          }
        }
        ow++;
      }
    }
  }
}
