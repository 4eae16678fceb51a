// Shared helpers for the kernels: fused/unfused multiply-add and the static workspace.
//
// The module has no static data of its own. The region [__heap_base, __heap_base + WORKSPACE_BYTES)
// is a fixed workspace used by the GEMM to pack operand blocks (it is not allocated per call;
// kernels run one at a time per instance). The TypeScript Arena starts at `lrp_heap_base()`,
// above that region.

/**
 * Bytes of static workspace reserved above __heap_base for GEMM packing: an MC x KC block of A
 * (96 * 256 * 4 = 96 KiB), a KC x NR strip of B (8 KiB) and an MR x NR edge tile (see gemm.ts).
 */
// @ts-ignore: decorator
@inline export const WORKSPACE_BYTES: usize = 128 * 1024;

/** Start of the static workspace (16-byte aligned). */
// @ts-ignore: decorator
@inline export function workspace(): usize {
  return (__heap_base + 63) & ~(<usize>63);
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
