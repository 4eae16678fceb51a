/**
 * Whole-graph behaviour of the architectures issue's ONNX mappings: in-graph preprocessing with zbox
 * bounds in the raw domain, constant scale/shift folded into the preceding conv, global reductions,
 * nearest upsampling, products of two activations, and the errors for what stays unsupported.
 */
import { describe, expect, it } from 'vitest';
import { UnsupportedError } from '../../src/errors.js';
import { importOnnx } from '../../src/import/onnx.js';
import { canonicalize } from '../../src/graph/canonicalize.js';
import { attr, buildModel, INT64, node, rand, tensor, type ModelSpec } from '../import/onnx-builder.js';
import { CONSERVING, conservationErrors, onnxModel, ortRun, relDiff, uniform } from '../helpers/oracle.js';

const H = 9;
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** Conv(3→4, pad 1) → Relu → Conv(4→6, pad 1) → Relu → tail, reading `src`. */
function net(pre: ModelSpec['nodes'], src: string, tail: ModelSpec['nodes'], inits: NonNullable<ModelSpec['initializers']> = []): ModelSpec {
  return {
    inputShape: [3, H, H],
    nodes: [
      ...pre,
      node('Conv', [src, 'W1', 'B1'], ['a'], [attr.ints('pads', [1, 1, 1, 1])], 'conv1'),
      node('Relu', ['a'], ['ar'], [], 'relu1'),
      node('Conv', ['ar', 'W2', 'B2'], ['c'], [attr.ints('pads', [1, 1, 1, 1])], 'conv2'),
      node('Relu', ['c'], ['cr'], [], 'relu2'),
      ...tail,
    ],
    initializers: [
      tensor('W1', [4, 3, 3, 3], rand(108, 3)), tensor('B1', [4], rand(4, 4)),
      tensor('W2', [6, 4, 3, 3], rand(216, 5).map((v) => v * 0.5)), tensor('B2', [6], rand(6, 6)),
      tensor('W3', [3, 6], rand(18, 7)), tensor('B3', [3], rand(3, 8)),
      ...inits,
    ],
  };
}

const GAP_TAIL = [
  node('GlobalAveragePool', ['cr'], ['g'], [], 'gap'),
  node('Flatten', ['g'], ['f'], [], 'flatten'),
  node('Gemm', ['f', 'W3', 'B3'], ['y'], [attr.i('transB', 1)], 'fc'),
];

const x = uniform(2 * 3 * H * H, 9);
const normalized = x.map((v, i) => {
  const c = Math.floor((i % (3 * H * H)) / (H * H));
  return (v - MEAN[c]) / STD[c];
});

describe('in-graph preprocessing (x − mean) / std', () => {
  const withPre = buildModel(
    net([node('Sub', ['x', 'mean'], ['xm'], [], 'sub_mean'), node('Div', ['xm', 'std'], ['xs'], [], 'div_std')], 'xs', GAP_TAIL, [
      tensor('mean', [1, 3, 1, 1], MEAN), tensor('std', [1, 3, 1, 1], STD),
    ]),
  );
  const without = buildModel(net([], 'x', GAP_TAIL));

  it('predicts like onnxruntime-web and like the model fed normalised inputs', async () => {
    const m = await onnxModel(withPre);
    const p = m.predict(x);
    expect(relDiff(p, await ortRun(withPre, x, [2, 3, H, H]))).toBeLessThan(1e-5);
    const plain = await onnxModel(without);
    expect(relDiff(p, plain.predict(normalized))).toBeLessThan(1e-5);
    m.dispose();
    plain.dispose();
  });

  it('merges Sub and Div into one scale/shift node that keeps the pass rule and says so', async () => {
    const m = await onnxModel(withPre);
    const text = m.describe({ composite: 'epsilon-gamma-box', low: 0, high: 1 });
    expect(text).toMatch(/sub_mean\s+affine\s+\[N, 3, 9, 9\]\s+x·\[4\.367, 4\.464, 4\.444\] \+ \[-2\.118, -2\.036, -1\.804\]\s+pass/);
    expect(text).toMatch(/conv1\s+conv2d.*zbox/);
    expect(text).toMatch(/merged the constant scale\/shift 'div_std' into 'sub_mean'/);
    expect(text).toMatch(/preprocessing.*zbox bounds are given in the raw input domain/);
    m.dispose();
  });

  it('applies zbox bounds in the raw domain: equal to zbox on normalised inputs with normalised bounds', async () => {
    const m = await onnxModel(withPre);
    const plain = await onnxModel(without);
    const raw = m.explain(x, { composite: 'epsilon-gamma-box', low: 0, high: 1 });
    const low = MEAN.map((mu, c) => (0 - mu) / STD[c]);
    const high = MEAN.map((mu, c) => (1 - mu) / STD[c]);
    const ref = plain.explain(normalized, { composite: 'epsilon-gamma-box', low, high });
    expect(relDiff(raw.relevance, ref.relevance)).toBeLessThan(1e-4);
    expect(relDiff(raw.logits, ref.logits)).toBeLessThan(1e-5);
    m.dispose();
    plain.dispose();
  });
});

describe('constant scale/shift after a conv', () => {
  const spec = net([], 'x', [], [tensor('sc', [6, 1, 1], [0.5, 2, -1, 1.5, 0.25, 3]), tensor('sh', [1, 6, 1, 1], rand(6, 12))]);
  spec.nodes = [
    ...spec.nodes.slice(0, 3), // conv1, relu1, conv2
    node('Mul', ['c', 'sc'], ['s1'], [], 'scale'),
    node('Add', ['s1', 'sh'], ['s2'], [], 'shift'),
    node('Relu', ['s2'], ['cr'], [], 'relu2'),
    ...GAP_TAIL,
  ];
  const bytes = buildModel(spec);

  it('is folded into the conv exactly (predictions match onnxruntime-web; no affine node left)', async () => {
    const g = canonicalize(importOnnx(bytes));
    expect(g.nodes.map((n) => n.op)).not.toContain('affine');
    expect(g.notes.join('\n')).toMatch(/folded constant scale\/shift 'scale' into 'conv2'/);
    const m = await onnxModel(bytes);
    expect(relDiff(m.predict(x), await ortRun(bytes, x, [2, 3, H, H]))).toBeLessThan(1e-5);
    m.dispose();
  });
});

describe('reductions and upsampling', () => {
  const cases: Array<{ name: string; tail: ModelSpec['nodes']; inits?: NonNullable<ModelSpec['initializers']>; opset?: number; shows: RegExp }> = [
    {
      name: 'ReduceMean over H, W, keepdims 0 (MNASNet)',
      tail: [node('ReduceMean', ['cr'], ['f'], [attr.ints('axes', [2, 3]), attr.i('keepdims', 0)], 'mean'), node('Gemm', ['f', 'W3', 'B3'], ['y'], [attr.i('transB', 1)], 'fc')],
      shows: /mean\s+globalavgpool.*norm/,
    },
    {
      name: 'ReduceSum over H, W (axes input), keepdims 1',
      tail: [
        node('ReduceSum', ['cr', 'axes'], ['s'], [attr.i('keepdims', 1)], 'sum'),
        node('Flatten', ['s'], ['f'], [], 'flatten'),
        node('Gemm', ['f', 'W3', 'B3'], ['y'], [attr.i('transB', 1)], 'fc'),
      ],
      inits: [tensor('axes', [2], [-2, -1], { dataType: INT64 })],
      shows: /sum\s+avgpool2d.*k9x9 s1x1 p0,0,0,0 sum\s+norm/,
    },
    {
      name: 'Resize nearest ×2 (nn.Upsample), then GlobalMaxPool',
      tail: [
        node('Resize', ['cr', '', 'scales'], ['u'], [attr.s('mode', 'nearest'), attr.s('coordinate_transformation_mode', 'asymmetric'), attr.s('nearest_mode', 'floor')], 'up'),
        node('GlobalMaxPool', ['u'], ['g'], [], 'gmp'),
        node('Flatten', ['g'], ['f'], [], 'flatten'),
        node('Gemm', ['f', 'W3', 'B3'], ['y'], [attr.i('transB', 1)], 'fc'),
      ],
      inits: [tensor('scales', [4], [1, 1, 2, 2])],
      shows: /up\s+upsample\s+\[N, 6, 18, 18\]\s+×2x2\s+gradient/,
    },
    {
      name: 'Mul of two unrelated activations (a plain product, uniform rule)',
      tail: [
        node('Conv', ['ar', 'W2', 'B2'], ['c2'], [attr.ints('pads', [1, 1, 1, 1])], 'conv2b'),
        node('Mul', ['cr', 'c2'], ['p'], [], 'prod'),
        ...GAP_TAIL.map((n) => (n.input![0] === 'cr' ? { ...n, input: ['p', ...n.input!.slice(1)] } : n)),
      ],
      shows: /prod\s+mul\s+\[N, 6, 9, 9\]\s+product\s+uniform/,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: matches onnxruntime-web, explains, conserves without biases`, async () => {
      const bytes = buildModel({ ...net([], 'x', c.tail, c.inits), opset: c.opset ?? 13 });
      const m = await onnxModel(bytes);
      expect(relDiff(m.predict(x), await ortRun(bytes, x, [2, 3, H, H]))).toBeLessThan(1e-5);
      expect(m.describe()).toMatch(c.shows);
      const r = m.explain(x, { composite: 'epsilon-gamma-box', low: 0, high: 1 });
      expect(r.relevance.every(Number.isFinite)).toBe(true);
      m.dispose();
      const free = await onnxModel(bytes, { biasFree: true });
      const e = free.explain(x, { composite: CONSERVING });
      for (const err of conservationErrors(e.sums)) expect(err).toBeLessThan(1e-4);
      free.dispose();
    });
  }
});

describe('what stays unsupported gets an error naming the node', () => {
  const bad = (tail: ModelSpec['nodes'], inits: NonNullable<ModelSpec['initializers']> = []) => () => importOnnx(buildModel(net([], 'x', tail, inits)));
  it('a Mul of two activations of different shapes that is no per-channel gate', () => {
    const f = bad(
      [node('Conv', ['ar', 'W1c', 'B1c'], ['c1'], [attr.ints('pads', [1, 1, 1, 1])], 'conv2b'), node('Mul', ['cr', 'c1'], ['y'], [], 'prod')],
      [tensor('W1c', [1, 4, 3, 3], rand(36, 11)), tensor('B1c', [1], [0.1])],
    );
    expect(f).toThrow(UnsupportedError);
    expect(f).toThrow(/ONNX Mul node 'prod': Mul of the activations \[6, 9, 9\] and \[1, 9, 9\] is neither an activation pattern/);
  });
  it('a Transpose that moves the batch axis', () => {
    expect(bad([node('Transpose', ['cr'], ['y'], [attr.ints('perm', [1, 0, 2, 3])], 't')])).toThrow(/ONNX Transpose node 't': perm \[1, 0, 2, 3\] moves the batch axis/);
  });
  it('a reduction over the channel axis', () => {
    expect(bad([node('ReduceMean', ['cr'], ['y'], [attr.ints('axes', [1])], 'rm')])).toThrow(/ONNX ReduceMean node 'rm': ReduceMean over axes \[1\].*only over the spatial axes/);
  });
  it('shape arithmetic that would tie a per-sample shape to the batch size', () => {
    const f = bad(
      [
        node('Shape', ['cr'], ['sh']), node('Gather', ['sh', 'i0'], ['n']), node('Mul', ['n', 'two'], ['n2'], [], 'double_batch'),
      ],
      [tensor('i0', [], [0], { dataType: INT64 }), tensor('two', [], [2], { dataType: INT64 })],
    );
    expect(f).toThrow(/ONNX Mul node 'double_batch': Mul of \[N\] and \[2\] would make a shape depend on the batch size N/);
  });
  it('bilinear Resize', () => {
    expect(bad([node('Resize', ['cr', '', 'scales'], ['y'], [attr.s('mode', 'linear')], 'up')], [tensor('scales', [4], [1, 1, 2, 2])])).toThrow(
      /ONNX Resize node 'up': mode 'linear' is not supported/,
    );
  });
});
