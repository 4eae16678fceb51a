// 2-D convolution (cross-correlation, zero padding, stride, dilation, groups) by im2col + GEMM,
// and its transpose (GEMM into the column buffer, then col2im scatter-add).
//
// Descriptor (Int32 x 16): C H W O KH KW SH SW PT PL DH DW G OH OW.
// The im2col column buffer is built for a block of PB output positions at a time (PB chosen so the
// block, Cg*KH*KW x PB floats, stays around COL_BLOCK_BYTES and in cache), so the scratch is
// Cg*KH*KW * PB floats, independent of the batch (per thread: a threaded call gets one such slice per
// thread, see threadSlot). A pointwise conv (1x1, stride 1, no padding) multiplies straight from / into
// the activations, and a depthwise conv (one input channel per group, any channel multiplier) runs the
// direct kernel of depthwise.ts; neither needs scratch.
import { gemm_bias_f32, gemm_f32 } from "./gemm";
import { isDepthwise, depthwise_forward_f32, depthwise_transpose_f32 } from "./depthwise";
import { copyFloats, partStart, threadPartStart, threadParts, threadSlot, zeroFloats } from "./common";
import { add_f32 } from "./elementwise";

// @ts-ignore: decorator
@inline function di(desc: usize, i: i32): i32 { return load<i32>(desc + <usize>(i * 4)); }

function isPointwise(desc: usize): bool {
  return di(desc, 4) == 1 && di(desc, 5) == 1 && di(desc, 6) == 1 && di(desc, 7) == 1 &&
    di(desc, 8) == 0 && di(desc, 9) == 0 && di(desc, 13) == di(desc, 1) && di(desc, 14) == di(desc, 2);
}

/** Target size of one im2col block (bytes). */
// @ts-ignore: decorator
@inline const COL_BLOCK_BYTES: i32 = 192 * 1024;
/** Fewest output positions per im2col block (see colBlock). */
// @ts-ignore: decorator
@inline const MIN_COL_BLOCK: i32 = 256;

/**
 * Output positions per im2col block: a multiple of 8 (or all of P), at least MIN_COL_BLOCK. The GEMM
 * packs the weights once per block, so a block narrower than that repacks them for every few columns
 * (VGG16's 512-channel layers got 8 columns and spent a fifth of predict in packing).
 */
function colBlock(Kd: i32, P: i32): i32 {
  let pb = COL_BLOCK_BYTES / (max(Kd, 1) * 4);
  pb = max(MIN_COL_BLOCK, pb & ~7);
  return min(pb, P);
}

/** Bytes of scratch conv2d_forward_f32 / conv2d_transpose_f32 need (mirrors convScratchBytes in TS). */
export function conv2d_scratch_bytes(desc: usize): i32 {
  if (isPointwise(desc) || isDepthwise(desc)) return 0;
  const Kd = (di(desc, 0) / di(desc, 12)) * di(desc, 4) * di(desc, 5);
  return Kd * colBlock(Kd, di(desc, 13) * di(desc, 14)) * 4;
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

/**
 * Columns [p0, p1) of the im2col matrix, as a [Cg*KH*KW, p1-p0] block:
 * col[(c*KH+kh)*KW+kw, p-p0] = x[c, oh*SH-PT+kh*DH, ow*SW-PL+kw*DW] with p = oh*OW+ow (0 outside).
 */
function im2col(desc: usize, x: usize, Cg: i32, col: usize, p0: i32, p1: i32): void {
  const H = di(desc, 1), W = di(desc, 2), KH = di(desc, 4), KW = di(desc, 5);
  const SH = di(desc, 6), SW = di(desc, 7), PT = di(desc, 8), PL = di(desc, 9);
  const DH = di(desc, 10), DW = di(desc, 11), OH = di(desc, 13), OW = di(desc, 14);
  const np = p1 - p0;
  const oh0 = p0 / OW, oh1 = (p1 - 1) / OW;
  // stride 1 with OW == W ('same' padding): an im2col row is the plane shifted by a constant, so one
  // copy fills it (short per-output-row copies cost more than the copying on small planes)
  const shifted = SH == 1 && SW == 1 && OW == W;
  let row = col;
  for (let c = 0; c < Cg; c++) {
    const xc = x + <usize>(c * H * W) * 4;
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const kwOff = kw * DW;
        const lo = owLow(PL, kwOff, SW, OW);
        const hi = max(lo, owHigh(PL, kwOff, SW, OW, W));
        if (shifted) {
          shiftedRow(xc, H * W, OW, (kh * DH - PT) * W + kwOff - PL, max(0, PT - kh * DH), min(OH, H + PT - kh * DH), lo, hi, row, p0, p1);
          row += <usize>np * 4;
          continue;
        }
        for (let oh = oh0; oh <= oh1; oh++) {
          const s = oh == oh0 ? p0 - oh * OW : 0;
          const e = oh == oh1 ? p1 - oh * OW : OW;
          // dst[ow] for ow in [s, e); oh*OW - p0 may be negative on the block's first row (usize
          // arithmetic wraps modulo 2^32 in wasm32, and only dst + s*4 >= row is dereferenced)
          const dst = row + <usize>(oh * OW - p0) * 4;
          const ih = oh * SH - PT + kh * DH;
          if (ih < 0 || ih >= H) {
            zeroFloats(dst + <usize>s * 4, e - s);
            continue;
          }
          const a = max(lo, s), b = min(hi, e);
          if (a >= b) {
            zeroFloats(dst + <usize>s * 4, e - s);
            continue;
          }
          if (a > s) zeroFloats(dst + <usize>s * 4, a - s);
          if (b < e) zeroFloats(dst + <usize>b * 4, e - b);
          const src = xc + <usize>(ih * W) * 4;
          let ow = a;
          let iw = a * SW - PL + kwOff;
          if (SW == 1) {
            copyFloats(dst + <usize>a * 4, src + <usize>iw * 4, b - a);
          } else {
            if (ASC_FEATURE_SIMD && SW == 2) {
              // even lanes of two loads; stay inside the row
              for (; ow + 4 <= b && iw + 8 <= W; ow += 4, iw += 8) {
                const p = src + <usize>iw * 4;
                v128.store(dst + <usize>ow * 4, i32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 2, 4, 6));
              }
            }
            for (; ow < b; ow++, iw += SW) store<f32>(dst + <usize>ow * 4, load<f32>(src + <usize>iw * 4));
          }
        }
        row += <usize>np * 4;
      }
    }
  }
}

/**
 * One im2col row where column p reads plane[p + off] (stride 1, OW == W), for columns [p0, p1): output
 * rows [ohLo, ohHi) and columns [lo, hi) of each row read inside the plane (of HW floats), the rest is 0.
 */
function shiftedRow(plane: usize, HW: i32, OW: i32, off: i32, ohLo: i32, ohHi: i32, lo: i32, hi: i32, dst: usize, p0: i32, p1: i32): void {
  // columns whose source lies in the plane; the ones outside [lo, hi) of their row are zeroed below
  const c0 = max(max(p0, ohLo * OW), -off), c1 = min(min(p1, ohHi * OW), HW - off);
  if (c0 >= c1 || lo >= hi) {
    zeroFloats(dst, p1 - p0);
    return;
  }
  zeroFloats(dst, c0 - p0);
  copyFloats(dst + <usize>(c0 - p0) * 4, plane + <usize>(c0 + off) * 4, c1 - c0);
  zeroFloats(dst + <usize>(c1 - p0) * 4, p1 - c1);
  zeroEdgeColumns(dst, OW, lo, hi, c0, c1, p0);
}

/** buf[p - p0] = 0 for the columns p in [c0, c1) whose column in their row, p % OW, is outside [lo, hi). */
function zeroEdgeColumns(buf: usize, OW: i32, lo: i32, hi: i32, c0: i32, c1: i32, p0: i32): void {
  if (lo == 0 && hi == OW) return;
  // one edge column at a time, a store every OW floats (the edges are a padding's width: per-row loops
  // with their bounds cost small planes, e.g. 14x14, more than the stores)
  const first = (c0 / OW) * OW;
  for (let j = 0; j < OW; j++) {
    if (j == lo) j = max(lo, hi);
    if (j >= OW) break;
    let p = first + j;
    if (p < c0) p += OW;
    for (; p < c1; p += OW) store<f32>(buf + <usize>(p - p0) * 4, 0);
  }
}

/**
 * The transpose of shiftedRow: plane[p + off] += src[p - p0] for the columns p of [p0, p1) that read inside
 * the plane. src is the column block (scratch, written by the GEMM just before): its columns outside
 * [lo, hi) of their row are zeroed first, so that one contiguous add covers the rest.
 */
function shiftedRowAdd(plane: usize, HW: i32, OW: i32, off: i32, ohLo: i32, ohHi: i32, lo: i32, hi: i32, src: usize, p0: i32, p1: i32): void {
  const c0 = max(max(p0, ohLo * OW), -off), c1 = min(min(p1, ohHi * OW), HW - off);
  if (c0 >= c1 || lo >= hi) return;
  zeroEdgeColumns(src, OW, lo, hi, c0, c1, p0);
  const d = plane + <usize>(c0 + off) * 4;
  add_f32(d, src + <usize>(c0 - p0) * 4, d, c1 - c0);
}

/** out[c, ih, iw] += col[(c*KH+kh)*KW+kw, p-p0] for every valid tap of columns [p0, p1) (transpose of im2col). */
function col2im(desc: usize, col: usize, Cg: i32, out: usize, p0: i32, p1: i32): void {
  const H = di(desc, 1), W = di(desc, 2), KH = di(desc, 4), KW = di(desc, 5);
  const SH = di(desc, 6), SW = di(desc, 7), PT = di(desc, 8), PL = di(desc, 9);
  const DH = di(desc, 10), DW = di(desc, 11), OH = di(desc, 13), OW = di(desc, 14);
  const np = p1 - p0;
  const oh0 = p0 / OW, oh1 = (p1 - 1) / OW;
  const shifted = SH == 1 && SW == 1 && OW == W; // as in im2col
  let row = col;
  for (let c = 0; c < Cg; c++) {
    const oc = out + <usize>(c * H * W) * 4;
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const kwOff = kw * DW;
        const lo = owLow(PL, kwOff, SW, OW);
        const hi = owHigh(PL, kwOff, SW, OW, W);
        if (shifted) {
          shiftedRowAdd(oc, H * W, OW, (kh * DH - PT) * W + kwOff - PL, max(0, PT - kh * DH), min(OH, H + PT - kh * DH), lo, hi, row, p0, p1);
          row += <usize>np * 4;
          continue;
        }
        for (let oh = oh0; oh <= oh1; oh++) {
          const ih = oh * SH - PT + kh * DH;
          if (ih < 0 || ih >= H) continue;
          const a = max(lo, oh == oh0 ? p0 - oh * OW : 0);
          const b = min(hi, oh == oh1 ? p1 - oh * OW : OW);
          const src = row + <usize>(oh * OW - p0) * 4; // wraps like in im2col; read from a >= s only
          const dst = oc + <usize>(ih * W) * 4;
          let ow = a;
          let iw = a * SW - PL + kwOff;
          if (ASC_FEATURE_SIMD && SW == 1) {
            for (; ow + 4 <= b; ow += 4, iw += 4) {
              const q = dst + <usize>iw * 4;
              v128.store(q, f32x4.add(v128.load(q), v128.load(src + <usize>ow * 4)));
            }
          }
          for (; ow < b; ow++, iw += SW) {
            const q = dst + <usize>iw * 4;
            store<f32>(q, load<f32>(q) + load<f32>(src + <usize>ow * 4));
          }
        }
        row += <usize>np * 4;
      }
    }
  }
}

/** Rows of the GEMM's register tile (gemm.ts MR): a part of the transposed product gets at least this many. */
// @ts-ignore: decorator
@inline const TILE_ROWS: i32 = 4;

/** Output columns a part of a pointwise product starts at: multiples of 16 (the GEMM's widest unpacked step). */
// @ts-ignore: decorator
@inline const COL_GRAIN: i32 = 16;

/** Columns of the GEMM's register tile (gemm.ts NR): column ranges of a part start at multiples of it. */
// @ts-ignore: decorator
@inline const NR_COLS: i32 = 8;

/**
 * How many column ranges the `groups` parts that share one im2col block of `width` columns split it
 * into (a divisor of groups; the rest of the split is over the output channels). Each part builds the
 * im2col of its own columns, for all its rows, and packs the weights of its rows, for all its columns:
 * splitting rows only had 8 parts each build the whole block (ResNet50's 3x3 convs on 7x7-28x28 planes did
 * 1.2-1.6x the work of one part), splitting columns only had each pack all the weights. The count minimises
 * im2col floats built (a 3x3 conv's gather cost about 4 packed weight floats each, a 1x1 one's 1) plus
 * weight floats packed, both per reduction row.
 */
function blockColumnRanges(groups: i32, width: i32, Og: i32, taps: i32): i32 {
  const gather: i64 = taps > 1 ? 4 : 1;
  let best = 1, bestCost: i64 = i64.MAX_VALUE;
  for (let c = 1; c <= groups; c++) {
    if (groups % c != 0 || (c > 1 && width / c < NR_COLS)) continue;
    const cost = gather * <i64>(groups / c) * <i64>width + <i64>c * <i64>Og;
    if (cost < bestCost) { best = c; bestCost = cost; }
  }
  return best;
}

/**
 * Columns per part below which the parts of a pointwise product split its rows instead (ResNet's 14x14
 * and 7x7 planes at batch 1): a few columns per part left most parts idle and had each busy one pack
 * all of W for a GEMM 16 columns wide.
 */
// @ts-ignore: decorator
@inline const MIN_PART_COLS: i32 = 64;

/** True when the parts of a pointwise product over P positions split rows (see MIN_PART_COLS). */
// @ts-ignore: decorator
@inline function pointwiseByRows(P: i32, parts: i32): bool {
  return parts > 1 && P < MIN_PART_COLS * parts;
}

/**
 * y[n,o,oh,ow] = sum_{c,kh,kw} x[n, g*Cg+c, ...] * w[o,c,kh,kw] + b[o]; b = 0: no bias.
 * Part `part` of `parts` (threads) computes the output positions of its own range of im2col blocks
 * (pointwise: of 16-aligned columns, or on small planes its own output channels, see MIN_PART_COLS)
 * in its thread's slice of the scratch (one slice of conv2d_scratch_bytes per thread, see threadSlot);
 * the blocks are those of parts = 1, so every output is the same sum.
 * With fewer blocks than parts (small planes, wide blocks) a part takes one block, and of it its own
 * column range and group of output channels (TILE_ROWS at least; see blockColumnRanges).
 */
export function conv2d_forward_f32(
  desc: usize, x: usize, w: usize, b: usize, y: usize, scratch: usize, n: i32, part: i32, parts: i32,
): void {
  const C = di(desc, 0), H = di(desc, 1), W = di(desc, 2), O = di(desc, 3);
  const KH = di(desc, 4), KW = di(desc, 5), G = di(desc, 12), OH = di(desc, 13), OW = di(desc, 14);
  if (isDepthwise(desc)) {
    depthwise_forward_f32(desc, x, w, b, y, n, part, parts);
    return;
  }
  const Cg = C / G, Og = O / G, P = OH * OW, Kd = Cg * KH * KW;
  const pointwise = isPointwise(desc);
  const pb = pointwise ? P : colBlock(Kd, P);
  const blocks = (P + pb - 1) / pb;
  // pointwise: one block of all P columns, split into 16-aligned column ranges, or on small planes into
  // row ranges of TILE_ROWS or more; fewer blocks than parts: each block in parts / blocks groups (column
  // ranges × row ranges), part p taking block p % blocks, group p / blocks; else whole blocks
  let lo = 0, hi = P, r0 = 0, r1 = Og;
  if (pointwise && pointwiseByRows(P, parts)) {
    const rp = threadParts(parts);
    r0 = partStart(Og, TILE_ROWS, part, rp);
    r1 = partStart(Og, TILE_ROWS, part + 1, rp);
    if (r0 >= r1) return;
  } else if (!pointwise && blocks < parts) {
    // one block (small planes): threadParts parts
    const groups = blocks == 1 ? threadParts(parts) : parts / blocks;
    if (part >= blocks * groups) return;
    const b0 = (part % blocks) * pb, width = min(P, b0 + pb) - b0;
    // the block's columns in `cols` ranges, its rows in groups / cols row groups
    const cols = blockColumnRanges(groups, width, Og, KH * KW), rowGroups = groups / cols;
    const g = part / blocks;
    if (g >= cols * rowGroups) return;
    lo = b0 + partStart(width, NR_COLS, g % cols, cols);
    hi = b0 + partStart(width, NR_COLS, g % cols + 1, cols);
    r0 = partStart(Og, TILE_ROWS, g / cols, rowGroups);
    r1 = partStart(Og, TILE_ROWS, g / cols + 1, rowGroups);
    if (lo >= hi || r0 >= r1) return;
  } else {
    lo = pointwise ? threadPartStart(P, COL_GRAIN, part, parts) : threadPartStart(blocks, 1, part, parts) * pb;
    hi = pointwise ? threadPartStart(P, COL_GRAIN, part + 1, parts) : min(P, threadPartStart(blocks, 1, part + 1, parts) * pb);
    if (lo >= hi) return;
  }
  const rows = r1 - r0;
  const col = scratch + <usize>threadSlot() * <usize>conv2d_scratch_bytes(desc);
  for (let s = 0; s < n; s++) {
    for (let g = 0; g < G; g++) {
      const xg = x + <usize>((s * C + g * Cg) * H * W) * 4;
      const yg = y + <usize>((s * O + g * Og + r0) * P) * 4;
      const wg = w + <usize>((g * Og + r0) * Kd) * 4;
      const step = pointwise ? hi - lo : pb;
      for (let p0 = lo; p0 < hi; p0 += step) {
        const np = min(step, hi - p0);
        // the bias is added as the GEMM stores its tiles (gemm_bias_f32)
        const bg: usize = b == 0 ? 0 : b + <usize>(g * Og + r0) * 4;
        if (pointwise) {
          gemm_bias_f32(rows, np, Kd, wg, Kd, 1, xg + <usize>p0 * 4, P, 1, yg + <usize>p0 * 4, P, bg);
        } else {
          im2col(desc, xg, Cg, col, p0, p0 + np);
          gemm_bias_f32(rows, np, Kd, wg, Kd, 1, col, np, 1, yg + <usize>p0 * 4, P, bg);
        }
      }
    }
  }
}

/**
 * out[n,c,h,w] (+)= sum over taps of g[n,o,oh,ow] * w[o,c,kh,kw]; untouched positions get 0.
 * Part `part` of `parts` computes its own input channels (so no two parts add into one element;
 * at least TILE_ROWS rows of the product each, so the GEMM takes the path it takes for parts = 1),
 * pointwise: its own 16-aligned columns, or on small planes its own input channels (MIN_PART_COLS).
 * Scratch: one slice of conv2d_scratch_bytes per thread (threadSlot).
 */
export function conv2d_transpose_f32(
  desc: usize, gr: usize, w: usize, out: usize, scratch: usize, n: i32, accumulate: i32, part: i32, parts: i32,
): void {
  const C = di(desc, 0), H = di(desc, 1), W = di(desc, 2), O = di(desc, 3);
  const KH = di(desc, 4), KW = di(desc, 5), G = di(desc, 12), OH = di(desc, 13), OW = di(desc, 14);
  if (isDepthwise(desc)) {
    depthwise_transpose_f32(desc, gr, w, out, n, accumulate, part, parts);
    return;
  }
  const Cg = C / G, Og = O / G, P = OH * OW, Kd = Cg * KH * KW, taps = KH * KW;
  if (isPointwise(desc)) {
    const byRows = pointwiseByRows(P, parts), rp = threadParts(parts);
    const j0 = byRows ? 0 : threadPartStart(P, COL_GRAIN, part, parts), j1 = byRows ? P : threadPartStart(P, COL_GRAIN, part + 1, parts);
    const c0 = byRows ? partStart(Kd, TILE_ROWS, part, rp) : 0, c1 = byRows ? partStart(Kd, TILE_ROWS, part + 1, rp) : Kd;
    if (j0 >= j1 || c0 >= c1) return;
    for (let s = 0; s < n; s++) {
      for (let g = 0; g < G; g++) {
        const gg = gr + <usize>((s * O + g * Og) * P + j0) * 4;
        const og = out + <usize>((s * C + g * Cg + c0) * H * W + j0) * 4;
        // rows [c0, c1) of A(i = kd, k = o) = wg[o*Kd + kd]  (W_g transposed)
        gemm_f32(c1 - c0, j1 - j0, Og, w + <usize>(g * Og * Kd + c0) * 4, 1, Kd, gg, P, 1, og, P, accumulate);
      }
    }
    return;
  }
  const grain = (TILE_ROWS + taps - 1) / taps;
  const c0 = threadPartStart(Cg, grain, part, parts), c1 = threadPartStart(Cg, grain, part + 1, parts);
  if (c0 >= c1) return;
  const col = scratch + <usize>threadSlot() * <usize>conv2d_scratch_bytes(desc);
  const rows = (c1 - c0) * taps;
  const pb = colBlock(Kd, P);
  for (let s = 0; s < n; s++) {
    for (let g = 0; g < G; g++) {
      const gg = gr + <usize>((s * O + g * Og) * P) * 4;
      const og = out + <usize>((s * C + g * Cg + c0) * H * W) * 4;
      // rows [c0*taps, c1*taps) of A(i = kd, k = o) = wg[o*Kd + kd]  (W_g transposed)
      const wg = w + <usize>(g * Og * Kd + c0 * taps) * 4;
      if (!accumulate) memory.fill(og, 0, <usize>((c1 - c0) * H * W) * 4);
      for (let p0 = 0; p0 < P; p0 += pb) {
        const np = min(pb, P - p0);
        gemm_f32(rows, np, Og, wg, 1, Kd, gg + <usize>p0 * 4, P, 1, col, np, 0);
        col2im(desc, col, c1 - c0, og, p0, p0 + np);
      }
    }
  }
}

/**
 * Two transposed products of one conv that overwrite two outputs, outA = J^T(g; wA) and outB = J^T(g; wB)
 * (a rule's x⁺ and x⁻ terms), in one threaded call, each on its own threads: even parts compute A's
 * parts, odd ones B's, max(1, threads / 2) parts each (threadParts). A first layer's transpose splits by
 * its few input channels (3 on an image), and every part packs all of g whatever its share: alone on two
 * threads it ran 1.3-1.4x faster than on one. Each product is computed exactly as by conv2d_transpose_f32
 * (any parts give the same numbers); parts = 1 computes both in turn.
 */
export function conv2d_transpose_pair_f32(
  desc: usize, gr: usize, wA: usize, outA: usize, wB: usize, outB: usize, scratch: usize, n: i32, part: i32, parts: i32,
): void {
  if (parts == 1) {
    conv2d_transpose_f32(desc, gr, wA, outA, scratch, n, 0, 0, 1);
    conv2d_transpose_f32(desc, gr, wB, outB, scratch, n, 0, 0, 1);
    return;
  }
  const each = max(1, threadParts(parts) / 2), b = part & 1, sub = part >> 1;
  if (sub >= each) return;
  conv2d_transpose_f32(desc, gr, b ? wB : wA, b ? outB : outA, scratch, n, 0, sub, each);
}
