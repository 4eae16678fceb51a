/**
 * embedding (token ids → vectors) and constant (the same tensor for every sample) on hand-built
 * graphs: forward against the table / the value, per-token relevance sums, invalid ids as
 * InputErrors naming the sample and position, relevance absorbed by constants, and a small
 * attention-like block (embedding + position constant, class token, X·Xᵀ) explained end to end.
 */
import { describe, expect, it } from 'vitest';
import { InputError, ModelFormatError, ShapeError } from '../../src/errors.js';
import { composites } from '../../src/composites.js';
import { rules } from '../../src/rules.js';
import { inferShapes } from '../../src/graph/shapes.js';
import type { GraphNode } from '../../src/graph/ir.js';
import { constant } from '../../src/ops/constant.js';
import { embedding } from '../../src/ops/embedding.js';
import { BACKENDS, graphOf, irModel, relErr, sum, values } from './ir-graph.js';

const T = 7;
const VOCAB = 11;
const DIM = 5;
const table = values(VOCAB * DIM, 41);
const emb = (name = 'emb', inputs = ['input']): GraphNode => ({ op: 'embedding', name, inputs, vocab: VOCAB, dim: DIM, table });
const NO_RANGE_CHECK = { checkRange: false };

/** n samples of T ids, covering the first and the last row. */
function ids(n: number, seed: number): Float32Array {
  const v = values(n * T, seed, 0, VOCAB).map(Math.floor);
  v[0] = 0;
  v[v.length - 1] = VOCAB - 1;
  return v;
}

describe.each(BACKENDS)('embedding (%s)', (backend) => {
  for (const n of [1, 3])
    it(`n = ${n}: rows of the table; relevance per token is the sum over its vector (pass and gradient)`, async () => {
      const m = await irModel(graphOf([T], [emb()]), backend);
      const x = ids(n, n);
      const y = m.predict(x, NO_RANGE_CHECK);
      for (let t = 0; t < n * T; t++) expect(Array.from(y.subarray(t * DIM, (t + 1) * DIM))).toEqual(Array.from(table.subarray(x[t] * DIM, (x[t] + 1) * DIM)));
      const R = values(n * T * DIM, 3 + n);
      const want = Float64Array.from({ length: n * T }, (_, t) => sum(R.subarray(t * DIM, (t + 1) * DIM)));
      for (const composite of [undefined, composites.custom({ byName: { emb: rules.gradient() } })]) {
        const e = m.explain(x, { start: R, composite, ...NO_RANGE_CHECK });
        expect(relErr(e.relevance, want)).toBeLessThan(1e-6);
        for (let s = 0; s < n; s++) expect(e.sums.input[s]).toBeCloseTo(e.sums.start[s], 5);
      }
      expect(m.describe()).toMatch(/emb\s+embedding\s+\[N, 7, 5\]\s+11×5\s+pass/);
      m.dispose();
    });

  it('an id that is not an integer in [0, vocab) is an InputError naming the sample and position', async () => {
    const m = await irModel(graphOf([T], [emb()]), backend);
    for (const bad of [2.5, -1, VOCAB, 1e9, -0.25]) {
      const x = ids(3, 9);
      x[2 * T + 4] = bad;
      x[2 * T + 6] = -7; // a later bad id: the first one is named
      for (const batch of [1, 2, 3]) {
        for (const call of [() => m.predict(x, { batch, ...NO_RANGE_CHECK }), () => m.explain(x, { batch, ...NO_RANGE_CHECK })]) {
          let err: unknown;
          try {
            call();
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(InputError);
          expect((err as InputError).code).toBe('E_TOKEN_ID');
          expect((err as Error).message).toBe(
            `embedding node 'emb': token id ${bad} at sample 2, position 4 is not an integer from 0 to ${VOCAB - 1} (the vocabulary size is ${VOCAB})`,
          );
        }
      }
    }
    // NaN is caught by the model's finiteness check, also as an InputError
    const x = ids(1, 2);
    x[3] = NaN;
    expect(() => m.predict(x, NO_RANGE_CHECK)).toThrow(InputError);
    // the model keeps working
    expect(m.predict(ids(2, 4), NO_RANGE_CHECK).every(Number.isFinite)).toBe(true);
    m.dispose();
  });

  it('ids of rank 2 ([2, T]): positions are named by their index', async () => {
    const m = await irModel(graphOf([2, T], [emb()]), backend);
    const x = new Float32Array(2 * T).fill(1);
    x[T + 3] = 0.5;
    expect(() => m.predict(x, NO_RANGE_CHECK)).toThrow(/token id 0\.5 at sample 0, position \[1, 3\] is not an integer/);
    m.dispose();
  });
});

describe('embedding and constant shapes and parameters', () => {
  it('embedding: [...ids] → [...ids, dim]; a table of the wrong size or a vocab beyond 2^24 is a ShapeError', () => {
    expect(inferShapes(graphOf([2, T], [emb()])).get('emb')).toEqual([2, T, DIM]);
    const bad = (node: Partial<GraphNode>) => () => inferShapes(graphOf([T], [{ ...emb(), ...node } as GraphNode]));
    expect(bad({ table: new Float32Array(3) })).toThrow(/embedding node 'emb': table has 3 values, expected 11x5/);
    expect(bad({ vocab: 2 ** 24 + 1, table: new Float32Array(0) })).toThrow(/vocab 16777217 is above 2\^24/);
    expect(bad({ dim: 0 })).toThrow(ShapeError);
  });

  it('constant: arity 0, its shape; a wrong value length, an empty shape or an input are ShapeErrors', () => {
    const c = (node: Partial<GraphNode> = {}): GraphNode => ({ op: 'constant', name: 'c', inputs: [], shape: [2, 3], value: values(6, 1), ...node }) as GraphNode;
    const add: GraphNode = { op: 'add', name: 'y', inputs: ['input', 'c'] };
    expect(inferShapes(graphOf([2, 3], [c(), add])).get('c')).toEqual([2, 3]);
    expect(() => inferShapes(graphOf([2, 3], [c({ value: new Float32Array(5) }), add]))).toThrow(/constant node 'c': value has 5 values, expected 6 for shape \[2, 3\]/);
    expect(() => inferShapes(graphOf([2, 3], [c({ shape: [] as number[], value: new Float32Array(1) }), add]))).toThrow(/constant node 'c': a constant needs a shape of rank ≥ 1/);
    expect(() => inferShapes(graphOf([2, 3], [c({ inputs: ['input'] }), add]))).toThrow(/constant node 'c' takes 0 inputs, got 1/);
  });

  it('nonNegative follows the table and the value', () => {
    expect(embedding.nonNegative!(emb() as never, [true])).toBe(false);
    expect(embedding.nonNegative!({ ...emb(), table: new Float32Array(VOCAB * DIM).fill(0.5) } as never, [false])).toBe(true);
    const c = { op: 'constant', name: 'c', inputs: [], shape: [2], value: Float32Array.from([0, 1]) } as const;
    expect(constant.nonNegative!(c as never, [])).toBe(true);
    expect(constant.nonNegative!({ ...c, value: Float32Array.from([0, -1]) } as never, [])).toBe(false);
  });

  it('a non-finite table or constant value is refused when the model is built', async () => {
    const t = table.slice();
    t[7] = NaN;
    await expect(irModel(graphOf([T], [{ ...emb(), table: t } as GraphNode]))).rejects.toThrow(ModelFormatError);
    await expect(irModel(graphOf([T], [{ ...emb(), table: t } as GraphNode]))).rejects.toThrow(/embedding node 'emb': table holds NaN at index 7/);
    const v = values(6, 1);
    v[2] = Infinity;
    const nodes: GraphNode[] = [{ op: 'constant', name: 'c', inputs: [], shape: [2, 3], value: v }, { op: 'add', name: 'y', inputs: ['input', 'c'] }];
    await expect(irModel(graphOf([2, 3], nodes))).rejects.toThrow(/constant node 'c': value holds Infinity at index 2/);
  });
});

describe.each(BACKENDS)('constant (%s)', (backend) => {
  const value = values(T * DIM, 51, -0.5, 0.5);
  const pos: GraphNode = { op: 'constant', name: 'pos', inputs: [], shape: [T, DIM], value };

  for (const n of [1, 3])
    it(`n = ${n}: added to every sample; the add's norm rule gives the constant its share, which it absorbs`, async () => {
      const m = await irModel(graphOf([T, DIM], [pos, { op: 'add', name: 'y', inputs: ['input', 'pos'] }]), backend);
      const x = values(n * T * DIM, 5 + n, 0.5, 1.5);
      const y = m.predict(x);
      const z = Float32Array.from(x, (v, i) => v + value[i % (T * DIM)]);
      expect(Array.from(y)).toEqual(Array.from(z));
      const R = values(n * T * DIM, 9 + n);
      const e = m.explain(x, { start: R });
      // R_x = x · R / stab(z); the rest went to the constant and stays there
      const want = Float64Array.from(x, (v, i) => (v * R[i]) / (z[i] + (z[i] >= 0 ? 1e-6 : -1e-6)));
      expect(relErr(e.relevance, want)).toBeLessThan(1e-6);
      const absorbed = sum(Float64Array.from(x, (_, i) => (value[i % (T * DIM)] * R[i]) / z[i]));
      expect(sum(e.relevance) + absorbed).toBeCloseTo(sum(R), 4);
      expect(m.describe()).toMatch(/pos\s+constant\s+\[N, 7, 5\]\s+pass/);
      m.dispose();
    });

  it('a class token concatenated before the tokens: every sample gets it; its relevance is absorbed', async () => {
    const cls: GraphNode = { op: 'constant', name: 'cls', inputs: [], shape: [1, DIM], value: value.slice(0, DIM) };
    const m = await irModel(graphOf([T, DIM], [cls, { op: 'concat', name: 'seq', inputs: ['cls', 'input'], axis: 0 }]), backend);
    const n = 3;
    const x = values(n * T * DIM, 2);
    const y = m.predict(x);
    for (let s = 0; s < n; s++) {
      const row = y.subarray(s * (T + 1) * DIM, (s * (T + 1) + 1) * DIM);
      expect(Array.from(row)).toEqual(Array.from(value.subarray(0, DIM)));
      expect(Array.from(y.subarray((s * (T + 1) + 1) * DIM, (s + 1) * (T + 1) * DIM))).toEqual(Array.from(x.subarray(s * T * DIM, (s + 1) * T * DIM)));
    }
    const R = values(n * (T + 1) * DIM, 8);
    for (const composite of [undefined, composites.custom({ byName: { cls: rules.gradient() } })]) {
      const e = m.explain(x, { start: R, composite, layers: true });
      const want = new Float32Array(n * T * DIM);
      for (let s = 0; s < n; s++) want.set(R.subarray((s * (T + 1) + 1) * DIM, (s + 1) * (T + 1) * DIM), s * T * DIM);
      expect(Array.from(e.relevance)).toEqual(Array.from(want));
    }
    m.dispose();
  });
});

describe.each(BACKENDS)('a tiny attention-like block (%s)', (backend) => {
  it('ids → embedding + position → scores X·Xᵀ → scores·X → dense: explains per token', async () => {
    const D = DIM;
    const W = values(3 * T * D, 61);
    const nodes: GraphNode[] = [
      emb(),
      { op: 'constant', name: 'pos', inputs: [], shape: [T, D], value: values(T * D, 62, 0, 0.2) },
      { op: 'add', name: 'h', inputs: ['emb', 'pos'] },
      { op: 'transpose', name: 'hT', inputs: ['h'], perm: [1, 0] },
      { op: 'matmul', name: 'scores', inputs: ['h', 'hT'] },
      { op: 'matmul', name: 'mix', inputs: ['scores', 'h'] },
      { op: 'flatten', name: 'f', inputs: ['mix'] },
      { op: 'dense', name: 'fc', inputs: ['f'], inFeatures: T * D, outFeatures: 3, weight: W, bias: null },
    ];
    const m = await irModel(graphOf([T], nodes), backend);
    const x = ids(3, 5);
    const e = m.explain(x, { layers: true, ...NO_RANGE_CHECK });
    expect(e.relevance.every(Number.isFinite)).toBe(true);
    // the input relevance is the per-token sum of the embedding output's relevance
    const atEmb = e.layers!['emb'];
    const want = Float64Array.from({ length: 3 * T }, (_, t) => sum(atEmb.subarray(t * D, (t + 1) * D)));
    expect(relErr(e.relevance, want)).toBeLessThan(1e-6);
    expect(m.describe()).toMatch(/scores\s+matmul\s+\[N, 7, 7\]\s+\[7×5\]·\[5×7\]\s+attnlrp/);
    expect(m.describe()).toMatch(/mix\s+matmul\s+\[N, 7, 5\]\s+\[7×7\]·\[7×5\]\s+attnlrp/);
    m.dispose();
  });
});
