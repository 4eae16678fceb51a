/**
 * What the float64 reference interpreter (attnlrp.ts, forward-f64.ts) reads: a graph of IR nodes and
 * per-sample float64 tensors. Only the node types come from the IR; no formula is taken from src/ops/.
 */
import type { GraphNode, Shape } from '../graph/ir.js';

/** Every node of the IR; the reference refuses the op types it does not cover when it meets them. */
export type NodeF64 = GraphNode;

/** The part of a Graph the reference reads. An IR Graph is one. */
export interface GraphF64 {
  inputShape: Shape;
  nodes: readonly NodeF64[];
  output: string;
}

/** One sample's tensor in float64, row-major. */
export interface Tensor64 {
  shape: Shape;
  data: Float64Array;
}

/** Zennit's sign-aware stabiliser: z + eps·sign(z), with sign(0) = +1. */
export function stab(z: number, eps: number): number {
  return z + (z >= 0 ? eps : -eps);
}
