/**
 * When a conv layer runs on the Winograd kernels: the rule measured on this project's 2-core x64
 * machine (bench/winograd.mjs, numbers in bench/RESULTS-winograd.md). Which of a layer's products use
 * them (transposed products, forwards of one-signed weight sets) is LinearLayer's business.
 *
 * - Winograd applies to 3×3 convs with stride 1, dilation 1 and one group (any padding).
 * - The tile is F(2×2, 3×3). F(4×4, 3×3) is implemented (the kernels take m = 4) and another
 *   1.2–1.7× faster on VGG16's layers, but its float32 error (~15× F(2,3)'s) takes 8 Zennit vectors of
 *   cnn_bn and resnet_mini past their tolerances, so no mode selects it.
 * - 'auto' uses it where the input has at least 16 channels, the output at least 4, and the output
 *   plane at least 64 positions. Measured (im2col time / Winograd time, forward / transposed, 56×56,
 *   64 channels on the other side): 4 input channels 0.79 / 0.59, 8: 1.07 / 0.87, 16: 1.45 / 1.28;
 *   4 output channels 1.61 / 2.13. 64 channels: an 8×8 plane 1.83 / 1.67, a 4×4 plane 1.18 / 0.98
 *   (256 channels: 0.84 / 0.96). VGG16's and ResNet50's layers: 1.7–4.4.
 */
import { ConvDesc as CD, type WinogradMode } from '../kernels/abi.js';
import { winogradApplies, type WinogradTile } from '../kernels/winograd.js';

/** Smallest input channel count for which 'auto' uses Winograd. */
const MIN_IN_CHANNELS = 16;
/** Smallest output channel count for which 'auto' uses Winograd. */
const MIN_OUT_CHANNELS = 4;
/** Smallest number of output positions per channel for which 'auto' uses Winograd. */
const MIN_OUTPUTS = 64;

/** The Winograd tile a conv uses under `mode`, or 0 for im2col + GEMM ('on': wherever Winograd applies). */
export function winogradTile(desc: Int32Array, mode: WinogradMode): 0 | WinogradTile {
  if (mode === 'off' || !winogradApplies(desc)) return 0;
  if (mode === 'auto' && (desc[CD.C] < MIN_IN_CHANNELS || desc[CD.O] < MIN_OUT_CHANNELS || desc[CD.OH] * desc[CD.OW] < MIN_OUTPUTS)) return 0;
  return 2;
}
