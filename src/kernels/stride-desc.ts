/**
 * Builds a StrideDesc (src/kernels/abi.ts) for stridedGather / stridedScatterAdd and checks it: the kernels trust
 * the descriptor, so every index they can form must fall inside the input sample. A bad layout is a ShapeError
 * naming the field, not a read or write outside the tensor.
 */
import { ShapeError } from '../errors.js';
import { DESC_INTS, STRIDE_MAX_RANK, StrideDesc } from './abi.js';

export interface StrideLayout {
  /** Floats per sample of the gathered-from tensor. */
  inSize: number;
  /** Output dims (row-major), rank <= 6; their product is the floats per sample of the output. */
  dims: readonly number[];
  /** Input stride (in floats, >= 0) of each output dim. */
  strides: readonly number[];
  /** Input element of output index 0 (default 0). */
  offset?: number;
}

const MAX_I32 = 0x7fffffff;

function checkCount(value: number, what: string, label: string): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_I32) {
    throw new ShapeError(`${label}: ${what} must be an integer in [0, 2^31), got ${value}`);
  }
}

/** The Int32 descriptor (DESC_INTS long) of a strided layout; `label` names the op in errors. */
export function makeStrideDesc(layout: StrideLayout, label = 'strided layout'): Int32Array {
  const { inSize, dims, strides } = layout;
  const offset = layout.offset ?? 0;
  const rank = dims.length;
  if (rank > STRIDE_MAX_RANK) throw new ShapeError(`${label}: rank ${rank} exceeds ${STRIDE_MAX_RANK}`);
  if (strides.length !== rank) {
    throw new ShapeError(`${label}: ${strides.length} strides for ${rank} dims [${dims.join(', ')}]`);
  }
  checkCount(inSize, 'the input size', label);
  checkCount(offset, 'the offset', label);
  let outSize = 1;
  let last = offset; // largest input index the layout reads
  for (let d = 0; d < rank; d++) {
    checkCount(dims[d], `dim ${d}`, label);
    checkCount(strides[d], `stride ${d}`, label);
    outSize *= dims[d];
    last += (dims[d] - 1) * strides[d];
  }
  if (outSize > MAX_I32) throw new ShapeError(`${label}: output of ${outSize} floats per sample is too large`);
  if (outSize > 0 && last >= inSize) {
    throw new ShapeError(
      `${label}: dims [${dims.join(', ')}] with strides [${strides.join(', ')}] and offset ${offset} reach input ` +
        `element ${last}, past the ${inSize} floats of a sample`,
    );
  }
  const desc = new Int32Array(DESC_INTS);
  desc[StrideDesc.RANK] = rank;
  desc[StrideDesc.IN_SIZE] = inSize;
  desc[StrideDesc.OUT_SIZE] = outSize;
  desc[StrideDesc.OFFSET] = offset;
  for (let d = 0; d < rank; d++) {
    desc[StrideDesc.DIMS + d] = dims[d];
    desc[StrideDesc.STRIDES + d] = strides[d];
  }
  return desc;
}
