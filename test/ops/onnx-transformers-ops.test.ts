/**
 * The ONNX ops of transformers and sequence models, each in a small hand-built ONNX graph:
 * predictions against onnxruntime-web (≤ 1e-5), the IR the importer makes, explanations with the
 * 'attnlrp' composite (finite; conserving where AttnLRP's rules conserve), and typed errors that
 * name the node for what stays unsupported.
 */
import { describe, expect, it } from 'vitest';
import { InputError, ShapeError, UnsupportedError } from '../../src/errors.js';
import { importOnnx } from '../../src/import/onnx.js';
import { attr, buildModel, FLOAT, INT64, node, rand, tensor, valueInfo, type ModelSpec } from '../import/onnx-builder.js';
import { CONSERVING, conservationErrors, onnxModel, ort, ortRun, relDiff, uniform } from '../helpers/oracle.js';

type Nodes = ModelSpec['nodes'];
type Inits = NonNullable<ModelSpec['initializers']>;

const T = 5, D = 6, CLASSES = 3;
const i64 = (name: string, dims: number[], values: number[]) => tensor(name, dims, values, { dataType: INT64 });
const scalar = (name: string, v: number) => tensor(name, [], [v]);
const weights = (name: string, dims: number[], seed: number, scale = 1) => tensor(name, dims, rand(dims.reduce((a, b) => a * b, 1), seed).map((v) => v * scale));

/** x [N, T, D] → body (→ 'h' [N, rows, cols]) → Flatten → Gemm → y */
function sequence(body: Nodes, inits: Inits, opts: { opset?: number; hidden?: number; zeroBias?: boolean; input?: ModelSpec['inputs'] } = {}): ModelSpec {
  const hidden = opts.hidden ?? T * D;
  return {
    opset: opts.opset ?? 17,
    inputs: opts.input ?? [valueInfo('x', ['N', T, D])],
    nodes: [...body, node('Flatten', ['h'], ['f'], [], 'flatten'), node('Gemm', ['f', 'Wout', 'Bout'], ['y'], [attr.i('transB', 1)], 'head')],
    initializers: [...inits, weights('Wout', [CLASSES, hidden], 90), tensor('Bout', [CLASSES], opts.zeroBias ? [0, 0, 0] : rand(CLASSES, 91))],
  };
}

const X = uniform(3 * T * D, 3, -1, 1);

async function predictsLikeOrt(bytes: Uint8Array, x = X, shape = [3, T, D]): Promise<void> {
  const model = await onnxModel(bytes);
  expect(relDiff(model.predict(x), await ortRun(bytes, x, shape))).toBeLessThan(1e-5);
  model.dispose();
}

async function explainsFinite(bytes: Uint8Array, x = X): Promise<void> {
  const model = await onnxModel(bytes);
  const r = model.explain(x, { composite: 'attnlrp' });
  expect(r.relevance.every(Number.isFinite)).toBe(true);
  expect(r.relevance.some((v) => v !== 0)).toBe(true);
  model.dispose();
}

const ln = (scale: string, bias: string): Nodes => [
  node('LayerNormalization', ['x', scale, bias], ['n'], [attr.i('axis', -1), attr.f('epsilon', 1e-5)], 'ln'),
  node('MatMul', ['n', 'Wt'], ['m'], [], 'token_linear'),
  node('Add', ['bt', 'm'], ['a'], [], 'token_bias'),
  node('Relu', ['a'], ['h'], [], 'relu'),
];
const lnInits = (zeroBias = false): Inits => [
  tensor('gamma', [D], rand(D, 5).map((v) => 1 + 0.5 * v)),
  tensor('beta', [D], zeroBias ? new Array(D).fill(0) : rand(D, 6).map((v) => 0.3 * v)),
  weights('Wt', [D, D], 7),
  tensor('bt', [D], zeroBias ? new Array(D).fill(0) : rand(D, 8).map((v) => 0.2 * v)),
];

/** The opset-13 export of nn.LayerNorm: ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add. */
const lnPattern: Nodes = [
  node('ReduceMean', ['x'], ['mu'], [attr.ints('axes', [-1])], 'ln/ReduceMean'),
  node('Sub', ['x', 'mu'], ['d'], [], 'ln/Sub'),
  node('Pow', ['d', 'two'], ['d2'], [], 'ln/Pow'),
  node('ReduceMean', ['d2'], ['var'], [attr.ints('axes', [-1])], 'ln/ReduceMean_1'),
  node('Add', ['var', 'eps'], ['ve'], [], 'ln/Add'),
  node('Sqrt', ['ve'], ['sd'], [], 'ln/Sqrt'),
  node('Div', ['d', 'sd'], ['nd'], [], 'ln/Div'),
  node('Mul', ['nd', 'gamma'], ['ns'], [], 'ln/Mul'),
  node('Add', ['ns', 'beta'], ['n'], [], 'ln/Add_1'),
];

describe('LayerNormalization', () => {
  it('opset 17 over [N, T, D]: one layernorm node, a dense over the tokens with its bias folded; predicts like onnxruntime-web', async () => {
    const bytes = buildModel(sequence(ln('gamma', 'beta'), lnInits()));
    const g = importOnnx(bytes);
    expect(g.nodes.map((v) => v.op)).toEqual(['layernorm', 'dense', 'relu', 'flatten', 'dense']);
    const l = g.nodes[0];
    expect(l.op === 'layernorm' && [l.features, l.epsilon, l.weight?.length, l.bias?.length]).toEqual([D, Math.fround(1e-5), D, D]);
    const d = g.nodes[1];
    expect(d.op === 'dense' && d.bias !== null).toBe(true);
    await predictsLikeOrt(bytes);
    await explainsFinite(bytes);
  });

  it('opset 17 without the optional bias', async () => {
    await predictsLikeOrt(buildModel(sequence(ln('gamma', ''), lnInits())));
  });

  it('the opset-13 pattern becomes one layernorm node (and predicts the same)', async () => {
    const spec = sequence([...lnPattern, ...ln('gamma', 'beta').slice(1)], [...lnInits(), scalar('two', 2), scalar('eps', 1e-5)], { opset: 13 });
    const bytes = buildModel(spec);
    const g = importOnnx(bytes);
    expect(g.nodes.map((v) => v.op)).toEqual(['layernorm', 'dense', 'relu', 'flatten', 'dense']);
    expect(g.nodes[0].name).toBe('ln/Add_1');
    expect(g.notes.join('\n')).toMatch(/recognised LayerNorm in the 9 nodes 'ln\/ReduceMean' … 'ln\/Add_1'/);
    await predictsLikeOrt(bytes);
  });

  it('a pattern whose inner tensor is read elsewhere is not fused (and its Sub of two activations is refused, naming the node)', () => {
    const spec = sequence([...lnPattern, node('Add', ['n', 'd'], ['n2'], [], 'reads_d'), node('MatMul', ['n2', 'Wt'], ['h'], [], 'mm')], [...lnInits(), scalar('two', 2), scalar('eps', 1e-5)], { opset: 13 });
    expect(() => importOnnx(buildModel(spec))).toThrow(/ONNX Sub node 'ln\/Sub': Sub of two activations is not supported/);
  });

  it('conserves relevance on the bias-free variant (AttnLRP: the std is a constant)', async () => {
    const bytes = buildModel(sequence(ln('gamma', 'beta'), lnInits(true), { zeroBias: true }));
    const model = await onnxModel(bytes, { biasFree: true });
    const r = model.explain(X, { composite: CONSERVING });
    for (const err of conservationErrors(r.sums)) expect(err).toBeLessThan(1e-4);
    model.dispose();
  });

  it('errors name the node: not over the last axis, a scale of the wrong length', () => {
    const axis1 = sequence([node('LayerNormalization', ['x', 'gamma'], ['h'], [attr.i('axis', 1)], 'ln_axis1')], lnInits());
    expect(() => importOnnx(buildModel(axis1))).toThrow(UnsupportedError);
    expect(() => importOnnx(buildModel(axis1))).toThrow(/ONNX LayerNormalization node 'ln_axis1': LayerNormalization over axis 1 of \[N, 5, 6\] \(N = batch size\); only over the last axis/);
    const wrong = sequence([node('LayerNormalization', ['x', 'g5'], ['h'], [], 'ln_g5')], [tensor('g5', [5], [1, 1, 1, 1, 1])]);
    expect(() => importOnnx(buildModel(wrong))).toThrow(ShapeError);
    expect(() => importOnnx(buildModel(wrong))).toThrow(/ONNX LayerNormalization node 'ln_g5': scale 'g5' has shape \[5\], expected \[6\]/);
  });
});

/**
 * Seq-first multi-head self-attention as torch exports nn.MultiheadAttention: [N, T, E] →
 * Transpose → [T, N, E] → in-projection (MatMul [E, 3E] + Add) → three Slices → Reshape
 * [T, N·H, hd] (targets from Shape arithmetic) → Transpose → Q/√hd · Kᵀ → Softmax → · V →
 * Transpose → Reshape [T·N, E] → Gemm → Reshape [T, N, E] → Transpose → [N, T, E] → residual Add.
 */
function attention(opts: { zeroBias?: boolean } = {}): ModelSpec {
  const H = 2, HD = D / H;
  const shapeOf = (src: string, idx: number, out: string, tag: string): Nodes => [
    node('Shape', [src], [`${out}_shape`], [], `${tag}_shape`),
    node('Gather', [`${out}_shape`, `i${idx}`], [out], [attr.i('axis', 0)], `${tag}_gather`),
  ];
  const unsq = (src: string, out: string): Nodes => [node('Unsqueeze', [src, 'ax0'], [out], [], `${out}_unsq`)];
  const headView = (src: string, out: string): Nodes => [
    ...shapeOf(src, 0, `${out}_t`, `${out}_t`),
    ...unsq(`${out}_t`, `${out}_t1`),
    node('Concat', [`${out}_t1`, 'nh1', 'hd1'], [`${out}_target`], [attr.i('axis', 0)], `${out}_concat`),
    node('Reshape', [src, `${out}_target`], [`${out}_r`], [], `${out}_reshape`),
    node('Transpose', [`${out}_r`], [out], [attr.ints('perm', [1, 0, 2])], `${out}_heads_first`),
  ];
  const bias = (name: string, n: number, seed: number) => tensor(name, [n], opts.zeroBias ? new Array(n).fill(0) : rand(n, seed).map((v) => 0.2 * v));
  return sequence(
    [
      node('Transpose', ['x'], ['s'], [attr.ints('perm', [1, 0, 2])], 'seq_first'),
      ...shapeOf('s', 1, 'n', 'n'),
      node('Mul', ['n', 'heads'], ['nh'], [], 'n_heads'),
      ...unsq('nh', 'nh1'),
      node('MatMul', ['s', 'Win'], ['qkv0'], [], 'in_proj'),
      node('Add', ['bin', 'qkv0'], ['qkv'], [], 'in_proj_bias'),
      node('Slice', ['qkv', 'st0', 'st1', 'axm1'], ['q0'], [], 'q_slice'),
      node('Slice', ['qkv', 'st1', 'st2', 'axm1'], ['k0'], [], 'k_slice'),
      node('Slice', ['qkv', 'st2', 'st3', 'axm1'], ['v0'], [], 'v_slice'),
      ...headView('q0', 'q'),
      ...headView('v0', 'v'),
      ...shapeOf('k0', 0, 'kt', 'kt'),
      ...unsq('kt', 'kt1'),
      node('Concat', ['kt1', 'nh1', 'hd1'], ['k_target'], [attr.i('axis', 0)], 'k_concat'),
      node('Reshape', ['k0', 'k_target'], ['k_r'], [], 'k_reshape'),
      node('Transpose', ['k_r'], ['kT'], [attr.ints('perm', [1, 2, 0])], 'k_transposed'),
      node('Div', ['q', 'sqrt_hd'], ['qs'], [], 'scale'),
      node('MatMul', ['qs', 'kT'], ['scores'], [], 'q_kT'),
      node('Softmax', ['scores'], ['attn'], [attr.i('axis', -1)], 'softmax'),
      node('MatMul', ['attn', 'v'], ['ctx'], [], 'attn_v'),
      node('Transpose', ['ctx'], ['ctx_t'], [attr.ints('perm', [1, 0, 2])], 'tokens_first'),
      node('Mul', ['kt', 'n'], ['tn'], [], 't_times_n'),
      ...unsq('tn', 'tn1'),
      node('Concat', ['tn1', 'e1'], ['merge_target'], [attr.i('axis', 0)], 'merge_concat'),
      node('Reshape', ['ctx_t', 'merge_target'], ['merged'], [], 'merge_heads'),
      node('Gemm', ['merged', 'Wo', 'bo'], ['o'], [attr.i('transB', 1)], 'out_proj'),
      ...unsq('kt', 'kt2'),
      ...unsq('n', 'n1'),
      node('Concat', ['kt2', 'n1', 'e1'], ['back_target'], [attr.i('axis', 0)], 'back_concat'),
      node('Reshape', ['o', 'back_target'], ['o3'], [], 'split_tokens'),
      node('Transpose', ['o3'], ['o_b'], [attr.ints('perm', [1, 0, 2])], 'batch_first'),
      node('Add', ['o_b', 'x'], ['h'], [], 'residual'),
    ],
    [
      i64('i0', [], [0]), i64('i1', [], [1]), i64('heads', [], [H]), i64('ax0', [1], [0]), i64('hd1', [1], [HD]), i64('e1', [1], [D]),
      i64('st0', [1], [0]), i64('st1', [1], [D]), i64('st2', [1], [2 * D]), i64('st3', [1], [3 * D]), i64('axm1', [1], [-1]),
      weights('Win', [D, 3 * D], 21, 0.7), bias('bin', 3 * D, 22), scalar('sqrt_hd', Math.sqrt(HD)),
      weights('Wo', [D, D], 23, 0.7), bias('bo', D, 24),
    ],
    { zeroBias: opts.zeroBias },
  );
}

describe('multi-head attention exported seq-first (batch position tracking, matmul, softmax)', () => {
  it('imports as transposes, views, denses, matmuls and a softmax, and predicts like onnxruntime-web at batch 3 and 1', async () => {
    const bytes = buildModel(attention());
    const ops = importOnnx(bytes).nodes.map((v) => v.op);
    expect(ops.filter((o) => o === 'matmul').length).toBe(2);
    expect(ops.filter((o) => o === 'softmax').length).toBe(1);
    expect(ops).not.toContain('constant');
    await predictsLikeOrt(bytes);
    await predictsLikeOrt(bytes, X.subarray(0, T * D), [1, T, D]);
    await explainsFinite(bytes);
  });

  it('relevance: on the bias-free variant everything the softmax does not absorb is conserved', async () => {
    // AttnLRP's softmax rule (Prop. 3.1) sends x ⊙ (R − s·ΣR) to the scores: the rest goes to the bias term of
    // the linearisation by design. Everything else here (epsilon on the denses, matmul's epsilon + uniform
    // split, norm on the residual add) conserves. So Σ R_in = R_start − (what the softmax absorbs).
    const model = await onnxModel(buildModel(attention({ zeroBias: true })), { biasFree: true });
    const r = model.explain(X, { composite: 'attnlrp', layers: true });
    const sm = model.graph.nodes.find((v) => v.op === 'softmax')!;
    const scores = model.graph.nodes.find((v) => v.name === sm.inputs[0])!;
    expect(model.graph.nodes.filter((v) => v.inputs.includes(scores.name)).length).toBe(1); // the softmax is its only reader
    const per = r.layers![sm.name].length / 3;
    const scoresPer = r.layers![scores.name].length / 3;
    for (let s = 0; s < 3; s++) {
      let out = 0, inp = 0;
      for (let i = 0; i < per; i++) out += r.layers![sm.name][s * per + i];
      for (let i = 0; i < scoresPer; i++) inp += r.layers![scores.name][s * scoresPer + i];
      const absorbed = out - inp;
      const start = r.sums.start[s];
      expect(Math.abs(r.sums.input[s] + absorbed - start) / Math.abs(start)).toBeLessThan(1e-4);
    }
    model.dispose();
  });

  it('errors name the node: products with different leading axes, softmax over the batch-holding axis', () => {
    const base = (tail: Nodes, inits: Inits = []) => () =>
      importOnnx(buildModel({ inputs: [valueInfo('x', ['N', T, D])], nodes: [node('Transpose', ['x'], ['s'], [attr.ints('perm', [1, 0, 2])], 'seq_first'), ...tail], initializers: inits }));
    const mm = base([node('Transpose', ['x'], ['xt'], [attr.ints('perm', [0, 2, 1])], 'xt'), node('MatMul', ['s', 'xt'], ['y'], [], 'mixed')]);
    expect(mm).toThrow(UnsupportedError);
    expect(mm).toThrow(/ONNX MatMul node 'mixed': MatMul of the activations \[5, N, 6\] · \[N, 6, 5\] \(N = batch size\): the leading axes differ/);
    const sm = base([node('Transpose', ['s'], ['st'], [attr.ints('perm', [0, 2, 1])], 'st'), node('Softmax', ['st'], ['y'], [attr.i('axis', 2)], 'bad_softmax')]);
    expect(sm).toThrow(/ONNX Softmax node 'bad_softmax': Softmax over the last axis of \[5, 6, N\], which holds the batch N/);
    const notLast = base([node('Softmax', ['s'], ['y'], [attr.i('axis', 0)], 'sm0')]);
    expect(notLast).toThrow(/ONNX Softmax node 'sm0': Softmax over axis 0 of \[5, N, 6\] \(N = batch size\); only over the last axis/);
  });
});

describe('Softmax inside the graph', () => {
  it('over the last axis given as a positive index (axis 2 of [N, T, D])', async () => {
    const bytes = buildModel(sequence([node('Softmax', ['x'], ['h'], [attr.i('axis', 2)], 'softmax')], []));
    expect(importOnnx(bytes).nodes.map((v) => v.op)).toEqual(['softmax', 'flatten', 'dense']);
    await predictsLikeOrt(bytes);
    await explainsFinite(bytes);
  });
  it('opset 11 with axis 1 of [N, T, D] (flattens T and D: not the last axis) is refused', () => {
    const spec = sequence([node('Softmax', ['x'], ['h'], [attr.i('axis', 1)], 'sm_v11')], [], { opset: 11 });
    expect(() => importOnnx(buildModel(spec))).toThrow(/ONNX Softmax node 'sm_v11': Softmax over axis 1 of \[N, 5, 6\]/);
  });
});

describe('embeddings: token ids as the model input', () => {
  const VOCAB = 11, DIM = 4;
  const ids = Float32Array.from({ length: 3 * T }, (_, i) => (i * 7 + 3) % VOCAB);
  const spec = (elem = INT64): ModelSpec => ({
    opset: 17,
    inputs: [valueInfo('tokens', ['N', T], elem)],
    nodes: [
      node('Gather', ['table', 'tokens'], ['e'], [attr.i('axis', 0)], 'embed'),
      node('Add', ['e', 'pos'], ['p'], [], 'add_pos'),
      node('Flatten', ['p'], ['f'], [], 'flatten'),
      node('Gemm', ['f', 'W', 'B'], ['y'], [attr.i('transB', 1)], 'head'),
    ],
    initializers: [weights('table', [VOCAB, DIM], 31), weights('pos', [1, T, DIM], 32, 0.1), weights('W', [CLASSES, T * DIM], 33), tensor('B', [CLASSES], [0.1, 0, -0.1])],
  });

  it('Gather on a constant table with the int64 input → embedding; the graph says its input holds tokens; a position embedding is a constant node; predicts like onnxruntime-web', async () => {
    const bytes = buildModel(spec());
    const g = importOnnx(bytes);
    expect(g.inputKind).toBe('tokens');
    expect(g.inputShape).toEqual([T]);
    expect(g.nodes.map((v) => v.op)).toEqual(['embedding', 'constant', 'add', 'flatten', 'dense']);
    const o = await ort();
    const session = await o.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    const out = await session.run({ tokens: new o.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [3, T]) });
    await session.release();
    const model = await onnxModel(bytes);
    expect(relDiff(model.predict(ids), out.y.data as Float32Array)).toBeLessThan(1e-5);
    const r = model.explain(ids, { composite: 'attnlrp' });
    expect(r.relevance.length).toBe(3 * T); // one value per token
    expect(r.relevance.every(Number.isFinite)).toBe(true);
    expect(() => model.predict(Float32Array.from(ids, (v, i) => (i === 4 ? VOCAB : v)))).toThrow(InputError);
    model.dispose();
  });

  it('an int64 input read by anything but an embedding is refused', () => {
    const s = spec();
    s.nodes = [node('Relu', ['tokens'], ['r'], [], 'relu_ids'), ...s.nodes.slice(1).map((n) => (n.name === 'add_pos' ? node('Add', ['r', 'pos'], ['p'], [], 'add_pos') : n))];
    expect(() => importOnnx(buildModel(s))).toThrow(/the ONNX model input 'tokens' has element type INT64; only float32 inputs are supported, or integer token ids/);
  });

  it('Gather from a constant with an activation that is not the model input as indices is refused', () => {
    const s: ModelSpec = { inputShape: [T], nodes: [node('Relu', ['x'], ['r']), node('Gather', ['table', 'r'], ['y'], [], 'gather_act')], initializers: [weights('table', [VOCAB, DIM], 31)] };
    expect(() => importOnnx(buildModel(s))).toThrow(/ONNX Gather node 'gather_act': Gather from the constant 'table' needs the model input as its indices/);
  });
});

describe('class token, position embedding and x[:, 0]', () => {
  const cls = weights('cls', [1, 1, D], 41, 0.5);
  const pos = weights('pos', [1, T + 1, D], 42, 0.1);

  it('Expand of the class token to [N, 1, D] (from Shape) + Concat + Add of the position embedding + Gather of one position', async () => {
    const bytes = buildModel(
      sequence(
        [
          node('Shape', ['x'], ['xs'], [], 'shape'),
          node('Gather', ['xs', 'i0'], ['n'], [attr.i('axis', 0)], 'n'),
          node('Unsqueeze', ['n', 'ax0'], ['n1'], [], 'n1'),
          node('Concat', ['n1', 'minus1', 'minus1'], ['want'], [attr.i('axis', 0)], 'want'),
          node('Reshape', ['want', 'minus1'], ['want_r'], [], 'want_r'),
          node('Shape', ['want_r'], ['ws'], [], 'ws'),
          node('ConstantOfShape', ['ws'], ['ones'], [attr.t('value', i64('', [1], [1]))], 'ones'),
          node('Mul', ['ones', 'minus1s'], ['m1s'], [], 'm1s'),
          node('Equal', ['want_r', 'm1s'], ['eq'], [], 'eq'),
          node('Where', ['eq', 'ones', 'want_r'], ['target'], [], 'where'),
          node('Expand', ['cls', 'target'], ['cls_n'], [], 'expand_cls'),
          node('Concat', ['cls_n', 'x'], ['tokens'], [attr.i('axis', 1)], 'prepend_cls'),
          node('Add', ['tokens', 'pos'], ['p'], [], 'add_pos'),
          // position 2 (x's second row): x[:, 0] alone would read only constants, which explain nothing
          node('Gather', ['p', 'i2'], ['h'], [attr.i('axis', 1)], 'token_out'),
        ],
        [cls, pos, i64('i0', [], [0]), i64('i2', [], [2]), i64('ax0', [1], [0]), i64('minus1', [1], [-1]), i64('minus1s', [], [-1])],
        { hidden: D },
      ),
    );
    const g = importOnnx(bytes);
    // x[:, 2] is a slice and a view to [D]; the Flatten of [N, D] after it adds nothing
    expect(g.nodes.map((v) => v.op)).toEqual(['constant', 'concat', 'constant', 'add', 'slice', 'flatten', 'dense']);
    await predictsLikeOrt(bytes);
    await explainsFinite(bytes);
  });

  it('fixed batch: the class token folded to a constant [2, 1, D] joins by Concat', async () => {
    const folded = tensor('cls2', [2, 1, D], [...rand(D, 41), ...rand(D, 41)].map((v) => v * 0.5));
    const bytes = buildModel(
      sequence([node('Concat', ['cls2', 'x'], ['tokens'], [attr.i('axis', 1)], 'prepend_cls'), node('Add', ['tokens', 'pos'], ['h'], [], 'add_pos')], [folded, pos], {
        hidden: (T + 1) * D,
        input: [valueInfo('x', [2, T, D])],
      }),
    );
    await predictsLikeOrt(bytes, X.subarray(0, 2 * T * D), [2, T, D]);
  });

  it('a constant that differs between the samples, Expand of an activation, Gather over the batch: errors naming the node', () => {
    const differs = tensor('cls2', [2, 1, D], [...rand(D, 41), ...rand(D, 43)]);
    const f = () => importOnnx(buildModel(sequence([node('Concat', ['cls2', 'x'], ['h'], [attr.i('axis', 1)], 'prepend')], [differs], { hidden: (T + 1) * D, input: [valueInfo('x', [2, T, D])] })));
    expect(f).toThrow(/ONNX Concat node 'prepend': the constant 'cls2' \[2, 1, 6\] differs between the samples of the batch/);
    const e = () => importOnnx(buildModel(sequence([node('Expand', ['x', 'shp'], ['h'], [], 'expand_x')], [i64('shp', [3], [1, T, D])])));
    expect(e).toThrow(/ONNX Expand node 'expand_x': Expand of an activation is not supported/);
    const b = () => importOnnx(buildModel(sequence([node('Gather', ['x', 'i0'], ['h'], [attr.i('axis', 0)], 'sample0')], [i64('i0', [], [0])])));
    expect(b).toThrow(/ONNX Gather node 'sample0': Gather along axis 0 of \[N, 5, 6\] \(N = batch size\) selects samples/);
  });
});

describe('1-D convolution and pooling, reductions over the time or token axis', () => {
  const C = 4, L = 9;
  const x1 = uniform(3 * C * L, 5, -1, 1);
  const conv1d = (tail: Nodes, hidden: number, inits: Inits = []): ModelSpec => ({
    opset: 17,
    inputs: [valueInfo('x', ['N', C, L])],
    nodes: [
      node('Conv', ['x', 'Wc', 'Bc'], ['c'], [attr.ints('kernel_shape', [3]), attr.ints('pads', [1, 0]), attr.ints('strides', [1]), attr.ints('dilations', [1])], 'conv1d'),
      node('Relu', ['c'], ['r'], [], 'relu'),
      ...tail,
      node('Flatten', ['h'], ['f'], [], 'flatten'),
      node('Gemm', ['f', 'W', 'B'], ['y'], [attr.i('transB', 1)], 'head'),
    ],
    initializers: [weights('Wc', [5, C, 3], 51, 0.6), tensor('Bc', [5], rand(5, 52)), weights('W', [CLASSES, hidden], 53), tensor('B', [CLASSES], [0, 0.1, 0.2]), ...inits],
  });
  const cases: Array<{ name: string; tail: Nodes; hidden: number; ops: string[]; inits?: Inits }> = [
    { name: 'MaxPool1d', tail: [node('MaxPool', ['r'], ['h'], [attr.ints('kernel_shape', [2]), attr.ints('strides', [2])], 'pool')], hidden: 5 * 4, ops: ['maxpool2d'] },
    { name: 'AvgPool1d with padding', tail: [node('AveragePool', ['r'], ['h'], [attr.ints('kernel_shape', [3]), attr.ints('strides', [2]), attr.ints('pads', [1, 1])], 'pool')], hidden: 5 * 4, ops: ['avgpool2d'] },
    { name: 'AdaptiveMaxPool1d(1) (MaxPool over all of L)', tail: [node('MaxPool', ['r'], ['h'], [attr.ints('kernel_shape', [8])], 'pool')], hidden: 5, ops: ['maxpool2d'] },
    { name: 'GlobalAveragePool over [C, L]', tail: [node('GlobalAveragePool', ['r'], ['h'], [], 'pool')], hidden: 5, ops: ['globalavgpool'] },
    { name: 'GlobalMaxPool over [C, L]', tail: [node('GlobalMaxPool', ['r'], ['h'], [], 'pool')], hidden: 5, ops: ['maxpool2d'] },
    { name: 'ReduceMax over the time axis', tail: [node('ReduceMax', ['r'], ['h'], [attr.ints('axes', [2]), attr.i('keepdims', 0)], 'pool')], hidden: 5, ops: ['maxpool2d'] },
    { name: 'ReduceMean over the channel axis (a transpose first)', tail: [node('ReduceMean', ['r'], ['h'], [attr.ints('axes', [1]), attr.i('keepdims', 1)], 'pool')], hidden: 8, ops: ['transpose', 'globalavgpool'] },
  ];
  for (const c of cases) {
    it(`Conv1d → ReLU → ${c.name}: predicts like onnxruntime-web, explains, conserves without biases`, async () => {
      const bytes = buildModel(conv1d(c.tail, c.hidden, c.inits));
      const ops = importOnnx(bytes).nodes.map((v) => v.op);
      expect(ops.slice(0, 3)).toEqual(['reshape', 'conv2d', 'reshape']);
      for (const o of c.ops) expect(ops).toContain(o);
      await predictsLikeOrt(bytes, x1, [3, C, L]);
      await explainsFinite(bytes, x1);
      const free = await onnxModel(bytes, { biasFree: true });
      const r = free.explain(x1, { composite: CONSERVING });
      for (const err of conservationErrors(r.sums)) expect(err).toBeLessThan(1e-4);
      free.dispose();
    });
  }

  it('ReduceMean over the tokens of [N, T, D] (mean pooling of a text model)', async () => {
    const bytes = buildModel(sequence([node('ReduceMean', ['x'], ['h'], [attr.ints('axes', [1]), attr.i('keepdims', 0)], 'mean_tokens')], [], { hidden: D }));
    await predictsLikeOrt(bytes);
  });

  it('a 1-D window on a 4-D input and a 3-D conv weight on [N, C, H, W] are refused, naming the node', () => {
    const bad: ModelSpec = { inputShape: [C, 3, 3], nodes: [node('Conv', ['x', 'Wc'], ['y'], [], 'conv1d_on_4d')], initializers: [weights('Wc', [5, C, 3], 51)] };
    expect(() => importOnnx(buildModel(bad))).toThrow(/ONNX Conv node 'conv1d_on_4d': a 1-D Conv expects \[N, C, L\], got per-sample shape \[4, 3, 3\]/);
  });
});

describe('recurrent layers', () => {
  for (const op of ['LSTM', 'GRU', 'RNN']) {
    it(`${op} is an UnsupportedError naming the node and saying recurrent layers are not supported`, () => {
      const spec: ModelSpec = { inputs: [valueInfo('x', ['N', T, D], FLOAT)], nodes: [node(op, ['x', 'W', 'R'], ['y'], [attr.i('hidden_size', 4)], `my_${op}`)], initializers: [weights('W', [1, 16, D], 1), weights('R', [1, 16, 4], 2)] };
      expect(() => importOnnx(buildModel(spec))).toThrow(UnsupportedError);
      expect(() => importOnnx(buildModel(spec))).toThrow(new RegExp(`ONNX ${op} node 'my_${op}': recurrent layers \\(${op}\\) are not supported`));
    });
  }
});
