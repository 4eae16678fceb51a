/**
 * The shared TF.js models: the imported graph must be cases.json's `torch_equivalent` (nodes,
 * wiring), its weights the documented translation of the Keras kernels (`conversion`), and it
 * must reproduce the tfjs logits.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importTfjs } from '../../src/import/tfjs.js';
import type { Graph, GraphNode } from '../../src/graph/ir.js';
import { evaluate, maxAbsDiff, nhwcToNchw } from './ir-eval.js';
import { modelDir, readBytes, readJson } from './testdata.js';

const MODELS = ['tfjs_cnn', 'tfjs_mlp', 'tfjs_residual'];

const OP_OF: Record<string, string> = {
  linear: 'dense',
  conv2d: 'conv2d',
  relu: 'relu',
  maxpool2d: 'maxpool2d',
  avgpool2d: 'avgpool2d',
  adaptiveavgpool2d: 'globalavgpool',
  flatten: 'flatten',
  batchnorm2d: 'batchnorm',
  dropout: 'dropout',
  add: 'add',
};

/** The Keras weights, read straight from the shard by manifest offsets (independent of the importer). */
function kerasWeights(modelJson: any, shard: Uint8Array): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const copy = new Uint8Array(shard); // aligned
  let at = 0;
  for (const group of modelJson.weightsManifest)
    for (const w of group.weights) {
      const n = w.shape.reduce((a: number, b: number) => a * b, 1);
      out.set(w.name, { shape: w.shape, data: new Float32Array(copy.buffer, at, n) });
      at += n * 4;
    }
  expect(at).toBe(shard.byteLength);
  return out;
}

function load(model: string) {
  const dir = modelDir(model);
  const modelJson = readJson(join(dir, 'tfjs', 'model.json'));
  const shard = readBytes(join(dir, 'tfjs', 'group1-shard1of1.bin'));
  return { dir, modelJson, shard, cases: readJson(join(dir, 'cases.json')) };
}

/** Exact float equality, element by element, reporting the first mismatch. */
function expectSame(actual: ArrayLike<number>, expected: (i: number) => number, label: string): void {
  for (let i = 0; i < actual.length; i++) {
    const e = expected(i);
    if (!Object.is(actual[i], e)) expect(actual[i], `${label}[${i}]`).toBe(e);
  }
}

describe.each(MODELS)('importTfjs: %s', (model) => {
  const { dir, modelJson, shard, cases } = load(model);
  const graph: Graph = importTfjs(modelJson, shard);
  const torch: Array<{ node: string; type: string; inputs: string[]; keras_layer: string }> = cases.torch_equivalent.nodes;
  const conversion: string[] = cases.torch_equivalent.conversion;
  const stripped = cases.stripped_final_activation as { layer: string; activation: string } | null;
  const keras = kerasWeights(modelJson, shard);
  const n = cases.input.shape[0];
  const nhwc = cases.layout === 'NHWC';
  const raw = new Float32Array(readBytes(join(dir, 'inputs.f32')).slice().buffer);
  const input = nhwc ? nhwcToNchw(raw, n, cases.input.shape[1], cases.input.shape[2], cases.input.shape[3]) : raw;
  const values = evaluate(graph, input, n);
  const byName = new Map(graph.nodes.map((node) => [node.name, node]));

  it('is the torch_equivalent node graph (plus the final softmax node, if any)', () => {
    expect(graph.format).toBe('tfjs');
    expect(graph.inputLayout).toBe(nhwc ? 'NHWC' : 'NCHW');
    const s = cases.input.shape;
    expect(graph.inputShape).toEqual(nhwc ? [s[3], s[1], s[2]] : s.slice(1));
    let nodes = graph.nodes;
    if (stripped) {
      const last = nodes[nodes.length - 1];
      expect(last.op).toBe(stripped.activation);
      expect(last.name).toBe(`${stripped.layer}_act`);
      expect(last.inputs).toEqual([stripped.layer]);
      expect(graph.output).toBe(last.name);
      nodes = nodes.slice(0, -1);
    } else {
      expect(graph.output).toBe(torch[torch.length - 1].node);
    }
    expect(nodes.map((x) => [x.name, x.op, x.inputs])).toEqual(torch.map((t) => [t.node, OP_OF[t.type] ?? t.type, t.inputs]));
    for (const node of nodes) expect(node.source).toContain(torch.find((t) => t.node === node.name)!.keras_layer);
  });

  it('translates Conv2D kernels [kh,kw,in,out] -> [out,in,kh,kw] with "same" = k//2 padding', () => {
    expect(conversion.some((c) => c.includes('permute 3,2,0,1'))).toBe(true);
    for (const node of graph.nodes.filter((x): x is Extract<GraphNode, { op: 'conv2d' }> => x.op === 'conv2d')) {
      const k = keras.get(`${node.name}/kernel`)!;
      const [kh, kw, cin, cout] = k.shape;
      expect([node.outChannels, node.inChannels, ...node.kernel]).toEqual([cout, cin, kh, kw]);
      expect(node.padding).toEqual([kh >> 1, kw >> 1, kh >> 1, kw >> 1]);
      expect(node.stride).toEqual([1, 1]);
      expectSame(node.weight, (i) => {
        const x = i % kw, y = Math.floor(i / kw) % kh, ci = Math.floor(i / (kw * kh)) % cin, o = Math.floor(i / (kw * kh * cin));
        return k.data[((y * kw + x) * cin + ci) * cout + o];
      }, `${node.name}.weight`);
      expectSame(node.bias!, (i) => keras.get(`${node.name}/bias`)!.data[i], `${node.name}.bias`);
    }
  });

  it('translates Dense kernels [in,out] -> [out,in], permuting columns after a Flatten of [H,W,C]', () => {
    expect(conversion.some((c) => c.includes('h*W*C + w*C + c') && c.includes('c*H*W + h*W + w'))).toBe(true);
    for (const node of graph.nodes.filter((x): x is Extract<GraphNode, { op: 'dense' }> => x.op === 'dense')) {
      const k = keras.get(`${node.name}/kernel`)!;
      const [inF, out] = k.shape;
      expect([node.inFeatures, node.outFeatures]).toEqual([inF, out]);
      // Walk back through view-like nodes to see whether the input is a Flatten of a spatial tensor.
      let src = byName.get(node.inputs[0]);
      while (src && (src.op === 'dropout' || src.op === 'identity')) src = byName.get(src.inputs[0]);
      const spatial = src?.op === 'flatten' ? values.get(src.inputs[0])!.shape : null;
      let kerasRow = (j: number) => j;
      if (spatial && spatial.length === 3 && spatial[1] * spatial[2] > 1) {
        const [C, H, W] = spatial;
        kerasRow = (j) => {
          const c = Math.floor(j / (H * W)), h = Math.floor(j / W) % H, w = j % W;
          return h * W * C + w * C + c;
        };
      }
      if (model === 'tfjs_cnn' && node.name === 'fc1') expect(spatial).toEqual([16, 7, 7]);
      expectSame(node.weight, (i) => k.data[kerasRow(i % inF) * out + Math.floor(i / inF)], `${node.name}.weight`);
      expectSame(node.bias!, (i) => keras.get(`${node.name}/bias`)!.data[i], `${node.name}.bias`);
    }
  });

  it('translates BatchNormalization with the Keras epsilon', () => {
    const layers = modelJson.modelTopology.config.layers;
    for (const node of graph.nodes.filter((x): x is Extract<GraphNode, { op: 'batchnorm' }> => x.op === 'batchnorm')) {
      const cfg = layers.find((l: any) => l.config.name === node.name).config;
      expect(node.eps).toBe(cfg.epsilon);
      const get = (r: string) => keras.get(`${node.name}/${r}`)!.data;
      expectSame(node.weight, (i) => get('gamma')[i], 'gamma');
      expectSame(node.bias, (i) => get('beta')[i], 'beta');
      expectSame(node.runningMean, (i) => get('moving_mean')[i], 'moving_mean');
      expectSame(node.runningVar, (i) => get('moving_variance')[i], 'moving_variance');
    }
  });

  it('reproduces the tfjs logits (and predict.f32 through the softmax)', () => {
    const logitsNode = stripped ? stripped.layer : graph.output;
    const logits = values.get(logitsNode)!.data;
    const want = new Float32Array(readBytes(join(dir, 'logits.f32')).slice().buffer);
    const scale = Math.max(1, ...Array.from(want, Math.abs));
    expect(maxAbsDiff(logits, want) / scale).toBeLessThan(1e-5);
    const predict = new Float32Array(readBytes(join(dir, 'predict.f32')).slice().buffer);
    expect(maxAbsDiff(values.get(graph.output)!.data, predict)).toBeLessThan(1e-5);
  });
});
