/**
 * Average pooling (PyTorch's avg_pool2d semantics: count_include_pad, divisor_override) and its
 * global form. A sum pooling is an average pool with divisor 1 (ReduceSum). Default rule: norm
 * (Zennit's), i.e. relevance split in proportion to each input's share of the window sum.
 */
import type { NodeBase, Pads4, Pair } from '../graph/ir.js';
import { spatial, sweep } from '../graph/shapes.js';
import { ShapeError } from '../errors.js';
import { rules, STABILIZER } from '../rules.js';
import { poolDescriptor } from './pool-desc.js';
import type { ForwardStep, OpSpec, RelevanceStep } from './spec.js';

export interface AvgPool2dNode extends NodeBase {
  op: 'avgpool2d';
  kernel: Pair;
  stride: Pair;
  padding: Pads4;
  ceilMode: boolean;
  countIncludePad: boolean;
  divisorOverride: number | null;
}

/** Global (adaptive to 1x1) average pooling: [C, H, W] -> [C, 1, 1]. */
export interface GlobalAvgPoolNode extends NodeBase {
  op: 'globalavgpool';
}

export interface PoolState {
  desc: number;
  /** 1/divisor per output position */
  invDiv: number;
}

function prepare(p: AvgPool2dNode, env: Parameters<NonNullable<OpSpec['prepare']>>[1]): PoolState {
  const [, H, W] = env.inShapes[0];
  const desc = poolDescriptor({ ...p, dilation: [1, 1] }, env);
  return { desc, invDiv: env.floats(avgPoolInverseDivisors(p, H, W, env.outShape[1], env.outShape[2])) };
}

/** The same pool as a window over the whole image. */
function asWindow(node: GlobalAvgPoolNode, H: number, W: number): AvgPool2dNode {
  return { op: 'avgpool2d', name: node.name, inputs: node.inputs, kernel: [H, W], stride: [1, 1], padding: [0, 0, 0, 0], ceilMode: false, countIncludePad: false, divisorOverride: null };
}

function avgForward({ k, state, ins, out, n }: ForwardStep<unknown, PoolState>): void {
  k.avgpool2dForward(state.desc, ins[0].act, state.invDiv, out.act, n);
}

const avgRules = {
  norm(s: RelevanceStep<unknown, PoolState>) {
    const { k, n, out, ws, state } = s;
    const x = s.ins[0];
    const len = n * x.size;
    const target = s.target(x, ws.scratchIn[2]);
    const g = ws.scratchOut[0];
    k.stabDivide(out.rel, out.act, g, n * out.size, (s.rule.name === 'norm' && s.rule.stabilizer) || STABILIZER);
    k.avgpool2dTranspose(state.desc, g, state.invDiv, target, n);
    if (target === x.rel) k.mul(x.act, x.rel, x.rel, len);
    else k.mulAcc(x.act, target, x.rel, len, 1);
    s.first(x);
  },
  gradient(s: RelevanceStep<unknown, PoolState>) {
    const x = s.ins[0];
    const target = s.target(x, s.ws.scratchIn[2]);
    s.k.avgpool2dTranspose(s.state.desc, s.out.rel, s.state.invDiv, target, s.n);
    s.commit(x, target);
  },
};

export const avgpool2d: OpSpec<AvgPool2dNode, PoolState> = {
  op: 'avgpool2d',
  arity: 1,
  shape(node, [inp], where) {
    const [C, H, W] = spatial(where, inp);
    if (node.divisorOverride !== null && (!Number.isFinite(node.divisorOverride) || node.divisorOverride === 0))
      throw new ShapeError(`${where}: divisor_override must be non-zero`);
    const [oh, ow] = sweep(where, H, W, node.kernel, node.stride, node.padding, [1, 1], node.ceilMode);
    return [C, oh, ow];
  },
  prepare,
  forward: avgForward,
  rules: avgRules,
  defaultRule: (_node, c) => c.pool ?? rules.norm(),
  ruleNote: 'norm: proportional split, as Zennit',
  nonNegative: (_node, ins) => ins[0],
  detail: (n) =>
    `k${n.kernel.join('x')} s${n.stride.join('x')} p${n.padding.join(',')}${n.divisorOverride === 1 ? ' sum' : ''}`,
};

export const globalavgpool: OpSpec<GlobalAvgPoolNode, PoolState> = {
  op: 'globalavgpool',
  arity: 1,
  shape(_node, [inp], where) {
    const [C] = spatial(where, inp);
    return [C, 1, 1];
  },
  prepare: (node, env) => prepare(asWindow(node, env.inShapes[0][1], env.inShapes[0][2]), env),
  forward: avgForward,
  rules: avgRules,
  defaultRule: (_node, c) => c.pool ?? rules.norm(),
  ruleNote: avgpool2d.ruleNote,
  nonNegative: (_node, ins) => ins[0],
};

/** 1/divisor for every output position of an average pool (PyTorch's avg_pool2d semantics). */
export function avgPoolInverseDivisors(p: AvgPool2dNode, H: number, W: number, OH: number, OW: number): Float32Array {
  const out = new Float32Array(OH * OW);
  for (let oh = 0; oh < OH; oh++)
    for (let ow = 0; ow < OW; ow++) {
      let hs = oh * p.stride[0] - p.padding[0];
      let ws = ow * p.stride[1] - p.padding[1];
      let he = Math.min(hs + p.kernel[0], H + p.padding[2]);
      let we = Math.min(ws + p.kernel[1], W + p.padding[3]);
      const poolSize = (he - hs) * (we - ws);
      hs = Math.max(hs, 0);
      ws = Math.max(ws, 0);
      he = Math.min(he, H);
      we = Math.min(we, W);
      const div = p.divisorOverride ?? (p.countIncludePad ? poolSize : (he - hs) * (we - ws));
      out[oh * OW + ow] = 1 / div;
    }
  return out;
}
