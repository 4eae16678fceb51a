/**
 * PNG encode/decode on bytes with fast-png. Browser-safe (no Node APIs).
 */
import { decode as fastDecode, encode as fastEncode, convertIndexedToRgb, type DecodedPng } from 'fast-png';
import { InputError } from '../errors.js';

/** A decoded PNG with 8-bit samples. */
export interface DecodedImage8 {
  /** Pixels per row. */
  width: number;
  /** Rows. */
  height: number;
  /** 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
  /** 8-bit samples, interleaved, width·height·channels. */
  data: Uint8Array;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Whether `bytes` start with the PNG signature. */
export function isPNG(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  for (let i = 0; i < 8; i++) if (bytes[i] !== PNG_MAGIC[i]) return false;
  return true;
}

/**
 * Encodes 8-bit RGBA (width·height·4 bytes) as a PNG file, ready for `new Blob([png], { type:
 * 'image/png' })` or a file write. Throws InputError on bad sizes.
 */
export function encodePNG(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new InputError(`encodePNG: width and height must be positive integers, got ${width}x${height}`);
  }
  if (!(rgba instanceof Uint8Array || rgba instanceof Uint8ClampedArray)) {
    throw new InputError('encodePNG: rgba must be a Uint8Array or Uint8ClampedArray');
  }
  if (rgba.length !== width * height * 4) {
    throw new InputError(`encodePNG: rgba has ${rgba.length} bytes, expected ${width}·${height}·4 = ${width * height * 4}`);
  }
  const data = rgba instanceof Uint8Array ? rgba : new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.length);
  const png = fastEncode({ width, height, data, channels: 4, depth: 8 });
  // fast-png writes into a plain ArrayBuffer; copy in any other case, so that the type holds
  return png.buffer instanceof ArrayBuffer ? (png as Uint8Array<ArrayBuffer>) : new Uint8Array(png);
}

/** Unpacks 1/2/4-bit rows (each row padded to a byte) into one byte per sample, unscaled. */
function unpackBits(data: ArrayLike<number>, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = data[y * rowBytes + (bit >> 3)];
      out[y * width + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

function to8bit(png: DecodedPng): DecodedImage8 {
  const { width, height, depth } = png;
  const n = width * height;
  if (png.palette && png.palette.length > 0) {
    const rgb = convertIndexedToRgb(png);
    const channels = png.palette[0].length === 4 ? 4 : 3;
    if (rgb.length !== n * channels) throw new Error(`palette image has ${rgb.length} samples, expected ${n * channels}`);
    return { width, height, channels, data: rgb };
  }
  const channels = png.channels as 1 | 2 | 3 | 4;
  if (![1, 2, 3, 4].includes(channels)) throw new Error(`unsupported channel count ${png.channels}`);
  let data: Uint8Array;
  if (depth === 8) {
    data = png.data instanceof Uint8Array ? png.data : new Uint8Array(png.data);
  } else if (depth === 16) {
    data = new Uint8Array(png.data.length);
    for (let i = 0; i < data.length; i++) data[i] = png.data[i] >> 8;
  } else {
    // 1, 2, 4 bits: gray only
    const raw = unpackBits(png.data, width, height, depth);
    const scale = 255 / ((1 << depth) - 1);
    data = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) data[i] = Math.round(raw[i] * scale);
    if (png.transparency && png.transparency.length === 1) {
      // colour key for gray: compare on the raw sample values
      const a = new Uint8Array(n * 2);
      for (let i = 0; i < n; i++) {
        a[2 * i] = data[i];
        a[2 * i + 1] = raw[i] === png.transparency[0] ? 0 : 255;
      }
      return { width, height, channels: 2, data: a };
    }
  }
  if (data.length !== n * channels) throw new Error(`image has ${data.length} samples, expected ${n * channels}`);
  // tRNS colour key for gray (1 value) or RGB (3 values), compared at the file's depth
  if (png.transparency && (channels === 1 || channels === 3) && png.transparency.length === channels) {
    const key = Array.from(png.transparency);
    const src = png.data;
    const outC = channels + 1;
    const a = new Uint8Array(n * outC);
    for (let i = 0; i < n; i++) {
      let match = true;
      for (let c = 0; c < channels; c++) {
        a[i * outC + c] = data[i * channels + c];
        if (src[i * channels + c] !== key[c]) match = false;
      }
      a[i * outC + channels] = match ? 0 : 255;
    }
    return { width, height, channels: outC as 2 | 4, data: a };
  }
  return { width, height, channels, data };
}

/**
 * Walks the chunk list (length, type, data, CRC) so that a truncated or corrupt file gets a
 * message about its chunks rather than the decoder's DataView errors.
 */
function checkChunks(bytes: Uint8Array, name: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string) => new InputError(`${name}: corrupt or unsupported PNG: ${why}`, 'E_IMAGE');
  let at = 8;
  for (let k = 0; ; k++) {
    if (at + 8 > bytes.length) throw fail(k === 0 ? 'no chunks after the signature' : `the file ends after chunk ${k} without an IEND chunk`);
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) throw fail(`chunk ${k + 1} at byte ${at} has an invalid type (not four letters)`);
    if (k === 0 && (type !== 'IHDR' || length !== 13)) throw fail(`the first chunk must be a 13-byte IHDR, got '${type}' of ${length} bytes`);
    if (at + 12 + length > bytes.length)
      throw fail(`chunk ${k + 1} ('${type}') at byte ${at} needs ${length + 12} bytes, but only ${bytes.length - at} remain`);
    at += 12 + length;
    if (type === 'IEND') return;
  }
}

/**
 * Decodes a PNG file to 8-bit samples: palette images become RGB(A), 16-bit samples are
 * reduced to their high byte, 1/2/4-bit gray is scaled to 0..255, a tRNS colour key becomes an
 * alpha channel. Throws InputError (naming `name` if given) for anything that is not a valid PNG.
 */
export function decodePNG(bytes: Uint8Array, name = 'PNG data'): DecodedImage8 {
  if (!(bytes instanceof Uint8Array)) throw new InputError(`${name}: expected a Uint8Array of PNG bytes`);
  if (!isPNG(bytes)) throw new InputError(`${name}: not a PNG file (bad signature)`, 'E_IMAGE');
  checkChunks(bytes, name);
  let png: DecodedPng;
  try {
    png = fastDecode(bytes, { checkCrc: true });
  } catch (err) {
    throw new InputError(`${name}: corrupt or unsupported PNG: ${(err as Error).message}`, 'E_IMAGE');
  }
  if (!(png.width > 0 && png.height > 0)) {
    throw new InputError(`${name}: PNG has invalid size ${png.width}x${png.height}`, 'E_IMAGE');
  }
  try {
    return to8bit(png);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${name}: corrupt or unsupported PNG: ${(err as Error).message}`, 'E_IMAGE');
  }
}
