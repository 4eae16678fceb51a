// General single-precision matrix multiply shared by dense and conv kernels.
//
//   C[i, j] (+)= sum_k A(i, k) * B(k, j)      0 <= i < M, 0 <= j < N, 0 <= k < K
//
// A(i, k) = a[i * aRs + k * aCs] and B(k, j) = b[k * bRs + j * bCs] (strides in floats), so the same
// routine serves NN (row-major A and B), NT (B given as [N, K]) and TN (A given as [K, M]). C is
// row-major with leading dimension ldc (floats). accumulate = 0 overwrites C, 1 adds to it.
// gemm_bias_f32 overwrites C with A·B plus a bias per row (a conv's forward): added in the micro-kernel
// as its tile is stored, C = (A·B) + bias, the float a bias written into C first and accumulated onto
// gives, without writing and reading C once more (which cost a 64-channel 56×56 conv 40% of its time).
//
// Blocking (BLIS-style): K is split into KC-deep slices and M into MC-row blocks. Each A block is
// packed into the static workspace as MR-row panels laid out [k][MR]; each NR-column strip of B is
// packed as [k][NR] (it stays in L1). The MR x NR register-blocked SIMD micro-kernel then streams
// both panels with unit stride. Edge tiles are packed with zero padding, computed into a small tile
// buffer and merged with scalar code. Tiny problems take unpacked paths (axpy rows, dot products).
//
// MR x NR = 4 x 8 (8 f32x4 accumulators) measured best under V8 on x64 (M=N=K=256, one core):
// ~36 GFLOP/s, against ~25 for 6x8 and 2x16, ~22 for 4x12 and ~16 for 3x12. Unrolling the k loop
// made V8 hoist the loads and spill accumulators (~29 GFLOP/s), so the loop is not unrolled.

import { workspace, madd } from "./common";

// @ts-ignore: decorator
@inline const MR: i32 = 4;
// @ts-ignore: decorator
@inline const NR: i32 = 8;
// @ts-ignore: decorator
@inline const KC: i32 = 256;
// MC = 256 (a 256 KiB A block, in L2): each B strip is packed once per MC rows of A, so convs with up to
// 256 output channels pack B once (with 96, ResNet50's convs took 2% longer).
// @ts-ignore: decorator
@inline const MC: i32 = 256;

// workspace layout: [A block MC*KC][B strip KC*NR][edge tile MR*NR]
// (must fit WORKSPACE_BYTES in common.ts)
// @ts-ignore: decorator
@inline function bufA(): usize { return workspace(); }
// @ts-ignore: decorator
@inline function bufB(): usize { return workspace() + <usize>(MC * KC * 4); }
// @ts-ignore: decorator
@inline function bufT(): usize { return workspace() + <usize>(MC * KC * 4 + KC * NR * 4); }

/** Packs rows [i0, i0+mc) x cols [k0, k0+kc) of A into MR-row panels [kc][MR], zero padded. */
function packA(a: usize, aRs: i32, aCs: i32, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  for (let r0 = 0; r0 < mc; r0 += MR) {
    const mr = min(MR, mc - r0);
    const panel = dst + <usize>(r0 * kc * 4);
    const base = a + (<usize>(i0 + r0) * <usize>aRs + <usize>k0 * <usize>aCs) * 4;
    if (ASC_FEATURE_SIMD && mr == 4 && MR == 4 && aRs == 1) {
      // TN layout: the 4 rows of one k are contiguous
      const step = <usize>aCs * 4;
      let src = base;
      for (let k = 0; k < kc; k++) {
        v128.store(panel + <usize>(k * 16), v128.load(src));
        src += step;
      }
      continue;
    }
    if (ASC_FEATURE_SIMD && mr == 4 && MR == 4 && aCs == 1) {
      // NN layout: rows contiguous in k, transpose 4x4 blocks
      const rs = <usize>aRs * 4;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const p = base + <usize>k * 4;
        const r0v = v128.load(p);
        const r1v = v128.load(p + rs);
        const r2v = v128.load(p + 2 * rs);
        const r3v = v128.load(p + 3 * rs);
        const t0 = i32x4.shuffle(r0v, r1v, 0, 4, 1, 5);
        const t1 = i32x4.shuffle(r0v, r1v, 2, 6, 3, 7);
        const t2 = i32x4.shuffle(r2v, r3v, 0, 4, 1, 5);
        const t3 = i32x4.shuffle(r2v, r3v, 2, 6, 3, 7);
        const q = panel + <usize>(k * 16);
        v128.store(q, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
        v128.store(q, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 16);
        v128.store(q, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 32);
        v128.store(q, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 48);
      }
      for (; k < kc; k++) {
        const p = base + <usize>k * 4;
        const q = panel + <usize>(k * 16);
        store<f32>(q, load<f32>(p));
        store<f32>(q, load<f32>(p + rs), 4);
        store<f32>(q, load<f32>(p + 2 * rs), 8);
        store<f32>(q, load<f32>(p + 3 * rs), 12);
      }
      continue;
    }
    // generic (edge panel or other strides)
    for (let k = 0; k < kc; k++) {
      const q = panel + <usize>(k * MR * 4);
      const srck = base + <usize>k * <usize>aCs * 4;
      for (let r = 0; r < MR; r++) {
        store<f32>(q + <usize>(r * 4), r < mr ? load<f32>(srck + <usize>r * <usize>aRs * 4) : 0);
      }
    }
  }
}

/** Packs B rows [k0, k0+kc) x cols [j0, j0+nr) into [kc][NR], zero padded. */
function packB(b: usize, bRs: i32, bCs: i32, k0: i32, kc: i32, j0: i32, nr: i32, dst: usize): void {
  const base = b + (<usize>k0 * <usize>bRs + <usize>j0 * <usize>bCs) * 4;
  const rs = <usize>bRs * 4;
  if (ASC_FEATURE_SIMD && nr == NR && NR == 8 && bCs == 1) {
    let src = base;
    for (let k = 0; k < kc; k++) {
      const q = dst + <usize>(k * 32);
      v128.store(q, v128.load(src));
      v128.store(q, v128.load(src, 16), 16);
      src += rs;
    }
    return;
  }
  if (ASC_FEATURE_SIMD && nr == NR && NR == 8 && bRs == 1) {
    // NT layout: column j of B is contiguous in k; transpose 4x4 blocks
    const cs = <usize>bCs * 4;
    let k = 0;
    for (; k + 4 <= kc; k += 4) {
      for (let h = 0; h < 2; h++) {
        const p = base + <usize>k * 4 + <usize>(h * 4) * cs;
        const r0v = v128.load(p);
        const r1v = v128.load(p + cs);
        const r2v = v128.load(p + 2 * cs);
        const r3v = v128.load(p + 3 * cs);
        const t0 = i32x4.shuffle(r0v, r1v, 0, 4, 1, 5);
        const t1 = i32x4.shuffle(r0v, r1v, 2, 6, 3, 7);
        const t2 = i32x4.shuffle(r2v, r3v, 0, 4, 1, 5);
        const t3 = i32x4.shuffle(r2v, r3v, 2, 6, 3, 7);
        const q = dst + <usize>(k * 32 + h * 16);
        v128.store(q, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
        v128.store(q, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 32);
        v128.store(q, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 64);
        v128.store(q, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 96);
      }
    }
    for (; k < kc; k++) {
      const q = dst + <usize>(k * 32);
      const p = base + <usize>k * 4;
      for (let j = 0; j < 8; j++) store<f32>(q + <usize>(j * 4), load<f32>(p + <usize>j * cs));
    }
    return;
  }
  for (let k = 0; k < kc; k++) {
    const q = dst + <usize>(k * NR * 4);
    const srck = base + <usize>k * rs;
    for (let j = 0; j < NR; j++) {
      store<f32>(q + <usize>(j * 4), j < nr ? load<f32>(srck + <usize>j * <usize>bCs * 4) : 0);
    }
  }
}

/**
 * C[MR x NR] (+)= packedA[kc][MR] * packedB[kc][NR]  (the scalar build's version assumes NR == 8);
 * overwriting (acc = 0) with bias != 0 adds bias[r] to row r.
 */
function micro(pa: usize, pb: usize, kc: i32, c: usize, ldc: i32, acc: i32, bias: usize): void {
  if (ASC_FEATURE_SIMD) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    let k = 0;
    for (; k < kc; k++) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      let a = v128.load32_splat(pa);
      c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
      a = v128.load32_splat(pa, 4);
      c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
      a = v128.load32_splat(pa, 8);
      c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
      a = v128.load32_splat(pa, 12);
      c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
      pa += 16;
      pb += 32;
    }
    const ld = <usize>ldc * 4;
    let c0 = c, c1 = c + ld, c2 = c + 2 * ld, c3 = c + 3 * ld;
    if (acc) {
      c00 = f32x4.add(c00, v128.load(c0)); c01 = f32x4.add(c01, v128.load(c0, 16));
      c10 = f32x4.add(c10, v128.load(c1)); c11 = f32x4.add(c11, v128.load(c1, 16));
      c20 = f32x4.add(c20, v128.load(c2)); c21 = f32x4.add(c21, v128.load(c2, 16));
      c30 = f32x4.add(c30, v128.load(c3)); c31 = f32x4.add(c31, v128.load(c3, 16));
    } else if (bias != 0) {
      let bv = v128.load32_splat(bias);
      c00 = f32x4.add(c00, bv); c01 = f32x4.add(c01, bv);
      bv = v128.load32_splat(bias, 4);
      c10 = f32x4.add(c10, bv); c11 = f32x4.add(c11, bv);
      bv = v128.load32_splat(bias, 8);
      c20 = f32x4.add(c20, bv); c21 = f32x4.add(c21, bv);
      bv = v128.load32_splat(bias, 12);
      c30 = f32x4.add(c30, bv); c31 = f32x4.add(c31, bv);
    }
    v128.store(c0, c00); v128.store(c0, c01, 16);
    v128.store(c1, c10); v128.store(c1, c11, 16);
    v128.store(c2, c20); v128.store(c2, c21, 16);
    v128.store(c3, c30); v128.store(c3, c31, 16);
  } else {
    // scalar build: one row of the tile at a time, NR accumulators in locals
    for (let r = 0; r < MR; r++) {
      let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0, s4: f32 = 0, s5: f32 = 0, s6: f32 = 0, s7: f32 = 0;
      let ar = pa + <usize>(r * 4), bk = pb;
      for (let k = 0; k < kc; k++) {
        const av = load<f32>(ar);
        s0 += av * load<f32>(bk); s1 += av * load<f32>(bk, 4);
        s2 += av * load<f32>(bk, 8); s3 += av * load<f32>(bk, 12);
        s4 += av * load<f32>(bk, 16); s5 += av * load<f32>(bk, 20);
        s6 += av * load<f32>(bk, 24); s7 += av * load<f32>(bk, 28);
        ar += <usize>(MR * 4);
        bk += <usize>(NR * 4);
      }
      const cr = c + <usize>r * <usize>ldc * 4;
      if (acc) {
        s0 += load<f32>(cr); s1 += load<f32>(cr, 4); s2 += load<f32>(cr, 8); s3 += load<f32>(cr, 12);
        s4 += load<f32>(cr, 16); s5 += load<f32>(cr, 20); s6 += load<f32>(cr, 24); s7 += load<f32>(cr, 28);
      } else if (bias != 0) {
        const bv = load<f32>(bias + <usize>(r * 4));
        s0 += bv; s1 += bv; s2 += bv; s3 += bv; s4 += bv; s5 += bv; s6 += bv; s7 += bv;
      }
      store<f32>(cr, s0); store<f32>(cr, s1, 4); store<f32>(cr, s2, 8); store<f32>(cr, s3, 12);
      store<f32>(cr, s4, 16); store<f32>(cr, s5, 20); store<f32>(cr, s6, 24); store<f32>(cr, s7, 28);
    }
  }
}

/**
 * micro() for a tile of mr x nr <= MR x NR outputs (bias: the tile's first row's, or 0): partial tiles go
 * through `tile` and are merged.
 */
// @ts-ignore: decorator
@inline function microTile(pa: usize, pb: usize, kc: i32, cp: usize, ldc: i32, acc: i32, mr: i32, nr: i32, tile: usize, bias: usize): void {
  if (mr == MR && nr == NR) {
    micro(pa, pb, kc, cp, ldc, acc, bias);
    return;
  }
  micro(pa, pb, kc, tile, NR, 0, 0);
  for (let r = 0; r < mr; r++) {
    const cr = cp + <usize>r * <usize>ldc * 4;
    const tr = tile + <usize>(r * NR * 4);
    const bv: f32 = bias != 0 ? load<f32>(bias + <usize>(r * 4)) : 0;
    for (let j = 0; j < nr; j++) {
      const q = cr + <usize>(j * 4);
      const v = load<f32>(tr + <usize>(j * 4));
      store<f32>(q, acc ? load<f32>(q) + v : bias != 0 ? v + bv : v);
    }
  }
}

/** Sets rows [0, M) x cols [0, N) of C to zero. */
function zeroC(M: i32, N: i32, c: usize, ldc: i32): void {
  for (let i = 0; i < M; i++) memory.fill(c + <usize>i * <usize>ldc * 4, 0, <usize>N * 4);
}

/** Row width from which axpyRow walks B a few rows at a time (see axpyRowWide). */
// @ts-ignore: decorator
@inline const WIDE_ROW: i32 = 256;

/** One row of C (+)= sum_k A(i,k) B(k,:), B with unit column stride (no packing). */
function axpyRow(N: i32, K: i32, arow: usize, aCs: i32, b: usize, bRs: i32, crow: usize, acc: i32): void {
  if (ASC_FEATURE_SIMD && N >= WIDE_ROW) {
    axpyRowWide(N, K, arow, aCs, b, bRs, crow, acc);
    return;
  }
  const as = <usize>aCs * 4;
  const bs = <usize>bRs * 4;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 16 <= N; j += 16) {
      const cj = crow + <usize>j * 4;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      if (acc) { s0 = v128.load(cj); s1 = v128.load(cj, 16); s2 = v128.load(cj, 32); s3 = v128.load(cj, 48); }
      let pa = arow, pb = b + <usize>j * 4;
      for (let k = 0; k < K; k++) {
        const a = v128.load32_splat(pa);
        s0 = madd(a, v128.load(pb), s0);
        s1 = madd(a, v128.load(pb, 16), s1);
        s2 = madd(a, v128.load(pb, 32), s2);
        s3 = madd(a, v128.load(pb, 48), s3);
        pa += as; pb += bs;
      }
      v128.store(cj, s0); v128.store(cj, s1, 16); v128.store(cj, s2, 32); v128.store(cj, s3, 48);
    }
    for (; j + 4 <= N; j += 4) {
      const cj = crow + <usize>j * 4;
      let s0 = acc ? v128.load(cj) : f32x4.splat(0);
      let pa = arow, pb = b + <usize>j * 4;
      for (let k = 0; k < K; k++) {
        s0 = madd(v128.load32_splat(pa), v128.load(pb), s0);
        pa += as; pb += bs;
      }
      v128.store(cj, s0);
    }
  }
  axpyTail(j, N, K, arow, aCs, b, bRs, crow, acc);
}

/** Columns [j, N) of axpyRow, one at a time (scalar). */
function axpyTail(j: i32, N: i32, K: i32, arow: usize, aCs: i32, b: usize, bRs: i32, crow: usize, acc: i32): void {
  const as = <usize>aCs * 4;
  const bs = <usize>bRs * 4;
  for (; j < N; j++) {
    const cj = crow + <usize>j * 4;
    let s: f32 = acc ? load<f32>(cj) : 0;
    let pa = arow, pb = b + <usize>j * 4;
    for (let k = 0; k < K; k++) {
      s += load<f32>(pa) * load<f32>(pb);
      pa += as; pb += bs;
    }
    store<f32>(cj, s);
  }
}

/**
 * axpyRow for wide rows (a dense layer's transposed product at batch 1: N = 25088 on VGG16's first
 * one): 4 rows of B at a time, each swept left to right, the partial sums of C kept in C between
 * sweeps. Walking B column block by column block instead touched a new page at every k (rows 100 KB
 * apart) and ran at a third of the forward's bandwidth. Every element still adds its K products in
 * order k = 0, 1, ... with the same operations, so the sums are axpyRow's bit for bit.
 */
function axpyRowWide(N: i32, K: i32, arow: usize, aCs: i32, b: usize, bRs: i32, crow: usize, acc: i32): void {
  const as = <usize>aCs * 4;
  const bs = <usize>bRs * 4;
  const n4 = N & ~3;
  for (let k = 0; k < K; k += 4) {
    const rows = min(4, K - k);
    const first = k == 0 && !acc; // C holds nothing yet: start from 0
    const pa = arow + <usize>k * as;
    const a0 = v128.load32_splat(pa);
    const a1 = rows > 1 ? v128.load32_splat(pa + as) : f32x4.splat(0);
    const a2 = rows > 2 ? v128.load32_splat(pa + 2 * as) : f32x4.splat(0);
    const a3 = rows > 3 ? v128.load32_splat(pa + 3 * as) : f32x4.splat(0);
    const b0 = b + <usize>k * bs, b1 = b0 + bs, b2 = b1 + bs, b3 = b2 + bs;
    if (rows == 4) {
      for (let j = 0; j < n4; j += 4) {
        const o = <usize>j * 4;
        let s = first ? f32x4.splat(0) : v128.load(crow + o);
        s = madd(a0, v128.load(b0 + o), s);
        s = madd(a1, v128.load(b1 + o), s);
        s = madd(a2, v128.load(b2 + o), s);
        s = madd(a3, v128.load(b3 + o), s);
        v128.store(crow + o, s);
      }
    } else {
      for (let j = 0; j < n4; j += 4) {
        const o = <usize>j * 4;
        let s = first ? f32x4.splat(0) : v128.load(crow + o);
        s = madd(a0, v128.load(b0 + o), s);
        if (rows > 1) s = madd(a1, v128.load(b1 + o), s);
        if (rows > 2) s = madd(a2, v128.load(b2 + o), s);
        v128.store(crow + o, s);
      }
    }
  }
  axpyTail(n4, N, K, arow, aCs, b, bRs, crow, acc);
}

/** Horizontal sum of the four lanes. */
// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  const s = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  const t = f32x4.add(s, i32x4.shuffle(s, s, 1, 0, 3, 2));
  return f32x4.extract_lane(t, 0);
}

/** Scalar dot product of two unit-stride vectors (tail and scalar build). */
function dotTail(x: usize, y: usize, from: i32, K: i32): f32 {
  let s: f32 = 0;
  for (let k = from; k < K; k++) s += load<f32>(x + <usize>k * 4) * load<f32>(y + <usize>k * 4);
  return s;
}

/** One row of C (+)= A(i,:) . B(:,j) for all j, with A rows and B columns contiguous in k (NT). */
function dotRow(N: i32, K: i32, arow: usize, b: usize, bCs: i32, crow: usize, acc: i32): void {
  const cs = <usize>bCs * 4;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 4 <= N; j += 4) {
      const b0 = b + <usize>j * cs, b1 = b0 + cs, b2 = b1 + cs, b3 = b2 + cs;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      let k = 0;
      for (; k + 4 <= K; k += 4) {
        const o = <usize>k * 4;
        const x = v128.load(arow + o);
        s0 = madd(x, v128.load(b0 + o), s0);
        s1 = madd(x, v128.load(b1 + o), s1);
        s2 = madd(x, v128.load(b2 + o), s2);
        s3 = madd(x, v128.load(b3 + o), s3);
      }
      const cj = crow + <usize>j * 4;
      let r0 = hsum(s0) + dotTail(arow, b0, k, K);
      let r1 = hsum(s1) + dotTail(arow, b1, k, K);
      let r2 = hsum(s2) + dotTail(arow, b2, k, K);
      let r3 = hsum(s3) + dotTail(arow, b3, k, K);
      if (acc) {
        r0 += load<f32>(cj); r1 += load<f32>(cj, 4); r2 += load<f32>(cj, 8); r3 += load<f32>(cj, 12);
      }
      store<f32>(cj, r0); store<f32>(cj, r1, 4); store<f32>(cj, r2, 8); store<f32>(cj, r3, 12);
    }
  }
  for (; j < N; j++) {
    const bj = b + <usize>j * cs;
    let s: f32 = 0;
    let k = 0;
    if (ASC_FEATURE_SIMD) {
      let v = f32x4.splat(0);
      for (; k + 4 <= K; k += 4) v = madd(v128.load(arow + <usize>k * 4), v128.load(bj + <usize>k * 4), v);
      s = hsum(v);
    }
    s += dotTail(arow, bj, k, K);
    const cj = crow + <usize>j * 4;
    store<f32>(cj, acc ? load<f32>(cj) + s : s);
  }
}

/** True (and C done) when there is nothing to multiply: no rows or columns, or K = 0 (C = 0 unless accumulating). */
// @ts-ignore: decorator
@inline function emptyProduct(M: i32, N: i32, K: i32, c: usize, ldc: i32, accumulate: i32): bool {
  if (M <= 0 || N <= 0) return true;
  if (K > 0) return false;
  if (!accumulate) zeroC(M, N, c, ldc);
  return true;
}

/** See the file comment. Strides in floats; pointers in bytes. */
export function gemm_f32(
  M: i32, N: i32, K: i32,
  a: usize, aRs: i32, aCs: i32,
  b: usize, bRs: i32, bCs: i32,
  c: usize, ldc: i32, accumulate: i32,
): void {
  gemm(M, N, K, a, aRs, aCs, b, bRs, bCs, c, ldc, accumulate, 0);
}

/** True where gemm_f32 multiplies without packing (a few rows): those paths take no bias. */
// @ts-ignore: decorator
@inline function unpacked(M: i32, aCs: i32, bRs: i32, bCs: i32): bool {
  return (M < MR && bCs == 1) || (M <= MR && bRs == 1 && aCs == 1);
}

/** Fills column range [0, N) of rows [0, M) of C with bias[row]. */
function fillRowBias(M: i32, N: i32, c: usize, ldc: i32, bias: usize): void {
  for (let i = 0; i < M; i++) {
    const bv = load<f32>(bias + <usize>i * 4), row = c + <usize>i * <usize>ldc * 4;
    for (let j = 0; j < N; j++) store<f32>(row + <usize>j * 4, bv);
  }
}

/** C[M x N] = A . B + bias[i] for row i (bias: M floats; 0: none); A, B and C as in gemm_f32. */
export function gemm_bias_f32(
  M: i32, N: i32, K: i32,
  a: usize, aRs: i32, aCs: i32,
  b: usize, bRs: i32, bCs: i32,
  c: usize, ldc: i32, bias: usize,
): void {
  if (bias != 0 && M > 0 && N > 0 && (K <= 0 || unpacked(M, aCs, bRs, bCs))) {
    // paths without the bias: it is written first and the product added onto it
    fillRowBias(M, N, c, ldc, bias);
    gemm(M, N, K, a, aRs, aCs, b, bRs, bCs, c, ldc, 1, 0);
    return;
  }
  gemm(M, N, K, a, aRs, aCs, b, bRs, bCs, c, ldc, 0, bias);
}

/** gemm_f32 with a row bias for the overwriting (accumulate = 0) packed path (see gemm_bias_f32). */
function gemm(
  M: i32, N: i32, K: i32,
  a: usize, aRs: i32, aCs: i32,
  b: usize, bRs: i32, bCs: i32,
  c: usize, ldc: i32, accumulate: i32, bias: usize,
): void {
  if (emptyProduct(M, N, K, c, ldc, accumulate)) return;
  // unpacked paths for a few rows
  if (M < MR && bCs == 1) {
    for (let i = 0; i < M; i++) {
      axpyRow(N, K, a + <usize>i * <usize>aRs * 4, aCs, b, bRs, c + <usize>i * <usize>ldc * 4, accumulate);
    }
    return;
  }
  if (M <= MR && bRs == 1 && aCs == 1) {
    for (let i = 0; i < M; i++) {
      dotRow(N, K, a + <usize>i * <usize>aRs * 4, b, bCs, c + <usize>i * <usize>ldc * 4, accumulate);
    }
    return;
  }
  const pA = bufA(), pB = bufB(), tile = bufT();
  for (let pc = 0; pc < K; pc += KC) {
    const kc = min(KC, K - pc);
    const acc = pc == 0 ? accumulate : 1;
    const rb: usize = acc ? 0 : bias;
    for (let ic = 0; ic < M; ic += MC) {
      const mc = min(MC, M - ic);
      packA(a, aRs, aCs, ic, mc, pc, kc, pA);
      for (let jc = 0; jc < N; jc += NR) {
        const nr = min(NR, N - jc);
        packB(b, bRs, bCs, pc, kc, jc, nr, pB);
        for (let ir = 0; ir < mc; ir += MR) {
          microTile(pA + <usize>(ir * kc * 4), pB, kc, c + (<usize>(ic + ir) * <usize>ldc + <usize>jc) * 4, ldc, acc,
            min(MR, mc - ir), nr, tile, rb == 0 ? 0 : rb + <usize>(ic + ir) * 4);
        }
      }
    }
  }
}

// ---- A packed once --------------------------------------------------------------------------------
// A matrix that many calls multiply (Winograd's transformed filters) is packed once, in the layout the
// loops above build per call: for each KC slice [k0, k0 + kc) of K, the MR-row panels of all M rows, each
// [kc][MR], rows padded with zeros to Mp = M rounded up to MR. Slice k0 starts at float k0 * Mp, panel p
// at p * MR * kc floats into its slice. gemm_packed_f32 then streams the panels straight from there.

/**
 * B columns packed per pass of gemm_packed_f32: NB / NR strips of one KC slice, then the edge tile, fill
 * the workspace (120 * 256 * 4 + 4 * 8 * 4 bytes <= WORKSPACE_BYTES).
 */
// @ts-ignore: decorator
@inline const NB: i32 = 120;

/** Rows of an M-row matrix in the packed layout: M rounded up to whole panels. */
// @ts-ignore: decorator
@inline function panelRows(M: i32): i32 {
  return (M + MR - 1) & ~(MR - 1);
}

/** Floats of an M x K matrix in the packed layout. */
// @ts-ignore: decorator
@inline export function packedAFloats(M: i32, K: i32): i32 {
  return panelRows(M) * K;
}

/** Float offset of element (i, k) of an M x K matrix in the packed layout. */
// @ts-ignore: decorator
@inline export function packedAIndex(M: i32, K: i32, i: i32, k: i32): i32 {
  const k0 = k - k % KC, kc = min(KC, K - k0);
  return k0 * panelRows(M) + (i & ~(MR - 1)) * kc + (k - k0) * MR + (i & (MR - 1));
}

/** Rows per panel of the packed layout (a row range starting at a multiple of it is whole panels). */
// @ts-ignore: decorator
@inline export const PACKED_MR: i32 = MR;

/** Depth of the packed layout's slices: within one, A(i, k) and A(i, k + 1) are MR floats apart. */
// @ts-ignore: decorator
@inline export const PACKED_KC: i32 = KC;

/**
 * C[M x N] (+)= A . B, A being rows [i0, i0 + M) of the rows x K matrix packed at pa (i0 a multiple of
 * MR; C's row 0 is A's row i0); B and C as in gemm_f32. Each KC slice
 * of B is packed NB columns at a time; every A panel then meets all of them while it sits in L1, so
 * A is read once per NB columns and never repacked (with N of a few dozen, as in Winograd's GEMMs,
 * gemm_f32's packing of A took 0.58 s against its micro-kernel's 3.3 s in a profile of VGG16's explain).
 */
export function gemm_packed_f32(
  M: i32, N: i32, K: i32, pa: usize, rows: i32, i0: i32,
  b: usize, bRs: i32, bCs: i32,
  c: usize, ldc: i32, accumulate: i32,
): void {
  if (emptyProduct(M, N, K, c, ldc, accumulate)) return;
  const Mp = panelRows(rows);
  const pB = workspace(), tile = workspace() + <usize>(NB * KC * 4);
  for (let pc = 0; pc < K; pc += KC) {
    const kc = min(KC, K - pc);
    const acc = pc == 0 ? accumulate : 1;
    const slice = pa + <usize>pc * <usize>Mp * 4;
    for (let jb = 0; jb < N; jb += NB) {
      const nb = min(NB, N - jb);
      for (let js = 0; js < nb; js += NR) packB(b, bRs, bCs, pc, kc, jb + js, min(NR, nb - js), pB + <usize>(js * kc * 4));
      for (let ir = 0; ir < M; ir += MR) {
        const panel = slice + <usize>((i0 + ir) * kc * 4);
        const mr = min(MR, M - ir);
        for (let js = 0; js < nb; js += NR) {
          microTile(panel, pB + <usize>(js * kc * 4), kc, c + (<usize>ir * <usize>ldc + <usize>(jb + js)) * 4, ldc, acc,
            mr, min(NR, nb - js), tile, 0);
        }
      }
    }
  }
}
