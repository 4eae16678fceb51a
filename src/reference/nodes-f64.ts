/**
 * What the float64 reference interpreter (attnlrp.ts, forward-f64.ts) reads: a graph of IR nodes and
 * per-sample float64 tensors. The transformer node types are the ones agreed in the transformer
 * contract (issue 10), written here structurally so that the reference does not depend on the op modules.
 */
import type { GraphNode, NodeBase, Shape } from '../graph/ir.js';

/** nn.LayerNorm over the last per-sample axis. */
export interface LayerNormNodeF64 extends NodeBase {
  op: 'layernorm';
  features: number;
  epsilon: number;
  weight: Float32Array | null;
  bias: Float32Array | null;
}

/** Softmax over the last per-sample axis (inside the graph). */
export interface SoftmaxNodeF64 extends NodeBase {
  op: 'softmax';
}

/** Product of two activations: [...lead, M, K] · [...lead, K, N]. */
export interface MatMulNodeF64 extends NodeBase {
  op: 'matmul';
}

/** Token ids [T] → vectors [T, dim]. */
export interface EmbeddingNodeF64 extends NodeBase {
  op: 'embedding';
  vocab: number;
  dim: number;
  table: Float32Array;
}

/** A constant tensor, the same for every sample. */
export interface ConstantNodeF64 extends NodeBase {
  op: 'constant';
  shape: Shape;
  value: Float32Array;
}

/** Every node the reference knows (a few op types of the IR it does not cover are refused when met). */
export type NodeF64 = GraphNode | LayerNormNodeF64 | SoftmaxNodeF64 | MatMulNodeF64 | EmbeddingNodeF64 | ConstantNodeF64;

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

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i];
  }
  return out;
}

/** Zennit's sign-aware stabiliser: z + eps·sign(z), with sign(0) = +1. */
export function stab(z: number, eps: number): number {
  return z + (z >= 0 ? eps : -eps);
}
