/**
 * Plain TypeScript reference of every kernel in src/kernels/abi.ts: direct loops, no im2col,
 * no SIMD, written to be obviously right. Used by tests (WASM vs reference) and by the bench
 * as the baseline. Operates on an ArrayBuffer heap with the same byte-pointer ABI.
 */
import type { Backend, Kernels, Memory, WinogradMode } from '../kernels/abi.js';
import { ConvDesc as CD, PoolDesc as PD, StrideDesc as SD, checkActKind } from '../kernels/abi.js';
import { Arena } from '../kernels/arena.js';
import { activationDerivRef, activationRef } from './activations.js';
import { referenceRowKernels } from './rows.js';
import { referenceWinogradKernels } from './winograd.js';

class GrowableHeap {
  buf: ArrayBuffer;
  constructor(bytes: number) {
    this.buf = new ArrayBuffer(bytes);
  }
  grow(minBytes: number): void {
    let size = this.buf.byteLength;
    while (size < minBytes) size *= 2;
    const next = new ArrayBuffer(size);
    new Uint8Array(next).set(new Uint8Array(this.buf));
    this.buf = next;
  }
}

/** The reference backend; Winograd is off unless asked for (the direct loops are the oracle). */
export function createReferenceBackend(initialBytes = 1 << 16, winograd: WinogradMode = 'off'): Backend {
  const heap = new GrowableHeap(initialBytes);
  const memory = new Arena(16, () => heap.buf, (min) => heap.grow(min));
  return { name: 'reference', memory, kernels: referenceKernels(memory), winograd };
}

function referenceKernels(mem: Memory): Kernels {
  const F = () => mem.f32();
  const I = () => mem.i32();
  const f = (ptr: number) => ptr >>> 2;
  const desc = (ptr: number) => I().subarray(ptr >>> 2, (ptr >>> 2) + 16);

  const k: Kernels = {
    denseForward(x, w, b, y, n, inF, outF) {
      const h = F();
      for (let s = 0; s < n; s++)
        for (let o = 0; o < outF; o++) {
          let acc = b ? h[f(b) + o] : 0;
          for (let i = 0; i < inF; i++) acc += h[f(x) + s * inF + i] * h[f(w) + o * inF + i];
          h[f(y) + s * outF + o] = acc;
        }
    },
    denseTranspose(g, w, out, n, inF, outF, accumulate) {
      const h = F();
      for (let s = 0; s < n; s++)
        for (let i = 0; i < inF; i++) {
          let acc = 0;
          for (let o = 0; o < outF; o++) acc += h[f(g) + s * outF + o] * h[f(w) + o * inF + i];
          const idx = f(out) + s * inF + i;
          h[idx] = accumulate ? h[idx] + acc : acc;
        }
    },
    convScratchBytes() {
      return 0;
    },
    conv2dForward(dp, x, w, b, y, _scratch, n) {
      const d = desc(dp);
      const [C, H, W, O] = [d[CD.C], d[CD.H], d[CD.W], d[CD.O]];
      const G = d[CD.G], Cg = C / G, Og = O / G;
      const h = F();
      for (let s = 0; s < n; s++)
        for (let o = 0; o < O; o++) {
          const g = Math.floor(o / Og);
          for (let oh = 0; oh < d[CD.OH]; oh++)
            for (let ow = 0; ow < d[CD.OW]; ow++) {
              let acc = b ? h[f(b) + o] : 0;
              for (let c = 0; c < Cg; c++)
                for (let kh = 0; kh < d[CD.KH]; kh++) {
                  const ih = oh * d[CD.SH] - d[CD.PT] + kh * d[CD.DH];
                  if (ih < 0 || ih >= H) continue;
                  for (let kw = 0; kw < d[CD.KW]; kw++) {
                    const iw = ow * d[CD.SW] - d[CD.PL] + kw * d[CD.DW];
                    if (iw < 0 || iw >= W) continue;
                    acc +=
                      h[f(x) + ((s * C + g * Cg + c) * H + ih) * W + iw] *
                      h[f(w) + ((o * Cg + c) * d[CD.KH] + kh) * d[CD.KW] + kw];
                  }
                }
              h[f(y) + ((s * O + o) * d[CD.OH] + oh) * d[CD.OW] + ow] = acc;
            }
        }
    },
    conv2dTranspose(dp, g, w, out, _scratch, n, accumulate) {
      const d = desc(dp);
      const [C, H, W, O] = [d[CD.C], d[CD.H], d[CD.W], d[CD.O]];
      const G = d[CD.G], Cg = C / G, Og = O / G;
      const h = F();
      const acc = new Float64Array(n * C * H * W);
      for (let s = 0; s < n; s++)
        for (let o = 0; o < O; o++) {
          const grp = Math.floor(o / Og);
          for (let oh = 0; oh < d[CD.OH]; oh++)
            for (let ow = 0; ow < d[CD.OW]; ow++) {
              const gv = h[f(g) + ((s * O + o) * d[CD.OH] + oh) * d[CD.OW] + ow];
              if (gv === 0) continue;
              for (let c = 0; c < Cg; c++)
                for (let kh = 0; kh < d[CD.KH]; kh++) {
                  const ih = oh * d[CD.SH] - d[CD.PT] + kh * d[CD.DH];
                  if (ih < 0 || ih >= H) continue;
                  for (let kw = 0; kw < d[CD.KW]; kw++) {
                    const iw = ow * d[CD.SW] - d[CD.PL] + kw * d[CD.DW];
                    if (iw < 0 || iw >= W) continue;
                    acc[((s * C + grp * Cg + c) * H + ih) * W + iw] +=
                      gv * h[f(w) + ((o * Cg + c) * d[CD.KH] + kh) * d[CD.KW] + kw];
                  }
                }
            }
        }
      for (let i = 0; i < acc.length; i++) h[f(out) + i] = accumulate ? h[f(out) + i] + acc[i] : acc[i];
    },
    conv2dTransposePair(dp, g, wA, outA, wB, outB, scratch, n) {
      k.conv2dTranspose(dp, g, wA, outA, scratch, n, 0);
      k.conv2dTranspose(dp, g, wB, outB, scratch, n, 0);
    },
    maxpool2dForward(dp, x, y, am, n) {
      const d = desc(dp);
      const h = F(), ih32 = I();
      const [C, H, W, OH, OW] = [d[PD.C], d[PD.H], d[PD.W], d[PD.OH], d[PD.OW]];
      for (let s = 0; s < n; s++)
        for (let c = 0; c < C; c++)
          for (let oh = 0; oh < OH; oh++)
            for (let ow = 0; ow < OW; ow++) {
              let best = -Infinity, arg = -1;
              for (let kh = 0; kh < d[PD.KH]; kh++) {
                const hh = oh * d[PD.SH] - d[PD.PT] + kh * d[PD.DH];
                if (hh < 0 || hh >= H) continue;
                for (let kw = 0; kw < d[PD.KW]; kw++) {
                  const ww = ow * d[PD.SW] - d[PD.PL] + kw * d[PD.DW];
                  if (ww < 0 || ww >= W) continue;
                  const v = h[f(x) + ((s * C + c) * H + hh) * W + ww];
                  if (v > best || arg < 0) {
                    best = v;
                    arg = hh * W + ww;
                  }
                }
              }
              const oi = ((s * C + c) * OH + oh) * OW + ow;
              h[f(y) + oi] = best;
              ih32[(am >>> 2) + oi] = arg;
            }
    },
    maxpool2dBackward(dp, g, am, out, n) {
      const d = desc(dp);
      const h = F(), ih32 = I();
      const [C, H, W, OH, OW] = [d[PD.C], d[PD.H], d[PD.W], d[PD.OH], d[PD.OW]];
      h.fill(0, f(out), f(out) + n * C * H * W);
      for (let s = 0; s < n; s++)
        for (let c = 0; c < C; c++)
          for (let o = 0; o < OH * OW; o++) {
            const oi = (s * C + c) * OH * OW + o;
            h[f(out) + (s * C + c) * H * W + ih32[(am >>> 2) + oi]] += h[f(g) + oi];
          }
    },
    avgpool2dForward(dp, x, inv, y, n) {
      const d = desc(dp);
      const h = F();
      const [C, H, W, OH, OW] = [d[PD.C], d[PD.H], d[PD.W], d[PD.OH], d[PD.OW]];
      for (let s = 0; s < n; s++)
        for (let c = 0; c < C; c++)
          for (let oh = 0; oh < OH; oh++)
            for (let ow = 0; ow < OW; ow++) {
              let acc = 0;
              forWindow(d, H, W, oh, ow, (hh, ww) => (acc += h[f(x) + ((s * C + c) * H + hh) * W + ww]));
              h[f(y) + ((s * C + c) * OH + oh) * OW + ow] = acc * h[f(inv) + oh * OW + ow];
            }
    },
    avgpool2dTranspose(dp, g, inv, out, n) {
      const d = desc(dp);
      const h = F();
      const [C, H, W, OH, OW] = [d[PD.C], d[PD.H], d[PD.W], d[PD.OH], d[PD.OW]];
      h.fill(0, f(out), f(out) + n * C * H * W);
      for (let s = 0; s < n; s++)
        for (let c = 0; c < C; c++)
          for (let oh = 0; oh < OH; oh++)
            for (let ow = 0; ow < OW; ow++) {
              const v = h[f(g) + ((s * C + c) * OH + oh) * OW + ow] * h[f(inv) + oh * OW + ow];
              forWindow(d, H, W, oh, ow, (hh, ww) => (h[f(out) + ((s * C + c) * H + hh) * W + ww] += v));
            }
    },
    relu(x, y, len) {
      const h = F();
      for (let i = 0; i < len; i++) h[f(y) + i] = Math.max(h[f(x) + i], 0);
    },
    negPart(x, y, len) {
      const h = F();
      for (let i = 0; i < len; i++) h[f(y) + i] = Math.min(h[f(x) + i], 0);
    },
    hasNegative(x, len) {
      const h = F();
      for (let i = 0; i < len; i++) if (h[f(x) + i] < 0) return 1;
      return 0;
    },
    hasNonZero(x, len) {
      const h = F();
      for (let i = 0; i < len; i++) if (h[f(x) + i] !== 0) return 1;
      return 0;
    },
    hasNonFinite(x, len) {
      const h = F();
      for (let i = 0; i < len; i++) if (!Number.isFinite(h[f(x) + i])) return 1;
      return 0;
    },
    add(a, b, y, len) {
      const h = F();
      for (let i = 0; i < len; i++) h[f(y) + i] = h[f(a) + i] + h[f(b) + i];
    },
    mul(a, b, y, len) {
      const h = F();
      for (let i = 0; i < len; i++) h[f(y) + i] = h[f(a) + i] * h[f(b) + i];
    },
    mulAcc(a, b, y, len, coef) {
      const h = F();
      for (let i = 0; i < len; i++) h[f(y) + i] += coef * h[f(a) + i] * h[f(b) + i];
    },
    stabDivide(r, z, y, len, eps) {
      const h = F();
      for (let i = 0; i < len; i++) {
        const zi = h[f(z) + i];
        h[f(y) + i] = h[f(r) + i] / (zi + (zi >= 0 ? eps : -eps));
      }
    },
    stabDivideMasked(r, z, m, y, len, eps, sign) {
      const h = F();
      for (let i = 0; i < len; i++) {
        const zi = h[f(z) + i];
        h[f(y) + i] = sign * h[f(m) + i] > 0 ? h[f(r) + i] / (zi + (zi >= 0 ? eps : -eps)) : 0;
      }
    },
    gammaDivide(r, z, zplus, gp, gn, len, gamma, eps) {
      const h = F();
      const stab = (d: number) => d + (d >= 0 ? eps : -eps);
      let any = 0;
      for (let i = 0; i < len; i++) {
        const zi = h[f(z) + i], pi = h[f(zplus) + i], ri = h[f(r) + i];
        h[f(gp) + i] = zi > 0 ? ri / stab(zi + gamma * pi) : 0;
        h[f(gn) + i] = zi < 0 ? ri / stab((1 + gamma) * zi - gamma * pi) : 0;
        if (h[f(gn) + i] !== 0) any = 1;
      }
      return any;
    },
    channelAffine(x, scale, shift, y, n, channels, inner) {
      const h = F();
      for (let s = 0; s < n; s++)
        for (let c = 0; c < channels; c++)
          for (let i = 0; i < inner; i++) {
            const idx = (s * channels + c) * inner + i;
            h[f(y) + idx] = h[f(x) + idx] * h[f(scale) + c] + h[f(shift) + c];
          }
    },
    channelScale(x, scale, y, n, channels, inner) {
      const h = F();
      for (let s = 0; s < n; s++)
        for (let c = 0; c < channels; c++)
          for (let i = 0; i < inner; i++) {
            const idx = (s * channels + c) * inner + i;
            h[f(y) + idx] = h[f(x) + idx] * h[f(scale) + c];
          }
    },
    fill(y, len, value) {
      F().fill(value, f(y), f(y) + len);
    },
    copy(x, y, len) {
      const h = F();
      h.copyWithin(f(y), f(x), f(x) + len);
    },
    copyBlocks(src, dst, blocks, blockLen, srcStride, dstStride) {
      const h = F();
      for (let b = 0; b < blocks; b++)
        for (let i = 0; i < blockLen; i++) h[f(dst) + b * dstStride + i] = h[f(src) + b * srcStride + i];
    },
    addBlocks(src, dst, blocks, blockLen, srcStride, dstStride) {
      const h = F();
      for (let b = 0; b < blocks; b++)
        for (let i = 0; i < blockLen; i++) h[f(dst) + b * dstStride + i] += h[f(src) + b * srcStride + i];
    },
    activationForward(kind, x, y, len, a, b, c) {
      checkActKind(kind);
      const h = F();
      const [fa, fb, fc] = [Math.fround(a), Math.fround(b), Math.fround(c)]; // the ABI's parameters are float32
      for (let i = 0; i < len; i++) h[f(y) + i] = activationRef(kind, h[f(x) + i], fa, fb, fc);
    },
    activationGradient(kind, x, g, out, len, a, b, c) {
      checkActKind(kind);
      const h = F();
      const [fa, fb, fc] = [Math.fround(a), Math.fround(b), Math.fround(c)];
      for (let i = 0; i < len; i++) h[f(out) + i] = h[f(g) + i] * activationDerivRef(kind, h[f(x) + i], fa, fb, fc);
    },
    preluForward(x, slope, y, n, channels, inner) {
      const h = F();
      for (let s = 0; s < n; s++)
        for (let c = 0; c < channels; c++)
          for (let i = 0; i < inner; i++) {
            const idx = (s * channels + c) * inner + i;
            const v = h[f(x) + idx];
            h[f(y) + idx] = v > 0 ? v : h[f(slope) + c] * v;
          }
    },
    preluGradient(x, slope, g, out, n, channels, inner) {
      const h = F();
      for (let s = 0; s < n; s++)
        for (let c = 0; c < channels; c++)
          for (let i = 0; i < inner; i++) {
            const idx = (s * channels + c) * inner + i;
            h[f(out) + idx] = h[f(g) + idx] * (h[f(x) + idx] > 0 ? 1 : h[f(slope) + c]);
          }
    },
    channelMul(x, gate, y, n, channels, inner) {
      const h = F();
      for (let sc = 0; sc < n * channels; sc++)
        for (let i = 0; i < inner; i++) h[f(y) + sc * inner + i] = h[f(x) + sc * inner + i] * h[f(gate) + sc];
    },
    channelDot(a, b, out, n, channels, inner, accumulate) {
      const h = F();
      for (let sc = 0; sc < n * channels; sc++) {
        let sum = 0;
        for (let i = 0; i < inner; i++) sum += h[f(a) + sc * inner + i] * h[f(b) + sc * inner + i];
        h[f(out) + sc] = accumulate ? h[f(out) + sc] + sum : sum;
      }
    },
    stridedGather(dp, x, y, n) {
      const h = F();
      const layout = stridedLayout(desc(dp));
      for (let s = 0; s < n; s++)
        for (let o = 0; o < layout.outSize; o++) {
          h[f(y) + s * layout.outSize + o] = h[f(x) + s * layout.inSize + layout.source(o)];
        }
    },
    stridedScatterAdd(dp, g, out, n) {
      const h = F();
      const layout = stridedLayout(desc(dp));
      // sums in float64, rounded once per target
      const acc = Float64Array.from(h.subarray(f(out), f(out) + n * layout.inSize));
      for (let s = 0; s < n; s++)
        for (let o = 0; o < layout.outSize; o++) acc[s * layout.inSize + layout.source(o)] += h[f(g) + s * layout.outSize + o];
      h.set(acc, f(out));
    },
    ...referenceRowKernels(F),
    ...referenceWinogradKernels(mem),
    matmul(a, b, c, batch, M, K, N, transA, transB, accumulate) {
      const h = F();
      for (let t = 0; t < batch; t++) {
        const A = f(a) + t * M * K, B = f(b) + t * K * N, C = f(c) + t * M * N;
        for (let i = 0; i < M; i++)
          for (let j = 0; j < N; j++) {
            let acc = 0;
            for (let q = 0; q < K; q++) acc += h[A + (transA ? q * M + i : i * K + q)] * h[B + (transB ? j * K + q : q * N + j)];
            const idx = C + i * N + j;
            h[idx] = accumulate ? h[idx] + acc : acc;
          }
      }
    },
    embeddingForward(ids, table, y, count, vocab, dim) {
      const h = F();
      for (let t = 0; t < count; t++) {
        const v = h[f(ids) + t];
        if (!(Number.isInteger(v) && v >= 0 && v < vocab)) return t;
      }
      for (let t = 0; t < count; t++) h.copyWithin(f(y) + t * dim, f(table) + h[f(ids) + t] * dim, f(table) + (h[f(ids) + t] + 1) * dim);
      return -1;
    },
  };
  return k;
}

/** A StrideDesc read back: the input element (within a sample) that output element o reads. */
function stridedLayout(d: Int32Array): { inSize: number; outSize: number; source(o: number): number } {
  const rank = d[SD.RANK];
  return {
    inSize: d[SD.IN_SIZE],
    outSize: d[SD.OUT_SIZE],
    source(o: number): number {
      let src = d[SD.OFFSET];
      for (let k = rank - 1; k >= 0; k--) {
        const dim = d[SD.DIMS + k];
        src += (o % dim) * d[SD.STRIDES + k];
        o = Math.floor(o / dim);
      }
      return src;
    },
  };
}

/** Visit the in-input positions of one pooling window. */
function forWindow(d: Int32Array, H: number, W: number, oh: number, ow: number, visit: (h: number, w: number) => void): void {
  for (let kh = 0; kh < d[PD.KH]; kh++) {
    const hh = oh * d[PD.SH] - d[PD.PT] + kh * d[PD.DH];
    if (hh < 0 || hh >= H) continue;
    for (let kw = 0; kw < d[PD.KW]; kw++) {
      const ww = ow * d[PD.SW] - d[PD.PL] + kw * d[PD.DW];
      if (ww < 0 || ww >= W) continue;
      visit(hh, ww);
    }
  }
}
