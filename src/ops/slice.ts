/** A slice of one per-sample axis: start, end (exclusive), step ≥ 1 (ONNX Slice/Split, chunk, Cropping2D). */
import type { NodeBase } from '../graph/ir.js';
import { ShapeError } from '../errors.js';
import { rules } from '../rules.js';
import type { OpSpec } from './spec.js';
import { rowMajorStrides, stridedDescriptor, stridedForward, stridedGradient } from './strided.js';

export interface SliceNode extends NodeBase {
  op: 'slice';
  axis: number;
  start: number;
  end: number;
  step: number;
}

export const slice: OpSpec<SliceNode, number> = {
  op: 'slice',
  arity: 1,
  shape(node, [inp], where) {
    const { axis, start, end, step } = node;
    if (!Number.isInteger(axis) || axis < 0 || axis >= inp.length)
      throw new ShapeError(`${where}: axis ${axis} out of range for [${inp.join(', ')}]`);
    if (![start, end, step].every(Number.isInteger) || step < 1 || start < 0 || end > inp[axis] || start >= end)
      throw new ShapeError(`${where}: slice ${start}:${end}:${step} does not select anything valid from axis ${axis} of length ${inp[axis]}`);
    const out = inp.slice();
    out[axis] = Math.ceil((end - start) / step);
    return out;
  },
  prepare(node, env) {
    const inStrides = rowMajorStrides(env.inShapes[0]);
    const strides = inStrides.slice();
    strides[node.axis] *= node.step;
    return stridedDescriptor({ dims: env.outShape, strides, offset: node.start * inStrides[node.axis] }, env, `slice '${node.name}'`);
  },
  forward: stridedForward,
  rules: { gradient: stridedGradient },
  defaultRule: () => rules.gradient(),
  ruleNote: 'gradient: relevance moves with its value',
  nonNegative: (_node, ins) => ins[0],
  detail: (n) => `axis ${n.axis} [${n.start}:${n.end}${n.step > 1 ? `:${n.step}` : ''}]`,
};
