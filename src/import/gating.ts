/**
 * Which factor of a product of two activations is the signal and which the gate (ops/mul.ts), from
 * the graph built so far. Recognised: a per-channel factor ([C] or [C, 1, 1] against [C, ...]:
 * squeeze-excitation), a factor computed from the other through element-wise single-input nodes
 * (x·σ(x), x·hardsigmoid(x): a self-gate, which canonicalize may turn into SiLU / hard-swish),
 * and, for equal shapes, exactly one factor that is a sigmoid-like output in [0, 1]. Any other
 * product of two activations of equal shape is a plain 'product' (GLU, attention-like), whose
 * factors share the relevance (uniform rule). Factors of other shapes are null (not supported).
 */
import type { GraphNode, Shape } from '../graph/ir.js';
import { size } from '../graph/shapes.js';
import type { MulNode } from '../ops/mul.js';
import type { GraphBuilder } from './builder.js';

export interface Factor {
  node: string;
  shape: Shape;
}

export interface Gating<F extends Factor> {
  /** The signal (for a 'product': the first factor). */
  signal: F;
  /** The gate (for a 'product': the second factor). */
  gate: F;
  pattern: MulNode['pattern'];
}

/** Single-input ops that act element by element (dropout and identity are removed later). */
const ELEMENTWISE_UNARY = new Set(['activation', 'affine', 'relu', 'prelu', 'dropout', 'identity']);

/** `tensor` and the tensors it is computed from through element-wise single-input nodes, nearest first. */
function elementwiseAncestry(b: GraphBuilder, tensor: string): string[] {
  const out = [tensor];
  let node: GraphNode | undefined = b.get(tensor);
  while (node && ELEMENTWISE_UNARY.has(node.op) && node.inputs.length === 1 && out.length < 64) {
    out.push(node.inputs[0]);
    node = b.get(node.inputs[0]);
  }
  return out;
}

/** For x·g(x): [signal, gate] (the signal is the factor nearer the common source), or null. */
function selfGate<F extends Factor>(b: GraphBuilder, x: F, y: F): [F, F] | null {
  const cx = elementwiseAncestry(b, x.node);
  const cy = elementwiseAncestry(b, y.node);
  for (let i = 0; i < cx.length; i++) {
    const j = cy.indexOf(cx[i]);
    if (j >= 0) return i <= j ? [x, y] : [y, x];
  }
  return null;
}

/** A sigmoid-like output in [0, 1] (through element-wise views such as dropout). */
function isGateActivation(b: GraphBuilder, tensor: string): boolean {
  let node = b.get(tensor);
  while (node && (node.op === 'dropout' || node.op === 'identity')) node = b.get(node.inputs[0]);
  return node?.op === 'activation' && (node.fn === 'sigmoid' || node.fn === 'hardsigmoid');
}

const same = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);

/** g holds one value per channel of x (and x has more than one value per channel). */
const perChannel = (g: Shape, x: Shape) => x.length >= 1 && g[0] === x[0] && size(g) === x[0] && size(x) > x[0];

export function classifyProduct<F extends Factor>(b: GraphBuilder, x: F, y: F): Gating<F> | null {
  const self = same(x.shape, y.shape) ? selfGate(b, x, y) : null;
  if (self) return { signal: self[0], gate: self[1], pattern: 'self-gate' };
  if (perChannel(y.shape, x.shape)) return { signal: x, gate: y, pattern: 'squeeze-excitation' };
  if (perChannel(x.shape, y.shape)) return { signal: y, gate: x, pattern: 'squeeze-excitation' };
  if (same(x.shape, y.shape)) {
    const gx = isGateActivation(b, x.node);
    const gy = isGateActivation(b, y.node);
    if (gx !== gy) return gy ? { signal: x, gate: y, pattern: 'gate' } : { signal: y, gate: x, pattern: 'gate' };
    return { signal: x, gate: y, pattern: 'product' };
  }
  return null;
}
