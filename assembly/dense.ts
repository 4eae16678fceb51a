// Fully connected layer: y = x W^T + b and its transpose, on top of the shared GEMM.
//
// Both split into `parts` (threads) by output columns in multiples of COL_GRAIN: every output element
// belongs to one part and is the same sum as with parts = 1 (the GEMM's paths depend on M and the
// strides only, and its unpacked row loop steps through columns 16 at a time from a multiple of 16).
import { gemm_f32 } from "./gemm";
import { threadPartStart } from "./common";

// @ts-ignore: decorator
@inline const COL_GRAIN: i32 = 16;

/** Writes v[j0..j1) into columns [j0, j1) of every row of c [rows x cols]. */
export function fillRowsWithVector(c: usize, rows: i32, cols: i32, v: usize, j0: i32, j1: i32): void {
  const bytes = <usize>(j1 - j0) * 4;
  for (let i = 0; i < rows; i++) memory.copy(c + (<usize>i * <usize>cols + <usize>j0) * 4, v + <usize>j0 * 4, bytes);
}

/**
 * y[n,o] = sum_i x[n,i] * w[o,i] + b[o]   (x: [n,I], w: [O,I], y: [n,O]); b = 0: no bias.
 * Part `part` of `parts` computes its own range of the outputs o.
 */
export function dense_forward_f32(x: usize, w: usize, b: usize, y: usize, n: i32, inF: i32, outF: i32, part: i32, parts: i32): void {
  if (n <= 0 || outF <= 0) return;
  const j0 = threadPartStart(outF, COL_GRAIN, part, parts), j1 = threadPartStart(outF, COL_GRAIN, part + 1, parts);
  if (j0 >= j1) return;
  let acc = 0;
  if (b != 0) {
    fillRowsWithVector(y, n, outF, b, j0, j1);
    acc = 1;
  }
  // A = x [n, I] row-major; B(k=i, j=o) = w[o*I + i]  (NT)
  gemm_f32(n, j1 - j0, inF, x, inF, 1, w + <usize>j0 * <usize>inF * 4, 1, inF, y + <usize>j0 * 4, outF, acc);
}

/**
 * out[n,i] (+)= sum_o g[n,o] * w[o,i]   (g: [n,O], w: [O,I], out: [n,I]).
 * Part `part` of `parts` computes its own range of the inputs i.
 */
export function dense_transpose_f32(g: usize, w: usize, out: usize, n: i32, inF: i32, outF: i32, accumulate: i32, part: i32, parts: i32): void {
  const j0 = threadPartStart(inF, COL_GRAIN, part, parts), j1 = threadPartStart(inF, COL_GRAIN, part + 1, parts);
  if (j0 >= j1) return;
  gemm_f32(n, j1 - j0, outF, g, outF, 1, w + <usize>j0 * 4, inF, 1, out + <usize>j0 * 4, inF, accumulate);
}
