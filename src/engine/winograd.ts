/**
 * When a conv layer runs on the Winograd kernels, and with which tile: the rule measured on this
 * project's 2-core x64 machine (bench/winograd.mjs, numbers in bench/RESULTS-winograd.md). Which of a
 * layer's products use them (transposed products, forwards of one-signed weight sets) is LinearLayer's
 * business.
 *
 * - Winograd applies to 3×3 convs with stride 1, dilation 1 and one group (any padding).
 * - 'auto' uses it where the input has at least 16 channels, the output at least 4, and the output
 *   plane at least 64 positions. Measured (im2col time / Winograd time, forward / transposed, 56×56,
 *   64 channels on the other side): 4 input channels F(2,3) 0.79 / 0.56, F(4,3) 1.08 / 0.65; 8: F(4,3)
 *   1.51 / 0.96; 16: F(4,3) 1.94 / 1.46; 4 output channels F(4,3) 1.55 / 2.67. 64 channels: an 8×8
 *   plane F(2,3) 1.87 / 1.57, a 4×4 plane 1.21 / 0.96 (256 channels: 0.78 / 0.87).
 * - The tile is the one with fewer multiplies per channel pair over the padded tile grid,
 *   ⌈OH/m⌉ · (⌈OW/m⌉ rounded up to 4) · (m+2)²: F(4×4, 3×3) from 9×9 up (VGG16's layers 2.9–5.9×
 *   faster than im2col + GEMM), F(2×2, 3×3) on 8×8 and less (where F(4,3)'s grid is half padding;
 *   ResNet50's last stage, 7×7: F(2,3) 2.15 / 2.91, F(4,3) 1.57 / 2.12).
 */
import { ConvDesc as CD, type WinogradMode } from '../kernels/abi.js';
import { winogradApplies, type WinogradTile } from '../kernels/winograd.js';

/** Smallest input channel count for which 'auto' uses Winograd. */
const MIN_IN_CHANNELS = 16;
/** Smallest output channel count for which 'auto' uses Winograd. */
const MIN_OUT_CHANNELS = 4;
/** Smallest number of output positions per channel for which 'auto' uses Winograd. */
const MIN_OUTPUTS = 64;

/** Multiplies per (input, output) channel pair over the padded tile grid of an OH × OW output. */
function tileCost(OH: number, OW: number, m: WinogradTile): number {
  return Math.ceil(OH / m) * Math.ceil(Math.ceil(OW / m) / 4) * 4 * (m + 2) * (m + 2);
}

/** The Winograd tile a conv uses under `mode`, or 0 for im2col + GEMM ('on': wherever Winograd applies). */
export function winogradTile(desc: Int32Array, mode: WinogradMode): 0 | WinogradTile {
  if (mode === 'off' || !winogradApplies(desc)) return 0;
  if (mode === 'auto' && (desc[CD.C] < MIN_IN_CHANNELS || desc[CD.O] < MIN_OUT_CHANNELS || desc[CD.OH] * desc[CD.OW] < MIN_OUTPUTS)) return 0;
  const OH = desc[CD.OH], OW = desc[CD.OW];
  return tileCost(OH, OW, 4) < tileCost(OH, OW, 2) ? 4 : 2;
}
