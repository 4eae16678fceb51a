/**
 * What every ONNX op handler works with: the values flowing between ONNX nodes (activations,
 * constants, a pending zero Pad, shape values), the context, and the input helpers that turn an
 * input into the kind the handler needs or throw an error naming the node.
 */
import { ModelFormatError, ShapeError, UnsupportedError } from '../errors.js';
import type { Conv2dNode, DenseNode, Pads4, Pair, Shape } from '../graph/ir.js';
import type { Attrs } from './onnx-attrs.js';
import type { GraphBuilder } from './builder.js';
import { shapeStr } from './geometry.js';
import type { ConstTensor, onnx } from './onnx-tensor.js';
import { shapeNotSupported, type ShapeValue } from './onnx-shape.js';
import { batchMoved, type BatchLayout } from './onnx-batch.js';

/** An activation: the output of an IR node (or the model input), with its per-sample shape. */
export interface ActValue {
  kind: 'act';
  node: string;
  shape: Shape;
  /** Set when the batch is not the leading ONNX axis (onnx-batch.ts); `shape` is then the ONNX tensor without the batch. */
  batch?: BatchLayout;
}
/** The output of a zero-constant Pad, waiting to be merged into the next Conv / pool. */
export interface PadValue {
  kind: 'pad';
  src: ActValue;
  /** Spatial padding [top, left, bottom, right]. */
  pads: Pads4;
  /** The Pad node, for messages. */
  from: string;
}
export interface ConstValue {
  kind: 'const';
  t: ConstTensor;
}
export type { ShapeValue };
export type Value = ActValue | PadValue | ConstValue | ShapeValue;

export interface OnnxNode {
  proto: onnx.INodeProto;
  op: string;
  /** ONNX node name (or its first output when unnamed), for messages and IR names. */
  name: string;
  /** "ONNX Conv node '/0/Conv'", the prefix of every message about this node. */
  where: string;
  attrs: Attrs;
}

export interface OnnxContext {
  readonly b: GraphBuilder;
  /** Opset version of the default domain. */
  readonly opset: number;
  /** The batch size a fixed-batch export declares on its input (its Reshapes may spell it out), else null. */
  readonly staticBatch: number | null;
  readonly notes: string[];
  /** The value of input `i` of `n`, or undefined when the optional input is absent. */
  input(n: OnnxNode, i: number): Value | undefined;
  /** Records the value of output `i` of `n`. */
  setOutput(n: OnnxNode, i: number, v: Value): void;
  /** Number of readers of a tensor (node inputs, plus one if it is a graph output). */
  consumers(tensor: string): number;
  isGraphOutput(tensor: string): boolean;
  /** ONNX element type of the model input (null when the file does not say). */
  inputType(): number | null;
  /** Records that an embedding reads the model input as token ids (Graph.inputKind = 'tokens'). */
  markTokenInput(n: OnnxNode): void;
  /**
   * Dense / conv nodes created without a bias, by their output tensor: an Add of a constant that
   * directly follows (and is the only reader) supplies the bias.
   */
  readonly biasless: Map<string, DenseNode | Conv2dNode>;
}

export type OpHandler = (n: OnnxNode, ctx: OnnxContext) => void;

// ---- input helpers ---------------------------------------------------------------------

export function required(n: OnnxNode, ctx: OnnxContext, i: number, what: string): Value {
  const v = ctx.input(n, i);
  if (!v) throw new ModelFormatError(`${n.where}: missing ${what} (input ${i})`);
  return v;
}

export function padNotMerged(n: OnnxNode, v: PadValue): UnsupportedError {
  return new UnsupportedError(
    `${n.where} reads the output of Pad '${v.from}'; a Pad is only supported right before Conv, AveragePool or MaxPool`,
  );
}

/** An activation input with the batch as its leading ONNX axis (not a constant, not a pending Pad). */
export function act(n: OnnxNode, ctx: OnnxContext, i = 0, what = 'input'): ActValue {
  const v = tracked(n, ctx, i, what);
  if (v.batch) throw batchMoved(n.where, v, what, `${n.op} needs the batch as the leading axis`);
  return v;
}

/** An activation input wherever its batch sits (for the ops that map ONNX axes through onnx-batch.ts). */
export function tracked(n: OnnxNode, ctx: OnnxContext, i = 0, what = 'input'): ActValue {
  const v = required(n, ctx, i, what);
  if (v.kind === 'pad') throw padNotMerged(n, v);
  if (v.kind === 'shape') throw shapeNotSupported(n, v, what);
  if (v.kind === 'const') {
    throw new UnsupportedError(`${n.where}: ${what} is the constant '${v.t.name}'; expected an activation`);
  }
  return v;
}

/** An activation input that may come through a zero Pad (returned separately). */
export function actOrPad(n: OnnxNode, ctx: OnnxContext): { x: ActValue; pad: PadValue | null } {
  const v = required(n, ctx, 0, 'input');
  if (v.kind === 'pad') return { x: v.src, pad: v };
  if (v.kind === 'shape') throw shapeNotSupported(n, v);
  if (v.kind === 'const') {
    throw new UnsupportedError(`${n.where}: input is the constant '${v.t.name}'; expected an activation`);
  }
  if (v.batch) throw batchMoved(n.where, v, 'input', `${n.op} needs the batch as the leading axis`);
  return { x: v, pad: null };
}

export function constant(n: OnnxNode, ctx: OnnxContext, i: number, role: string): ConstTensor {
  const v = required(n, ctx, i, role);
  if (v.kind === 'shape') throw shapeNotSupported(n, v, role);
  if (v.kind !== 'const') {
    throw new UnsupportedError(`${n.where}: the ${role} must be a constant (initializer or Constant), not an activation`);
  }
  return v.t;
}

export function optionalConstant(n: OnnxNode, ctx: OnnxContext, i: number, role: string): ConstTensor | null {
  return ctx.input(n, i) ? constant(n, ctx, i, role) : null;
}

/** Outputs from index `from` on (mask, indices, running stats…) must not be read. */
export function extraOutputsUnused(n: OnnxNode, ctx: OnnxContext, from: number, what: string): void {
  const outs = n.proto.output ?? [];
  for (let i = from; i < outs.length; i++) {
    if (outs[i] && ctx.consumers(outs[i]) > 0) {
      throw new UnsupportedError(`${n.where}: output ${i} (${what}) is used, which is not supported`);
    }
  }
}

export function rank3(n: OnnxNode, x: ActValue): [number, number, number] {
  if (x.shape.length !== 3) {
    throw new ShapeError(
      `${n.where}: expects a 4-D input [N, C, H, W], got per-sample shape ${shapeStr(x.shape)}`,
    );
  }
  return x.shape as [number, number, number];
}

export function pair(n: OnnxNode, v: number[], what: string): Pair {
  if (v.length !== 2) {
    throw new UnsupportedError(`${n.where}: ${what} ${shapeStr(v)} has ${v.length} entries; only 2-D operations are supported`);
  }
  return [v[0], v[1]];
}

export function name(n: OnnxNode, ctx: OnnxContext): string {
  return ctx.b.unique(n.name);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

