/**
 * Pixels → one model input sample: channel conversion (RGB → gray by 0.299R + 0.587G + 0.114B,
 * gray → RGB by repetition, alpha dropped or composited over a background), fitting to the model's
 * height × width (stretch, center-crop or pad; resampling as io/image.ts's resizePlanar), scaling
 * to the model's input range, then (x − mean) / std per channel, in the model's layout. Also gives
 * the fitted image as RGBA bytes (what the model sees, for display and overlays) and notes that say
 * what was done.
 */
import { InputError } from '../errors.js';
import { resizePlanar } from '../io/image.js';
import { perChannel } from './metadata.js';
import type { Pixels } from './pixels.js';
import type { FitMode } from './types.js';

/** Where the model input comes from and how it is scaled. */
export interface PrepareOptions {
  /** Model input: channels (1 or 3), height, width, and the layout of the returned sample. */
  channels: number;
  height: number;
  width: number;
  layout: 'NCHW' | 'NHWC';
  /** Pixel intensities map linearly to this range (e.g. [0, 1]). */
  inputRange: [number, number];
  mean?: number[];
  std?: number[];
  /** Default 'stretch'. */
  fit?: FitMode;
  /** Alpha is dropped by default; with a background (a gray level or [r, g, b], 0..255) it is composited over it. */
  background?: number | [number, number, number];
  /** Gray level (0..255) of the bands 'pad' adds (default 0, black). */
  padValue?: number;
}

/** A rectangle in pixels. */
export interface Rect {
  /** Left edge. */
  x: number;
  /** Top edge. */
  y: number;
  /** Width. */
  width: number;
  /** Height. */
  height: number;
}

/** What was done to an image (see {@link ImageExplanation.preprocessing}). */
export interface PreprocessInfo {
  /** The image as given. */
  source: {
    /** Pixels per row. */
    width: number;
    /** Rows. */
    height: number;
    /** Values per pixel. */
    channels: number;
    /** What it was: 'HTMLImageElement', 'ImageData', 'PNG', 'tf.Tensor (int32)', … */
    kind: string;
  };
  /** The fit used. */
  fit: FitMode;
  /** The part of the source used (center-crop cuts the longer side; otherwise the whole image). */
  crop: Rect;
  /** Where it lands in the model input (pad leaves bands; otherwise the whole input). */
  placed: Rect;
  /** Whether the image was resampled (its used part differs in size from where it lands). */
  resized: boolean;
  /** Scaled by different factors along x and y (stretch of an image of another aspect ratio). */
  stretched: boolean;
  /** Channel conversion to the model's channels. */
  conversion: 'none' | 'rgb-to-gray' | 'gray-to-rgb';
  /** The range intensities were scaled to. */
  inputRange: [number, number];
  /** Per channel, subtracted after scaling (when given). */
  mean?: number[];
  /** Per channel, divided by after subtracting mean (when given). */
  std?: number[];
  /** One line per thing done, e.g. "resized 64×48 → 28×28, stretched (aspect 1.33 → 1)". */
  notes: string[];
}

export interface Prepared {
  /** One sample in the model's layout. */
  x: Float32Array<ArrayBuffer>;
  /** The fitted image at the model's resolution, RGBA (before range and mean/std). */
  display: Uint8ClampedArray<ArrayBuffer>;
  info: PreprocessInfo;
}

const fail = (msg: string, code = 'E_IMAGE') => new InputError(msg, code);

/** Pixel values more than 1% of the range outside it are a mistake, not rounding. */
function checkPixelRange(p: Pixels): void {
  const [a, b] = p.range;
  const span = b - a;
  const slack = Math.abs(span) * 0.01;
  const lo = Math.min(a, b) - slack;
  const hi = Math.max(a, b) + slack;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < p.data.length; i++) {
    const v = p.data[i];
    if (!Number.isFinite(v)) throw fail(`${p.kind}: pixel value ${v} at index ${i}; pixels must be finite`);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min < lo || max > hi) {
    const hint = max > 1.5 && Math.max(a, b) <= 1 ? '; 0..255 values? pass pixelRange: [0, 255]' : '; pass pixelRange to say what they span';
    throw fail(`${p.kind}: pixel values span [${min}, ${max}], outside the pixel range [${a}, ${b}]${hint}`, 'E_PIXEL_RANGE');
  }
}

const fmtAspect = (w: number, h: number) => String(Math.round((w / h) * 100) / 100);

export function prepareImage(p: Pixels, o: PrepareOptions): Prepared {
  const { height: H, width: W, layout } = o;
  const C = o.channels;
  if (C !== 1 && C !== 3) throw fail(`the model takes ${C} input channels; images convert to 1 (gray) or 3 (RGB) channels: pass the input to explain() instead`);
  const fit = o.fit ?? 'stretch';
  if (fit !== 'stretch' && fit !== 'center-crop' && fit !== 'pad') throw fail(`fit must be 'stretch', 'center-crop' or 'pad', got '${String(fit)}'`, 'E_INPUT');
  const [lo, hi] = o.inputRange;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo === hi) throw fail(`inputRange must be two different finite numbers, got [${lo}, ${hi}]`, 'E_INPUT');
  const mean = perChannel(o.mean ?? [0], C, 'mean');
  const std = perChannel(o.std ?? [1], C, 'std');
  if (std.some((s) => s === 0 || !Number.isFinite(s)) || mean.some((m) => !Number.isFinite(m))) throw fail('mean and std must be finite and std non-zero', 'E_INPUT');
  let bg: [number, number, number] | null = null;
  if (o.background !== undefined) {
    const b = o.background;
    bg = typeof b === 'number' ? [b, b, b] : Array.isArray(b) && b.length === 3 ? [b[0], b[1], b[2]] : null;
    if (!bg || !bg.every((v) => Number.isFinite(v) && v >= 0 && v <= 255)) throw fail(`background must be a gray level or [r, g, b], 0..255, got ${JSON.stringify(b)}`, 'E_INPUT');
  }
  checkPixelRange(p);

  // 1. converted to C planes at the source resolution, in the pixels' own units from their low
  //    end (u = v − a; bytes stay bytes), so that byte images give exactly imageToTensor's numbers
  const { width: w, height: h, channels: cs, data } = p;
  const n = w * h;
  const [a, b] = p.range;
  const unit = (b - a) / 255; // one byte step in pixel units
  const color = cs >= 3;
  const alpha = cs === 2 || cs === 4;
  const planes = new Float64Array(C * n);
  let colorful = false;
  let translucent = false;
  for (let i = 0; i < n; i++) {
    const s = i * cs;
    let r = data[s] - a;
    let gr = color ? data[s + 1] - a : r;
    let bl = color ? data[s + 2] - a : r;
    if (alpha && data[s + cs - 1] !== b) translucent = true;
    if (bg && alpha) {
      const al = Math.min(1, Math.max(0, (data[s + cs - 1] - a) / (b - a)));
      r = r * al + bg[0] * unit * (1 - al);
      gr = gr * al + bg[1] * unit * (1 - al);
      bl = bl * al + bg[2] * unit * (1 - al);
    }
    if (r !== gr || r !== bl) colorful = true;
    if (C === 1) planes[i] = 0.299 * r + 0.587 * gr + 0.114 * bl;
    else {
      planes[i] = r;
      planes[n + i] = gr;
      planes[2 * n + i] = bl;
    }
  }

  // 2. fit to H × W
  let crop = { x: 0, y: 0, width: w, height: h };
  let placed = { x: 0, y: 0, width: W, height: H };
  if (fit === 'center-crop') {
    if (w * H > W * h) {
      const cw = Math.max(1, Math.round((h * W) / H));
      crop = { x: Math.floor((w - cw) / 2), y: 0, width: cw, height: h };
    } else if (w * H < W * h) {
      const ch = Math.max(1, Math.round((w * H) / W));
      crop = { x: 0, y: Math.floor((h - ch) / 2), width: w, height: ch };
    }
  } else if (fit === 'pad') {
    const f = Math.min(W / w, H / h);
    const pw = Math.min(W, Math.max(1, Math.round(w * f)));
    const ph = Math.min(H, Math.max(1, Math.round(h * f)));
    placed = { x: Math.floor((W - pw) / 2), y: Math.floor((H - ph) / 2), width: pw, height: ph };
  }
  let src = planes;
  if (crop.width !== w || crop.height !== h) {
    src = new Float64Array(C * crop.width * crop.height);
    for (let c = 0; c < C; c++)
      for (let y = 0; y < crop.height; y++)
        for (let x = 0; x < crop.width; x++) src[(c * crop.height + y) * crop.width + x] = planes[c * n + (crop.y + y) * w + crop.x + x];
  }
  const resized = resizePlanar(src, C, crop.height, crop.width, placed.height, placed.width);
  let fitted = resized;
  if (placed.width !== W || placed.height !== H) {
    fitted = new Float64Array(C * H * W).fill((o.padValue ?? 0) * unit);
    for (let c = 0; c < C; c++)
      for (let y = 0; y < placed.height; y++)
        for (let x = 0; x < placed.width; x++) fitted[(c * H + placed.y + y) * W + placed.x + x] = resized[(c * placed.height + y) * placed.width + x];
  }

  // 3. range, mean/std, layout; and the display image
  const hw = H * W;
  const x = new Float32Array(C * hw);
  const display = new Uint8ClampedArray(hw * 4);
  const toRange = (hi - lo) / (b - a);
  for (let c = 0; c < C; c++)
    for (let q = 0; q < hw; q++) {
      const u = fitted[c * hw + q];
      x[layout === 'NCHW' ? c * hw + q : q * C + c] = (lo + u * toRange - mean[c]) / std[c];
      const byte = Math.round(u / unit);
      if (C === 1) display[4 * q] = display[4 * q + 1] = display[4 * q + 2] = byte;
      else display[4 * q + c] = byte;
    }
  for (let q = 0; q < hw; q++) display[4 * q + 3] = 255;

  const resizedAny = crop.width !== placed.width || crop.height !== placed.height;
  const stretched = fit === 'stretch' && Math.abs(w / h - W / H) > 0.01 * (W / H);
  const conversion: PreprocessInfo['conversion'] = C === 1 && colorful ? 'rgb-to-gray' : C === 3 && !color ? 'gray-to-rgb' : 'none';
  const notes: string[] = [];
  if (fit === 'center-crop' && (crop.width !== w || crop.height !== h)) notes.push(`center-cropped ${w}×${h} → ${crop.width}×${crop.height} (x ${crop.x}, y ${crop.y})`);
  if (resizedAny) notes.push(`resized ${crop.width}×${crop.height} → ${placed.width}×${placed.height}${stretched ? `, stretched (aspect ${fmtAspect(w, h)} → ${fmtAspect(W, H)})` : ''}`);
  if (fit === 'pad' && (placed.width !== W || placed.height !== H)) notes.push(`padded to ${W}×${H} (bands of gray ${o.padValue ?? 0})`);
  if (conversion === 'rgb-to-gray') notes.push('converted RGB to gray (0.299 R + 0.587 G + 0.114 B)');
  if (conversion === 'gray-to-rgb') notes.push('repeated gray into R, G and B');
  if (translucent && !bg) notes.push('ignored transparency (alpha dropped; pass background to composite)');
  return {
    x,
    display,
    info: {
      source: { width: w, height: h, channels: cs, kind: p.kind },
      fit,
      crop,
      placed,
      resized: resizedAny,
      stretched,
      conversion,
      inputRange: [lo, hi],
      ...(o.mean ? { mean } : {}),
      ...(o.std ? { std } : {}),
      notes,
    },
  };
}
