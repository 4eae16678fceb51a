/**
 * Below opset 17 PyTorch writes nn.LayerNorm as nine nodes:
 *   m = ReduceMean(x, axes=[-1]); d = Sub(x, m); v = ReduceMean(Pow(d, 2), axes=[-1]);
 *   y = Div(d, Sqrt(Add(v, eps))); [y = Mul(y, gamma)]; [y = Add(y, beta)]
 * None of the intermediate nodes has an IR op (a mean over the features, a division by an
 * activation), so the pattern is recognised on the ONNX nodes before they are translated and
 * replaced by one LayerNormalization node (onnx-transformer.ts), named like the pattern's last
 * node. Only chains whose inner tensors have no other readers are replaced.
 */
import type { onnx } from 'onnx-proto';
import { Attrs } from './onnx-attrs.js';
import { constFromProto, constNumbers, type ConstTensor } from './onnx-tensor.js';

type Node = onnx.INodeProto;

/** Returns the node list with each recognised layer norm replaced by one LayerNormalization node. */
export function fuseLayerNorms(nodes: Node[], initializers: onnx.ITensorProto[], graphOutputs: string[], notes: string[]): Node[] {
  const consts = new Map<string, ConstTensor>();
  for (const t of initializers) if (t.name) consts.set(t.name, constFromProto(t, t.name));
  for (const n of nodes) {
    if (n.opType !== 'Constant' || !n.output?.[0]) continue;
    const t = new Attrs(n, `ONNX Constant node '${n.name}'`).tensor('value', n.output[0]);
    if (t) consts.set(n.output[0], t);
  }
  const readers = new Map<string, Node[]>();
  for (const n of nodes) for (const i of n.input ?? []) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
  const outputs = new Set(graphOutputs);
  /** The only reader of `tensor` (and not a graph output), if it has the op type `op`. */
  const only = (tensor: string, op: string): Node | null => {
    const r = readers.get(tensor) ?? [];
    return r.length === 1 && r[0].opType === op && !outputs.has(tensor) ? r[0] : null;
  };
  const scalar = (tensor: string | undefined): number | null => {
    const t = tensor ? consts.get(tensor) : undefined;
    if (!t || t.dims.reduce((a, b) => a * b, 1) !== 1) return null;
    try {
      return constNumbers(t, 'layer norm constant')[0];
    } catch {
      return null;
    }
  };
  /** The other input of a two-input node, when `tensor` is one of them. */
  const other = (n: Node, tensor: string): string | undefined => (n.input?.[0] === tensor ? n.input?.[1] : n.input?.[1] === tensor ? n.input?.[0] : undefined);
  /** A per-feature parameter: a constant with more than one value. */
  const param = (tensor: string | undefined): boolean => {
    const t = tensor ? consts.get(tensor) : undefined;
    return !!t && t.dims.length >= 1 && t.dims.reduce((a, b) => a * b, 1) > 1 && t.dims.slice(0, -1).every((d) => d === 1);
  };
  const lastAxisMean = (n: Node): boolean => {
    const a = new Attrs(n, '');
    const axes = a.ints('axes') ?? (n.input?.[1] && consts.get(n.input[1]) ? constNumbers(consts.get(n.input[1])!, 'axes') : undefined);
    return axes !== undefined && axes.length === 1 && axes[0] === -1 && a.int('keepdims', 1) === 1;
  };

  const drop = new Set<Node>();
  const replace = new Map<Node, Node>();
  for (const mean of nodes) {
    if (mean.opType !== 'ReduceMean' || drop.has(mean) || !lastAxisMean(mean)) continue;
    const x = mean.input?.[0];
    const sub = only(mean.output?.[0] ?? '', 'Sub');
    if (!x || !sub || sub.input?.[0] !== x || sub.input?.[1] !== mean.output?.[0]) continue;
    const d = sub.output?.[0] ?? '';
    const dr = readers.get(d) ?? [];
    const pow = dr.find((r) => r.opType === 'Pow' && r.input?.[0] === d);
    const div = dr.find((r) => r.opType === 'Div' && r.input?.[0] === d);
    if (dr.length !== 2 || !pow || !div || outputs.has(d) || scalar(pow.input?.[1]) !== 2) continue;
    const varMean = only(pow.output?.[0] ?? '', 'ReduceMean');
    if (!varMean || !lastAxisMean(varMean)) continue;
    const addEps = only(varMean.output?.[0] ?? '', 'Add');
    const eps = addEps ? scalar(other(addEps, varMean.output?.[0] ?? '')) : null;
    if (!addEps || eps === null || !(eps >= 0)) continue;
    const sqrt = only(addEps.output?.[0] ?? '', 'Sqrt');
    if (!sqrt || div.input?.[1] !== sqrt.output?.[0] || (readers.get(sqrt.output?.[0] ?? '') ?? []).length !== 1) continue;
    const chain = [mean, sub, pow, varMean, addEps, sqrt, div];
    let last = div;
    let gamma = '';
    let beta = '';
    const mul = only(div.output?.[0] ?? '', 'Mul');
    if (mul && param(other(mul, div.output?.[0] ?? ''))) {
      gamma = other(mul, div.output?.[0] ?? '')!;
      chain.push(mul);
      last = mul;
    }
    const add = only(last.output?.[0] ?? '', 'Add');
    if (add && param(other(add, last.output?.[0] ?? ''))) {
      beta = other(add, last.output?.[0] ?? '')!;
      chain.push(add);
      last = add;
    }
    const fused: Node = {
      opType: 'LayerNormalization',
      name: last.name || last.output?.[0],
      input: [x, gamma, beta],
      output: [last.output?.[0] ?? ''],
      attribute: [
        { name: 'axis', type: 2, i: -1 },
        { name: 'epsilon', type: 1, f: eps },
      ],
    };
    for (const c of chain) drop.add(c);
    replace.set(last, fused);
    const label = (c: Node) => `'${c.name || c.output?.[0]}'`;
    notes.push(`recognised LayerNorm in the ${chain.length} nodes ${label(mean)} … ${label(last)}`);
  }
  if (replace.size === 0) return nodes;
  return nodes.flatMap((n) => (replace.has(n) ? [replace.get(n)!] : drop.has(n) ? [] : [n]));
}
