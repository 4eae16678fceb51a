/**
 * matmul (product of two activations) on hand-built graphs: input [A | B] flat → slices → reshapes
 * → matmul, so the input relevance is exactly [R_A | R_B]. Forward against a float64 product; the
 * attnlrp and gradient rules against their formulas computed here in float64; conservation;
 * both factors one tensor; shape errors naming the node.
 */
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import { composites } from '../../src/composites.js';
import { rules } from '../../src/rules.js';
import { inferShapes } from '../../src/graph/shapes.js';
import type { GraphNode } from '../../src/graph/ir.js';
import { BACKENDS, graphOf, irModel, relErr, sum, values } from './ir-graph.js';

interface Dims {
  lead: number[];
  M: number;
  K: number;
  N: number;
}

const prod = (d: number[]) => d.reduce((a, b) => a * b, 1);

function matmulGraph({ lead, M, K, N }: Dims) {
  const L = prod(lead);
  const a = L * M * K;
  const b = L * K * N;
  const nodes: GraphNode[] = [
    { op: 'slice', name: 'sa', inputs: ['input'], axis: 0, start: 0, end: a, step: 1 },
    { op: 'reshape', name: 'A', inputs: ['sa'], shape: [...lead, M, K] },
    { op: 'slice', name: 'sb', inputs: ['input'], axis: 0, start: a, end: a + b, step: 1 },
    { op: 'reshape', name: 'B', inputs: ['sb'], shape: [...lead, K, N] },
    { op: 'matmul', name: 'mm', inputs: ['A', 'B'] },
  ];
  return graphOf([a + b], nodes);
}

/** Per sample, per leading index: O = A·B, and the rules' float64 formulas for output relevance R. */
function reference(x: Float32Array, R: Float32Array, n: number, { lead, M, K, N }: Dims, eps: number) {
  const L = prod(lead);
  const per = L * (M * K + K * N);
  const out = { O: new Float64Array(n * L * M * N), attn: new Float64Array(n * per), grad: new Float64Array(n * per) };
  for (let s = 0; s < n; s++)
    for (let l = 0; l < L; l++) {
      const A = (i: number, k: number) => x[s * per + l * M * K + i * K + k];
      const B = (k: number, j: number) => x[s * per + L * M * K + l * K * N + k * N + j];
      const o = (i: number, j: number) => (s * L + l) * M * N + i * N + j;
      const ra = (i: number, k: number) => s * per + l * M * K + i * K + k;
      const rb = (k: number, j: number) => s * per + L * M * K + l * K * N + k * N + j;
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let z = 0;
          for (let k = 0; k < K; k++) z += A(i, k) * B(k, j);
          out.O[o(i, j)] = z;
        }
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          const r = R[o(i, j)];
          const z2 = 2 * out.O[o(i, j)];
          const c = r / (z2 + (z2 >= 0 ? eps : -eps));
          for (let k = 0; k < K; k++) {
            out.attn[ra(i, k)] += A(i, k) * B(k, j) * c;
            out.attn[rb(k, j)] += A(i, k) * B(k, j) * c;
            out.grad[ra(i, k)] += r * B(k, j);
            out.grad[rb(k, j)] += A(i, k) * r;
          }
        }
    }
  return out;
}

const CASES: Dims[] = [
  { lead: [], M: 3, K: 5, N: 7 },
  { lead: [3], M: 3, K: 5, N: 7 },
  { lead: [1], M: 1, K: 3, N: 1 },
  { lead: [3], M: 9, K: 17, N: 5 },
  { lead: [2, 3], M: 5, K: 1, N: 3 },
];

describe.each(BACKENDS)('matmul (%s)', (backend) => {
  for (const dims of CASES)
    for (const n of [1, 3]) {
      const label = `lead [${dims.lead.join(', ')}], [${dims.M}×${dims.K}]·[${dims.K}×${dims.N}], n = ${n}`;
      it(`${label}: forward, attnlrp, gradient, conservation`, async () => {
        const g = matmulGraph(dims);
        const m = await irModel(g, backend);
        const per = g.inputShape[0];
        // positive factors keep every output well away from 0; the output relevance has both signs
        const x = values(n * per, 7 + n, 0.1, 1);
        const R = values(n * m.outputSize, 11 + n, -1, 1);
        const ref = reference(x, R, n, dims, 1e-6);
        expect(relErr(m.predict(x), ref.O)).toBeLessThan(1e-6);

        const e = m.explain(x, { start: R });
        expect(m.describe()).toMatch(/mm\s+matmul\s+\[N, [\d, ]+\]\s+\[\d+×\d+\]·\[\d+×\d+\]( ×\d+)?\s+attnlrp/);
        expect(relErr(e.relevance, ref.attn)).toBeLessThan(1e-5);

        // conservation: factors in [0.5, 1] (every output ≥ 0.25, so eps/2O ≤ 2e-6), relevance of one sign
        const xc = values(n * per, 17 + n, 0.5, 1);
        const Rc = values(n * m.outputSize, 19 + n, 0.1, 1);
        const c = m.explain(xc, { start: Rc });
        for (let s = 0; s < n; s++) {
          const rs = sum(Rc.subarray(s * m.outputSize, (s + 1) * m.outputSize));
          expect(c.sums.start[s]).toBeCloseTo(rs, 4);
          expect(Math.abs(sum(c.relevance.subarray(s * per, (s + 1) * per)) - rs)).toBeLessThanOrEqual(1e-5 * rs);
        }

        const grad = m.explain(x, { start: R, composite: composites.custom({ matmul: rules.gradient() }) });
        expect(relErr(grad.relevance, ref.grad)).toBeLessThan(1e-5);
        m.dispose();
      });
    }

  it('mixed signs and a larger stabilizer: the rule divides by 2·O + eps·sign(O)', async () => {
    const dims: Dims = { lead: [3], M: 5, K: 7, N: 3 };
    const g = matmulGraph(dims);
    const m = await irModel(g, backend);
    const n = 3;
    const x = values(n * g.inputShape[0], 5, -1, 1);
    const R = values(n * m.outputSize, 6, -1, 1);
    const eps = 0.05;
    const ref = reference(x, R, n, dims, eps);
    // the check means something only where no output is near 0
    expect(Math.min(...Array.from(ref.O, Math.abs))).toBeGreaterThan(1e-3);
    const e = m.explain(x, { start: R, composite: composites.custom({ matmul: rules.attnlrp(eps) }) });
    expect(relErr(e.relevance, ref.attn)).toBeLessThan(1e-5);
    m.dispose();
  });

  it('both factors one tensor (X·X): the two shares add', async () => {
    const M = 5;
    for (const lead of [[], [3]]) {
      const g = graphOf([...lead, M, M], [{ op: 'matmul', name: 'mm', inputs: ['input', 'input'] }]);
      const m = await irModel(g, backend);
      const n = 3;
      const L = prod(lead);
      const x = values(n * L * M * M, 3, 0.1, 1);
      const R = values(n * L * M * M, 4, -1, 1);
      // the same formulas with A = B = X, each share added onto X
      const both = new Float32Array(n * L * M * M * 2);
      for (let t = 0; t < n * L; t++) {
        both.set(x.subarray(t * M * M, (t + 1) * M * M), 2 * t * M * M);
        both.set(x.subarray(t * M * M, (t + 1) * M * M), (2 * t + 1) * M * M);
      }
      const ref = reference(both, R, n * L, { lead: [], M, K: M, N: M }, 1e-6);
      const fold = (r: Float64Array) => Float64Array.from({ length: n * L * M * M }, (_, i) => {
        const t = Math.floor(i / (M * M));
        const j = i % (M * M);
        return r[2 * t * M * M + j] + r[(2 * t + 1) * M * M + j];
      });
      const e = m.explain(x, { start: R });
      expect(relErr(e.relevance, fold(ref.attn))).toBeLessThan(1e-5);
      const grad = m.explain(x, { start: R, composite: composites.custom({ matmul: rules.gradient() }) });
      expect(relErr(grad.relevance, fold(ref.grad))).toBeLessThan(1e-5);
      m.dispose();
    }
  });
});

describe('matmul shapes', () => {
  const shapes = (a: number[], b: number[]) => () =>
    inferShapes(
      graphOf([prod(a) + prod(b)], [
        { op: 'slice', name: 'sa', inputs: ['input'], axis: 0, start: 0, end: prod(a), step: 1 },
        { op: 'reshape', name: 'A', inputs: ['sa'], shape: a },
        { op: 'slice', name: 'sb', inputs: ['input'], axis: 0, start: prod(a), end: prod(a) + prod(b), step: 1 },
        { op: 'reshape', name: 'B', inputs: ['sb'], shape: b },
        { op: 'matmul', name: 'mm', inputs: ['A', 'B'], source: 'attn.matmul' },
      ]),
    );
  it('[...lead, M, N] out', () => {
    expect(shapes([2, 3, 4], [2, 4, 5])().get('mm')).toEqual([2, 3, 5]);
    expect(shapes([3, 4], [4, 1])().get('mm')).toEqual([3, 1]);
  });
  it('bad shapes are ShapeErrors naming the node', () => {
    const cases: Array<[number[], number[], RegExp]> = [
      [[4], [4, 2], /matmul node 'mm' \(attn\.matmul\): needs two inputs of the same rank ≥ 2/],
      [[2, 3, 4], [4, 5], /same rank/],
      [[2, 3, 4], [3, 4, 5], /the leading dims of \[2, 3, 4\] and \[3, 4, 5\] differ/],
      [[3, 4], [5, 2], /\[3, 4\] · \[5, 2\]: the inner dims 4 and 5 differ/],
    ];
    for (const [a, b, msg] of cases) {
      expect(shapes(a, b)).toThrow(ShapeError);
      expect(shapes(a, b)).toThrow(msg);
    }
  });
});

describe('composite key matmul', () => {
  it('takes the rules matmul accepts and refuses the others, naming the key', () => {
    expect(composites.custom({ matmul: rules.attnlrp(1e-3) }).matmul).toEqual({ name: 'attnlrp', stabilizer: 1e-3 });
    expect(composites.custom({ matmul: rules.gradient() }).matmul).toEqual({ name: 'gradient' });
    expect(() => composites.custom({ matmul: rules.epsilon() })).toThrow(
      "composite.matmul: rule 'epsilon' does not apply to matrix products of two activations (allowed: attnlrp, gradient)",
    );
  });
});
