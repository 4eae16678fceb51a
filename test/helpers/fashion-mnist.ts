// The bundled Fashion-MNIST samples (models/fashion-mnist/samples), and the share of a heatmap's positive relevance
// that lies on the garment or near it: the garment is
// the pixels above 0.05, grown by 2 pixels (zbox and the attention rules also credit the dark side of an edge).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage, imageToTensor } from '../../src/io/index.js';

const dir = join(import.meta.dirname, '..', '..', 'models', 'fashion-mnist');
/** samples/labels.json: file, true label, the CNN's prediction. */
export const fashionLabels = JSON.parse(readFileSync(join(dir, 'samples', 'labels.json'), 'utf8')) as Array<{ file: string; label: number; predicted: number }>;

/** The 16 samples as one batch in [0, 1], NCHW or NHWC. */
export function fashionSamples(layout: 'NCHW' | 'NHWC'): Float32Array {
  const x = new Float32Array(fashionLabels.length * 784);
  fashionLabels.forEach((s, i) => {
    const img = decodeImage(readFileSync(join(dir, 'samples', s.file)), s.file);
    x.set(imageToTensor(img, { channels: 1, height: 28, width: 28, range: [0, 1], layout }), i * 784);
  });
  return x;
}


/** For every 28×28 sample of x (values in [0, 1]), the share of its positive relevance near the garment. */
export function garmentShares(x: Float32Array, relevance: Float32Array): number[] {
  const shares: number[] = [];
  for (let s = 0; s < x.length / 784; s++) {
    const img = x.subarray(s * 784, (s + 1) * 784);
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
      const v = Math.max(relevance[s * 784 + i], 0);
      total += v;
      if (near(i)) inside += v;
    }
    shares.push(inside / total);
  }
  return shares;
}
