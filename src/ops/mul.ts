/**
 * Element-wise product of two activations. Either one is a gate computed from the signal through
 * a side branch: squeeze-excitation (x · σ(fc(pool(x))), the gate [C] or [C, 1, 1] broadcast over
 * H×W) or a self-gate (x · g(x) that is not a recognised activation pattern), inputs [signal, gate],
 * default rule signal-take-all (Arras et al. 2017, LRP for gated units: all relevance goes to the
 * signal, the gate is a constant and its branch receives none). Or it is a plain product of two
 * activations of equal shape (pattern 'product': GLU, attention-like products), default rule
 * uniform (AttnLRP, Achtibat et al. 2024: each factor gets half). The gradient rule gives the
 * exact vector-Jacobian product to both factors.
 */
import type { NodeBase } from '../graph/ir.js';
import { size } from '../graph/shapes.js';
import { ShapeError } from '../errors.js';
import { rules } from '../rules.js';
import type { OpSpec } from './spec.js';

export interface MulNode extends NodeBase {
  op: 'mul';
  /** What the importer recognised, for describe() and messages. */
  pattern: 'squeeze-excitation' | 'self-gate' | 'gate' | 'product';
}

export interface MulState {
  /** gate broadcast per channel (true) or element-wise (false) */
  channelGate: boolean;
  channels: number;
  inner: number;
}

export const mul: OpSpec<MulNode, MulState> = {
  op: 'mul',
  arity: 2,
  shape(_node, [x, g], where) {
    const same = x.length === g.length && x.every((d, i) => d === g[i]);
    const channel = size(g) === x[0] && g[0] === x[0] && g.slice(1).every((d) => d === 1);
    if (!same && !channel)
      throw new ShapeError(`${where}: the gate [${g.join(', ')}] must have the signal's shape [${x.join(', ')}] or one value per channel`);
    return x.slice();
  },
  prepare(_node, env) {
    const [x, g] = env.inShapes;
    const channelGate = size(g) !== size(x);
    return { channelGate, channels: x[0], inner: size(x) / x[0] };
  },
  forward({ k, ins, out, n, state: s }) {
    if (s.channelGate) k.channelMul(ins[0].act, ins[1].act, out.act, n, s.channels, s.inner);
    else k.mul(ins[0].act, ins[1].act, out.act, n * out.size);
  },
  rules: {
    signal: (s) => s.put(s.ins[0], s.out.rel),
    uniform(s) {
      const [x, g] = s.ins;
      const { channelGate, channels, inner } = s.state;
      // x += R/2 (exact: a halving); both factors may be one tensor, then the halves add up
      if (s.first(x)) s.k.fill(x.rel, s.n * x.size, 0);
      s.k.mulAcc(s.out.rel, s.ws.ones, x.rel, s.n * x.size, 0.5);
      // the gate's half, summed over the positions it is broadcast to
      let half = s.out.rel;
      if (channelGate) {
        half = s.ws.scratchOut[0];
        s.k.channelDot(s.out.rel, s.ws.ones, half, s.n, channels, inner, 0);
      }
      if (s.first(g)) s.k.fill(g.rel, s.n * g.size, 0);
      s.k.mulAcc(half, s.ws.ones, g.rel, s.n * g.size, 0.5);
    },
    gradient(s) {
      const [x, g] = s.ins;
      const { channelGate, channels, inner } = s.state;
      // d/dx = gate, d/dgate = x (summed over the broadcast positions)
      const tx = s.target(x, s.ws.scratchOut[0]);
      if (channelGate) s.k.channelMul(s.out.rel, g.act, tx, s.n, channels, inner);
      else s.k.mul(s.out.rel, g.act, tx, s.n * x.size);
      s.commit(x, tx);
      const tg = s.target(g, s.ws.scratchOut[1]);
      if (channelGate) s.k.channelDot(s.out.rel, x.act, tg, s.n, channels, inner, 0);
      else s.k.mul(s.out.rel, x.act, tg, s.n * g.size);
      s.commit(g, tg);
    },
  },
  defaultRule: (node, c) => c.mul ?? (node.pattern === 'product' ? rules.uniform() : rules.signal()),
  ruleNote: 'gates: signal-take-all, the signal gets all relevance and the gate branch none (Arras et al. 2017); other products: uniform, each factor half (AttnLRP)',
  detail: (n) => n.pattern,
};
