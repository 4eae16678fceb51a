/**
 * The intermediate representation every importer produces: a small typed DAG in PyTorch's
 * layouts (dense weight [out, in], conv weight [out, in/groups, kh, kw], activations NCHW).
 * Shapes are per sample, without the batch dimension.
 */

export type Shape = number[];

/** Padding as [top, left, bottom, right]. */
export type Pads4 = [number, number, number, number];
export type Pair = [number, number];

export interface NodeBase {
  /** Unique node name; the node's output tensor has the same name. */
  name: string;
  /** Names of producer nodes, or MODEL_INPUT for the model input. */
  inputs: string[];
  /** Where the node came from (ONNX node name, Keras layer), for messages and describe(). */
  source?: string;
  /** Position in the imported graph (set by canonicalize; used by composites' byIndex). */
  index?: number;
}

export const MODEL_INPUT = 'input';

// Node types live with their op module (src/ops/); re-exported here for the importers.
export type { DenseNode } from '../ops/dense.js';
export type { Conv2dNode } from '../ops/conv2d.js';
export type { ReluNode } from '../ops/relu.js';
export type { MaxPool2dNode } from '../ops/maxpool2d.js';
export type { AvgPool2dNode, GlobalAvgPoolNode } from '../ops/avgpool2d.js';
export type { BatchNormNode } from '../ops/batchnorm.js';
export type { AffineNode } from '../ops/affine.js';
export type { FlattenNode, ReshapeNode } from '../ops/views.js';
export type { AddNode } from '../ops/add.js';
export type { ConcatNode } from '../ops/concat.js';
export type { IdentityNode } from '../ops/removed.js';
export type { LayerNormNode } from '../ops/layernorm.js';
export type { SoftmaxNode } from '../ops/softmax.js';
export type { ActivationNode } from '../ops/activation.js';
export type { PReluNode } from '../ops/prelu.js';
export type { MulNode } from '../ops/mul.js';
export type { TransposeNode } from '../ops/transpose.js';
export type { SliceNode } from '../ops/slice.js';
export type { UpsampleNode } from '../ops/upsample.js';
export type { MatMulNode } from '../ops/matmul.js';
export type { EmbeddingNode } from '../ops/embedding.js';
export type { ConstantNode } from '../ops/constant.js';
import type { OPS } from '../ops/registry.js';
import type { OpSpec } from '../ops/spec.js';

type NodeOf<S> = S extends OpSpec<infer N, infer _S> ? N : never;
/** Every node type, derived from the op registry (src/ops/registry.ts). */
export type GraphNode = NodeOf<(typeof OPS)[keyof typeof OPS]>;

export type OpName = GraphNode['op'];

export interface Graph {
  name: string;
  /** Per-sample input shape in NCHW order (e.g. [1, 28, 28] or [784]). */
  inputShape: Shape;
  /**
   * The layout callers use for inputs and relevance: 'NCHW' (PyTorch, ONNX, lrp JSON) or 'NHWC'
   * (TF.js). The graph itself is always NCHW; the model API transposes at its boundary.
   */
  inputLayout: 'NCHW' | 'NHWC';
  /** Value range of the inputs if the model file declares one (used as zbox default bounds). */
  inputRange?: [number, number];
  /** Nodes in topological order. */
  nodes: GraphNode[];
  /** Name of the node whose output is the model output (the logits). */
  output: string;
  /** Notes produced by import/canonicalize (e.g. "removed trailing softmax"), shown by describe(). */
  notes: string[];
  /** Source format. */
  format: 'lrp-json' | 'onnx' | 'tfjs';
}

export function isLinear(node: GraphNode): node is import('../ops/dense.js').DenseNode | import('../ops/conv2d.js').Conv2dNode {
  return node.op === 'dense' || node.op === 'conv2d';
}
