/**
 * A constant tensor, the same for every sample (a class token, a position embedding), with no
 * inputs. Forward copies the value into every sample. Relevance sent to it is absorbed, as a
 * bias absorbs it: there is nothing upstream to pass it to (rules pass and gradient alike).
 */
import type { NodeBase, Shape } from '../graph/ir.js';
import { positive, size } from '../graph/shapes.js';
import { ShapeError } from '../errors.js';
import { rules } from '../rules.js';
import type { OpSpec } from './spec.js';

export interface ConstantNode extends NodeBase {
  op: 'constant';
  /** Per-sample shape. */
  shape: Shape;
  /** size(shape) values, row-major */
  value: Float32Array;
}

export interface ConstantState {
  /** Byte pointer of the value in linear memory. */
  value: number;
}

const absorb = () => {};

export const constant: OpSpec<ConstantNode, ConstantState> = {
  op: 'constant',
  arity: 0,
  shape(node, _ins, at) {
    if (!Array.isArray(node.shape) || node.shape.length < 1)
      throw new ShapeError(`${at}: a constant needs a shape of rank ≥ 1, got ${JSON.stringify(node.shape)}`);
    positive(node.shape, 'shape', at);
    if (node.value.length !== size(node.shape))
      throw new ShapeError(`${at}: value has ${node.value.length} values, expected ${size(node.shape)} for shape [${node.shape.join(', ')}]`);
    return node.shape.slice();
  },
  prepare: (node, env) => ({ value: env.floats(node.value) }),
  forward({ k, state, out, n }) {
    // the same block into every sample (source stride 0)
    k.copyBlocks(state.value, out.act, n, out.size, 0, out.size);
  },
  rules: { pass: absorb, gradient: absorb },
  defaultRule: () => rules.pass(),
  ruleNote: 'pass: a constant absorbs the relevance sent to it (like a bias)',
  nonNegative: (node) => node.value.every((v) => v >= 0),
};
