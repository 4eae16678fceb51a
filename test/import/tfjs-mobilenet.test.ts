/**
 * End to end on small Keras-MobileNet-like TF.js models built with the layers API, the way Keras
 * applications build them: ZeroPadding2D before strided convs, Conv/DepthwiseConv2D without bias +
 * BatchNormalization + ReLU(maxValue 6), inverted residuals with Add, GlobalAveragePooling2D,
 * Dropout, Dense and a softmax; and a MobileNetV3-like one with hard-swish spelled as in Keras
 * (x · ReLU6(x + 3) / 6 with Rescaling layers and Multiply) and a squeeze-excitation block.
 * Logits against TF.js (before its softmax), every composite finite, conservation on the
 * bias-free variant.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { checkTfjs, randomize, tfPredict } from './tfjs-harness.js';

type T = tf.SymbolicTensor;
const IN: [number, number, number] = [17, 15, 3];

const apply = (l: tf.layers.Layer, x: T | T[]) => l.apply(x) as T;

/** Conv (no bias) → BatchNormalization → ReLU6, as Keras MobileNet blocks are made. */
function convBnRelu6(x: T, name: string, filters: number, kernel: number, strides = 1, padding: 'same' | 'valid' = 'same', depthwise = false): T {
  const conv = depthwise
    ? tf.layers.depthwiseConv2d({ name, kernelSize: kernel, strides, padding, useBias: false })
    : tf.layers.conv2d({ name, filters, kernelSize: kernel, strides, padding, useBias: false });
  const bn = apply(tf.layers.batchNormalization({ name: `${name}_bn` }), apply(conv, x));
  return apply(tf.layers.reLU({ name: `${name}_relu`, maxValue: 6 }), bn);
}

/** Keras MobileNetV2 inverted residual: expand 1x1, depthwise 3x3 (ZeroPadding2D when strided), project 1x1. */
function invertedResidual(x: T, name: string, inC: number, outC: number, stride: number): T {
  const e = convBnRelu6(x, `${name}_expand`, inC * 2, 1);
  const p = stride === 2 ? apply(tf.layers.zeroPadding2d({ name: `${name}_pad`, padding: [[0, 1], [0, 1]] }), e) : e;
  const d = convBnRelu6(p, `${name}_dw`, 0, 3, stride, stride === 2 ? 'valid' : 'same', true);
  const proj = apply(tf.layers.conv2d({ name: `${name}_project`, filters: outC, kernelSize: 1, useBias: false }), d);
  const bn = apply(tf.layers.batchNormalization({ name: `${name}_project_bn` }), proj);
  return inC === outC && stride === 1 ? apply(tf.layers.add({ name: `${name}_add` }), [x, bn]) : bn;
}

/** The classifier head: 1x1 conv, pooling, dropout, Dense logits; returns [logits, softmax]. */
function head(x: T, channels: number): [T, T] {
  const c = convBnRelu6(x, 'head', channels, 1);
  const p = apply(tf.layers.globalAveragePooling2d({ name: 'pool' }), c);
  const logits = apply(tf.layers.dense({ name: 'logits', units: 5 }), apply(tf.layers.dropout({ name: 'drop', rate: 0.2 }), p));
  return [logits, apply(tf.layers.activation({ name: 'probs', activation: 'softmax' }), logits)];
}

/** Model and its pre-softmax twin (same layers). */
function twin(inp: T, logits: T, probs: T, seed: number): { model: tf.LayersModel; pre: tf.LayersModel } {
  const model = tf.model({ inputs: inp, outputs: probs, name: 'mobilenet_like' });
  randomize(model, seed);
  return { model, pre: tf.model({ inputs: inp, outputs: logits }) };
}

describe('Keras-MobileNet-like TF.js models', () => {
  it('MobileNetV2-like: ZeroPadding2D, DepthwiseConv2D, BN, ReLU6, residual Add, GAP, Dense, softmax', async () => {
    const inp = tf.input({ shape: IN, name: 'image' });
    const p0 = apply(tf.layers.zeroPadding2d({ name: 'stem_pad', padding: [[0, 1], [0, 1]] }), inp);
    let x = convBnRelu6(p0, 'stem', 8, 3, 2, 'valid');
    x = invertedResidual(x, 'block1', 8, 8, 1);
    x = invertedResidual(x, 'block2', 8, 12, 2);
    const [logits, probs] = head(x, 24);
    const { model, pre } = twin(inp, logits, probs, 1);
    const graph = await checkTfjs(model, {
      inShape: IN,
      want: (v) => tfPredict(pre, v, IN),
      shows: /block1_dw_relu\s+activation\s+\[N, 16, 8, 7\]\s+relu6\s+pass/,
    });
    const notes = graph.notes.join('\n');
    expect(notes).toMatch(/ZeroPadding2D 'stem_pad' merged into the padding of 'stem'/);
    expect(notes).toMatch(/ZeroPadding2D 'block2_pad' merged into the padding of 'block2_dw'/);
    expect(graph.nodes.filter((n) => n.op === 'conv2d' && n.groups > 1).length).toBe(2);
  });

  it('MobileNetV3-like: hard-swish as x · ReLU6(x + 3) / 6 and a squeeze-excitation Multiply', async () => {
    const inp = tf.input({ shape: IN, name: 'image' });
    const stemConv = apply(tf.layers.conv2d({ name: 'stem', filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false }), inp);
    const stem = apply(tf.layers.batchNormalization({ name: 'stem_bn' }), stemConv);
    // Keras MobileNetV3's hard_swish: Multiply()([x, ReLU(6.)(x + 3.) * (1. / 6.)])
    const plus3 = apply(tf.layers.rescaling({ name: 'hs_plus3', scale: 1, offset: 3 }), stem);
    const r6 = apply(tf.layers.reLU({ name: 'hs_relu6', maxValue: 6 }), plus3);
    const gate = apply(tf.layers.rescaling({ name: 'hs_div6', scale: 1 / 6 }), r6);
    const hs = apply(tf.layers.multiply({ name: 'hs_mul' }), [stem, gate]);
    const dw = convBnRelu6(hs, 'dw', 0, 3, 1, 'same', true);
    // squeeze-excitation
    const sq = apply(tf.layers.globalAveragePooling2d({ name: 'se_pool' }), dw);
    const sr = apply(tf.layers.reshape({ name: 'se_reshape', targetShape: [1, 1, 8] }), sq);
    const s1 = apply(tf.layers.conv2d({ name: 'se_reduce', filters: 4, kernelSize: 1, activation: 'relu' }), sr);
    const s2 = apply(tf.layers.conv2d({ name: 'se_expand', filters: 8, kernelSize: 1, activation: 'hardSigmoid' }), s1);
    const excited = apply(tf.layers.multiply({ name: 'se_mul' }), [dw, s2]);
    const proj = apply(tf.layers.batchNormalization({ name: 'project_bn' }), apply(tf.layers.conv2d({ name: 'project', filters: 12, kernelSize: 1, useBias: false }), excited));
    const [logits, probs] = head(proj, 16);
    const { model, pre } = twin(inp, logits, probs, 2);
    const graph = await checkTfjs(model, {
      inShape: IN,
      want: (v) => tfPredict(pre, v, IN),
      shows: /se_mul\s+mul\s+\[N, 8, 9, 8\]\s+squeeze-excitation\s+signal/,
    });
    expect(graph.nodes.find((n) => n.name === 'hs_mul')).toMatchObject({ op: 'mul', pattern: 'self-gate', inputs: ['stem_bn', 'hs_div6'] });
    expect(graph.nodes.find((n) => n.name === 'se_reshape')).toMatchObject({ op: 'reshape', shape: [8, 1, 1] });
  });
});
