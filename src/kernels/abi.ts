/**
 * The kernel ABI shared by the WASM kernels (assembly/) and the plain TypeScript reference
 * (src/reference/). Every argument named `*Ptr` is a BYTE address into the backend's linear
 * memory, 16-byte aligned. `n` is the batch size. Kernels allocate nothing and never read
 * outside the ranges documented here. A bias pointer of 0 means "no bias".
 *
 * Descriptors are Int32 arrays written into linear memory once per plan; layouts below.
 */
import { UnsupportedError } from '../errors.js';

/** Conv2d descriptor (Int32 x DESC_INTS). Padding bottom/right is implied by OH/OW. */
export const ConvDesc = {
  C: 0, H: 1, W: 2, O: 3, KH: 4, KW: 5, SH: 6, SW: 7, PT: 8, PL: 9,
  DH: 10, DW: 11, G: 12, OH: 13, OW: 14,
} as const;

/** Pooling descriptor (Int32 x DESC_INTS), used by max and average pooling. */
export const PoolDesc = {
  C: 0, H: 1, W: 2, KH: 3, KW: 4, SH: 5, SW: 6, PT: 7, PL: 8,
  DH: 9, DW: 10, OH: 11, OW: 12,
} as const;

/**
 * Strided gather / scatter-add descriptor (Int32 x DESC_INTS) for layout ops (transpose, slice, crop, nearest
 * upsampling, channel shuffle). IN_SIZE and OUT_SIZE are floats per sample; DIMS[0..RANK) are the output dims
 * (row-major, RANK <= 6, product = OUT_SIZE); STRIDES[0..RANK) the input stride of each output dim (>= 0; 0 repeats
 * an input element). Output index idx reads input element OFFSET + sum_d idx_d * STRIDES_d.
 * Build one with makeStrideDesc (src/kernels/stride-desc.ts), which checks that every index stays in bounds.
 */
export const StrideDesc = {
  RANK: 0, IN_SIZE: 1, OUT_SIZE: 2, OFFSET: 3, DIMS: 4, STRIDES: 10,
} as const;

/** Largest rank a StrideDesc holds. */
export const STRIDE_MAX_RANK = 6;

/** Every descriptor occupies this many Int32 slots (64 bytes). */
export const DESC_INTS = 16;

/**
 * Element-wise activation kinds of activationForward / activationGradient, with their float32 parameters a, b, c
 * (unused ones are ignored). f' at a kink is the one-sided value PyTorch's autograd takes there.
 */
export const ActKind = {
  /** clamp(x, a = min, b = max); ReLU6 = CLIP(0, 6). f' = 1 where a < x < b strictly, else 0. */
  CLIP: 0,
  /** x > 0 ? x : a x. f' = x > 0 ? 1 : a. */
  LEAKY_RELU: 1,
  /** x > 0 ? x : a (exp(x) - 1). f' = x > 0 ? 1 : a exp(x). */
  ELU: 2,
  /** b (x > 0 ? x : a (exp(x) - 1)); ONNX a = 1.67326319217681884765625, b = 1.05070102214813232421875. */
  SELU: 3,
  /** 1 / (1 + exp(-x)) */
  SIGMOID: 4,
  /** max(0, min(1, a x + b)) (PyTorch: a = 1/6, b = 1/2; ONNX default a = 0.2, b = 0.5). f' = a where 0 < a x + b < 1 strictly. */
  HARD_SIGMOID: 5,
  /** x max(0, min(1, x/6 + 1/2)). f' (PyTorch): 0 for x < -3, x/3 + 1/2 for -3 <= x <= 3, 1 for x > 3. */
  HARD_SWISH: 6,
  TANH: 7,
  /** log(1 + exp(x)) (no threshold) */
  SOFTPLUS: 8,
  /** 0.5 x (1 + erf(x / sqrt 2)), exact (PyTorch nn.GELU()) */
  GELU: 9,
  /** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (nn.GELU(approximate='tanh')) */
  GELU_TANH: 10,
  /** x sigmoid(x) (swish) */
  SILU: 11,
  ERF: 12,
  /**
   * Keras relu with options, a = negative_slope, b = max_value (+Infinity if none), c = threshold:
   * x >= b ? b : x > c ? x : a (x - c). f' = 0 at/above b, 1 on (c, b), a at/below c. (At x == c Keras gives 0,
   * the a-branch's value, which differs from x only when c != 0.)
   */
  TF_RELU: 13,
} as const;

export type ActKindCode = (typeof ActKind)[keyof typeof ActKind];

const ACT_KIND_COUNT = Object.keys(ActKind).length;

/** Throws UnsupportedError unless `kind` is one of ActKind's codes. */
export function checkActKind(kind: number): asserts kind is ActKindCode {
  if (!Number.isInteger(kind) || kind < 0 || kind >= ACT_KIND_COUNT) {
    throw new UnsupportedError(`unknown activation kind ${kind} (ActKind has codes 0..${ACT_KIND_COUNT - 1})`);
  }
}

export interface Kernels {
  // ---- dense ---------------------------------------------------------------------------
  /** y[n,o] = sum_i x[n,i] * w[o,i] + b[o]   (x: [n,I], w: [O,I], y: [n,O]) */
  denseForward(xPtr: number, wPtr: number, bPtr: number, yPtr: number, n: number, inF: number, outF: number): void;
  /**
   * Transposed product (input gradient): out[n,i] (+)= sum_o g[n,o] * w[o,i].
   * accumulate = 0 overwrites out, 1 adds to it.
   */
  denseTranspose(gPtr: number, wPtr: number, outPtr: number, n: number, inF: number, outF: number, accumulate: number): void;

  // ---- conv2d (cross-correlation, zero padding, stride, dilation, groups) ---------------
  /** Size in bytes of the scratch buffer conv2dForward / conv2dTranspose need for this descriptor. */
  convScratchBytes(desc: Int32Array): number;
  /** y[n,o,oh,ow] = sum_{c,kh,kw} x[n, g*Cg + c, oh*SH - PT + kh*DH, ow*SW - PL + kw*DW] * w[o,c,kh,kw] + b[o] */
  conv2dForward(descPtr: number, xPtr: number, wPtr: number, bPtr: number, yPtr: number, scratchPtr: number, n: number): void;
  /** The input gradient of conv2dForward (bias-free): out[n,c,h,w] (+)= sum over taps of g * w. Skipped positions get 0. */
  conv2dTranspose(descPtr: number, gPtr: number, wPtr: number, outPtr: number, scratchPtr: number, n: number, accumulate: number): void;
  /**
   * outA = conv2dTranspose(g; wA), outB = conv2dTranspose(g; wB), both overwriting: the same numbers as two
   * calls, which a threaded backend runs at once (a first layer's transpose alone splits into too few parts).
   */
  conv2dTransposePair(descPtr: number, gPtr: number, wA: number, outA: number, wB: number, outB: number, scratchPtr: number, n: number): void;

  // ---- Winograd F(m×m, 3×3) conv, m = 2 or 4 (3×3, stride 1, dilation 1, groups 1; any padding) ------------
  // A call may be split into `parts` independent parts (part in [0, parts)): part p writes only its own output
  // elements and uses the scratch at scratchPtr + p * winogradScratchBytes(desc, m). parts = 1: the whole call.
  /** Bytes of scratch one part of winogradForward / winogradTranspose needs (independent of the batch). */
  winogradScratchBytes(desc: Int32Array, m: number): number;
  /**
   * Filter transform U = G g Gᵀ of every 3×3 filter: transposed = 0 gives the conv's filters, [(m+2)², O, C];
   * transposed = 1 the filters of the transposed product (flipped, in/out swapped), [(m+2)², C, O].
   * uPtr holds (m+2)²·O·C floats.
   */
  winogradFilter(descPtr: number, wPtr: number, uPtr: number, m: number, transposed: number): void;
  /** conv2dForward's result, computed from U = winogradFilter(desc, W, ·, m, 0). */
  winogradForward(descPtr: number, xPtr: number, uPtr: number, bPtr: number, yPtr: number, scratchPtr: number,
    n: number, m: number, part: number, parts: number): void;
  /** conv2dTranspose's result, computed from U = winogradFilter(desc, W, ·, m, 1). */
  winogradTranspose(descPtr: number, gPtr: number, uPtr: number, outPtr: number, scratchPtr: number,
    n: number, m: number, accumulate: number, part: number, parts: number): void;

  // ---- pooling ---------------------------------------------------------------------------
  /** Max over each window (padding = -inf). argmax (Int32, per output) = flat index h*W+w of the first maximum in row-major order. */
  maxpool2dForward(descPtr: number, xPtr: number, yPtr: number, argmaxPtr: number, n: number): void;
  /** out = 0, then out[n,c,argmax] += g[n,c,oh,ow] for every output (overlapping windows accumulate). */
  maxpool2dBackward(descPtr: number, gPtr: number, argmaxPtr: number, outPtr: number, n: number): void;
  /**
   * y[n,c,oh,ow] = invDiv[oh*OW+ow] * sum of x over the valid (non-padding) positions of the window.
   * invDiv (Float32, OH*OW) is 1/divisor, computed once per plan (count_include_pad, divisor_override).
   */
  avgpool2dForward(descPtr: number, xPtr: number, invDivPtr: number, yPtr: number, n: number): void;
  /** Transpose of avgpool2dForward: out = 0, then out[valid window positions] += g * invDiv. */
  avgpool2dTranspose(descPtr: number, gPtr: number, invDivPtr: number, outPtr: number, n: number): void;

  // ---- element-wise (len = number of floats) ---------------------------------------------
  /** y = max(x, 0) */
  relu(xPtr: number, yPtr: number, len: number): void;
  /** y = min(x, 0) */
  negPart(xPtr: number, yPtr: number, len: number): void;
  /** 1 if any x < 0, else 0 */
  hasNegative(xPtr: number, len: number): number;
  /** 1 if any x is not zero (NaN is not zero; -0 is), else 0 */
  hasNonZero(xPtr: number, len: number): number;
  /** 1 if any element is NaN or +-Infinity, else 0 */
  hasNonFinite(xPtr: number, len: number): number;
  /** y = a + b */
  add(aPtr: number, bPtr: number, yPtr: number, len: number): void;
  /** y = a * b */
  mul(aPtr: number, bPtr: number, yPtr: number, len: number): void;
  /** y += coef * a * b */
  mulAcc(aPtr: number, bPtr: number, yPtr: number, len: number, coef: number): void;
  /** y = r / (z + eps * (z >= 0 ? 1 : -1)) */
  stabDivide(rPtr: number, zPtr: number, yPtr: number, len: number, eps: number): void;
  /**
   * Gamma's masked division: y = (sign * m > 0) ? r / (z + eps * (z >= 0 ? 1 : -1)) : 0,
   * with sign = +1 (keep units with m > 0) or -1 (keep units with m < 0).
   */
  stabDivideMasked(rPtr: number, zPtr: number, mPtr: number, yPtr: number, len: number, eps: number, sign: number): void;
  /**
   * Gamma's quotients for an input without negatives, from z and z⁺ = f(x; W⁺, b⁺): gp = [z > 0] r / stab(z + γz⁺),
   * gn = [z < 0] r / stab((1+γ)z − γz⁺) (stab as in stabDivide). Returns 1 if any gn is not zero (NaN counts), else 0.
   */
  gammaDivide(rPtr: number, zPtr: number, zplusPtr: number, gpPtr: number, gnPtr: number, len: number, gamma: number, eps: number): number;
  /** y = x * scale[c] + shift[c] for x laid out [n, C, inner] (batch norm, unfolded) */
  channelAffine(xPtr: number, scalePtr: number, shiftPtr: number, yPtr: number, n: number, channels: number, inner: number): void;
  /** y = x * scale[c] for [n, C, inner] (transpose of channelAffine, without the shift) */
  channelScale(xPtr: number, scalePtr: number, yPtr: number, n: number, channels: number, inner: number): void;
  /** y = value */
  fill(yPtr: number, len: number, value: number): void;
  /** y = x */
  copy(xPtr: number, yPtr: number, len: number): void;
  /**
   * Strided block copy (concat forward and its slicing backward):
   * for b in 0..blocks: dst[b*dstStride + k] = src[b*srcStride + k], k < blockLen (all in floats).
   * srcStride 0 copies the same block into every destination block (a constant broadcast to every sample).
   */
  copyBlocks(srcPtr: number, dstPtr: number, blocks: number, blockLen: number, srcStride: number, dstStride: number): void;
  /** dst += src, strided like copyBlocks */
  addBlocks(srcPtr: number, dstPtr: number, blocks: number, blockLen: number, srcStride: number, dstStride: number): void;

  // ---- activations (len = number of floats; a, b, c are float32 parameters, see ActKind) ---------------------
  /** y = f(x) for the activation `kind` (ActKind; UnsupportedError for another code). y may alias x. */
  activationForward(kind: number, xPtr: number, yPtr: number, len: number, a: number, b: number, c: number): void;
  /** out = g * f'(x), x the forward INPUT (f' at kinks: see ActKind). out may alias x or g. */
  activationGradient(kind: number, xPtr: number, gPtr: number, outPtr: number, len: number, a: number, b: number, c: number): void;
  /** PReLU, layout [n, C, inner]: y = x > 0 ? x : slope[c] * x. y may alias x. */
  preluForward(xPtr: number, slopePtr: number, yPtr: number, n: number, channels: number, inner: number): void;
  /** out = g * (x > 0 ? 1 : slope[c]) (the slope at x = 0, as PyTorch). out may alias x or g. */
  preluGradient(xPtr: number, slopePtr: number, gPtr: number, outPtr: number, n: number, channels: number, inner: number): void;

  // ---- per-sample channel gate (squeeze-excitation): x [n, C, inner], gate [n, C] ----------------------------
  /** y[s,c,i] = x[s,c,i] * gate[s,c]. y may alias x. */
  channelMul(xPtr: number, gatePtr: number, yPtr: number, n: number, channels: number, inner: number): void;
  /**
   * out[s,c] (= or +=) sum_i a[s,c,i] * b[s,c,i], summed in float64 and rounded once (the gate's gradient).
   * accumulate = 0 overwrites out, 1 adds to it.
   */
  channelDot(aPtr: number, bPtr: number, outPtr: number, n: number, channels: number, inner: number, accumulate: number): void;

  // ---- layer norm and softmax over the last axis, rows x features ([n·rows, F]); float64 row sums, rounded once ----
  /**
   * y = ((x − mean)/sqrt(var + eps))·w + b per row (mean and biased variance of the row in float64).
   * w, b: [F], pointer 0 = none (w = 1, b = 0). y may alias x.
   */
  layerNormForward(xPtr: number, wPtr: number, bPtr: number, yPtr: number, rows: number, features: number, eps: number): void;
  /**
   * AttnLRP's layer-norm relevance (the std a constant): c = r / (y + stab·sign(y)) (sign(0) = +1),
   * out_i = x_i/std · (w_i c_i − mean_j(w_j c_j)). y is the forward output (bias included). out may alias x, y or r.
   */
  layerNormAttnLrp(xPtr: number, yPtr: number, wPtr: number, rPtr: number, outPtr: number, rows: number, features: number, eps: number, stab: number): void;
  /** The exact input gradient of layerNormForward (the variance included). out may alias x or g. */
  layerNormGradient(xPtr: number, wPtr: number, gPtr: number, outPtr: number, rows: number, features: number, eps: number): void;
  /** y = exp(x − max)/sum(exp(x − max)) per row (exp and sum in float64). y may alias x. */
  softmaxForward(xPtr: number, yPtr: number, rows: number, features: number): void;
  /**
   * AttnLRP's softmax relevance (Prop. 3.1): out = x·(r − s·sum_row r), s = the forward output; x = −∞ counts as 0.
   * out may alias x, s or r.
   */
  softmaxAttnLrp(xPtr: number, sPtr: number, rPtr: number, outPtr: number, rows: number, features: number): void;
  /** The input gradient: out = s·(g − sum_row(g·s)). out may alias s or g. */
  softmaxGradient(sPtr: number, gPtr: number, outPtr: number, rows: number, features: number): void;

  // ---- strided gather / scatter-add (descriptor: StrideDesc) -------------------------------------------------
  /** y[s*OUT + flat(idx)] = x[s*IN + OFFSET + sum_d idx_d * STRIDES_d]. x and y must not overlap. */
  stridedGather(descPtr: number, xPtr: number, yPtr: number, n: number): void;
  /**
   * The transpose of stridedGather: out[s*IN + OFFSET + sum_d idx_d * STRIDES_d] += g[s*OUT + flat(idx)].
   * Targets repeated by stride-0 dims accumulate; out is not zeroed. g and out must not overlap.
   */
  stridedScatterAdd(descPtr: number, gPtr: number, outPtr: number, n: number): void;

  // ---- product of two activations (matmul op) --------------------------------------------------------------
  /**
   * For each of `batch` consecutive matrix triples: c[M,N] (+)= op(a) * op(b), op(a) [M,K], op(b) [K,N].
   * a is stored [M,K] (transA = 0) or [K,M] (transA = 1); b [K,N] (transB = 0) or [N,K] (transB = 1). The matrices
   * follow each other (a every M*K floats, b every K*N, c every M*N). accumulate = 0 overwrites c, 1 adds to it.
   * c must not overlap a or b.
   */
  matmul(aPtr: number, bPtr: number, cPtr: number, batch: number, M: number, K: number, N: number, transA: number, transB: number, accumulate: number): void;

  // ---- embedding lookup ------------------------------------------------------------------------------------
  /**
   * y[t,:] = table[ids[t],:] for `count` ids given as float32 values, table [vocab, dim]. Every id is checked first:
   * returns the index of the first id that is not an integer in [0, vocab) (NaN included) and writes nothing, or -1
   * after copying every row. Never reads outside the table.
   */
  embeddingForward(idsPtr: number, tablePtr: number, yPtr: number, count: number, vocab: number, dim: number): number;
}

/**
 * Linear memory owned by the TypeScript side. The views are re-derived after memory grows,
 * so callers must not cache them across allocations.
 */
export interface Memory {
  /** Reserve `bytes` (rounded up to 16), zero-filled, 16-byte aligned. Grows memory as needed. */
  alloc(bytes: number): number;
  /** Return a block obtained from alloc. */
  free(ptr: number): void;
  f32(): Float32Array;
  i32(): Int32Array;
  /** Current size of linear memory in bytes. */
  byteLength(): number;
  /** The largest block alloc() can still hand out within the 4 GiB of wasm32. */
  available(): number;
  /** Bytes currently handed out (live blocks). */
  used(): number;
}

/**
 * When 3×3 stride-1 convs use the Winograd kernels in the relevance pass: 'auto' where measured to pay
 * (src/engine/winograd.ts), 'on' wherever they apply, 'off' never (im2col + GEMM everywhere).
 */
export type WinogradMode = 'auto' | 'on' | 'off';

/** A compute backend: a memory and the kernels that operate on it. */
export interface Backend {
  readonly name: 'wasm-simd' | 'wasm-relaxed-simd' | 'wasm-scalar' | 'reference';
  /** Winograd use for 3×3 stride-1 convs (absent: 'off'). */
  readonly winograd?: WinogradMode;
  readonly memory: Memory;
  readonly kernels: Kernels;
  /** Threads one kernel call uses (src/wasm/threads.ts), and why not more; absent: one. */
  readonly threads?: { readonly count: number; readonly reason: string | null };
  /** Stops the backend's threads, if it has any. */
  dispose?(): void;
}
