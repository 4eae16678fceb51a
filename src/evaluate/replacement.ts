/**
 * What a perturbed region is replaced with. Every kind is an image of the sample's size
 * (computed once per sample); perturbing a region copies that region from it:
 *   constant  every value = `value`
 *   mean      the sample's own mean, per channel
 *   blur      the sample blurred with a Gaussian of std `sigma` pixels (per channel, edges renormalised)
 *   uniform   uniform noise in [lo, hi], seeded per sample (the same noise for every method and order)
 */
import { sampleIndex, type InputGeometry } from './regions.js';
import { mulberry32 } from './random.js';

/** What replaces a perturbed region (see the file comment). */
export type Replacement = 'constant' | 'mean' | 'blur' | 'uniform';
/** Every replacement kind. */
export const REPLACEMENTS: readonly Replacement[] = ['constant', 'mean', 'blur', 'uniform'];

/** A replacement kind with its resolved parameters. */
export interface ReplacementSpec {
  /** The kind of replacement. */
  kind: Replacement;
  /** The constant for 'constant'. */
  value: number;
  /** Gaussian std in pixels for 'blur'. */
  sigma: number;
  /** [lo, hi] of the noise for 'uniform'. */
  range: [number, number];
}

/** Writes the replacement image of `sample` into `out` (same length). */
export function replacementImage(spec: ReplacementSpec, g: InputGeometry, sample: Float32Array, seed: number, out: Float32Array): Float32Array {
  switch (spec.kind) {
    case 'constant':
      return out.fill(spec.value);
    case 'mean':
      return channelMeans(g, sample, out);
    case 'blur':
      return gaussianBlur(g, sample, spec.sigma, out);
    case 'uniform': {
      const rand = mulberry32(seed);
      const [lo, hi] = spec.range;
      for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * rand();
      return out;
    }
  }
}

function channelMeans(g: InputGeometry, sample: Float32Array, out: Float32Array): Float32Array {
  for (let c = 0; c < g.C; c++) {
    let s = 0;
    for (let y = 0; y < g.H; y++) for (let x = 0; x < g.W; x++) s += sample[sampleIndex(g, c, y, x)];
    const m = s / (g.H * g.W);
    for (let y = 0; y < g.H; y++) for (let x = 0; x < g.W; x++) out[sampleIndex(g, c, y, x)] = m;
  }
  return out;
}

/** Separable Gaussian blur, radius ceil(3 sigma); near the edges the weights inside the image are renormalised. */
function gaussianBlur(g: InputGeometry, sample: Float32Array, sigma: number, out: Float32Array): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float64Array(2 * radius + 1);
  for (let i = -radius; i <= radius; i++) kernel[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  const plane = new Float64Array(g.H * g.W);
  const tmp = new Float64Array(g.H * g.W);
  const pass = (src: Float64Array, dst: Float64Array, horizontal: boolean) => {
    for (let y = 0; y < g.H; y++)
      for (let x = 0; x < g.W; x++) {
        let s = 0;
        let w = 0;
        for (let k = -radius; k <= radius; k++) {
          const yy = horizontal ? y : y + k;
          const xx = horizontal ? x + k : x;
          if (yy < 0 || yy >= g.H || xx < 0 || xx >= g.W) continue;
          s += kernel[k + radius] * src[yy * g.W + xx];
          w += kernel[k + radius];
        }
        dst[y * g.W + x] = s / w;
      }
  };
  for (let c = 0; c < g.C; c++) {
    for (let y = 0; y < g.H; y++) for (let x = 0; x < g.W; x++) plane[y * g.W + x] = sample[sampleIndex(g, c, y, x)];
    pass(plane, tmp, true);
    pass(tmp, plane, false);
    for (let y = 0; y < g.H; y++) for (let x = 0; x < g.W; x++) out[sampleIndex(g, c, y, x)] = plane[y * g.W + x];
  }
  return out;
}
