/**
 * WebAssembly threads: one predict/explain call on several cores. The shared-memory build of the
 * kernels (asconfig targets release-threads, relaxed-threads) is instantiated on the calling thread
 * and in `threads - 1` workers over one shared memory (thread-pool.ts); the GEMM-heavy kernels
 * (conv2d forward and transpose, depthwise, dense, matmul) and the large element-wise passes of the
 * rules run in parts, each output element computed by exactly one part with the same summation order,
 * so results are bitwise those of one thread. Everything else runs on the calling thread.
 *
 * Whether threads are possible is detected, not configured: SharedArrayBuffer, cross-origin
 * isolation in browsers, a thread that may block in Atomics.wait (not a browser main thread), and
 * shared WebAssembly memory. Otherwise, and for the scalar and reference backends, the model runs
 * on one thread and says why (`model.threads.reason`).
 */
import { platform } from '#platform';
import type { Backend, Kernels, WinogradMode } from '../kernels/abi.js';
import { ConvDesc, PoolDesc } from '../kernels/abi.js';
import { RELAXED_THREADS_WASM_BASE64, SIMD_THREADS_WASM_BASE64 } from './generated/bytes.js';
import { backendOf, decodeBase64, type KernelExports, type WasmBackend, type WasmVariant } from './loader.js';
import { convScratchBytes } from './scratch.js';
import { CONTROL_BYTES, EwOp, Kernel } from './thread-control.js';
import { ThreadPool } from './thread-pool.js';
import type { ThreadInfo } from './thread-info.js';

export type { ThreadInfo } from './thread-info.js';

/** Most threads one model can use (one static GEMM workspace each: MAX_THREADS in assembly/common.ts). */
export const MAX_THREADS = 16;

/** Products smaller than this (multiply-adds) run on the calling thread alone: waking a worker costs more. */
const MIN_SPLIT_MACS = 2 ** 19;
/** Element-wise passes over fewer floats than this run on the calling thread alone (for the same reason). */
const MIN_SPLIT_FLOATS = 2 ** 17;

/** Options of the threaded backend: the Winograd mode, and (@internal) knobs for tests: split every product, another worker script, a shorter start timeout. */
export interface ThreadTestOptions {
  winograd?: WinogradMode;
  minSplitMacs?: number;
  minSplitFloats?: number;
  workerSource?: string;
  startTimeoutMs?: number;
}

/** Why this runtime cannot run kernel threads, or null when it can. */
export function threadSupport(): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean; SharedArrayBuffer?: unknown };
  if (g.crossOriginIsolated === false) return 'the page is not cross-origin isolated (it needs the COOP and COEP headers for SharedArrayBuffer)';
  if (typeof g.SharedArrayBuffer !== 'function') return 'this runtime has no SharedArrayBuffer';
  try {
    // a browser's main thread may not block: Atomics.wait throws there before comparing the value
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
  } catch {
    return 'Atomics.wait is not allowed on this thread (a browser main thread; createExplainer runs the model in a worker, where it is)';
  }
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch {
    return 'this WebAssembly runtime has no threads (shared memory)';
  }
  return null;
}

/** The threads a model gets when it asks for none: the cores, at most MAX_THREADS. */
export function defaultThreads(): number {
  return Math.min(MAX_THREADS, platform.cpuCount());
}

function sharedBytes(variant: WasmVariant): string | null {
  return variant === 'simd' ? SIMD_THREADS_WASM_BASE64 : variant === 'relaxed' ? RELAXED_THREADS_WASM_BASE64 : null;
}

const sharedModules = new Map<WasmVariant, Promise<WebAssembly.Module>>();

function sharedModule(variant: WasmVariant): Promise<WebAssembly.Module> {
  let m = sharedModules.get(variant);
  if (!m) {
    m = WebAssembly.compile(decodeBase64(sharedBytes(variant)!) as unknown as BufferSource);
    m.catch(() => sharedModules.delete(variant));
    sharedModules.set(variant, m);
  }
  return m;
}

/** A backend and what it runs on; `dispose` stops its threads. */
export type ThreadedBackend = Backend & { readonly threads: ThreadInfo; dispose?(): void };

/**
 * Up to `threads` threads on `variant`: the threaded backend when threads > 1 and the runtime and
 * build allow it, else `single()` (the one-thread backend), with the reason. `why1` is the reason
 * when threads is 1.
 */
export async function withThreads(
  variant: WasmVariant,
  threads: number,
  why1: string | null,
  single: () => WasmBackend,
  test: ThreadTestOptions = {},
): Promise<ThreadedBackend> {
  const one = (reason: string | null): ThreadedBackend => Object.assign(single(), { threads: { count: 1, reason } });
  if (threads <= 1) return one(why1);
  if (!sharedBytes(variant)) return one(`the ${variant} kernel build is single-threaded`);
  const unsupported = threadSupport();
  if (unsupported) return one(unsupported);
  try {
    return await createThreadedBackend(variant, threads, test);
  } catch (e) {
    return one(`kernel threads failed to start (${(e as Error).message})`);
  }
}

/** Initial pages of the shared memory: at least the module's declared minimum (asconfig initialMemory). */
const INITIAL_PAGES = 64;
const MAX_PAGES = 65536;

/** The shared-memory build on `threads` threads (rejects when the workers cannot start). */
export async function createThreadedBackend(
  variant: WasmVariant,
  threads: number,
  test: ThreadTestOptions = {},
): Promise<WasmBackend & { readonly threads: ThreadInfo; dispose(): void }> {
  const module = await sharedModule(variant);
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared: true });
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
  const backend = backendOf(ex, variant, { winograd: test.winograd });
  const control = backend.memory.alloc(CONTROL_BYTES);
  const pool = await ThreadPool.start(module, ex, control, threads, test.startTimeoutMs, test.workerSource);
  // one flag per part for the split scans (has_*, gamma_divide), written by the parts and read after the
  // call, then gamma_divide's four constants
  const flags = backend.memory.alloc(pool.parts * 4 + 16);
  const kernels = splitKernels(backend, pool, test.minSplitMacs ?? MIN_SPLIT_MACS, test.minSplitFloats ?? MIN_SPLIT_FLOATS, flags);
  return {
    name: backend.name,
    variant,
    memory: backend.memory,
    exports: ex,
    kernels,
    winograd: backend.winograd,
    get threads(): ThreadInfo {
      const stopped = pool.stoppedReason;
      return stopped ? { count: 1, reason: `kernel threads stopped: ${stopped}` } : { count: pool.threads, reason: null };
    },
    dispose: () => pool.dispose(),
  };
}

/** The backend's kernels with the GEMM-heavy ones run in parts on the pool (small ones on this thread). */
function splitKernels(backend: WasmBackend, pool: ThreadPool, minSplitMacs: number, minSplitFloats: number, flags: number): Kernels {
  const ex = backend.exports;
  const one = backend.kernels;
  const split = (macs: number) => macs >= minSplitMacs && pool.stoppedReason === null;
  const ew = (len: number) => len >= minSplitFloats && pool.stoppedReason === null;
  const word = new Int32Array(1), float = new Float32Array(word.buffer);
  /** The bits of v as float32, as an i32 argument (the kernel reinterprets them). */
  const bits = (v: number) => ((float[0] = v), word[0]);
  const elementwise = (op: number, p0: number, p1: number, p2: number, p3: number, len: number, s0 = 0, s1 = 0) =>
    pool.run(Kernel.ELEMENTWISE, op, p0, p1, p2, p3, len, bits(s0), bits(s1), flags);
  /** 1 when any part of the call that just ended set its flag. */
  const anyFlag = () => {
    const f = backend.memory.i32();
    for (let p = 0; p < pool.parts; p++) if (f[(flags >>> 2) + p] !== 0) return 1;
    return 0;
  };
  /** A split scan: 1 when any part found what it looks for. */
  const scan = (op: number, x: number, len: number) => {
    elementwise(op, x, 0, 0, 0, len);
    return anyFlag();
  };
  const consts = flags + pool.parts * 4;
  const gammaDivide = (r: number, z: number, zplus: number, gp: number, gn: number, len: number, gamma: number, eps: number) => {
    // the constants the one-thread kernel gets (loader.ts), rounded to f32 as its arguments are
    const f = backend.memory.f32(), at = consts >>> 2;
    f[at] = gamma; f[at + 1] = -gamma - 1; f[at + 2] = 1 + gamma; f[at + 3] = eps;
    pool.run(Kernel.GAMMA_DIVIDE, r, z, zplus, gp, gn, len, consts, flags);
    return anyFlag();
  };
  /** Reads entries of the descriptor at byte pointer d. */
  const descReader = (d: number) => {
    const i = backend.memory.i32();
    return (k: number) => i[(d >>> 2) + k];
  };
  /** Floats of a pooling call's input: n samples of C × H × W. */
  const poolInput = (d: number, n: number) => {
    const at = descReader(d);
    return n * at(PoolDesc.C) * at(PoolDesc.H) * at(PoolDesc.W);
  };
  const convMacs = (d: number, n: number) => {
    const at = descReader(d);
    return n * at(ConvDesc.O) * at(ConvDesc.OH) * at(ConvDesc.OW) * (at(ConvDesc.C) / at(ConvDesc.G)) * at(ConvDesc.KH) * at(ConvDesc.KW);
  };
  return {
    ...one,
    // every thread has its own im2col / tile slice (assembly/common.ts threadSlot: it runs its parts in turn)
    convScratchBytes: (desc) => convScratchBytes(desc) * pool.threads,
    winogradScratchBytes: (desc, m) => one.winogradScratchBytes(desc, m) * pool.threads,
    winogradForward: (d, x, u, b, y, s, n, m, part, parts) =>
      split(convMacs(d, n)) ? pool.run(Kernel.WINOGRAD_FORWARD, d, x, u, b, y, s, n, m) : one.winogradForward(d, x, u, b, y, s, n, m, part, parts),
    winogradTranspose: (d, g, u, out, s, n, m, acc, part, parts) =>
      split(convMacs(d, n)) ? pool.run(Kernel.WINOGRAD_TRANSPOSE, d, g, u, out, s, n, m, acc) : one.winogradTranspose(d, g, u, out, s, n, m, acc, part, parts),
    conv2dForward: (d, x, w, b, y, s, n) =>
      split(convMacs(d, n)) ? pool.run(Kernel.CONV2D_FORWARD, d, x, w, b, y, s, n) : ex.conv2d_forward_f32(d, x, w, b, y, s, n, 0, 1),
    conv2dTranspose: (d, g, w, out, s, n, acc) =>
      split(convMacs(d, n)) ? pool.run(Kernel.CONV2D_TRANSPOSE, d, g, w, out, s, n, acc) : ex.conv2d_transpose_f32(d, g, w, out, s, n, acc, 0, 1),
    conv2dTransposePair: (d, g, wA, outA, wB, outB, s, n) =>
      split(convMacs(d, n)) ? pool.run(Kernel.CONV2D_TRANSPOSE_PAIR, d, g, wA, outA, wB, outB, s, n) : one.conv2dTransposePair(d, g, wA, outA, wB, outB, s, n),
    denseForward: (x, w, b, y, n, inF, outF) =>
      split(n * inF * outF) ? pool.run(Kernel.DENSE_FORWARD, x, w, b, y, n, inF, outF) : ex.dense_forward_f32(x, w, b, y, n, inF, outF, 0, 1),
    denseTranspose: (g, w, out, n, inF, outF, acc) =>
      split(n * inF * outF) ? pool.run(Kernel.DENSE_TRANSPOSE, g, w, out, n, inF, outF, acc) : ex.dense_transpose_f32(g, w, out, n, inF, outF, acc, 0, 1),
    matmul: (a, b, c, batch, M, K, N, ta, tb, acc) =>
      split(batch * M * K * N) ? pool.run(Kernel.MATMUL, a, b, c, batch, M, K, N, ta, tb, acc) : ex.matmul_f32(a, b, c, batch, M, K, N, ta, tb, acc, 0, 1),
    relu: (x, y, len) => (ew(len) ? elementwise(EwOp.RELU, x, y, 0, 0, len) : one.relu(x, y, len)),
    add: (a, b, y, len) => (ew(len) ? elementwise(EwOp.ADD, a, b, y, 0, len) : one.add(a, b, y, len)),
    mul: (a, b, y, len) => (ew(len) ? elementwise(EwOp.MUL, a, b, y, 0, len) : one.mul(a, b, y, len)),
    mulAcc: (a, b, y, len, coef) => (ew(len) ? elementwise(EwOp.MUL_ACC, a, b, y, 0, len, coef) : one.mulAcc(a, b, y, len, coef)),
    stabDivide: (r, z, y, len, eps) => (ew(len) ? elementwise(EwOp.STAB_DIVIDE, r, z, y, 0, len, eps) : one.stabDivide(r, z, y, len, eps)),
    stabDivideMasked: (r, z, m, y, len, eps, sign) =>
      ew(len) ? elementwise(EwOp.STAB_DIVIDE_MASKED, r, z, m, y, len, eps, sign) : one.stabDivideMasked(r, z, m, y, len, eps, sign),
    fill: (y, len, v) => (ew(len) ? elementwise(EwOp.FILL, y, 0, 0, 0, len, v) : one.fill(y, len, v)),
    // copy is overlap-safe: only copies between disjoint ranges run in parts
    copy: (x, y, len) => (ew(len) && Math.abs(x - y) >= len * 4 ? elementwise(EwOp.COPY, x, y, 0, 0, len) : one.copy(x, y, len)),
    hasNonFinite: (x, len) => (ew(len) ? scan(EwOp.HAS_NON_FINITE, x, len) : one.hasNonFinite(x, len)),
    hasNegative: (x, len) => (ew(len) ? scan(EwOp.HAS_NEGATIVE, x, len) : one.hasNegative(x, len)),
    hasNonZero: (x, len) => (ew(len) ? scan(EwOp.HAS_NONZERO, x, len) : one.hasNonZero(x, len)),
    gammaDivide: (r, z, zplus, gp, gn, len, gamma, eps) =>
      ew(len) ? gammaDivide(r, z, zplus, gp, gn, len, gamma, eps) : one.gammaDivide(r, z, zplus, gp, gn, len, gamma, eps),
    // max pooling by planes, when its input is as large as a split element-wise pass
    maxpool2dForward: (d, x, y, am, n) => (ew(poolInput(d, n)) ? pool.run(Kernel.MAXPOOL_FORWARD, d, x, y, am, n) : one.maxpool2dForward(d, x, y, am, n)),
    maxpool2dBackward: (d, g, am, out, n) => (ew(poolInput(d, n)) ? pool.run(Kernel.MAXPOOL_BACKWARD, d, g, am, out, n) : one.maxpool2dBackward(d, g, am, out, n)),
  };
}
