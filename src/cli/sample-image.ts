/**
 * One sample's PNG for `lrp explain`: its heatmap (or the heatmap over the input, opacity
 * following |R|) enlarged by a whole factor to about --size pixels (nearest neighbour, so small
 * inputs stay sharp), with a colour bar below that says which relevance each end of the colour
 * map stands for.
 */
import { heatmap, normalizeRelevance, reduceRelevance, relevanceOverlay, getColormap, type HeatmapNormalize } from '../heatmap/index.js';
import { scaleNearest } from '../image/image-data.js';
import { drawText, fitText, GLYPH_H, advance, textWidth } from './font.js';

export interface SampleImageOptions {
  width: number;
  height: number;
  channels: number;
  layout: 'CHW' | 'HWC';
  cmap: string;
  normalize: HeatmapNormalize;
  /** One scale for every sample: the |R| at the ends of the map (default: the sample's own). */
  max?: number;
  /** Longer side to enlarge to, by a whole factor (0: the model's own size). */
  size: number;
  /** The input as RGBA at the model's size, to draw the heatmap over (default: the bare heatmap). */
  overlay?: Uint8ClampedArray;
}

const BG = [255, 255, 255] as const;
const FG = [40, 40, 40] as const;

/** 3 significant digits, short: 0.0123, 1.23e-5 (as 1.23E-5), 456. */
export function shortNumber(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  const s = a >= 1e-3 && a < 1e5 ? String(Number(v.toPrecision(3))) : v.toExponential(2).replace('e', 'E').replace('E+', 'E');
  return s;
}

/** The whole factor that brings the longer side to about `size` (at least 1). */
export function enlargement(width: number, height: number, size: number): number {
  return size > 0 ? Math.max(1, Math.floor(size / Math.max(width, height))) : 1;
}

/** The relevance values at the left end, centre (symmetric only) and right end of the colour map. */
function barLabels(relevance: ArrayLike<number>, o: SampleImageOptions): string[] {
  const values = reduceRelevance(relevance, o);
  let m = o.max ?? 0;
  if (o.max === undefined) for (const v of values) m = Math.max(m, Math.abs(v));
  if (o.normalize === 'symmetric') return [shortNumber(-m), '0', `+${shortNumber(m)}`.replace('+-', '-')];
  if (o.normalize === 'absolute') return ['0', shortNumber(m)];
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  return [shortNumber(lo), shortNumber(hi)];
}

export function renderSample(relevance: ArrayLike<number>, o: SampleImageOptions): { rgba: Uint8ClampedArray; width: number; height: number } {
  const drawn = { width: o.width, height: o.height, channels: o.channels, layout: o.layout, cmap: o.cmap, normalize: o.normalize, max: o.max };
  normalizeRelevance([], o.normalize, o.max); // checks the options once, whatever the data
  const heat = o.overlay ? relevanceOverlay(relevance, o.overlay, drawn) : heatmap(relevance, drawn);
  const k = enlargement(o.width, o.height, o.size);
  const big = scaleNearest({ data: heat, width: o.width, height: o.height }, o.width * k, o.height * k);
  const W = big.width;
  const scale = W >= 160 ? 2 : 1;
  const barH = 4 * scale + 4;
  const textY = big.height + 3 + barH + 2;
  const H = textY + GLYPH_H * scale + 3;
  const rgba = new Uint8ClampedArray(W * H * 4);
  for (let i = 0; i < W * H; i++) rgba.set([...BG, 255], 4 * i);
  rgba.set(big.data, 0);
  const pal = getColormap(o.cmap).palette(1);
  for (let x = 0; x < W; x++) {
    const c = Math.round((x / Math.max(1, W - 1)) * 255);
    for (let y = big.height + 3; y < big.height + 3 + barH; y++) rgba.set([pal[3 * c], pal[3 * c + 1], pal[3 * c + 2], 255], 4 * (y * W + x));
  }
  const labels = barLabels(relevance, o);
  const chars = Math.max(1, Math.floor((W / labels.length + scale) / advance(scale)));
  labels.forEach((raw, i) => {
    const text = fitText(raw, chars);
    const w = textWidth(text, scale);
    const x = i === 0 ? 0 : i === labels.length - 1 ? W - w : Math.round((W - w) / 2);
    drawText(rgba, W, H, text, x, textY, FG, scale);
  });
  return { rgba, width: W, height: H };
}
