/** 2-D cross-correlation with zero padding, stride, dilation and groups (PyTorch's Conv2d). */
import { linearRuleTable } from '../engine/linear-rules.js';
import { LinearLayer } from '../engine/linear.js';
import type { NodeBase, Pads4, Pair } from '../graph/ir.js';
import { checkParams, spatial, sweep } from '../graph/shapes.js';
import { ShapeError } from '../errors.js';
import { rules } from '../rules.js';
import type { OpSpec } from './spec.js';

export interface Conv2dNode extends NodeBase {
  op: 'conv2d';
  inChannels: number;
  outChannels: number;
  kernel: Pair;
  stride: Pair;
  /** [top, left, bottom, right], zero padding */
  padding: Pads4;
  dilation: Pair;
  groups: number;
  /** [outChannels, inChannels / groups, kh, kw] */
  weight: Float32Array;
  bias: Float32Array | null;
}

export const conv2d: OpSpec<Conv2dNode, LinearLayer> = {
  op: 'conv2d',
  arity: 1,
  shape(node, [inp], where) {
    const [C, H, W] = spatial(where, inp);
    if (C !== node.inChannels) throw new ShapeError(`${where} expects ${node.inChannels} input channels, got ${C}`);
    if (!Number.isInteger(node.groups) || node.groups < 1 || C % node.groups || node.outChannels % node.groups)
      throw new ShapeError(`${where}: groups=${node.groups} must divide in_channels=${C} and out_channels=${node.outChannels}`);
    const cg = C / node.groups;
    checkParams(where, node.weight, node.outChannels * cg * node.kernel[0] * node.kernel[1],
      `[${node.outChannels}, ${cg}, ${node.kernel.join(', ')}]`, node.bias, node.outChannels);
    const [oh, ow] = sweep(where, H, W, node.kernel, node.stride, node.padding, node.dilation, false);
    return [node.outChannels, oh, ow];
  },
  prepare: (node, env) => new LinearLayer(env.backend, node, env.inShapes[0], env.outShape),
  scratchBytes: (state) => state.convScratchBytes(),
  forward({ state, ins, out, n, ws }) {
    state.forward(ins[0].act, state.weight(), state.bias(), out.act, n, ws.convScratch);
  },
  rules: linearRuleTable(),
  defaultRule: (_node, c) => c.conv ?? rules.epsilon(1e-6),
  ruleNote: "the composite's conv rule",
  detail: (n) =>
    `${n.inChannels}→${n.outChannels} k${n.kernel.join('x')} s${n.stride.join('x')} p${n.padding.join(',')}` +
    `${n.dilation.some((d) => d > 1) ? ` d${n.dilation.join('x')}` : ''}${n.groups > 1 ? ` g${n.groups}` : ''}`,
  disposeState: (state) => state.dispose(),
};
