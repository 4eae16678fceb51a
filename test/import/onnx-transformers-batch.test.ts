/**
 * Batch position tracking (src/import/onnx-batch.ts): seq-first attention exports move the batch
 * out of the leading axis (Transpose [N, T, E] → [T, N, E]) and merge it with heads or tokens in
 * Reshapes whose targets come from Shape arithmetic (N·H) or, in fixed-batch exports, are
 * literal. The importer keeps the batch as one atom, turns the Transposes into IR transposes over
 * the other axes and the Reshapes into views, and the model must predict like onnxruntime-web.
 */
import { describe, expect, it } from 'vitest';
import { UnsupportedError } from '../../src/errors.js';
import { importOnnx } from '../../src/import/onnx.js';
import { attr, buildModel, INT64, node, rand, tensor, valueInfo, type ModelSpec } from './onnx-builder.js';
import { CONSERVING, conservationErrors, onnxModel, ortRun, relDiff, uniform } from '../helpers/oracle.js';

const T = 4, E = 6, H = 2, HD = 3, CLASSES = 5;

const i64 = (name: string, dims: number[], values: number[]) => tensor(name, dims, values, { dataType: INT64 });

/**
 * x [N, T, E] → Transpose → [T, N, E] → Relu → Reshape [T, N·H, HD] → Transpose → [N·H, T, HD]
 * → Mul 0.5 → Reshape [N, H·T·HD] → Gemm → [N, CLASSES]. `dynamic`: the targets come from
 * Shape/Gather/Mul/Unsqueeze/Concat as torch writes them; else literal lengths for batch `fixed`.
 */
function seqFirst(opts: { fixed?: number; zeroBias?: boolean } = {}): ModelSpec {
  const fixed = opts.fixed;
  const shapeNodes = fixed
    ? []
    : [
        node('Shape', ['t1'], ['s1'], [], 'shape'),
        node('Gather', ['s1', 'i1'], ['n'], [attr.i('axis', 0)], 'gather_n'),
        node('Mul', ['n', 'heads'], ['nh'], [], 'n_times_heads'),
        node('Unsqueeze', ['nh', 'ax0'], ['nh1'], [], 'unsq_nh'),
        node('Unsqueeze', ['n', 'ax0'], ['n1'], [], 'unsq_n'),
        node('Concat', ['tlen', 'nh1', 'hd'], ['target1'], [attr.i('axis', 0)], 'concat1'),
        node('Concat', ['n1', 'minus1'], ['target2'], [attr.i('axis', 0)], 'concat2'),
      ];
  const inits = fixed
    ? [i64('target1', [3], [T, fixed * H, HD]), i64('target2', [2], [fixed, -1])]
    : [i64('i1', [], [1]), i64('heads', [], [H]), i64('ax0', [1], [0]), i64('tlen', [1], [T]), i64('hd', [1], [HD]), i64('minus1', [1], [-1])];
  return {
    inputs: [valueInfo('x', [fixed ?? 'N', T, E])],
    nodes: [
      node('Transpose', ['x'], ['t1'], [attr.ints('perm', [1, 0, 2])], 'to_seq_first'),
      node('Relu', ['t1'], ['r'], [], 'relu'),
      ...shapeNodes,
      node('Reshape', ['r', 'target1'], ['heads_view'], [], 'split_heads'),
      node('Transpose', ['heads_view'], ['t2'], [attr.ints('perm', [1, 0, 2])], 'heads_first'),
      node('Mul', ['t2', 'half'], ['scaled'], [], 'scale'),
      node('Reshape', ['scaled', 'target2'], ['flat'], [], 'merge'),
      node('Gemm', ['flat', 'Wfc', 'Bfc'], ['y'], [attr.i('transB', 1)], 'fc'),
    ],
    initializers: [
      ...inits,
      tensor('half', [], [0.5]),
      tensor('Wfc', [CLASSES, T * E], rand(CLASSES * T * E, 7)),
      tensor('Bfc', [CLASSES], opts.zeroBias ? new Array(CLASSES).fill(0) : rand(CLASSES, 8)),
    ],
  };
}

describe('batch position tracking through seq-first transposes and head reshapes', () => {
  const x = uniform(3 * T * E, 9, -1, 1);

  it('dynamic batch (targets from Shape arithmetic, N·heads): predicts like onnxruntime-web at batch 3 and 1', async () => {
    const bytes = buildModel(seqFirst());
    const graph = importOnnx(bytes);
    // The batch moves, the IR only permutes and views the per-sample axes.
    expect(graph.nodes.map((v) => v.op)).toEqual(['relu', 'reshape', 'transpose', 'affine', 'flatten', 'dense']);
    const model = await onnxModel(bytes);
    expect(relDiff(model.predict(x), await ortRun(bytes, x, [3, T, E]))).toBeLessThan(1e-5);
    const one = x.subarray(0, T * E);
    expect(relDiff(model.predict(one), await ortRun(bytes, one, [1, T, E]))).toBeLessThan(1e-5);
    model.dispose();
  });

  for (const fixed of [3, 1]) {
    it(`fixed batch ${fixed} (literal lengths that include the batch): predicts like onnxruntime-web`, async () => {
      const bytes = buildModel(seqFirst({ fixed }));
      const model = await onnxModel(bytes);
      const xs = x.subarray(0, fixed * T * E);
      expect(relDiff(model.predict(xs), await ortRun(bytes, xs, [fixed, T, E]))).toBeLessThan(1e-5);
      model.dispose();
    });
  }

  it('explains: relevance moves with the values (conserved on the bias-free variant)', async () => {
    const model = await onnxModel(buildModel(seqFirst({ zeroBias: true })), { biasFree: true });
    const r = model.explain(x, { composite: CONSERVING });
    expect(r.relevance.every(Number.isFinite)).toBe(true);
    for (const err of conservationErrors(r.sums)) expect(err).toBeLessThan(1e-4);
    model.dispose();
  });
});

describe('batch position tracking: what cannot be tracked is an error naming the node', () => {
  const base = (tail: ModelSpec['nodes'], inits: ModelSpec['initializers'] = []) => () =>
    importOnnx(
      buildModel({
        inputShape: [T, E],
        nodes: [node('Transpose', ['x'], ['t1'], [attr.ints('perm', [1, 0, 2])], 'to_seq_first'), ...tail],
        initializers: inits,
      }),
    );

  it('a Reshape that would split the batch', () => {
    // [T, N, E] → [8, -1]: the 8 would take T = 4 and half of the batch
    const f = base([node('Reshape', ['t1', 'shp'], ['y'], [], 'bad_view')], [i64('shp', [2], [8, -1])]);
    expect(f).toThrow(UnsupportedError);
    expect(f).toThrow(/ONNX Reshape node 'bad_view': reshape of \[4, N, 6\] to \[8, -1\] would split or move the batch: axis 0 \(length 8\) would take the batch N/);
  });

  it('an op over an axis that holds the batch', () => {
    const f = base([node('Slice', ['t1', 'st', 'en', 'ax'], ['y'], [], 'bad_slice')], [i64('st', [1], [0]), i64('en', [1], [1]), i64('ax', [1], [1])]);
    expect(f).toThrow(/ONNX Slice node 'bad_slice': slicing the batch axis is not supported/);
    const g = base([node('Flatten', ['t1'], ['f'], [attr.i('axis', 2)], 'merge'), node('Gemm', ['f', 'W', 'B'], ['y'], [attr.i('transB', 1)], 'fc')], [
      tensor('W', [2, 24], rand(48, 1)),
      tensor('B', [2], [0, 0]),
    ]);
    // [T·N, E] flattened at axis 2 of [4, N, 6] is [4·N, 6]; flattened at 1 it is [4, N·6]: the features hold the batch
    const h = base([node('Flatten', ['t1'], ['f'], [attr.i('axis', 1)], 'merge'), node('Gemm', ['f', 'W', 'B'], ['y'], [attr.i('transB', 1)], 'fc')], [
      tensor('W', [2, 24], rand(48, 1)),
      tensor('B', [2], [0, 0]),
    ]);
    expect(h).toThrow(/ONNX Gemm node 'fc': the input \[4, N·6\] \(N = batch size\) has the batch in its feature axis/);
    expect(g).toThrow(/ONNX Gemm node 'fc': B 'W' \[2, 24\] \(transB=1\) expects 24 input features, the input has 6/);
  });

  it('the output with the batch elsewhere', () => {
    const f = base([node('Relu', ['t1'], ['y'], [], 'relu')]);
    expect(f).toThrow(/the ONNX graph output 'y' has the layout \[4, N, 6\] \(N = batch size, moved by to_seq_first\); the batch must be its leading axis/);
  });
});
