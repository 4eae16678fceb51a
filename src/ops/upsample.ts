/** Nearest-neighbour upsampling of [C, H, W] by integer factors (Keras UpSampling2D, ONNX Resize/Upsample nearest). */
import type { NodeBase, Pair } from '../graph/ir.js';
import { positive, spatial } from '../graph/shapes.js';
import { rules } from '../rules.js';
import type { OpSpec } from './spec.js';
import { stridedDescriptor, stridedForward, stridedGradient } from './strided.js';

export interface UpsampleNode extends NodeBase {
  op: 'upsample';
  scale: Pair;
}

export const upsample: OpSpec<UpsampleNode, number> = {
  op: 'upsample',
  arity: 1,
  shape(node, [inp], where) {
    const [C, H, W] = spatial(where, inp);
    positive(node.scale, 'scale factors', where);
    return [C, H * node.scale[0], W * node.scale[1]];
  },
  prepare(node, env) {
    const [C, H, W] = env.inShapes[0];
    const [sh, sw] = node.scale;
    // output [C, H·sh, W·sw] read row-major as [C, H, sh, W, sw]: the sh and sw axes repeat (stride 0)
    return stridedDescriptor({ dims: [C, H, sh, W, sw], strides: [H * W, W, 0, 1, 0], offset: 0 }, env, `upsample '${node.name}'`);
  },
  forward: stridedForward,
  rules: { gradient: stridedGradient },
  defaultRule: () => rules.gradient(),
  ruleNote: 'gradient: each input gets the sum of the relevance of its copies',
  nonNegative: (_node, ins) => ins[0],
  detail: (n) => `×${n.scale.join('x')}`,
};
