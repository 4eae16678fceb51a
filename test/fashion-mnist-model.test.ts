// The bundled, really trained Fashion-MNIST CNN: its TF.js and ONNX files load, agree with each
// other, classify the committed samples as the trainer recorded, and the relevance sits on the garment.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, imageToTensor } from '../src/io/index.js';
import { loadModel, type Model } from '../src/index.js';

const dir = join(import.meta.dirname, '..', 'models', 'fashion-mnist');
const labels = JSON.parse(readFileSync(join(dir, 'samples', 'labels.json'), 'utf8')) as Array<{ file: string; label: number; predicted: number }>;

function samples(layout: 'NCHW' | 'NHWC'): Float32Array {
  const x = new Float32Array(labels.length * 784);
  labels.forEach((s, i) => {
    const img = decodeImage(readFileSync(join(dir, 'samples', s.file)), s.file);
    x.set(imageToTensor(img, { channels: 1, height: 28, width: 28, range: [0, 1], layout }), i * 784);
  });
  return x;
}

describe('bundled Fashion-MNIST model', () => {
  let tfjs: Model;
  let onnx: Model;
  beforeAll(async () => {
    tfjs = await loadModel(join(dir, 'tfjs', 'model.json'));
    onnx = await loadModel(join(dir, 'model.onnx'));
  });
  afterAll(() => {
    tfjs.dispose();
    onnx.dispose();
  });

  it('classifies the committed samples as recorded (the trainer measured 91.03% on the 10k test set)', () => {
    expect(tfjs.inputLayout).toBe('NHWC');
    const logits = tfjs.predict(samples('NHWC'));
    let correct = 0;
    labels.forEach((s, i) => {
      const row = Array.from(logits.subarray(i * 10, (i + 1) * 10));
      const argmax = row.indexOf(Math.max(...row));
      expect(argmax, s.file).toBe(s.predicted);
      if (argmax === s.label) correct++;
    });
    expect(correct).toBeGreaterThanOrEqual(14);
  });

  it('the ONNX twin gives the same logits (its softmax removed) and the same relevance', () => {
    const a = tfjs.predict(samples('NHWC'));
    const b = onnx.predict(samples('NCHW'));
    const diff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    expect(diff).toBeLessThan(1e-4);
    expect(onnx.describe()).toMatch(/softmax/i);
    const ra = tfjs.explain(samples('NHWC'), { composite: 'epsilon-gamma-box', low: 0, high: 1 });
    const rb = onnx.explain(samples('NCHW'), { composite: 'epsilon-gamma-box', low: 0, high: 1 });
    // 1 channel: NHWC and NCHW have the same element order
    const scale = ra.relevance.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const rdiff = ra.relevance.reduce((m, v, i) => Math.max(m, Math.abs(v - rb.relevance[i])), 0);
    expect(rdiff / scale).toBeLessThan(1e-3);
  });

  it('puts the positive relevance on the garment and its outline, not on the background', () => {
    const x = samples('NHWC');
    const r = tfjs.explain(x, { composite: 'epsilon-gamma-box', low: 0, high: 1 });
    const shares: number[] = [];
    for (let s = 0; s < labels.length; s++) {
      const img = x.subarray(s * 784, (s + 1) * 784);
      // the garment (pixels above 0.05) grown by 2 pixels: zbox also credits the dark side of an edge
      const near = (p: number) => {
        const py = Math.floor(p / 28), px = p % 28;
        for (let dy = -2; dy <= 2; dy++)
          for (let dx = -2; dx <= 2; dx++) {
            const yy = py + dy, xx = px + dx;
            if (yy >= 0 && yy < 28 && xx >= 0 && xx < 28 && img[yy * 28 + xx] > 0.05) return true;
          }
        return false;
      };
      let inside = 0;
      let total = 0;
      for (let i = 0; i < 784; i++) {
        const v = Math.max(r.relevance[s * 784 + i], 0);
        total += v;
        if (near(i)) inside += v;
      }
      shares.push(inside / total);
    }
    console.log('share of positive relevance on/near the garment:', shares.map((v) => v.toFixed(2)).join(' '));
    // the near-garment region is 20-60% of the image; measured shares are 0.69 (the least confident
    // sample, a sneaker at p = 0.47) to 0.98
    for (const [i, v] of shares.entries()) expect(v, labels[i].file).toBeGreaterThan(0.6);
    expect(shares.reduce((a, b) => a + b, 0) / shares.length).toBeGreaterThan(0.85);
  });
});
