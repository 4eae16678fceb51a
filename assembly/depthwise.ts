// Direct depthwise convolution (C = G, O = G*M: M filters per input channel), forward and transpose.
//
// Forward: y[c*M+m, oh, ow] = b + sum_{kh,kw} w[c*M+m, kh, kw] * x[c, oh*SH-PT+kh*DH, ow*SW-PL+kw*DW].
// Transpose: out[c, ih, iw] (+)= sum_{m, kh, kw} w[c*M+m, kh, kw] * g[c*M+m, oh, ow] over the taps that
// read (ih, iw). Both are written as gathers: each output element is summed in a register over all its
// taps and stored once. When the zero-padded plane fits the workspace (SIMD build, column stride 1 or 2)
// depthwise-padded.ts computes whole rows without bounds checks; otherwise the
// gathers below run SIMD across the interior columns of a row (every tap in bounds), 8 or 4 at a time,
// and the border columns one by one with bounds checks.
//
// Descriptor (Int32 x 16): C H W O KH KW SH SW PT PL DH DW G OH OW.
import { madd, threadPartStart } from "./common";
import { fwdPaddedFits, fwdPaddedChannel, tPaddedFits, tPaddedChannel, gcd } from "./depthwise-padded";

// @ts-ignore: decorator
@inline function di(desc: usize, i: i32): i32 { return load<i32>(desc + <usize>(i * 4)); }

/** floor(a / b) for b > 0 and any sign of a. */
// @ts-ignore: decorator
@inline function floorDiv(a: i32, b: i32): i32 { return a >= 0 ? a / b : -((b - 1 - a) / b); }

/** ceil(a / b) for b > 0 and any sign of a. */
// @ts-ignore: decorator
@inline function ceilDiv(a: i32, b: i32): i32 { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/** Address of float i of the plane at p; i may be a negative partial offset as long as the final address is valid. */
// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize { return p + <usize>(i << 2); }

/** True when the descriptor is depthwise: one input channel per group (C = G) and O a multiple of G. */
export function isDepthwise(desc: usize): bool {
  const C = di(desc, 0), O = di(desc, 3), G = di(desc, 12);
  return C == G && G > 0 && O % G == 0;
}

// ---- forward ------------------------------------------------------------------------------

/** y (one OH x OW plane) = bias + taps of the KH x KW filter wk over the H x W plane x. */
function forwardPlane(desc: usize, x: usize, wk: usize, bias: f32, y: usize): void {
  const H = di(desc, 1), W = di(desc, 2), KH = di(desc, 4), KW = di(desc, 5);
  const SH = di(desc, 6), SW = di(desc, 7), PT = di(desc, 8), PL = di(desc, 9);
  const DH = di(desc, 10), DW = di(desc, 11), OH = di(desc, 13), OW = di(desc, 14);
  const span = (KW - 1) * DW;
  // interior columns: ow*SW - PL >= 0 and ow*SW - PL + span <= W - 1
  const a = min(OW, max(0, ceilDiv(PL, SW)));
  const b = min(OW, max(a, floorDiv(W - 1 + PL - span, SW) + 1));
  for (let oh = 0; oh < OH; oh++) {
    const ih0 = oh * SH - PT; // input row of kh = 0
    const kh0 = max(0, ceilDiv(-ih0, DH));
    const kh1 = min(KH, floorDiv(H - 1 - ih0, DH) + 1);
    const yr = at(y, oh * OW);
    // x row of tap (kh, kw) at output column ow: xrow(kh) + (ow*SW + kw*DW) floats
    const xr = at(x, ih0 * W - PL);
    const rowStep = DH * W;
    let ow = a;
    if (ASC_FEATURE_SIMD && SW == 1) {
      const bv = f32x4.splat(bias);
      for (; ow + 8 <= b; ow += 8) {
        let s0 = bv, s1 = bv;
        for (let kh = kh0; kh < kh1; kh++) {
          const xp = at(xr, kh * rowStep + ow);
          const wp = at(wk, kh * KW);
          for (let kw = 0; kw < KW; kw++) {
            const wv = v128.load32_splat(at(wp, kw));
            const p = at(xp, kw * DW);
            s0 = madd(wv, v128.load(p), s0);
            s1 = madd(wv, v128.load(p, 16), s1);
          }
        }
        v128.store(at(yr, ow), s0);
        v128.store(at(yr, ow), s1, 16);
      }
      for (; ow + 4 <= b; ow += 4) {
        let s0 = bv;
        for (let kh = kh0; kh < kh1; kh++) {
          const xp = at(xr, kh * rowStep + ow);
          const wp = at(wk, kh * KW);
          for (let kw = 0; kw < KW; kw++) s0 = madd(v128.load32_splat(at(wp, kw)), v128.load(at(xp, kw * DW)), s0);
        }
        v128.store(at(yr, ow), s0);
      }
    } else if (ASC_FEATURE_SIMD && SW == 2) {
      // 4 outputs read the even lanes of 8 consecutive inputs; the 8th (unused) must stay inside the row
      const bv = f32x4.splat(bias);
      for (; ow + 4 <= b && 2 * ow - PL + span + 8 <= W; ow += 4) {
        let s0 = bv;
        for (let kh = kh0; kh < kh1; kh++) {
          const xp = at(xr, kh * rowStep + 2 * ow);
          const wp = at(wk, kh * KW);
          for (let kw = 0; kw < KW; kw++) {
            const p = at(xp, kw * DW);
            const xv = i32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
            s0 = madd(v128.load32_splat(at(wp, kw)), xv, s0);
          }
        }
        v128.store(at(yr, ow), s0);
      }
    }
    // rest of the interior: every tap in bounds
    for (; ow < b; ow++) {
      let s = bias;
      for (let kh = kh0; kh < kh1; kh++) {
        const xp = at(xr, kh * rowStep + ow * SW);
        const wp = at(wk, kh * KW);
        for (let kw = 0; kw < KW; kw++) s += load<f32>(at(wp, kw)) * load<f32>(at(xp, kw * DW));
      }
      store<f32>(at(yr, ow), s);
    }
    // border columns: [0, a) and [b, OW), taps checked one by one
    for (let o = 0; o < OW; o++) {
      if (o == a && b > a) { o = b - 1; continue; }
      let s = bias;
      const iw0 = o * SW - PL;
      for (let kh = kh0; kh < kh1; kh++) {
        const xp = at(xr, kh * rowStep + o * SW);
        const wp = at(wk, kh * KW);
        for (let kw = 0; kw < KW; kw++) {
          const iw = iw0 + kw * DW;
          if (iw >= 0 && iw < W) s += load<f32>(at(wp, kw)) * load<f32>(at(xp, kw * DW));
        }
      }
      store<f32>(at(yr, o), s);
    }
  }
}

/**
 * y[n, c*M+m] for every sample, channel and multiplier; b = 0: no bias. Part `part` of `parts`
 * computes its own contiguous range of the n*C (sample, channel) planes.
 */
export function depthwise_forward_f32(desc: usize, x: usize, w: usize, b: usize, y: usize, n: i32, part: i32, parts: i32): void {
  const C = di(desc, 0), H = di(desc, 1), W = di(desc, 2), O = di(desc, 3);
  const KH = di(desc, 4), KW = di(desc, 5), OH = di(desc, 13), OW = di(desc, 14);
  const M = O / C, K = KH * KW, HW = H * W, P = OH * OW;
  const padded = fwdPaddedFits(desc);
  const i1 = threadPartStart(n * C, 1, part + 1, parts);
  for (let i = threadPartStart(n * C, 1, part, parts); i < i1; i++) {
    const s = i / C, c = i % C;
    const xc = at(x, (s * C + c) * HW);
    if (padded) {
      fwdPaddedChannel(desc, xc, at(w, c * M * K), b != 0 ? at(b, c * M) : 0, M, at(y, (s * O + c * M) * P));
      continue;
    }
    for (let m = 0; m < M; m++) {
      const o = c * M + m;
      const bias: f32 = b != 0 ? load<f32>(at(b, o)) : 0;
      forwardPlane(desc, xc, at(w, o * K), bias, at(y, (s * O + o) * P));
    }
  }
}

// ---- transpose ----------------------------------------------------------------------------

/**
 * out (one H x W plane) (+)= sum over the M gradient planes g[m] (OH x OW, consecutive) and filters
 * wk[m] (KH x KW, consecutive) of every tap that reads (ih, iw).
 */
function transposePlane(desc: usize, g: usize, wk: usize, M: i32, out: usize, accumulate: i32): void {
  const H = di(desc, 1), W = di(desc, 2), KH = di(desc, 4), KW = di(desc, 5);
  const SH = di(desc, 6), SW = di(desc, 7), PT = di(desc, 8), PL = di(desc, 9);
  const DH = di(desc, 10), DW = di(desc, 11), OH = di(desc, 13), OW = di(desc, 14);
  const span = (KW - 1) * DW, P = OH * OW, K = KH * KW;
  // taps kh that hit one input row are every khStep-th one (kh*DH = ih+PT mod SH); oh drops by ohStep each
  const khStep = SH / gcd(DH, SH);
  const ohStep = khStep * DH / SH;
  for (let ih = 0; ih < H; ih++) {
    const t = ih + PT; // = oh*SH + kh*DH
    let kh = max(0, ceilDiv(t - (OH - 1) * SH, DH));
    const khEnd = min(KH - 1, floorDiv(t, DH)); // inclusive
    while (kh <= khEnd && (t - kh * DH) % SH != 0) kh++;
    const khFirst = kh;
    const ohFirst = kh <= khEnd ? (t - kh * DH) / SH : 0;
    const orow = at(out, ih * W);
    // the SIMD loops cover columns [simdStart, iw); the rest is done one by one below
    let simdStart = 0, iw = 0;
    if (ASC_FEATURE_SIMD && SW == 1) {
      // interior: iw + PL - span >= 0 and iw + PL <= OW - 1 (every kw reads a valid ow = iw + PL - kw*DW)
      simdStart = iw = min(W, max(0, span - PL));
      const e = min(W, OW - PL);
      for (; iw + 8 <= e; iw += 8) {
        let s0 = accumulate ? v128.load(at(orow, iw)) : f32x4.splat(0);
        let s1 = accumulate ? v128.load(at(orow, iw), 16) : f32x4.splat(0);
        for (let m = 0; m < M; m++) {
          const gm = at(g, m * P + iw + PL), wm = at(wk, m * K);
          for (let k = khFirst, oh = ohFirst; k <= khEnd; k += khStep, oh -= ohStep) {
            const gp = at(gm, oh * OW), wp = at(wm, k * KW);
            for (let kw = 0; kw < KW; kw++) {
              const wv = v128.load32_splat(at(wp, kw));
              const p = at(gp, -kw * DW);
              s0 = madd(wv, v128.load(p), s0);
              s1 = madd(wv, v128.load(p, 16), s1);
            }
          }
        }
        v128.store(at(orow, iw), s0);
        v128.store(at(orow, iw), s1, 16);
      }
      for (; iw + 4 <= e; iw += 4) {
        let s0 = accumulate ? v128.load(at(orow, iw)) : f32x4.splat(0);
        for (let m = 0; m < M; m++) {
          const gm = at(g, m * P + iw + PL), wm = at(wk, m * K);
          for (let k = khFirst, oh = ohFirst; k <= khEnd; k += khStep, oh -= ohStep) {
            const gp = at(gm, oh * OW), wp = at(wm, k * KW);
            for (let kw = 0; kw < KW; kw++) s0 = madd(v128.load32_splat(at(wp, kw)), v128.load(at(gp, -kw * DW)), s0);
          }
        }
        v128.store(at(orow, iw), s0);
      }
    } else if (ASC_FEATURE_SIMD && SW == 2) {
      // 8 outputs iw..iw+7 as an even and an odd half; each tap kw feeds the half whose
      // iw + PL - kw*DW is even, from 4 consecutive g values; every tap in bounds:
      // iw + PL - span >= 0 and (iw + 7 + PL) / 2 <= OW - 1
      simdStart = iw = min(W, max(0, span - PL));
      const e = min(W, 2 * OW - PL);
      for (; iw + 8 <= e; iw += 8) {
        let ev = f32x4.splat(0), od = f32x4.splat(0);
        if (accumulate) {
          const lo = v128.load(at(orow, iw)), hi = v128.load(at(orow, iw), 16);
          ev = i32x4.shuffle(lo, hi, 0, 2, 4, 6);
          od = i32x4.shuffle(lo, hi, 1, 3, 5, 7);
        }
        for (let m = 0; m < M; m++) {
          const wm = at(wk, m * K);
          for (let k = khFirst, oh = ohFirst; k <= khEnd; k += khStep, oh -= ohStep) {
            const gp = at(g, m * P + oh * OW), wp = at(wm, k * KW);
            for (let kw = 0; kw < KW; kw++) {
              const u = iw + PL - kw * DW; // 2*ow of lane 0 (+1 when odd)
              const wv = v128.load32_splat(at(wp, kw));
              if ((u & 1) == 0) ev = madd(wv, v128.load(at(gp, u >> 1)), ev);
              else od = madd(wv, v128.load(at(gp, (u + 1) >> 1)), od);
            }
          }
        }
        v128.store(at(orow, iw), i32x4.shuffle(ev, od, 0, 4, 1, 5));
        v128.store(at(orow, iw), i32x4.shuffle(ev, od, 2, 6, 3, 7), 16);
      }
    }
    // the remaining columns (all of them without SIMD or for other strides), taps checked one by one
    for (let q = 0; q < W; q++) {
      if (q == simdStart && iw > simdStart) { q = iw - 1; continue; }
      let s: f32 = accumulate ? load<f32>(at(orow, q)) : 0;
      for (let m = 0; m < M; m++) {
        const wm = at(wk, m * K);
        for (let k = khFirst, oh = ohFirst; k <= khEnd; k += khStep, oh -= ohStep) {
          const gp = at(g, m * P + oh * OW), wp = at(wm, k * KW);
          for (let kw = 0; kw < KW; kw++) {
            const u = q + PL - kw * DW; // = ow*SW
            if (u < 0) break; // u only decreases with kw
            if (u % SW != 0) continue;
            const ow = u / SW;
            if (ow < OW) s += load<f32>(at(wp, kw)) * load<f32>(at(gp, ow));
          }
        }
      }
      store<f32>(at(orow, q), s);
    }
  }
}

/**
 * out[n, c] (+)= the transpose of depthwise_forward_f32 (no bias); accumulate = 0 overwrites.
 * Part `part` of `parts` computes its own contiguous range of the n*C (sample, channel) planes.
 */
export function depthwise_transpose_f32(desc: usize, g: usize, w: usize, out: usize, n: i32, accumulate: i32, part: i32, parts: i32): void {
  const C = di(desc, 0), H = di(desc, 1), W = di(desc, 2), O = di(desc, 3);
  const KH = di(desc, 4), KW = di(desc, 5), OH = di(desc, 13), OW = di(desc, 14);
  const M = O / C, K = KH * KW, HW = H * W, P = OH * OW;
  const padded = tPaddedFits(desc);
  const i1 = threadPartStart(n * C, 1, part + 1, parts);
  for (let i = threadPartStart(n * C, 1, part, parts); i < i1; i++) {
    const s = i / C, c = i % C;
    if (padded) tPaddedChannel(desc, at(g, (s * O + c * M) * P), at(w, c * M * K), M, at(out, (s * C + c) * HW), accumulate);
    else transposePlane(desc, at(g, (s * O + c * M) * P), at(w, c * M * K), M, at(out, (s * C + c) * HW), accumulate);
  }
}
