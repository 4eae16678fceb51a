/** importOnnx on small hand-built models: each op's attributes, merging, and every error path. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, ShapeError, UnsupportedError } from '../../src/errors.js';
import { importOnnx } from '../../src/import/onnx.js';
import type { Graph, GraphNode } from '../../src/graph/ir.js';
import { attr, buildModel, DOUBLE, INT64, node, rand, tensor, valueInfo, type ModelSpec } from './onnx-builder.js';
import { evaluate } from './ir-eval.js';
import { modelDir, readBytes } from './testdata.js';

const imp = (spec: ModelSpec, opts?: Parameters<typeof importOnnx>[1]): Graph => importOnnx(buildModel(spec), opts);

function nodeOf<T extends GraphNode['op']>(g: Graph, op: T): Extract<GraphNode, { op: T }> {
  const n = g.nodes.find((x) => x.op === op);
  if (!n) throw new Error(`no ${op} node`);
  return n as Extract<GraphNode, { op: T }>;
}

/** A conv model on x [N, c, h, w] with extra nodes before/after. */
function convSpec(opts: {
  c?: number; h?: number; w?: number; m?: number; k?: number; attrs?: ReturnType<typeof attr.i>[]; group?: number;
  pre?: ModelSpec['nodes']; convInput?: string; extraInit?: ModelSpec['initializers'];
}): ModelSpec {
  const { c = 2, h = 8, w = 8, m = 3, k = 3, group = 1 } = opts;
  const wCount = m * (c / group) * k * k;
  return {
    inputShape: [c, h, w],
    nodes: [
      ...(opts.pre ?? []),
      node('Conv', [opts.convInput ?? 'x', 'W', 'B'], ['y'], [...(opts.attrs ?? []), attr.i('group', group)], 'conv'),
    ],
    initializers: [tensor('W', [m, c / group, k, k], rand(wCount)), tensor('B', [m], rand(m, 7)), ...(opts.extraInit ?? [])],
  };
}

describe('importOnnx: initializers', () => {
  const gemm = (raw: boolean) =>
    imp({
      inputShape: [3],
      nodes: [node('Gemm', ['x', 'W', 'B'], ['y'], [attr.i('transB', 1)])],
      initializers: [tensor('W', [2, 3], [1.5, -2, 3.25, 0.1, 0.2, 0.3], { raw }), tensor('B', [2], [0.5, -0.5], { raw })],
    });

  it('reads float_data and raw_data alike', () => {
    const a = nodeOf(gemm(false), 'dense');
    const b = nodeOf(gemm(true), 'dense');
    expect(Array.from(a.weight)).toEqual(Array.from(b.weight));
    expect(Array.from(b.weight)).toEqual(Array.from(Float32Array.from([1.5, -2, 3.25, 0.1, 0.2, 0.3])));
    expect(Array.from(b.bias!)).toEqual([0.5, -0.5]);
  });

  it('rejects external data with a clear message', () => {
    const W = tensor('W', [2, 3], []);
    W.dataLocation = 1;
    W.externalData = [{ key: 'location', value: 'weights.bin' }];
    const bytes = buildModel({ inputShape: [3], nodes: [node('Gemm', ['x', 'W'], ['y'], [attr.i('transB', 1)])], initializers: [W] });
    expect(() => importOnnx(bytes)).toThrow(ModelFormatError);
    expect(() => importOnnx(bytes)).toThrow(/'W'.*external data.*not supported, re-export with the weights inside the file/);
  });

  it('rejects non-float32 weights, naming the tensor', () => {
    const spec: ModelSpec = {
      inputShape: [3],
      nodes: [node('Gemm', ['x', 'Wd'], ['y'], [attr.i('transB', 1)], 'fc')],
      initializers: [tensor('Wd', [2, 3], rand(6), { dataType: DOUBLE })],
    };
    expect(() => imp(spec)).toThrow(UnsupportedError);
    expect(() => imp(spec)).toThrow(/tensor 'Wd'.*DOUBLE.*only float32/);
  });

  it('rejects a tensor whose data does not match its dims', () => {
    const spec: ModelSpec = {
      inputShape: [3],
      nodes: [node('Gemm', ['x', 'W'], ['y'], [attr.i('transB', 1)])],
      initializers: [tensor('W', [2, 3], rand(5))],
    };
    expect(() => imp(spec)).toThrow(/'W' holds 5 values but its dims \[2, 3\] need 6/);
  });

  it('resolves Constant nodes (value tensor) as weights', () => {
    const g = imp({
      inputShape: [3],
      nodes: [
        node('Constant', [], ['Wc'], [attr.t('value', tensor('', [3, 2], [1, 2, 3, 4, 5, 6], { raw: true }))]),
        node('MatMul', ['x', 'Wc'], ['y']),
      ],
    });
    expect(g.nodes).toHaveLength(1);
    expect(Array.from(nodeOf(g, 'dense').weight)).toEqual([1, 3, 5, 2, 4, 6]);
  });
});

describe('importOnnx: decoding and graph interface', () => {
  const cnn = readBytes(join(modelDir('cnn'), 'model.onnx'));

  it('wraps decode errors of truncated files', () => {
    for (const cut of [0.3, 0.5, 0.9, 0.999]) {
      const bytes = cnn.slice(0, Math.floor(cnn.length * cut));
      expect(() => importOnnx(bytes)).toThrow(ModelFormatError);
      expect(() => importOnnx(bytes)).toThrow(/truncated or corrupt ONNX file/);
    }
    expect(() => importOnnx(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/truncated or corrupt ONNX file/);
    expect(() => importOnnx(new Uint8Array(0))).toThrow(/truncated or corrupt ONNX file/);
  });

  it('names unsupported ops and their node', () => {
    const spec: ModelSpec = { inputShape: [3], nodes: [node('Det', ['x'], ['y'], [], 'det_1')] };
    expect(() => imp(spec)).toThrow(UnsupportedError);
    expect(() => imp(spec)).toThrow("unsupported ONNX op 'Det' at node 'det_1'");
    const custom: ModelSpec = { inputShape: [3], nodes: [{ ...node('Foo', ['x'], ['y'], [], 'f'), domain: 'com.example' }] };
    expect(() => imp(custom)).toThrow("unsupported ONNX op 'com.example.Foo' at node 'f'");
  });

  it('needs exactly one input (initializers excluded) and one output', () => {
    const gemm = node('Gemm', ['x', 'W'], ['y'], [attr.i('transB', 1)]);
    const W = tensor('W', [2, 3], rand(6));
    // Old-style files also list initializers as inputs.
    expect(imp({ inputs: [valueInfo('x', ['N', 3]), valueInfo('W', [2, 3])], nodes: [gemm], initializers: [W] }).nodes).toHaveLength(1);
    expect(() => imp({ inputs: [valueInfo('x', ['N', 3]), valueInfo('z', ['N', 3])], nodes: [gemm], initializers: [W] }))
      .toThrow(/2 inputs \('x', 'z'\); exactly one/);
    expect(() => imp({ inputShape: [3], nodes: [gemm, node('Relu', ['y'], ['r'])], initializers: [W], outputs: ['y', 'r'] }))
      .toThrow(/2 outputs.*exactly one/);
  });

  it('takes the input shape from the file, with a dynamic batch and optional override', () => {
    const spec = (dims: Array<number | string>): ModelSpec => ({
      inputs: [valueInfo('x', dims)],
      nodes: [node('Relu', ['x'], ['y'])],
    });
    expect(imp(spec(['batch', 1, 28, 28])).inputShape).toEqual([1, 28, 28]);
    expect(imp(spec([0, 1, 28, 28])).inputShape).toEqual([1, 28, 28]);
    expect(imp(spec([1, 1, 28, 28])).inputShape).toEqual([1, 28, 28]);
    expect(() => imp(spec(['N', 3, 'H', 'W']))).toThrow(/symbolic dimensions.*pass inputShape/);
    expect(imp(spec(['N', 3, 'H', 'W']), { inputShape: [3, 32, 32] }).inputShape).toEqual([3, 32, 32]);
    expect(() => imp(spec(['N', 3, 'H', 'W']), { inputShape: [1, 32, 32] })).toThrow(ShapeError);
    expect(() => imp(spec(['N', 3, 'H', 'W']), { inputShape: [32, 32] })).toThrow(ShapeError);
    expect(() => imp({ inputs: [valueInfo('x', ['N', 3], INT64)], nodes: [node('Relu', ['x'], ['y'])] })).toThrow(
      /element type INT64; only float32 inputs/,
    );
    expect(imp(spec(['N', 4]), { name: 'custom' }).name).toBe('custom');
  });

  it('reports a reference to a tensor nobody produced', () => {
    expect(() => imp({ inputShape: [3], nodes: [node('Relu', ['nope'], ['y'], [], 'r')] })).toThrow(
      /ONNX Relu node 'r' reads 'nope', which no earlier node produces/,
    );
  });
});

describe('importOnnx: Gemm and MatMul', () => {
  it('folds alpha/beta, transposes B for transB=0, broadcasts C', () => {
    const B = [1, 2, 3, 4, 5, 6]; // [K=3, M=2]
    const g = imp({
      inputShape: [3],
      nodes: [node('Gemm', ['x', 'B', 'C'], ['y'], [attr.f('alpha', 2), attr.f('beta', 0.5)])],
      initializers: [tensor('B', [3, 2], B), tensor('C', [1, 2], [1, -1])],
    });
    const d = nodeOf(g, 'dense');
    expect([d.inFeatures, d.outFeatures]).toEqual([3, 2]);
    expect(Array.from(d.weight)).toEqual([2, 6, 10, 4, 8, 12]);
    expect(Array.from(d.bias!)).toEqual([0.5, -0.5]);
    const s = imp({
      inputShape: [3],
      nodes: [node('Gemm', ['x', 'B', 'C'], ['y'])],
      initializers: [tensor('B', [3, 2], B), tensor('C', [], [0.25])],
    });
    expect(Array.from(nodeOf(s, 'dense').bias!)).toEqual([0.25, 0.25]);
  });

  it('rejects transA, mismatched B and per-sample C', () => {
    const base = (attrs: ReturnType<typeof attr.i>[], bDims = [2, 3], cDims = [2]): ModelSpec => ({
      inputShape: [3],
      nodes: [node('Gemm', ['x', 'B', 'C'], ['y'], attrs, 'g')],
      initializers: [tensor('B', bDims, rand(6)), tensor('C', cDims, rand(cDims.reduce((a, b) => a * b, 1)))],
    });
    expect(() => imp(base([attr.i('transA', 1), attr.i('transB', 1)]))).toThrow(UnsupportedError);
    expect(() => imp(base([attr.i('transA', 1), attr.i('transB', 1)]))).toThrow(/ONNX Gemm node 'g': transA=1/);
    expect(() => imp(base([]))).toThrow(ShapeError); // B [2,3] without transB expects K=2
    expect(() => imp(base([]))).toThrow(/Gemm node 'g'.*expects 2 input features, the input has 3/);
    expect(() => imp(base([attr.i('transB', 1)], [2, 3], [3, 2]))).toThrow(/only a per-feature bias/);
  });

  it('makes MatMul + Add(constant) one dense node, and MatMul alone a dense without bias', () => {
    const W = tensor('W', [3, 2], [1, 2, 3, 4, 5, 6]);
    const g = imp({
      inputShape: [3],
      nodes: [node('MatMul', ['x', 'W'], ['mm'], [], 'mm'), node('Add', ['mm', 'b'], ['y'], [], 'bias_add'), node('Relu', ['y'], ['r'])],
      initializers: [W, tensor('b', [2], [0.5, 1.5])],
    });
    expect(g.nodes.map((n) => n.op)).toEqual(['dense', 'relu']);
    const d = nodeOf(g, 'dense');
    expect(Array.from(d.weight)).toEqual([1, 3, 5, 2, 4, 6]);
    expect(Array.from(d.bias!)).toEqual([0.5, 1.5]);
    expect(d.source).toBe('mm + bias_add');
    expect(g.nodes[1].inputs).toEqual([d.name]);
    // constant on the left of the Add works too
    const left = imp({
      inputShape: [3],
      nodes: [node('MatMul', ['x', 'W'], ['mm']), node('Add', ['b', 'mm'], ['y'])],
      initializers: [W, tensor('b', [1, 2], [0.5, 1.5])],
    });
    expect(Array.from(nodeOf(left, 'dense').bias!)).toEqual([0.5, 1.5]);
    expect(left.output).toBe(nodeOf(left, 'dense').name);
    const alone = imp({ inputShape: [3], nodes: [node('MatMul', ['x', 'W'], ['mm'])], initializers: [W] });
    expect(nodeOf(alone, 'dense').bias).toBeNull();
  });

  it('imports an Add of a constant that is not a MatMul bias as a constant shift', () => {
    const afterRelu: ModelSpec = {
      inputShape: [2],
      nodes: [node('Relu', ['x'], ['r']), node('Add', ['r', 'b'], ['y'], [], 'shift')],
      initializers: [tensor('b', [2], [1, 2])],
    };
    const shift = nodeOf(imp(afterRelu), 'affine');
    expect([Array.from(shift.scale), Array.from(shift.shift)]).toEqual([[1, 1], [1, 2]]);
    // MatMul output read twice: the bias cannot be folded, the Add is a shift of its own.
    const forked: ModelSpec = {
      inputShape: [3],
      nodes: [
        node('MatMul', ['x', 'W'], ['mm']),
        node('Add', ['mm', 'b'], ['y']),
        node('Add', ['mm', 'y'], ['z']),
      ],
      initializers: [tensor('W', [3, 2], rand(6)), tensor('b', [2], [1, 2])],
    };
    expect(imp(forked).nodes.map((n) => n.op)).toEqual(['dense', 'affine', 'add']);
    expect(nodeOf(imp(forked), 'dense').bias).toBeNull();
    // a constant that is neither a scalar nor per channel: added as a constant node (a position embedding)
    const perElement = (op: string): ModelSpec => ({
      inputShape: [2, 3],
      nodes: [node('Relu', ['x'], ['r']), node(op, ['r', 'b'], ['y'], [], 'shift')],
      initializers: [tensor('b', [2, 3], [1, 2, 3, 4, 5, 6])],
    });
    expect(imp(perElement('Add')).nodes.map((n) => n.op)).toEqual(['relu', 'constant', 'add']);
    expect(() => imp(perElement('Mul'))).toThrow(UnsupportedError);
    expect(() => imp(perElement('Mul'))).toThrow(/ONNX Mul node 'shift': Mul of the activation \[2, 3\] and the constant 'b' \[2, 3\] is only supported for a scalar or per-channel constant/);
    const mm2: ModelSpec = { inputShape: [3], nodes: [node('MatMul', ['x', 'x'], ['y'], [], 'mm')] };
    expect(() => imp(mm2)).toThrow(/ONNX MatMul node 'mm': MatMul of the activations \[N, 3\] · \[N, 3\] \(N = batch size\) needs two inputs of the same rank ≥ 3/);
  });

  it('folds a constant per-channel Add into a Conv without bias', () => {
    const g = imp({
      inputShape: [1, 4, 4],
      nodes: [node('Conv', ['x', 'W'], ['c']), node('Add', ['c', 'b'], ['y'])],
      initializers: [tensor('W', [2, 1, 1, 1], [1, 2]), tensor('b', [1, 2, 1, 1], [3, 4])],
    });
    expect(g.nodes).toHaveLength(1);
    expect(Array.from(nodeOf(g, 'conv2d').bias!)).toEqual([3, 4]);
  });

  it('requires a flat input', () => {
    const spec: ModelSpec = {
      inputShape: [1, 2, 2],
      nodes: [node('Gemm', ['x', 'W'], ['y'], [attr.i('transB', 1)], 'g')],
      initializers: [tensor('W', [2, 4], rand(8))],
    };
    expect(() => imp(spec)).toThrow(/Gemm node 'g': expects a 2-D input \[rows, features\], got \[N, 1, 2, 2\] \(N = batch size\)/);
  });
});

describe('importOnnx: Conv', () => {
  it('reads pads, strides, dilations and group', () => {
    const g = imp(convSpec({ c: 4, m: 6, group: 2, attrs: [attr.ints('pads', [1, 2, 0, 1]), attr.ints('strides', [2, 1]), attr.ints('dilations', [1, 2])] }));
    const c = nodeOf(g, 'conv2d');
    expect({ in: c.inChannels, out: c.outChannels, k: c.kernel, s: c.stride, p: c.padding, d: c.dilation, g: c.groups }).toEqual({
      in: 4, out: 6, k: [3, 3], s: [2, 1], p: [1, 2, 0, 1], d: [1, 2], g: 2,
    });
    const out = evaluate(g, new Float64Array(4 * 8 * 8), 1).get(c.name)!;
    expect(out.shape).toEqual([6, 4, 7]); // (8+1-3)/2+1 = 4, (8+3-5)/1+1 = 7
  });

  it('computes auto_pad SAME_UPPER / SAME_LOWER / VALID from the input shape', () => {
    const pads = (mode: string, stride = 2) =>
      nodeOf(imp(convSpec({ attrs: [attr.s('auto_pad', mode), attr.ints('strides', [stride, stride])] })), 'conv2d').padding;
    // in 8, k 3, s 2: out 4, total = 3·2 + 3 − 8 = 1
    expect(pads('SAME_UPPER')).toEqual([0, 0, 1, 1]);
    expect(pads('SAME_LOWER')).toEqual([1, 1, 0, 0]);
    expect(pads('SAME_UPPER', 1)).toEqual([1, 1, 1, 1]);
    expect(pads('VALID')).toEqual([0, 0, 0, 0]);
  });

  it('checks the weight against the input channels, naming the node', () => {
    const spec = convSpec({ c: 2 });
    spec.initializers![0] = tensor('W', [3, 3, 3, 3], rand(81));
    expect(() => imp(spec)).toThrow(ShapeError);
    expect(() => imp(spec)).toThrow(/ONNX Conv node 'conv': weight 'W' \[3, 3, 3, 3\] with group 1 does not fit an input with 2 channels/);
    const s2 = convSpec({ attrs: [attr.ints('kernel_shape', [5, 5])] });
    expect(() => imp(s2)).toThrow(/kernel_shape \[5, 5\] does not match weight/);
    const bias = convSpec({});
    bias.initializers![1] = tensor('B', [4], rand(4));
    expect(() => imp(bias)).toThrow(/bias 'B' has shape \[4\], expected \[3\]/);
    // a 3-D weight is a Conv1d: run as a 2-D conv on a [C, 1, L] view (onnx-conv1d.ts)
    const oneD: ModelSpec = { inputShape: [2, 8], nodes: [node('Conv', ['x', 'W'], ['y'], [], 'c1')], initializers: [tensor('W', [3, 2, 3], rand(18))] };
    expect(imp(oneD).nodes.map((n) => n.op)).toEqual(['reshape', 'conv2d', 'reshape']);
    const fiveD: ModelSpec = { inputShape: [2, 4, 4, 4], nodes: [node('Conv', ['x', 'W'], ['y'], [], 'c3')], initializers: [tensor('W', [3, 2, 1, 1, 1], rand(6))] };
    expect(() => imp(fiveD)).toThrow(/Conv node 'c3'.*only 1-D and 2-D convolutions/);
  });
});

describe('importOnnx: Pad merging', () => {
  const padNodes = (pads: number[], extra: ReturnType<typeof attr.s>[] = [], value?: number) => ({
    pre: [
      node('Constant', [], ['pads'], [attr.t('value', tensor('', [8], pads, { dataType: INT64, raw: true }))]),
      ...(value === undefined ? [node('Pad', ['x', 'pads'], ['p'], extra, 'pad')] : [node('Pad', ['x', 'pads', 'v'], ['p'], extra, 'pad')]),
    ],
    convInput: 'p',
    extraInit: value === undefined ? [] : [tensor('v', [], [value])],
  });

  it('merges a zero constant Pad into the following Conv', () => {
    const g = imp(convSpec({ ...padNodes([0, 0, 1, 2, 0, 0, 3, 4]), attrs: [attr.ints('pads', [1, 1, 1, 1])] }));
    expect(g.nodes.map((n) => n.op)).toEqual(['conv2d']);
    expect(nodeOf(g, 'conv2d').padding).toEqual([2, 3, 4, 5]);
    expect(nodeOf(g, 'conv2d').inputs).toEqual(['input']);
    expect(g.notes.join('\n')).toMatch(/Pad 'pad' merged/);
    // an explicit zero constant_value is fine
    expect(nodeOf(imp(convSpec(padNodes([0, 0, 1, 1, 0, 0, 1, 1], [], 0))), 'conv2d').padding).toEqual([1, 1, 1, 1]);
  });

  it('computes SAME padding on the padded size', () => {
    const g = imp(convSpec({ ...padNodes([0, 0, 1, 1, 0, 0, 0, 0]), attrs: [attr.s('auto_pad', 'SAME_UPPER'), attr.ints('strides', [2, 2])] }));
    // padded 9: out 5, total = 4·2 + 3 − 9 = 2 → 1/1, plus the Pad's 1 at the top/left
    expect(nodeOf(g, 'conv2d').padding).toEqual([2, 2, 1, 1]);
  });

  it('rejects non-zero values, other modes, batch/channel padding, and Pads not before a Conv/pool', () => {
    expect(() => imp(convSpec(padNodes([0, 0, 1, 1, 0, 0, 1, 1], [], 0.5)))).toThrow(/Pad with constant value 0.5/);
    expect(() => imp(convSpec(padNodes([0, 0, 1, 1, 0, 0, 1, 1], [attr.s('mode', 'reflect')])))).toThrow(/Pad mode 'reflect'/);
    expect(() => imp(convSpec(padNodes([0, 1, 1, 1, 0, 0, 1, 1])))).toThrow(/padding the batch or channel axis/);
    expect(() => imp(convSpec(padNodes([0, 0, -1, 0, 0, 0, 0, 0])))).toThrow(/negative pads/);
    const relu: ModelSpec = {
      inputShape: [1, 4, 4],
      nodes: [...padNodes([0, 0, 1, 1, 0, 0, 1, 1]).pre, node('Relu', ['p'], ['y'], [], 'r')],
    };
    expect(() => imp(relu)).toThrow(UnsupportedError);
    expect(() => imp(relu)).toThrow(/ONNX Relu node 'r' reads the output of Pad 'pad'; a Pad is only supported right before Conv, AveragePool or MaxPool/);
  });

  it('merges into AveragePool (counting the pad) and into MaxPool only over non-negative inputs', () => {
    const pool = (op: string, pre: ModelSpec['nodes'], input: string, attrs: ReturnType<typeof attr.i>[] = []) =>
      imp({
        inputShape: [2, 6, 6],
        nodes: [...pre, ...padNodes([0, 0, 1, 1, 0, 0, 1, 1]).pre.map((n) => (n.opType === 'Pad' ? { ...n, input: [input, 'pads'] } : n)),
          node(op, ['p'], ['y'], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2]), ...attrs], 'pool')],
      });
    const avg = nodeOf(pool('AveragePool', [], 'x'), 'avgpool2d');
    expect(avg.padding).toEqual([1, 1, 1, 1]);
    expect(avg.countIncludePad).toBe(true);
    expect(() => pool('AveragePool', [], 'x', [attr.ints('pads', [1, 1, 1, 1])])).toThrow(/count_include_pad=0/);
    expect(() => pool('MaxPool', [], 'x')).toThrow(/cannot merge the zero padding of Pad 'pad' into MaxPool/);
    const mp = nodeOf(pool('MaxPool', [node('Relu', ['x'], ['r'])], 'r'), 'maxpool2d');
    expect(mp.padding).toEqual([1, 1, 1, 1]);
  });

  it('accepts the opset-2 attribute form', () => {
    const g = imp({
      opset: 9,
      inputShape: [2, 8, 8],
      nodes: [node('Pad', ['x'], ['p'], [attr.ints('pads', [0, 0, 1, 1, 0, 0, 1, 1])], 'pad'), node('Conv', ['p', 'W'], ['y'])],
      initializers: [tensor('W', [3, 2, 3, 3], rand(54))],
    });
    expect(nodeOf(g, 'conv2d').padding).toEqual([1, 1, 1, 1]);
  });
});

describe('importOnnx: pooling, normalisation, views', () => {
  const poolSpec = (op: string, attrs: ReturnType<typeof attr.i>[], inputShape = [2, 7, 7]): ModelSpec => ({
    inputShape,
    nodes: [node(op, ['x'], ['y'], attrs, 'pool')],
  });

  it('reads MaxPool attributes, including ceil_mode', () => {
    const g = imp(poolSpec('MaxPool', [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1]), attr.i('ceil_mode', 1), attr.ints('dilations', [1, 1])]));
    const p = nodeOf(g, 'maxpool2d');
    expect({ k: p.kernel, s: p.stride, p: p.padding, d: p.dilation, c: p.ceilMode }).toEqual({ k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], d: [1, 1], c: true });
    expect(evaluate(g, new Float64Array(2 * 49), 1).get(p.name)!.shape).toEqual([2, 4, 4]);
    expect(() => imp(poolSpec('MaxPool', [attr.ints('kernel_shape', [2, 2]), attr.i('storage_order', 1)]))).toThrow(/storage_order=1/);
    expect(() => imp(poolSpec('MaxPool', []))).toThrow(/missing kernel_shape/);
    const indices: ModelSpec = { inputShape: [2, 4, 4], nodes: [node('MaxPool', ['x'], ['y', 'idx'], [attr.ints('kernel_shape', [2, 2])], 'mp'), node('Relu', ['idx'], ['z'])], outputs: ['z'] };
    expect(() => imp(indices)).toThrow(/output 1 \(Indices\) is used/);
  });

  it('reads AveragePool count_include_pad and SAME padding', () => {
    const a = nodeOf(imp(poolSpec('AveragePool', [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1]), attr.i('count_include_pad', 1)])), 'avgpool2d');
    expect([a.countIncludePad, a.padding, a.stride, a.divisorOverride]).toEqual([true, [1, 1, 1, 1], [1, 1], null]);
    const s = nodeOf(imp(poolSpec('AveragePool', [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2]), attr.s('auto_pad', 'SAME_UPPER')])), 'avgpool2d');
    expect([s.countIncludePad, s.padding]).toEqual([false, [0, 0, 1, 1]]);
  });

  it('imports GlobalAveragePool and BatchNormalization', () => {
    const g = imp({
      inputShape: [2, 3, 3],
      nodes: [node('BatchNormalization', ['x', 's', 'b', 'm', 'v'], ['n'], [attr.f('epsilon', 1e-3)], 'bn'), node('GlobalAveragePool', ['n'], ['y'])],
      initializers: [tensor('s', [2], [1, 2]), tensor('b', [2], [3, 4]), tensor('m', [2], [5, 6]), tensor('v', [2], [7, 8])],
    });
    const bn = nodeOf(g, 'batchnorm');
    expect([bn.numFeatures, bn.eps, Array.from(bn.runningVar)]).toEqual([2, Math.fround(1e-3), [7, 8]]);
    expect(g.nodes.map((n) => n.op)).toEqual(['batchnorm', 'globalavgpool']);
    const bad = {
      inputShape: [3, 3, 3],
      nodes: [node('BatchNormalization', ['x', 's', 'b', 'm', 'v'], ['n'], [], 'bn')],
      initializers: [tensor('s', [2], [1, 2]), tensor('b', [2], [3, 4]), tensor('m', [2], [5, 6]), tensor('v', [2], [7, 8])],
    };
    expect(() => imp(bad)).toThrow(/BatchNormalization node 'bn': scale 's' has shape \[2\], expected \[3\]/);
  });

  it('imports Flatten at any axis; the batch may be merged on the way but must lead at the output', () => {
    const f = (axis: number, shape = [2, 3, 4]) => imp({ inputShape: shape, nodes: [node('Flatten', ['x'], ['y'], [attr.i('axis', axis)], 'fl')] });
    expect(f(1).nodes.map((n) => n.op)).toEqual(['flatten']);
    expect(f(-3).nodes.map((n) => n.op)).toEqual(['flatten']);
    // [N, 1, 3, 4] at axis 2 is [N·1, 12]: the same per-sample flatten
    expect(f(2, [1, 3, 4]).nodes.map((n) => n.op)).toEqual(['flatten']);
    // [N, 2, 3, 4] at axis 2 is [N·2, 12]: the batch merged with the 2 (onnx-batch.ts), not usable as an output
    expect(() => f(2)).toThrow(UnsupportedError);
    expect(() => f(2)).toThrow(/the ONNX graph output 'y' has the layout \[N·2, 12\] \(N = batch size, moved by fl\); the batch must be its leading axis/);
    expect(() => f(0)).toThrow(/output 'y' has the layout \[1, N·24\]/);
  });

  it('imports Reshape with 0 / -1 keeping the batch first', () => {
    const r = (shape: number[]) =>
      imp({
        inputShape: [2, 3, 4],
        nodes: [node('Reshape', ['x', 's'], ['y'], [], 'rs')],
        initializers: [tensor('s', [shape.length], shape, { dataType: INT64 })],
      });
    expect(r([0, -1]).nodes[0].op).toBe('flatten');
    expect(r([-1, 24]).nodes[0].op).toBe('flatten');
    const v = r([0, 0, 12]).nodes[0];
    expect(v.op === 'reshape' && v.shape).toEqual([2, 12]);
    const w = r([0, 6, -1]).nodes[0];
    expect(w.op === 'reshape' && w.shape).toEqual([6, 4]);
    expect(() => r([4, -1])).toThrow(/reshape of \[N, 2, 3, 4\] to \[4, -1\] would split or move the batch: axis 0 \(length 4\) would take the batch N/);
    expect(() => r([0, 5, -1])).toThrow(/cannot infer the -1/);
    expect(() => r([0, 25])).toThrow(/changes the per-sample size/);
    expect(() => r([-1, -1])).toThrow(/to \[-1, -1\] has more than one -1/);
  });

  it('imports Concat with negative axes', () => {
    const g = imp({
      inputShape: [2, 4, 4],
      nodes: [node('Relu', ['x'], ['a']), node('Concat', ['a', 'x'], ['y'], [attr.i('axis', -3)], 'cat')],
    });
    const c = nodeOf(g, 'concat');
    expect([c.axis, c.inputs]).toEqual([0, ['a', 'input']]);
    expect(evaluate(g, new Float64Array(32), 1).get('cat')!.shape).toEqual([4, 4, 4]);
    const batch = { inputShape: [2, 4, 4], nodes: [node('Concat', ['x', 'x'], ['y'], [attr.i('axis', 0)], 'cat')] };
    expect(() => imp(batch)).toThrow(/Concat along axis 0/);
    const mismatch = {
      inputShape: [2, 4, 4],
      nodes: [node('MaxPool', ['x'], ['p'], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])]), node('Concat', ['x', 'p'], ['y'], [attr.i('axis', 1)], 'cat')],
    };
    expect(() => imp(mismatch)).toThrow(ShapeError);
  });

  it('imports residual Add of two activations, rejecting broadcasting', () => {
    const g = imp({ inputShape: [4], nodes: [node('Relu', ['x'], ['r']), node('Add', ['r', 'x'], ['y'], [], 'res')] });
    expect(nodeOf(g, 'add').inputs).toEqual(['r', 'input']);
    const bc = {
      inputShape: [2, 4, 4],
      nodes: [node('GlobalAveragePool', ['x'], ['g']), node('Add', ['x', 'g'], ['y'], [], 'res')],
    };
    expect(() => imp(bc)).toThrow(/adding shapes \[2, 4, 4\] and \[2, 1, 1\] needs broadcasting/);
  });

  it('keeps Identity, Dropout and a trailing Softmax as nodes', () => {
    const g = imp({
      inputShape: [4],
      nodes: [node('Identity', ['x'], ['i']), node('Dropout', ['i'], ['d']), node('Relu', ['d'], ['r']), node('Softmax', ['r'], ['y'], [attr.i('axis', 1)])],
    });
    expect(g.nodes.map((n) => n.op)).toEqual(['identity', 'dropout', 'relu', 'softmax']);
    expect(g.output).toBe('y');
    // inside the graph a softmax is a real op (over the last axis)
    const mid = { inputShape: [4], nodes: [node('Softmax', ['x'], ['s'], [], 'sm'), node('Relu', ['s'], ['y'])] };
    expect(imp(mid).nodes.map((n) => n.op)).toEqual(['softmax', 'relu']);
    const notLast = { inputShape: [2, 4], nodes: [node('Softmax', ['x'], ['y'], [attr.i('axis', 1)], 'sm')] };
    expect(() => imp(notLast)).toThrow(/ONNX Softmax node 'sm': Softmax over axis 1 of \[N, 2, 4\] \(N = batch size\); only over the last axis/);
    const mask = { inputShape: [4], nodes: [node('Dropout', ['x'], ['d', 'mask'], [], 'do'), node('Relu', ['mask'], ['y'])] };
    expect(() => imp(mask)).toThrow(/output 1 \(mask\) is used/);
  });

  it('keeps node names unique and never calls a node "input"', () => {
    const g = imp({
      inputShape: [4],
      nodes: [node('Relu', ['x'], ['a'], [], 'input'), node('Relu', ['a'], ['b'], [], 'same'), node('Relu', ['b'], ['c'], [], 'same')],
    });
    expect(g.nodes.map((n) => n.name)).toEqual(['input_1', 'same', 'same_1']);
    expect(g.nodes.map((n) => n.inputs[0])).toEqual(['input', 'input_1', 'same']);
  });
});
