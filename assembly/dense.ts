// Fully connected layer: y = x W^T + b and its transpose, on top of the shared GEMM.
import { gemm_f32 } from "./gemm";

/** Writes bias[j] into every row of c [rows x cols]. */
export function fillRowsWithVector(c: usize, rows: i32, cols: i32, v: usize): void {
  const bytes = <usize>cols * 4;
  for (let i = 0; i < rows; i++) memory.copy(c + <usize>i * bytes, v, bytes);
}

/** y[n,o] = sum_i x[n,i] * w[o,i] + b[o]   (x: [n,I], w: [O,I], y: [n,O]); b = 0: no bias. */
export function dense_forward_f32(x: usize, w: usize, b: usize, y: usize, n: i32, inF: i32, outF: i32): void {
  if (n <= 0 || outF <= 0) return;
  let acc = 0;
  if (b != 0) {
    fillRowsWithVector(y, n, outF, b);
    acc = 1;
  }
  // A = x [n, I] row-major; B(k=i, j=o) = w[o*I + i]  (NT)
  gemm_f32(n, outF, inF, x, inF, 1, w, 1, inF, y, outF, acc);
}

/** out[n,i] (+)= sum_o g[n,o] * w[o,i]   (g: [n,O], w: [O,I], out: [n,I]). */
export function dense_transpose_f32(g: usize, w: usize, out: usize, n: i32, inF: i32, outF: i32, accumulate: i32): void {
  gemm_f32(n, inF, outF, g, outF, 1, w, inF, 1, out, inF, accumulate);
}
