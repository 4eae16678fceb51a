/**
 * Any image a caller holds → interleaved pixels with their value range. DOM images are drawn on a
 * canvas (OffscreenCanvas where there is one) and read back; encoded PNG/JPEG bytes are decoded by
 * the library's own decoders (the same numbers in Node and browsers); tensors are read with data().
 */
import { InputError } from '../errors.js';
import { decodeImage } from '../io/image.js';
import type { ImageInput, RawImage, TensorLike } from './types.js';

/** Interleaved pixels, `channels` per pixel, values meant to span `range` (e.g. [0, 255]). */
export interface Pixels {
  data: ArrayLike<number>;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  range: [number, number];
  /** What the image was, for messages: 'ImageData', 'HTMLImageElement', 'PNG', 'tf.Tensor', … */
  kind: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;
const INTEGER_ARRAYS = [Uint8Array, Uint8ClampedArray, Uint16Array, Int8Array, Int16Array, Int32Array, Uint32Array];
const isIntegerArray = (a: unknown) => INTEGER_ARRAYS.some((T) => a instanceof T);
const fail = (msg: string) => new InputError(msg, 'E_IMAGE');

function checkSize(width: unknown, height: unknown, kind: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || (width as number) < 1 || (height as number) < 1)
    throw fail(`${kind}: width and height must be positive integers, got ${String(width)}x${String(height)}${kind === 'HTMLImageElement' ? ' (is the image loaded? await img.decode() first)' : ''}`);
}

function fromRaw(img: RawImage, pixelRange: [number, number] | undefined): Pixels {
  const { data, width, height, channels } = img;
  checkSize(width, height, 'image');
  if (![1, 2, 3, 4].includes(channels)) throw fail(`image: channels must be 1, 2, 3 or 4, got ${String(channels)}`);
  if (!data || typeof data.length !== 'number') throw fail('image: data must be an array or typed array of pixel values');
  if (data.length !== width * height * channels)
    throw fail(`image: data has ${data.length} values, expected width·height·channels = ${width}·${height}·${channels} = ${width * height * channels}`);
  const range = pixelRange ?? (isIntegerArray(data) ? [0, 255] : [0, 1]);
  return { data, width, height, channels, range, kind: 'pixel array' };
}

async function fromTensor(t: TensorLike, pixelRange: [number, number] | undefined): Promise<Pixels> {
  let shape = Array.from(t.shape);
  if (shape.length === 4) {
    if (shape[0] !== 1) throw fail(`tf.Tensor of shape [${shape.join(', ')}]: explainImage takes one image ([H, W, C] or [1, H, W, C]); explain each, or pass the batch to explain()`);
    shape = shape.slice(1);
  }
  if (shape.length !== 3) throw fail(`tf.Tensor of shape [${shape.join(', ')}]: expected an image [H, W, C] or [1, H, W, C]`);
  const [height, width, channels] = shape;
  if (![1, 2, 3, 4].includes(channels)) throw fail(`tf.Tensor of shape [${shape.join(', ')}]: expected 1, 3 or 4 channels last (NHWC)`);
  const data = await t.data();
  const range = pixelRange ?? (t.dtype === 'float32' ? [0, 1] : [0, 255]);
  return { data, width, height, channels: channels as Pixels['channels'], range, kind: `tf.Tensor (${t.dtype})` };
}

interface Canvas2D {
  drawImage(img: unknown, x: number, y: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
}
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d', opts?: object): Canvas2D | null;
}
const g = globalThis as unknown as {
  OffscreenCanvas?: new (w: number, h: number) => CanvasLike;
  document?: { createElement(tag: 'canvas'): CanvasLike };
  createImageBitmap?: (b: unknown) => Promise<{ width: number; height: number; close(): void }>;
};

function newCanvas(width: number, height: number): CanvasLike {
  if (g.OffscreenCanvas) return new g.OffscreenCanvas(width, height);
  if (g.document) {
    const c = g.document.createElement('canvas');
    c.width = width;
    c.height = height;
    return c;
  }
  throw fail('drawing an image element needs a canvas (OffscreenCanvas or document), which this runtime lacks: pass ImageData, pixels or PNG/JPEG bytes');
}

/** The size a drawable image has: natural size for <img>, display size for VideoFrame, else width/height. */
function drawableSize(img: Obj): [number, number] {
  if (typeof img.naturalWidth === 'number') return [img.naturalWidth, img.naturalHeight as number];
  if (typeof img.videoWidth === 'number') return [img.videoWidth, img.videoHeight as number];
  if (typeof img.displayWidth === 'number') return [img.displayWidth, img.displayHeight as number];
  return [img.width as number, img.height as number];
}

async function fromDrawable(img: Obj, kind: string): Promise<Pixels> {
  if (typeof img.decode === 'function' && img.complete === false) {
    try {
      await (img.decode as () => Promise<void>).call(img);
    } catch (e) {
      throw fail(`${kind}: the image could not be loaded or decoded (${(e as Error).message})`);
    }
  }
  const [width, height] = drawableSize(img);
  checkSize(width, height, kind);
  // a 2d canvas is read directly; anything else (a WebGL canvas, an <img>, a bitmap) is drawn first
  let ctx = typeof img.getContext === 'function' && /Canvas/.test(kind) ? (img as unknown as CanvasLike).getContext('2d', { willReadFrequently: true }) : null;
  if (!ctx) {
    ctx = newCanvas(width, height).getContext('2d', { willReadFrequently: true });
    if (!ctx) throw fail('cannot get a 2d canvas context to read the image');
    ctx.drawImage(img, 0, 0);
  }
  let data: Uint8ClampedArray;
  try {
    data = ctx.getImageData(0, 0, width, height).data;
  } catch (e) {
    throw fail(`${kind}: cannot read its pixels (${(e as Error).message}); a cross-origin image needs crossOrigin="anonymous" and CORS headers`);
  }
  return { data, width, height, channels: 4, range: [0, 255], kind };
}

async function fromEncoded(bytes: Uint8Array, kind: string, blob?: unknown): Promise<Pixels> {
  try {
    const img = decodeImage(bytes, kind);
    return { data: img.data, width: img.width, height: img.height, channels: 4, range: [0, 255], kind };
  } catch (e) {
    // other formats (WebP, GIF, …): the browser's decoder, where there is one
    if (!g.createImageBitmap || !blob) throw e;
    const bitmap = await g.createImageBitmap(blob);
    try {
      return await fromDrawable(bitmap as unknown as Obj, kind);
    } finally {
      bitmap.close();
    }
  }
}

/** The name of an object's class (ImageData, HTMLImageElement, …), for dispatch and messages. */
function className(v: Obj): string {
  return (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'Object';
}

/**
 * Pixels of any supported image. `pixelRange` overrides the value range of raw arrays and tensors.
 * @throws {@link InputError} (code `E_IMAGE`) for anything that is not an image of a known kind.
 */
export async function readPixels(img: ImageInput, pixelRange?: [number, number]): Promise<Pixels> {
  if (img instanceof Uint8Array || img instanceof ArrayBuffer) {
    const bytes = img instanceof Uint8Array ? img : new Uint8Array(img);
    const g2 = globalThis as unknown as { Blob?: new (parts: unknown[]) => unknown };
    return fromEncoded(bytes, 'image bytes', g2.Blob ? new g2.Blob([bytes]) : undefined);
  }
  if (!isObj(img)) throw fail(`explainImage needs an image, got ${img === null ? 'null' : typeof img}`);
  const o = img as unknown as Obj;
  const name = className(o);
  if (ArrayBuffer.isView(o) || Array.isArray(o))
    throw fail(`explainImage got a bare ${name}: pass pixels as { data, width, height, channels }, an ImageData, or PNG/JPEG bytes as a Uint8Array`);
  if (typeof o.shape === 'object' && typeof o.dtype === 'string' && typeof o.data === 'function') return fromTensor(o as unknown as TensorLike, pixelRange);
  if (isObj(o.data) && typeof o.width === 'number') {
    if (typeof o.channels === 'number') return fromRaw(o as unknown as RawImage, pixelRange);
    // ImageData (or its shape): RGBA bytes
    const d = o.data as unknown as ArrayLike<number>;
    checkSize(o.width, o.height, name);
    if (d.length !== (o.width as number) * (o.height as number) * 4)
      throw fail(`${name}: data has ${d.length} values, expected width·height·4 = ${(o.width as number) * (o.height as number) * 4} (RGBA); give channels for other layouts`);
    return { data: d, width: o.width as number, height: o.height as number, channels: 4, range: pixelRange ?? [0, 255], kind: name };
  }
  if (typeof o.arrayBuffer === 'function' && typeof o.size === 'number') {
    return fromEncoded(new Uint8Array(await (o.arrayBuffer as () => Promise<ArrayBuffer>).call(o)), (o.name as string) || name, o);
  }
  if (typeof o.width === 'number' || typeof o.naturalWidth === 'number' || typeof o.displayWidth === 'number') return fromDrawable(o, name);
  throw fail(`explainImage cannot read a ${name}: pass ImageData, an <img>/<canvas>/ImageBitmap/OffscreenCanvas, a tf.Tensor, { data, width, height, channels }, or PNG/JPEG bytes`);
}
