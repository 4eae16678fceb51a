// D7: finite but extreme inputs (~3e38) or weights (a bias of 1.77e37) used to give NaN or
// ±Infinity relevance (and logits) without an error. Now predict, explain and attribute throw a
// NumericError naming the sample and the layer where the values stopped being finite.
import { describe, expect, it } from 'vitest';
import { loadModel, NumericError } from '../../src/index.js';
import { fashionTfjs, inputs, thrown } from './helpers.js';

const box = { composite: 'epsilon-gamma-box', low: 0, high: 1 } as const;

describe('D7: float32 overflow is a NumericError', () => {
  it('a conv bias of 1.77e37: finite logits, but the relevance overflows at the first conv', async () => {
    const m = fashionTfjs();
    new Float32Array(m.weights.buffer)[3 * 3 * 16] = 1.77e37; // conv1/bias[0], after the 144 kernel values
    const model = await loadModel(m);
    try {
      const x = inputs(784 * 3);
      expect(model.predict(x).every(Number.isFinite)).toBe(true);
      const e = thrown(() => model.explain(x, box));
      expect(e).toBeInstanceOf(NumericError);
      expect(e.code).toBe('E_NONFINITE');
      expect(e.message).toBe(
        "the relevance overflows float32 for sample 0: it first holds NaN or Infinity at the input of conv2d node 'conv1' (conv1 (Conv2D)) (rule zbox(0,1)) (inputs or weights too large for this model)",
      );
    } finally {
      model.dispose();
    }
  });

  // predict() used to return finite logits here: ReLU turned the NaN from the overflow into 0
  it('inputs near 3e38 overflow the forward pass: predict and explain name the sample and the layer', async () => {
    const model = await loadModel(fashionTfjs());
    try {
      const x = inputs(784 * 4);
      x.fill(3e38, 784 * 2, 784 * 3); // sample 2
      for (const call of [() => model.predict(x), () => model.explain(x, box), () => model.attribute(x, { method: 'gradient' })]) {
        const e = thrown(call);
        expect(e).toBeInstanceOf(NumericError);
        expect(e.message).toBe("the forward pass overflows float32 for sample 2: the output of conv2d node 'conv1' (conv1 (Conv2D)) is the first to hold NaN or Infinity (inputs or weights too large for this model)");
      }
      // the model still works on sane inputs afterwards
      expect(model.explain(inputs(784 * 2), box).relevance.every(Number.isFinite)).toBe(true);
    } finally {
      model.dispose();
    }
  });

  it('gradient × input that overflows float32 is refused, as is a relevance sum that overflows', async () => {
    const model = await loadModel(fashionTfjs());
    try {
      const x = inputs(784);
      x[0] = 1e36; // a corner pixel: the forward pass stays finite, gradient × x does not
      const e = thrown(() => model.attribute(x, { method: 'gradient-x-input' }));
      expect(e).toBeInstanceOf(NumericError);
      expect(e.message).toBe('gradient × input overflows float32 for sample 0 (index 0: Infinity)');
      const y = inputs(784);
      y[400] = 3e37; // every relevance value finite, their sum is not
      expect(thrown(() => model.attribute(y, { method: 'gradient-x-input' })).message).toBe(
        'the sum of the input relevance overflows float32 for sample 0 (index 0: -Infinity)',
      );
    } finally {
      model.dispose();
    }
  });
});
