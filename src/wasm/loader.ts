/**
 * Loads the AssemblyScript kernel module (bytes embedded as base64 by scripts/embed-wasm.mjs) and
 * wraps it as a `Backend`. No @assemblyscript/loader, no fs, no fetch: works in Node without a
 * bundler and in esbuild browser bundles.
 *
 * - Each variant's `WebAssembly.Module` is compiled once and cached; every backend gets its own
 *   instance (and so its own memory).
 * - The module exports its memory (the shared-memory builds of threads.ts import one). Its static
 *   region ends at `lrp_heap_base()` (static data plus a fixed GEMM packing workspace per thread);
 *   the TS `Arena` owns every byte above it and grows the memory with `memory.grow`. Views are
 *   re-derived by the Arena after growth.
 * - `createWasmBackend` is synchronous. Browsers may refuse synchronous compilation of large modules
 *   on the main thread; call `await initWasm()` once beforehand there (it compiles asynchronously
 *   and fills the cache, after which `createWasmBackend` does not compile).
 */
import { checkActKind, type Backend, type Kernels, type WinogradMode } from '../kernels/abi.js';
import { Arena, MemoryLimitError } from '../kernels/arena.js';
import { RELAXED_WASM_BASE64, SCALAR_WASM_BASE64, SIMD_WASM_BASE64 } from './generated/bytes.js';
import { convScratchBytes, winogradScratchBytes } from './scratch.js';
import { checkPart, checkTile } from '../kernels/winograd.js';
import { platform } from '#platform';

export type WasmVariant = 'simd' | 'relaxed' | 'scalar';
export interface WasmBackendOptions {
  /** 'auto' (default): relaxed SIMD if the runtime supports it, else SIMD, else scalar. */
  variant?: WasmVariant | 'auto';
  /** Winograd for 3×3 stride-1 convs (relevance pass): 'auto' (default: where it pays), 'on' (wherever it applies), 'off'. */
  winograd?: WinogradMode;
}

/** The raw exports of the kernel module (byte pointers, i32 sizes). */
export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  lrp_heap_base(): number;
  gemm_f32(M: number, N: number, K: number, a: number, aRs: number, aCs: number,
    b: number, bRs: number, bCs: number, c: number, ldc: number, accumulate: number): void;
  dense_forward_f32(x: number, w: number, b: number, y: number, n: number, inF: number, outF: number, part: number, parts: number): void;
  dense_transpose_f32(g: number, w: number, out: number, n: number, inF: number, outF: number, acc: number, part: number, parts: number): void;
  conv2d_scratch_bytes(desc: number): number;
  conv2d_forward_f32(desc: number, x: number, w: number, b: number, y: number, scratch: number, n: number, part: number, parts: number): void;
  conv2d_transpose_f32(desc: number, g: number, w: number, out: number, scratch: number, n: number, acc: number, part: number, parts: number): void;
  conv2d_transpose_pair_f32(desc: number, g: number, wA: number, outA: number, wB: number, outB: number, scratch: number, n: number, part: number, parts: number): void;
  winograd_scratch_bytes(desc: number, m: number): number;
  winograd_filter_f32(desc: number, w: number, u: number, m: number, transposed: number): void;
  winograd_forward_f32(desc: number, x: number, u: number, b: number, y: number, scratch: number, n: number, m: number, part: number, parts: number): void;
  winograd_transpose_f32(desc: number, g: number, u: number, out: number, scratch: number, n: number, m: number, acc: number, part: number, parts: number): void;
  maxpool2d_forward_f32(desc: number, x: number, y: number, argmax: number, n: number, part: number, parts: number): void;
  maxpool2d_backward_f32(desc: number, g: number, argmax: number, out: number, n: number, part: number, parts: number): void;
  avgpool2d_forward_f32(desc: number, x: number, invDiv: number, y: number, n: number): void;
  avgpool2d_transpose_f32(desc: number, g: number, invDiv: number, out: number, n: number): void;
  relu_f32(x: number, y: number, len: number): void;
  neg_part_f32(x: number, y: number, len: number): void;
  has_negative_f32(x: number, len: number): number;
  has_nonzero_f32(x: number, len: number): number;
  gamma_divide_f32(r: number, z: number, zplus: number, gp: number, gn: number, len: number, cUp: number, cDown: number, cOne: number, eps: number): number;
  has_non_finite_f32(x: number, len: number): number;
  gamma_divide_part_f32(r: number, z: number, zplus: number, gp: number, gn: number, len: number, consts: number, flags: number, part: number, parts: number): void;
  elementwise_part_f32(op: number, p0: number, p1: number, p2: number, p3: number, len: number, s0: number, s1: number, flags: number, part: number, parts: number): void;
  add_f32(a: number, b: number, y: number, len: number): void;
  mul_f32(a: number, b: number, y: number, len: number): void;
  mul_acc_f32(a: number, b: number, y: number, len: number, coef: number): void;
  stab_divide_f32(r: number, z: number, y: number, len: number, eps: number): void;
  stab_divide_masked_f32(r: number, z: number, m: number, y: number, len: number, eps: number, sign: number): void;
  channel_affine_f32(x: number, scale: number, shift: number, y: number, n: number, c: number, inner: number): void;
  channel_scale_f32(x: number, scale: number, y: number, n: number, c: number, inner: number): void;
  fill_f32(y: number, len: number, value: number): void;
  copy_f32(x: number, y: number, len: number): void;
  copy_blocks_f32(src: number, dst: number, blocks: number, blockLen: number, srcStride: number, dstStride: number): void;
  add_blocks_f32(src: number, dst: number, blocks: number, blockLen: number, srcStride: number, dstStride: number): void;
  activation_forward_f32(kind: number, x: number, y: number, len: number, a: number, b: number, c: number): void;
  activation_gradient_f32(kind: number, x: number, g: number, out: number, len: number, a: number, b: number, c: number): void;
  prelu_forward_f32(x: number, slope: number, y: number, n: number, c: number, inner: number): void;
  prelu_gradient_f32(x: number, slope: number, g: number, out: number, n: number, c: number, inner: number): void;
  channel_mul_f32(x: number, gate: number, y: number, n: number, c: number, inner: number): void;
  channel_dot_f32(a: number, b: number, out: number, n: number, c: number, inner: number, acc: number): void;
  strided_gather_f32(desc: number, x: number, y: number, n: number): void;
  strided_scatter_add_f32(desc: number, g: number, out: number, n: number): void;
  layer_norm_forward_f32(x: number, w: number, b: number, y: number, rows: number, f: number, eps: number): void;
  layer_norm_attnlrp_f32(x: number, y: number, w: number, r: number, out: number, rows: number, f: number, eps: number, stab: number): void;
  layer_norm_gradient_f32(x: number, w: number, g: number, out: number, rows: number, f: number, eps: number): void;
  softmax_forward_f32(x: number, y: number, rows: number, f: number): void;
  softmax_attnlrp_f32(x: number, s: number, r: number, out: number, rows: number, f: number): void;
  softmax_gradient_f32(s: number, g: number, out: number, rows: number, f: number): void;
  matmul_f32(a: number, b: number, c: number, batch: number, M: number, K: number, N: number, transA: number, transB: number, acc: number, part: number, parts: number): void;
  /** Shared-memory builds: which static GEMM workspace this instance uses (0 = the calling thread). */
  lrp_set_thread(index: number): void;
  embedding_forward_f32(ids: number, table: number, y: number, count: number, vocab: number, dim: number): number;
}

/** A Backend over one WASM instance; `exports` gives the raw kernels (e.g. `gemm_f32`). */
export interface WasmBackend extends Backend {
  readonly variant: WasmVariant;
  readonly memory: Arena;
  readonly exports: KernelExports;
  readonly winograd: WinogradMode;
}

// ---- feature probes ------------------------------------------------------------------------

// (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);
// (func (result v128) i32.const 0 i32x4.splat (x3) f32x4.relaxed_madd)
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17, 0,
  65, 0, 253, 17, 65, 0, 253, 17, 65, 0, 253, 17, 253, 133, 2, 11,
]);

let features: { simd: boolean; relaxedSimd: boolean } | undefined;

function validates(b: Uint8Array): boolean {
  try {
    return WebAssembly.validate(b as unknown as BufferSource);
  } catch {
    return false;
  }
}

/** What this runtime's WebAssembly supports (cached). */
export function wasmFeatures(): { simd: boolean; relaxedSimd: boolean } {
  features ??= { simd: validates(SIMD_PROBE), relaxedSimd: validates(RELAXED_PROBE) };
  return features;
}

let switchTried = false;

/**
 * Relaxed SIMD (fused multiply-add: 1.1–1.3× on the GEMM-bound ImageNet models at 224×224, `node bench/compare-builds.mjs
 * --backends wasm-simd,wasm`) where the runtime has it behind a switch: Node 20 (platform.enableRelaxedSimd),
 * tried once. Only the 'auto' and 'relaxed' choices turn it on; 'simd' leaves the runtime as it is.
 */
function relaxedSimdAvailable(): boolean {
  const f = wasmFeatures();
  if (!f.relaxedSimd && f.simd && !switchTried) {
    switchTried = true;
    platform.enableRelaxedSimd();
    features = { simd: true, relaxedSimd: validates(RELAXED_PROBE) };
  }
  return features!.relaxedSimd;
}

function embedded(variant: WasmVariant): string | null {
  return variant === 'simd' ? SIMD_WASM_BASE64 : variant === 'relaxed' ? RELAXED_WASM_BASE64 : SCALAR_WASM_BASE64;
}

/** The variant 'auto' picks here, or the requested one after checking it can run. */
export function selectVariant(pref: WasmVariant | 'auto' = 'auto'): WasmVariant {
  const f = wasmFeatures();
  if (pref === 'auto') {
    if (f.simd && embedded('relaxed') && relaxedSimdAvailable()) return 'relaxed';
    if (f.simd && embedded('simd')) return 'simd';
    if (embedded('scalar')) return 'scalar';
    throw new Error('lrp-wasm: this WebAssembly runtime lacks SIMD and no scalar kernel build is embedded');
  }
  if (!embedded(pref)) throw new Error(`lrp-wasm: the '${pref}' kernel build is not embedded in this package`);
  if ((pref === 'simd' || pref === 'relaxed') && !f.simd) {
    throw new Error(`lrp-wasm: the '${pref}' kernels need WebAssembly SIMD, which this runtime lacks`);
  }
  if (pref === 'relaxed' && !relaxedSimdAvailable()) {
    throw new Error("lrp-wasm: the 'relaxed' kernels need WebAssembly relaxed SIMD, which this runtime lacks");
  }
  return pref;
}

export function decodeBase64(s: string): Uint8Array {
  const B = (globalThis as { Buffer?: { from(s: string, enc: string): Uint8Array } }).Buffer;
  if (B) {
    const b = B.from(s, 'base64');
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const modules = new Map<WasmVariant, WebAssembly.Module>();

function bytesOf(variant: WasmVariant): Uint8Array {
  const b64 = embedded(variant);
  if (!b64) throw new Error(`lrp-wasm: the '${variant}' kernel build is not embedded in this package`);
  return decodeBase64(b64);
}

/** Compiles (once, synchronously) and returns the module of a variant. */
export function wasmModule(variant: WasmVariant): WebAssembly.Module {
  let m = modules.get(variant);
  if (!m) {
    m = new WebAssembly.Module(bytesOf(variant) as unknown as BufferSource);
    modules.set(variant, m);
  }
  return m;
}

/** Compiles a variant asynchronously into the cache (use on a browser main thread). Returns the variant. */
export async function initWasm(variant: WasmVariant | 'auto' = 'auto'): Promise<WasmVariant> {
  const v = selectVariant(variant);
  if (!modules.has(v)) modules.set(v, await WebAssembly.compile(bytesOf(v) as unknown as BufferSource));
  return v;
}

const PAGE = 65536;
const MAX_PAGES = 65536;
/** 16 MiB of 64 KiB pages. */
const GROW_STEP_PAGES = 256;

/** Creates a backend on a fresh instance of the chosen kernel build (synchronous). */
export function createWasmBackend(opts: WasmBackendOptions = {}): WasmBackend {
  const variant = selectVariant(opts.variant ?? 'auto');
  const instance = new WebAssembly.Instance(wasmModule(variant), {});
  return backendOf(instance.exports as unknown as KernelExports, variant, { winograd: opts.winograd });
}

/**
 * A backend over an instance's exports: an Arena above its static data, growing its memory (own
 * or shared), and its kernels as one part of one.
 */
export function backendOf(ex: KernelExports, variant: WasmVariant, opts: { winograd?: WinogradMode } = {}): WasmBackend {
  const mem = ex.memory;
  const grow = (minBytes: number) => {
    const have = mem.buffer.byteLength / PAGE;
    const need = Math.ceil(minBytes / PAGE);
    if (need <= have) return;
    if (need > MAX_PAGES) throw new MemoryLimitError(`lrp-wasm: ${minBytes} bytes are more than the 4 GiB a WebAssembly memory can hold`);
    // small memories grow geometrically (x1.5) to keep the number of growths small; large ones in
    // 16 MiB steps, so that the memory stays close to what is used (engines reserve the address
    // space of a wasm32 memory up front: growing is cheap and copies nothing)
    const step = have * PAGE < 64 * 2 ** 20 ? Math.ceil(have * 1.5) : Math.ceil(need / GROW_STEP_PAGES) * GROW_STEP_PAGES;
    const want = Math.min(MAX_PAGES, Math.max(need, step));
    try {
      mem.grow(want - have);
    } catch {
      try {
        mem.grow(need - have);
      } catch (e) {
        throw new MemoryLimitError(`lrp-wasm: cannot grow WebAssembly memory to ${minBytes} bytes (${(e as Error).message})`);
      }
    }
  };
  const base = ex.lrp_heap_base();
  grow(base);
  const memory = new Arena(base, () => mem.buffer as ArrayBuffer, grow);
  const name = variant === 'simd' ? 'wasm-simd' : variant === 'relaxed' ? 'wasm-relaxed-simd' : 'wasm-scalar';
  return { name, variant, memory, kernels: wrapKernels(ex), exports: ex, winograd: opts.winograd ?? 'auto' };
}

function wrapKernels(ex: KernelExports): Kernels {
  return {
    // the split kernels as one part of one (src/wasm/threads.ts runs them in parts)
    denseForward: (x, w, b, y, n, inF, outF) => ex.dense_forward_f32(x, w, b, y, n, inF, outF, 0, 1),
    denseTranspose: (g, w, out, n, inF, outF, acc) => ex.dense_transpose_f32(g, w, out, n, inF, outF, acc, 0, 1),
    convScratchBytes,
    conv2dForward: (d, x, w, b, y, s, n) => ex.conv2d_forward_f32(d, x, w, b, y, s, n, 0, 1),
    conv2dTranspose: (d, g, w, out, s, n, acc) => ex.conv2d_transpose_f32(d, g, w, out, s, n, acc, 0, 1),
    conv2dTransposePair: (d, g, wA, outA, wB, outB, s, n) => ex.conv2d_transpose_pair_f32(d, g, wA, outA, wB, outB, s, n, 0, 1),
    winogradScratchBytes,
    winogradFilter: (d, w, u, m, tr) => ex.winograd_filter_f32(d, w, u, checkTile(m), tr),
    winogradForward: (d, x, u, b, y, s, n, m, part, parts) => ex.winograd_forward_f32(d, x, u, b, y, s, n, checkTile(m), ...checkPart(part, parts)),
    winogradTranspose: (d, g, u, out, s, n, m, acc, part, parts) =>
      ex.winograd_transpose_f32(d, g, u, out, s, n, checkTile(m), acc, ...checkPart(part, parts)),
    maxpool2dForward: (d, x, y, am, n) => ex.maxpool2d_forward_f32(d, x, y, am, n, 0, 1),
    maxpool2dBackward: (d, g, am, out, n) => ex.maxpool2d_backward_f32(d, g, am, out, n, 0, 1),
    avgpool2dForward: (d, x, inv, y, n) => ex.avgpool2d_forward_f32(d, x, inv, y, n),
    avgpool2dTranspose: (d, g, inv, out, n) => ex.avgpool2d_transpose_f32(d, g, inv, out, n),
    relu: (x, y, len) => ex.relu_f32(x, y, len),
    negPart: (x, y, len) => ex.neg_part_f32(x, y, len),
    hasNegative: (x, len) => ex.has_negative_f32(x, len),
    hasNonZero: (x, len) => ex.has_nonzero_f32(x, len),
    // cUp, cDown, cOne of assembly/elementwise.ts (threads.ts writes the same for its parts)
    gammaDivide: (r, z, zplus, gp, gn, len, gamma, eps) => ex.gamma_divide_f32(r, z, zplus, gp, gn, len, gamma, -gamma - 1, 1 + gamma, eps),
    hasNonFinite: (x, len) => ex.has_non_finite_f32(x, len),
    add: (a, b, y, len) => ex.add_f32(a, b, y, len),
    mul: (a, b, y, len) => ex.mul_f32(a, b, y, len),
    mulAcc: (a, b, y, len, coef) => ex.mul_acc_f32(a, b, y, len, coef),
    stabDivide: (r, z, y, len, eps) => ex.stab_divide_f32(r, z, y, len, eps),
    stabDivideMasked: (r, z, m, y, len, eps, sign) => ex.stab_divide_masked_f32(r, z, m, y, len, eps, sign),
    channelAffine: (x, sc, sh, y, n, c, inner) => ex.channel_affine_f32(x, sc, sh, y, n, c, inner),
    channelScale: (x, sc, y, n, c, inner) => ex.channel_scale_f32(x, sc, y, n, c, inner),
    fill: (y, len, v) => ex.fill_f32(y, len, v),
    copy: (x, y, len) => ex.copy_f32(x, y, len),
    copyBlocks: (s, d, b, bl, ss, ds) => ex.copy_blocks_f32(s, d, b, bl, ss, ds),
    addBlocks: (s, d, b, bl, ss, ds) => ex.add_blocks_f32(s, d, b, bl, ss, ds),
    activationForward: (kind, x, y, len, a, b, c) => {
      checkActKind(kind); // the kernel would silently skip an unknown code
      ex.activation_forward_f32(kind, x, y, len, a, b, c);
    },
    activationGradient: (kind, x, g, out, len, a, b, c) => {
      checkActKind(kind);
      ex.activation_gradient_f32(kind, x, g, out, len, a, b, c);
    },
    preluForward: (x, sl, y, n, c, inner) => ex.prelu_forward_f32(x, sl, y, n, c, inner),
    preluGradient: (x, sl, g, out, n, c, inner) => ex.prelu_gradient_f32(x, sl, g, out, n, c, inner),
    channelMul: (x, gate, y, n, c, inner) => ex.channel_mul_f32(x, gate, y, n, c, inner),
    channelDot: (a, b, out, n, c, inner, acc) => ex.channel_dot_f32(a, b, out, n, c, inner, acc),
    stridedGather: (d, x, y, n) => ex.strided_gather_f32(d, x, y, n),
    stridedScatterAdd: (d, g, out, n) => ex.strided_scatter_add_f32(d, g, out, n),
    layerNormForward: (x, w, b, y, rows, f, eps) => ex.layer_norm_forward_f32(x, w, b, y, rows, f, eps),
    layerNormAttnLrp: (x, y, w, r, out, rows, f, eps, stab) => ex.layer_norm_attnlrp_f32(x, y, w, r, out, rows, f, eps, stab),
    layerNormGradient: (x, w, g, out, rows, f, eps) => ex.layer_norm_gradient_f32(x, w, g, out, rows, f, eps),
    softmaxForward: (x, y, rows, f) => ex.softmax_forward_f32(x, y, rows, f),
    softmaxAttnLrp: (x, s, r, out, rows, f) => ex.softmax_attnlrp_f32(x, s, r, out, rows, f),
    softmaxGradient: (s, g, out, rows, f) => ex.softmax_gradient_f32(s, g, out, rows, f),
    matmul: (a, b, c, batch, M, K, N, ta, tb, acc) => ex.matmul_f32(a, b, c, batch, M, K, N, ta, tb, acc, 0, 1),
    embeddingForward: (ids, table, y, count, vocab, dim) => ex.embedding_forward_f32(ids, table, y, count, vocab, dim),
  };
}
