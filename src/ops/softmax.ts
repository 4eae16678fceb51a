/**
 * Softmax over the LAST per-sample axis inside the graph (attention weights): y = exp(x − max)/Σ exp(x − max) per
 * row, in float64 and rounded once. A softmax whose output is the model output is not this op's concern:
 * canonicalize removes it (relevance explains the logits).
 *
 * Default rule: AttnLRP's (Achtibat et al. 2024, Prop. 3.1, the softmax linearised at x with a bias term):
 * R_x = x ⊙ (R − s ⊙ Σ_row R), s the output; the rest goes to the bias term (not conserving). An input of −∞ (a
 * masked position) counts as 0, as in LXT. The gradient rule is the exact vector-Jacobian s ⊙ (g − Σ_row(g ⊙ s)).
 */
import type { NodeBase } from '../graph/ir.js';
import { size } from '../graph/shapes.js';
import { ShapeError } from '../errors.js';
import { rules } from '../rules.js';
import type { OpSpec } from './spec.js';

export interface SoftmaxNode extends NodeBase {
  op: 'softmax';
}

export interface SoftmaxState {
  /** Length of the last axis, and rows of it per sample. */
  features: number;
  rows: number;
}

export const softmax: OpSpec<SoftmaxNode, SoftmaxState> = {
  op: 'softmax',
  arity: 1,
  shape(_node, [inp], where) {
    if (inp.length < 1) throw new ShapeError(`${where} needs an input of rank ≥ 1 (softmax over its last axis), got a scalar`);
    return inp.slice();
  },
  prepare(_node, env) {
    const shape = env.inShapes[0];
    const features = shape[shape.length - 1];
    return { features, rows: size(shape) / features };
  },
  forward({ k, state, ins, out, n }) {
    k.softmaxForward(ins[0].act, out.act, n * state.rows, state.features);
  },
  rules: {
    attnlrp(s) {
      const x = s.ins[0];
      const target = s.target(x, s.ws.scratchIn[0]);
      s.k.softmaxAttnLrp(x.act, s.out.act, s.out.rel, target, s.n * s.state.rows, s.state.features);
      s.commit(x, target);
    },
    gradient(s) {
      const x = s.ins[0];
      const target = s.target(x, s.ws.scratchIn[0]);
      s.k.softmaxGradient(s.out.act, s.out.rel, target, s.n * s.state.rows, s.state.features);
      s.commit(x, target);
    },
  },
  defaultRule: (_node, c) => c.softmax ?? rules.attnlrp(),
  ruleNote: 'attnlrp: AttnLRP (softmax linearised at the input, Prop. 3.1)',
  nonNegative: () => true,
  detail: () => 'over the last axis',
};
