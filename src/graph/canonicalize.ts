/**
 * Graph -> Graph rewrites that make the IR explainable. Pure: the input graph and its parameter
 * arrays are never modified (folded weights are new arrays).
 *  - identity and dropout are removed;
 *  - a softmax that produces the model output is removed (we explain the logits); any other softmax
 *    (attention) stays, an op like any other (ops/softmax.ts);
 *  - batch norm directly after a dense/conv that feeds nothing else is folded into it
 *    (W' = W·s, b' = (b − mean)·s + beta, s = gamma / sqrt(var + eps)); other batch norms stay and
 *    get the `pass` rule, which describe() reports;
 *  - activations exported as several nodes (SiLU, hard-swish, GELU) become one (patterns.ts);
 *  - constant affine nodes (Add/Sub/Mul/Div by a constant) are merged when they follow each other,
 *    and folded like batch norm into a preceding dense/conv (W' = W·s, b' = b·s + t); the others
 *    stay (at the model input: preprocessing, see ops/affine.ts).
 */
import { UnsupportedError } from '../errors.js';
import { recognisePatterns } from './patterns.js';
import { MODEL_INPUT, type AffineNode, type BatchNormNode, type Conv2dNode, type DenseNode, type Graph, type GraphNode } from './ir.js';

export interface CanonicalizeOptions {
  /** Fold batch norm into the preceding linear layer (default true). */
  canonize?: boolean;
}

export function canonicalize(graph: Graph, opts: CanonicalizeOptions = {}): Graph {
  const canonize = opts.canonize ?? true;
  const notes = graph.notes.slice();
  let nodes: GraphNode[] = graph.nodes.map((n, i) => ({ ...n, inputs: n.inputs.slice(), index: n.index ?? i }) as GraphNode);
  let output = graph.output;

  // rename map: a removed node's consumers read its input instead
  const alias = new Map<string, string>();
  const resolve = (name: string): string => {
    let n = name;
    while (alias.has(n)) n = alias.get(n)!;
    return n;
  };
  const removeNode = (node: GraphNode, replacement: string) => {
    alias.set(node.name, replacement);
    nodes = nodes.filter((n) => n !== node);
  };

  for (const node of nodes.slice()) {
    if (node.op === 'identity' || node.op === 'dropout') removeNode(node, node.inputs[0]);
  }
  for (const node of nodes) node.inputs = node.inputs.map(resolve);
  output = resolve(output);

  // only a softmax nothing else reads: its consumers would otherwise read the logits instead
  const final = nodes.find((n) => n.name === output && n.op === 'softmax');
  if (final && !nodes.some((n) => n.inputs.includes(final.name))) {
    removeNode(final, final.inputs[0]);
    for (const node of nodes) node.inputs = node.inputs.map(resolve);
    output = resolve(output);
    notes.push(`removed the final softmax '${final.name}': relevance explains the logits (pre-softmax)`);
  }

  nodes = recognisePatterns(nodes, output, notes);

  const consumers = (name: string) => nodes.filter((n) => n.inputs.includes(name)).length + (name === output ? 1 : 0);
  const producerOf = (name: string) => nodes.find((n) => n.name === name);
  /** Replace `producer` by `merged` and drop `node`, whose consumers now read `merged`. */
  const fold = (producer: GraphNode, merged: GraphNode, node: GraphNode) => {
    nodes = nodes.map((n) => (n === producer ? merged : n));
    removeNode(node, merged.name);
    for (const n of nodes) n.inputs = n.inputs.map(resolve);
    output = resolve(output);
  };

  for (const node of nodes.slice()) {
    if (node.op !== 'affine') continue;
    const producer = producerOf(node.inputs[0]);
    if (!producer || consumers(producer.name) !== 1) continue;
    if (producer.op === 'affine') {
      fold(producer, chainAffine(producer, node), node);
      notes.push(`merged the constant scale/shift '${node.name}' into '${producer.name}'`);
    }
  }
  for (const node of nodes.slice()) {
    if (node.op !== 'batchnorm' && node.op !== 'affine') continue;
    const src = node.inputs[0];
    const producer = producerOf(src);
    const foldable = canonize && producer && (producer.op === 'dense' || producer.op === 'conv2d') && consumers(src) === 1;
    const what = node.op === 'batchnorm' ? 'batch norm' : 'constant scale/shift';
    if (foldable) {
      const lin = producer as DenseNode | Conv2dNode;
      fold(lin, node.op === 'batchnorm' ? foldBatchNorm(lin, node) : foldAffine(lin, node), node);
      notes.push(`folded ${what} '${node.name}' into '${lin.name}'`);
    } else if (node.op === 'batchnorm' || src !== MODEL_INPUT) {
      const why = !canonize
        ? 'canonize: false'
        : src === MODEL_INPUT || !producer
          ? 'it reads the model input'
          : producer.op !== 'dense' && producer.op !== 'conv2d'
            ? `it follows a ${producer.op} node, not a dense/conv`
            : `'${producer.name}' has other consumers`;
      notes.push(`${what} '${node.name}' is kept unfolded (${why}) and gets the pass rule`);
    } else {
      notes.push(`constant scale/shift '${node.name}' on the model input (preprocessing) is kept with the pass rule; zbox bounds are given in the raw input domain and mapped through it`);
    }
  }
  for (const node of nodes) node.inputs = node.inputs.map(resolve);
  return { ...graph, nodes, output: resolve(output), notes };
}

function foldBatchNorm(lin: DenseNode | Conv2dNode, bn: BatchNormNode): DenseNode | Conv2dNode {
  const out = lin.op === 'dense' ? lin.outFeatures : lin.outChannels;
  if (bn.numFeatures !== out)
    throw new UnsupportedError(`batch norm '${bn.name}' has ${bn.numFeatures} features but '${lin.name}' has ${out} outputs`);
  const per = lin.weight.length / out;
  const weight = new Float32Array(lin.weight.length);
  const bias = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    // float32 arithmetic, as Zennit's merge does it in torch.float32
    const s = Math.fround(bn.weight[o] / Math.fround(Math.sqrt(Math.fround(bn.runningVar[o] + bn.eps))));
    for (let i = 0; i < per; i++) weight[o * per + i] = Math.fround(lin.weight[o * per + i] * s);
    const b = lin.bias ? lin.bias[o] : 0;
    bias[o] = Math.fround(Math.fround(Math.fround(b - bn.runningMean[o]) * s) + bn.bias[o]);
  }
  return { ...lin, weight, bias };
}

/** Per-output-channel scale/shift of an affine node (scalars broadcast). */
function channelParams(a: AffineNode, out: number): { scale: Float32Array; shift: Float32Array } {
  const at = (v: Float32Array, i: number) => (v.length === 1 ? v[0] : v[i]);
  const scale = new Float32Array(out);
  const shift = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    scale[o] = at(a.scale, o);
    shift[o] = at(a.shift, o);
  }
  return { scale, shift };
}

/** W' = W·s, b' = b·s + t, in float32. */
function foldAffine(lin: DenseNode | Conv2dNode, a: AffineNode): DenseNode | Conv2dNode {
  const out = lin.op === 'dense' ? lin.outFeatures : lin.outChannels;
  if (a.scale.length !== 1 && a.scale.length !== out)
    throw new UnsupportedError(`constant scale/shift '${a.name}' has ${a.scale.length} channels but '${lin.name}' has ${out} outputs`);
  const { scale, shift } = channelParams(a, out);
  const per = lin.weight.length / out;
  const weight = new Float32Array(lin.weight.length);
  const bias = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < per; i++) weight[o * per + i] = Math.fround(lin.weight[o * per + i] * scale[o]);
    bias[o] = Math.fround(Math.fround((lin.bias ? lin.bias[o] : 0) * scale[o]) + shift[o]);
  }
  return { ...lin, weight, bias, source: `${lin.source ?? lin.name} + ${a.source ?? a.name}` };
}

/** second(first(x)) as one affine: scale = s1·s2, shift = t1·s2 + t2. */
function chainAffine(first: AffineNode, second: AffineNode): AffineNode {
  const C = Math.max(first.scale.length, first.shift.length, second.scale.length, second.shift.length);
  const p = channelParams(first, C);
  const q = channelParams(second, C);
  const scale = new Float32Array(C);
  const shift = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    scale[c] = Math.fround(p.scale[c] * q.scale[c]);
    shift[c] = Math.fround(Math.fround(p.shift[c] * q.scale[c]) + q.shift[c]);
  }
  return { ...first, scale, shift, source: `${first.source ?? first.name}, ${second.source ?? second.name}` };
}
