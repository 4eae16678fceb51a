/**
 * A heatmap laid over the image it explains, opaque where relevance is large and transparent where
 * it is near zero: per pixel, alpha = maxAlpha · |R| / max|R| (R summed over channels), so the
 * image shows through wherever the model did not look.
 */
import { InputError } from '../errors.js';
import { heatmap, normalizeRelevance, reduceRelevance, type HeatmapOptions } from './heatmap.js';

/** Options of {@link relevanceOverlay}: the heatmap's, plus the opacity at the largest |R|. */
export interface RelevanceOverlayOptions extends HeatmapOptions {
  /** Opacity of the heatmap where |R| is largest (default 0.8); it falls linearly to 0 at R = 0. */
  maxAlpha?: number;
}

/**
 * Blends the heatmap of `relevance` over `image` (RGBA, width·height·4) with alpha following |R|.
 * @throws {@link InputError} on size mismatches or bad options.
 */
export function relevanceOverlay(relevance: ArrayLike<number>, image: ArrayLike<number>, opts: RelevanceOverlayOptions): Uint8ClampedArray<ArrayBuffer> {
  const maxAlpha = opts.maxAlpha ?? 0.8;
  if (typeof maxAlpha !== 'number' || !(maxAlpha >= 0 && maxAlpha <= 1)) throw new InputError(`relevanceOverlay: maxAlpha must be in [0, 1], got ${maxAlpha}`);
  const heat = heatmap(relevance, opts);
  const n = opts.width * opts.height;
  if (!image || image.length !== n * 4) throw new InputError(`relevanceOverlay: image has ${image?.length} bytes, expected ${opts.width}·${opts.height}·4 = ${n * 4}`);
  const weight = normalizeRelevance(reduceRelevance(relevance, opts), 'absolute');
  const out = new Uint8ClampedArray(n * 4);
  for (let p = 0; p < n; p++) {
    const a = maxAlpha * weight[p];
    for (let c = 0; c < 3; c++) out[4 * p + c] = Math.round(a * heat[4 * p + c] + (1 - a) * image[4 * p + c]);
    out[4 * p + 3] = 255;
  }
  return out;
}
