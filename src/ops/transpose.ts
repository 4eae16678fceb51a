/** Permutation of the per-sample axes (ONNX Transpose with the batch axis fixed, Keras Permute). */
import type { NodeBase } from '../graph/ir.js';
import { ShapeError } from '../errors.js';
import { rules } from '../rules.js';
import type { OpSpec } from './spec.js';
import { rowMajorStrides, stridedDescriptor, stridedForward, stridedGradient } from './strided.js';

export interface TransposeNode extends NodeBase {
  op: 'transpose';
  /** output axis i is input axis perm[i] (per-sample axes) */
  perm: number[];
}

export const transpose: OpSpec<TransposeNode, number> = {
  op: 'transpose',
  arity: 1,
  shape(node, [inp], where) {
    const p = node.perm;
    if (p.length !== inp.length || [...p].sort((a, b) => a - b).some((v, i) => v !== i))
      throw new ShapeError(`${where}: perm [${p.join(', ')}] is not a permutation of the ${inp.length} axes of [${inp.join(', ')}]`);
    return p.map((a) => inp[a]);
  },
  prepare(node, env) {
    const inStrides = rowMajorStrides(env.inShapes[0]);
    return stridedDescriptor({ dims: env.outShape, strides: node.perm.map((a) => inStrides[a]), offset: 0 }, env, `transpose '${node.name}'`);
  },
  forward: stridedForward,
  rules: { gradient: stridedGradient },
  defaultRule: () => rules.gradient(),
  ruleNote: 'gradient: relevance moves with its value (a permutation)',
  nonNegative: (_node, ins) => ins[0],
  detail: (n) => `perm [${n.perm.join(', ')}]`,
};
