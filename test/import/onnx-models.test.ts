/**
 * Every shared model with a model.onnx: the imported graph must match the model's model.json
 * (node sequence and wiring, hyper-parameters, parameters bit for bit) and reproduce logits.f32.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../../src/import/onnx.js';
import type { Graph, GraphNode } from '../../src/graph/ir.js';
import { evaluate, maxAbsDiff } from './ir-eval.js';
import { modelDir, readBytes, readF32, readJson } from './testdata.js';

const MODELS = ['mlp', 'mlp_deep', 'cnn', 'cnn_bn', 'cnn_strided', 'resnet_mini', 'concat_net'];

const OP_OF: Record<string, string> = {
  linear: 'dense',
  conv2d: 'conv2d',
  relu: 'relu',
  maxpool2d: 'maxpool2d',
  avgpool2d: 'avgpool2d',
  adaptiveavgpool2d: 'globalavgpool',
  flatten: 'flatten',
  batchnorm2d: 'batchnorm',
  add: 'add',
  concat: 'concat',
};

interface SpecLayer {
  index: number;
  type: string;
  name?: string;
  inputs?: string[];
  [k: string]: any;
}

function bytesOf(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Bit-equal to the raw float32 file (compared as bytes so a failure prints one line). */
function expectParam(dir: string, actual: Float32Array | null, spec: { file: string; shape: number[] } | null, label: string) {
  if (spec === null || spec === undefined) {
    expect(actual, `${label} should be null`).toBeNull();
    return;
  }
  expect(actual, label).not.toBeNull();
  const want = readF32(join(dir, spec.file));
  expect(actual!.length, `${label} length`).toBe(want.length);
  expect(Buffer.compare(bytesOf(actual!), bytesOf(want)), `${label} bits`).toBe(0);
}

const pads4 = (p: number[]) => [p[0], p[1], p[0], p[1]];

function checkHyper(node: GraphNode, l: SpecLayer): void {
  const at = `${node.name} (${l.type} #${l.index})`;
  switch (node.op) {
    case 'conv2d':
      expect({
        inChannels: node.inChannels, outChannels: node.outChannels, kernel: node.kernel, stride: node.stride,
        padding: node.padding, dilation: node.dilation, groups: node.groups,
      }, at).toEqual({
        inChannels: l.in_channels, outChannels: l.out_channels, kernel: l.kernel_size, stride: l.stride,
        padding: pads4(l.padding), dilation: l.dilation, groups: l.groups,
      });
      expect(l.padding_mode).toBe('zeros');
      break;
    case 'dense':
      expect([node.inFeatures, node.outFeatures], at).toEqual([l.in_features, l.out_features]);
      break;
    case 'maxpool2d':
      expect({ kernel: node.kernel, stride: node.stride, padding: node.padding, dilation: node.dilation, ceilMode: node.ceilMode }, at)
        .toEqual({ kernel: l.kernel_size, stride: l.stride, padding: pads4(l.padding), dilation: l.dilation, ceilMode: l.ceil_mode });
      break;
    case 'avgpool2d':
      expect({ kernel: node.kernel, stride: node.stride, padding: node.padding, ceilMode: node.ceilMode, divisorOverride: node.divisorOverride }, at)
        .toEqual({ kernel: l.kernel_size, stride: l.stride, padding: pads4(l.padding), ceilMode: l.ceil_mode, divisorOverride: l.divisor_override });
      // count_include_pad only matters with padding (ONNX's default differs from PyTorch's).
      if (node.padding.some((p) => p > 0)) expect(node.countIncludePad, at).toBe(l.count_include_pad);
      break;
    case 'batchnorm':
      expect(node.numFeatures, at).toBe(l.num_features);
      expect(node.eps, at).toBe(Math.fround(l.eps));
      break;
    case 'globalavgpool':
      expect(l.output_size, at).toEqual([1, 1]);
      break;
    case 'flatten':
      expect([l.start_dim, l.end_dim], at).toEqual([1, -1]);
      break;
    case 'concat':
      expect(node.axis, at).toBe(l.axis - 1);
      break;
    default:
      break;
  }
}

function checkParams(dir: string, node: GraphNode, l: SpecLayer): void {
  if (node.op === 'dense' || node.op === 'conv2d') {
    expectParam(dir, node.weight, l.weight, `${node.name}.weight`);
    expectParam(dir, node.bias, l.bias ?? null, `${node.name}.bias`);
  } else if (node.op === 'batchnorm') {
    expectParam(dir, node.weight, l.weight, `${node.name}.weight`);
    expectParam(dir, node.bias, l.bias, `${node.name}.bias`);
    expectParam(dir, node.runningMean, l.running_mean, `${node.name}.running_mean`);
    expectParam(dir, node.runningVar, l.running_var, `${node.name}.running_var`);
  }
}

describe.each(MODELS)('importOnnx: %s', (model) => {
  const dir = modelDir(model);
  const spec = readJson(join(dir, 'model.json'));
  const layers: SpecLayer[] = spec.layers;
  const graph: Graph = importOnnx(readBytes(join(dir, 'model.onnx')));

  it('has the model.json node sequence and wiring', () => {
    expect(graph.format).toBe('onnx');
    expect(graph.inputLayout).toBe('NCHW');
    expect(graph.inputShape).toEqual(spec.input_shape);
    expect(graph.nodes.map((n) => n.op)).toEqual(layers.map((l) => OP_OF[l.type] ?? `?${l.type}`));
    // spec name -> IR name, by position (v1 models are sequential and unnamed)
    const irName = new Map<string, string>([['input', 'input']]);
    layers.forEach((l, i) => irName.set(l.name ?? String(i), graph.nodes[i].name));
    layers.forEach((l, i) => {
      const want = l.inputs ?? [i === 0 ? 'input' : String(i - 1)];
      expect(graph.nodes[i].inputs, `inputs of ${graph.nodes[i].name}`).toEqual(want.map((w) => irName.get(w)));
      if (l.onnx_node) expect(graph.nodes[i].source).toContain(l.onnx_node);
    });
    expect(graph.output).toBe(graph.nodes[graph.nodes.length - 1].name);
    expect(new Set(graph.nodes.map((n) => n.name)).size).toBe(graph.nodes.length);
  });

  it('has the model.json hyper-parameters', () => {
    layers.forEach((l, i) => checkHyper(graph.nodes[i], l));
  });

  it('has parameters bit-equal to params/*.f32', () => {
    layers.forEach((l, i) => checkParams(dir, graph.nodes[i], l));
  });

  it('reproduces logits.f32', () => {
    const cases = readJson(join(dir, 'cases.json'));
    const n = cases.input.shape[0];
    const out = evaluate(graph, readF32(join(dir, 'inputs.f32')), n).get(graph.output)!;
    const want = readF32(join(dir, 'logits.f32'));
    const scale = Math.max(1, ...Array.from(want, Math.abs));
    expect(maxAbsDiff(out.data, want) / scale).toBeLessThan(1e-5);
  });
});
