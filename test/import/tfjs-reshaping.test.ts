/**
 * TF.js layout and preprocessing layers: Reshape (image → image, through rank 2, to and from a
 * flat vector, (1, 1, C) after global pooling), Permute (all six orders), Cropping2D,
 * UpSampling2D, GlobalMaxPooling2D (keepdims), Rescaling (at the input and after a conv). Each in
 * a small model against TF.js predict, explained with every composite, conserving relevance on
 * its bias-free variant; unsupported configurations fail naming the layer.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { UnsupportedError } from '../../src/errors.js';
import { importTfjs } from '../../src/import/tfjs.js';
import { checkTfjs, layerJson, modelOf, predictReplacing, randomize, save } from './tfjs-harness.js';
import { uniform } from '../helpers/oracle.js';

const IN: [number, number, number] = [7, 9, 3];

type Mid = (x: tf.SymbolicTensor) => tf.SymbolicTensor;

/** input [7, 9, 3] → Conv2D(4, same) → mid → Conv2D(5, valid, relu) → GlobalAveragePooling2D → Dense(3)
 * (c2's relu keeps the pooled values away from 0, where the norm rule's stabiliser of global
 * pooling would leak relevance) */
function chain(mid: Mid, seed = 1, pre: Mid = (x) => x): tf.LayersModel {
  const inp = tf.input({ shape: IN, name: 'inp' });
  const a = tf.layers.conv2d({ name: 'c1', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(pre(inp)) as tf.SymbolicTensor;
  const c = tf.layers.conv2d({ name: 'c2', filters: 5, kernelSize: 3, activation: 'relu' }).apply(mid(a)) as tf.SymbolicTensor;
  const d = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(c) as tf.SymbolicTensor;
  const y = tf.layers.dense({ name: 'fc', units: 3 }).apply(d) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: y });
  randomize(model, seed);
  return model;
}

const seq = (...ls: tf.layers.Layer[]): Mid => (x) => ls.reduce((t, l) => l.apply(t) as tf.SymbolicTensor, x);

const ops = (g: { nodes: Array<{ name: string; op: string }> }) => g.nodes.map((n) => `${n.name}:${n.op}`);

describe('Reshape', () => {
  it('image → image ([7, 9, 4] → [21, 3, 4]): transposes around the reshape keep Keras row-major order', async () => {
    const g = await checkTfjs(chain(seq(tf.layers.reshape({ name: 'rs', targetShape: [21, 3, 4] }))), { inShape: IN, shows: /transpose/ });
    expect(ops(g).filter((s) => s.startsWith('rs'))).toEqual(['rs_transpose:transpose', 'rs_reshape:reshape', 'rs:transpose']);
  });

  it('through rank 2 with a Permute there ([63, 4] → [4, 63] → [9, 7, 4]), and -1 in the target', async () => {
    const mid = seq(
      tf.layers.reshape({ name: 'r2', targetShape: [-1, 4] }),
      tf.layers.permute({ name: 'p2', dims: [2, 1] }),
      tf.layers.reshape({ name: 'r3', targetShape: [9, 7, 4] }),
    );
    await checkTfjs(chain(mid, 3), { inShape: IN });
  });

  it('to a vector is a Flatten (permutation, no transpose) before a Dense', async () => {
    const inp = tf.input({ shape: IN });
    const a = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu' }).apply(inp) as tf.SymbolicTensor;
    const f = tf.layers.reshape({ name: 'rs', targetShape: [70] }).apply(a) as tf.SymbolicTensor;
    const y = tf.layers.dense({ units: 3 }).apply(f) as tf.SymbolicTensor;
    const model = tf.model({ inputs: inp, outputs: y });
    randomize(model, 5);
    const g = await checkTfjs(model, { inShape: IN });
    expect(g.nodes.some((n) => n.op === 'transpose')).toBe(false);
  });

  it('a flattened image back to an image (Flatten → Reshape [9, 7, 4]) undoes the Flatten permutation', async () => {
    await checkTfjs(chain(seq(tf.layers.flatten({ name: 'fl' }), tf.layers.reshape({ name: 'rs', targetShape: [9, 7, 4] })), 7), { inShape: IN });
  });

  it('(1, 1, C) after global pooling is a view', async () => {
    const inp = tf.input({ shape: IN });
    const a = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }).apply(inp) as tf.SymbolicTensor;
    const p = tf.layers.globalAveragePooling2d({}).apply(a) as tf.SymbolicTensor;
    const r = tf.layers.reshape({ name: 'rs', targetShape: [1, 1, 4] }).apply(p) as tf.SymbolicTensor;
    const c = tf.layers.conv2d({ filters: 3, kernelSize: 1 }).apply(r) as tf.SymbolicTensor;
    const y = tf.layers.flatten({}).apply(c) as tf.SymbolicTensor;
    const model = tf.model({ inputs: inp, outputs: y });
    randomize(model, 9);
    const g = await checkTfjs(model, { inShape: IN });
    expect(g.nodes.find((n) => n.name === 'rs')).toMatchObject({ op: 'reshape', shape: [4, 1, 1] });
    expect(g.nodes.some((n) => n.op === 'transpose')).toBe(false);
  });

  it('refuses to reshape a concatenation of flattened images, naming the layer', async () => {
    const inp = tf.input({ shape: IN });
    const a = tf.layers.flatten({}).apply(tf.layers.conv2d({ filters: 2, kernelSize: 3 }).apply(inp)) as tf.SymbolicTensor;
    const b = tf.layers.flatten({}).apply(tf.layers.conv2d({ filters: 2, kernelSize: 2 }).apply(inp)) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate({}).apply([a, b]) as tf.SymbolicTensor;
    const r = tf.layers.reshape({ name: 'rs', targetShape: [2, 83] }).apply(cat) as tf.SymbolicTensor;
    const y = tf.layers.dense({ units: 2 }).apply(tf.layers.flatten({}).apply(r)) as tf.SymbolicTensor;
    const files = await save(tf.model({ inputs: inp, outputs: y }));
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(UnsupportedError);
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(/TF.js layer 'rs' \(Reshape\): reshaping a concatenation of flattened spatial tensors/);
  });
});

describe('Permute', () => {
  const orders = [[1, 2, 3], [1, 3, 2], [2, 1, 3], [2, 3, 1], [3, 1, 2], [3, 2, 1]];
  for (const dims of orders) {
    it(`dims [${dims.join(', ')}]`, async () => {
      const g = await checkTfjs(chain(seq(tf.layers.permute({ name: 'pm', dims })), 11), { inShape: IN });
      expect(g.nodes.some((n) => n.op === 'transpose')).toBe(dims.join() !== '1,2,3');
    });
  }
});

describe('Cropping2D, UpSampling2D', () => {
  it('Cropping2D [[1, 0], [2, 1]] and a symmetric crop of 1', async () => {
    const mid = seq(tf.layers.cropping2D({ name: 'cr', cropping: [[1, 0], [2, 1]] }), tf.layers.cropping2D({ name: 'cr2', cropping: 1 }));
    const g = await checkTfjs(chain(mid, 13), { inShape: IN, shows: /slice\s+\[N, 4, 6, 6\]\s+axis 2 \[2:8\]\s+gradient/ });
    expect(g.nodes.find((n) => n.name === 'cr')).toMatchObject({ op: 'slice', axis: 2, start: 2, end: 8 });
  });

  it('UpSampling2D nearest by [2, 3]; bilinear is refused', async () => {
    await checkTfjs(chain(seq(tf.layers.upSampling2d({ name: 'up', size: [2, 3] })), 15), { inShape: IN, shows: /upsample\s+\[N, 4, 14, 27\]\s+×2x3/ });
    const files = await save(chain(seq(tf.layers.upSampling2d({ name: 'up', size: [2, 2], interpolation: 'bilinear' }))));
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(UnsupportedError);
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(/TF.js layer 'up' \(UpSampling2D\): interpolation 'bilinear' is not supported/);
  });
});

describe('GlobalMaxPooling2D', () => {
  it('before a Dense; keepdims (Keras files) followed by a Reshape to a vector computes the same', async () => {
    const inp = tf.input({ shape: IN });
    const a = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'elu' }).apply(inp) as tf.SymbolicTensor;
    const p = tf.layers.globalMaxPooling2d({ name: 'gmp' }).apply(a) as tf.SymbolicTensor;
    const f = tf.layers.reshape({ name: 'fl', targetShape: [4] }).apply(p) as tf.SymbolicTensor;
    const y = tf.layers.dense({ units: 3 }).apply(f) as tf.SymbolicTensor;
    const model = tf.model({ inputs: inp, outputs: y });
    randomize(model, 17);
    await checkTfjs(model, { inShape: IN });
    const files = await save(model);
    layerJson(files, 'gmp').config.keepdims = true;
    const g = await checkTfjs(model, { inShape: IN, files });
    expect(ops(g)).toContain('gmp:maxpool2d');
    expect(ops(g)).not.toContain('gmp_flatten:flatten');
  });
});

describe('Rescaling', () => {
  it('at the input: kept as an affine node (zbox bounds mapped through it)', async () => {
    const whole = chain((x) => x, 1, seq(tf.layers.rescaling({ name: 'pre', scale: 2, offset: -1 })));
    await checkTfjs(whole, { inShape: IN, shows: /pre\s+affine\s+\[N, 3, 7, 9\]\s+x·2 \+ -1\s+pass/ });
  });

  it('after a conv: folded into it', async () => {
    const g = await checkTfjs(chain(seq(tf.layers.conv2d({ name: 'c1b', filters: 4, kernelSize: 1 }), tf.layers.rescaling({ name: 'sc', scale: 0.5, offset: 0.25 })), 19), {
      inShape: IN,
      shows: /folded constant scale\/shift 'sc' into 'c1b'/,
    });
    expect(g.nodes.find((n) => n.name === 'sc')?.op).toBe('affine');
  });

  it('per-channel scale and offset (Keras files), compared with tf ops', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.rescaling({ name: 'pre', inputShape: IN, scale: 1 }),
        tf.layers.conv2d({ name: 'c1', filters: 4, kernelSize: 3 }),
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: 3 }),
      ],
    });
    randomize(model, 21);
    const files = await save(model);
    Object.assign(layerJson(files, 'pre').config, { scale: [0.5, 2, -1], offset: [0.1, 0, -0.3] });
    const fn = (x: tf.Tensor) => tf.add(tf.mul(x, tf.tensor1d([0.5, 2, -1])), tf.tensor1d([0.1, 0, -0.3]));
    await checkTfjs(model, { inShape: IN, files, want: (x) => predictReplacing(model, 'pre', fn, x, IN) });
    Object.assign(layerJson(files, 'pre').config, { scale: [1, 2] });
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(/TF.js layer 'pre' \(Rescaling\): 'scale' \[1,2\] is not supported for input \[7, 9, 3\]/);
  });

  it('zbox bounds in the raw domain: explaining with the raw range matches the folded model', async () => {
    // x·2 − 1 at the input: zbox with raw bounds [0, 1] must equal zbox with [−1, 1] on the model
    // without the Rescaling, given the rescaled input
    const inner = chain((x) => x, 23);
    const whole = chain((x) => x, 23, seq(tf.layers.rescaling({ scale: 2, offset: -1 })));
    const a = await save(whole);
    const b = await save(inner);
    const ma = await modelOf(importTfjs(a.modelJson, a.weights));
    const mb = await modelOf(importTfjs(b.modelJson, b.weights));
    const x = uniform(3 * 189, 3);
    const ra = ma.explain(x, { composite: 'epsilon-gamma-box', low: 0, high: 1 }).relevance;
    const rb = mb.explain(x.map((v) => v * 2 - 1), { composite: 'epsilon-gamma-box', low: -1, high: 1 }).relevance;
    let err = 0;
    let scale = 0;
    for (let i = 0; i < ra.length; i++) {
      err = Math.max(err, Math.abs(ra[i] - rb[i]));
      scale = Math.max(scale, Math.abs(rb[i]));
    }
    expect(err / scale).toBeLessThan(1e-4);
    ma.dispose();
    mb.dispose();
  });
});
