/**
 * Relevance → RGBA heatmap, overlay, and helpers to view a model input. Browser-safe.
 *
 * Pipeline (Zennit's `imgify` for a single-channel map):
 *   1. reduce channels per pixel: 'sum' (Σc R) or 'abs-sum' (Σc |R|);
 *   2. normalise to t ∈ [0, 1]:
 *        symmetric  t = 0.5 + 0.5·R / max|R|   (R = 0 ↦ centre of the map)
 *        absolute   t = |R| / max|R|
 *        unaligned  t = (R − min) / (max − min)
 *      an all-zero (or, for unaligned, constant) map gives t = 0.5 (symmetric) or 0, never NaN;
 *   3. quantise to a palette index k, clipped to 0..255, and look it up in the colour map's
 *      256-entry palette:
 *        'round' (default)  k = round(255·(0.5 + level·(t − 0.5))), colour = palette(1)[k]
 *        'floor'            k = floor(255·t), colour = palette(level)[k]: exactly Zennit's
 *                           imgify (which casts to uint8 and uses ColorMap.palette(level)).
 *      Both agree up to one palette entry; level = 1 is the plain map.
 *
 * With 'round', R = 0 in symmetric mode maps to index 128, the centre node of Zennit's diverging
 * maps (white for bwr), for every level. With 'floor' it maps to index 127 like Zennit
 * ((253, 253, 255) for bwr).
 */
import { InputError } from '../errors.js';
import { getColormap, type Colormap } from './colormaps.js';

/** How relevance maps to the colour scale (see the module comment): symmetric around 0, |R|, or min..max. */
export type HeatmapNormalize = 'symmetric' | 'absolute' | 'unaligned';
/** How channels combine per pixel: Σc R or Σc |R|. */
export type HeatmapReduce = 'sum' | 'abs-sum';

/** Options of {@link heatmap}. */
export interface HeatmapOptions {
  /** Pixels per row. */
  width: number;
  /** Rows. */
  height: number;
  /** Channels in `relevance`, reduced per pixel. Default 1. */
  channels?: number;
  /** Layout of `relevance` when channels > 1. Default 'CHW' (the library's NCHW, one sample). */
  layout?: 'CHW' | 'HWC';
  /** Default 'sum'. */
  reduce?: HeatmapReduce;
  /** Built-in name (see colormapNames()), cmsl source, or a Colormap. Default 'bwr'. */
  cmap?: string | Colormap;
  /** Default 'symmetric'. */
  normalize?: HeatmapNormalize;
  /**
   * The |R| drawn at the ends of the colour map (symmetric and absolute), instead of this
   * sample's own largest |R|: one value for several heatmaps puts them on one scale. Larger
   * values saturate.
   */
  max?: number;
  /**
   * Contrast around the centre of the colour map (Zennit's `level`): > 1 saturates earlier,
   * < 1 uses less of the colour range, 0 gives the centre colour only. Default 1.
   */
  level?: number;
  /** Palette index from t: 'round' (default) or 'floor' (as Zennit's imgify). */
  quantize?: 'round' | 'floor';
}

function checkDims(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new InputError(`${what}: width and height must be positive integers, got ${width}x${height}`);
  }
}

function lengthOf(a: ArrayLike<number>, what: string): number {
  if (a === null || typeof a !== 'object' || typeof a.length !== 'number') {
    throw new InputError(`${what} must be an array or typed array`);
  }
  return a.length;
}

/**
 * Reduces `relevance` (one sample) to one value per pixel, row-major, H·W.
 * Throws InputError on a length mismatch or a non-finite value.
 */
export function reduceRelevance(
  relevance: ArrayLike<number>,
  opts: Pick<HeatmapOptions, 'width' | 'height' | 'channels' | 'layout' | 'reduce'>,
): Float64Array {
  const { width, height } = opts;
  checkDims(width, height, 'heatmap');
  const channels = opts.channels ?? 1;
  if (!Number.isInteger(channels) || channels <= 0) {
    throw new InputError(`heatmap: channels must be a positive integer, got ${channels}`);
  }
  const layout = opts.layout ?? 'CHW';
  if (layout !== 'CHW' && layout !== 'HWC') {
    throw new InputError(`heatmap: layout must be 'CHW' or 'HWC', got '${layout}'`);
  }
  const reduce = opts.reduce ?? 'sum';
  if (reduce !== 'sum' && reduce !== 'abs-sum') {
    throw new InputError(`heatmap: reduce must be 'sum' or 'abs-sum', got '${reduce}'`);
  }
  const n = lengthOf(relevance, 'heatmap: relevance');
  const hw = width * height;
  if (n !== hw * channels) {
    const hint =
      n % hw === 0 && n !== hw * channels ? ` (it has ${n / hw} values per pixel: pass channels: ${n / hw})` : '';
    throw new InputError(
      `heatmap: relevance has ${n} values, expected width·height·channels = ${width}·${height}·${channels} = ${hw * channels}${hint}`,
    );
  }
  const out = new Float64Array(hw);
  const abs = reduce === 'abs-sum';
  for (let i = 0; i < n; i++) {
    const v = relevance[i];
    if (!Number.isFinite(v)) {
      throw new InputError(`heatmap: relevance[${i}] is ${v}; all values must be finite`);
    }
    const p = layout === 'CHW' ? i % hw : Math.floor(i / channels);
    out[p] += abs ? Math.abs(v) : v;
  }
  return out;
}

/**
 * Normalises per-pixel values to t ∈ [0, 1] (see the module comment); `max` replaces the values'
 * own largest |value| (symmetric, absolute), and t is then clipped to [0, 1].
 */
export function normalizeRelevance(values: ArrayLike<number>, mode: HeatmapNormalize = 'symmetric', max?: number): Float64Array {
  const n = values.length;
  const t = new Float64Array(n);
  if (max !== undefined && (mode === 'unaligned' || !(max > 0) || !Number.isFinite(max)))
    throw new InputError(mode === 'unaligned' ? "heatmap: max applies to 'symmetric' and 'absolute' normalisation" : `heatmap: max must be a positive finite number, got ${max}`);
  if (mode === 'symmetric' || mode === 'absolute') {
    let m = 0;
    if (max !== undefined) m = max;
    else for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(values[i]));
    if (mode === 'symmetric') {
      if (m === 0) t.fill(0.5);
      else for (let i = 0; i < n; i++) t[i] = Math.min(1, Math.max(0, 0.5 + (0.5 * values[i]) / m));
    } else if (m !== 0) {
      for (let i = 0; i < n; i++) t[i] = Math.min(1, Math.abs(values[i]) / m);
    }
  } else if (mode === 'unaligned') {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      lo = Math.min(lo, values[i]);
      hi = Math.max(hi, values[i]);
    }
    if (hi > lo) for (let i = 0; i < n; i++) t[i] = (values[i] - lo) / (hi - lo);
  } else {
    throw new InputError(`heatmap: normalize must be 'symmetric', 'absolute' or 'unaligned', got '${mode}'`);
  }
  return t;
}

/**
 * Draws one sample's relevance as an RGBA image (width·height·4 bytes, alpha 255), ready for
 * `new ImageData(rgba, width, height)` or encodePNG(). Throws InputError (codes E_INPUT, E_CMAP).
 */
export function heatmap(relevance: ArrayLike<number>, opts: HeatmapOptions): Uint8ClampedArray<ArrayBuffer> {
  if (!opts || typeof opts !== 'object') throw new InputError('heatmap: options { width, height } are required');
  const level = opts.level ?? 1;
  if (typeof level !== 'number' || !Number.isFinite(level) || level < 0) {
    throw new InputError(`heatmap: level must be a finite number >= 0, got ${level}`);
  }
  const quantize = opts.quantize ?? 'round';
  if (quantize !== 'round' && quantize !== 'floor') {
    throw new InputError(`heatmap: quantize must be 'round' or 'floor', got '${quantize}'`);
  }
  const cmap = getColormap(opts.cmap ?? 'bwr');
  const values = reduceRelevance(relevance, opts);
  const t = normalizeRelevance(values, opts.normalize ?? 'symmetric', opts.max);
  // 'floor' is Zennit's imgify exactly: palette(level)[floor(255·t)]. 'round' applies the level
  // in t-space instead, t' = 0.5 + level·(t − 0.5), so that the centre stays on the centre node
  // for every level (Zennit's 256-entry palette at level ≠ 1 moves it by half an entry).
  const zennit = quantize === 'floor';
  const pal = cmap.palette(zennit ? level : 1);
  const out = new Uint8ClampedArray(t.length * 4);
  for (let i = 0; i < t.length; i++) {
    let k: number;
    if (zennit) k = Math.floor(t[i] * 255);
    else k = Math.round((level === 1 ? t[i] : 0.5 + level * (t[i] - 0.5)) * 255);
    if (k < 0) k = 0;
    else if (k > 255) k = 255;
    out[4 * i] = pal[3 * k];
    out[4 * i + 1] = pal[3 * k + 1];
    out[4 * i + 2] = pal[3 * k + 2];
    out[4 * i + 3] = 255;
  }
  return out;
}

/**
 * Blends a heatmap over an image, both RGBA width·height·4:
 * out.rgb = alpha·heat.rgb + (1 − alpha)·image.rgb (rounded), out.a = 255.
 */
export function overlay(
  heat: ArrayLike<number>,
  image: ArrayLike<number>,
  width: number,
  height: number,
  alpha = 0.5,
): Uint8ClampedArray<ArrayBuffer> {
  checkDims(width, height, 'overlay');
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) {
    throw new InputError(`overlay: alpha must be in [0, 1], got ${alpha}`);
  }
  const n = width * height * 4;
  if (lengthOf(heat, 'overlay: heat') !== n) {
    throw new InputError(`overlay: heat has ${heat.length} bytes, expected ${width}·${height}·4 = ${n}`);
  }
  if (lengthOf(image, 'overlay: image') !== n) {
    throw new InputError(`overlay: image has ${image.length} bytes, expected ${width}·${height}·4 = ${n}`);
  }
  const out = new Uint8ClampedArray(n);
  for (let i = 0; i < n; i += 4) {
    out[i] = Math.round(alpha * heat[i] + (1 - alpha) * image[i]);
    out[i + 1] = Math.round(alpha * heat[i + 1] + (1 - alpha) * image[i + 1]);
    out[i + 2] = Math.round(alpha * heat[i + 2] + (1 - alpha) * image[i + 2]);
    out[i + 3] = 255;
  }
  return out;
}

function resolveRange(pixels: ArrayLike<number>, range: readonly [number, number] | undefined, what: string): [number, number] {
  if (range !== undefined) {
    if (!Array.isArray(range) || range.length !== 2 || !Number.isFinite(range[0]) || !Number.isFinite(range[1]) || range[0] === range[1]) {
      throw new InputError(`${what}: range must be two different finite numbers [lo, hi], got ${JSON.stringify(range)}`);
    }
    return [range[0], range[1]];
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < pixels.length; i++) {
    lo = Math.min(lo, pixels[i]);
    hi = Math.max(hi, pixels[i]);
  }
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

/**
 * A model input (one sample, C·H·W, channels 1 or 3) back to a viewable RGBA image:
 * byte = round(255·(x − lo)/(hi − lo)), clipped; gray is repeated into R, G, B; alpha 255.
 * `range` is the input range the model uses (e.g. [0, 1] or [-1, 1]); by default the data's
 * own min..max. Throws InputError on a length mismatch or non-finite values.
 */
export function chwToRGBA(
  pixels: ArrayLike<number>,
  channels: number,
  width: number,
  height: number,
  range?: readonly [number, number],
): Uint8ClampedArray<ArrayBuffer> {
  checkDims(width, height, 'chwToRGBA');
  if (channels !== 1 && channels !== 3) {
    throw new InputError(`chwToRGBA: channels must be 1 or 3, got ${channels}`);
  }
  const hw = width * height;
  const n = lengthOf(pixels, 'chwToRGBA: pixels');
  if (n !== hw * channels) {
    throw new InputError(`chwToRGBA: pixels has ${n} values, expected ${channels}·${height}·${width} = ${hw * channels}`);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(pixels[i])) throw new InputError(`chwToRGBA: pixels[${i}] is ${pixels[i]}; values must be finite`);
  }
  const [lo, hi] = resolveRange(pixels, range, 'chwToRGBA');
  const s = 255 / (hi - lo);
  const out = new Uint8ClampedArray(hw * 4);
  for (let p = 0; p < hw; p++) {
    for (let c = 0; c < 3; c++) {
      const v = pixels[(channels === 3 ? c * hw : 0) + p];
      out[4 * p + c] = Math.round((v - lo) * s); // Uint8ClampedArray clips to 0..255
    }
    out[4 * p + 3] = 255;
  }
  return out;
}

/** A single-channel model input (H·W) to RGBA; see chwToRGBA. */
export function grayToRGBA(
  pixels: ArrayLike<number>,
  width: number,
  height: number,
  range?: readonly [number, number],
): Uint8ClampedArray<ArrayBuffer> {
  return chwToRGBA(pixels, 1, width, height, range);
}
