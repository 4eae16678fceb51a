/**
 * The intermediate representation every importer produces: a small typed DAG in PyTorch's
 * layouts (dense weight [out, in], conv weight [out, in/groups, kh, kw], activations NCHW).
 * Shapes are per sample, without the batch dimension.
 */

export type Shape = number[];

/** Padding as [top, left, bottom, right]. */
export type Pads4 = [number, number, number, number];
export type Pair = [number, number];

interface NodeBase {
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

export interface DenseNode extends NodeBase {
  op: 'dense';
  inFeatures: number;
  outFeatures: number;
  /** [outFeatures, inFeatures] */
  weight: Float32Array;
  bias: Float32Array | null;
}

export interface Conv2dNode extends NodeBase {
  op: 'conv2d';
  inChannels: number;
  outChannels: number;
  kernel: Pair;
  stride: Pair;
  /** [top, left, bottom, right], zero padding */
  padding: Pads4;
  dilation: Pair;
  groups: number;
  /** [outChannels, inChannels / groups, kh, kw] */
  weight: Float32Array;
  bias: Float32Array | null;
}

export interface ReluNode extends NodeBase {
  op: 'relu';
}

export interface MaxPool2dNode extends NodeBase {
  op: 'maxpool2d';
  kernel: Pair;
  stride: Pair;
  padding: Pads4;
  dilation: Pair;
  ceilMode: boolean;
}

export interface AvgPool2dNode extends NodeBase {
  op: 'avgpool2d';
  kernel: Pair;
  stride: Pair;
  padding: Pads4;
  ceilMode: boolean;
  countIncludePad: boolean;
  divisorOverride: number | null;
}

/** Global (adaptive to 1x1) average pooling: [C, H, W] -> [C, 1, 1]. */
export interface GlobalAvgPoolNode extends NodeBase {
  op: 'globalavgpool';
}

/** Inference-mode batch norm over the channel axis (axis 0 of the per-sample shape). */
export interface BatchNormNode extends NodeBase {
  op: 'batchnorm';
  numFeatures: number;
  eps: number;
  /** gamma */
  weight: Float32Array;
  /** beta */
  bias: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
}

/** Row-major flatten of everything after the batch axis. A view. */
export interface FlattenNode extends NodeBase {
  op: 'flatten';
}

/** Reshape to a per-sample shape (row-major). A view. */
export interface ReshapeNode extends NodeBase {
  op: 'reshape';
  shape: Shape;
}

/** Element-wise sum of inputs of equal shape (residual add). */
export interface AddNode extends NodeBase {
  op: 'add';
}

/** Concatenation along a per-sample axis (0 = channels for [C, H, W]). */
export interface ConcatNode extends NodeBase {
  op: 'concat';
  axis: number;
}

/** Removed by canonicalize: identity, dropout (inference), a trailing softmax. */
export interface IdentityNode extends NodeBase {
  op: 'identity' | 'dropout' | 'softmax';
}

export type GraphNode =
  | DenseNode
  | Conv2dNode
  | ReluNode
  | MaxPool2dNode
  | AvgPool2dNode
  | GlobalAvgPoolNode
  | BatchNormNode
  | FlattenNode
  | ReshapeNode
  | AddNode
  | ConcatNode
  | IdentityNode;

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

export const LINEAR_OPS: ReadonlySet<OpName> = new Set(['dense', 'conv2d']);
export const VIEW_OPS: ReadonlySet<OpName> = new Set(['flatten', 'reshape', 'identity', 'dropout']);

export function isLinear(node: GraphNode): node is DenseNode | Conv2dNode {
  return node.op === 'dense' || node.op === 'conv2d';
}
