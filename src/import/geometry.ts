/** Window arithmetic shared by the importers (conv and pooling output sizes, "same" padding). */
import { ShapeError } from '../errors.js';
import { size, windowOutput as sweepLength } from '../graph/shapes.js';

/**
 * Output length along one axis of a sliding window (conv or pool), with PyTorch's / ONNX's
 * rule for ceil_mode (the IR's formula), after checking the window fits, naming `where`.
 */
export function windowOutput(
  inSize: number,
  kernel: number,
  stride: number,
  dilation: number,
  padBegin: number,
  padEnd: number,
  ceilMode: boolean,
  where: string,
): number {
  if (!(kernel >= 1 && stride >= 1 && dilation >= 1)) {
    throw new ShapeError(`${where}: kernel ${kernel}, stride ${stride} and dilation ${dilation} must be ≥ 1`);
  }
  if (padBegin < 0 || padEnd < 0) throw new ShapeError(`${where}: negative padding ${padBegin}, ${padEnd}`);
  const extent = (kernel - 1) * dilation + 1;
  const span = inSize + padBegin + padEnd - extent;
  if (span < 0) {
    throw new ShapeError(
      `${where}: window of extent ${extent} does not fit the padded input of size ${inSize + padBegin + padEnd}`,
    );
  }
  return sweepLength(inSize, kernel, stride, padBegin, padEnd, dilation, ceilMode);
}

/**
 * "Same" padding as TensorFlow (and ONNX SAME_UPPER) computes it: the output has ceil(in / stride)
 * elements, total = max((out − 1)·stride + (k − 1)·dilation + 1 − in, 0), and the odd element
 * goes at the end (SAME_UPPER, TF) or at the beginning (`lower`, ONNX SAME_LOWER).
 * Returns [begin, end].
 */
export function samePadding(inSize: number, kernel: number, stride: number, dilation: number, lower = false): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - inSize, 0);
  const half = Math.floor(total / 2);
  return lower ? [total - half, half] : [half, total - half];
}

export function product(dims: readonly number[]): number {
  return size(dims as number[]);
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
