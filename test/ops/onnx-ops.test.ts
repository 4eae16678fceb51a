/**
 * The ops the architectures issue added, each in a small ONNX model: predictions against
 * onnxruntime-web, explanations with every composite finite, relevance conserved on the bias-free
 * variant (epsilon(1e-9) everywhere, norm stabiliser 1e-9), describe() naming the op and its rule, and errors.
 */
import { describe, expect, it } from 'vitest';
import { COMPOSITE_NAMES } from '../../src/composites.js';
import { UnsupportedError } from '../../src/errors.js';
import { attr, buildModel, INT64, node, rand, tensor, type ModelSpec } from '../import/onnx-builder.js';
import { CONSERVING, conservationErrors, onnxModel, ortRun, relDiff, uniform } from '../helpers/oracle.js';

type Nodes = ModelSpec['nodes'];
type Inits = NonNullable<ModelSpec['initializers']>;

const C = 4;
const H = 7; // odd sizes: remainders after SIMD lanes

/** x [N,3,H,H] → Conv → a → (mid: a → b) → Conv → GlobalAveragePool → Flatten → Gemm → y */
function chain(mid: Nodes, inits: Inits = [], opts: { opset?: number; zeroBias?: boolean; midOut?: number; pre?: Nodes } = {}): ModelSpec {
  const b = (name: string, n: number, seed: number) => tensor(name, [n], opts.zeroBias ? new Array(n).fill(0) : rand(n, seed).map((v) => v * 0.2));
  const m = opts.midOut ?? C;
  return {
    inputShape: [3, H, H],
    opset: opts.opset ?? 13,
    nodes: [
      ...(opts.pre ?? []),
      node('Conv', [opts.pre ? 'p' : 'x', 'W1', 'B1'], ['a'], [attr.ints('pads', [1, 1, 1, 1])], 'conv1'),
      ...mid,
      node('Conv', ['b', 'W2', 'B2'], ['c'], [attr.ints('pads', [1, 1, 1, 1])], 'conv2'),
      node('GlobalAveragePool', ['c'], ['d'], [], 'gap'),
      node('Flatten', ['d'], ['e'], [], 'flatten'),
      node('Gemm', ['e', 'W3', 'B3'], ['y'], [attr.i('transB', 1)], 'fc'),
    ],
    initializers: [
      tensor('W1', [C, 3, 3, 3], rand(C * 27, 11).map((v) => v * 0.6)), b('B1', C, 12),
      tensor('W2', [5, m, 3, 3], rand(5 * m * 9, 13).map((v) => v * 0.4)), b('B2', 5, 14),
      tensor('W3', [3, 5], rand(15, 15)), b('B3', 3, 16),
      ...inits,
    ],
  };
}

const scalar = (name: string, v: number) => tensor(name, [], [v]);

interface Case {
  name: string;
  mid: Nodes;
  inits?: Inits;
  opset?: number;
  /** text describe() must show */
  shows: RegExp;
}

const ACTIVATIONS: Case[] = [
  { name: 'Clip as ReLU6 (opset 13 inputs)', mid: [node('Clip', ['a', 'lo', 'hi'], ['b'])], inits: [scalar('lo', 0), scalar('hi', 6)], shows: /activation.*relu6.*pass/ },
  { name: 'Clip with attributes (opset 10)', mid: [node('Clip', ['a'], ['b'], [attr.f('min', -0.5), attr.f('max', 0.25)])], opset: 10, shows: /clip\(-0\.5, 0\.25\)/ },
  { name: 'LeakyRelu', mid: [node('LeakyRelu', ['a'], ['b'], [attr.f('alpha', 0.1)])], shows: /leakyrelu\(0\.1/ },
  { name: 'Elu', mid: [node('Elu', ['a'], ['b'], [attr.f('alpha', 0.7)])], shows: /elu\(0\.7/ },
  { name: 'Selu', mid: [node('Selu', ['a'], ['b'])], shows: /selu/ },
  { name: 'Sigmoid', mid: [node('Sigmoid', ['a'], ['b'])], shows: /sigmoid/ },
  { name: 'HardSigmoid', mid: [node('HardSigmoid', ['a'], ['b'], [attr.f('alpha', 0.3), attr.f('beta', 0.4)])], shows: /hardsigmoid\(0\.3/ },
  { name: 'HardSwish (opset 14)', mid: [node('HardSwish', ['a'], ['b'])], opset: 14, shows: /hardswish/ },
  { name: 'Tanh', mid: [node('Tanh', ['a'], ['b'])], shows: /tanh/ },
  { name: 'Softplus', mid: [node('Softplus', ['a'], ['b'])], shows: /softplus/ },
  { name: 'Erf', mid: [node('Erf', ['a'], ['b'])], shows: /erf/ },
  { name: 'Gelu (opset 20)', mid: [node('Gelu', ['a'], ['b'])], opset: 20, shows: /gelu/ },
  { name: 'Gelu tanh (opset 20)', mid: [node('Gelu', ['a'], ['b'], [attr.s('approximate', 'tanh')])], opset: 20, shows: /gelu \(tanh/ },
  { name: 'PRelu per channel', mid: [node('PRelu', ['a', 'slope'], ['b'])], inits: [tensor('slope', [C, 1, 1], [0.1, -0.2, 0.3, 0.05])], shows: /prelu/ },
  {
    name: 'SiLU pattern (Sigmoid + Mul)',
    mid: [node('Sigmoid', ['a'], ['s']), node('Mul', ['a', 's'], ['b'], [], 'silu_mul')],
    shows: /activation\s+\[N, 4, 7, 7\]\s+silu/,
  },
  {
    name: 'hard-swish pattern (HardSigmoid(1/6, 1/2) + Mul)',
    mid: [node('HardSigmoid', ['a'], ['s'], [attr.f('alpha', 1 / 6), attr.f('beta', 0.5)]), node('Mul', ['a', 's'], ['b'])],
    shows: /hardswish/,
  },
  {
    name: 'GELU pattern (Div, Erf, Add, Mul, Mul)',
    mid: [
      node('Div', ['a', 'sqrt2'], ['g1']), node('Erf', ['g1'], ['g2']), node('Add', ['g2', 'one'], ['g3']),
      node('Mul', ['a', 'g3'], ['g4']), node('Mul', ['g4', 'half'], ['b']),
    ],
    inits: [scalar('sqrt2', Math.SQRT2), scalar('one', 1), scalar('half', 0.5)],
    shows: /activation\s+\[N, 4, 7, 7\]\s+gelu\s/,
  },
  {
    name: 'hard-swish as x · clip(x + 3, 0, 6) / 6 (self-gate)',
    mid: [
      node('Add', ['a', 'three'], ['h1']), node('Clip', ['h1', 'lo', 'hi'], ['h2']), node('Div', ['h2', 'six'], ['h3']),
      node('Mul', ['a', 'h3'], ['b']),
    ],
    inits: [scalar('three', 3), scalar('lo', 0), scalar('hi', 6), scalar('six', 6)],
    shows: /mul\s+\[N, 4, 7, 7\]\s+self-gate\s+signal/,
  },
];

const SE: Case = {
  name: 'squeeze-excitation gate',
  mid: [
    node('Relu', ['a'], ['r']),
    node('GlobalAveragePool', ['r'], ['sq']),
    node('Conv', ['sq', 'Wse1', 'Bse1'], ['se1']),
    node('Relu', ['se1'], ['se2']),
    node('Conv', ['se2', 'Wse2', 'Bse2'], ['se3']),
    node('Sigmoid', ['se3'], ['gate']),
    node('Mul', ['gate', 'r'], ['b'], [], 'se_mul'),
  ],
  inits: [tensor('Wse1', [2, C, 1, 1], rand(2 * C, 21)), tensor('Bse1', [2], [0.1, -0.1]), tensor('Wse2', [C, 2, 1, 1], rand(2 * C, 22)), tensor('Bse2', [C], rand(C, 23))],
  shows: /mul\s+\[N, 4, 7, 7\]\s+squeeze-excitation\s+signal/,
};

const SHUFFLE: Case = {
  name: 'channel shuffle with a dynamic-batch shape subgraph (Shape, Gather, Div, Unsqueeze, Concat, Reshape, Transpose)',
  mid: [
    node('Shape', ['a'], ['sh']),
    node('Gather', ['sh', 'i0'], ['n']), node('Gather', ['sh', 'i1'], ['ch']),
    node('Div', ['ch', 'groups'], ['cg']),
    node('Unsqueeze', ['n', 'ax0'], ['n1']), node('Unsqueeze', ['cg', 'ax0'], ['cg1']),
    node('Concat', ['n1', 'g1', 'cg1', 'hw'], ['shape5'], [attr.i('axis', 0)]),
    node('Reshape', ['a', 'shape5'], ['r5']),
    node('Transpose', ['r5'], ['t5'], [attr.ints('perm', [0, 2, 1, 3, 4])]),
    node('Reshape', ['t5', 'back'], ['b']),
  ],
  inits: [
    tensor('i0', [], [0], { dataType: INT64 }), tensor('i1', [], [1], { dataType: INT64 }), tensor('groups', [], [2], { dataType: INT64 }),
    tensor('ax0', [1], [0], { dataType: INT64 }), tensor('g1', [1], [2], { dataType: INT64 }), tensor('hw', [2], [H, H], { dataType: INT64 }),
    tensor('back', [4], [0, C, H, H], { dataType: INT64 }),
  ],
  shows: /transpose\s+\[N, 2, 2, 7, 7\]\s+perm \[1, 0, 2, 3\]\s+gradient/,
};

const SPLIT: Case = {
  name: 'Split + branch + Concat (ShuffleNet chunk)',
  mid: [
    node('Split', ['a'], ['s0', 's1'], [attr.i('axis', 1)]),
    node('Conv', ['s1', 'Wb', 'Bb'], ['s1c']),
    node('Relu', ['s1c'], ['s1r']),
    node('Concat', ['s0', 's1r'], ['b'], [attr.i('axis', 1)]),
  ],
  inits: [tensor('Wb', [2, 2, 1, 1], rand(4, 31)), tensor('Bb', [2], [0.05, -0.05])],
  shows: /slice\s+\[N, 2, 7, 7\]\s+axis 0 \[0:2\]\s+gradient/,
};

const SLICE: Case = {
  name: 'Slice with steps and negative bounds, then Pad-free Concat',
  mid: [
    node('Slice', ['a', 'st', 'en', 'ax', 'sp'], ['s']),
    node('Slice', ['a', 'st2', 'en2', 'ax2'], ['s2']),
    node('Concat', ['s', 's2'], ['b'], [attr.i('axis', 1)]),
  ],
  inits: [
    tensor('st', [1], [0], { dataType: INT64 }), tensor('en', [1], [-1], { dataType: INT64 }), tensor('ax', [1], [1], { dataType: INT64 }), tensor('sp', [1], [2], { dataType: INT64 }),
    tensor('st2', [1], [1], { dataType: INT64 }), tensor('en2', [1], [1000], { dataType: INT64 }), tensor('ax2', [1], [-3], { dataType: INT64 }),
  ],
  shows: /slice/,
};

function run(c: Case, extra: { midOut?: number } = {}): void {
  describe(c.name, () => {
    const spec = chain(c.mid, c.inits, { opset: c.opset, midOut: extra.midOut });
    const bytes = buildModel(spec);
    const x = uniform(3 * 3 * H * H, 5);

    it('predicts like onnxruntime-web', async () => {
      const model = await onnxModel(bytes);
      const want = await ortRun(bytes, x, [3, 3, H, H]);
      expect(relDiff(model.predict(x), want)).toBeLessThan(1e-5);
      const one = await ortRun(bytes, x.subarray(0, 3 * H * H), [1, 3, H, H]);
      expect(relDiff(model.predict(x.subarray(0, 3 * H * H)), one)).toBeLessThan(1e-5);
      model.dispose();
    });

    it('explains with every composite (finite) and describe() names the op and its rule', async () => {
      const model = await onnxModel(bytes);
      for (const composite of COMPOSITE_NAMES) {
        const r = model.explain(x, { composite, low: 0, high: 1 });
        expect(r.relevance.length).toBe(x.length);
        expect(r.relevance.every(Number.isFinite), composite).toBe(true);
      }
      expect(model.describe()).toMatch(c.shows);
      model.dispose();
    });

    // epsilon(1e-9) everywhere conserves on a bias-free net whatever the signs; z⁺ drops the
    // relevance of units whose z⁺ is 0 but whose z is not, so it is not a conservation check here
    it('conserves relevance on the bias-free variant (epsilon(1e-9) everywhere, norm stabiliser 1e-9)', async () => {
      const model = await onnxModel(buildModel(chain(c.mid, c.inits, { opset: c.opset, zeroBias: true, midOut: extra.midOut })), { biasFree: true });
      const r = model.explain(x, { composite: CONSERVING });
      for (const err of conservationErrors(r.sums)) expect(err).toBeLessThan(1e-4);
      model.dispose();
    });
  });
}

describe('ONNX element-wise activations (pass rule)', () => {
  for (const c of ACTIVATIONS) run(c);
});

describe('ONNX gates and layout ops', () => {
  run(SE);
  run(SHUFFLE);
  run(SPLIT);
  run(SLICE, { midOut: 5 });
});
