/**
 * Product of two activations, A [...lead, M, K] · B [...lead, K, N] → [...lead, M, N] per leading
 * index (attention's Q·Kᵀ and attention·V; a product with a constant is a dense). Default rule:
 * AttnLRP (Achtibat et al. 2024, Prop. 3.3): the epsilon rule on the bilinear sum, then the
 * uniform split between the two factors, so that R_A + R_B conserves R:
 *   C = R / stab(2·O),  R_A = A ⊙ (C·Bᵀ),  R_B = B ⊙ (Aᵀ·C).
 * The gradient rule gives g·Bᵀ and Aᵀ·g. When A and B are the same tensor the two shares add.
 */
import type { NodeBase } from '../graph/ir.js';
import { size } from '../graph/shapes.js';
import { ShapeError } from '../errors.js';
import { rules, STABILIZER } from '../rules.js';
import type { OpSpec } from './spec.js';

export interface MatMulNode extends NodeBase {
  op: 'matmul';
}

export interface MatMulState {
  /** Matrix products per sample (product of the leading dims). */
  lead: number;
  M: number;
  K: number;
  N: number;
}

export const matmul: OpSpec<MatMulNode, MatMulState> = {
  op: 'matmul',
  arity: 2,
  shape(_node, [a, b], where) {
    const str = (s: number[]) => `[${s.join(', ')}]`;
    if (a.length < 2 || b.length !== a.length)
      throw new ShapeError(`${where}: needs two inputs of the same rank ≥ 2 ([...lead, M, K] and [...lead, K, N]), got ${str(a)} and ${str(b)}`);
    const r = a.length;
    if (a.slice(0, r - 2).some((d, i) => d !== b[i]))
      throw new ShapeError(`${where}: the leading dims of ${str(a)} and ${str(b)} differ (no broadcasting)`);
    if (a[r - 1] !== b[r - 2])
      throw new ShapeError(`${where}: ${str(a)} · ${str(b)}: the inner dims ${a[r - 1]} and ${b[r - 2]} differ`);
    return [...a.slice(0, r - 1), b[r - 1]];
  },
  prepare(_node, env) {
    const [a, b] = env.inShapes;
    const r = a.length;
    return { lead: size(a.slice(0, r - 2)), M: a[r - 2], K: a[r - 1], N: b[r - 1] };
  },
  forward({ k, ins, out, n, state: s }) {
    k.matmul(ins[0].act, ins[1].act, out.act, n * s.lead, s.M, s.K, s.N, 0, 0, 0);
  },
  rules: {
    attnlrp(s) {
      const [a, b] = s.ins;
      const { lead, M, K, N } = s.state;
      const batch = s.n * lead;
      const len = s.n * s.out.size;
      const twice = s.ws.scratchOut[0];
      const c = s.ws.scratchOut[1];
      s.k.add(s.out.act, s.out.act, twice, len); // 2·O, exact
      s.k.stabDivide(s.out.rel, twice, c, len, (s.rule.name === 'attnlrp' && s.rule.stabilizer) || STABILIZER);
      // both contributions are computed before either is written: A and B may be one tensor
      const ca = s.ws.scratchIn[0];
      const cb = s.ws.scratchIn[1];
      s.k.matmul(c, b.act, ca, batch, M, N, K, 0, 1, 0); // C·Bᵀ [M, K]
      s.k.matmul(a.act, c, cb, batch, K, M, N, 1, 0, 0); // Aᵀ·C [K, N]
      for (const [t, g] of [[a, ca], [b, cb]] as const) {
        if (s.first(t)) s.k.mul(t.act, g, t.rel, s.n * t.size);
        else s.k.mulAcc(t.act, g, t.rel, s.n * t.size, 1);
      }
    },
    gradient(s) {
      const [a, b] = s.ins;
      const { lead, M, K, N } = s.state;
      const batch = s.n * lead;
      const r = s.out.rel;
      // the kernel accumulates into a relevance buffer that already holds another consumer's share
      s.k.matmul(r, b.act, a.rel, batch, M, N, K, 0, 1, s.first(a) ? 0 : 1); // g·Bᵀ
      s.k.matmul(a.act, r, b.rel, batch, K, M, N, 1, 0, s.first(b) ? 0 : 1); // Aᵀ·g
    },
  },
  defaultRule: (_node, c) => c.matmul ?? rules.attnlrp(),
  ruleNote: 'attnlrp: epsilon on the product, then a uniform split between the two factors (AttnLRP, Achtibat et al. 2024, Prop. 3.3)',
  nonNegative: (_node, ins) => ins.every(Boolean),
  detail(_node, [a, b]) {
    const r = a.length;
    const lead = size(a.slice(0, r - 2));
    return `[${a[r - 2]}×${a[r - 1]}]·[${b[r - 2]}×${b[r - 1]}]${r > 2 ? ` ×${lead}` : ''}`;
  },
};
