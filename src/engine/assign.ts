/**
 * Resolve a composite to one rule per node: each op module's default for the composite (Zennit's
 * layer_map_base for the non-linear nodes), then the first-layer rule, byIndex and byName; and
 * expand zbox bounds to per-element arrays for the node that gets them, mapping them through
 * in-graph input preprocessing (constant affine nodes) so that bounds are given in the raw domain.
 */
import type { Composite } from '../composites.js';
import { RuleError } from '../errors.js';
import { MODEL_INPUT, type Graph, type GraphNode, type Shape } from '../graph/ir.js';
import { size } from '../graph/shapes.js';
import { specOf } from '../ops/registry.js';
import { checkBoxOrder, type Bound, type Rule } from '../rules.js';
import type { BoxBounds } from './linear-rules.js';

export interface Assigned {
  rule: Rule;
  box?: BoxBounds;
}

/** An element-wise map the input passes through before the first layer: bounds are mapped through it. */
interface InputMap {
  /** per channel (length C) or one value for all */
  scale: Float32Array;
  shift: Float32Array;
}

/**
 * Linear nodes that read the model input through views or constant input preprocessing
 * (affine nodes), with the preprocessing each one sees.
 */
export function firstLayers(graph: Graph): Map<string, InputMap[]> {
  const reach = new Map<string, InputMap[]>([[MODEL_INPUT, []]]);
  const first = new Map<string, InputMap[]>();
  for (const node of graph.nodes) {
    const src = node.inputs.find((i) => reach.has(i));
    if (src === undefined) continue;
    const maps = reach.get(src)!;
    const spec = specOf(node);
    if (spec.view) reach.set(node.name, maps);
    else if (node.op === 'affine' && node.inputs.length === 1) reach.set(node.name, [...maps, { scale: node.scale, shift: node.shift }]);
    else if (node.op === 'dense' || node.op === 'conv2d') first.set(node.name, maps);
  }
  return first;
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
    const spec = specOf(node);
    let rule = spec.defaultRule(node, composite);
    const on = composite.firstOn ?? 'linear';
    if (composite.first && first.has(node.name) && (on === 'linear' || on === node.op.replace('2d', ''))) rule = composite.first;
    if (node.index !== undefined && composite.byIndex?.[node.index]) rule = composite.byIndex[node.index];
    if (composite.byName?.[node.name]) rule = composite.byName[node.name];
    if (!spec.rules[rule.name]) {
      const accepted = Object.keys(spec.rules).join(', ');
      throw new RuleError(`rule '${rule.name}' does not apply to ${node.op} node '${node.name}' (it accepts: ${accepted})`);
    }
    const assigned: Assigned = { rule };
    if (rule.name === 'zbox') assigned.box = expandBounds(node, shapes.get(node.inputs[0])!, rule, bounds, graph, first.get(node.name) ?? []);
    out.set(node.name, assigned);
  }
  for (const key of Object.keys(composite.byName ?? {}))
    if (!out.has(key)) throw new RuleError(`composite.byName names '${key}', which is not a node of the model (see describe())`);
  return out;
}

function expandBounds(
  node: GraphNode,
  inShape: Shape,
  rule: Rule & { name: 'zbox' },
  opts: { low?: Bound; high?: Bound },
  graph: Graph,
  maps: InputMap[],
): BoxBounds {
  const pick = (which: 'low' | 'high'): Bound => {
    const v = rule[which] ?? opts[which] ?? graph.inputRange?.[which === 'low' ? 0 : 1];
    if (v === undefined)
      throw new RuleError(`zbox on '${node.name}' needs input bounds: pass { low, high } to explain() (the model declares no input range)`);
    return v;
  };
  const n = size(inShape);
  const channels = inShape.length > 1 ? inShape[0] : 1;
  const inner = n / channels;
  const expand = (b: Bound, which: string): Float32Array => {
    const out = new Float32Array(n);
    if (typeof b === 'number') return out.fill(b);
    if (b.length === inShape[0] && inShape.length > 1) {
      for (let c = 0; c < inShape[0]; c++) out.fill(b[c], c * inner, (c + 1) * inner);
    } else if (b.length === n) out.set(Array.from(b));
    else
      throw new RuleError(
        `zbox ${which} for '${node.name}' has ${b.length} values; give a scalar, one per channel (${inShape[0]}) or one per input element (${n})`,
      );
    return out;
  };
  let low = expand(pick('low'), 'low');
  let high = expand(pick('high'), 'high');
  checkBoxOrder({ length: low.length, low: (i) => low[i], high: (i) => high[i] }, `zbox on '${node.name}'`);
  // bounds are in the raw input's domain: map them through the preprocessing the layer sees
  for (const m of maps) {
    const l2 = new Float32Array(n);
    const h2 = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const c = m.scale.length === 1 ? 0 : inShape.length > 1 ? Math.floor(i / inner) : i;
      const a = Math.fround(low[i] * m.scale[c] + m.shift[c]);
      const b = Math.fround(high[i] * m.scale[c] + m.shift[c]);
      l2[i] = Math.min(a, b); // a negative scale swaps the bounds
      h2[i] = Math.max(a, b);
    }
    low = l2;
    high = h2;
  }
  return { low, high, key: `${hashKey(low)}:${hashKey(high)}` };
}

function hashKey(a: Float32Array): string {
  // cheap content key for caching the per-capacity constants of one bound set
  let h = 2166136261;
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i], 16777619);
  return `${a.length}-${(h >>> 0).toString(16)}`;
}
