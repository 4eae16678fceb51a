// The SIMD fast path of the depthwise kernels: one plane is first copied into a zero-padded plane in the
// static workspace, so that every output of a row is computed 8 or 4 at a time without any bounds check
// (no border columns, no scalar tails except the lanes past the row's end, which are not stored).
// Used when the padded plane fits the workspace (up to about 175 x 175 for a 3x3 kernel); depthwise.ts
// falls back to its bounds-checked gathers otherwise.
//
// Descriptor (Int32 x 16): C H W O KH KW SH SW PT PL DH DW G OH OW.
import { copyFloats, madd, workspace, SMALL_WORKSPACE_BYTES } from "./common";

// @ts-ignore: decorator
@inline function di(desc: usize, i: i32): i32 { return load<i32>(desc + <usize>(i * 4)); }

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize { return p + <usize>(i << 2); }

/** Floats of workspace the padded plane may use (16 floats of slack for the last row's vector reads). */
// @ts-ignore: decorator
@inline const MAX_FLOATS: i32 = <i32>(SMALL_WORKSPACE_BYTES / 4) - 16;

/** Stores lanes [0, rem) of v (rem in 1..3) at p, adding the floats already there when add != 0. */
// @ts-ignore: decorator
@inline function storePartial(p: usize, v: v128, rem: i32, add: bool): void {
  store<f32>(p, f32x4.extract_lane(v, 0) + (add ? load<f32>(p) : 0));
  if (rem > 1) store<f32>(p, f32x4.extract_lane(v, 1) + (add ? load<f32>(p, 4) : 0), 4);
  if (rem > 2) store<f32>(p, f32x4.extract_lane(v, 2) + (add ? load<f32>(p, 8) : 0), 8);
}

/** Row width of the padded input plane of the forward; rows of 4*ceil(OW/4) outputs read inside it. */
function fwdPaddedWidth(desc: usize): i32 {
  const W = di(desc, 2), KW = di(desc, 5), SW = di(desc, 7), PL = di(desc, 9), DW = di(desc, 11), OW = di(desc, 14);
  const OW4 = (OW + 3) & ~3;
  return max(W + PL, (OW4 - 1) * SW + (KW - 1) * DW + 2);
}

function fwdPaddedHeight(desc: usize): i32 {
  const H = di(desc, 1), KH = di(desc, 4), SH = di(desc, 6), PT = di(desc, 8), DH = di(desc, 10), OH = di(desc, 13);
  return max(H + PT, (OH - 1) * SH + (KH - 1) * DH + 1);
}

/** True when the forward of this descriptor can take the padded path (SIMD build, stride 1 or 2, fits). */
export function fwdPaddedFits(desc: usize): bool {
  if (!ASC_FEATURE_SIMD) return false;
  const SW = di(desc, 7);
  if (SW != 1 && SW != 2) return false;
  return <i64>fwdPaddedWidth(desc) * <i64>fwdPaddedHeight(desc) <= <i64>MAX_FLOATS;
}

/** Copies the H x W plane x into the workspace at rows [PT, PT+H), columns [PL, PL+W) of zeros; returns it. */
function padPlane(x: usize, H: i32, W: i32, PT: i32, PL: i32, Hp: i32, Wp: i32): usize {
  const xp = workspace();
  memory.fill(xp, 0, <usize>(Hp * Wp + 16) * 4);
  for (let i = 0; i < H; i++) copyFloats(at(xp, (i + PT) * Wp + PL), at(x, i * W), W);
  return xp;
}

/**
 * fwdPaddedChannel's loop for the common 3x3 kernel, column stride 1, no column dilation: unrolled,
 * with the nine weights in registers for the whole plane (the generic loop reloads them per tap and
 * spends as much on its loop control as on the products: 3-4x slower on these planes).
 */
// @ts-ignore: decorator
@inline function fwd3x3(xp: usize, Wp: i32, ohStep: i32, rowStep: i32, wm: usize, bv: v128, OH: i32, OW: i32, ym: usize): void {
  const w0 = v128.load32_splat(wm), w1 = v128.load32_splat(wm, 4), w2 = v128.load32_splat(wm, 8);
  const w3 = v128.load32_splat(wm, 12), w4 = v128.load32_splat(wm, 16), w5 = v128.load32_splat(wm, 20);
  const w6 = v128.load32_splat(wm, 24), w7 = v128.load32_splat(wm, 28), w8 = v128.load32_splat(wm, 32);
  for (let oh = 0; oh < OH; oh++) {
    const r0 = at(xp, oh * ohStep), yr = at(ym, oh * OW);
    const r1 = at(r0, rowStep), r2 = at(r1, rowStep);
    let ow = 0;
    for (; ow + 8 <= OW; ow += 8) {
      const a = at(r0, ow), c = at(r1, ow), e = at(r2, ow);
      let s0 = madd(w0, v128.load(a), bv), s1 = madd(w0, v128.load(a, 16), bv);
      s0 = madd(w1, v128.load(a, 4), s0); s1 = madd(w1, v128.load(a, 20), s1);
      s0 = madd(w2, v128.load(a, 8), s0); s1 = madd(w2, v128.load(a, 24), s1);
      s0 = madd(w3, v128.load(c), s0); s1 = madd(w3, v128.load(c, 16), s1);
      s0 = madd(w4, v128.load(c, 4), s0); s1 = madd(w4, v128.load(c, 20), s1);
      s0 = madd(w5, v128.load(c, 8), s0); s1 = madd(w5, v128.load(c, 24), s1);
      s0 = madd(w6, v128.load(e), s0); s1 = madd(w6, v128.load(e, 16), s1);
      s0 = madd(w7, v128.load(e, 4), s0); s1 = madd(w7, v128.load(e, 20), s1);
      s0 = madd(w8, v128.load(e, 8), s0); s1 = madd(w8, v128.load(e, 24), s1);
      v128.store(at(yr, ow), s0);
      v128.store(at(yr, ow), s1, 16);
    }
    for (; ow < OW; ow += 4) {
      const a = at(r0, ow), c = at(r1, ow), e = at(r2, ow);
      let s0 = madd(w0, v128.load(a), bv);
      s0 = madd(w1, v128.load(a, 4), s0);
      s0 = madd(w2, v128.load(a, 8), s0);
      s0 = madd(w3, v128.load(c), s0);
      s0 = madd(w4, v128.load(c, 4), s0);
      s0 = madd(w5, v128.load(c, 8), s0);
      s0 = madd(w6, v128.load(e), s0);
      s0 = madd(w7, v128.load(e, 4), s0);
      s0 = madd(w8, v128.load(e, 8), s0);
      if (ow + 4 <= OW) v128.store(at(yr, ow), s0);
      else storePartial(at(yr, ow), s0, OW - ow, false);
    }
  }
}

/** The M output planes of one input channel x (filters wk[m], biases b[m] or none), y[m] consecutive. */
export function fwdPaddedChannel(desc: usize, x: usize, wk: usize, b: usize, M: i32, y: usize): void {
  if (!ASC_FEATURE_SIMD) return; // callers check *PaddedFits first
  {
    const H = di(desc, 1), W = di(desc, 2), KH = di(desc, 4), KW = di(desc, 5);
    const SH = di(desc, 6), SW = di(desc, 7), PT = di(desc, 8), PL = di(desc, 9);
    const DH = di(desc, 10), DW = di(desc, 11), OH = di(desc, 13), OW = di(desc, 14);
    const Wp = fwdPaddedWidth(desc), Hp = fwdPaddedHeight(desc);
    const xp = padPlane(x, H, W, PT, PL, Hp, Wp);
    const K = KH * KW, P = OH * OW, rowStep = DH * Wp;
    for (let m = 0; m < M; m++) {
      const wm = at(wk, m * K), ym = at(y, m * P);
      const bv = b != 0 ? v128.load32_splat(at(b, m)) : f32x4.splat(0);
      if (SW == 1 && KH == 3 && KW == 3 && DW == 1) {
        fwd3x3(xp, Wp, SH * Wp, rowStep, wm, bv, OH, OW, ym);
        continue;
      }
      for (let oh = 0; oh < OH; oh++) {
        const xr = at(xp, oh * SH * Wp), yr = at(ym, oh * OW);
        let ow = 0;
        if (SW == 1) {
          for (; ow + 8 <= OW; ow += 8) {
            let s0 = bv, s1 = bv;
            for (let kh = 0; kh < KH; kh++) {
              const xk = at(xr, kh * rowStep + ow), wp = at(wm, kh * KW);
              for (let kw = 0; kw < KW; kw++) {
                const wv = v128.load32_splat(at(wp, kw)), p = at(xk, kw * DW);
                s0 = madd(wv, v128.load(p), s0);
                s1 = madd(wv, v128.load(p, 16), s1);
              }
            }
            v128.store(at(yr, ow), s0);
            v128.store(at(yr, ow), s1, 16);
          }
          for (; ow < OW; ow += 4) {
            let s0 = bv;
            for (let kh = 0; kh < KH; kh++) {
              const xk = at(xr, kh * rowStep + ow), wp = at(wm, kh * KW);
              for (let kw = 0; kw < KW; kw++) s0 = madd(v128.load32_splat(at(wp, kw)), v128.load(at(xk, kw * DW)), s0);
            }
            if (ow + 4 <= OW) v128.store(at(yr, ow), s0);
            else storePartial(at(yr, ow), s0, OW - ow, false);
          }
        } else {
          // stride 2: the even lanes of 8 consecutive inputs
          for (; ow < OW; ow += 4) {
            let s0 = bv;
            for (let kh = 0; kh < KH; kh++) {
              const xk = at(xr, kh * rowStep + 2 * ow), wp = at(wm, kh * KW);
              for (let kw = 0; kw < KW; kw++) {
                const p = at(xk, kw * DW);
                s0 = madd(v128.load32_splat(at(wp, kw)), i32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 2, 4, 6), s0);
              }
            }
            if (ow + 4 <= OW) v128.store(at(yr, ow), s0);
            else storePartial(at(yr, ow), s0, OW - ow, false);
          }
        }
      }
    }
  }
}

// ---- transpose: a gather from the zero-padded gradient plane ------------------------------------------
// gp[oh + ROFF, ow + COFF] = g[oh, ow] (zero elsewhere), ROFF = ceil((KH-1)*DH / SH), COFF = ceil((KW-1)*DW / SW),
// so that every (oh, ow) a tap reads from any output (ih, iw) lies inside gp.

export function gcd(a: i32, b: i32): i32 {
  while (b != 0) { const t = a % b; a = b; b = t; }
  return a;
}

// @ts-ignore: decorator
@inline function rowOff(desc: usize): i32 { const SH = di(desc, 6); return ((di(desc, 4) - 1) * di(desc, 10) + SH - 1) / SH; }
// @ts-ignore: decorator
@inline function colOff(desc: usize): i32 { const SW = di(desc, 7); return ((di(desc, 5) - 1) * di(desc, 11) + SW - 1) / SW; }

function tPaddedWidth(desc: usize): i32 {
  const W = di(desc, 2), SW = di(desc, 7), PL = di(desc, 9), OW = di(desc, 14);
  const cOff = colOff(desc);
  // stride 1: columns iw + PL + COFF - kw*DW of rows of 8*ceil(W/8); stride 2: half of that over 8*ceil(W/8)
  const reach = SW == 1 ? ((W + 7) & ~7) + PL + cOff : (((W + 7) & ~7) + PL) / 2 + cOff + 4;
  return max(OW + cOff, reach + 1);
}

function tPaddedHeight(desc: usize): i32 {
  const H = di(desc, 1), SH = di(desc, 6), PT = di(desc, 8), OH = di(desc, 13);
  const rOff = rowOff(desc);
  return max(OH, (H - 1 + PT) / SH + 1) + rOff;
}

/** True when the transpose of this descriptor can take the padded path (SIMD build, column stride 1 or 2, fits). */
export function tPaddedFits(desc: usize): bool {
  const SW = di(desc, 7);
  if (!ASC_FEATURE_SIMD || (SW != 1 && SW != 2)) return false;
  return <i64>tPaddedWidth(desc) * <i64>tPaddedHeight(desc) <= <i64>MAX_FLOATS;
}

/**
 * tPaddedChannel's loop for a 3x3 kernel, stride 1, no column dilation, unrolled with the weights in
 * registers (see fwd3x3); taps in the generic loop's order, so the sums are the same. Output row ih
 * reads gp rows ih + r0 - kh*rowStep/Wp, columns iw + c0 - kw.
 */
// @ts-ignore: decorator
@inline function tr3x3(gp: usize, Wp: i32, r0: i32, c0: i32, rowStep: i32, wm: usize, H: i32, W: i32, out: usize, add: bool): void {
  const w0 = v128.load32_splat(wm), w1 = v128.load32_splat(wm, 4), w2 = v128.load32_splat(wm, 8);
  const w3 = v128.load32_splat(wm, 12), w4 = v128.load32_splat(wm, 16), w5 = v128.load32_splat(wm, 20);
  const w6 = v128.load32_splat(wm, 24), w7 = v128.load32_splat(wm, 28), w8 = v128.load32_splat(wm, 32);
  const z = f32x4.splat(0);
  for (let ih = 0; ih < H; ih++) {
    // two floats left of the tap kw = 0 column: the loads' offsets are unsigned
    const g0 = at(gp, (ih + r0) * Wp + c0 - 2), orow = at(out, ih * W);
    const g1 = at(g0, -rowStep), g2 = at(g1, -rowStep);
    for (let iw = 0; iw < W; iw += 8) {
      const a = at(g0, iw), c = at(g1, iw), e = at(g2, iw);
      let s0 = madd(w0, v128.load(a, 8), z), s1 = madd(w0, v128.load(a, 24), z);
      s0 = madd(w1, v128.load(a, 4), s0); s1 = madd(w1, v128.load(a, 20), s1);
      s0 = madd(w2, v128.load(a), s0); s1 = madd(w2, v128.load(a, 16), s1);
      s0 = madd(w3, v128.load(c, 8), s0); s1 = madd(w3, v128.load(c, 24), s1);
      s0 = madd(w4, v128.load(c, 4), s0); s1 = madd(w4, v128.load(c, 20), s1);
      s0 = madd(w5, v128.load(c), s0); s1 = madd(w5, v128.load(c, 16), s1);
      s0 = madd(w6, v128.load(e, 8), s0); s1 = madd(w6, v128.load(e, 24), s1);
      s0 = madd(w7, v128.load(e, 4), s0); s1 = madd(w7, v128.load(e, 20), s1);
      s0 = madd(w8, v128.load(e), s0); s1 = madd(w8, v128.load(e, 16), s1);
      storeRow8(at(orow, iw), s0, s1, W - iw, add);
    }
  }
}

/**
 * out (one H x W plane) (+)= sum over m of the transpose of filter wk[m] applied to gradient plane g[m]:
 * out[ih, iw] += w[kh, kw] * g[oh, ow] for every tap with oh*SH = ih + PT - kh*DH, ow*SW = iw + PL - kw*DW.
 * The rows kh that hit ih are every khStep-th (kh*DH = ih + PT mod SH); stride 2 columns split into
 * the even and the odd outputs, each fed by the taps of its parity from 4 consecutive gradients.
 */
export function tPaddedChannel(desc: usize, g: usize, wk: usize, M: i32, out: usize, accumulate: i32): void {
  if (!ASC_FEATURE_SIMD) return; // callers check tPaddedFits first
  const H = di(desc, 1), W = di(desc, 2), KH = di(desc, 4), KW = di(desc, 5);
  const SH = di(desc, 6), SW = di(desc, 7), PT = di(desc, 8), PL = di(desc, 9);
  const DH = di(desc, 10), DW = di(desc, 11), OH = di(desc, 13), OW = di(desc, 14);
  const Wp = tPaddedWidth(desc), Hp = tPaddedHeight(desc);
  const rOff = rowOff(desc), cOff = colOff(desc);
  const K = KH * KW, P = OH * OW;
  const khStep = SH / gcd(DH, SH);
  const rowStep = (khStep * DH / SH) * Wp; // gp rows between two taps kh, kh + khStep
  for (let m = 0; m < M; m++) {
    const gp = padPlane(at(g, m * P), OH, OW, rOff, cOff, Hp, Wp);
    const wm = at(wk, m * K);
    const add = accumulate != 0 || m > 0;
    if (SW == 1 && SH == 1 && KH == 3 && KW == 3 && DW == 1) {
      tr3x3(gp, Wp, PT + rOff, PL + cOff, DH * Wp, wm, H, W, out, add);
      continue;
    }
    for (let ih = 0; ih < H; ih++) {
      const t = ih + PT + rOff * SH; // = (gp row) * SH + kh*DH, >= 0
      let kh0 = 0;
      while (kh0 < KH && (t - kh0 * DH) % SH != 0) kh0++;
      const gr0 = at(gp, (kh0 < KH ? (t - kh0 * DH) / SH : 0) * Wp); // gp row of tap kh0
      const orow = at(out, ih * W);
      let iw = 0;
      if (SW == 1) {
        for (; iw < W; iw += 8) {
          let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
          for (let kh = kh0, gr = gr0; kh < KH; kh += khStep, gr -= <usize>rowStep * 4) {
            const gk = at(gr, iw + PL + cOff), wp = at(wm, kh * KW);
            for (let kw = 0; kw < KW; kw++) {
              const wv = v128.load32_splat(at(wp, kw)), p = at(gk, -kw * DW);
              s0 = madd(wv, v128.load(p), s0);
              s1 = madd(wv, v128.load(p, 16), s1);
            }
          }
          storeRow8(at(orow, iw), s0, s1, W - iw, add);
        }
      } else {
        for (; iw < W; iw += 8) {
          let ev = f32x4.splat(0), od = f32x4.splat(0);
          for (let kh = kh0, gr = gr0; kh < KH; kh += khStep, gr -= <usize>rowStep * 4) {
            const wp = at(wm, kh * KW);
            for (let kw = 0; kw < KW; kw++) {
              const u = iw + PL + 2 * cOff - kw * DW; // 2 * (gp column of output iw), +1 when iw is odd there
              const wv = v128.load32_splat(at(wp, kw));
              if ((u & 1) == 0) ev = madd(wv, v128.load(at(gr, u >> 1)), ev);
              else od = madd(wv, v128.load(at(gr, (u + 1) >> 1)), od);
            }
          }
          storeRow8(at(orow, iw), i32x4.shuffle(ev, od, 0, 4, 1, 5), i32x4.shuffle(ev, od, 2, 6, 3, 7), W - iw, add);
        }
      }
    }
  }
}

/** Stores the first min(rem, 8) of the 8 floats lo, hi at p (adding what is there when add). */
// @ts-ignore: decorator
@inline function storeRow8(p: usize, lo: v128, hi: v128, rem: i32, add: bool): void {
  if (rem >= 8) {
    if (add) { lo = f32x4.add(lo, v128.load(p)); hi = f32x4.add(hi, v128.load(p, 16)); }
    v128.store(p, lo);
    v128.store(p, hi, 16);
  } else if (rem >= 4) {
    v128.store(p, add ? f32x4.add(lo, v128.load(p)) : lo);
    if (rem > 4) storePartial(p + 16, hi, rem - 4, add);
  } else {
    storePartial(p, lo, rem, add);
  }
}
