/**
 * Finiteness checks: of a model's parameters when it is built, and of what it returns. Finite
 * inputs and weights can still overflow float32 (inputs near 3e38, weights near 1e37): rather
 * than hand back NaN or ±Infinity, the model throws a NumericError naming the sample and the
 * layer where the values first stopped being finite. The checks are SIMD scans that read each
 * activation and relevance value of a chunk once (cheap next to the layers that computed them);
 * the sample and layer are searched for only after a failure.
 */
import type { Assigned } from './engine/assign.js';
import type { Engine } from './engine/engine.js';
import { aliasRoots, type TensorBuf, type Workspace } from './engine/tensors.js';
import { ModelFormatError, NumericError } from './errors.js';
import type { Graph, GraphNode } from './graph/ir.js';
import { specOf } from './ops/registry.js';
import { formatRule } from './rules.js';

const describeNode = (node: GraphNode) => `${node.op} node '${node.name}'${node.source && node.source !== node.name ? ` (${node.source})` : ''}`;

/** Does sample i (of a tensor with `size` floats per sample at byte pointer `ptr`) hold NaN/±Infinity? */
function sampleNonFinite(engine: Engine, ptr: number, size: number, i: number): boolean {
  return engine.backend.kernels.hasNonFinite(ptr + i * size * 4, size) !== 0;
}

/**
 * Ops that compute new values. A non-finite value (from finite inputs and weights: an overflow)
 * can only appear at their outputs; ReLU and max pooling then may hide a NaN (max(NaN, 0) is 0),
 * so checking the logits alone is not enough.
 */
const ARITHMETIC = new Set(['dense', 'conv2d', 'batchnorm', 'add', 'avgpool2d', 'globalavgpool', 'matmul']);

/**
 * Throws if the last forward pass over m samples (the chunk starting at sample s) produced NaN
 * or ±Infinity anywhere, naming the sample and the first node whose output holds one.
 */
export function checkForward(engine: Engine, ws: Workspace, s: number, m: number): void {
  const k = engine.backend.kernels;
  const checked = engine.graph.nodes.filter((n) => ARITHMETIC.has(n.op) || n.name === engine.graph.output).map((n) => ws.tensor(n.name));
  if (checked.every((t) => k.hasNonFinite(t.act, m * t.size) === 0)) return;
  let i = 0;
  while (i < m - 1 && checked.every((t) => !sampleNonFinite(engine, t.act, t.size, i))) i++;
  const node = engine.graph.nodes.find((n) => {
    const t = ws.tensor(n.name);
    return sampleNonFinite(engine, t.act, t.size, i);
  });
  throw new NumericError(
    `the forward pass overflows float32 for sample ${s + i}` +
      (node ? `: the output of ${describeNode(node)} is the first to hold NaN or Infinity` : '') +
      ' (inputs or weights too large for this model)',
  );
}

/**
 * Watches a relevance pass for NaN or ±Infinity in the relevance of any tensor (the input's, and
 * every layer's: a ReLU's gradient mask may hide a NaN on its way). Relevance buffers are shared
 * by liveness, so each tensor is scanned when the walk completes it (`onFinal`); `check` then
 * throws naming the sample and the first node of the backward walk whose input relevance is
 * non-finite (the rule that produced it).
 */
export function relevanceWatch(engine: Engine, m: number): { onFinal(t: TensorBuf): void; check(assigned: Map<string, Assigned>, s: number): void } {
  const k = engine.backend.kernels;
  let bad: { tensor: string; sample: number } | null = null;
  return {
    onFinal(t) {
      if (bad || t.view || k.hasNonFinite(t.rel, m * t.size) === 0) return;
      let i = 0;
      while (i < m - 1 && !sampleNonFinite(engine, t.rel, t.size, i)) i++;
      bad = { tensor: t.name, sample: i };
    },
    check(assigned, s) {
      if (!bad) return;
      const { tensor, sample } = bad;
      bad = null;
      const nodes = engine.graph.nodes;
      let culprit: GraphNode | undefined;
      // the last reader of the tensor (or of a view of it) sent it the non-finite values first
      const roots = aliasRoots(engine.graph);
      for (let j = nodes.length - 1; j >= 0 && !culprit; j--)
        if (!specOf(nodes[j]).view && nodes[j].inputs.some((name) => roots.get(name) === roots.get(tensor))) culprit = nodes[j];
      const rule = culprit ? assigned.get(culprit.name)?.rule : undefined;
      throw new NumericError(
        `the relevance overflows float32 for sample ${s + sample}` +
          (culprit ? `: it first holds NaN or Infinity at the input of ${describeNode(culprit)}${rule ? ` (rule ${formatRule(rule)})` : ''}` : '') +
          ' (inputs or weights too large for this model)',
      );
    },
  };
}

/** Throws if `values` (samples of `per` floats) holds NaN or ±Infinity; `what` names the array. */
export function checkFinite(values: Float32Array, per: number, what: string): void {
  for (let j = 0; j < values.length; j++)
    if (!Number.isFinite(values[j])) {
      const sample = Math.floor(j / per);
      throw new NumericError(`${what} overflows float32 for sample ${sample} (index ${j - sample * per}: ${values[j]})`);
    }
}

/**
 * Every parameter of the (canonical) graph must be finite. The importers check the files; this
 * catches what folding produces, e.g. a batch norm whose running_var + eps is not positive.
 */
export function checkParameters(graph: Graph): void {
  for (const node of graph.nodes) {
    const params: Array<[string, ArrayLike<number> | null | undefined]> =
      node.op === 'dense' || node.op === 'conv2d' || node.op === 'layernorm'
        ? [['weight', node.weight], ['bias', node.bias]]
        : node.op === 'batchnorm'
          ? [['weight', node.weight], ['bias', node.bias], ['running_mean', node.runningMean], ['running_var', node.runningVar]]
          : node.op === 'embedding'
            ? [['table', node.table]]
            : node.op === 'constant'
              ? [['value', node.value]]
              : [];
    const where = `${node.op} node '${node.name}'${node.source && node.source !== node.name ? ` (${node.source})` : ''}`;
    const folded = graph.notes.some((note) => note.startsWith('folded batch norm') && note.endsWith(` into '${node.name}'`));
    for (const [name, v] of params) {
      if (!v) continue;
      for (let i = 0; i < v.length; i++)
        if (!Number.isFinite(v[i]))
          throw new ModelFormatError(
            `${where}: ${name} holds ${v[i]} at index ${i}${folded ? ' after folding batch norm into it (running_var + eps must be positive)' : ''}: parameters must be finite`,
          );
    }
    if (node.op === 'batchnorm')
      for (let c = 0; c < node.numFeatures; c++)
        if (!(node.runningVar[c] + node.eps > 0))
          throw new ModelFormatError(`${where}: running_var + eps is ${node.runningVar[c] + node.eps} for channel ${c}; it must be positive`);
  }
}
