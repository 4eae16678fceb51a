// Shared helpers for the kernels: fused/unfused multiply-add, the static workspace and part ranges.
//
// The module has no mutable static data of its own (its data segment holds constant tables only,
// so a worker instantiating the shared-memory build re-writes the same bytes). The region
// [__heap_base, __heap_base + MAX_THREADS * WORKSPACE_BYTES) holds one fixed workspace per thread,
// used by the GEMM (and the depthwise kernels) to pack operand blocks; it is not allocated per
// call. The TypeScript Arena starts at `lrp_heap_base()`, above that region.

/**
 * Bytes of static workspace reserved above __heap_base for GEMM packing: an MC x KC block of A
 * (256 * 256 * 4 = 256 KiB), a KC x NR strip of B (8 KiB) and an MR x NR edge tile (see gemm.ts).
 */
// @ts-ignore: decorator
@inline export const WORKSPACE_BYTES: usize = 272 * 1024;

/**
 * The part of the workspace the depthwise kernels' padded planes and softmax's cached rows use: the
 * 128 KiB the whole workspace had before the GEMM's A block grew, so which planes and rows take those
 * paths stayed as measured and tested.
 */
// @ts-ignore: decorator
@inline export const SMALL_WORKSPACE_BYTES: usize = 128 * 1024;

/** Threads that can run kernels of one shared memory at once (one workspace each); 1 without threads. */
// @ts-ignore: decorator
@inline export const MAX_THREADS: i32 = ASC_FEATURE_THREADS ? 16 : 1;

/** Which workspace this instance uses: 0 on the calling thread, 1..MAX_THREADS-1 in the workers. */
let threadIndex: i32 = 0;

/** Set once by each worker after instantiating the shared-memory build (a global: per instance). */
export function lrp_set_thread(index: i32): void {
  threadIndex = min(max(index, 0), MAX_THREADS - 1);
}

/**
 * This thread's slot in a threaded call's scratch (conv im2col blocks, Winograd's tiles): a thread runs its
 * parts one after another, so one slice per thread is enough, not one per part.
 */
// @ts-ignore: decorator
@inline export function threadSlot(): i32 {
  return threadIndex;
}

/** Start of this thread's static workspace (64-byte aligned). */
// @ts-ignore: decorator
@inline export function workspace(): usize {
  return ((__heap_base + 63) & ~(<usize>63)) + <usize>threadIndex * WORKSPACE_BYTES;
}

/** First byte above every thread's workspace. */
// @ts-ignore: decorator
@inline export function workspaceEnd(): usize {
  return ((__heap_base + 63) & ~(<usize>63)) + <usize>MAX_THREADS * WORKSPACE_BYTES;
}

/**
 * Start of part `part` when `count` items are split into `parts` contiguous ranges whose sizes are
 * multiples of `grain`, the last range taking the remainder: every non-empty range but a lone
 * one holds at least `grain` items. partStart(parts) = count. Callers take [start(part), start(part+1)).
 */
export function partStart(count: i32, grain: i32, part: i32, parts: i32): i32 {
  if (part >= parts) return count;
  const units = max(1, count / grain);
  return min(count, <i32>(<i64>units * <i64>part / <i64>parts) * grain);
}

/** Parts per thread of a threaded call (PARTS_PER_THREAD in src/wasm/thread-control.ts). */
// @ts-ignore: decorator
@inline const PARTS_PER_THREAD: i32 = 4;

/**
 * Parts that take a share of a split where each part repeats work whatever its share (Winograd's channel
 * split, a pointwise product's rows, a small plane's one im2col block): one per thread, the first round
 * of parts, the others having nothing to do. On two threads ResNet50's 14x14 and 7x7 layers went from
 * 1.22-1.74x one thread's speed to 1.85-1.93x (min of 11 runs per call).
 */
// @ts-ignore: decorator
@inline export function threadParts(parts: i32): i32 {
  return max(1, parts / PARTS_PER_THREAD);
}

/**
 * Sum of the weights of parts [0, p) of a threaded call: the parts come in rounds of one per thread,
 * each round's parts half the size of the previous round's (8, 4, 2, 1, then 1).
 */
function partWeights(p: i32, parts: i32): i64 {
  const perRound = threadParts(parts);
  let w: i64 = 0;
  for (let q = 0; q < p; q++) w += <i64>(8 >> min(q / perRound, 3));
  return w;
}

/**
 * partStart for the (part, parts) of a threaded call, which the threads take first come first served:
 * the early parts are large and the last ones small, so the thread that finishes first waits for at most
 * a small part of the other (with equal parts the calling thread spent 6% of a two-thread ResNet50
 * explain waiting). Sizes are still multiples of `grain`, the last range taking the remainder.
 */
export function threadPartStart(count: i32, grain: i32, part: i32, parts: i32): i32 {
  if (part >= parts) return count;
  const units = max(1, count / grain);
  return min(count, <i32>(<i64>units * partWeights(part, parts) / partWeights(parts, parts)) * grain);
}

/** a * b + c, fused (relaxed, may round once) when relaxed SIMD is enabled. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/**
 * dst[0..n) = src[0..n) (floats; the ranges do not overlap). memory.copy is a call into the runtime:
 * on the short rows of im2col and padding (a 14-wide plane: 14 floats) an inline loop is several
 * times faster, so rows under 64 floats take the loop.
 */
// @ts-ignore: decorator
@inline export function copyFloats(dst: usize, src: usize, n: i32): void {
  if (n >= 64) {
    memory.copy(dst, src, <usize>n << 2);
  } else {
    let i = 0;
    if (ASC_FEATURE_SIMD) for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
    for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
  }
}

/** dst[0..n) = 0 (floats), inline below 64 floats like copyFloats. */
// @ts-ignore: decorator
@inline export function zeroFloats(dst: usize, n: i32): void {
  if (n >= 64) {
    memory.fill(dst, 0, <usize>n << 2);
  } else {
    let i = 0;
    if (ASC_FEATURE_SIMD) for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), i32x4.splat(0));
    for (; i < n; i++) store<f32>(dst + (<usize>i << 2), 0);
  }
}
