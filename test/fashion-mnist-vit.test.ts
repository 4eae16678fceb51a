// The bundled, really trained Fashion-MNIST ViT (models/fashion-mnist-vit, scripts/train-vit-fashion-mnist.py):
// it loads from ONNX, predicts like onnxruntime-web, and its AttnLRP relevance sits on the garment, as the CNN's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../src/index.js';
import { fashionLabels, fashionSamples, garmentShares } from './helpers/fashion-mnist.js';
import { ortRun, relDiff } from './helpers/oracle.js';

const file = join(import.meta.dirname, '..', 'models', 'fashion-mnist-vit', 'model.onnx');

describe('bundled Fashion-MNIST ViT', () => {
  let vit: Model;
  const x = fashionSamples('NCHW');
  beforeAll(async () => {
    vit = await loadModel(file);
  });
  afterAll(() => vit.dispose());

  it('predicts like onnxruntime-web and classifies 15 of the 16 samples right (the trainer recorded 86.09% on the 10k test set)', async () => {
    const want = await ortRun(new Uint8Array(readFileSync(file)), x, [fashionLabels.length, 1, 28, 28]);
    const got = vit.predict(x);
    expect(relDiff(got, want)).toBeLessThan(1e-4);
    let right = 0;
    for (let s = 0; s < fashionLabels.length; s++) {
      const row = Array.from(got.subarray(s * 10, (s + 1) * 10));
      if (row.indexOf(Math.max(...row)) === fashionLabels[s].label) right++;
    }
    expect(right).toBe(15);
  });

  it('describes its attention layers with the AttnLRP rules', () => {
    const d = vit.describe('attnlrp');
    for (const op of ['layernorm', 'softmax', 'matmul']) expect(d).toMatch(new RegExp(`${op}\\s.*attnlrp`));
  });

  it('puts the positive AttnLRP relevance on the garment and its outline, not on the background', () => {
    const r = vit.explain(x, { composite: 'attnlrp' });
    const shares = garmentShares(x, r.relevance);
    console.log('ViT: share of positive relevance on/near the garment:', shares.map((v) => v.toFixed(2)).join(' '));
    const mean = shares.reduce((a, b) => a + b, 0) / shares.length;
    expect(mean).toBeGreaterThan(0.75);
    for (const [i, v] of shares.entries()) expect(v, fashionLabels[i].file).toBeGreaterThan(0.5);
  });
});
