/** The pooling descriptor shared by max and average pooling (kernel ABI: PoolDesc). */
import { DESC_INTS, PoolDesc } from '../kernels/abi.js';
import type { Pads4, Pair, Shape } from '../graph/ir.js';
import type { PrepareEnv } from './spec.js';

export interface Window {
  kernel: Pair;
  stride: Pair;
  padding: Pads4;
  dilation: Pair;
}

/** Writes the descriptor of a window sweep over inShape [C, H, W] → outShape [C, OH, OW]; returns its pointer. */
export function poolDescriptor(w: Window, env: PrepareEnv): number {
  const [C, H, W] = env.inShapes[0] as Shape;
  const d = new Int32Array(DESC_INTS);
  d[PoolDesc.C] = C;
  d[PoolDesc.H] = H;
  d[PoolDesc.W] = W;
  d[PoolDesc.KH] = w.kernel[0];
  d[PoolDesc.KW] = w.kernel[1];
  d[PoolDesc.SH] = w.stride[0];
  d[PoolDesc.SW] = w.stride[1];
  d[PoolDesc.PT] = w.padding[0];
  d[PoolDesc.PL] = w.padding[1];
  d[PoolDesc.DH] = w.dilation[0];
  d[PoolDesc.DW] = w.dilation[1];
  d[PoolDesc.OH] = env.outShape[1];
  d[PoolDesc.OW] = env.outShape[2];
  return env.ints(d);
}
