// 2-D convolution (cross-correlation, zero padding, stride, dilation, groups) by im2col + GEMM,
// and its transpose (GEMM into the column buffer, then col2im scatter-add).
//
// Descriptor (Int32 x 16): C H W O KH KW SH SW PT PL DH DW G OH OW.
// Scratch: Cg*KH*KW * OH*OW floats (one group of one sample at a time); none for a pointwise conv
// (1x1, stride 1, no padding), which multiplies straight from / into the activations.
import { gemm_f32 } from "./gemm";

// @ts-ignore: decorator
@inline function di(desc: usize, i: i32): i32 { return load<i32>(desc + <usize>(i * 4)); }

/** First k in [0, K) with 0 <= start + k*D, as lo; first k with start + k*D >= limit, as hi (hi >= lo). */
// @ts-ignore: decorator
@inline function lowTap(start: i32, D: i32, K: i32): i32 {
  return start >= 0 ? 0 : min(K, (-start + D - 1) / D);
}
// @ts-ignore: decorator
@inline function highTap(start: i32, D: i32, K: i32, limit: i32): i32 {
  const u = limit - start;
  return u <= 0 ? 0 : min(K, (u + D - 1) / D);
}

function isPointwise(desc: usize): bool {
  return di(desc, 4) == 1 && di(desc, 5) == 1 && di(desc, 6) == 1 && di(desc, 7) == 1 &&
    di(desc, 8) == 0 && di(desc, 9) == 0 && di(desc, 13) == di(desc, 1) && di(desc, 14) == di(desc, 2);
}

/** Bytes of scratch conv2d_forward_f32 / conv2d_transpose_f32 need (mirrors convScratchBytes in TS). */
export function conv2d_scratch_bytes(desc: usize): i32 {
  if (isPointwise(desc)) return 0;
  return (di(desc, 0) / di(desc, 12)) * di(desc, 4) * di(desc, 5) * di(desc, 13) * di(desc, 14) * 4;
}

/** Valid output-column range for kernel column kw: ow in [lo, hi) reads an input column in [0, W). */
// @ts-ignore: decorator
@inline function owLow(PL: i32, kwOff: i32, SW: i32, OW: i32): i32 {
  const t = PL - kwOff;
  return t <= 0 ? 0 : min(OW, (t + SW - 1) / SW);
}
// @ts-ignore: decorator
@inline function owHigh(PL: i32, kwOff: i32, SW: i32, OW: i32, W: i32): i32 {
  const u = W + PL - kwOff;
  return u <= 0 ? 0 : min(OW, (u + SW - 1) / SW);
}

/** col[(c*KH+kh)*KW+kw, oh*OW+ow] = x[c, oh*SH-PT+kh*DH, ow*SW-PL+kw*DW] (0 outside). */
function im2col(desc: usize, x: usize, Cg: i32, col: usize): void {
  const H = di(desc, 1), W = di(desc, 2), KH = di(desc, 4), KW = di(desc, 5);
  const SH = di(desc, 6), SW = di(desc, 7), PT = di(desc, 8), PL = di(desc, 9);
  const DH = di(desc, 10), DW = di(desc, 11), OH = di(desc, 13), OW = di(desc, 14);
  const P = OH * OW;
  let row = col;
  for (let c = 0; c < Cg; c++) {
    const xc = x + <usize>(c * H * W) * 4;
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const kwOff = kw * DW;
        let lo = owLow(PL, kwOff, SW, OW);
        let hi = owHigh(PL, kwOff, SW, OW, W);
        if (hi < lo) hi = lo;
        for (let oh = 0; oh < OH; oh++) {
          const dst = row + <usize>(oh * OW) * 4;
          const ih = oh * SH - PT + kh * DH;
          if (ih < 0 || ih >= H) {
            memory.fill(dst, 0, <usize>OW * 4);
            continue;
          }
          if (lo > 0) memory.fill(dst, 0, <usize>lo * 4);
          if (hi < OW) memory.fill(dst + <usize>hi * 4, 0, <usize>(OW - hi) * 4);
          const src = xc + <usize>(ih * W) * 4;
          const iw0 = lo * SW - PL + kwOff;
          if (SW == 1) {
            memory.copy(dst + <usize>lo * 4, src + <usize>iw0 * 4, <usize>(hi - lo) * 4);
          } else {
            let ow = lo;
            let iw = iw0;
            if (ASC_FEATURE_SIMD && SW == 2) {
              // even lanes of two loads; stay inside the row
              for (; ow + 4 <= hi && iw + 8 <= W; ow += 4, iw += 8) {
                const p = src + <usize>iw * 4;
                v128.store(dst + <usize>ow * 4, i32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 2, 4, 6));
              }
            }
            for (; ow < hi; ow++, iw += SW) store<f32>(dst + <usize>ow * 4, load<f32>(src + <usize>iw * 4));
          }
        }
        row += <usize>P * 4;
      }
    }
  }
}

/** out[c, ih, iw] += col[(c*KH+kh)*KW+kw, oh*OW+ow] for every valid tap (transpose of im2col). */
function col2im(desc: usize, col: usize, Cg: i32, out: usize): void {
  const H = di(desc, 1), W = di(desc, 2), KH = di(desc, 4), KW = di(desc, 5);
  const SH = di(desc, 6), SW = di(desc, 7), PT = di(desc, 8), PL = di(desc, 9);
  const DH = di(desc, 10), DW = di(desc, 11), OH = di(desc, 13), OW = di(desc, 14);
  const P = OH * OW;
  let row = col;
  for (let c = 0; c < Cg; c++) {
    const oc = out + <usize>(c * H * W) * 4;
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const kwOff = kw * DW;
        let lo = owLow(PL, kwOff, SW, OW);
        let hi = owHigh(PL, kwOff, SW, OW, W);
        if (hi > lo) {
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * SH - PT + kh * DH;
            if (ih < 0 || ih >= H) continue;
            const src = row + <usize>(oh * OW) * 4;
            const dst = oc + <usize>(ih * W) * 4;
            let ow = lo;
            let iw = lo * SW - PL + kwOff;
            if (ASC_FEATURE_SIMD && SW == 1) {
              for (; ow + 4 <= hi; ow += 4, iw += 4) {
                const q = dst + <usize>iw * 4;
                v128.store(q, f32x4.add(v128.load(q), v128.load(src + <usize>ow * 4)));
              }
            }
            for (; ow < hi; ow++, iw += SW) {
              const q = dst + <usize>iw * 4;
              store<f32>(q, load<f32>(q) + load<f32>(src + <usize>ow * 4));
            }
          }
        }
        row += <usize>P * 4;
      }
    }
  }
}

/** y[n,o,oh,ow] = sum_{c,kh,kw} x[n, g*Cg+c, ...] * w[o,c,kh,kw] + b[o]; b = 0: no bias. */
export function conv2d_forward_f32(desc: usize, x: usize, w: usize, b: usize, y: usize, scratch: usize, n: i32): void {
  const C = di(desc, 0), H = di(desc, 1), W = di(desc, 2), O = di(desc, 3);
  const KH = di(desc, 4), KW = di(desc, 5), G = di(desc, 12), OH = di(desc, 13), OW = di(desc, 14);
  const Cg = C / G, Og = O / G, P = OH * OW, Kd = Cg * KH * KW;
  const pointwise = isPointwise(desc);
  for (let s = 0; s < n; s++) {
    for (let g = 0; g < G; g++) {
      const xg = x + <usize>((s * C + g * Cg) * H * W) * 4;
      const yg = y + <usize>((s * O + g * Og) * P) * 4;
      const wg = w + <usize>(g * Og * Kd) * 4;
      let acc = 0;
      if (b != 0) {
        for (let o = 0; o < Og; o++) {
          const bv = load<f32>(b + <usize>(g * Og + o) * 4);
          const yo = yg + <usize>(o * P) * 4;
          let p = 0;
          if (ASC_FEATURE_SIMD) {
            const v = f32x4.splat(bv);
            for (; p + 4 <= P; p += 4) v128.store(yo + <usize>p * 4, v);
          }
          for (; p < P; p++) store<f32>(yo + <usize>p * 4, bv);
        }
        acc = 1;
      }
      let src = xg;
      if (!pointwise) {
        im2col(desc, xg, Cg, scratch);
        src = scratch;
      }
      gemm_f32(Og, P, Kd, wg, Kd, 1, src, P, 1, yg, P, acc);
    }
  }
}

/** out[n,c,h,w] (+)= sum over taps of g[n,o,oh,ow] * w[o,c,kh,kw]; untouched positions get 0. */
export function conv2d_transpose_f32(desc: usize, gr: usize, w: usize, out: usize, scratch: usize, n: i32, accumulate: i32): void {
  const C = di(desc, 0), H = di(desc, 1), W = di(desc, 2), O = di(desc, 3);
  const KH = di(desc, 4), KW = di(desc, 5), G = di(desc, 12), OH = di(desc, 13), OW = di(desc, 14);
  const Cg = C / G, Og = O / G, P = OH * OW, Kd = Cg * KH * KW;
  const pointwise = isPointwise(desc);
  for (let s = 0; s < n; s++) {
    for (let g = 0; g < G; g++) {
      const gg = gr + <usize>((s * O + g * Og) * P) * 4;
      const og = out + <usize>((s * C + g * Cg) * H * W) * 4;
      const wg = w + <usize>(g * Og * Kd) * 4;
      // A(i = kd, k = o) = wg[o*Kd + kd]  (W_g transposed)
      if (pointwise) {
        gemm_f32(Kd, P, Og, wg, 1, Kd, gg, P, 1, og, P, accumulate);
      } else {
        gemm_f32(Kd, P, Og, wg, 1, Kd, gg, P, 1, scratch, P, 0);
        if (!accumulate) memory.fill(og, 0, <usize>(Cg * H * W) * 4);
        col2im(desc, scratch, Cg, og);
      }
    }
  }
}
