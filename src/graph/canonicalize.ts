/**
 * Graph -> Graph rewrites that make the IR explainable. Pure: the input graph and its parameter
 * arrays are never modified (folded weights are new arrays).
 *  - identity and dropout are removed;
 *  - a softmax at the output is removed (we explain the logits), a softmax elsewhere is an error;
 *  - batch norm directly after a dense/conv that feeds nothing else is folded into it
 *    (W' = W·s, b' = (b − mean)·s + beta, s = gamma / sqrt(var + eps)); other batch norms stay and
 *    get the `pass` rule, which describe() reports.
 */
import { UnsupportedError } from '../errors.js';
import { MODEL_INPUT, type BatchNormNode, type Conv2dNode, type DenseNode, type Graph, type GraphNode } from './ir.js';

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

  const softmaxes = nodes.filter((n) => n.op === 'softmax');
  for (const s of softmaxes) {
    if (s.name !== output)
      throw new UnsupportedError(`softmax node '${s.name}' is not at the model output; only a final softmax is supported (it is removed to explain the logits)`);
    removeNode(s, s.inputs[0]);
    output = resolve(output);
    notes.push(`removed the final softmax '${s.name}': relevance explains the logits (pre-softmax)`);
  }

  const consumers = (name: string) => nodes.filter((n) => n.inputs.includes(name)).length + (name === output ? 1 : 0);
  for (const node of nodes.slice()) {
    if (node.op !== 'batchnorm') continue;
    const src = node.inputs[0];
    const producer = nodes.find((n) => n.name === src);
    const foldable = canonize && producer && (producer.op === 'dense' || producer.op === 'conv2d') && consumers(src) === 1;
    if (foldable) {
      const folded = foldBatchNorm(producer as DenseNode | Conv2dNode, node);
      nodes = nodes.map((n) => (n === producer ? folded : n));
      removeNode(node, folded.name);
      for (const n of nodes) n.inputs = n.inputs.map(resolve);
      output = resolve(output);
      notes.push(`folded batch norm '${node.name}' into '${folded.name}'`);
    } else {
      const why = !canonize
        ? 'canonize: false'
        : src === MODEL_INPUT || !producer
          ? 'it reads the model input'
          : producer.op !== 'dense' && producer.op !== 'conv2d'
            ? `it follows a ${producer.op} node, not a dense/conv`
            : `'${producer.name}' has other consumers`;
      notes.push(`batch norm '${node.name}' is kept unfolded (${why}) and gets the pass rule`);
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
