/**
 * Fully connected layer over the last axis (nn.Linear): input [..., inFeatures] of any rank ≥ 1 (a vector,
 * tokens [T, D], channels-last [H, W, C]), output [..., outFeatures]; y = W x + b for each of the
 * size/inFeatures rows of a sample (one GEMM over n·rows rows). Weight [out, in] (PyTorch's layout).
 */
import { linearRuleTable } from '../engine/linear-rules.js';
import { LinearLayer } from '../engine/linear.js';
import type { NodeBase } from '../graph/ir.js';
import { checkParams } from '../graph/shapes.js';
import { ShapeError } from '../errors.js';
import { rules } from '../rules.js';
import type { OpSpec } from './spec.js';

export interface DenseNode extends NodeBase {
  op: 'dense';
  inFeatures: number;
  outFeatures: number;
  /** [outFeatures, inFeatures] */
  weight: Float32Array;
  bias: Float32Array | null;
}

export const dense: OpSpec<DenseNode, LinearLayer> = {
  op: 'dense',
  arity: 1,
  shape(node, [inp], where) {
    if (inp.length < 1 || inp[inp.length - 1] !== node.inFeatures)
      throw new ShapeError(`${where} expects ${node.inFeatures} input features in the last axis, got shape [${inp.join(', ')}]`);
    checkParams(where, node.weight, node.outFeatures * node.inFeatures, `${node.outFeatures}x${node.inFeatures}`, node.bias, node.outFeatures);
    return [...inp.slice(0, -1), node.outFeatures];
  },
  prepare: (node, env) => new LinearLayer(env.backend, node, env.inShapes[0], env.outShape),
  forward({ state, ins, out, n, ws }) {
    state.forward(ins[0].act, state.weight(), state.bias(), out.act, n, ws.convScratch);
  },
  rules: linearRuleTable(),
  defaultRule: (_node, c) => c.dense ?? rules.epsilon(1e-6),
  ruleNote: "the composite's dense rule",
  detail: (node) => `${node.inFeatures}→${node.outFeatures}${node.bias ? '' : ', no bias'}`,
  disposeState: (state) => state.dispose(),
};
