/**
 * TF.js Multiply as a gating product (squeeze-excitation with a [1, 1, C] or a [C] gate, x·σ(x)
 * recognised as SiLU, a sigmoid gate from another branch) and Subtract (Keras files), against
 * TF.js predict, explained with every composite, conserving relevance on the bias-free variant
 * (the gate branch gets no relevance: signal-take-all); a product of two unrelated activations
 * shares relevance between them (uniform). A product of other shapes fails naming the layer.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { composites } from '../../src/composites.js';
import { UnsupportedError } from '../../src/errors.js';
import { rules } from '../../src/rules.js';
import { importTfjs } from '../../src/import/tfjs.js';
import { checkTfjs, layerJson, modelOf, randomize, save } from './tfjs-harness.js';
import { uniform } from '../helpers/oracle.js';

const IN: [number, number, number] = [7, 9, 3];
type T = tf.SymbolicTensor;

/** input → Conv2D(4, relu) → mid(x) → Conv2D(5, relu) → GlobalAveragePooling2D → Dense(3) */
function chain(mid: (x: T) => T, seed: number): tf.LayersModel {
  const inp = tf.input({ shape: IN });
  const a = tf.layers.conv2d({ name: 'c1', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(inp) as T;
  const c = tf.layers.conv2d({ name: 'c2', filters: 5, kernelSize: 3, activation: 'relu' }).apply(mid(a)) as T;
  const d = tf.layers.globalAveragePooling2d({}).apply(c) as T;
  const y = tf.layers.dense({ units: 3 }).apply(d) as T;
  const model = tf.model({ inputs: inp, outputs: y });
  randomize(model, seed);
  return model;
}

/** Keras squeeze-excitation: GAP → Reshape(1, 1, C) → Conv 1x1 relu → Conv 1x1 gate → Multiply. */
function se(x: T, gate: 'sigmoid' | 'hardSigmoid', order: 'x-first' | 'gate-first' = 'x-first'): T {
  const s = tf.layers.globalAveragePooling2d({ name: 'se_pool' }).apply(x) as T;
  const r = tf.layers.reshape({ name: 'se_reshape', targetShape: [1, 1, 4] }).apply(s) as T;
  const h = tf.layers.conv2d({ name: 'se_reduce', filters: 2, kernelSize: 1, activation: 'relu' }).apply(r) as T;
  const g = tf.layers.conv2d({ name: 'se_expand', filters: 4, kernelSize: 1, activation: gate }).apply(h) as T;
  return tf.layers.multiply({ name: 'se_mul' }).apply(order === 'x-first' ? [x, g] : [g, x]) as T;
}

describe('Multiply as a gate', () => {
  it('squeeze-excitation with a [1, 1, C] sigmoid gate', async () => {
    const g = await checkTfjs(chain((x) => se(x, 'sigmoid'), 1), { inShape: IN, shows: /se_mul\s+mul\s+\[N, 4, 7, 9\]\s+squeeze-excitation\s+signal/ });
    expect(g.nodes.find((n) => n.name === 'se_mul')).toMatchObject({ op: 'mul', inputs: ['c1_act', 'se_expand_act'], pattern: 'squeeze-excitation' });
    expect(g.notes.join('\n')).toMatch(/Multiply 'se_mul' is a squeeze-excitation product: the gate 'se_expand_act' gets no relevance/);
  });

  it('squeeze-excitation with the gate first and a hard_sigmoid', async () => {
    await checkTfjs(chain((x) => se(x, 'hardSigmoid', 'gate-first'), 3), { inShape: IN, shows: /squeeze-excitation/ });
  });

  it('squeeze-excitation with a [C] gate from Dense layers (broadcast as [1, 1, C])', async () => {
    const mid = (x: T) => {
      const s = tf.layers.globalAveragePooling2d({}).apply(x) as T;
      const h = tf.layers.dense({ units: 2, activation: 'relu' }).apply(s) as T;
      const g = tf.layers.dense({ units: 4, activation: 'sigmoid' }).apply(h) as T;
      return tf.layers.multiply({ name: 'm' }).apply([x, g]) as T;
    };
    await checkTfjs(chain(mid, 5), { inShape: IN, shows: /m\s+mul\s+\[N, 4, 7, 9\]\s+squeeze-excitation/ });
  });

  it('the gate branch gets no relevance; the gradient rule on mul gives it some', async () => {
    const files = await save(chain((x) => se(x, 'sigmoid'), 7));
    const m = await modelOf(importTfjs(files.modelJson, files.weights));
    const x = uniform(3 * 189, 2);
    const take = m.explain(x, { layers: true });
    expect(take.layers!['se_expand_act'].every((v) => v === 0)).toBe(true);
    const grad = m.explain(x, { layers: true, composite: composites.custom({ mul: rules.gradient() }) });
    expect(grad.layers!['se_expand_act'].some((v) => v !== 0)).toBe(true);
    m.dispose();
  });

  it('x · sigmoid(x) is recognised as SiLU', async () => {
    const mid = (x: T) => {
      const s = tf.layers.activation({ name: 'sig', activation: 'sigmoid' }).apply(x) as T;
      return tf.layers.multiply({ name: 'm' }).apply([s, x]) as T;
    };
    const g = await checkTfjs(chain(mid, 9), { inShape: IN, shows: /m\s+activation\s+\[N, 4, 7, 9\]\s+silu/ });
    expect(g.nodes.find((n) => n.name === 'm')).toMatchObject({ op: 'mul', inputs: ['c1_act', 'sig'], pattern: 'self-gate' });
  });

  it('a sigmoid gate computed from the input by another branch', async () => {
    const inp = tf.input({ shape: IN });
    const x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(inp) as T;
    const g = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'sigmoid' }).apply(inp) as T;
    const m = tf.layers.multiply({ name: 'm' }).apply([g, x]) as T;
    const c = tf.layers.conv2d({ filters: 5, kernelSize: 3, activation: 'relu' }).apply(m) as T;
    const y = tf.layers.dense({ units: 3 }).apply(tf.layers.globalAveragePooling2d({}).apply(c)) as T;
    const model = tf.model({ inputs: inp, outputs: y });
    randomize(model, 11);
    await checkTfjs(model, { inShape: IN, shows: /m\s+mul\s+\[N, 4, 7, 9\]\s+gate\s+signal/ });
  });

  it('a product of two unrelated activations is a plain product: each factor gets half (uniform)', async () => {
    const mid = (x: T) => {
      const t = tf.layers.conv2d({ name: 'other', filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh' }).apply(x) as T;
      return tf.layers.multiply({ name: 'prod' }).apply([x, t]) as T;
    };
    const g = await checkTfjs(chain(mid, 13), { inShape: IN, shows: /prod\s+mul\s+\[N, 4, 7, 9\]\s+product\s+uniform/ });
    expect(g.nodes.find((n) => n.name === 'prod')).toMatchObject({ op: 'mul', pattern: 'product' });
  });

  it('refuses a product of two activations whose shapes differ (not a per-channel gate), naming the layer', async () => {
    const inp = tf.input({ shape: IN });
    const a = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }).apply(inp) as T;
    const b = tf.layers.conv2d({ filters: 1, kernelSize: 3, activation: 'tanh' }).apply(inp) as T;
    const m = tf.layers.multiply({ name: 'prod' }).apply([a, b]) as T;
    const y = tf.layers.dense({ units: 2 }).apply(tf.layers.flatten({}).apply(m)) as T;
    const files = await save(tf.model({ inputs: inp, outputs: y }));
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(UnsupportedError);
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(/TF.js layer 'prod' \(Multiply\): Multiply of \[5, 7, 4\] and \[5, 7, 1\]/);
  });
});

describe('Subtract (Keras files)', () => {
  it('a − b equals TF.js a + Rescaling(−1)(b)', async () => {
    // TF.js 4.22 has no Subtract layer: build a + (−1)·b, then edit the JSON into Subtract([a, b])
    const inp = tf.input({ shape: IN });
    const a = tf.layers.conv2d({ name: 'a', filters: 4, kernelSize: 3, activation: 'relu' }).apply(inp) as T;
    const b = tf.layers.conv2d({ name: 'b', filters: 4, kernelSize: 3, activation: 'relu' }).apply(inp) as T;
    const nb = tf.layers.rescaling({ name: 'neg', scale: -1 }).apply(b) as T;
    const d = tf.layers.add({ name: 'diff' }).apply([a, nb]) as T;
    const c = tf.layers.conv2d({ name: 'c2', filters: 5, kernelSize: 3, activation: 'relu' }).apply(d) as T;
    const y = tf.layers.dense({ units: 3 }).apply(tf.layers.globalAveragePooling2d({}).apply(c)) as T;
    const model = tf.model({ inputs: inp, outputs: y });
    randomize(model, 13);
    const files = await save(model);
    const layers = files.modelJson.modelTopology.config.layers;
    files.modelJson.modelTopology.config.layers = layers.filter((l: any) => l.name !== 'neg');
    const diff = layerJson(files, 'diff');
    diff.class_name = 'Subtract';
    diff.inbound_nodes[0][1][0] = 'b';
    const g = await checkTfjs(model, { inShape: IN, files, shows: /diff\s+add/ });
    expect(g.nodes.find((n) => n.name === 'diff_negate')).toMatchObject({ op: 'affine', inputs: ['b_act'] });
  });
});
