import { ConvDesc } from '../kernels/abi.js';

/** Target size of one im2col block in bytes (mirrors COL_BLOCK_BYTES in assembly/conv2d.ts). */
const COL_BLOCK_BYTES = 192 * 1024;

/**
 * Scratch bytes conv2dForward / conv2dTranspose of the WASM kernels need. The kernels build the
 * im2col matrix of one group of one sample in blocks of PB output positions, so the scratch is
 * (C/G)*KH*KW x PB floats, with PB a multiple of 8 chosen to keep the block near 192 KiB (cache
 * resident), capped at OH*OW. A pointwise conv (1x1, stride 1, no padding, same size) and a
 * depthwise conv (C = G, O a multiple of G: the direct kernel of assembly/depthwise.ts) need none.
 * Independent of the batch size. Mirrors conv2d_scratch_bytes in assembly/conv2d.ts. This is one
 * part's slice: the threaded backend (threads.ts) asks for one slice per thread.
 */
export function convScratchBytes(desc: Int32Array): number {
  const d = (k: number) => desc[k];
  const pointwise = d(ConvDesc.KH) === 1 && d(ConvDesc.KW) === 1 && d(ConvDesc.SH) === 1 && d(ConvDesc.SW) === 1 &&
    d(ConvDesc.PT) === 0 && d(ConvDesc.PL) === 0 && d(ConvDesc.OH) === d(ConvDesc.H) && d(ConvDesc.OW) === d(ConvDesc.W);
  const depthwise = d(ConvDesc.C) === d(ConvDesc.G) && d(ConvDesc.G) > 0 && d(ConvDesc.O) % d(ConvDesc.G) === 0;
  if (pointwise || depthwise) return 0;
  const Kd = Math.trunc(d(ConvDesc.C) / d(ConvDesc.G)) * d(ConvDesc.KH) * d(ConvDesc.KW);
  const P = d(ConvDesc.OH) * d(ConvDesc.OW);
  let pb = Math.trunc(COL_BLOCK_BYTES / (Math.max(Kd, 1) * 4));
  pb = Math.max(8, pb & ~7);
  return Kd * Math.min(pb, P) * 4;
}
