/**
 * ZeroPadding2D merged into the padding of the layer that reads it: hand-written LayersModel
 * JSON (ZeroPadding2D → Conv2D 'valid' must predict exactly like Conv2D 'same'), the merge rules
 * for pooling, every rejection, and a check against TF.js predict.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedError } from '../../src/errors.js';
import { importTfjs } from '../../src/import/tfjs.js';
import { loadModel, type Model } from '../../src/index.js';
import type { Graph, GraphNode } from '../../src/graph/ir.js';
import { evaluate, maxAbsDiff, nhwcToNchw } from './ir-eval.js';
import { rand } from './onnx-builder.js';

type Layer = { class_name: string; config: Record<string, unknown> };
interface WeightSpec { name: string; shape: number[]; values: number[] }

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** A Sequential model.json and its one shard. */
function sequential(batchInputShape: Array<number | null>, layers: Layer[], weights: WeightSpec[]) {
  const first = { ...layers[0], config: { ...layers[0].config, batch_input_shape: batchInputShape } };
  const data = new Float32Array(weights.reduce((s, w) => s + prod(w.shape), 0));
  let at = 0;
  for (const w of weights) {
    if (w.values.length !== prod(w.shape)) throw new Error(`bad test weight ${w.name}`);
    data.set(w.values, at);
    at += w.values.length;
  }
  const modelJson = {
    format: 'layers-model',
    modelTopology: { class_name: 'Sequential', config: { name: 'zp_test', layers: [first, ...layers.slice(1)] } },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
  };
  return { modelJson: JSON.parse(JSON.stringify(modelJson)), weights: new Uint8Array(data.buffer) };
}

const H = 6, W = 6, CIN = 2, F = 3, CLASSES = 4;

const zp = (padding: unknown, name = 'zp'): Layer => ({ class_name: 'ZeroPadding2D', config: { name, padding, data_format: 'channels_last' } });
const conv = (padding: string, strides = 1, name = 'conv'): Layer => ({
  class_name: 'Conv2D',
  config: { name, filters: F, kernel_size: [3, 3], strides: [strides, strides], padding, activation: 'relu', use_bias: true, data_format: 'channels_last' },
});
const flat: Layer = { class_name: 'Flatten', config: { name: 'fl' } };
const dense: Layer = { class_name: 'Dense', config: { name: 'out', units: CLASSES, activation: 'linear' } };

function convWeights(outH: number, outW = outH): WeightSpec[] {
  return [
    { name: 'conv/kernel', shape: [3, 3, CIN, F], values: rand(9 * CIN * F, 21) },
    { name: 'conv/bias', shape: [F], values: rand(F, 22) },
    { name: 'out/kernel', shape: [outH * outW * F, CLASSES], values: rand(outH * outW * F * CLASSES, 23) },
    { name: 'out/bias', shape: [CLASSES], values: rand(CLASSES, 24) },
  ];
}

function nodeNamed(g: Graph, name: string): GraphNode {
  const n = g.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name}`);
  return n;
}

const models: Model[] = [];
afterAll(() => models.forEach((m) => m.dispose()));

async function predict(src: { modelJson: unknown; weights: Uint8Array }, x: Float32Array): Promise<Float32Array> {
  const m = await loadModel(src);
  models.push(m);
  return m.predict(x);
}

describe('ZeroPadding2D before Conv2D', () => {
  const n = 3;
  const x = Float32Array.from(rand(n * H * W * CIN, 31));
  const bis = [null, H, W, CIN];

  it('ZeroPadding2D(1) → Conv2D valid equals Conv2D same (3x3, stride 1), exactly', async () => {
    for (const padding of [1, [1, 1], [[1, 1], [1, 1]]]) {
      const padded = sequential(bis, [zp(padding), conv('valid'), flat, dense], convWeights(H));
      const g = importTfjs(padded.modelJson, padded.weights);
      expect(g.nodes.map((v) => `${v.name}:${v.op}`)).toEqual(['conv:conv2d', 'conv_act:relu', 'fl:flatten', 'out:dense']);
      const c = nodeNamed(g, 'conv');
      expect(c.op === 'conv2d' && [c.padding, c.inputs]).toEqual([[1, 1, 1, 1], ['input']]);
      expect(g.notes).toContain("ZeroPadding2D 'zp' merged into the padding of 'conv'");
      const same = sequential(bis, [conv('same'), flat, dense], convWeights(H));
      const want = await predict(same, x);
      expect(Array.from(await predict(padded, x))).toEqual(Array.from(want));
    }
  });

  it('asymmetric padding: [[0, 1], [0, 1]] → stride-2 valid equals stride-2 same on 6x6', async () => {
    const padded = sequential(bis, [zp([[0, 1], [0, 1]]), conv('valid', 2), flat, dense], convWeights(3));
    const c = nodeNamed(importTfjs(padded.modelJson, padded.weights), 'conv');
    expect(c.op === 'conv2d' && c.padding).toEqual([0, 0, 1, 1]);
    const same = sequential(bis, [conv('same', 2), flat, dense], convWeights(3));
    expect(Array.from(await predict(padded, x))).toEqual(Array.from(await predict(same, x)));
  });

  it('sums with the layer\'s own "same" padding and with a second ZeroPadding2D', () => {
    // padded 6+1+2 = 9 (rows), 6+3+0 = 9 (cols); same on 9, k3, s1: 1/1 → rows [2, 3], cols [4, 1]
    const m = sequential(bis, [zp([[1, 2], [3, 0]]), conv('same'), flat, dense], convWeights(9));
    const c = nodeNamed(importTfjs(m.modelJson, m.weights), 'conv');
    expect(c.op === 'conv2d' && c.padding).toEqual([2, 4, 3, 1]);
    const two = sequential(bis, [zp(1, 'zp1'), zp([[0, 1], [2, 0]], 'zp2'), conv('valid'), flat, dense], convWeights(7, 8));
    const g = importTfjs(two.modelJson, two.weights);
    const c2 = nodeNamed(g, 'conv');
    expect(c2.op === 'conv2d' && c2.padding).toEqual([1, 3, 2, 1]);
    expect(g.notes).toContain("ZeroPadding2D 'zp1, zp2' merged into the padding of 'conv'");
  });

  it('merges into DepthwiseConv2D', () => {
    const m = sequential(
      bis,
      [zp([[1, 0], [0, 2]]), { class_name: 'DepthwiseConv2D', config: { name: 'dw', kernel_size: 3, depth_multiplier: 1, padding: 'valid', use_bias: false } }, flat, dense],
      [
        { name: 'dw/depthwise_kernel', shape: [3, 3, CIN, 1], values: rand(9 * CIN, 41) },
        { name: 'out/kernel', shape: [5 * 6 * CIN, CLASSES], values: rand(5 * 6 * CIN * CLASSES, 42) },
        { name: 'out/bias', shape: [CLASSES], values: rand(CLASSES, 43) },
      ],
    );
    const dw = nodeNamed(importTfjs(m.modelJson, m.weights), 'dw');
    expect(dw.op === 'conv2d' && [dw.groups, dw.padding]).toEqual([CIN, [1, 0, 0, 2]]);
  });
});

describe('ZeroPadding2D before pooling', () => {
  const bis = [null, 5, 5, CIN];
  const relu: Layer = { class_name: 'Activation', config: { name: 'relu', activation: 'relu' } };
  const pool = (cls: string, padding = 'valid', pool_size = [2, 2], strides = [2, 2]): Layer => ({
    class_name: cls,
    config: { name: 'pool', pool_size, strides, padding, data_format: 'channels_last' },
  });
  const imp = (layers: Layer[]) => {
    const m = sequential(bis, layers, []);
    return importTfjs(m.modelJson, m.weights);
  };

  it('AveragePooling2D: padding merged with count_include_pad; rejected on top of its own "same" padding', () => {
    const p = nodeNamed(imp([zp([[1, 0], [1, 0]]), pool('AveragePooling2D')]), 'pool');
    expect(p.op === 'avgpool2d' && [p.padding, p.countIncludePad]).toEqual([[1, 1, 0, 0], true]);
    // same with no padding of its own (6 = 3·2) is fine
    const s = nodeNamed(imp([zp([[1, 0], [1, 0]]), pool('AveragePooling2D', 'same')]), 'pool');
    expect(s.op === 'avgpool2d' && [s.padding, s.countIncludePad]).toEqual([[1, 1, 0, 0], true]);
    expect(() => imp([zp(1), pool('AveragePooling2D', 'same')])).toThrow(UnsupportedError);
    expect(() => imp([zp(1), pool('AveragePooling2D', 'same')])).toThrow(
      /TF.js layer 'pool' \(AveragePooling2D\): cannot merge the zero padding of ZeroPadding2D 'zp' into average pooling with padding 'same'/,
    );
  });

  it('MaxPooling2D: only on non-negative inputs and with at most half the pool size', () => {
    const p = nodeNamed(imp([relu, zp([[1, 0], [1, 0]]), pool('MaxPooling2D')]), 'pool');
    expect(p.op === 'maxpool2d' && p.padding).toEqual([1, 1, 0, 0]);
    expect(() => imp([zp([[1, 0], [1, 0]]), pool('MaxPooling2D')])).toThrow(UnsupportedError);
    expect(() => imp([zp([[1, 0], [1, 0]]), pool('MaxPooling2D')])).toThrow(
      /TF.js layer 'pool' \(MaxPooling2D\): cannot merge the zero padding of ZeroPadding2D 'zp' into max pooling \(its input may be negative\)/,
    );
    expect(() => imp([relu, zp(2), pool('MaxPooling2D')])).toThrow(/padding \[2, 2, 2, 2\] is more than half the pool size \[2, 2\]/);
  });
});

describe('ZeroPadding2D: rejections', () => {
  const bis = [null, H, W, CIN];

  it('rejects any other reader, naming the ZeroPadding2D layer', () => {
    const m = sequential(bis, [zp(1), flat, dense], [
      { name: 'out/kernel', shape: [8 * 8 * CIN, CLASSES], values: rand(8 * 8 * CIN * CLASSES) },
      { name: 'out/bias', shape: [CLASSES], values: rand(CLASSES) },
    ]);
    expect(() => importTfjs(m.modelJson, m.weights)).toThrow(UnsupportedError);
    expect(() => importTfjs(m.modelJson, m.weights)).toThrow(
      "ZeroPadding2D 'zp' is read by TF.js layer 'fl' (Flatten); ZeroPadding2D is only supported right before Conv2D, DepthwiseConv2D, SeparableConv2D, AveragePooling2D or MaxPooling2D (merged into their padding)",
    );
    const relu = sequential(bis, [zp(1), { class_name: 'ReLU', config: { name: 'r' } }], []);
    expect(() => importTfjs(relu.modelJson, relu.weights)).toThrow(/ZeroPadding2D 'zp' is read by TF.js layer 'r' \(ReLU\)/);
  });

  it('rejects a ZeroPadding2D at the output or read by several layers', () => {
    const last = sequential(bis, [zp(1)], []);
    expect(() => importTfjs(last.modelJson, last.weights)).toThrow(/TF.js layer 'zp' \(ZeroPadding2D\) is the model output/);
    const convCfg = (name: string) => ({ ...conv('valid', 1, name).config, activation: 'linear' });
    const fn = {
      format: 'layers-model',
      modelTopology: {
        class_name: 'Model',
        config: {
          name: 'fork',
          layers: [
            { class_name: 'InputLayer', name: 'in', config: { name: 'in', batch_input_shape: bis }, inbound_nodes: [] },
            { class_name: 'ZeroPadding2D', name: 'zp', config: { name: 'zp', padding: 1 }, inbound_nodes: [[['in', 0, 0, {}]]] },
            { class_name: 'Conv2D', name: 'a', config: convCfg('a'), inbound_nodes: [[['zp', 0, 0, {}]]] },
            { class_name: 'Conv2D', name: 'b', config: convCfg('b'), inbound_nodes: [[['zp', 0, 0, {}]]] },
            { class_name: 'Add', name: 'add', config: { name: 'add' }, inbound_nodes: [[['a', 0, 0, {}], ['b', 0, 0, {}]]] },
          ],
          input_layers: [['in', 0, 0]],
          output_layers: [['add', 0, 0]],
        },
      },
      weightsManifest: [{ paths: ['w.bin'], weights: [] }],
    };
    expect(() => importTfjs(fn, new Uint8Array(0))).toThrow(UnsupportedError);
    expect(() => importTfjs(fn, new Uint8Array(0))).toThrow(
      /TF.js layer 'zp' \(ZeroPadding2D\) is read by 2 layers; ZeroPadding2D is only supported with a single reader/,
    );
  });

  it('rejects malformed padding and channels_first', () => {
    for (const bad of [-1, [1, 2, 3], [[1], [1, 1]], 'same', 1.5]) {
      const m = sequential(bis, [zp(bad), conv('valid')], convWeights(H).slice(0, 2));
      expect(() => importTfjs(m.modelJson, m.weights)).toThrow(ModelFormatError);
      expect(() => importTfjs(m.modelJson, m.weights)).toThrow(/TF.js layer 'zp' \(ZeroPadding2D\): 'padding' must be n, \[h, w\] or \[\[top, bottom\], \[left, right\]\]/);
    }
    const cf = sequential(bis, [{ class_name: 'ZeroPadding2D', config: { name: 'zp', padding: 1, data_format: 'channels_first' } }, conv('valid')], convWeights(H).slice(0, 2));
    expect(() => importTfjs(cf.modelJson, cf.weights)).toThrow(/layer 'zp' \(ZeroPadding2D\): data_format 'channels_first' is not supported/);
  });
});

describe('ZeroPadding2D against TF.js predict', () => {
  /** Random weights, so that nothing is at its trivial initial value. */
  function randomize(model: tf.LayersModel, seed: number): void {
    let s = seed;
    for (const layer of model.layers) {
      const ws = layer.getWeights();
      if (ws.length > 0) layer.setWeights(ws.map((w) => tf.tensor(rand(w.size, s++).map((v) => v * 0.7), w.shape, 'float32')));
    }
  }

  it('conv, max pooling, average pooling, depthwise conv after ZeroPadding2D', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.zeroPadding2d({ name: 'zp1', inputShape: [7, 6, 2], padding: [[1, 2], [0, 1]] }),
        tf.layers.conv2d({ name: 'c1', filters: 4, kernelSize: 3, padding: 'valid', activation: 'relu' }),
        tf.layers.zeroPadding2d({ name: 'zp2', padding: [[0, 1], [1, 1]] }),
        tf.layers.maxPooling2d({ name: 'mp', poolSize: 3, strides: 2, padding: 'valid' }),
        tf.layers.zeroPadding2d({ name: 'zp3', padding: 1 }),
        tf.layers.averagePooling2d({ name: 'ap', poolSize: 2, strides: 1, padding: 'valid' }),
        tf.layers.zeroPadding2d({ name: 'zp4', padding: [1, 0] }),
        tf.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2 }),
        tf.layers.flatten({ name: 'fl' }),
        tf.layers.dense({ name: 'out', units: 5 }),
      ],
    });
    randomize(model, 7);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const a = artifacts!;
    const modelJson = JSON.parse(
      JSON.stringify({ modelTopology: a.modelTopology, format: a.format, weightsManifest: [{ paths: ['w.bin'], weights: a.weightSpecs }] }),
    );
    const weights = new Uint8Array(a.weightData as ArrayBuffer);
    const graph = importTfjs(modelJson, weights);
    expect(graph.nodes.map((v) => v.op)).toEqual(['conv2d', 'relu', 'maxpool2d', 'avgpool2d', 'conv2d', 'flatten', 'dense']);
    expect(graph.nodes.filter((v) => v.name.startsWith('zp'))).toEqual([]);
    const ap = nodeNamed(graph, 'ap');
    expect(ap.op === 'avgpool2d' && [ap.padding, ap.countIncludePad]).toEqual([[1, 1, 1, 1], true]);

    const n = 3, [h, w, c] = [7, 6, 2];
    const x = rand(n * h * w * c, 99);
    const want = (model.predict(tf.tensor(x, [n, h, w, c])) as tf.Tensor).dataSync();
    const scale = Math.max(1e-3, ...Array.from(want, Math.abs));
    // the test evaluator (float64, NCHW)
    const ref = evaluate(graph, nhwcToNchw(x, n, h, w, c), n).get(graph.output)!.data;
    expect(maxAbsDiff(ref, want) / scale).toBeLessThan(2e-5);
    // the engine, through loadModel (NHWC in, as TF.js)
    const got = await predict({ modelJson, weights }, Float32Array.from(x));
    expect(maxAbsDiff(got, want) / scale).toBeLessThan(2e-5);
  });
});
