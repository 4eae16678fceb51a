/**
 * RGBA bytes as an ImageData: the real class where the runtime has it (browsers, workers), so that
 * `ctx.putImageData` takes it; a plain object with the same fields elsewhere (Node).
 */
import { InputError } from '../errors.js';
import type { ImageDataLike } from './types.js';

const ImageDataCtor = (globalThis as unknown as { ImageData?: new (data: Uint8ClampedArray<ArrayBuffer>, w: number, h: number) => ImageDataLike }).ImageData;

/** Wraps `data` (width·height·4 RGBA bytes, not copied) as an ImageData. */
export function toImageData(data: Uint8ClampedArray<ArrayBuffer>, width: number, height: number): ImageDataLike {
  if (data.length !== width * height * 4) throw new InputError(`toImageData: ${data.length} bytes for ${width}×${height} RGBA (expected ${width * height * 4})`);
  if (ImageDataCtor) return new ImageDataCtor(data, width, height);
  return { data, width, height, colorSpace: 'srgb' };
}

/**
 * Scales an RGBA image to width × height by nearest neighbour (each source pixel becomes a sharp
 * block when enlarging by a whole factor): for showing small model inputs and heatmaps large.
 */
export function scaleNearest(img: { data: ArrayLike<number>; width: number; height: number }, width: number, height: number): ImageDataLike {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new InputError(`scaleNearest: size must be positive integers, got ${width}×${height}`);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(img.height - 1, Math.floor(((y + 0.5) * img.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(img.width - 1, Math.floor(((x + 0.5) * img.width) / width));
      const s = (sy * img.width + sx) * 4;
      const d = (y * width + x) * 4;
      out[d] = img.data[s];
      out[d + 1] = img.data[s + 1];
      out[d + 2] = img.data[s + 2];
      out[d + 3] = img.data[s + 3];
    }
  }
  return toImageData(out, width, height);
}
