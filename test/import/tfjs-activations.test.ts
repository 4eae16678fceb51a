/**
 * TF.js activations, fused (`activation` of Conv2D / Dense / DepthwiseConv2D / SeparableConv2D)
 * and as layers (Activation, ReLU, LeakyReLU, ELU, ThresholdedReLU, PReLU, Softmax): each in a
 * small model built with the layers API, against TF.js predict, explained with every composite,
 * conserving relevance on its bias-free variant. Keras options TF.js cannot build itself
 * (ReLU negative_slope/threshold, ELU alpha ≠ 1) are edited into the saved JSON and compared with
 * the same formula in tf ops. Unsupported activations fail naming the layer.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { UnsupportedError } from '../../src/errors.js';
import { importTfjs } from '../../src/import/tfjs.js';
import { checkTfjs, layerJson, predictReplacing, randomize, save, tfPredict } from './tfjs-harness.js';

type Act = Parameters<typeof tf.layers.conv2d>[0]['activation'];

const IN: [number, number, number] = [7, 9, 3]; // odd sizes: remainders after SIMD lanes

/** input [7, 9, 3] → Conv2D(4) → mid → Conv2D(5, valid, relu) → GlobalAveragePooling2D → Dense(3)
 * (c2's relu keeps the pooled values away from 0, where the norm rule's stabiliser of global
 * pooling would leak relevance) */
function chain(mid: (x: tf.SymbolicTensor) => tf.SymbolicTensor, first: Act = 'linear', seed = 1): tf.LayersModel {
  const inp = tf.input({ shape: IN, name: 'inp' });
  const a = tf.layers.conv2d({ name: 'c1', filters: 4, kernelSize: 3, padding: 'same', activation: first }).apply(inp) as tf.SymbolicTensor;
  const b = mid(a);
  const c = tf.layers.conv2d({ name: 'c2', filters: 5, kernelSize: 3, activation: 'relu' }).apply(b) as tf.SymbolicTensor;
  const d = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(c) as tf.SymbolicTensor;
  const y = tf.layers.dense({ name: 'fc', units: 3 }).apply(d) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: y });
  randomize(model, seed);
  return model;
}

const layer = (l: tf.layers.Layer) => (x: tf.SymbolicTensor) => l.apply(x) as tf.SymbolicTensor;

// TF.js API name → what describe() shows for it
const FUSED: Array<[Act, RegExp]> = [
  ['relu', /c1_act\s+relu\s+\[N, 4, 7, 9\]/],
  ['relu6', /activation\s+\[N, 4, 7, 9\]\s+relu6\s+pass/],
  ['elu', /elu\(1\)/],
  ['selu', /selu/],
  ['sigmoid', /sigmoid/],
  ['hardSigmoid', /hardsigmoid\(0\.2, 0\.5\)/],
  ['tanh', /tanh/],
  ['swish', /silu/],
  ['gelu', /gelu\s/],
  ['gelu_new', /gelu \(tanh approximation\)/],
  ['softplus', /softplus/],
  ['linear', /c1\s+conv2d/],
];

describe('fused activations on Conv2D', () => {
  for (const [act, shows] of FUSED) {
    it(`${act}: predict, explain, conservation`, async () => {
      const model = chain((x) => x, act);
      const graph = await checkTfjs(model, { inShape: IN, shows });
      expect(graph.nodes.some((n) => n.name === 'c1_act')).toBe(act !== 'linear');
    });
  }
});

describe('fused activations on Dense, DepthwiseConv2D, SeparableConv2D', () => {
  it('Dense sigmoid and swish after a Flatten', async () => {
    const inp = tf.input({ shape: IN });
    const a = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'tanh' }).apply(inp) as tf.SymbolicTensor;
    const f = tf.layers.flatten().apply(a) as tf.SymbolicTensor;
    const h = tf.layers.dense({ units: 6, activation: 'sigmoid' }).apply(f) as tf.SymbolicTensor;
    const g = tf.layers.dense({ units: 5, activation: 'swish' }).apply(h) as tf.SymbolicTensor;
    const y = tf.layers.dense({ units: 3 }).apply(g) as tf.SymbolicTensor;
    const model = tf.model({ inputs: inp, outputs: y });
    randomize(model, 3);
    await checkTfjs(model, { inShape: IN, shows: /silu/ });
  });

  it('DepthwiseConv2D relu6 and SeparableConv2D elu', async () => {
    const model = chain((x) => {
      const d = tf.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'relu6' }).apply(x);
      return tf.layers.separableConv2d({ name: 'sep', filters: 4, kernelSize: 3, padding: 'same', activation: 'elu' }).apply(d) as tf.SymbolicTensor;
    }, 'linear', 5);
    await checkTfjs(model, { inShape: IN, shows: /dw_act\s+activation\s+\[N, 8, 7, 9\]\s+relu6/ });
  });
});

describe('activation layers', () => {
  const cases: Array<[string, (x: tf.SymbolicTensor) => tf.SymbolicTensor, RegExp]> = [
    ['Activation(tanh)', layer(tf.layers.activation({ name: 'act', activation: 'tanh' })), /act\s+activation\s+\[N, 4, 7, 9\]\s+tanh\s+pass/],
    ['Activation(linear)', layer(tf.layers.activation({ name: 'act', activation: 'linear' })), /c1\s+conv2d/],
    ['ReLU()', layer(tf.layers.reLU({ name: 'r' })), /r\s+relu/],
    ['ReLU({maxValue: 6})', layer(tf.layers.reLU({ name: 'r', maxValue: 6 })), /r\s+activation\s+\[N, 4, 7, 9\]\s+relu6/],
    ['ReLU({maxValue: 0.4})', layer(tf.layers.reLU({ name: 'r', maxValue: 0.4 })), /clip\(0, 0\.4\)/],
    ['LeakyReLU({alpha: 0.2})', layer(tf.layers.leakyReLU({ name: 'lr', alpha: 0.2 })), /leakyrelu\(0\.2\)/],
    ['LeakyReLU() (alpha 0.3)', layer(tf.layers.leakyReLU({ name: 'lr' })), /leakyrelu\(0\.3\)/],
    ['ELU()', layer(tf.layers.elu({ name: 'e' })), /elu\(1\)/],
    ['ThresholdedReLU({theta: 0.3})', layer(tf.layers.thresholdedReLU({ name: 't', theta: 0.3 })), /relu\(slope 0, max Infinity, threshold 0\.3\)/],
    ['PReLU({sharedAxes: [1, 2]}) (per channel)', layer(tf.layers.prelu({ name: 'p', sharedAxes: [1, 2] })), /p\s+prelu\s+\[N, 4, 7, 9\]\s+slope ×4\s+pass/],
    ['PReLU({sharedAxes: [1, 2, 3]}) (one slope)', layer(tf.layers.prelu({ name: 'p', sharedAxes: [1, 2, 3] })), /slope ×1/],
  ];
  for (const [name, mid, shows] of cases) {
    it(`${name}: predict, explain, conservation`, async () => {
      await checkTfjs(chain(mid, 'linear', 11), { inShape: IN, shows });
    });
  }

  it('PReLU on [N, features] after a Flatten: per-feature slopes follow the Flatten permutation', async () => {
    const inp = tf.input({ shape: IN });
    const a = tf.layers.conv2d({ filters: 2, kernelSize: 3 }).apply(inp) as tf.SymbolicTensor;
    const f = tf.layers.flatten().apply(a) as tf.SymbolicTensor;
    const p = tf.layers.prelu({ name: 'p' }).apply(f) as tf.SymbolicTensor;
    const y = tf.layers.dense({ units: 3 }).apply(p) as tf.SymbolicTensor;
    const model = tf.model({ inputs: inp, outputs: y });
    randomize(model, 13);
    await checkTfjs(model, { inShape: IN, shows: /slope ×70/ });
  });

  it('Softmax at the output: removed, the logits match TF.js before the softmax', async () => {
    const inp = tf.input({ shape: IN });
    const a = tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu' }).apply(inp) as tf.SymbolicTensor;
    const g = tf.layers.globalAveragePooling2d({}).apply(a) as tf.SymbolicTensor;
    const logits = tf.layers.dense({ units: 4 }).apply(g) as tf.SymbolicTensor;
    const probs = tf.layers.softmax({ name: 'sm' }).apply(logits) as tf.SymbolicTensor;
    const model = tf.model({ inputs: inp, outputs: probs });
    randomize(model, 17);
    const pre = tf.model({ inputs: inp, outputs: logits });
    await checkTfjs(model, { inShape: IN, want: (x) => tfPredict(pre, x, IN), shows: /removed the final softmax 'sm'/ });
  });
});

/** A Sequential chain whose middle layer 'mid' is swapped for a Keras config in the saved JSON. */
async function kerasVariant(config: Record<string, unknown>, className: string, fn: (x: tf.Tensor) => tf.Tensor, shows: RegExp) {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ name: 'c1', inputShape: IN, filters: 4, kernelSize: 3, padding: 'same' }),
      tf.layers.activation({ name: 'mid', activation: 'linear' }),
      tf.layers.conv2d({ name: 'c2', filters: 5, kernelSize: 3, activation: 'relu' }),
      tf.layers.globalAveragePooling2d({ name: 'gap' }),
      tf.layers.dense({ name: 'fc', units: 3 }),
    ],
  });
  randomize(model, 19);
  const files = await save(model);
  const l = layerJson(files, 'mid');
  l.class_name = className;
  l.config = { name: 'mid', trainable: true, ...config };
  await checkTfjs(model, { inShape: IN, files, shows, want: (x) => predictReplacing(model, 'mid', fn, x, IN) });
}

describe('Keras options TF.js cannot build (edited JSON, compared with tf ops)', () => {
  it('ReLU(max_value 0.5, negative_slope 0.1, threshold 0.2)', async () => {
    const f = (x: tf.Tensor) => tf.where(tf.greaterEqual(x, 0.5), tf.fill(x.shape, 0.5), tf.where(tf.greater(x, 0.2), x, tf.mul(0.1, tf.sub(x, 0.2))));
    await kerasVariant({ max_value: 0.5, negative_slope: 0.1, threshold: 0.2 }, 'ReLU', f, /relu\(slope 0\.1, max 0\.5, threshold 0\.2\)/);
  });

  it('ReLU(negative_slope 0.05) is a leaky ReLU', async () => {
    await kerasVariant({ max_value: null, negative_slope: 0.05, threshold: 0 }, 'ReLU', (x) => tf.leakyRelu(x, 0.05), /leakyrelu\(0\.05\)/);
  });

  it('LeakyReLU with the Keras 3 key negative_slope', async () => {
    await kerasVariant({ negative_slope: 0.15 }, 'LeakyReLU', (x) => tf.leakyRelu(x, 0.15), /leakyrelu\(0\.15\)/);
  });

  it('ELU(alpha 0.5)', async () => {
    await kerasVariant({ alpha: 0.5 }, 'ELU', (x) => tf.where(tf.greater(x, 0), x, tf.mul(0.5, tf.sub(tf.exp(x), 1))), /elu\(0\.5\)/);
  });
});

describe('unsupported activations name the layer', () => {
  it('activation strings without a kernel', async () => {
    for (const act of ['mish', 'softsign'] as Act[]) {
      const files = await save(chain((x) => x, act));
      expect(() => importTfjs(files.modelJson, files.weights)).toThrow(UnsupportedError);
      expect(() => importTfjs(files.modelJson, files.weights)).toThrow(new RegExp(`TF.js layer 'c1' \\(Conv2D\\) has activation '${act}', which is not supported \\(supported: linear, softmax`));
    }
  });

  it('PReLU with a slope per position', async () => {
    const files = await save(chain(layer(tf.layers.prelu({ name: 'p' }))));
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(UnsupportedError);
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(
      /TF.js layer 'p' \(PReLU\): a slope of shape \[7, 9, 4\] \(shared_axes null\) is not supported; only one slope or one per channel/,
    );
  });

  it('softmax before the output, and ReLU with max_value below threshold', async () => {
    const files = await save(chain(layer(tf.layers.activation({ name: 'sm', activation: 'softmax' }))));
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(/TF.js layer 'sm' \(Activation\): softmax is only supported on the output layer/);
    const r = await save(chain(layer(tf.layers.reLU({ name: 'r', maxValue: 1 }))));
    layerJson(r, 'r').config.threshold = 2;
    expect(() => importTfjs(r.modelJson, r.weights)).toThrow(/TF.js layer 'r' \(ReLU\): max_value 1 below threshold 2 is not supported/);
  });
});
