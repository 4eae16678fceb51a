/**
 * importTfjs against TF.js itself (dev dependency, tests only) for what the shared models do not
 * cover: strided "same" convolutions (asymmetric padding), dilation, DepthwiseConv2D,
 * SeparableConv2D, "same" max/average pooling, BatchNormalization after Flatten, Concatenate on
 * channels and of flattened tensors, GlobalMaxPooling2D. The imported graph, run by the test
 * evaluator in NCHW, must reproduce model.predict.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { importTfjs } from '../../src/import/tfjs.js';
import type { Graph } from '../../src/graph/ir.js';
import { evaluate, maxAbsDiff, nhwcToNchw } from './ir-eval.js';
import { rand } from './onnx-builder.js';
import { save } from './tfjs-harness.js';

/** Random weights (BN variances positive), so that nothing is at its trivial initial value. */
function randomize(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    layer.setWeights(
      ws.map((w, i) => {
        const name = layer.weights[i].name;
        const v = rand(w.size, s++).map((x) => (name.includes('variance') ? 0.5 + Math.abs(x) : name.includes('gamma') ? 1 + 0.5 * x : x * 0.7));
        return tf.tensor(v, w.shape, 'float32');
      }),
    );
  }
}

/** Saved as a file would be (tfjs-harness's save), then imported. */
async function saveAndImport(model: tf.LayersModel): Promise<{ graph: Graph; modelJson: any }> {
  const { modelJson, weights } = await save(model);
  return { graph: importTfjs(modelJson, weights), modelJson };
}

function check(model: tf.LayersModel, graph: Graph, inShape: [number, number, number], n = 3): void {
  const [h, w, c] = inShape;
  const x = rand(n * h * w * c, 99);
  const want = (model.predict(tf.tensor(x, [n, h, w, c])) as tf.Tensor).dataSync();
  expect(graph.inputShape).toEqual([c, h, w]);
  expect(graph.inputLayout).toBe('NHWC');
  const got = evaluate(graph, nhwcToNchw(x, n, h, w, c), n).get(graph.output)!.data;
  const scale = Math.max(1e-3, ...Array.from(want, Math.abs));
  expect(maxAbsDiff(got, want) / scale).toBeLessThan(2e-5);
}

describe('importTfjs against TF.js predict', () => {
  it('sequential: strided same conv, depthwise, same max pool, BN before and after Flatten, Dropout', async () => {
    const model = tf.sequential({
      name: 'oracle_seq',
      layers: [
        tf.layers.conv2d({ name: 'c1', inputShape: [9, 7, 3], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
        tf.layers.depthwiseConv2d({ name: 'dw', kernelSize: [3, 2], depthMultiplier: 2, padding: 'same', activation: 'relu' }),
        tf.layers.maxPooling2d({ name: 'mp', poolSize: 3, strides: 2, padding: 'same' }),
        tf.layers.batchNormalization({ name: 'bn' }),
        tf.layers.flatten({ name: 'fl' }),
        tf.layers.batchNormalization({ name: 'bn_flat' }),
        tf.layers.dropout({ name: 'do', rate: 0.3 }),
        tf.layers.dense({ name: 'out', units: 6 }),
      ],
    });
    randomize(model, 1);
    const { graph } = await saveAndImport(model);
    expect(graph.nodes.map((x) => `${x.name}:${x.op}`)).toEqual([
      'c1:conv2d', 'c1_act:relu', 'dw:conv2d', 'dw_act:relu', 'mp:maxpool2d', 'bn:batchnorm', 'fl:flatten', 'bn_flat:batchnorm', 'do:dropout', 'out:dense',
    ]);
    const c1 = graph.nodes[0];
    // 9x7, k3, s2: out 5x4; rows total 2 → 1/1, cols total = 3·2 + 3 − 7 = 2 → 1/1
    expect(c1.op === 'conv2d' && c1.padding).toEqual([1, 1, 1, 1]);
    const dw = graph.nodes[2];
    expect(dw.op === 'conv2d' && [dw.groups, dw.inChannels, dw.outChannels, dw.padding]).toEqual([4, 4, 8, [1, 0, 1, 1]]);
    const mp = graph.nodes[4];
    // 5x4, k3, s2: out 3x2, rows total = 2·2 + 3 − 5 = 2 → 1/1, cols total = 2 + 3 − 4 = 1 → 0/1
    expect(mp.op === 'maxpool2d' && mp.padding).toEqual([1, 0, 1, 1]);
    check(model, graph, [9, 7, 3]);
  });

  it('functional: dilated conv, same average pooling, separable conv, concatenations, global max pooling', async () => {
    const inp = tf.input({ shape: [8, 10, 2], name: 'inp' });
    const a = tf.layers.conv2d({ name: 'a', filters: 3, kernelSize: 3, padding: 'same', dilationRate: 2 }).apply(inp) as tf.SymbolicTensor;
    const b = tf.layers.averagePooling2d({ name: 'b', poolSize: 3, strides: 1, padding: 'same' }).apply(inp) as tf.SymbolicTensor;
    const cat1 = tf.layers.concatenate({ name: 'cat1' }).apply([a, b]) as tf.SymbolicTensor;
    const d = tf.layers
      .separableConv2d({ name: 'd', filters: 4, kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'relu' })
      .apply(cat1) as tf.SymbolicTensor;
    const e = tf.layers.averagePooling2d({ name: 'e', poolSize: 3, strides: 2, padding: 'same' }).apply(d) as tf.SymbolicTensor;
    const f = tf.layers.flatten({ name: 'f' }).apply(e) as tf.SymbolicTensor;
    const g = tf.layers.globalMaxPooling2d({ name: 'g' }).apply(d) as tf.SymbolicTensor;
    const h = tf.layers.conv2d({ name: 'h', filters: 2, kernelSize: 2, strides: 2, padding: 'valid' }).apply(d) as tf.SymbolicTensor;
    const hf = tf.layers.flatten({ name: 'hf' }).apply(h) as tf.SymbolicTensor;
    const cat2 = tf.layers.concatenate({ name: 'cat2' }).apply([f, g, hf]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ name: 'out', units: 5 }).apply(cat2) as tf.SymbolicTensor;
    const model = tf.model({ inputs: inp, outputs: out, name: 'oracle_fn' });
    randomize(model, 50);
    const { graph, modelJson } = await saveAndImport(model);
    expect(modelJson.modelTopology.class_name).toBe('Model');
    const byName = new Map(graph.nodes.map((x) => [x.name, x]));
    expect(byName.get('cat1')).toMatchObject({ op: 'concat', axis: 0, inputs: ['a', 'b'] });
    expect(byName.get('b')).toMatchObject({ op: 'avgpool2d', padding: [1, 1, 1, 1], countIncludePad: false });
    expect(byName.get('d_depthwise')).toMatchObject({ op: 'conv2d', groups: 5, outChannels: 10, bias: null });
    expect(byName.get('d')).toMatchObject({ op: 'conv2d', kernel: [1, 1], inputs: ['d_depthwise'] });
    expect(byName.get('g')).toMatchObject({ op: 'maxpool2d', kernel: [8, 10] });
    expect(byName.get('cat2')).toMatchObject({ op: 'concat', axis: 0, inputs: ['f', 'g_flatten', 'hf'] });
    check(model, graph, [8, 10, 2]);
  });
});
