/** Fully connected layer: y = W x + b over [N, features]. Weight [out, in] (PyTorch's layout). */
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
    if (inp.length !== 1 || inp[0] !== node.inFeatures)
      throw new ShapeError(`${where} expects ${node.inFeatures} input features, got shape [${inp.join(', ')}]`);
    checkParams(where, node.weight, node.outFeatures * node.inFeatures, `${node.outFeatures}x${node.inFeatures}`, node.bias, node.outFeatures);
    return [node.outFeatures];
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
