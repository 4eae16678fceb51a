/** How a model's per-sample input is seen as an image. */

/** C channels of H × W; `image`: whether pictures convert to it (1 or 3 channels, a real image shape). */
export interface ImageGeometry {
  /** Channels. */
  C: number;
  /** Height. */
  H: number;
  /** Width. */
  W: number;
  /** Whether images convert to this input (1 or 3 channels of H × W). */
  image: boolean;
}

/**
 * [C, H, W] inputs as they are; [H, W] as one channel; flat inputs of a square size (784) as a
 * square gray image (28 × 28); other flat inputs as a 1-pixel-high strip (not an image).
 */
export function imageGeometry(inputShape: readonly number[]): ImageGeometry {
  const s = inputShape;
  if (s.length === 3) return { C: s[0], H: s[1], W: s[2], image: s[0] === 1 || s[0] === 3 };
  if (s.length === 2) return { C: 1, H: s[0], W: s[1], image: true };
  const n = s.reduce((a, b) => a * b, 1);
  const side = Math.round(Math.sqrt(n));
  if (side * side === n && n >= 4) return { C: 1, H: side, W: side, image: true };
  return { C: 1, H: 1, W: n, image: false };
}
