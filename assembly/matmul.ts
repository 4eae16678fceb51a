// Product of two activation matrices per leading index (transformer attention: Q·Kᵀ, attention·V) and the
// transposed products of its relevance rules, on top of the shared GEMM: the operands are read through strides,
// so no transposed copy is made.
import { gemm_f32 } from "./gemm";

/**
 * For each of `batch` consecutive matrix triples: C[M, N] (+)= op(A) · op(B), op(A) [M, K], op(B) [K, N].
 * A is stored [M, K] (transA = 0) or [K, M] (transA = 1); B is stored [K, N] (transB = 0) or [N, K]
 * (transB = 1); C is [M, N] row-major. The matrices follow each other: A every M*K floats, B every K*N,
 * C every M*N. accumulate = 0 overwrites C, 1 adds to it. C must not overlap A or B.
 */
export function matmul_f32(
  a: usize, b: usize, c: usize, batch: i32, M: i32, K: i32, N: i32, transA: i32, transB: i32, accumulate: i32,
): void {
  if (batch <= 0 || M <= 0 || N <= 0) return;
  const aRs = transA ? 1 : K, aCs = transA ? M : 1;
  const bRs = transB ? 1 : N, bCs = transB ? K : 1;
  const aStep = <usize>M * <usize>K * 4, bStep = <usize>K * <usize>N * 4, cStep = <usize>M * <usize>N * 4;
  for (let i = 0; i < batch; i++) {
    const at = <usize>i;
    gemm_f32(M, N, K, a + at * aStep, aRs, aCs, b + at * bStep, bRs, bCs, c + at * cStep, N, accumulate);
  }
}
