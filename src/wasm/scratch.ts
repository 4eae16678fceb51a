import { ConvDesc } from '../kernels/abi.js';

/**
 * Scratch bytes conv2dForward / conv2dTranspose of the WASM kernels need: one im2col column
 * buffer for one group of one sample, (C/G)*KH*KW x OH*OW floats. A pointwise conv (1x1, stride 1,
 * no padding, same size) multiplies straight from the activations and needs none.
 * Mirrors conv2d_scratch_bytes in assembly/conv2d.ts. Independent of the batch size.
 */
export function convScratchBytes(desc: Int32Array): number {
  const d = (k: number) => desc[k];
  const pointwise = d(ConvDesc.KH) === 1 && d(ConvDesc.KW) === 1 && d(ConvDesc.SH) === 1 && d(ConvDesc.SW) === 1 &&
    d(ConvDesc.PT) === 0 && d(ConvDesc.PL) === 0 && d(ConvDesc.OH) === d(ConvDesc.H) && d(ConvDesc.OW) === d(ConvDesc.W);
  if (pointwise) return 0;
  return (d(ConvDesc.C) / d(ConvDesc.G)) * d(ConvDesc.KH) * d(ConvDesc.KW) * d(ConvDesc.OH) * d(ConvDesc.OW) * 4;
}
