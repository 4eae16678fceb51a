import { encode as fastEncode } from 'fast-png';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { encodePNG } from '../../src/heatmap/png.js';
import { decodeImage, imageToTensor, resampleWeights, type RGBAImage } from '../../src/io/image.js';

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError, nothing was thrown');
}

/** An RGBA image from gray values (R = G = B = v, alpha 255), row-major. */
function grayImage(width: number, height: number, values: number[]): RGBAImage {
  const data = new Uint8Array(width * height * 4);
  values.forEach((v, i) => data.set([v, v, v, 255], 4 * i));
  return { width, height, data };
}

function rgbImage(width: number, height: number, rgb: number[][]): RGBAImage {
  const data = new Uint8Array(width * height * 4);
  rgb.forEach((p, i) => data.set([p[0], p[1], p[2], p[3] ?? 255], 4 * i));
  return { width, height, data };
}

const close = (got: ArrayLike<number>, want: number[], digits = 5) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(got[i], `index ${i}`).toBeCloseTo(w, digits));
};

describe('decodeImage', () => {
  it('decodes a PNG made with encodePNG', () => {
    const rgba = new Uint8Array(3 * 2 * 4).map((_, i) => (i * 37) % 256);
    const img = decodeImage(encodePNG(rgba, 3, 2), 'a.png');
    expect(img.width).toBe(3);
    expect(img.height).toBe(2);
    expect(img.data).toEqual(rgba);
  });

  it('expands gray and RGB PNGs to RGBA', () => {
    const g = decodeImage(fastEncode({ width: 2, height: 1, data: new Uint8Array([10, 200]), channels: 1, depth: 8 }));
    expect([...g.data]).toEqual([10, 10, 10, 255, 200, 200, 200, 255]);
    const ga = decodeImage(fastEncode({ width: 1, height: 1, data: new Uint8Array([10, 99]), channels: 2, depth: 8 }));
    expect([...ga.data]).toEqual([10, 10, 10, 99]);
    const rgb = decodeImage(fastEncode({ width: 1, height: 1, data: new Uint8Array([1, 2, 3]), channels: 3, depth: 8 }));
    expect([...rgb.data]).toEqual([1, 2, 3, 255]);
  });

  it('decodes a JPEG made with jpeg-js (lossy: within a few levels)', () => {
    const w = 16;
    const h = 8;
    const src = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) src.set([200, 50, 10, 255], 4 * i);
    const bytes = new Uint8Array(jpeg.encode({ width: w, height: h, data: src }, 95).data);
    expect([...bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    const img = decodeImage(bytes, 'x.jpg');
    expect(img.width).toBe(w);
    expect(img.height).toBe(h);
    expect(img.data.length).toBe(w * h * 4);
    for (let i = 0; i < w * h; i++) {
      expect(Math.abs(img.data[4 * i] - 200)).toBeLessThanOrEqual(3);
      expect(Math.abs(img.data[4 * i + 1] - 50)).toBeLessThanOrEqual(3);
      expect(Math.abs(img.data[4 * i + 2] - 10)).toBeLessThanOrEqual(3);
      expect(img.data[4 * i + 3]).toBe(255);
    }
  });

  it('sniffs by magic bytes, not by name', () => {
    const png = encodePNG(new Uint8Array(4).fill(9), 1, 1);
    expect(decodeImage(png, 'really-a-png.jpg').width).toBe(1);
  });

  it('rejects other formats, empty, truncated and corrupt data with InputError naming the file', () => {
    const gif = new TextEncoder().encode('GIF89a\x01\x00\x01\x00');
    let e = inputError(() => decodeImage(gif, 'cat.gif'));
    expect(e.message).toMatch(/^cat\.gif: GIF is not supported; expected a PNG or JPEG/);
    expect(e.code).toBe('E_IMAGE');
    expect(inputError(() => decodeImage(new TextEncoder().encode('BM......'), 'x.bmp')).message).toMatch(/BMP/);
    expect(inputError(() => decodeImage(new Uint8Array(0), 'empty.png')).message).toMatch(/^empty\.png: an empty file/);
    expect(inputError(() => decodeImage(new Uint8Array([1, 2, 3, 4, 5]), 'junk')).message).toMatch(
      /^junk: unrecognised image format/,
    );

    const src = new Uint8Array(8 * 8 * 4).fill(128);
    const jpg = new Uint8Array(jpeg.encode({ width: 8, height: 8, data: src }, 90).data);
    expect(inputError(() => decodeImage(jpg.subarray(0, jpg.length >> 1), 'half.jpg')).message).toMatch(
      /^half\.jpg: corrupt or unsupported JPEG/,
    );
    const garbage = new Uint8Array(64).fill(0x11);
    garbage.set([0xff, 0xd8, 0xff]);
    expect(inputError(() => decodeImage(garbage, 'g.jpg')).message).toMatch(/^g\.jpg: corrupt/);

    const png = encodePNG(new Uint8Array(16 * 4).fill(3), 4, 4);
    expect(inputError(() => decodeImage(png.subarray(0, png.length - 16), 'cut.png')).message).toMatch(
      /^cut\.png: corrupt or unsupported PNG/,
    );
  });
});

describe('resampleWeights', () => {
  it('weights sum to 1 and stay in range', () => {
    for (const [a, b] of [
      [10, 3],
      [3, 10],
      [5, 5],
      [7, 2],
      [100, 28],
      [1, 4],
      [4, 1],
    ]) {
      const t = resampleWeights(a, b);
      for (let o = 0; o < b; o++) {
        let s = 0;
        for (let k = t.start[o]; k < t.start[o + 1]; k++) {
          expect(t.idx[k]).toBeGreaterThanOrEqual(0);
          expect(t.idx[k]).toBeLessThan(a);
          s += t.w[k];
        }
        expect(s).toBeCloseTo(1, 12);
      }
    }
  });
});

describe('imageToTensor', () => {
  const base = { channels: 1 as const, range: [0, 255] as [number, number], layout: 'NCHW' as const };

  it('keeps a same-size gray image (byte range) unchanged', () => {
    const img = grayImage(3, 2, [0, 10, 20, 30, 40, 255]);
    close(imageToTensor(img, { ...base, width: 3, height: 2 }), [0, 10, 20, 30, 40, 255]);
  });

  it('gray = 0.299 R + 0.587 G + 0.114 B', () => {
    const img = rgbImage(3, 1, [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
    ]);
    close(imageToTensor(img, { ...base, width: 3, height: 1, range: [0, 1] }), [0.299, 0.587, 0.114]);
  });

  it('upsamples 2×2 → 4×4 bilinearly with pixel centres aligned', () => {
    // source rows [0, 100], [100, 200]; sample positions per axis: 0 (clamped), 0.25, 0.75, 1 (clamped)
    const img = grayImage(2, 2, [0, 100, 100, 200]);
    close(imageToTensor(img, { ...base, width: 4, height: 4 }), [
      0, 25, 75, 100, 25, 50, 100, 125, 75, 100, 150, 175, 100, 125, 175, 200,
    ]);
  });

  it('downsamples 2× bilinearly (pairs), and >2× by area averaging', () => {
    // 4 → 2: positions 0.5 and 2.5 → (0 + 10)/2, (20 + 30)/2
    close(imageToTensor(grayImage(4, 1, [0, 10, 20, 30]), { ...base, width: 2, height: 1 }), [5, 25]);
    // 6 → 2 (3×): mean of each triple
    close(imageToTensor(grayImage(6, 1, [0, 10, 20, 30, 40, 50]), { ...base, width: 2, height: 1 }), [10, 40]);
    // 7 → 2 (3.5×): [0, 3.5) = 0 + 10 + 20 + ½·30 over 3.5; [3.5, 7) = ½·30 + 40 + 50 + 60 over 3.5
    close(imageToTensor(grayImage(7, 1, [0, 10, 20, 30, 40, 50, 60]), { ...base, width: 2, height: 1 }), [
      45 / 3.5,
      165 / 3.5,
    ]);
    // 2-D: 6×6 → 2×2 averages 3×3 blocks; a single 90 in the top-left block gives 10
    const v = new Array(36).fill(0);
    v[7] = 90; // row 1, col 1
    v[35] = 255; // bottom-right
    close(imageToTensor(grayImage(6, 6, v), { ...base, width: 2, height: 2 }), [10, 0, 0, 255 / 9]);
    // vertical 1 → 3 (repeat) and horizontal 3 → 1 (scale 3: area) at once
    close(imageToTensor(grayImage(3, 1, [30, 60, 90]), { ...base, width: 1, height: 3 }), [60, 60, 60]);
  });

  it('scales bytes to [lo, hi] and applies mean/std per channel', () => {
    const img = grayImage(3, 1, [0, 51, 255]);
    close(imageToTensor(img, { ...base, width: 3, height: 1, range: [-1, 1] }), [-1, -0.6, 1]);
    close(imageToTensor(img, { ...base, width: 3, height: 1, range: [1, 0] }), [1, 0.8, 0]);
    close(imageToTensor(img, { ...base, width: 3, height: 1, range: [0, 1], mean: [0.1307], std: [0.3081] }), [
      (0 - 0.1307) / 0.3081,
      (0.2 - 0.1307) / 0.3081,
      (1 - 0.1307) / 0.3081,
    ]);
    const rgb = rgbImage(1, 1, [[255, 0, 51]]);
    const t = imageToTensor(rgb, {
      channels: 3,
      width: 1,
      height: 1,
      range: [0, 1],
      mean: [0.5, 0.25, 0],
      std: [0.5, 0.25, 2],
      layout: 'NCHW',
    });
    // R (1 − 0.5)/0.5 = 1; G (0 − 0.25)/0.25 = −1; B (0.2 − 0)/2 = 0.1
    close(t, [1, -1, 0.1]);
  });

  it('writes NCHW and NHWC layouts, and repeats gray into 3 channels', () => {
    const img = rgbImage(2, 1, [
      [10, 20, 30],
      [40, 50, 60],
    ]);
    const o = { channels: 3 as const, width: 2, height: 1, range: [0, 255] as [number, number] };
    close(imageToTensor(img, { ...o, layout: 'NCHW' }), [10, 40, 20, 50, 30, 60]);
    close(imageToTensor(img, { ...o, layout: 'NHWC' }), [10, 20, 30, 40, 50, 60]);
    const g = grayImage(2, 1, [7, 9]);
    close(imageToTensor(g, { ...o, layout: 'NCHW' }), [7, 9, 7, 9, 7, 9]);
  });

  it('ignores alpha unless a background is given', () => {
    const img = rgbImage(2, 1, [
      [0, 0, 0, 0],
      [100, 100, 100, 51],
    ]);
    close(imageToTensor(img, { ...base, width: 2, height: 1 }), [0, 100]);
    // over white: 0·0 + 255·1 = 255; 100·0.2 + 255·0.8 = 224
    close(imageToTensor(img, { ...base, width: 2, height: 1, background: 255 }), [255, 224]);
    close(imageToTensor(img, { ...base, width: 2, height: 1, background: [0, 0, 0] }), [0, 20]);
  });

  it('works end to end on PNG bytes: 28×28 MNIST-style input from a 56×56 PNG', () => {
    const w = 56;
    const rgba = new Uint8Array(w * w * 4);
    for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) rgba.set(x < 28 ? [255, 255, 255, 255] : [0, 0, 0, 255], 4 * (y * w + x));
    const t = imageToTensor(decodeImage(encodePNG(rgba, w, w), 'digit.png'), { ...base, width: 28, height: 28, range: [0, 1] });
    expect(t.length).toBe(784);
    expect(t[0]).toBeCloseTo(1, 6);
    expect(t[13]).toBeCloseTo(1, 6);
    expect(t[14]).toBeCloseTo(0, 6);
    expect(t[783]).toBeCloseTo(0, 6);
  });

  it('rejects bad options and malformed images', () => {
    const img = grayImage(2, 2, [0, 0, 0, 0]);
    const o = { ...base, width: 2, height: 2 };
    expect(inputError(() => imageToTensor(img, { ...o, channels: 2 as 1 })).message).toMatch(/channels must be 1 or 3/);
    expect(inputError(() => imageToTensor(img, { ...o, width: 0 })).message).toMatch(/width and height/);
    expect(inputError(() => imageToTensor(img, { ...o, range: [1, 1] })).message).toMatch(/range/);
    expect(inputError(() => imageToTensor(img, { ...o, range: [0, Number.NaN] })).message).toMatch(/range/);
    expect(inputError(() => imageToTensor(img, { ...o, layout: 'CHW' as 'NCHW' })).message).toMatch(/layout/);
    expect(inputError(() => imageToTensor(img, { ...o, std: [0] })).message).toMatch(/std must not contain 0/);
    expect(
      inputError(() => imageToTensor(img, { ...o, channels: 3, mean: [0.5, 0.5] })).message,
    ).toMatch(/mean must be 1 or 3 finite numbers/);
    expect(inputError(() => imageToTensor(img, { ...o, background: 300 })).message).toMatch(/background/);
    expect(
      inputError(() => imageToTensor({ width: 2, height: 2, data: new Uint8Array(12) }, o)).message,
    ).toMatch(/12 bytes, expected 2·2·4 = 16/);
    expect(inputError(() => imageToTensor({ width: 0, height: 2, data: new Uint8Array(0) }, o)).message).toMatch(
      /positive integer/,
    );
  });
});
