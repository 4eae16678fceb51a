import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  chwToRGBA,
  grayToRGBA,
  heatmap,
  normalizeRelevance,
  overlay,
  reduceRelevance,
} from '../../src/heatmap/heatmap.js';

/** RGBA bytes → list of [r, g, b] with a check that alpha is 255. */
function pixels(rgba: Uint8ClampedArray): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < rgba.length; i += 4) {
    expect(rgba[i + 3]).toBe(255);
    out.push([rgba[i], rgba[i + 1], rgba[i + 2]]);
  }
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

const R4 = [-1, 0, 0.5, 1];

describe('heatmap', () => {
  it('bwr symmetric: blue, white, light red, red', () => {
    const rgba = heatmap(R4, { width: 2, height: 2 });
    expect(rgba).toBeInstanceOf(Uint8ClampedArray);
    expect(rgba.length).toBe(16);
    // t = 0.5 + 0.5·R → k = round(255·t) = 0, 128, 191, 255
    // bwr nodes 0 blue, 128 white, 255 red; k = 191: α = 63/127, g = b = 255·64/127 = 128.50 → 128
    expect(pixels(rgba)).toEqual([
      [0, 0, 255],
      [255, 255, 255],
      [255, 128, 128],
      [255, 0, 0],
    ]);
  });

  it("quantize 'floor' reproduces Zennit's imgify (0 → index 127)", () => {
    // k = 0, 127, 191, 255; k = 127: α = 127/128 → r = g = 253.0 → 253
    expect(pixels(heatmap(R4, { width: 2, height: 2, quantize: 'floor' }))).toEqual([
      [0, 0, 255],
      [253, 253, 255],
      [255, 128, 128],
      [255, 0, 0],
    ]);
  });

  it('scales by max|R| (only relative values matter)', () => {
    const a = heatmap(R4.map((v) => v * 1e-7), { width: 2, height: 2 });
    expect(a).toEqual(heatmap(R4, { width: 2, height: 2 }));
    // max|R| = 4 → t = 0.5 + 0.5·[-0.25, 0.125] → k = round(95.625) = 96, round(143.4375) = 143
    // k = 96: α = 96/128 = 0.75 → 191.25 → 191; k = 143: α = 15/127 → g = 255·112/127 = 224.88 → 224
    expect(pixels(heatmap([-1, 0.5, 4, -4], { width: 4, height: 1 })).slice(0, 2)).toEqual([
      [191, 191, 255],
      [255, 224, 224],
    ]);
  });

  it('absolute and unaligned normalisation with gray', () => {
    // |R| / 1 = 1, 0, 0.5, 1 → k = 255, 0, round(127.5) = 128, 255; gray palette entry k is k
    expect(pixels(heatmap(R4, { width: 2, height: 2, cmap: 'gray', normalize: 'absolute' }))).toEqual([
      [255, 255, 255],
      [0, 0, 0],
      [128, 128, 128],
      [255, 255, 255],
    ]);
    // (R + 1) / 2 = 0, 0.5, 0.75, 1 → k = 0, 128, 191, 255
    expect(pixels(heatmap(R4, { width: 2, height: 2, cmap: 'gray', normalize: 'unaligned' }))).toEqual([
      [0, 0, 0],
      [128, 128, 128],
      [191, 191, 191],
      [255, 255, 255],
    ]);
    // unaligned of [2, 3, 4, 6]: (R − 2)/4 = 0, 0.25, 0.5, 1 → k = 0, 64 (63.75), 128, 255
    expect(
      pixels(heatmap([2, 3, 4, 6], { width: 2, height: 2, cmap: 'gray', normalize: 'unaligned' })).map((p) => p[0]),
    ).toEqual([0, 64, 128, 255]);
  });

  it('coldnhot and hot by hand', () => {
    // k = 0, 128, 191, 255: cyan, black, between red@170 and yellow@212 (α = 0.5 → g = 127), white
    expect(pixels(heatmap(R4, { width: 2, height: 2, cmap: 'coldnhot' }))).toEqual([
      [0, 255, 255],
      [0, 0, 0],
      [255, 127, 0],
      [255, 255, 255],
    ]);
    // hot: nodes 0 black, 85 red, 170 yellow, 255 white; absolute → k = 255, 0, 128, 255
    // k = 128: α = (128 − 85)/85 → g = 255·43/85 = 129.0 → 129
    expect(pixels(heatmap(R4, { width: 2, height: 2, cmap: 'hot', normalize: 'absolute' }))).toEqual([
      [255, 255, 255],
      [0, 0, 0],
      [255, 129, 0],
      [255, 255, 255],
    ]);
    // seismic centre is #d0d0d0
    expect(pixels(heatmap([0, 1], { width: 2, height: 1, cmap: 'seismic' }))[0]).toEqual([208, 208, 208]);
  });

  it('level > 1 saturates earlier, around the centre', () => {
    // 'round': t' = 0.5 + 2·(t − 0.5) = 0, 0.5, 1, 1 (clipped) → blue, white, red, red
    expect(pixels(heatmap(R4, { width: 2, height: 2, level: 2 }))).toEqual([
      [0, 0, 255],
      [255, 255, 255],
      [255, 0, 0],
      [255, 0, 0],
    ]);
    // level 0.5: t' = 0.25, 0.5, 0.625, 0.75 → k = 64 (63.75), 128 (127.5), 159 (159.375), 191 (191.25)
    // k = 64: α = 0.5 → 127.5 → 127; k = 159: α = 31/127 → g = 255·96/127 = 192.76 → 192
    expect(pixels(heatmap(R4, { width: 2, height: 2, level: 0.5 }))).toEqual([
      [127, 127, 255],
      [255, 255, 255],
      [255, 192, 192],
      [255, 128, 128],
    ]);
    // 'floor' uses Zennit's palette(2): entry 191 is at x = (191·2/255 − 1)·2 = 0.99608 →
    // t = 0.99804 → 254.5 on the index scale → α = 126.5/127 → g = b = 255·0.5/127 = 1.004 → 1;
    // entry 127 is at t = 0.5 − 2·(0.5/255) → 126.5 → α = 126.5/128 → 252.0 → 252
    const z = pixels(heatmap(R4, { width: 2, height: 2, level: 2, quantize: 'floor' }));
    expect(z).toEqual([
      [0, 0, 255],
      [252, 252, 255],
      [255, 1, 1],
      [255, 0, 0],
    ]);
    // level 0: everything is the centre colour
    expect(pixels(heatmap(R4, { width: 2, height: 2, level: 0 }))).toEqual(Array(4).fill([255, 255, 255]));
  });

  it('all-zero and constant maps never give NaN', () => {
    const z = [0, 0, 0, 0];
    expect(pixels(heatmap(z, { width: 2, height: 2 }))).toEqual(Array(4).fill([255, 255, 255]));
    expect(pixels(heatmap(z, { width: 2, height: 2, cmap: 'gray', normalize: 'absolute' }))).toEqual(
      Array(4).fill([0, 0, 0]),
    );
    expect(pixels(heatmap([5, 5, 5, 5], { width: 2, height: 2, cmap: 'gray', normalize: 'unaligned' }))).toEqual(
      Array(4).fill([0, 0, 0]),
    );
    expect([...normalizeRelevance([0, 0], 'symmetric')]).toEqual([0.5, 0.5]);
    expect([...normalizeRelevance([-0, 0], 'absolute')]).toEqual([0, 0]);
    expect([...normalizeRelevance([3, 3], 'unaligned')]).toEqual([0, 0]);
  });

  it('reduces channels in CHW and HWC layouts', () => {
    // CHW, 2 channels, 2×1 pixels: planes [1, -1] and [2, 3]
    expect([...reduceRelevance([1, -1, 2, 3], { width: 2, height: 1, channels: 2 })]).toEqual([3, 2]);
    expect([...reduceRelevance([1, -1, 2, 3], { width: 2, height: 1, channels: 2, reduce: 'abs-sum' })]).toEqual([
      3, 4,
    ]);
    // HWC: pixel 0 = (1, -1), pixel 1 = (2, 3)
    expect([...reduceRelevance([1, -1, 2, 3], { width: 2, height: 1, channels: 2, layout: 'HWC' })]).toEqual([0, 5]);
    expect(
      [...reduceRelevance([1, -1, 2, 3], { width: 2, height: 1, channels: 2, layout: 'HWC', reduce: 'abs-sum' })],
    ).toEqual([2, 5]);
    // through heatmap: CHW sums [3, 2] → unaligned gray → 255, 0
    expect(
      pixels(heatmap(new Float32Array([1, -1, 2, 3]), { width: 2, height: 1, channels: 2, cmap: 'gray', normalize: 'unaligned' })),
    ).toEqual([
      [255, 255, 255],
      [0, 0, 0],
    ]);
    // 3 channels CHW 1×2 (height 2): sums [1+1+1, -1-1-1] → red, blue
    expect(pixels(heatmap([1, -1, 1, -1, 1, -1], { width: 1, height: 2, channels: 3 }))).toEqual([
      [255, 0, 0],
      [0, 0, 255],
    ]);
  });

  it('rejects bad inputs with InputError naming the problem', () => {
    expect(inputError(() => heatmap([1, 2, 3], { width: 2, height: 2 })).message).toMatch(/3 values.*2·2·1 = 4/);
    expect(inputError(() => heatmap(new Float32Array(12), { width: 2, height: 2 })).message).toMatch(/channels: 3/);
    expect(inputError(() => heatmap([1, Number.NaN, 0, 0], { width: 2, height: 2 })).message).toMatch(
      /relevance\[1\] is NaN/,
    );
    expect(inputError(() => heatmap([1, 0, Infinity, 0], { width: 2, height: 2 })).message).toMatch(/Infinity/);
    const e = inputError(() => heatmap(R4, { width: 2, height: 2, cmap: 'jet' }));
    expect(e.code).toBe('E_CMAP');
    expect(e.message).toMatch(/jet/);
    expect(inputError(() => heatmap(R4, { width: 0, height: 2 })).message).toMatch(/width and height/);
    expect(inputError(() => heatmap(R4, { width: 2.5, height: 2 })).message).toMatch(/width and height/);
    expect(inputError(() => heatmap(R4, { width: 2, height: 2, channels: 0 })).message).toMatch(/channels/);
    expect(
      inputError(() => heatmap(R4, { width: 2, height: 2, normalize: 'minmax' as 'symmetric' })).message,
    ).toMatch(/normalize/);
    expect(inputError(() => heatmap(R4, { width: 2, height: 2, reduce: 'max' as 'sum' })).message).toMatch(/reduce/);
    expect(inputError(() => heatmap(R4, { width: 2, height: 2, layout: 'WHC' as 'CHW' })).message).toMatch(/layout/);
    expect(inputError(() => heatmap(R4, { width: 2, height: 2, level: -1 })).message).toMatch(/level/);
    expect(inputError(() => heatmap(R4, { width: 2, height: 2, level: Number.NaN })).message).toMatch(/level/);
    expect(inputError(() => heatmap(R4, { width: 2, height: 2, quantize: 'ceil' as 'round' })).message).toMatch(
      /quantize/,
    );
    expect(inputError(() => heatmap(null as unknown as number[], { width: 2, height: 2 })).message).toMatch(
      /relevance/,
    );
  });
});

describe('overlay', () => {
  it('blends RGB with alpha and sets alpha to 255', () => {
    const heat = new Uint8ClampedArray([255, 0, 0, 255, 200, 100, 0, 255]);
    const img = new Uint8ClampedArray([0, 0, 255, 0, 100, 100, 100, 7]);
    // 0.5: (127.5 → 128, 0, 127.5 → 128); (150, 100, 50)
    expect([...overlay(heat, img, 2, 1)]).toEqual([128, 0, 128, 255, 150, 100, 50, 255]);
    // 0.25·200 + 0.75·100 = 125
    expect(overlay(heat, img, 2, 1, 0.25)[4]).toBe(125);
    expect([...overlay(heat, img, 2, 1, 1)]).toEqual([255, 0, 0, 255, 200, 100, 0, 255]);
    expect([...overlay(heat, img, 2, 1, 0)]).toEqual([0, 0, 255, 255, 100, 100, 100, 255]);
  });

  it('rejects mismatched sizes and bad alpha', () => {
    const a = new Uint8ClampedArray(8);
    expect(inputError(() => overlay(a, new Uint8ClampedArray(4), 2, 1)).message).toMatch(/image has 4 bytes/);
    expect(inputError(() => overlay(new Uint8ClampedArray(4), a, 2, 1)).message).toMatch(/heat has 4 bytes/);
    expect(inputError(() => overlay(a, a, 2, 1, 1.5)).message).toMatch(/alpha/);
    expect(inputError(() => overlay(a, a, 2, 1, Number.NaN)).message).toMatch(/alpha/);
  });
});

describe('chwToRGBA / grayToRGBA', () => {
  it('maps the model range to bytes, planar RGB', () => {
    // planes R [-1, 1], G [0, 0.5], B [1, -1] in range [-1, 1]
    const rgba = chwToRGBA([-1, 1, 0, 0.5, 1, -1], 3, 2, 1, [-1, 1]);
    // (x + 1)/2·255: G 127.5 → 128, 0.75·255 = 191.25 → 191
    expect([...rgba]).toEqual([0, 128, 255, 255, 255, 191, 0, 255]);
  });

  it('clips outside the range and repeats gray', () => {
    expect([...grayToRGBA([2, -1, 0.5], 3, 1, [0, 1])]).toEqual([
      255, 255, 255, 255, 0, 0, 0, 255, 128, 128, 128, 255,
    ]);
  });

  it('uses the data range by default', () => {
    // [2, 4, 6] → 0, 127.5 → 128, 255
    expect([...grayToRGBA([2, 4, 6], 3, 1)].filter((_, i) => i % 4 === 0)).toEqual([0, 128, 255]);
    expect([...grayToRGBA([3, 3], 2, 1)].filter((_, i) => i % 4 === 0)).toEqual([0, 0]);
  });

  it('rejects bad inputs', () => {
    expect(inputError(() => chwToRGBA([1, 2], 2, 1, 1)).message).toMatch(/channels must be 1 or 3/);
    expect(inputError(() => chwToRGBA([1, 2], 3, 1, 1)).message).toMatch(/2 values, expected 3·1·1 = 3/);
    expect(inputError(() => grayToRGBA([1, Number.NaN], 2, 1)).message).toMatch(/pixels\[1\] is NaN/);
    expect(inputError(() => grayToRGBA([1, 2], 2, 1, [1, 1])).message).toMatch(/range/);
  });
});
