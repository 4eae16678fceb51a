/**
 * Inference-mode batch norm over the channel axis. Canonicalize folds it into a preceding
 * dense/conv (Zennit's canonizer); one that cannot be folded stays and gets pass.
 */
import type { NodeBase } from '../graph/ir.js';
import { ShapeError } from '../errors.js';
import { rules } from '../rules.js';
import { channelAffineRules, channelAffineForward, type ChannelAffineState } from './channel-affine.js';
import type { OpSpec } from './spec.js';

export interface BatchNormNode extends NodeBase {
  op: 'batchnorm';
  numFeatures: number;
  eps: number;
  /** gamma */
  weight: Float32Array;
  /** beta */
  bias: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
}

export const batchnorm: OpSpec<BatchNormNode, ChannelAffineState> = {
  op: 'batchnorm',
  arity: 1,
  shape(node, [inp], where) {
    if (inp[0] !== node.numFeatures)
      throw new ShapeError(`${where} has ${node.numFeatures} features but its input has ${inp[0]} channels`);
    for (const [k, v] of [['weight', node.weight], ['bias', node.bias], ['running_mean', node.runningMean], ['running_var', node.runningVar]] as const)
      if (v.length !== node.numFeatures) throw new ShapeError(`${where}: ${k} has ${v.length} values, expected ${node.numFeatures}`);
    return inp.slice();
  },
  prepare(node, env) {
    const scale = new Float32Array(node.numFeatures);
    const shift = new Float32Array(node.numFeatures);
    for (let c = 0; c < node.numFeatures; c++) {
      scale[c] = node.weight[c] / Math.sqrt(node.runningVar[c] + node.eps);
      shift[c] = node.bias[c] - node.runningMean[c] * scale[c];
    }
    return { scale: env.floats(scale), shift: env.floats(shift) };
  },
  forward: channelAffineForward,
  rules: channelAffineRules,
  defaultRule: (_node, c) => c.affine ?? rules.pass(),
  ruleNote: 'pass (an unfolded batch norm)',
};
