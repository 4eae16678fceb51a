/**
 * The GEMM's packed-A layout (assembly/gemm.ts, whose constants these mirror), in which Winograd's
 * transformed filters are stored: for each slice of PACKED_KC columns, panels of PACKED_MR rows (rows
 * padded to a multiple of PACKED_MR with zeros), each stored column by column ([kc][PACKED_MR]). The
 * reference twin lays its sets out with packedAIndex, so a mismatch with the WASM layout fails the
 * kernel tests that compare the two.
 */

export const PACKED_MR = 4;
export const PACKED_KC = 256;

/** Rows of a rows × cols matrix padded to whole panels. */
export const paddedRows = (rows: number) => (rows + PACKED_MR - 1) & ~(PACKED_MR - 1);

/** Floats of a rows × cols matrix in the packed layout. */
export const packedAFloats = (rows: number, cols: number) => paddedRows(rows) * cols;

/** Float offset of element (r, k) of a rows × cols matrix in the packed layout. */
export function packedAIndex(rows: number, cols: number, r: number, k: number): number {
  const k0 = k - (k % PACKED_KC), kc = Math.min(PACKED_KC, cols - k0);
  return k0 * paddedRows(rows) + (r - (r % PACKED_MR)) * kc + (k - k0) * PACKED_MR + (r % PACKED_MR);
}
