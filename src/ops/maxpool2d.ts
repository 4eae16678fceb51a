/** Max pooling (padding is −∞). Relevance flows as the gradient: winner takes all (Zennit's default). */
import type { NodeBase, Pads4, Pair } from '../graph/ir.js';
import { spatial, sweep } from '../graph/shapes.js';
import { ShapeError } from '../errors.js';
import { rules } from '../rules.js';
import { poolDescriptor } from './pool-desc.js';
import type { OpSpec } from './spec.js';

export interface MaxPool2dNode extends NodeBase {
  op: 'maxpool2d';
  kernel: Pair;
  stride: Pair;
  padding: Pads4;
  dilation: Pair;
  ceilMode: boolean;
}

export const maxpool2d: OpSpec<MaxPool2dNode, number> = {
  op: 'maxpool2d',
  arity: 1,
  shape(node, [inp], where) {
    const [C, H, W] = spatial(where, inp);
    for (let a = 0; a < 2; a++)
      if (node.padding[a] * 2 > node.kernel[a] || node.padding[a + 2] * 2 > node.kernel[a])
        throw new ShapeError(`${where}: padding must be at most half the kernel size`);
    const [oh, ow] = sweep(where, H, W, node.kernel, node.stride, node.padding, node.dilation, node.ceilMode);
    return [C, oh, ow];
  },
  prepare: (node, env) => poolDescriptor(node, env),
  forward({ k, state, ins, out, ws, n, node }) {
    k.maxpool2dForward(state, ins[0].act, out.act, argmaxBuffer(ws, node.name, out.size), n);
  },
  rules: {
    gradient(s) {
      const x = s.ins[0];
      const target = s.target(x, s.ws.scratchIn[2]);
      s.k.maxpool2dBackward(s.state, s.out.rel, argmaxBuffer(s.ws, s.node.name, s.out.size), target, s.n);
      s.commit(x, target);
    },
  },
  defaultRule: (_node, c) => c.maxpool ?? rules.gradient(),
  ruleNote: 'gradient: winner takes all, as Zennit',
  nonNegative: (_node, ins) => ins[0],
  detail: (n) => `k${n.kernel.join('x')} s${n.stride.join('x')} p${n.padding.join(',')}${n.ceilMode ? ' ceil' : ''}`,
};

/** Int32 argmax per output element, one per workspace capacity. */
function argmaxBuffer(ws: import('../engine/tensors.js').Workspace, name: string, outSize: number): number {
  return ws.constant(`${name}|argmax`, ws.capacity * outSize, () => {});
}
