/**
 * The image types of explainImage, written so that the package's declarations compile both with
 * the DOM lib (where they are the real ImageData, HTMLImageElement, … types) and without it (Node
 * projects, where the DOM-only members of the unions drop out).
 */

import type { BlobLike } from '../import/source.js';

/** The DOM class `K` where the DOM lib is loaded, `never` elsewhere. */
export type DomClass<K extends string> = typeof globalThis extends Record<K, { /** The class's instances. */ prototype: infer P }> ? P : never;

/**
 * An RGBA image: a real `ImageData` in browsers (ready for `ctx.putImageData`), a plain object
 * with the same fields in Node.
 */
export interface ImageDataLike {
  /** RGBA bytes, width·height·4, row-major. */
  readonly data: Uint8ClampedArray<ArrayBuffer>;
  /** Pixels per row. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
  /** Always 'srgb' for the images the library makes. */
  readonly colorSpace: 'srgb' | 'display-p3';
}

/**
 * Pixels you hold as an array: `channels` interleaved values per pixel (1 gray, 2 gray+alpha,
 * 3 RGB, 4 RGBA), row-major. Integer arrays are taken as 0..255, floating-point ones as 0..1
 * (or `pixelRange`).
 */
export interface RawImage {
  /** width·height·channels values, interleaved, row-major. */
  readonly data: ArrayLike<number>;
  /** Pixels per row. */
  readonly width: number;
  /** Rows. */
  readonly height: number;
  /** Values per pixel: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. */
  readonly channels: 1 | 2 | 3 | 4;
}

/** A TF.js tensor holding one image, [H, W, C] or [1, H, W, C] (e.g. from `tf.browser.fromPixels`). */
export interface TensorLike {
  /** [H, W, C] or [1, H, W, C]. */
  readonly shape: readonly number[];
  /** 'int32' (taken as 0..255) or 'float32' (taken as 0..1, or `pixelRange`). */
  readonly dtype: string;
  /** The values, read asynchronously. */
  data(): Promise<ArrayLike<number>>;
}

/** Anything a canvas can draw (`<img>`, `<canvas>`, `OffscreenCanvas`, `ImageBitmap`, `<video>`, `VideoFrame`). */
export type DrawableImage =
  | DomClass<'HTMLImageElement'>
  | DomClass<'HTMLCanvasElement'>
  | DomClass<'OffscreenCanvas'>
  | DomClass<'ImageBitmap'>
  | DomClass<'HTMLVideoElement'>
  | DomClass<'VideoFrame'>
  | DomClass<'SVGImageElement'>;

/** An encoded image file (PNG or JPEG bytes; in browsers any format the browser decodes, for Blobs). */
export type EncodedImage = Uint8Array | ArrayBuffer | BlobLike;

/** Every image {@link Model.explainImage} takes. */
export type ImageInput = ImageDataLike | DomClass<'ImageData'> | RawImage | TensorLike | DrawableImage | EncodedImage;

/** How an image is fitted to the model's input size. */
export type FitMode = 'stretch' | 'center-crop' | 'pad';
