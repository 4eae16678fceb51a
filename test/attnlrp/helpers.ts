// Shared by the attnlrp tests: the agreement measure, finite differences and rule maps.
import type { Rule } from '../../src/rules.js';
import { rules } from '../../src/rules.js';
import type { GraphF64 } from '../../src/reference/nodes-f64.js';

/** max |a − b| / max |b| */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  if (scale === 0) throw new Error('reference is all zeros: the comparison would say nothing');
  return diff / scale;
}

/** Central differences of f at x (float64), step h. */
export function centralDiff(f: (x: Float64Array) => number, x: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xp = x.slice(), xm = x.slice();
    xp[i] += h;
    xm[i] -= h;
    g[i] = (f(xp) - f(xm)) / (2 * h);
  }
  return g;
}

/** `gradient` on every node that has it; token embeddings and constants (no gradient to ids) get `pass`. */
export function allGradient(graph: GraphF64): Map<string, Rule> {
  return new Map(graph.nodes.map((n) => [n.name, n.op === 'embedding' || n.op === 'constant' ? rules.pass() : rules.gradient()]));
}

/** The AttnLRP setting written out per node: dense/conv epsilon, everything else its default under composites.attnlrp(). */
export function attnlrpRules(graph: GraphF64, eps = 1e-6): Map<string, Rule> {
  const byOp: Record<string, Rule> = {
    dense: rules.epsilon(eps), conv2d: rules.epsilon(eps), layernorm: rules.attnlrp(), softmax: rules.attnlrp(), matmul: rules.attnlrp(),
    add: rules.norm(), globalavgpool: rules.norm(), mul: rules.uniform(), activation: rules.pass(), relu: rules.pass(), affine: rules.pass(),
    embedding: rules.pass(), constant: rules.pass(),
  };
  return new Map(graph.nodes.map((n) => [n.name, byOp[n.op] ?? rules.gradient()]));
}
