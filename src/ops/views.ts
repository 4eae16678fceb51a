/**
 * Ops whose output aliases their input (same buffers, no kernel): flatten and reshape. Relevance
 * needs no step either: it is written into the shared buffer.
 */
import type { NodeBase, Shape } from '../graph/ir.js';
import { size } from '../graph/shapes.js';
import { ShapeError } from '../errors.js';
import { rules } from '../rules.js';
import type { OpSpec } from './spec.js';

/** Row-major flatten of everything after the batch axis. */
export interface FlattenNode extends NodeBase {
  op: 'flatten';
}

/** Reshape to a per-sample shape (row-major). */
export interface ReshapeNode extends NodeBase {
  op: 'reshape';
  shape: Shape;
}

const viewRules = { gradient: () => {} };

export const flatten: OpSpec<FlattenNode> = {
  op: 'flatten',
  arity: 1,
  view: true,
  shape: (_node, [inp]) => [size(inp)],
  forward: () => {},
  rules: viewRules,
  defaultRule: () => rules.gradient(),
  nonNegative: (_node, ins) => ins[0],
};

export const reshape: OpSpec<ReshapeNode> = {
  op: 'reshape',
  arity: 1,
  view: true,
  shape(node, [inp], where) {
    if (!node.shape.every((d) => Number.isInteger(d) && d >= 1) || size(node.shape) !== size(inp))
      throw new ShapeError(`${where}: cannot reshape [${inp.join(', ')}] to [${node.shape.join(', ')}]`);
    return node.shape.slice();
  },
  forward: () => {},
  rules: viewRules,
  defaultRule: () => rules.gradient(),
  nonNegative: (_node, ins) => ins[0],
  detail: (n) => `[${n.shape.join(', ')}]`,
};
