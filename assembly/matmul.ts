// Product of two activation matrices per leading index (transformer attention: Q·Kᵀ, attention·V) and the
// transposed products of its relevance rules, on top of the shared GEMM: the operands are read through strides,
// so no transposed copy is made.
import { gemm_f32 } from "./gemm";
import { threadPartStart } from "./common";

// @ts-ignore: decorator
@inline const COL_GRAIN: i32 = 16;

/**
 * For each of `batch` consecutive matrix triples: C[M, N] (+)= op(A) · op(B), op(A) [M, K], op(B) [K, N].
 * A is stored [M, K] (transA = 0) or [K, M] (transA = 1); B is stored [K, N] (transB = 0) or [N, K]
 * (transB = 1); C is [M, N] row-major. The matrices follow each other: A every M*K floats, B every K*N,
 * C every M*N. accumulate = 0 overwrites C, 1 adds to it. C must not overlap A or B.
 * Part `part` of `parts` computes its own range of the matrices when there are at least `parts` of them,
 * else its own 16-aligned columns of each; every element is the same sum as with parts = 1.
 */
export function matmul_f32(
  a: usize, b: usize, c: usize, batch: i32, M: i32, K: i32, N: i32, transA: i32, transB: i32, accumulate: i32,
  part: i32, parts: i32,
): void {
  if (batch <= 0 || M <= 0 || N <= 0) return;
  const aRs = transA ? 1 : K, aCs = transA ? M : 1;
  const bRs = transB ? 1 : N, bCs = transB ? K : 1;
  const aStep = <usize>M * <usize>K * 4, bStep = <usize>K * <usize>N * 4, cStep = <usize>M * <usize>N * 4;
  const byMatrix = batch >= parts;
  const i0 = byMatrix ? threadPartStart(batch, 1, part, parts) : 0;
  const i1 = byMatrix ? threadPartStart(batch, 1, part + 1, parts) : batch;
  const j0 = byMatrix ? 0 : threadPartStart(N, COL_GRAIN, part, parts);
  const j1 = byMatrix ? N : threadPartStart(N, COL_GRAIN, part + 1, parts);
  if (j0 >= j1) return;
  const bOff = <usize>j0 * <usize>bCs * 4, cOff = <usize>j0 * 4;
  for (let i = i0; i < i1; i++) {
    const at = <usize>i;
    gemm_f32(M, j1 - j0, K, a + at * aStep, aRs, aCs, b + at * bStep + bOff, bRs, bCs, c + at * cStep + cOff, N, accumulate);
  }
}
