/**
 * The GEMM's packed-A layout (assembly/gemm.ts, whose constants these mirror), in which Winograd's
 * transformed filters and the conv weights packed by conv2dPackWeights are stored: for each slice of
 * PACKED_KC columns, panels of PACKED_MR rows (rows padded to a multiple of PACKED_MR with zeros), each
 * stored column by column ([kc][PACKED_MR]). The reference twins lay their sets out with packedAIndex,
 * so a mismatch with the WASM layout fails the kernel tests that compare the two.
 */
import { ConvDesc as CD } from './abi.js';

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

/** True for the convs the depthwise kernels compute (one input channel per group): they use no packed weights. */
export function isDepthwiseDesc(desc: Int32Array): boolean {
  return desc[CD.C] === desc[CD.G] && desc[CD.G] > 0 && desc[CD.O] % desc[CD.G] === 0;
}

/**
 * Floats of a conv's weights packed for its GEMM, all groups one after the other: W_g (O/G × Kd) for the
 * forward, W_gᵀ (Kd × O/G) for the transposed product (Kd = C/G·KH·KW); 0 for a depthwise conv. Mirrors
 * conv2d_packed_floats in assembly/conv2d.ts.
 */
export function convPackedFloats(desc: Int32Array, transposed: number): number {
  if (isDepthwiseDesc(desc)) return 0;
  const G = desc[CD.G], Og = desc[CD.O] / G, Kd = (desc[CD.C] / G) * desc[CD.KH] * desc[CD.KW];
  return G * (transposed ? packedAFloats(Kd, Og) : packedAFloats(Og, Kd));
}
