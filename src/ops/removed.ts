/** Nodes canonicalize removes before the engine sees the graph: identity, dropout (inference). (A final softmax is removed too: see softmax.ts.) */
import type { NodeBase } from '../graph/ir.js';
import { rules } from '../rules.js';
import type { OpSpec } from './spec.js';

export interface IdentityNode extends NodeBase {
  op: 'identity' | 'dropout';
}

function removedOp(op: IdentityNode['op']): OpSpec<IdentityNode> {
  return {
    op,
    arity: 1,
    removed: true,
    shape: (_node, [inp]) => inp.slice(),
    forward: () => {
      throw new Error(`internal: ${op} must be removed by canonicalize`);
    },
    rules: {},
    defaultRule: () => rules.gradient(),
    nonNegative: (_node, ins) => ins[0],
  };
}

export const identity = removedOp('identity');
export const dropout = removedOp('dropout');
