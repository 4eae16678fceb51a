/**
 * ONNX ops of transformer blocks → IR nodes: LayerNormalization (ops/layernorm.ts), Softmax
 * inside the graph (ops/softmax.ts), MatMul of two activations (ops/matmul.ts: Q·Kᵀ and
 * attention·V), and a clear refusal of recurrent layers. Each reads its inputs wherever their
 * batch sits (onnx-batch.ts): the axes they act on must not hold it.
 */
import { ModelFormatError, ShapeError, UnsupportedError } from '../errors.js';
import { holdsBatch, layoutStr, onnxAxes, resizeAxis, sameAxes, sameLayout, withAxes, type OnnxAxis } from './onnx-batch.js';
import { extraOutputsUnused, name, optionalConstant, tracked, type ActValue, type OnnxContext, type OnnxNode, type OpHandler } from './onnx-context.js';
import { shapeStr } from './geometry.js';
import { constFloats, constSize, type ConstTensor } from './onnx-tensor.js';

/** The last ONNX axis of `x`, which the op acts on: it must not hold the batch. */
function lastAxis(n: OnnxNode, ctx: OnnxContext, x: ActValue, axis: number, what: string): number {
  const axes = onnxAxes(x);
  const a = axis < 0 ? axis + axes.length : axis;
  if (!Number.isInteger(a) || a < 0 || a >= axes.length) throw new ModelFormatError(`${n.where}: axis ${axis} is out of range for rank ${axes.length}`);
  if (a !== axes.length - 1) {
    throw new UnsupportedError(`${n.where}: ${what} over axis ${axis} of ${layoutStr(axes)} (N = batch size); only over the last axis`);
  }
  const last = axes[a];
  if (holdsBatch(last, ctx.staticBatch)) {
    throw new UnsupportedError(`${n.where}: ${what} over the last axis of ${layoutStr(axes)}, which holds the batch N`);
  }
  return x.shape[x.shape.length - 1];
}

/** A per-feature parameter: [F] or [1, …, 1, F]. */
function featureParam(n: OnnxNode, t: ConstTensor | null, features: number, role: string): Float32Array | null {
  if (!t) return null;
  if (constSize(t) !== features || t.dims[t.dims.length - 1] !== features) {
    throw new ShapeError(`${n.where}: ${role} '${t.name}' has shape ${shapeStr(t.dims)}, expected [${features}] (the normalised axis)`);
  }
  return constFloats(t, `${role} of ${n.where}`);
}

/** LayerNormalization (opset 17, or the recognised opset-13 pattern) over the last axis → layernorm. */
export const layerNormalization: OpHandler = (n, ctx) => {
  extraOutputsUnused(n, ctx, 1, 'mean / inverse standard deviation');
  const x = tracked(n, ctx);
  const features = lastAxis(n, ctx, x, n.attrs.int('axis', -1), 'LayerNormalization');
  const epsilon = n.attrs.float('epsilon', 1e-5);
  if (!(epsilon >= 0) || !Number.isFinite(epsilon)) throw new ModelFormatError(`${n.where}: epsilon ${epsilon} must be a finite number ≥ 0`);
  const weight = featureParam(n, optionalConstant(n, ctx, 1, 'scale'), features, 'scale');
  const bias = featureParam(n, optionalConstant(n, ctx, 2, 'bias B'), features, 'bias B');
  const node = ctx.b.add({ op: 'layernorm', name: name(n, ctx), inputs: [x.node], source: n.name, features, epsilon, weight, bias });
  ctx.setOutput(n, 0, sameLayout(x, node.name));
};

/**
 * Softmax over the last axis → softmax (attention weights). At the model output it is the same
 * node, which canonicalize strips (relevance explains the logits). Below opset 13 Softmax
 * flattens the axes from `axis` on: the same as the last axis only when `axis` is the last.
 */
export const softmax: OpHandler = (n, ctx) => {
  const x = tracked(n, ctx);
  lastAxis(n, ctx, x, n.attrs.int('axis', ctx.opset >= 13 ? -1 : 1), 'Softmax');
  const node = ctx.b.add({ op: 'softmax', name: name(n, ctx), inputs: [x.node], source: n.name });
  ctx.setOutput(n, 0, sameLayout(x, node.name));
};

/**
 * MatMul of two activations A [...lead, M, K] · B [...lead, K, N] → matmul. The leading axes
 * (where the batch is, with the heads) must be the same in both; M, K and N must not hold it.
 * A Transpose of K before it is an IR transpose (onnx-layout.ts).
 */
export function activationMatMul(n: OnnxNode, ctx: OnnxContext): void {
  const a = tracked(n, ctx, 0, 'A');
  const b = tracked(n, ctx, 1, 'B');
  const aa = onnxAxes(a);
  const ba = onnxAxes(b);
  const both = `${layoutStr(aa)} · ${layoutStr(ba)} (N = batch size)`;
  if (aa.length < 3 || aa.length !== ba.length) {
    throw new UnsupportedError(`${n.where}: MatMul of the activations ${both} needs two inputs of the same rank ≥ 3 (no broadcasting)`);
  }
  const r = aa.length;
  if (!sameAxes(aa.slice(0, r - 2), ba.slice(0, r - 2))) {
    throw new UnsupportedError(`${n.where}: MatMul of the activations ${both}: the leading axes differ (no broadcasting)`);
  }
  const inner: OnnxAxis[] = [aa[r - 2], aa[r - 1], ba[r - 2], ba[r - 1]];
  if (inner.some((d) => holdsBatch(d, ctx.staticBatch))) {
    throw new UnsupportedError(`${n.where}: MatMul of the activations ${both}: the batch N is in one of the two matrix axes`);
  }
  const k = a.shape[a.shape.length - 1];
  const [k2, cols] = b.shape.slice(-2);
  if (k !== k2) throw new ShapeError(`${n.where}: MatMul of ${both}: the inner lengths ${k} and ${k2} differ`);
  const node = ctx.b.add({ op: 'matmul', name: name(n, ctx), inputs: [a.node, b.node], source: n.name });
  // A's row axis and B's column axis (either may carry a fixed batch of 1, which stays with A's).
  const out = [...aa.slice(0, r - 1), ba[r - 1]];
  ctx.setOutput(n, 0, withAxes(node.name, resizeAxis(out, r - 1, cols), a.batch?.movedBy ?? ''));
}

/** LSTM / GRU / RNN: not in scope, said plainly. */
export const recurrent: OpHandler = (n) => {
  throw new UnsupportedError(
    `${n.where}: recurrent layers (${n.op}) are not supported; LRP for LSTM/GRU/RNN cells is not implemented (export a feed-forward or attention model)`,
  );
};

/** Handlers by ONNX op type. */
export const ONNX_TRANSFORMER_OPS: Readonly<Record<string, OpHandler>> = {
  LayerNormalization: layerNormalization,
  Softmax: softmax,
  LSTM: recurrent,
  GRU: recurrent,
  RNN: recurrent,
};
