import { ConvDesc } from '../kernels/abi.js';

/** Target size of one im2col block in bytes (mirrors COL_BLOCK_BYTES in assembly/conv2d.ts). */
const COL_BLOCK_BYTES = 192 * 1024;
/** Fewest output positions per im2col block (mirrors MIN_COL_BLOCK in assembly/conv2d.ts). */
const MIN_COL_BLOCK = 256;

/**
 * Scratch bytes conv2dForward / conv2dTranspose of the WASM kernels need. The kernels build the
 * im2col matrix of one group of one sample in blocks of PB output positions, so the scratch is
 * (C/G)*KH*KW x PB floats, with PB a multiple of 8 chosen to keep the block near 192 KiB (cache
 * resident) but at least MIN_COL_BLOCK, capped at OH*OW. A pointwise conv (1x1, stride 1, no padding, same size) and a
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
  pb = Math.max(MIN_COL_BLOCK, pb & ~7);
  return Kd * Math.min(pb, P) * 4;
}

/** Target bytes of V + M for one block of tile rows (mirrors BLOCK_BYTES in assembly/winograd.ts). */
const WINO_BLOCK_BYTES = 4 * 1024 * 1024;
/** Tiles per block beyond which the GEMMs gain nothing (mirrors BLOCK_TILES). */
const WINO_BLOCK_TILES = 256;

/** Scratch bytes of one direction of the Winograd kernel (Ci → Co channels, Wo output columns). */
function winogradDirectionBytes(Ci: number, Co: number, Wo: number, m: number): number {
  const a = m + 2;
  const tw = (Math.trunc((Wo + m - 1) / m) + 3) & ~3;
  const rowBytes = a * a * (Ci + Co) * tw * 4;
  const rows = Math.max(1, Math.min(Math.trunc(WINO_BLOCK_BYTES / rowBytes), Math.trunc(WINO_BLOCK_TILES / tw)));
  const stripWidth = (tw * m + 4 + 3) & ~3;
  return 2 * a * a * 16 + a * stripWidth * 4 + a * a * (Ci + Co) * rows * tw * 4;
}

/**
 * Scratch bytes of ONE part of the WASM winogradForward / winogradTranspose (F(m×m, 3×3)): per block
 * of tile rows the transformed inputs V [(m+2)²][Ci][tiles] and products M [(m+2)²][Co][tiles], one
 * zero-padded input strip and two small tile buffers; the larger of the two directions, so one scratch
 * serves both. Independent of the batch. Mirrors winograd_scratch_bytes in assembly/winograd.ts.
 */
export function winogradScratchBytes(desc: Int32Array, m: number): number {
  const C = desc[ConvDesc.C], O = desc[ConvDesc.O];
  return Math.max(winogradDirectionBytes(C, O, desc[ConvDesc.OW], m), winogradDirectionBytes(O, C, desc[ConvDesc.W], m));
}
