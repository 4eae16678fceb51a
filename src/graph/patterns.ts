/**
 * Recognises activation functions that exporters spell as several nodes, and replaces each by one
 * activation node (cheaper, and describe() names it):
 *  - SiLU / swish: x · sigmoid(x)
 *  - hard-swish: x · hardsigmoid(x; 1/6, 1/2)  (PyTorch's export below opset 14)
 *  - GELU: (x · (erf(x / √2) + 1)) · 0.5  (PyTorch's export below opset 20)
 * An unrecognised x · g(x) stays a self-gating mul (ops/mul.ts) with the same relevance (signal-take-all
 * equals pass here), so recognition changes speed and names, never the numbers.
 */
import type { GraphNode } from './ir.js';

const near = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

type Act = Extract<GraphNode, { op: 'activation' }>;
type Affine = Extract<GraphNode, { op: 'affine' }>;

function isAffine(n: GraphNode | undefined, scale: number, shift: number): n is Affine {
  return n?.op === 'affine' && n.scale.length === 1 && n.shift.length === 1 && near(n.scale[0], scale) && near(n.shift[0], shift);
}

/** Returns the node list with each recognised pattern replaced by one activation node (named like the pattern's last node). */
export function recognisePatterns(nodes: GraphNode[], output: string, notes: string[]): GraphNode[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const readers = new Map<string, number>();
  for (const n of nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  readers.set(output, (readers.get(output) ?? 0) + 1);
  const only = (n: GraphNode | undefined) => n !== undefined && readers.get(n.name) === 1;
  const drop = new Set<string>();
  const replace = new Map<string, GraphNode>();

  for (const m of nodes) {
    if (m.op !== 'mul' || m.pattern !== 'self-gate') continue;
    const [x, gName] = m.inputs;
    const g = byName.get(gName);
    if (!only(g) || g!.inputs[0] === undefined) continue;
    const act = (fn: Act['fn'], name: string, removed: GraphNode[]): void => {
      const node: Act = { op: 'activation', fn, name, inputs: [x], source: [...removed.map((r) => r.source ?? r.name)].join(', '), index: m.index };
      replace.set(name, node);
      for (const r of removed) if (r.name !== name) drop.add(r.name);
      notes.push(`recognised ${fn} in ${removed.map((r) => `'${r.name}'`).join(', ')}`);
    };
    if (g!.op === 'activation' && g!.inputs[0] === x) {
      if (g!.fn === 'sigmoid') act('silu', m.name, [g!, m]);
      else if (g!.fn === 'hardsigmoid' && near(g!.params?.[0] ?? 0.2, 1 / 6) && near(g!.params?.[1] ?? 0.5, 0.5)) act('hardswish', m.name, [g!, m]);
      continue;
    }
    // GELU: m = x · affine(erf(affine(x; 1/√2, 0)); 1, 1), then one affine(·; 0.5, 0)
    const erf = byName.get(g!.inputs[0]);
    const pre = erf ? byName.get(erf.inputs[0]) : undefined;
    const half = nodes.find((n) => n.inputs.includes(m.name));
    if (
      isAffine(g, 1, 1) && erf?.op === 'activation' && erf.fn === 'erf' && only(erf) &&
      isAffine(pre, Math.SQRT1_2, 0) && pre.inputs[0] === x && only(pre) &&
      only(m) && isAffine(half, 0.5, 0)
    ) {
      act('gelu', half.name, [pre, erf, g!, m, half]);
    }
  }
  if (replace.size === 0) return nodes;
  const out: GraphNode[] = [];
  for (const n of nodes) {
    if (drop.has(n.name)) continue;
    out.push(replace.get(n.name) ?? n);
  }
  return out;
}
