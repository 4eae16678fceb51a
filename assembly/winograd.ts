// Winograd convolution F(m x m, 3 x 3), m = 2 or 4, for 3x3 convs with stride 1, dilation 1, groups 1
// (any padding, any H and W: edge tiles read zeros and write only the outputs that exist).
//
// Each output tile of m x m values is computed from an a x a input tile (a = m + 2) as
//   Y = A^T [ sum_c U[o,c] (.) V[c] ] A,   U = G g G^T (filter),   V = B^T d B (input tile),
// so the a*a element-wise products over channels become a*a independent GEMMs
//   M_t[O x tiles] = U_t[O x C] . V_t[C x tiles]   (gemm_packed_f32), t < a*a,
// costing a^2 / (9 m^2) of the direct conv's multiplies (F(2,3): 0.44, F(4,3): 0.25).
//
// Layouts: U [a*a] planes, each U_t in the GEMM's packed-A layout (gemm.ts: MR-row panels per KC slice),
// computed once per weight set by winograd_filter_f32, so the GEMMs never repack it; per block of tile
// rows the scratch holds V [a*a][C][tiles] and M [a*a][O][tiles]. Tiles are enumerated as rows of
// tilesWp tiles (tilesW rounded up to 4, the SIMD width; the extra tiles read zeros and are not
// stored); the rows of all samples follow each other, so small images share one GEMM. A block is
// rb whole tile rows (rb fixed per descriptor, so the scratch does not depend on the batch).
//
// The transposed product (input gradient) of a stride-1 3x3 conv with padding (PT, PL) is again a
// 3x3 conv: of g (O channels, OH x OW) with the flipped, in/out-swapped filters and padding
// (2 - PT, 2 - PL), producing C channels of H x W. winograd_filter_f32(..., transposed = 1) stores
// that filter's transform, and winograd_transpose_f32 runs the same code on it.
//
// Threads: (part, parts) splits the tile rows into `parts` contiguous ranges, or on small planes the
// output channels (see run); part p computes its range only, writes only the outputs of its tiles and
// channels (no two parts write the same element)
// and uses its thread's slice, scratch + threadSlot() * winograd_scratch_bytes(desc, m) (a thread runs its
// parts one after another). parts = 1 computes everything.
//
// Which convs qualify (3x3, stride 1, dilation 1, groups 1) is checked in TypeScript (src/kernels/winograd.ts).
// Descriptor (Int32 x 16): C H W O KH KW SH SW PT PL DH DW G OH OW.
import { gemm_packed_f32, packedAFloats, packedAIndex, PACKED_KC, PACKED_MR } from "./gemm";
import { copyFloats, partStart, threadPartStart, threadParts, threadSlot, workspace, zeroFloats } from "./common";

// @ts-ignore: decorator
@inline function di(desc: usize, i: i32): i32 { return load<i32>(desc + <usize>(i * 4)); }

/** Target bytes of V + M for one block; a block holds at least one tile row. */
// @ts-ignore: decorator
@inline const BLOCK_BYTES: i32 = 4 * 1024 * 1024;
/** Tiles per block beyond which the GEMMs gain nothing (and the output transform loses cache). */
// @ts-ignore: decorator
@inline const BLOCK_TILES: i32 = 256;

// ---- geometry (mirrored by winogradScratchBytes in src/wasm/scratch.ts) ----------------------------

/** Tiles per row rounded up to the SIMD width. */
// @ts-ignore: decorator
@inline function tilesRow(Wo: i32, m: i32): i32 { return (((Wo + m - 1) / m) + 3) & ~3; }

/** Floats of one strip row: the tiles' columns plus what the last group's vector loads touch. */
// @ts-ignore: decorator
@inline function stripWidth(tilesWp: i32, m: i32): i32 { return (tilesWp * m + 4 + 3) & ~3; }

/** Tile rows per block. */
function blockRows(Ci: i32, Co: i32, Wo: i32, m: i32): i32 {
  const a = m + 2, tw = tilesRow(Wo, m);
  const rowBytes = a * a * (Ci + Co) * tw * 4;
  return max(1, min(BLOCK_BYTES / rowBytes, BLOCK_TILES / tw));
}

/** Bytes of one part's scratch for one direction: [tile buffers][strip][V][M], each 16-aligned. */
function scratchBytes(Ci: i32, Co: i32, Wo: i32, m: i32): i32 {
  const a = m + 2, tw = tilesRow(Wo, m);
  const tiles = blockRows(Ci, Co, Wo, m) * tw;
  return 2 * a * a * 16 + a * stripWidth(tw, m) * 4 + a * a * (Ci + Co) * tiles * 4;
}

/** Scratch bytes per part for winograd_forward_f32 and winograd_transpose_f32 (the larger of the two). */
export function winograd_scratch_bytes(desc: usize, m: i32): i32 {
  const C = di(desc, 0), W = di(desc, 2), O = di(desc, 3), OW = di(desc, 14);
  return max(scratchBytes(C, O, OW, m), scratchBytes(O, C, W, m));
}

// ---- 1-D transforms, on 4 tiles at once (T = v128) or one (T = f32), memory to memory --------------
// src / dst: first element; ss / ds: byte stride between consecutive elements.

// @ts-ignore: decorator
@inline function ld<T>(p: usize): T { return load<T>(p); }
// @ts-ignore: decorator
@inline function vadd<T>(a: T, b: T): T {
  if (isVector<T>()) return <T>f32x4.add(<v128>a, <v128>b);
  else return <T>(<f32>a + <f32>b);
}
// @ts-ignore: decorator
@inline function vsub<T>(a: T, b: T): T {
  if (isVector<T>()) return <T>f32x4.sub(<v128>a, <v128>b);
  else return <T>(<f32>a - <f32>b);
}
// @ts-ignore: decorator
@inline function vscale<T>(a: T, k: f32): T {
  if (isVector<T>()) return <T>f32x4.mul(<v128>a, f32x4.splat(k));
  else return <T>(<f32>a * k);
}

/** B^T d for F(2,3): (d0 - d2, d1 + d2, d2 - d1, d1 - d3). */
// @ts-ignore: decorator
@inline function in2<T>(src: usize, ss: usize, dst: usize, ds: usize): void {
  const d0 = ld<T>(src), d1 = ld<T>(src + ss), d2 = ld<T>(src + 2 * ss), d3 = ld<T>(src + 3 * ss);
  store<T>(dst, vsub<T>(d0, d2));
  store<T>(dst + ds, vadd<T>(d1, d2));
  store<T>(dst + 2 * ds, vsub<T>(d2, d1));
  store<T>(dst + 3 * ds, vsub<T>(d1, d3));
}

/** B^T d for F(4,3) (interpolation points 0, 1, -1, 2, -2, infinity). */
// @ts-ignore: decorator
@inline function in4<T>(src: usize, ss: usize, dst: usize, ds: usize): void {
  const d0 = ld<T>(src), d1 = ld<T>(src + ss), d2 = ld<T>(src + 2 * ss);
  const d3 = ld<T>(src + 3 * ss), d4 = ld<T>(src + 4 * ss), d5 = ld<T>(src + 5 * ss);
  const t0 = vsub<T>(d4, vscale<T>(d2, 4)), t1 = vsub<T>(d3, vscale<T>(d1, 4));
  const t2 = vsub<T>(d4, d2), t3 = vscale<T>(vsub<T>(d3, d1), 2);
  store<T>(dst, vadd<T>(vsub<T>(vscale<T>(d0, 4), vscale<T>(d2, 5)), d4));
  store<T>(dst + ds, vadd<T>(t0, t1));
  store<T>(dst + 2 * ds, vsub<T>(t0, t1));
  store<T>(dst + 3 * ds, vadd<T>(t2, t3));
  store<T>(dst + 4 * ds, vsub<T>(t2, t3));
  store<T>(dst + 5 * ds, vadd<T>(vsub<T>(vscale<T>(d1, 4), vscale<T>(d3, 5)), d5));
}

/** A^T m for F(2,3): (m0 + m1 + m2, m1 - m2 - m3). */
// @ts-ignore: decorator
@inline function out2<T>(src: usize, ss: usize, dst: usize, ds: usize): void {
  const m0 = ld<T>(src), m1 = ld<T>(src + ss), m2 = ld<T>(src + 2 * ss), m3 = ld<T>(src + 3 * ss);
  store<T>(dst, vadd<T>(vadd<T>(m0, m1), m2));
  store<T>(dst + ds, vsub<T>(vsub<T>(m1, m2), m3));
}

/** A^T m for F(4,3). */
// @ts-ignore: decorator
@inline function out4<T>(src: usize, ss: usize, dst: usize, ds: usize): void {
  const m0 = ld<T>(src), m1 = ld<T>(src + ss), m2 = ld<T>(src + 2 * ss);
  const m3 = ld<T>(src + 3 * ss), m4 = ld<T>(src + 4 * ss), m5 = ld<T>(src + 5 * ss);
  const p = vadd<T>(m1, m2), q = vsub<T>(m1, m2), r = vadd<T>(m3, m4), s = vsub<T>(m3, m4);
  store<T>(dst, vadd<T>(vadd<T>(m0, p), r));
  store<T>(dst + ds, vadd<T>(q, vscale<T>(s, 2)));
  store<T>(dst + 2 * ds, vadd<T>(p, vscale<T>(r, 4)));
  store<T>(dst + 3 * ds, vadd<T>(vadd<T>(q, vscale<T>(s, 8)), m5));
}

// @ts-ignore: decorator
@inline function inT<T>(m: i32, src: usize, ss: usize, dst: usize, ds: usize): void {
  if (m == 2) in2<T>(src, ss, dst, ds);
  else in4<T>(src, ss, dst, ds);
}
// @ts-ignore: decorator
@inline function outT<T>(m: i32, src: usize, ss: usize, dst: usize, ds: usize): void {
  if (m == 2) out2<T>(src, ss, dst, ds);
  else out4<T>(src, ss, dst, ds);
}

// ---- filter transform ----------------------------------------------------------------------------

/** G g for one column g = (g0, g1, g2), float64, to out[0..a) (8 bytes apart). */
// @ts-ignore: decorator
@inline function filter2(g0: f64, g1: f64, g2: f64, out: usize): void {
  store<f64>(out, g0);
  store<f64>(out, (g0 + g1 + g2) * 0.5, 8);
  store<f64>(out, (g0 - g1 + g2) * 0.5, 16);
  store<f64>(out, g2, 24);
}
// @ts-ignore: decorator
@inline function filter4(g0: f64, g1: f64, g2: f64, out: usize): void {
  // multiplications by the reciprocals (f64 divisions cost ~20 cycles; the f32 result is the same up to
  // a rounding tie)
  const s = g0 + g2;
  store<f64>(out, g0 * 0.25);
  store<f64>(out, -(s + g1) * (1.0 / 6), 8);
  store<f64>(out, -(s - g1) * (1.0 / 6), 16);
  const e = g0 * (1.0 / 24) + g2 * (1.0 / 6), h = g1 * (1.0 / 12);
  store<f64>(out, e + h, 24);
  store<f64>(out, e - h, 32);
  store<f64>(out, g2, 40);
}

/**
 * float64 temporaries of one filter transform: G g (3 columns of a) and one row's transform (a).
 * Static: filter transforms run on the thread that owns the layer, never split into parts.
 */
const FILTER_TMP: usize = memory.data(8 * (3 * 6 + 6), 16);

/** U[t] for one 3x3 filter g (9 floats at g, read flipped when flip): columns, then rows; f32 out, ds bytes apart. */
// @ts-ignore: decorator
@inline function filterOne(m: i32, g: usize, flip: bool, u: usize, ds: usize): void {
  const a = m + 2;
  const cols = FILTER_TMP, row = FILTER_TMP + <usize>(3 * 6 * 8);
  for (let j = 0; j < 3; j++) {
    // column j of the filter: g[0][j], g[1][j], g[2][j] (flipped: g[2][2-j], g[1][2-j], g[0][2-j])
    const top = g + <usize>(flip ? 8 - j : j) * 4, bot = g + <usize>(flip ? 2 - j : 6 + j) * 4;
    const g0 = <f64>load<f32>(top), g1 = <f64>load<f32>(g + <usize>(flip ? 5 - j : 3 + j) * 4), g2 = <f64>load<f32>(bot);
    if (m == 2) filter2(g0, g1, g2, cols + <usize>(j * 6 * 8));
    else filter4(g0, g1, g2, cols + <usize>(j * 6 * 8));
  }
  for (let i = 0; i < a; i++) {
    const c0 = load<f64>(cols + <usize>i * 8), c1 = load<f64>(cols + <usize>(6 + i) * 8), c2 = load<f64>(cols + <usize>(12 + i) * 8);
    if (m == 2) filter2(c0, c1, c2, row);
    else filter4(c0, c1, c2, row);
    const dst = u + <usize>(i * a) * ds;
    for (let j = 0; j < a; j++) store<f32>(dst + <usize>j * ds, <f32>load<f64>(row + <usize>j * 8));
  }
}

/** Filters per batch of filterOne results buffered before they are copied to U (see winograd_filter_f32). */
// @ts-ignore: decorator
@inline const FILTER_BATCH: i32 = 64;

/**
 * U = G g G^T of every filter, in float64 and rounded once, each plane U_t in the packed-A layout
 * (padding rows zero). transposed = 0: the conv's filters, U_t [O x C]. transposed = 1: the filters of
 * the transposed product (g'[c][o][i][j] = w[o][c][2-i][2-j]), U_t [C x O]. The transforms of one panel
 * (PACKED_MR rows) by FILTER_BATCH columns are buffered in this thread's workspace as [t][k][row], which
 * is exactly their layout in U_t, and copied out with one block copy per plane: the planes lie megabytes
 * apart, and storing each filter's a*a values there one by one cost a cache miss per value. A batch never
 * crosses a slice of the packed layout (PACKED_KC is a multiple of FILTER_BATCH).
 */
export function winograd_filter_f32(desc: usize, w: usize, u: usize, m: i32, transposed: i32): void {
  const C = di(desc, 0), O = di(desc, 3);
  const T = (m + 2) * (m + 2);
  const rows = transposed ? C : O, cols = transposed ? O : C;
  const plane = <usize>packedAFloats(rows, cols) * 4; // bytes between U_t and U_t+1
  if (PACKED_KC % FILTER_BATCH != 0) unreachable(); // folded away
  const buf = workspace(); // [36][FILTER_BATCH][PACKED_MR] floats = 36 KiB (no GEMM runs meanwhile)
  const tStride = <usize>(FILTER_BATCH * PACKED_MR) * 4;
  for (let r0 = 0; r0 < rows; r0 += PACKED_MR) {
    for (let k0 = 0; k0 < cols; k0 += FILTER_BATCH) {
      const kn = min(FILTER_BATCH, cols - k0);
      for (let k = 0; k < kn; k++) {
        for (let rr = 0; rr < PACKED_MR; rr++) {
          const dst = buf + <usize>(k * PACKED_MR + rr) * 4;
          const r = r0 + rr;
          if (r >= rows) {
            // a padding row of the last panel: zeros
            for (let t = 0; t < T; t++) store<f32>(dst + <usize>t * tStride, 0);
            continue;
          }
          const o = transposed ? k0 + k : r, c = transposed ? r : k0 + k;
          const g = w + <usize>((o * C + c) * 9) * 4;
          if (m == 2) filterOne(2, g, transposed != 0, dst, tStride);
          else filterOne(4, g, transposed != 0, dst, tStride);
        }
      }
      const at = u + <usize>packedAIndex(rows, cols, r0, k0) * 4;
      for (let t = 0; t < T; t++) memory.copy(at + <usize>t * plane, buf + <usize>t * tStride, <usize>(kn * PACKED_MR) * 4);
    }
  }
}

// ---- input transform -----------------------------------------------------------------------------

/**
 * strip[i][j] = x[ty*m - pt + i][j - pl] for i < a, j < sw (0 outside the plane).
 */
function fillStrip(xc: usize, Hi: i32, Wi: i32, ih0: i32, pl: i32, a: i32, sw: i32, strip: usize): void {
  const lo = min(sw, max(0, pl)), hi = max(lo, min(sw, Wi + pl));
  for (let i = 0; i < a; i++) {
    const dst = strip + <usize>(i * sw) * 4;
    const ih = ih0 + i;
    if (ih < 0 || ih >= Hi || lo >= hi) {
      zeroFloats(dst, sw);
      continue;
    }
    if (lo > 0) zeroFloats(dst, lo);
    copyFloats(dst + <usize>lo * 4, xc + <usize>(ih * Wi + lo - pl) * 4, hi - lo);
    if (hi < sw) zeroFloats(dst + <usize>hi * 4, sw - hi);
  }
}

/**
 * Column k of tiles 4q..4q+3 of one strip row, lane l = tile 4q+l: row[(4q+l)*m + k], k < a,
 * written to dst[k] (16 bytes apart). SIMD build only.
 */
// @ts-ignore: decorator
@inline function gatherRow(row: usize, q: i32, m: i32, dst: usize): void {
  if (m == 2) {
    const p = row + <usize>(q * 8) * 4;
    const l0 = v128.load(p), l1 = v128.load(p, 16), l2 = v128.load(p, 8), l3 = v128.load(p, 24);
    v128.store(dst, i32x4.shuffle(l0, l1, 0, 2, 4, 6));
    v128.store(dst, i32x4.shuffle(l0, l1, 1, 3, 5, 7), 16);
    v128.store(dst, i32x4.shuffle(l2, l3, 0, 2, 4, 6), 32);
    v128.store(dst, i32x4.shuffle(l2, l3, 1, 3, 5, 7), 48);
  } else {
    const p = row + <usize>(q * 16) * 4;
    const l0 = v128.load(p), l1 = v128.load(p, 16), l2 = v128.load(p, 32), l3 = v128.load(p, 48), l4 = v128.load(p, 64);
    // 4x4 transpose of l0..l3: column k = (l0[k], l1[k], l2[k], l3[k])
    const t0 = i32x4.shuffle(l0, l1, 0, 4, 1, 5), t1 = i32x4.shuffle(l0, l1, 2, 6, 3, 7);
    const t2 = i32x4.shuffle(l2, l3, 0, 4, 1, 5), t3 = i32x4.shuffle(l2, l3, 2, 6, 3, 7);
    v128.store(dst, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
    v128.store(dst, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 16);
    v128.store(dst, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 32);
    v128.store(dst, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 48);
    // columns 4 and 5 = (l1[k], l2[k], l3[k], l4[k]) for k = 0, 1
    const u0 = i32x4.shuffle(l1, l2, 0, 4, 1, 5), u1 = i32x4.shuffle(l3, l4, 0, 4, 1, 5);
    v128.store(dst, i32x4.shuffle(u0, u1, 0, 1, 4, 5), 64);
    v128.store(dst, i32x4.shuffle(u0, u1, 2, 3, 6, 7), 80);
  }
}

/** V[t][c][tile - tile0] for the tile rows [r0, r1) of all samples' tiles. */
function inputTransform(
  x: usize, Ci: i32, Hi: i32, Wi: i32, pt: i32, pl: i32, m: i32, tilesH: i32, tw: i32,
  r0: i32, r1: i32, v: usize, tb: i32, strip: usize, buf: usize,
): void {
  const a = m + 2, sw = stripWidth(tw, m);
  const tStride = <usize>(a * Ci * tb) * 4; // bytes between V[t][c] and V[t + a][c]
  for (let c = 0; c < Ci; c++) {
    for (let r = r0; r < r1; r++) {
      const s = r / tilesH, ty = r - s * tilesH;
      fillStrip(x + <usize>((s * Ci + c) * Hi * Wi) * 4, Hi, Wi, ty * m - pt, pl, a, sw, strip);
      const vRow = v + <usize>(c * tb + (r - r0) * tw) * 4;
      if (ASC_FEATURE_SIMD) {
        const gath = buf + <usize>(a * a * 16); // [a] vectors of one strip row
        for (let q = 0; q < tw / 4; q++) {
          // rows: buf[i][k] = (d B)[i][k] for 4 tiles
          for (let i = 0; i < a; i++) {
            gatherRow(strip + <usize>(i * sw) * 4, q, m, gath);
            inT<v128>(m, gath, 16, buf + <usize>(i * a * 16), 16);
          }
          // columns: V[i*a + k] = (B^T (d B))[i][k]
          const dst = vRow + <usize>(q * 16);
          for (let k = 0; k < a; k++) {
            inT<v128>(m, buf + <usize>(k * 16), <usize>(a * 16), dst + <usize>(k * Ci * tb) * 4, tStride);
          }
        }
      } else {
        for (let tx = 0; tx < tw; tx++) {
          for (let i = 0; i < a; i++) {
            inT<f32>(m, strip + <usize>(i * sw + tx * m) * 4, 4, buf + <usize>(i * a) * 4, 4);
          }
          const dst = vRow + <usize>tx * 4;
          for (let k = 0; k < a; k++) {
            inT<f32>(m, buf + <usize>k * 4, <usize>(a * 4), dst + <usize>(k * Ci * tb) * 4, tStride);
          }
        }
      }
    }
  }
}

// ---- output transform ----------------------------------------------------------------------------

/** y[row + j] = v (+ y[row + j] when acc), 4 consecutive values. */
// @ts-ignore: decorator
@inline function put4(p: usize, v: v128, acc: i32): void {
  v128.store(p, acc ? f32x4.add(v128.load(p), v) : v);
}

/**
 * y (+)= A^T M A + bias for the tile rows [r0, r1) and the output channels [o0, o1) (M holds those
 * channels only): only outputs inside Ho x Wo are written.
 */
function outputTransform(
  mm: usize, y: usize, bias: usize, Co: i32, o0: i32, o1: i32, Ho: i32, Wo: i32, m: i32, tilesH: i32, tw: i32,
  r0: i32, r1: i32, tb: i32, acc: i32, buf: usize,
): void {
  const a = m + 2;
  const tStride = <usize>((o1 - o0) * tb) * 4; // bytes between M[t][o] and M[t + 1][o]
  for (let o = o0; o < o1; o++) {
    const bv: f32 = bias != 0 ? load<f32>(bias + <usize>o * 4) : 0;
    for (let r = r0; r < r1; r++) {
      const s = r / tilesH, ty = r - s * tilesH;
      const rows = min(m, Ho - ty * m);
      const yPlane = y + <usize>((s * Co + o) * Ho * Wo) * 4;
      const src = mm + <usize>((o - o0) * tb + (r - r0) * tw) * 4;
      if (ASC_FEATURE_SIMD) {
        const res = buf + <usize>(a * m * 16); // [m][m] vectors: output (i, j) of 4 tiles
        const bs = f32x4.splat(bv);
        for (let q = 0; q < tw / 4; q++) {
          const mq = src + <usize>(q * 16);
          for (let i = 0; i < a; i++) outT<v128>(m, mq + <usize>(i * a) * tStride, tStride, buf + <usize>(i * m * 16), 16);
          for (let j = 0; j < m; j++) outT<v128>(m, buf + <usize>(j * 16), <usize>(m * 16), res + <usize>(j * 16), <usize>(m * 16));
          const col0 = q * 4 * m;
          if (col0 >= Wo) break;
          for (let i = 0; i < rows; i++) {
            const yRow = yPlane + <usize>((ty * m + i) * Wo) * 4;
            const ri = res + <usize>(i * m * 16);
            if (col0 + 4 * m <= Wo) {
              if (m == 2) {
                const e0 = f32x4.add(v128.load(ri), bs), e1 = f32x4.add(v128.load(ri, 16), bs);
                put4(yRow + <usize>col0 * 4, i32x4.shuffle(e0, e1, 0, 4, 1, 5), acc);
                put4(yRow + <usize>(col0 + 4) * 4, i32x4.shuffle(e0, e1, 2, 6, 3, 7), acc);
              } else {
                const e0 = f32x4.add(v128.load(ri), bs), e1 = f32x4.add(v128.load(ri, 16), bs);
                const e2 = f32x4.add(v128.load(ri, 32), bs), e3 = f32x4.add(v128.load(ri, 48), bs);
                const t0 = i32x4.shuffle(e0, e1, 0, 4, 1, 5), t1 = i32x4.shuffle(e0, e1, 2, 6, 3, 7);
                const t2 = i32x4.shuffle(e2, e3, 0, 4, 1, 5), t3 = i32x4.shuffle(e2, e3, 2, 6, 3, 7);
                const p = yRow + <usize>col0 * 4;
                put4(p, i32x4.shuffle(t0, t2, 0, 1, 4, 5), acc);
                put4(p + 16, i32x4.shuffle(t0, t2, 2, 3, 6, 7), acc);
                put4(p + 32, i32x4.shuffle(t1, t3, 0, 1, 4, 5), acc);
                put4(p + 48, i32x4.shuffle(t1, t3, 2, 3, 6, 7), acc);
              }
            } else {
              // the right edge: lane l is tile 4q + l, its column j is output column col0 + l*m + j
              for (let l = 0; l < 4; l++) {
                for (let j = 0; j < m; j++) {
                  const ow = col0 + l * m + j;
                  if (ow >= Wo) break;
                  const v = load<f32>(ri + <usize>(j * 16 + l * 4)) + bv;
                  const p = yRow + <usize>ow * 4;
                  store<f32>(p, acc ? load<f32>(p) + v : v);
                }
              }
            }
          }
        }
      } else {
        const res = buf + <usize>(a * m) * 4;
        for (let tx = 0; tx < tw; tx++) {
          const col0 = tx * m;
          if (col0 >= Wo) break;
          const mt = src + <usize>tx * 4;
          for (let i = 0; i < a; i++) outT<f32>(m, mt + <usize>(i * a) * tStride, tStride, buf + <usize>(i * m) * 4, 4);
          for (let j = 0; j < m; j++) outT<f32>(m, buf + <usize>j * 4, <usize>(m * 4), res + <usize>j * 4, <usize>(m * 4));
          for (let i = 0; i < rows; i++) {
            const yRow = yPlane + <usize>((ty * m + i) * Wo) * 4;
            for (let j = 0; j < m && col0 + j < Wo; j++) {
              const v = load<f32>(res + <usize>(i * m + j) * 4) + bv;
              const p = yRow + <usize>(col0 + j) * 4;
              store<f32>(p, acc ? load<f32>(p) + v : v);
            }
          }
        }
      }
    }
  }
}

// ---- driver --------------------------------------------------------------------------------------

/** y[s,o,oh,ow] (+)= sum_{c,kh,kw} x[s,c,oh-pt+kh,ow-pl+kw] f[o,c,kh,kw] (+ bias), f given as U. */
function run(
  Ci: i32, Hi: i32, Wi: i32, Co: i32, Ho: i32, Wo: i32, pt: i32, pl: i32,
  x: usize, u: usize, bias: usize, y: usize, scratch: usize, n: i32, m: i32, acc: i32,
  part: i32, parts: i32, partBytes: i32,
): void {
  if (m != 2 && m != 4) unreachable();
  const a = m + 2, T = a * a;
  const tilesH = (Ho + m - 1) / m, tw = tilesRow(Wo, m), sw = stripWidth(tw, m);
  const rb = blockRows(Ci, Co, Wo, m);
  const rowsAll = n * tilesH;
  // Parts split the tile rows, unless there are fewer than half as many rows as parts (the thread pool
  // runs 4 parts per thread): then, as on VGG's 14x14 and ResNet's 7x7 planes, most parts would get no
  // row and the rest a GEMM a few tiles wide that streams all of U. There they split the output channels
  // instead, in whole panels of U: each part transforms every input tile itself (a few percent of the
  // work at these channel counts) and reads only its own rows of U. Neither split changes the order of
  // a sum: the numbers are the same for any (part, parts). Measured on two threads against splitting
  // blocks (one-off script, batch 1): 512->512 on 14x14 26 -> 18 ms, on 7x7 18.5 -> 8.8 ms.
  // The channel split runs in threadParts parts (one per thread): each part's input transform and packing
  // of V are the same work whatever its share of channels, and with 8 parts on two threads they made
  // ResNet50's 14x14 layers only 1.22x faster than one thread.
  const byRows = parts == 1 || 2 * rowsAll > parts;
  const row0 = byRows ? threadPartStart(rowsAll, 1, part, parts) : 0;
  const row1 = byRows ? threadPartStart(rowsAll, 1, part + 1, parts) : rowsAll;
  const perThread = threadParts(parts);
  if (!byRows && part >= perThread) return;
  const o0 = byRows ? 0 : partStart(Co, PACKED_MR, part, perThread), o1 = byRows ? Co : partStart(Co, PACKED_MR, part + 1, perThread);
  if (o0 >= o1) return;
  const plane = <usize>packedAFloats(Co, Ci) * 4;
  const buf = scratch + <usize>threadSlot() * <usize>partBytes;
  const strip = buf + <usize>(2 * T * 16);
  const v = strip + <usize>(a * sw) * 4;
  for (let r0 = row0; r0 < row1; r0 += rb) {
    const r1 = min(row1, r0 + rb);
    const tb = (r1 - r0) * tw;
    const mm = v + <usize>(T * Ci * tb) * 4;
    inputTransform(x, Ci, Hi, Wi, pt, pl, m, tilesH, tw, r0, r1, v, tb, strip, buf);
    for (let t = 0; t < T; t++) {
      gemm_packed_f32(o1 - o0, tb, Ci, u + <usize>t * plane, Co, o0,
        v + <usize>(t * Ci * tb) * 4, tb, 1,
        mm + <usize>(t * (o1 - o0) * tb) * 4, tb, 0);
    }
    outputTransform(mm, y, bias, Co, o0, o1, Ho, Wo, m, tilesH, tw, r0, r1, tb, acc, buf);
  }
}

/** y = conv(x; W, b) with U = winograd_filter_f32(desc, W, ., m, 0); b = 0: no bias. */
export function winograd_forward_f32(
  desc: usize, x: usize, u: usize, b: usize, y: usize, scratch: usize, n: i32, m: i32, part: i32, parts: i32,
): void {
  const C = di(desc, 0), H = di(desc, 1), W = di(desc, 2), O = di(desc, 3);
  const PT = di(desc, 8), PL = di(desc, 9), OH = di(desc, 13), OW = di(desc, 14);
  run(C, H, W, O, OH, OW, PT, PL, x, u, b, y, scratch, n, m, 0, part, parts, winograd_scratch_bytes(desc, m));
}

/** out (+)= J^T(g; W) with U = winograd_filter_f32(desc, W, ., m, 1): a 3x3 conv of g, padding 2 - p. */
export function winograd_transpose_f32(
  desc: usize, g: usize, u: usize, out: usize, scratch: usize, n: i32, m: i32, accumulate: i32, part: i32, parts: i32,
): void {
  const C = di(desc, 0), H = di(desc, 1), W = di(desc, 2), O = di(desc, 3);
  const PT = di(desc, 8), PL = di(desc, 9), OH = di(desc, 13), OW = di(desc, 14);
  run(O, OH, OW, C, H, W, 2 - PT, 2 - PL, g, u, 0, out, scratch, n, m, accumulate, part, parts, winograd_scratch_bytes(desc, m));
}
