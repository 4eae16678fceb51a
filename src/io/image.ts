/**
 * Image bytes → RGBA → model input tensor. Pure functions on bytes; browser-safe.
 */
import jpeg from 'jpeg-js';
import { InputError } from '../errors.js';
import { decodePNG, isPNG } from '../heatmap/png.js';

export interface RGBAImage {
  width: number;
  height: number;
  /** RGBA, width·height·4 bytes, row-major. */
  data: Uint8Array;
}

function isJPEG(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

function sniffOther(bytes: Uint8Array): string | null {
  const ascii = (o: number, n: number) => String.fromCharCode(...bytes.subarray(o, o + n));
  if (ascii(0, 4) === 'GIF8') return 'GIF';
  if (ascii(0, 2) === 'BM') return 'BMP';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') return 'WebP';
  if ((bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 0x2a) || (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[3] === 0x2a)) return 'TIFF';
  if (bytes[0] === 0x93 && ascii(1, 5) === 'NUMPY') return '.npy';
  return null;
}

/** Expands 1..4 interleaved 8-bit channels to RGBA. */
function toRGBA(data: Uint8Array, channels: number, n: number): Uint8Array {
  if (channels === 4) return data;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    if (channels === 1 || channels === 2) {
      out[4 * i] = out[4 * i + 1] = out[4 * i + 2] = data[s];
      out[4 * i + 3] = channels === 2 ? data[s + 1] : 255;
    } else {
      out[4 * i] = data[s];
      out[4 * i + 1] = data[s + 1];
      out[4 * i + 2] = data[s + 2];
      out[4 * i + 3] = 255;
    }
  }
  return out;
}

/**
 * Decodes a PNG or JPEG file (sniffed by its magic bytes, not its name) to 8-bit RGBA.
 * `name` (e.g. the file name) is used in error messages. Throws InputError (code E_IMAGE) for
 * other formats and for corrupt or truncated data.
 */
export function decodeImage(bytes: Uint8Array, name = 'image'): RGBAImage {
  if (!(bytes instanceof Uint8Array)) throw new InputError(`${name}: expected a Uint8Array of image bytes`, 'E_IMAGE');
  if (isPNG(bytes)) {
    const png = decodePNG(bytes, name);
    return { width: png.width, height: png.height, data: toRGBA(png.data, png.channels, png.width * png.height) };
  }
  if (isJPEG(bytes)) {
    let img: { width: number; height: number; data: Uint8Array };
    try {
      img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false });
    } catch (err) {
      throw new InputError(`${name}: corrupt or unsupported JPEG: ${(err as Error).message}`, 'E_IMAGE');
    }
    if (!(img.width > 0 && img.height > 0) || img.data.length !== img.width * img.height * 4) {
      throw new InputError(`${name}: corrupt JPEG (decoded ${img.width}x${img.height})`, 'E_IMAGE');
    }
    return { width: img.width, height: img.height, data: img.data };
  }
  const other = bytes.length === 0 ? 'an empty file' : sniffOther(bytes);
  throw new InputError(
    `${name}: ${other ? `${other} is not supported` : 'unrecognised image format'}; expected a PNG or JPEG file`,
    'E_IMAGE',
  );
}

export interface ImageToTensorOptions {
  /** Model input channels: 1 (gray = 0.299R + 0.587G + 0.114B) or 3 (RGB; gray is repeated). */
  channels: 1 | 3;
  height: number;
  width: number;
  /** Byte 0 maps to lo and 255 to hi, e.g. [0, 1] or [-1, 1] (or [1, 0] for inverted images). */
  range: readonly [number, number];
  /** Per channel (or one value for all), applied after range: (x − mean) / std. */
  mean?: readonly number[];
  std?: readonly number[];
  /** Output layout of the one sample: 'NCHW' → C·H·W, 'NHWC' → H·W·C. */
  layout: 'NCHW' | 'NHWC';
  /**
   * Alpha is ignored by default (as PIL's convert('RGB') does). Give a background (gray byte or
   * [r, g, b]) to composite translucent pixels over it first: rgb·a/255 + bg·(1 − a/255).
   */
  background?: number | readonly [number, number, number];
}

interface Tap {
  /** Source indices and weights (summing to 1) per output index. */
  idx: Int32Array;
  w: Float64Array;
  start: Int32Array; // offsets into idx/w, length out+1
}

/**
 * 1-D resampling weights from `inSize` to `outSize` samples, pixel centres aligned
 * (align_corners = false, like PIL / OpenCV / torch bilinear):
 *  - scale = inSize/outSize ≤ 2: linear interpolation at src = (o + 0.5)·scale − 0.5, clamped
 *    to the edge pixels;
 *  - scale > 2: area (box) average of the source interval [o·scale, (o+1)·scale), each source
 *    pixel weighted by its overlap, so that no source pixel is skipped.
 */
export function resampleWeights(inSize: number, outSize: number): Tap {
  const scale = inSize / outSize;
  const idx: number[] = [];
  const w: number[] = [];
  const start = new Int32Array(outSize + 1);
  for (let o = 0; o < outSize; o++) {
    start[o] = idx.length;
    if (scale <= 2) {
      let src = (o + 0.5) * scale - 0.5;
      if (src < 0) src = 0;
      if (src > inSize - 1) src = inSize - 1;
      const i0 = Math.floor(src);
      const f = src - i0;
      idx.push(i0);
      w.push(1 - f);
      if (f > 0) {
        idx.push(i0 + 1);
        w.push(f);
      }
    } else {
      const a = o * scale;
      const b = Math.min((o + 1) * scale, inSize);
      for (let i = Math.floor(a); i < b; i++) {
        const overlap = Math.min(b, i + 1) - Math.max(a, i);
        if (overlap > 1e-12) {
          idx.push(i);
          w.push(overlap / (b - a));
        }
      }
    }
  }
  start[outSize] = idx.length;
  return { idx: Int32Array.from(idx), w: Float64Array.from(w), start };
}

/**
 * Resizes planar float data (C planes of inH·inW) to outH·outW, separably (rows, then columns)
 * with resampleWeights on each axis.
 */
export function resizePlanar(
  src: Float64Array,
  channels: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
): Float64Array {
  if (inH === outH && inW === outW) return src;
  const wx = resampleWeights(inW, outW);
  const wy = resampleWeights(inH, outH);
  const tmp = new Float64Array(channels * inH * outW);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < inH; y++) {
      const row = (c * inH + y) * inW;
      const orow = (c * inH + y) * outW;
      for (let x = 0; x < outW; x++) {
        let s = 0;
        for (let k = wx.start[x]; k < wx.start[x + 1]; k++) s += wx.w[k] * src[row + wx.idx[k]];
        tmp[orow + x] = s;
      }
    }
  }
  const out = new Float64Array(channels * outH * outW);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < outH; y++) {
      const orow = (c * outH + y) * outW;
      for (let k = wy.start[y]; k < wy.start[y + 1]; k++) {
        const wk = wy.w[k];
        const irow = (c * inH + wy.idx[k]) * outW;
        for (let x = 0; x < outW; x++) out[orow + x] += wk * tmp[irow + x];
      }
    }
  }
  return out;
}

function perChannel(v: readonly number[] | undefined, channels: number, what: string, fallback: number): number[] {
  if (v === undefined) return new Array<number>(channels).fill(fallback);
  if (!Array.isArray(v) || (v.length !== 1 && v.length !== channels) || !v.every((x) => Number.isFinite(x))) {
    throw new InputError(`imageToTensor: ${what} must be 1 or ${channels} finite numbers, got ${JSON.stringify(v)}`);
  }
  return v.length === 1 ? new Array<number>(channels).fill(v[0]) : [...v];
}

/**
 * Converts a decoded image to one model input sample (Float32Array of channels·height·width):
 * channel conversion (RGB → gray by 0.299R + 0.587G + 0.114B, gray → RGB by repetition),
 * resize to height×width (resampleWeights), scale bytes 0..255 to [lo, hi], then per channel
 * (x − mean)/std if given. Throws InputError for bad options or a malformed image.
 */
export function imageToTensor(img: RGBAImage, opts: ImageToTensorOptions): Float32Array<ArrayBuffer> {
  if (!img || !(img.width > 0) || !(img.height > 0) || !Number.isInteger(img.width) || !Number.isInteger(img.height)) {
    throw new InputError('imageToTensor: image must have positive integer width and height');
  }
  const n = img.width * img.height;
  if (!img.data || img.data.length !== n * 4) {
    throw new InputError(
      `imageToTensor: image data has ${img.data?.length} bytes, expected ${img.width}·${img.height}·4 = ${n * 4} (RGBA)`,
    );
  }
  if (!opts || typeof opts !== 'object') throw new InputError('imageToTensor: options are required');
  const { channels, height, width, layout } = opts;
  if (channels !== 1 && channels !== 3) throw new InputError(`imageToTensor: channels must be 1 or 3, got ${channels}`);
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new InputError(`imageToTensor: width and height must be positive integers, got ${width}x${height}`);
  }
  if (layout !== 'NCHW' && layout !== 'NHWC') throw new InputError(`imageToTensor: layout must be 'NCHW' or 'NHWC', got '${layout}'`);
  const range = opts.range;
  if (!Array.isArray(range) || range.length !== 2 || !range.every((x) => Number.isFinite(x)) || range[0] === range[1]) {
    throw new InputError(`imageToTensor: range must be two different finite numbers [lo, hi], got ${JSON.stringify(range)}`);
  }
  const mean = perChannel(opts.mean, channels, 'mean', 0);
  const std = perChannel(opts.std, channels, 'std', 1);
  if (std.some((s) => s === 0)) throw new InputError('imageToTensor: std must not contain 0');
  let bg: [number, number, number] | null = null;
  if (opts.background !== undefined) {
    const b = opts.background;
    bg = typeof b === 'number' ? [b, b, b] : Array.isArray(b) && b.length === 3 ? [b[0], b[1], b[2]] : null;
    if (!bg || !bg.every((x) => Number.isFinite(x) && x >= 0 && x <= 255)) {
      throw new InputError(`imageToTensor: background must be a byte or [r, g, b] bytes, got ${JSON.stringify(b)}`);
    }
  }

  // 1. channel conversion at source resolution, planar float 0..255
  const d = img.data;
  const planes = new Float64Array(channels * n);
  for (let i = 0; i < n; i++) {
    let r = d[4 * i];
    let g = d[4 * i + 1];
    let b = d[4 * i + 2];
    if (bg) {
      const a = d[4 * i + 3] / 255;
      r = r * a + bg[0] * (1 - a);
      g = g * a + bg[1] * (1 - a);
      b = b * a + bg[2] * (1 - a);
    }
    if (channels === 1) {
      planes[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    } else {
      planes[i] = r;
      planes[n + i] = g;
      planes[2 * n + i] = b;
    }
  }
  // 2. resize
  const resized = resizePlanar(planes, channels, img.height, img.width, height, width);
  // 3. range and 4. normalisation
  const [lo, hi] = range;
  const scale = (hi - lo) / 255;
  const hw = height * width;
  const out = new Float32Array(channels * hw);
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < hw; p++) {
      const v = (lo + resized[c * hw + p] * scale - mean[c]) / std[c];
      out[layout === 'NCHW' ? c * hw + p : p * channels + c] = v;
    }
  }
  return out;
}
