/** ReLU. Default rule: pass (Zennit maps every activation to Pass); gradient masks where y > 0. */
import type { NodeBase } from '../graph/ir.js';
import { rules } from '../rules.js';
import type { OpSpec } from './spec.js';

export interface ReluNode extends NodeBase {
  op: 'relu';
}

export const relu: OpSpec<ReluNode> = {
  op: 'relu',
  arity: 1,
  shape: (_node, [inp]) => inp.slice(),
  forward({ k, ins, out, n }) {
    k.relu(ins[0].act, out.act, n * out.size);
  },
  rules: {
    pass: (s) => s.put(s.ins[0], s.out.rel),
    gradient(s) {
      // derivative 0 at 0, as PyTorch
      const x = s.ins[0];
      const target = s.target(x, s.ws.scratchOut[0]);
      s.k.stabDivideMasked(s.out.rel, s.ws.ones, s.out.act, target, s.n * x.size, 0, 1);
      s.commit(x, target);
    },
  },
  defaultRule: (_node, c) => c.activation ?? rules.pass(),
  ruleNote: 'pass: element-wise activation, as Zennit',
  nonNegative: () => true,
};
