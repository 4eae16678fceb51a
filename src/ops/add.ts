/** Element-wise sum of inputs of equal shape (residual add). Default rule: norm, as Zennit. */
import type { NodeBase } from '../graph/ir.js';
import { ShapeError } from '../errors.js';
import { rules, STABILIZER } from '../rules.js';
import type { OpSpec } from './spec.js';

export interface AddNode extends NodeBase {
  op: 'add';
}

export const add: OpSpec<AddNode> = {
  op: 'add',
  arity: [2, Infinity],
  shape(_node, ins, where) {
    for (const s of ins)
      if (s.join(',') !== ins[0].join(','))
        throw new ShapeError(`${where}: inputs have different shapes [${ins[0].join(', ')}] and [${s.join(', ')}]`);
    return ins[0].slice();
  },
  forward({ k, ins, out, n }) {
    const len = n * out.size;
    k.add(ins[0].act, ins[1].act, out.act, len);
    for (const extra of ins.slice(2)) k.add(out.act, extra.act, out.act, len);
  },
  rules: {
    norm(s) {
      const g = s.ws.scratchOut[0];
      s.k.stabDivide(s.out.rel, s.out.act, g, s.n * s.out.size, (s.rule.name === 'norm' && s.rule.stabilizer) || STABILIZER);
      for (const t of s.ins) {
        if (s.first(t)) s.k.mul(t.act, g, t.rel, s.n * t.size);
        else s.k.mulAcc(t.act, g, t.rel, s.n * t.size, 1);
      }
    },
    gradient(s) {
      for (const t of s.ins) s.put(t, s.out.rel);
    },
  },
  defaultRule: (_node, c) => c.add ?? rules.norm(),
  ruleNote: 'norm: proportional split, as Zennit',
  nonNegative: (_node, ins) => ins.every(Boolean),
};
