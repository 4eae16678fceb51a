/**
 * Resolve a composite to one rule per node (Zennit's layer_map_base for the non-linear nodes),
 * and expand zbox bounds to per-element arrays for the node that gets them.
 */
import type { Composite } from '../composites.js';
import { RuleError } from '../errors.js';
import { MODEL_INPUT, VIEW_OPS, type Graph, type GraphNode, type Shape } from '../graph/ir.js';
import { size } from '../graph/shapes.js';
import { checkBoxOrder, rules, type Bound, type Rule } from '../rules.js';
import type { BoxBounds } from './linear-rules.js';

export interface Assigned {
  rule: Rule;
  box?: BoxBounds;
}

/** Linear nodes that read the model input, possibly through views (flatten/reshape). */
export function firstLayers(graph: Graph): Set<string> {
  const readsInput = new Set<string>([MODEL_INPUT]);
  const first = new Set<string>();
  for (const node of graph.nodes) {
    if (!node.inputs.some((i) => readsInput.has(i))) continue;
    if (VIEW_OPS.has(node.op)) readsInput.add(node.name);
    else if (node.op === 'dense' || node.op === 'conv2d') first.add(node.name);
  }
  return first;
}

function defaultRule(node: GraphNode): Rule {
  switch (node.op) {
    case 'avgpool2d':
    case 'globalavgpool':
    case 'add':
      return rules.norm();
    case 'relu':
    case 'batchnorm':
      return rules.pass();
    default:
      // maxpool, flatten, reshape, concat: no rule, relevance flows as the gradient
      return rules.gradient();
  }
}

export function assignRules(
  graph: Graph,
  shapes: Map<string, Shape>,
  composite: Composite,
  bounds: { low?: Bound; high?: Bound },
): Map<string, Assigned> {
  const first = firstLayers(graph);
  const out = new Map<string, Assigned>();
  for (const node of graph.nodes) {
    let rule = defaultRule(node);
    const linear = node.op === 'dense' || node.op === 'conv2d';
    if (linear) {
      rule = (node.op === 'dense' ? composite.dense : composite.conv) ?? rules.epsilon(1e-6);
      const on = composite.firstOn ?? 'linear';
      if (composite.first && first.has(node.name) && (on === 'linear' || on === node.op.replace('2d', '')))
        rule = composite.first;
    } else if (node.op === 'avgpool2d' || node.op === 'globalavgpool') rule = composite.pool ?? rule;
    else if (node.op === 'maxpool2d') rule = composite.maxpool ?? rule;
    else if (node.op === 'add') rule = composite.add ?? rule;
    if (node.index !== undefined && composite.byIndex?.[node.index]) rule = composite.byIndex[node.index];
    if (composite.byName?.[node.name]) rule = composite.byName[node.name];
    checkApplicable(node, rule);
    const assigned: Assigned = { rule };
    if (rule.name === 'zbox') assigned.box = expandBounds(node, shapes.get(node.inputs[0])!, rule, bounds, graph);
    out.set(node.name, assigned);
  }
  for (const key of Object.keys(composite.byName ?? {}))
    if (!out.has(key)) throw new RuleError(`composite.byName names '${key}', which is not a node of the model (see describe())`);
  return out;
}

const LINEAR_ONLY = new Set(['epsilon', 'gamma', 'alphabeta', 'zplus', 'zbox', 'wsquare', 'flat']);

function checkApplicable(node: GraphNode, rule: Rule): void {
  const linear = node.op === 'dense' || node.op === 'conv2d';
  if (!linear && LINEAR_ONLY.has(rule.name))
    throw new RuleError(`rule '${rule.name}' applies to dense/conv layers only, not to ${node.op} node '${node.name}'`);
  if (rule.name === 'norm' && !['avgpool2d', 'globalavgpool', 'add'].includes(node.op))
    throw new RuleError(`rule 'norm' applies to average pooling and add nodes, not to ${node.op} node '${node.name}'`);
  if (rule.name === 'pass' && (linear || node.op === 'add' || node.op === 'concat' || node.op.includes('pool')))
    throw new RuleError(`rule 'pass' would change the shape of the relevance at ${node.op} node '${node.name}'`);
}

function expandBounds(node: GraphNode, inShape: Shape, rule: Rule & { name: 'zbox' }, opts: { low?: Bound; high?: Bound }, graph: Graph): BoxBounds {
  const pick = (which: 'low' | 'high'): Bound => {
    const v = rule[which] ?? opts[which] ?? graph.inputRange?.[which === 'low' ? 0 : 1];
    if (v === undefined)
      throw new RuleError(`zbox on '${node.name}' needs input bounds: pass { low, high } to explain() (the model declares no input range)`);
    return v;
  };
  const expand = (b: Bound, which: string): Float32Array => {
    const n = size(inShape);
    const out = new Float32Array(n);
    if (typeof b === 'number') return out.fill(b);
    const inner = n / inShape[0];
    if (b.length === inShape[0] && inShape.length > 1) {
      for (let c = 0; c < inShape[0]; c++) out.fill(b[c], c * inner, (c + 1) * inner);
    } else if (b.length === n) out.set(Array.from(b));
    else
      throw new RuleError(
        `zbox ${which} for '${node.name}' has ${b.length} values; give a scalar, one per channel (${inShape[0]}) or one per input element (${n})`,
      );
    return out;
  };
  const low = expand(pick('low'), 'low');
  const high = expand(pick('high'), 'high');
  checkBoxOrder({ length: low.length, low: (i) => low[i], high: (i) => high[i] }, `zbox on '${node.name}'`);
  return { low, high, key: `${hashKey(low)}:${hashKey(high)}` };
}

function hashKey(a: Float32Array): string {
  // cheap content key for caching the per-capacity constants of one bound set
  let h = 2166136261;
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i], 16777619);
  return `${a.length}-${(h >>> 0).toString(16)}`;
}
