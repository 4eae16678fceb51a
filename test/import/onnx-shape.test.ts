/**
 * Shape arithmetic at import (onnx-shape.ts): PyTorch exports of `x.view(x.size(0), -1)` and
 * friends without constant folding compute the Reshape target from Shape(x). Those nodes must
 * vanish into a flatten / reshape node, and the model must predict exactly what the same model
 * with a plain Flatten predicts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedError } from '../../src/errors.js';
import { importOnnx } from '../../src/import/onnx.js';
import { loadModel, type Model } from '../../src/index.js';
import type { Graph } from '../../src/graph/ir.js';
import { attr, buildModel, INT64, node, rand, tensor, type ModelSpec } from './onnx-builder.js';
import { evaluate } from './ir-eval.js';

const C = 2, H = 6, W = 6, M = 3, CLASSES = 5;
const FEATURES = M * H * W;

const i64 = (name: string, dims: number[], values: number[]) =>
  node('Constant', [], [name], [attr.t('value', tensor('', dims, values, { dataType: INT64, raw: true }))], name);

/** conv → relu → <view> → Gemm, where <view> turns 'r' into 'f'. */
function cnn(view: ModelSpec['nodes'], opset = 13, extraInit: ModelSpec['initializers'] = []): ModelSpec {
  return {
    opset,
    inputShape: [C, H, W],
    nodes: [
      node('Conv', ['x', 'W', 'B'], ['c'], [attr.ints('pads', [1, 1, 1, 1])], 'conv'),
      node('Relu', ['c'], ['r'], [], 'relu'),
      ...view,
      node('Gemm', ['f', 'Wfc', 'Bfc'], ['y'], [attr.i('transB', 1)], 'fc'),
    ],
    initializers: [
      tensor('W', [M, C, 3, 3], rand(M * C * 9, 3)),
      tensor('B', [M], rand(M, 4)),
      tensor('Wfc', [CLASSES, FEATURES], rand(CLASSES * FEATURES, 5)),
      tensor('Bfc', [CLASSES], rand(CLASSES, 6)),
      ...extraInit,
    ],
  };
}

/** The reference: a plain Flatten. */
const flattenView = [node('Flatten', ['r'], ['f'], [attr.i('axis', 1)], 'flatten')];

/** x.view(x.size(0), -1) as torch.onnx exports it with do_constant_folding=False. */
function sizeView(opset: number): ModelSpec['nodes'] {
  const unsq =
    opset >= 13
      ? [i64('axes0', [1], [0]), node('Unsqueeze', ['g', 'axes0'], ['u'], [], 'unsqueeze')]
      : [node('Unsqueeze', ['g'], ['u'], [attr.ints('axes', [0])], 'unsqueeze')];
  return [
    node('Shape', ['r'], ['s'], [], 'shape'),
    i64('idx0', [], [0]),
    node('Gather', ['s', 'idx0'], ['g'], [attr.i('axis', 0)], 'gather'),
    ...unsq,
    i64('minus1', [1], [-1]),
    node('Concat', ['u', 'minus1'], ['shp'], [attr.i('axis', 0)], 'concat'),
    node('Reshape', ['r', 'shp'], ['f'], [], 'reshape'),
  ];
}

const imp = (spec: ModelSpec): Graph => importOnnx(buildModel(spec));

const models: Model[] = [];
afterAll(() => models.forEach((m) => m.dispose()));

async function predict(spec: ModelSpec, x: Float32Array): Promise<Float32Array> {
  const m = await loadModel(buildModel(spec));
  models.push(m);
  return m.predict(x);
}

describe('ONNX shape subgraphs: x.view(x.size(0), -1)', () => {
  const n = 3;
  const x = Float32Array.from(rand(n * C * H * W, 11));

  for (const opset of [13, 11]) {
    it(`opset ${opset} (Unsqueeze axes as ${opset >= 13 ? 'input' : 'attribute'}): becomes one flatten, predicts exactly like Flatten`, async () => {
      const g = imp(cnn(sizeView(opset), opset));
      expect(g.nodes.map((v) => v.op)).toEqual(['conv2d', 'relu', 'flatten', 'dense']);
      const fl = g.nodes[2];
      expect([fl.name, fl.inputs, fl.source]).toEqual(['reshape', ['relu'], 'reshape']);
      const d = g.nodes[3];
      expect(d.op === 'dense' && [d.inFeatures, d.outFeatures, d.inputs]).toEqual([FEATURES, CLASSES, ['reshape']]);
      const vals = evaluate(g, Float64Array.from(x), n);
      expect(vals.get('reshape')!.shape).toEqual([FEATURES]);
      expect(vals.get('fc')!.shape).toEqual([CLASSES]);

      const want = await predict(cnn(flattenView, opset), x);
      const got = await predict(cnn(sizeView(opset), opset), x);
      expect(got).toHaveLength(n * CLASSES);
      expect(Array.from(got)).toEqual(Array.from(want));
    });
  }

  it('reads Shape → Slice [0:1], Shape(start, end), Cast to int64 and Squeeze', async () => {
    const variants: Record<string, ModelSpec['nodes']> = {
      slice: [
        node('Shape', ['r'], ['s']),
        i64('st', [1], [0]), i64('en', [1], [1]), i64('ax', [1], [0]),
        node('Slice', ['s', 'st', 'en', 'ax'], ['b']),
        i64('minus1', [1], [-1]),
        node('Concat', ['b', 'minus1'], ['shp'], [attr.i('axis', 0)]),
        node('Reshape', ['r', 'shp'], ['f'], [], 'reshape'),
      ],
      // opset 9 Slice: starts/ends as attributes; INT64_MAX-like end clamps
      sliceAttrs: [
        node('Shape', ['r'], ['s']),
        node('Slice', ['s'], ['b'], [attr.ints('starts', [0]), attr.ints('ends', [1])]),
        i64('minus1', [1], [-1]),
        node('Concat', ['b', 'minus1'], ['shp'], [attr.i('axis', 0)]),
        node('Reshape', ['r', 'shp'], ['f'], [], 'reshape'),
      ],
      shapeStartEnd: [
        node('Shape', ['r'], ['b'], [attr.i('start', 0), attr.i('end', 1)]),
        i64('minus1', [1], [-1]),
        node('Concat', ['b', 'minus1'], ['shp'], [attr.i('axis', 0)]),
        node('Reshape', ['r', 'shp'], ['f'], [], 'reshape'),
      ],
      castSqueeze: [
        node('Shape', ['r'], ['s']),
        i64('st', [1], [0]), i64('en', [1], [1]),
        node('Slice', ['s', 'st', 'en'], ['b']),
        i64('ax', [1], [0]),
        node('Squeeze', ['b', 'ax'], ['sc']),
        node('Cast', ['sc'], ['ci'], [attr.i('to', 7)]),
        node('Unsqueeze', ['ci', 'ax'], ['u']),
        node('Cast', ['u'], ['ui'], [attr.i('to', 6)]), // int32 and back
        node('Cast', ['ui'], ['u64'], [attr.i('to', 7)]),
        i64('minus1', [1], [-1]),
        node('Concat', ['u64', 'minus1'], ['shp'], [attr.i('axis', 0)]),
        node('Reshape', ['r', 'shp'], ['f'], [], 'reshape'),
      ],
      // [N, C·H·W] spelled out: Concat(Gather(Shape, 0), [108])
      explicit: [
        node('Shape', ['r'], ['s']),
        i64('idx0', [1], [0]),
        node('Gather', ['s', 'idx0'], ['u']),
        i64('feat', [1], [FEATURES]),
        node('Concat', ['u', 'feat'], ['shp'], [attr.i('axis', 0)]),
        node('Reshape', ['r', 'shp'], ['f'], [], 'reshape'),
      ],
      // [-1, C·H·W] from known per-sample dims: Gather(Shape, [1, 2, 3]) is a constant
      minusOne: [
        node('Shape', ['r'], ['s']),
        i64('idx', [3], [1, 2, 3]),
        node('Gather', ['s', 'idx'], ['dims']),
        i64('minus1', [1], [-1]),
        node('Concat', ['minus1', 'dims'], ['shp3'], [attr.i('axis', 0)]),
        node('Reshape', ['r', 'shp3'], ['r3'], [], 'same_view'),
        i64('zero_m1', [2], [0, -1]),
        node('Reshape', ['r3', 'zero_m1'], ['f'], [], 'reshape'),
      ],
    };
    const n = 2;
    const x = Float32Array.from(rand(n * C * H * W, 12));
    const want = await predict(cnn(flattenView), x);
    for (const [label, view] of Object.entries(variants)) {
      const spec = cnn(view, label === 'sliceAttrs' ? 9 : label === 'shapeStartEnd' ? 15 : 13);
      const g = imp(spec);
      const ops = g.nodes.map((v) => v.op);
      expect(ops, label).toEqual(label === 'minusOne' ? ['conv2d', 'relu', 'reshape', 'flatten', 'dense'] : ['conv2d', 'relu', 'flatten', 'dense']);
      expect(Array.from(await predict(spec, x)), label).toEqual(Array.from(want));
    }
    const same = imp(cnn(variants.minusOne)).nodes[2];
    expect(same.op === 'reshape' && same.shape).toEqual([M, H, W]);
  });

  it('keeps further per-sample axes: x.view(x.size(0), x.size(1), -1) is a reshape', () => {
    const g = imp({
      inputShape: [C, H, W],
      nodes: [
        node('Relu', ['x'], ['r']),
        node('Shape', ['r'], ['s']),
        i64('i0', [], [0]), i64('i1', [], [1]), i64('ax', [1], [0]),
        node('Gather', ['s', 'i0'], ['g0']),
        node('Gather', ['s', 'i1'], ['g1']),
        node('Unsqueeze', ['g0', 'ax'], ['u0']),
        node('Unsqueeze', ['g1', 'ax'], ['u1']),
        i64('minus1', [1], [-1]),
        node('Concat', ['u0', 'u1', 'minus1'], ['shp'], [attr.i('axis', 0)]),
        node('Reshape', ['r', 'shp'], ['y'], [], 'view'),
      ],
    });
    const v = g.nodes[1];
    expect(v.op === 'reshape' && [v.shape, v.inputs]).toEqual([[C, H * W], [g.nodes[0].name]]);
    expect(g.nodes).toHaveLength(2);
  });

  it('does not count Shape as a reader: a bias Add still folds into the MatMul', () => {
    const g = imp({
      inputShape: [4],
      nodes: [
        node('MatMul', ['x', 'Wm'], ['mm']),
        node('Shape', ['mm'], ['s']),
        node('Add', ['mm', 'b'], ['a']),
        i64('i0', [1], [0]),
        node('Gather', ['s', 'i0'], ['g']),
        i64('minus1', [1], [-1]),
        node('Concat', ['g', 'minus1'], ['shp'], [attr.i('axis', 0)]),
        node('Reshape', ['a', 'shp'], ['y'], [], 'view'),
      ],
      initializers: [tensor('Wm', [4, 3], rand(12)), tensor('b', [3], [1, 2, 3])],
    });
    expect(g.nodes.map((v) => v.op)).toEqual(['dense', 'flatten']);
    const d = g.nodes[0];
    expect(d.op === 'dense' && Array.from(d.bias!)).toEqual([1, 2, 3]);
  });
});

describe('ONNX shape subgraphs: errors', () => {
  /** Shape(r) → Gather(0) → Unsqueeze → 'u' ([N]); `tail` consumes it. */
  const withN = (tail: ModelSpec['nodes'], opts: { outputs?: string[] } = {}): ModelSpec => ({
    inputShape: [C, H, W],
    outputs: opts.outputs,
    nodes: [
      node('Relu', ['x'], ['r'], [], 'relu'),
      node('Shape', ['r'], ['s'], [], 'shape'),
      i64('i0', [], [0]),
      node('Gather', ['s', 'i0'], ['g'], [], 'gather'),
      i64('ax', [1], [0]),
      node('Unsqueeze', ['g', 'ax'], ['u'], [], 'unsqueeze'),
      ...tail,
    ],
  });

  it('rejects reshapes that split or move the batch, naming the node; a merged batch must lead again at the output', () => {
    // [-1] merges the batch with everything: allowed as a view, refused where it reaches the output
    const toMinus1: ModelSpec = {
      inputShape: [C, H, W],
      nodes: [node('Relu', ['x'], ['r']), i64('m1', [1], [-1]), node('Reshape', ['r', 'm1'], ['y'], [], 'rs')],
    };
    expect(() => imp(toMinus1)).toThrow(UnsupportedError);
    expect(() => imp(toMinus1)).toThrow(/the ONNX graph output 'y' has the layout \[N·72\] \(N = batch size, moved by rs\)/);
    // [-1, N]: the batch would have to move behind the other elements
    const late = withN([i64('m1', [1], [-1]), node('Concat', ['m1', 'u'], ['shp'], [attr.i('axis', 0)]), node('Reshape', ['r', 'shp'], ['y'], [], 'rs')]);
    expect(() => imp(late)).toThrow(UnsupportedError);
    expect(() => imp(late)).toThrow(/ONNX Reshape node 'rs': reshape of \[N, 2, 6, 6\] to \[-1, N\] would split or move the batch: axis 0 \(length 72\) would take the batch N/);
    // [N, N, -1]
    const twice = withN([i64('m1', [1], [-1]), node('Concat', ['u', 'u', 'm1'], ['shp'], [attr.i('axis', 0)]), node('Reshape', ['r', 'shp'], ['y'], [], 'rs')]);
    expect(() => imp(twice)).toThrow(/to \[N, N, -1\] has the batch size N in more than one axis/);
    // [N]: nothing left per sample
    const onlyN = withN([node('Reshape', ['r', 'u'], ['y'], [], 'rs')]);
    expect(() => imp(onlyN)).toThrow(/ONNX Reshape node 'rs': reshape of \[N, 2, 6, 6\] to \[N\] changes the per-sample size \(72 to 1\)/);
    // [3·N, -1] would split the batch's neighbour 2 unevenly: 3 does not divide it
    const times3 = withN([i64('three', [1], [3]), node('Mul', ['u', 'three'], ['n3'], [], 'mul'), i64('m1', [1], [-1]), node('Concat', ['n3', 'm1'], ['shp'], [attr.i('axis', 0)]), node('Reshape', ['r', 'shp'], ['y'], [], 'rs')]);
    expect(() => imp(times3)).toThrow(/ONNX Reshape node 'rs': reshape of \[N, 2, 6, 6\] to \[3·N, -1\] would split or move the batch: axis 0 \(length 3\) does not divide the elements 2/);
    // N·N is no shape
    const squared = withN([node('Mul', ['u', 'u'], ['nn'], [], 'mul'), node('Reshape', ['r', 'nn'], ['y'], [], 'rs')]);
    expect(() => imp(squared)).toThrow(/ONNX Mul node 'mul': Mul of \[N\] and \[N\] would make a shape depend on the batch size N/);
  });

  it('rejects other ops reading a shape value, naming the node', () => {
    const relu = withN([node('Relu', ['u'], ['y'], [], 'bad_relu')]);
    expect(() => imp(relu)).toThrow(UnsupportedError);
    expect(() => imp(relu)).toThrow(
      /ONNX Relu node 'bad_relu': the input is the shape value \[N\] computed from Shape 'shape' \(N = batch size\); shape values are only supported through Gather, Slice, Unsqueeze, Squeeze, Concat, Cast and integer Add\/Sub\/Mul\/Div into the shape input of a Reshape/,
    );
    const addC = withN([i64('one', [1], [1]), node('Add', ['u', 'one'], ['y'], [], 'bad_add')]);
    expect(() => imp(addC)).toThrow(/ONNX Add node 'bad_add': Add of \[N\] and \[1\] would make a shape depend on the batch size N/);
    const asData = withN([node('Reshape', ['u', 'u'], ['y'], [], 'rs')]);
    expect(() => imp(asData)).toThrow(/ONNX Reshape node 'rs': reshape of the shape value \[N\] to \[N\], which depends on the batch size N/);
    const castF = withN([node('Cast', ['u'], ['y'], [attr.i('to', 1)], 'tofloat')]);
    expect(() => imp(castF)).toThrow(/ONNX Cast node 'tofloat': Cast of the shape value \[N\] to FLOAT is not supported/);
    const out = withN([], { outputs: ['u'] });
    expect(() => imp(out)).toThrow(/graph output 'u' is a shape value \(from Shape 'shape'\)/);
  });

  it('rejects shape ops on activations and malformed shape arithmetic', () => {
    const gatherAct: ModelSpec = { inputShape: [4], nodes: [i64('i0', [], [0]), node('Gather', ['x', 'i0'], ['y'], [], 'ga')] };
    expect(() => imp(gatherAct)).toThrow(UnsupportedError);
    expect(() => imp(gatherAct)).toThrow(/ONNX Gather node 'ga': Gather along axis 0 of \[N, 4\] \(N = batch size\) selects samples, which is not supported/);
    const mixed: ModelSpec = { inputShape: [4], nodes: [i64('c', [1], [1]), node('Concat', ['x', 'c'], ['y'], [attr.i('axis', 1)], 'cat')] };
    expect(() => imp(mixed)).toThrow(/ONNX Concat node 'cat': input 1 is the constant 'c' \[1\], which is not one value per sample that could join \[N, 4\] along axis 1/);
    const range = withN([i64('i9', [], [9]), node('Gather', ['s', 'i9'], ['y'], [], 'g9'), node('Reshape', ['r', 'y'], ['z'])]);
    expect(() => imp(range)).toThrow(ModelFormatError);
    expect(() => imp(range)).toThrow(/ONNX Gather node 'g9': index 9 is out of range for \[N, 2, 6, 6\]/);
    const byN = withN([node('Gather', ['s', 'g'], ['y'], [], 'gn'), node('Reshape', ['r', 'y'], ['z'])]);
    expect(() => imp(byN)).toThrow(/ONNX Gather node 'gn': the indices \[N\] depends on the batch size N/);
    const rank2 = withN([node('Unsqueeze', ['u', 'ax'], ['y'], [], 'u2'), node('Reshape', ['r', 'y'], ['z'])]);
    expect(() => imp(rank2)).toThrow(/ONNX Unsqueeze node 'u2': Unsqueeze of \[1\] with axes \[0\] gives a tensor of rank 2/);
    const floatShape: ModelSpec = {
      inputShape: [4],
      nodes: [node('Relu', ['x'], ['r']), node('Concat', ['a', 'b'], ['shp'], [attr.i('axis', 0)], 'fcat'), node('Reshape', ['r', 'shp'], ['y'])],
      initializers: [tensor('a', [1], [0]), tensor('b', [1], [-1])],
    };
    expect(() => imp(floatShape)).toThrow(/ONNX Concat node 'fcat': the input 0 'a' has data type FLOAT; Concat is only evaluated on integer shape tensors/);
    const actShape: ModelSpec = { inputShape: [2], nodes: [node('Reshape', ['x', 'x'], ['y'], [], 'rs')] };
    expect(() => imp(actShape)).toThrow(/ONNX Reshape node 'rs': the shape must be a constant \(initializer or Constant\) or computed from Shape, not an activation/);
    const castAct: ModelSpec = { inputShape: [4], nodes: [node('Cast', ['x'], ['y'], [attr.i('to', 7)], 'ci')] };
    expect(() => imp(castAct)).toThrow(/ONNX Cast node 'ci': Cast of an activation to INT64 is not supported/);
  });

  it('folds constant-only shape arithmetic into a constant and treats Cast to float of an activation as identity', () => {
    const g = imp({
      inputShape: [C, H, W],
      nodes: [
        node('Cast', ['x'], ['xf'], [attr.i('to', 1)]),
        i64('a', [1], [0]), i64('b', [1], [-1]),
        node('Concat', ['a', 'b'], ['shp'], [attr.i('axis', 0)]),
        node('Reshape', ['xf', 'shp'], ['y'], [], 'rs'),
      ],
    });
    expect(g.nodes.map((v) => v.op)).toEqual(['identity', 'flatten']);
  });
});
