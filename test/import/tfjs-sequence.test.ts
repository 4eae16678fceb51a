/**
 * TF.js sequence models on [N, L, C] inputs: Conv1D (valid, same, causal, strides, dilation),
 * MaxPooling1D / AveragePooling1D, GlobalMaxPooling1D / GlobalAveragePooling1D (keepdims),
 * Flatten of [L, C], SpatialDropout1D, Dense and LayerNormalization over the last axis (also an
 * image's channels for LayerNormalization). Each in a small model against TF.js predict, explained
 * with every composite, conserving relevance on its bias-free variant; relevance comes back in
 * the caller's [N, L, C] layout (the gradient equals TF.js's); recurrent layers and bad
 * configurations fail naming the layer.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ShapeError, UnsupportedError } from '../../src/errors.js';
import { importTfjs } from '../../src/import/tfjs.js';
import { relDiff, uniform } from '../helpers/oracle.js';
import { checkTfjs, layerJson, modelOf, predictReplacing, randomize, save } from './tfjs-harness.js';

const L = 11;
const C = 3;
const IN = [L, C];

type Mid = (x: tf.SymbolicTensor) => tf.SymbolicTensor;
const seq = (...ls: tf.layers.Layer[]): Mid => (x) => ls.reduce((t, l) => l.apply(t) as tf.SymbolicTensor, x);

/** input [11, 3] → mid → GlobalAveragePooling1D → Dense(3); mid should end in a ReLU (see tfjs-reshaping.test.ts). */
function chain(mid: Mid, seed = 1, head: Mid = seq(tf.layers.globalAveragePooling1d({ name: 'gap' }))): tf.LayersModel {
  const inp = tf.input({ shape: IN, name: 'inp' });
  const y = tf.layers.dense({ name: 'fc', units: 3 }).apply(head(mid(inp))) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: y });
  randomize(model, seed);
  return model;
}

const ops = (g: { nodes: Array<{ name: string; op: string }> }) => g.nodes.map((n) => `${n.name}:${n.op}`);

describe('Conv1D', () => {
  it('valid: a view to [1, L, C], conv2d with kernel [k, C], one transpose back to [L\', F]', async () => {
    const g = await checkTfjs(chain(seq(tf.layers.conv1d({ name: 'c1', filters: 4, kernelSize: 3, activation: 'relu' }))), { inShape: IN });
    expect(ops(g).filter((s) => s.startsWith('c1'))).toEqual([
      'c1_image:reshape', 'c1:conv2d', 'c1_act:relu', 'c1_filters:reshape', 'c1_steps:transpose',
    ]);
    expect(g.nodes.find((n) => n.name === 'c1')).toMatchObject({ inChannels: 1, outChannels: 4, kernel: [3, 3], padding: [0, 0, 0, 0] });
    expect(g.inputShape).toEqual([L, C]);
    expect(g.inputLayout).toBe('NCHW');
  });

  it('same with stride 2, then dilation 2, without bias, stacked', async () => {
    const mid = seq(
      tf.layers.conv1d({ name: 'c1', filters: 5, kernelSize: 4, strides: 2, padding: 'same', activation: 'relu' }),
      tf.layers.conv1d({ name: 'c2', filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same', useBias: false, activation: 'relu' }),
    );
    const g = await checkTfjs(chain(mid, 3), { inShape: IN, shows: /c2\s+conv2d\s+\[N, 4, 6, 1\]/ });
    expect(g.nodes.find((n) => n.name === 'c1')).toMatchObject({ stride: [2, 1], padding: [1, 0, 2, 0] });
    expect(g.nodes.find((n) => n.name === 'c2')).toMatchObject({ dilation: [2, 1], padding: [2, 0, 2, 0], bias: null });
  });

  it('causal padding (Keras files; TF.js cannot run it): (k − 1)·d steps before the sequence', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv1d({ name: 'c1', inputShape: IN, filters: 4, kernelSize: 3, dilationRate: 2, activation: 'relu' }),
        tf.layers.globalAveragePooling1d({}),
        tf.layers.dense({ units: 3 }),
      ],
    });
    randomize(model, 6);
    const files = await save(model);
    layerJson(files, 'c1').config.padding = 'causal';
    const conv = model.getLayer('c1');
    const [kernel, bias] = conv.getWeights();
    const causal = (t: tf.Tensor) => tf.relu(tf.add(tf.conv1d(tf.pad(t as tf.Tensor3D, [[0, 0], [4, 0], [0, 0]]), kernel as tf.Tensor3D, 1, 'valid', 'NWC', 2), bias));
    const g = await checkTfjs(model, { inShape: IN, files, want: (x) => predictReplacing(model, 'c1', causal, x, IN) });
    expect(g.nodes.find((n) => n.name === 'c1')).toMatchObject({ padding: [4, 0, 0, 0] });
  });

  it('relevance comes back in the caller\'s [N, L, C] layout: the gradient equals TF.js\'s', async () => {
    const model = chain(seq(tf.layers.conv1d({ name: 'c1', filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh' })), 7);
    const files = await save(model);
    const m = await modelOf(importTfjs(files.modelJson, files.weights));
    try {
      expect(m.inputShape).toEqual([L, C]);
      const x = uniform(2 * L * C, 3);
      const r = m.attribute(x, { method: 'gradient', target: 1, start: 'onehot' });
      const want = tf.tidy(() => tf.grad((t: tf.Tensor) => (model.predict(t) as tf.Tensor).slice([0, 1], [-1, 1]).sum())(tf.tensor(x, [2, L, C])).dataSync());
      expect(relDiff(r.relevance, want)).toBeLessThan(1e-5);
    } finally {
      m.dispose();
    }
  });
});

describe('pooling', () => {
  it('MaxPooling1D and AveragePooling1D (valid and same): windows [k, 1] over [1, L, C], no transposes', async () => {
    const mid = seq(
      tf.layers.conv1d({ name: 'c1', filters: 4, kernelSize: 2, activation: 'relu' }),
      tf.layers.maxPooling1d({ name: 'mp', poolSize: 3, strides: 2, padding: 'same' }),
      tf.layers.averagePooling1d({ name: 'ap', poolSize: 2, strides: 1, padding: 'same' }),
      tf.layers.averagePooling1d({ name: 'ap2', poolSize: 2 }),
      tf.layers.maxPooling1d({ name: 'mp2', poolSize: 2, strides: 1 }),
    );
    const g = await checkTfjs(chain(mid, 9), { inShape: IN });
    expect(ops(g).filter((s) => /^(mp|ap)/.test(s))).toEqual([
      'mp_image:reshape', 'mp:maxpool2d', 'mp_steps:reshape',
      'ap_image:reshape', 'ap:avgpool2d', 'ap_steps:reshape',
      'ap2_image:reshape', 'ap2:avgpool2d', 'ap2_steps:reshape',
      'mp2_image:reshape', 'mp2:maxpool2d', 'mp2_steps:reshape',
    ]);
    expect(g.nodes.find((n) => n.name === 'mp')).toMatchObject({ kernel: [3, 1], stride: [2, 1], padding: [0, 0, 1, 0] });
    expect(g.nodes.find((n) => n.name === 'ap')).toMatchObject({ kernel: [2, 1], padding: [0, 0, 1, 0], countIncludePad: false });
  });

  it('GlobalMaxPooling1D on the model input and after a Conv1D', async () => {
    await checkTfjs(chain((x) => x, 11, seq(tf.layers.globalMaxPooling1d({ name: 'gmp' }))), { inShape: IN });
    const g = await checkTfjs(
      chain(seq(tf.layers.conv1d({ filters: 6, kernelSize: 3, activation: 'relu' })), 13, seq(tf.layers.globalMaxPooling1d({ name: 'gmp' }))),
      { inShape: IN },
    );
    expect(g.nodes.find((n) => n.name === 'gmp')).toMatchObject({ op: 'maxpool2d', kernel: [9, 1], stride: [9, 1] });
  });

  it('GlobalAveragePooling1D; keepdims (Keras files) followed by a Reshape to a vector computes the same', async () => {
    const model = chain(seq(tf.layers.conv1d({ filters: 4, kernelSize: 3, activation: 'relu' })), 15, seq(tf.layers.globalAveragePooling1d({ name: 'gap' }), tf.layers.reshape({ name: 'fl', targetShape: [4] })));
    await checkTfjs(model, { inShape: IN });
    const files = await save(model);
    layerJson(files, 'gap').config.keepdims = true;
    const g = await checkTfjs(model, { inShape: IN, files });
    expect(ops(g)).toContain('gap_steps:reshape');
    expect(ops(g)).not.toContain('gap_flatten:flatten');
  });
});

describe('Flatten, dropout', () => {
  it('Flatten of [L, C] is a view in Keras order (no permutation, no transpose), SpatialDropout1D and Dropout are removed', async () => {
    const mid = seq(
      tf.layers.conv1d({ filters: 2, kernelSize: 3, activation: 'relu' }),
      tf.layers.spatialDropout1d({ name: 'sd', rate: 0.3 }),
      tf.layers.dropout({ name: 'dr', rate: 0.2 }),
    );
    const g = await checkTfjs(chain(mid, 17, seq(tf.layers.flatten({ name: 'fl' }))), { inShape: IN });
    expect(ops(g)).toContain('fl:flatten');
    expect(ops(g)).toContain('sd:dropout');
    const flat = await checkTfjs(chain((x) => x, 19, seq(tf.layers.flatten({ name: 'fl' }))), { inShape: IN });
    expect(flat.nodes.some((n) => n.op === 'transpose')).toBe(false);
  });
});

describe('Dense over [L, C]', () => {
  it('one row per step; on the model input and after a Conv1D', async () => {
    const mid = seq(tf.layers.dense({ name: 'tok', units: 5, activation: 'relu' }), tf.layers.conv1d({ filters: 4, kernelSize: 3, activation: 'relu' }), tf.layers.dense({ name: 'tok2', units: 3, activation: 'relu' }));
    const g = await checkTfjs(chain(mid, 21), { inShape: IN, shows: /tok\s+dense\s+\[N, 11, 5\]/ });
    expect(g.nodes.find((n) => n.name === 'tok')).toMatchObject({ inFeatures: 3, outFeatures: 5 });
    expect(g.nodes.find((n) => n.name === 'tok2')).toMatchObject({ inFeatures: 4, outFeatures: 3 });
    await checkTfjs(chain(seq(tf.layers.dense({ units: 4, activation: 'tanh' })), 22, seq(tf.layers.flatten({}))), { inShape: IN });
  });

  it('refused on an image (Keras [H, W, C])', async () => {
    const inp = tf.input({ shape: [4, 4, 2] });
    const y = tf.layers.flatten().apply(tf.layers.dense({ name: 'd', units: 3 }).apply(inp)) as tf.SymbolicTensor;
    const files = await save(tf.model({ inputs: inp, outputs: y }));
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(UnsupportedError);
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(/TF.js layer 'd' \(Dense\): Dense on per-sample shape \[4, 4, 2\] is not supported/);
  });
});

describe('LayerNormalization', () => {
  it('over the features of a sequence (axis -1 and [2]), with and without scale and center', async () => {
    const mid = seq(
      tf.layers.conv1d({ filters: 5, kernelSize: 3, padding: 'same' }),
      tf.layers.layerNormalization({ name: 'ln', epsilon: 1e-3 }),
      tf.layers.dense({ units: 4, activation: 'relu' }),
      tf.layers.layerNormalization({ name: 'ln2', axis: 2, scale: false }),
      tf.layers.layerNormalization({ name: 'ln3', center: false }),
    );
    const g = await checkTfjs(chain(mid, 23), { inShape: IN, shows: /ln\s+layernorm\s+\[N, 11, 5\]/ });
    expect(g.nodes.find((n) => n.name === 'ln')).toMatchObject({ op: 'layernorm', features: 5, epsilon: 1e-3 });
    expect(g.nodes.find((n) => n.name === 'ln2')).toMatchObject({ weight: null });
    expect(g.nodes.find((n) => n.name === 'ln3')).toMatchObject({ bias: null });
  });

  it('over a vector, also after a Flatten of an image (gamma and beta permuted with the features)', async () => {
    const inp = tf.input({ shape: [4, 5, 3] });
    const c = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu' }).apply(inp) as tf.SymbolicTensor;
    const n = tf.layers.layerNormalization({ name: 'ln' }).apply(tf.layers.flatten().apply(c)) as tf.SymbolicTensor;
    const y = tf.layers.dense({ units: 3 }).apply(n) as tf.SymbolicTensor;
    const model = tf.model({ inputs: inp, outputs: y });
    randomize(model, 9);
    await checkTfjs(model, { inShape: [4, 5, 3] });
  });

  it('over the channels of an image: transposed to channels last around the node', async () => {
    const inp = tf.input({ shape: [4, 5, 3] });
    const c = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(inp) as tf.SymbolicTensor;
    const n = tf.layers.layerNormalization({ name: 'ln' }).apply(c) as tf.SymbolicTensor;
    const p = tf.layers.globalMaxPooling2d({}).apply(tf.layers.reLU({}).apply(n) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = tf.model({ inputs: inp, outputs: tf.layers.dense({ units: 3 }).apply(p) as tf.SymbolicTensor });
    randomize(model, 10);
    const g = await checkTfjs(model, { inShape: [4, 5, 3] });
    expect(ops(g).filter((s) => s.startsWith('ln'))).toEqual(['ln_channels_last:transpose', 'ln_norm:layernorm', 'ln:transpose']);
  });

  it('other axes are refused naming the layer', async () => {
    for (const axis of [1, [1, 2]]) {
      const files = await save(chain(seq(tf.layers.layerNormalization({ name: 'ln' })), 11));
      layerJson(files, 'ln').config.axis = axis;
      expect(() => importTfjs(files.modelJson, files.weights)).toThrow(UnsupportedError);
      expect(() => importTfjs(files.modelJson, files.weights)).toThrow(/TF.js layer 'ln' \(LayerNormalization\): axis .* is not supported on per-sample shape \[11, 3\] \(only the last axis, -1\)/);
    }
  });
});

describe('refused, naming the layer', () => {
  const refuse = async (model: tf.LayersModel, error: typeof UnsupportedError | typeof ShapeError, message: RegExp, edit?: (files: any) => void) => {
    const files = await save(model);
    edit?.(files);
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(error);
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(message);
  };

  const recurrent: Array<[string, () => tf.layers.Layer]> = [
    ['LSTM', () => tf.layers.lstm({ name: 'rnn', units: 4 })],
    ['GRU', () => tf.layers.gru({ name: 'rnn', units: 4 })],
    ['SimpleRNN', () => tf.layers.simpleRNN({ name: 'rnn', units: 4 })],
    ['Bidirectional', () => tf.layers.bidirectional({ name: 'rnn', layer: tf.layers.lstm({ units: 2 }) as tf.RNN })],
    ['TimeDistributed', () => tf.layers.timeDistributed({ name: 'rnn', layer: tf.layers.dense({ units: 2 }) })],
  ];
  for (const [cls, make] of recurrent) {
    it(`${cls}: recurrent layers are not supported`, async () => {
      const inp = tf.input({ shape: IN });
      const r = make().apply(inp) as tf.SymbolicTensor;
      const y = tf.layers.dense({ units: 2 }).apply(r.shape.length > 2 ? tf.layers.flatten().apply(r) : r) as tf.SymbolicTensor;
      await refuse(tf.model({ inputs: inp, outputs: y }), UnsupportedError, new RegExp(`TF.js layer 'rnn' \\(${cls}\\): recurrent layers are not supported`));
    });
  }

  it('ConvLSTM2D: recurrent layers are not supported', async () => {
    const inp = tf.input({ shape: [3, 5, 5, 2] });
    const y = tf.layers.flatten().apply(tf.layers.convLstm2d({ name: 'rnn', filters: 2, kernelSize: 3 }).apply(inp)) as tf.SymbolicTensor;
    const files = await save(tf.model({ inputs: inp, outputs: y }));
    // the 5-D input is refused first; behind a supported input, the layer names itself
    files.modelJson.modelTopology.config.layers[0].config.batch_input_shape = [null, 5, 5, 2];
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(/TF.js layer 'rnn' \(ConvLSTM2D\): recurrent layers are not supported/);
  });

  const conv = () => chain(seq(tf.layers.conv1d({ name: 'c1', filters: 4, kernelSize: 3, activation: 'relu' })));
  it('Conv1D: a kernel longer than the sequence, groups, channels_first, unknown padding', async () => {
    await refuse(conv(), ShapeError, /TF.js layer 'c1' \(Conv1D\): window of extent 3 does not fit the padded input of size 2/, (f) => {
      f.modelJson.modelTopology.config.layers[0].config.batch_input_shape = [null, 2, 3];
    });
    await refuse(conv(), UnsupportedError, /TF.js layer 'c1' \(Conv1D\): groups 3 is not supported/, (f) => (layerJson(f, 'c1').config.groups = 3));
    await refuse(conv(), UnsupportedError, /TF.js layer 'c1' \(Conv1D\): data_format 'channels_first' is not supported/, (f) => (layerJson(f, 'c1').config.data_format = 'channels_first'));
    await refuse(conv(), UnsupportedError, /TF.js layer 'c1' \(Conv1D\): padding 'full' is not supported \(valid, same or causal\)/, (f) => (layerJson(f, 'c1').config.padding = 'full'));
  });

  it('Conv1D: a kernel of the wrong shape', async () => {
    await refuse(conv(), ShapeError, /TF.js layer 'c1' \(Conv1D\): weight 'c1\/kernel' has shape \[3, 3, 4\], expected \[2, 3, 4\]/, (f) => (layerJson(f, 'c1').config.kernel_size = [2]));
  });

  it('1-D layers on images and 2-D layers on sequences', async () => {
    const img = tf.input({ shape: [5, 5, 2] });
    const p = tf.layers.maxPooling2d({ name: 'pool', poolSize: 2 }).apply(img) as tf.SymbolicTensor;
    const imageModel = tf.model({ inputs: img, outputs: tf.layers.dense({ units: 2 }).apply(tf.layers.flatten().apply(p)) as tf.SymbolicTensor });
    await refuse(imageModel, ShapeError, /TF.js layer 'pool' \(MaxPooling1D\): expects a 3-D input \[N, steps, channels\], got per-sample shape \[5, 5, 2\]/, (f) => (layerJson(f, 'pool').class_name = 'MaxPooling1D'));
    const pooled = chain((x) => x, 1, seq(tf.layers.globalAveragePooling1d({ name: 'gap' })));
    await refuse(pooled, ShapeError, /TF.js layer 'gap' \(GlobalAveragePooling2D\): expects a 4-D input \[N, H, W, C\], got per-sample shape \[11, 3\]/, (f) => (layerJson(f, 'gap').class_name = 'GlobalAveragePooling2D'));
    await refuse(pooled, UnsupportedError, /TF.js layer 'gap' \(GlobalAveragePooling1D\): data_format 'channels_first' is not supported/, (f) => (layerJson(f, 'gap').config.data_format = 'channels_first'));
  });

  it('MaxPooling1D with causal padding', async () => {
    const model = chain(seq(tf.layers.maxPooling1d({ name: 'mp', poolSize: 2 })), 1);
    await refuse(model, UnsupportedError, /TF.js layer 'mp' \(MaxPooling1D\): padding 'causal' is not supported \(valid or same\)/, (f) => (layerJson(f, 'mp').config.padding = 'causal'));
  });
});
