/** PReLU: x > 0 ? x : slope[c]·x, one learned slope or one per channel. Default rule: pass (an activation). */
import type { NodeBase } from '../graph/ir.js';
import { ShapeError } from '../errors.js';
import { rules } from '../rules.js';
import type { OpSpec } from './spec.js';

export interface PReluNode extends NodeBase {
  op: 'prelu';
  /** length 1 or C (channel axis 0 of the per-sample shape) */
  slope: Float32Array;
}

export interface PReluState {
  slope: number;
  channels: number;
  inner: number;
}

export const prelu: OpSpec<PReluNode, PReluState> = {
  op: 'prelu',
  arity: 1,
  shape(node, [inp], where) {
    if (node.slope.length !== 1 && node.slope.length !== inp[0])
      throw new ShapeError(`${where}: slope has ${node.slope.length} values; expected 1 or one per channel (${inp[0]})`);
    return inp.slice();
  },
  prepare(node, env) {
    const shape = env.inShapes[0];
    const channels = shape[0];
    const per = node.slope.length === channels ? node.slope : new Float32Array(channels).fill(node.slope[0]);
    return { slope: env.floats(per), channels, inner: shape.slice(1).reduce((a, b) => a * b, 1) };
  },
  forward({ k, ins, out, n, state: s }) {
    k.preluForward(ins[0].act, s.slope, out.act, n, s.channels, s.inner);
  },
  rules: {
    pass: (s) => s.put(s.ins[0], s.out.rel),
    gradient(s) {
      const x = s.ins[0];
      const target = s.target(x, s.ws.scratchOut[0]);
      s.k.preluGradient(x.act, s.state.slope, s.out.rel, target, s.n, s.state.channels, s.state.inner);
      s.commit(x, target);
    },
  },
  defaultRule: (_node, c) => c.activation ?? rules.pass(),
  ruleNote: 'pass: element-wise activation, as Zennit',
  detail: (n) => `slope ×${n.slope.length}`,
};
