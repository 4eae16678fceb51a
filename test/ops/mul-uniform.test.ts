/**
 * mul's uniform rule and its 'product' pattern on hand-built graphs: a plain product gives each
 * factor half of the relevance (default), a per-channel gate under uniform gets half summed over
 * the positions it is broadcast to, x·x gets both halves, and gates keep signal-take-all.
 */
import { describe, expect, it } from 'vitest';
import { composites } from '../../src/composites.js';
import { rules } from '../../src/rules.js';
import type { GraphNode } from '../../src/graph/ir.js';
import type { MulNode } from '../../src/ops/mul.js';
import { BACKENDS, graphOf, irModel, relErr, values } from './ir-graph.js';

const C = 3;
const INNER = 7; // [C, 1, 7]

/** input [2·C·INNER] → x, y [C, 1, INNER] → mul(x, y). */
function productGraph(pattern: MulNode['pattern']) {
  const S = C * INNER;
  const nodes: GraphNode[] = [
    { op: 'slice', name: 'sx', inputs: ['input'], axis: 0, start: 0, end: S, step: 1 },
    { op: 'reshape', name: 'x', inputs: ['sx'], shape: [C, 1, INNER] },
    { op: 'slice', name: 'sy', inputs: ['input'], axis: 0, start: S, end: 2 * S, step: 1 },
    { op: 'reshape', name: 'y', inputs: ['sy'], shape: [C, 1, INNER] },
    { op: 'mul', name: 'p', inputs: ['x', 'y'], pattern },
  ];
  return graphOf([2 * S], nodes);
}

describe.each(BACKENDS)('mul uniform (%s)', (backend) => {
  for (const n of [1, 3])
    it(`n = ${n}: a plain product gives each factor R/2 (its default rule)`, async () => {
      const m = await irModel(productGraph('product'), backend);
      const S = C * INNER;
      const x = values(n * 2 * S, 1);
      const y = m.predict(x);
      const want = Float64Array.from({ length: n * S }, (_, i) => x[Math.floor(i / S) * 2 * S + (i % S)] * x[Math.floor(i / S) * 2 * S + S + (i % S)]);
      expect(relErr(y, want)).toBeLessThan(1e-7);
      const R = values(n * S, 2);
      const e = m.explain(x, { start: R });
      const half = new Float32Array(n * 2 * S);
      for (let s = 0; s < n; s++)
        for (let i = 0; i < S; i++) half[s * 2 * S + i] = half[s * 2 * S + S + i] = R[s * S + i] / 2;
      expect(Array.from(e.relevance)).toEqual(Array.from(half));
      expect(m.describe()).toMatch(/p\s+mul\s+\[N, 3, 1, 7\]\s+product\s+uniform/);
      m.dispose();
    });

  it('gates keep signal-take-all by default; uniform applies to them when a composite asks', async () => {
    const m = await irModel(productGraph('gate'), backend);
    expect(m.describe()).toMatch(/p\s+mul\s+\[N, 3, 1, 7\]\s+gate\s+signal/);
    const S = C * INNER;
    const x = values(2 * S, 3);
    const R = values(S, 4);
    const take = m.explain(x, { start: R });
    expect(Array.from(take.relevance.subarray(0, S))).toEqual(Array.from(R));
    expect(take.relevance.subarray(S).every((v) => v === 0)).toBe(true);
    const uni = m.explain(x, { start: R, composite: composites.custom({ mul: rules.uniform() }) });
    expect(Array.from(uni.relevance)).toEqual([...Array.from(R, (v) => v / 2), ...Array.from(R, (v) => v / 2)]);
    m.dispose();
  });

  it('a per-channel gate under uniform: half of R to the signal, half summed per channel to the gate', async () => {
    const S = C * INNER;
    const nodes: GraphNode[] = [
      { op: 'slice', name: 'sx', inputs: ['input'], axis: 0, start: 0, end: S, step: 1 },
      { op: 'reshape', name: 'x', inputs: ['sx'], shape: [C, 1, INNER] },
      { op: 'slice', name: 'g', inputs: ['input'], axis: 0, start: S, end: S + C, step: 1 },
      { op: 'mul', name: 'p', inputs: ['x', 'g'], pattern: 'squeeze-excitation' },
    ];
    const m = await irModel(graphOf([S + C], nodes), backend);
    for (const n of [1, 3]) {
      const x = values(n * (S + C), 5 + n);
      const R = values(n * S, 6 + n);
      const e = m.explain(x, { start: R, composite: composites.custom({ mul: rules.uniform() }) });
      const want = new Float64Array(n * (S + C));
      for (let s = 0; s < n; s++)
        for (let c = 0; c < C; c++)
          for (let i = 0; i < INNER; i++) {
            const r = R[s * S + c * INNER + i];
            want[s * (S + C) + c * INNER + i] = r / 2;
            want[s * (S + C) + S + c] += r / 2;
          }
      expect(relErr(e.relevance, want)).toBeLessThan(1e-6);
    }
    m.dispose();
  });

  it('x·x: both halves go to x', async () => {
    const m = await irModel(graphOf([C, 1, INNER], [{ op: 'mul', name: 'sq', inputs: ['input', 'input'], pattern: 'product' }]), backend);
    const x = values(3 * C * INNER, 9);
    const R = values(3 * C * INNER, 10);
    expect(Array.from(m.explain(x, { start: R }).relevance)).toEqual(Array.from(R));
    m.dispose();
  });
});
