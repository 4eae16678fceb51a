// model.explainImage in Node: every kind of image gives the same model input and relevance as the
// command line's pipeline (decode → gray → [0, 1] → explain), fitting and conversion say what they
// did, the drawn images are what the heatmap functions give, and pixel mistakes are typed errors.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, imageToTensor } from '../../src/io/index.js';
import { heatmap, InputError, loadModel, relevanceOverlay, type Model } from '../../src/index.js';
import { expectClose, modelDir } from '../helpers/fixtures.js';

const DIR = join(import.meta.dirname, '..', '..', 'models', 'fashion-mnist');
const png = (name: string) => new Uint8Array(readFileSync(join(DIR, 'samples', name)));
const BOOT = '0000_ankle_boot.png';
const OPTS = { composite: 'epsilon-gamma-box' } as const;

describe('explainImage on the Fashion-MNIST model', () => {
  let model: Model;
  let want: ReturnType<Model['explain']>;
  let x: Float32Array;
  beforeAll(async () => {
    model = await loadModel(join(DIR, 'tfjs', 'model.json'), { metadata: join(DIR, 'metadata.json') });
    x = imageToTensor(decodeImage(png(BOOT)), { channels: 1, width: 28, height: 28, range: [0, 1], layout: 'NHWC' });
    want = model.explain(x, { ...OPTS, low: 0, high: 1 });
  });
  afterAll(() => model.dispose());

  it('PNG bytes: the command line pipeline, with class names, probabilities and drawn images', async () => {
    const r = await model.explainImage(png(BOOT), OPTS);
    // byte images convert exactly as imageToTensor (and so the command line) does
    expect(r.input).toEqual(x);
    expect(r.relevance).toEqual(want.relevance);
    expect(r.target).toBe(9);
    expect(r.predicted).toBe(9);
    expect(r.targetName).toBe('Ankle boot');
    expect(r.classNames).toHaveLength(10);
    expect(r.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(r.probabilities[9]).toBeGreaterThan(0.5);
    expect(r.sums.start).toBeCloseTo(want.sums.start[0], 4);
    expect(Array.from(r.heatmap.data)).toEqual(Array.from(heatmap(r.relevance, { width: 28, height: 28 })));
    expect([r.heatmap.width, r.heatmap.height, r.heatmap.colorSpace]).toEqual([28, 28, 'srgb']);
    const gray = decodeImage(png(BOOT)).data;
    for (let p = 0; p < 784; p++) expect(r.image.data[4 * p], `pixel ${p}`).toBe(gray[4 * p]);
    expect(Array.from(r.overlay.data)).toEqual(Array.from(relevanceOverlay(r.relevance, r.image.data, { width: 28, height: 28 })));
    expect(r.preprocessing.notes).toEqual([]);
    expect(r.preprocessing).toMatchObject({ fit: 'stretch', resized: false, stretched: false, conversion: 'none', inputRange: [0, 1] });
  });

  it('ImageData, raw arrays (bytes, floats), tf tensors (int32, float32) give the same input', async () => {
    const rgba = decodeImage(png(BOOT)).data;
    const gray = new Uint8Array(784).map((_, p) => rgba[4 * p]);
    const sources: Array<[string, Parameters<Model['explainImage']>[0], object?]> = [
      ['ImageData', { data: new Uint8ClampedArray(rgba), width: 28, height: 28, colorSpace: 'srgb' }],
      ['gray bytes', { data: gray, width: 28, height: 28, channels: 1 }],
      ['floats 0..1', { data: Float32Array.from(gray, (v) => v / 255), width: 28, height: 28, channels: 1 }],
      ['floats 0..255 with pixelRange', { data: Float32Array.from(gray), width: 28, height: 28, channels: 1 }, { pixelRange: [0, 255] }],
      ['tf int32 [H, W, C]', tf.tensor3d(Array.from(gray), [28, 28, 1], 'int32')],
      ['tf float32 [1, H, W, C]', tf.tensor4d(Array.from(gray, (v) => v / 255), [1, 28, 28, 1], 'float32')],
    ];
    for (const [name, img, extra] of sources) {
      const r = await model.explainImage(img, { ...OPTS, ...extra });
      expectClose(r.input, x, 1, 1e-6, name);
      expectClose(r.relevance, want.relevance, 1, 1e-5, name);
    }
  });

  it('pixel mistakes are typed errors', async () => {
    const gray = Float32Array.from({ length: 784 }, (_, i) => i % 256);
    await expect(model.explainImage({ data: gray, width: 28, height: 28, channels: 1 })).rejects.toMatchObject({ code: 'E_PIXEL_RANGE', message: expect.stringMatching(/pixelRange: \[0, 255\]/) });
    await expect(model.explainImage({ data: new Uint8Array(10), width: 28, height: 28, channels: 1 })).rejects.toMatchObject({ code: 'E_IMAGE', message: expect.stringMatching(/10 values, expected .* 784/) });
    await expect(model.explainImage(tf.zeros([2, 28, 28, 1]))).rejects.toThrow(/one image/);
    await expect(model.explainImage(new Float32Array(784) as never)).rejects.toThrow(/bare Float32Array/);
    await expect(model.explainImage(new Uint8Array([1, 2, 3, 4]))).rejects.toMatchObject({ code: 'E_IMAGE', message: expect.stringMatching(/PNG or JPEG/) });
    await expect(model.explainImage(png(BOOT), { fit: 'squash' as never })).rejects.toThrow(InputError);
  });

  it('fits other sizes by stretch, center-crop or pad, and says so', async () => {
    // two samples side by side: 56 × 28
    const a = decodeImage(png(BOOT));
    const b = decodeImage(png('0002_trouser.png'));
    const wide = new Uint8Array(56 * 28 * 4);
    for (let y = 0; y < 28; y++) {
      wide.set(a.data.subarray(y * 112, (y + 1) * 112), y * 224);
      wide.set(b.data.subarray(y * 112, (y + 1) * 112), y * 224 + 112);
    }
    const img = { data: wide, width: 56, height: 28, channels: 4 as const };
    const stretch = await model.explainImage(img, OPTS);
    expect(stretch.preprocessing).toMatchObject({ resized: true, stretched: true, crop: { x: 0, y: 0, width: 56, height: 28 } });
    expect(stretch.preprocessing.notes).toEqual(['resized 56×28 → 28×28, stretched (aspect 2 → 1)']);
    const crop = await model.explainImage(img, { ...OPTS, fit: 'center-crop' });
    expect(crop.preprocessing.crop).toEqual({ x: 14, y: 0, width: 28, height: 28 });
    expect(crop.preprocessing.notes).toEqual(['center-cropped 56×28 → 28×28 (x 14, y 0)']);
    expect(crop.preprocessing.resized).toBe(false);
    const pad = await model.explainImage(img, { ...OPTS, fit: 'pad' });
    expect(pad.preprocessing.placed).toEqual({ x: 0, y: 7, width: 28, height: 14 });
    expect(pad.preprocessing.notes).toEqual(['resized 56×28 → 28×14', 'padded to 28×28 (bands of gray 0)']);
    for (let p = 0; p < 28 * 7; p++) expect(pad.input[p]).toBe(0);
  });

  it('converts colour to gray and says so; translucent pixels are noted or composited', async () => {
    const rgba = new Uint8Array(28 * 28 * 4);
    for (let p = 0; p < 784; p++) rgba.set([200, 100, 0, p < 392 ? 255 : 0], 4 * p);
    const r = await model.explainImage({ data: rgba, width: 28, height: 28, channels: 4 }, OPTS);
    expect(r.preprocessing.conversion).toBe('rgb-to-gray');
    expect(r.preprocessing.notes).toContain('converted RGB to gray (0.299 R + 0.587 G + 0.114 B)');
    expect(r.preprocessing.notes.some((n) => n.startsWith('ignored transparency'))).toBe(true);
    expect(r.input[0]).toBeCloseTo((0.299 * 200 + 0.587 * 100) / 255, 6);
    const onWhite = await model.explainImage({ data: rgba, width: 28, height: 28, channels: 4 }, { ...OPTS, background: 255 });
    expect(onWhite.input[783]).toBeCloseTo(1, 6);
    expect(onWhite.input[0]).toBeCloseTo(r.input[0], 6);
  });

  it('overlay: the image where R = 0, mostly heatmap at the largest |R|', async () => {
    const r = await model.explainImage(png(BOOT), { ...OPTS, overlayAlpha: 0.5 });
    let top = 0;
    for (let p = 0; p < 784; p++) if (Math.abs(r.relevance[p]) > Math.abs(r.relevance[top])) top = p;
    for (let c = 0; c < 3; c++) expect(r.overlay.data[4 * top + c]).toBe(Math.round(0.5 * r.heatmap.data[4 * top + c] + 0.5 * r.image.data[4 * top + c]));
    const zero = r.relevance.findIndex((v) => v === 0);
    expect(zero).toBeGreaterThanOrEqual(0);
    for (let c = 0; c < 3; c++) expect(r.overlay.data[4 * zero + c]).toBe(r.image.data[4 * zero + c]);
  });
});

describe('explain() catches pixel inputs', () => {
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(join(DIR, 'tfjs', 'model.json'));
  });
  afterAll(() => model.dispose());

  it('RGBA bytes of one image are E_PIXELS, not 4 samples', () => {
    const rgba = new Uint8ClampedArray(28 * 28 * 4);
    expect(() => model.explain(rgba as never)).toThrow(expect.objectContaining({ code: 'E_PIXELS', message: expect.stringMatching(/explainImage/) }));
    expect(() => model.explain(new Uint8Array(28 * 28 * 4))).toThrow(expect.objectContaining({ code: 'E_PIXELS' }));
    expect(() => model.predict({ data: rgba, width: 28, height: 28 } as never)).toThrow(expect.objectContaining({ code: 'E_PIXELS' }));
  });

  it('0..255 values: an error against a declared range, a warning (once) without one', async () => {
    const bytes = Float32Array.from({ length: 784 }, (_, i) => i % 256);
    const ranged = await loadModel(join(DIR, 'tfjs', 'model.json'), { metadata: { inputRange: [0, 1] } });
    try {
      expect(() => ranged.explain(bytes)).toThrow(expect.objectContaining({ code: 'E_INPUT_RANGE', message: expect.stringMatching(/value 3 at sample 0, index 3 .*\[0, 1\] \(from metadata\).*0\.\.255/) }));
      expect(() => ranged.predict(bytes)).toThrow(expect.objectContaining({ code: 'E_INPUT_RANGE' }));
      expect(() => ranged.explain(bytes, { checkRange: false })).not.toThrow();
      // one range width beyond either end passes (augmented data)
      expect(() => ranged.explain(new Float32Array(784).fill(-0.9))).not.toThrow();
    } finally {
      ranged.dispose();
    }
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (m: string) => warnings.push(m);
    try {
      model.explain(bytes);
      model.explain(bytes);
      model.explain(Float32Array.from(bytes, (v) => v / 255));
    } finally {
      console.warn = original;
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/model 'fashion-mnist' got whole-number inputs up to 255/);
  });

  it('the model file declares the range of lrp models: 0..255 is an error there', async () => {
    const m = await loadModel(join(modelDir('cnn'), 'model.json'));
    try {
      expect(() => m.explain(new Float32Array(784).fill(255))).toThrow(expect.objectContaining({ code: 'E_INPUT_RANGE', message: expect.stringMatching(/from the model file/) }));
    } finally {
      m.dispose();
    }
  });
});

describe('warmup and colour models', () => {
  it('warmup(batch) prepares a batch size; results are unchanged', async () => {
    const m = await loadModel(join(modelDir('cnn'), 'model.json'));
    try {
      const x = new Float32Array(4 * 784).map((_, i) => (i % 97) / 97);
      const before = m.explain(x, { composite: 'epsilon-gamma-box' });
      m.warmup(4, { composite: 'epsilon-gamma-box' });
      expect(m.explain(x, { composite: 'epsilon-gamma-box' }).relevance).toEqual(before.relevance);
      expect(() => m.warmup(0)).toThrow(InputError);
    } finally {
      m.dispose();
    }
  });

  it('an RGB model in [-1, 1] gets gray images repeated to RGB and scaled to its range', async () => {
    const m = await loadModel(join(modelDir('cnn_strided'), 'model.json'));
    try {
      const gray = new Uint8Array(32 * 32).map((_, i) => (i * 7) % 256);
      const r = await m.explainImage({ data: gray, width: 32, height: 32, channels: 1 });
      expect(r.preprocessing.conversion).toBe('gray-to-rgb');
      expect(r.preprocessing.inputRange).toEqual([-1, 1]);
      for (const c of [0, 1, 2]) expect(r.input[c * 1024 + 5]).toBeCloseTo(-1 + (2 * gray[5]) / 255, 6);
      const direct = m.explain(r.input, { low: -1, high: 1 });
      expect(r.relevance).toEqual(direct.relevance);
    } finally {
      m.dispose();
    }
  });
});
