import { encode as fastEncode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { heatmap } from '../../src/heatmap/heatmap.js';
import { decodePNG, encodePNG, isPNG } from '../../src/heatmap/png.js';

function randomRGBA(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n * 4);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** Inserts a chunk right after IHDR (which always ends at byte 33). */
function insertChunk(png: Uint8Array, type: string, data: number[]): Uint8Array {
  const body = new Uint8Array([...type].map((c) => c.charCodeAt(0)).concat(data));
  let crc = 0xffffffff;
  for (const b of body) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  crc = (crc ^ 0xffffffff) >>> 0;
  const chunk = new Uint8Array(12 + data.length);
  const v = new DataView(chunk.buffer);
  v.setUint32(0, data.length);
  chunk.set(body, 4);
  v.setUint32(8 + data.length, crc);
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, 33));
  out.set(chunk, 33);
  out.set(png.subarray(33), 33 + chunk.length);
  return out;
}

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError, nothing was thrown');
}

describe('encodePNG / decodePNG', () => {
  it('round-trips RGBA exactly', () => {
    const rgba = randomRGBA(7 * 5);
    const png = encodePNG(rgba, 7, 5);
    expect(png).toBeInstanceOf(Uint8Array);
    expect(isPNG(png)).toBe(true);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const back = decodePNG(png);
    expect(back.width).toBe(7);
    expect(back.height).toBe(5);
    expect(back.channels).toBe(4);
    expect(back.data).toEqual(rgba);
  });

  it('encodes a heatmap (Uint8ClampedArray) directly', () => {
    const h = heatmap([-1, 0, 0.5, 1], { width: 2, height: 2 });
    const back = decodePNG(encodePNG(h, 2, 2));
    expect([...back.data]).toEqual([...h]);
  });

  it('round-trips a 1×1 and a wide image', () => {
    for (const [w, h] of [
      [1, 1],
      [300, 2],
    ]) {
      const rgba = randomRGBA(w * h, w + h);
      expect(decodePNG(encodePNG(rgba, w, h)).data).toEqual(rgba);
    }
  });

  it('converts gray, gray+alpha, RGB, 16-bit, 1-bit and palette PNGs to 8-bit samples', () => {
    const gray = decodePNG(fastEncode({ width: 2, height: 1, data: new Uint8Array([10, 200]), channels: 1, depth: 8 }));
    expect(gray).toEqual({ width: 2, height: 1, channels: 1, data: new Uint8Array([10, 200]) });
    const ga = decodePNG(fastEncode({ width: 1, height: 1, data: new Uint8Array([10, 99]), channels: 2, depth: 8 }));
    expect(ga.channels).toBe(2);
    expect([...ga.data]).toEqual([10, 99]);
    const rgb = decodePNG(fastEncode({ width: 1, height: 1, data: new Uint8Array([1, 2, 3]), channels: 3, depth: 8 }));
    expect(rgb.channels).toBe(3);
    expect([...rgb.data]).toEqual([1, 2, 3]);
    // 16-bit gray: high byte
    const g16 = decodePNG(
      fastEncode({ width: 2, height: 1, data: new Uint16Array([0x1234, 0xfffe]), channels: 1, depth: 16 }),
    );
    expect([...g16.data]).toEqual([0x12, 0xff]);
    // 1-bit gray, 3×2, rows padded to a byte: row 0 = 1 0 1, row 1 = 0 1 1
    const g1 = decodePNG(
      fastEncode({ width: 3, height: 2, data: new Uint8Array([0b10100000, 0b01100000]), channels: 1, depth: 1 }),
    );
    expect(g1.channels).toBe(1);
    expect([...g1.data]).toEqual([255, 0, 255, 0, 255, 255]);
    // palette
    const pal = decodePNG(
      fastEncode({
        width: 3,
        height: 1,
        data: new Uint8Array([2, 0, 1]),
        channels: 1,
        depth: 8,
        palette: [
          [255, 0, 0],
          [0, 255, 0],
          [0, 0, 255],
        ],
      }),
    );
    expect(pal.channels).toBe(3);
    expect([...pal.data]).toEqual([0, 0, 255, 255, 0, 0, 0, 255, 0]);
  });

  it('turns a tRNS colour key into alpha', () => {
    const gray = fastEncode({ width: 3, height: 1, data: new Uint8Array([10, 200, 10]), channels: 1, depth: 8 });
    const g = decodePNG(insertChunk(gray, 'tRNS', [0, 10]));
    expect(g.channels).toBe(2);
    expect([...g.data]).toEqual([10, 0, 200, 255, 10, 0]);
    // (fast-png refuses an RGB tRNS on images with fewer than 3 pixels, hence 3 pixels)
    const rgb = fastEncode({ width: 3, height: 1, data: new Uint8Array([1, 2, 3, 1, 2, 4, 1, 2, 3]), channels: 3, depth: 8 });
    const c = decodePNG(insertChunk(rgb, 'tRNS', [0, 1, 0, 2, 0, 3]));
    expect(c.channels).toBe(4);
    expect([...c.data]).toEqual([1, 2, 3, 0, 1, 2, 4, 255, 1, 2, 3, 0]);
  });

  it('rejects bad sizes when encoding', () => {
    expect(inputError(() => encodePNG(new Uint8Array(15), 2, 2)).message).toMatch(/15 bytes, expected 2·2·4 = 16/);
    expect(inputError(() => encodePNG(new Uint8Array(0), 0, 0)).message).toMatch(/width and height/);
    expect(inputError(() => encodePNG([1, 2, 3, 4] as unknown as Uint8Array, 1, 1)).message).toMatch(/Uint8Array/);
  });

  it('rejects non-PNG, truncated and corrupt data with InputError naming the file', () => {
    const png = encodePNG(randomRGBA(16), 4, 4);
    let e = inputError(() => decodePNG(new Uint8Array([1, 2, 3]), 'x.png'));
    expect(e.message).toMatch(/^x\.png: not a PNG/);
    e = inputError(() => decodePNG(png.subarray(0, 40), 'cut.png'));
    expect(e.message).toMatch(/^cut\.png: corrupt or unsupported PNG/);
    expect(e.code).toBe('E_IMAGE');
    const flipped = new Uint8Array(png);
    flipped[png.length - 20] ^= 0xff; // inside IDAT → CRC mismatch
    expect(inputError(() => decodePNG(flipped, 'flip.png')).message).toMatch(/flip\.png: corrupt.*CRC/);
  });
});
