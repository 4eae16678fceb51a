/**
 * Token and sequence plumbing of transformer exports → IR nodes: Gather on a constant table with
 * the model input as indices (an embedding; the graph input then holds token ids), Gather of one
 * position of an activation (the class token x[:, 0]: slice + reshape), Expand of a constant over
 * the batch (the class token) and constants that join activations (Concat with the class token,
 * Add of a position embedding) as `constant` nodes (ops/constant.ts). On shape values Gather is
 * evaluated by onnx-shape.ts.
 */
import { ModelFormatError, ShapeError, UnsupportedError } from '../errors.js';
import { MODEL_INPUT, type Shape } from '../graph/ir.js';
import { size } from '../graph/shapes.js';
import { holdsBatch, irAxisOf, layoutStr, onnxAxes, withAxes } from './onnx-batch.js';
import { name, required, tracked, type ActValue, type OnnxContext, type OnnxNode, type OpHandler } from './onnx-context.js';
import { shapeStr } from './geometry.js';
import { isBatchDim, SHAPE_OPS, type Dim } from './onnx-shape.js';
import { constFloats, constNumbers, constSize, DT, type ConstTensor } from './onnx-tensor.js';

/**
 * A constant broadcast to every sample as a `constant` node of per-sample shape `shape`: `t` (ONNX
 * dims, the batch axis first when it has as many axes as the full tensor) must broadcast to
 * [N, ...shape] and be the same for every sample (leading length 1, or the fixed batch with equal
 * slices). Returns null when it does not broadcast so.
 */
export function perSampleConstant(n: OnnxNode, ctx: OnnxContext, t: ConstTensor, shape: Shape, role: string): ActValue | null {
  const full = shape.length + 1;
  if (t.dims.length > full) return null;
  const dims = [...new Array<number>(full - t.dims.length).fill(1), ...t.dims];
  const lead = dims[0];
  if (lead !== 1 && lead !== ctx.staticBatch) return null;
  if (dims.slice(1).some((d, i) => d !== 1 && d !== shape[i])) return null;
  const src = constFloats(t, `${role} of ${n.where}`);
  for (let i = 0; i < src.length; i++)
    if (!Number.isFinite(src[i])) throw new ModelFormatError(`${n.where}: the constant '${t.name}' holds ${src[i]} at index ${i}`);
  const per = size(dims.slice(1));
  for (let s = 1; s < lead; s++)
    for (let i = 0; i < per; i++)
      if (src[s * per + i] !== src[i]) {
        throw new UnsupportedError(`${n.where}: the constant '${t.name}' ${shapeStr(t.dims)} differs between the samples of the batch`);
      }
  // Broadcast the first slice to the per-sample shape (row-major).
  const value = new Float32Array(size(shape));
  const srcDims = dims.slice(1);
  const srcStrides = srcDims.map((_, i) => (srcDims[i] === 1 ? 0 : size(srcDims.slice(i + 1))));
  for (let o = 0; o < value.length; o++) {
    let rem = o;
    let at = 0;
    for (let a = shape.length - 1; a >= 0; a--) {
      at += (rem % shape[a]) * srcStrides[a];
      rem = Math.floor(rem / shape[a]);
    }
    value[o] = src[at];
  }
  const node = ctx.b.add({ op: 'constant', name: ctx.b.unique(`${n.name}_${t.name || 'constant'}`), inputs: [], source: `${n.name} (${t.name})`, shape: shape.slice(), value });
  return { kind: 'act', node: node.name, shape: shape.slice() };
}

/**
 * Add / Sub of a constant of the activation's shape (a position embedding): add with a
 * `constant` node (the activation's sign flipped first for constant − x is not supported).
 * Returns false when the constant does not broadcast as one value per sample position.
 */
export function fullConstantAdd(n: OnnxNode, ctx: OnnxContext, x: ActValue, t: ConstTensor, op: 'Add' | 'Sub', xFirst: boolean): boolean {
  if (x.batch || (op === 'Sub' && !xFirst)) return false;
  const c = perSampleConstant(n, ctx, t, x.shape, 'constant');
  if (!c) return false;
  if (op === 'Sub') {
    const node = ctx.b.get(c.node);
    if (node?.op === 'constant') node.value = node.value.map((v) => -v);
  }
  const add = ctx.b.add({ op: 'add', name: name(n, ctx), inputs: [x.node, c.node], source: n.name });
  ctx.setOutput(n, 0, { kind: 'act', node: add.name, shape: x.shape.slice() });
  return true;
}

const INDEX_TYPES: ReadonlySet<number> = new Set([DT.INT64, DT.INT32]);

/** Gather(table, ids) with the model input as ids: an embedding; the graph input holds token ids. */
function embedding(n: OnnxNode, ctx: OnnxContext, table: ConstTensor, ids: ActValue): void {
  if (ids.node !== MODEL_INPUT) {
    throw new UnsupportedError(`${n.where}: Gather from the constant '${table.name}' needs the model input as its indices (an embedding of token ids)`);
  }
  if (ctx.inputType() !== null && !INDEX_TYPES.has(ctx.inputType()!)) {
    throw new UnsupportedError(`${n.where}: an embedding needs integer token ids as the model input (int64 or int32)`);
  }
  if (n.attrs.int('axis', 0) !== 0) throw new UnsupportedError(`${n.where}: Gather along axis ${n.attrs.int('axis', 0)} of the table '${table.name}'; an embedding gathers rows (axis 0)`);
  if (table.dims.length !== 2) throw new ShapeError(`${n.where}: the embedding table '${table.name}' has shape ${shapeStr(table.dims)}, expected [vocab, dim]`);
  const [vocab, dim] = table.dims;
  const node = ctx.b.add({ op: 'embedding', name: name(n, ctx), inputs: [ids.node], source: n.name, vocab, dim, table: constFloats(table, `table of ${n.where}`) });
  ctx.markTokenInput(n);
  ctx.setOutput(n, 0, { kind: 'act', node: node.name, shape: [...ids.shape, dim] });
}

/** Gather of one index along an axis of an activation (x[:, 0]): a slice of length 1, squeezed unless the index is 1-D. */
function selectPosition(n: OnnxNode, ctx: OnnxContext, x: ActValue, idx: ConstTensor): void {
  const axes = onnxAxes(x);
  const axis = n.attrs.int('axis', 0);
  const a = axis < 0 ? axis + axes.length : axis;
  if (a < 0 || a >= axes.length) throw new ModelFormatError(`${n.where}: axis ${axis} is out of range for rank ${axes.length}`);
  const ir = irAxisOf(axes, a);
  if (holdsBatch(axes[a], ctx.staticBatch) || ir === null) {
    throw new UnsupportedError(`${n.where}: Gather along axis ${axis} of ${layoutStr(axes)} (N = batch size) selects samples, which is not supported`);
  }
  if (constSize(idx) !== 1 || idx.dims.length > 1) {
    throw new UnsupportedError(`${n.where}: Gather of an activation with indices ${shapeStr(idx.dims)} is not supported (only one index, as in x[:, 0])`);
  }
  const len = x.shape[ir];
  const raw = constNumbers(idx, `indices of ${n.where}`)[0];
  const at = raw < 0 ? raw + len : raw;
  if (!Number.isInteger(at) || at < 0 || at >= len) throw new ModelFormatError(`${n.where}: index ${raw} is out of range for axis ${axis} of length ${len}`);
  const sliced = ctx.b.add({ op: 'slice', name: ctx.b.unique(`${n.name}_slice`), inputs: [x.node], source: n.name, axis: ir, start: at, end: at + 1, step: 1 });
  const kept = axes.slice();
  kept[a] = 1;
  if (idx.dims.length === 1) {
    ctx.setOutput(n, 0, withAxes(sliced.name, kept, x.batch?.movedBy ?? n.name));
    return;
  }
  const out = axes.filter((_, i) => i !== a);
  const shape = x.shape.filter((_, i) => i !== ir);
  if (shape.length === 0) throw new UnsupportedError(`${n.where}: the result leaves a scalar per sample, which is not supported`);
  const view =
    shape.length === 1
      ? ctx.b.add({ op: 'flatten', name: name(n, ctx), inputs: [sliced.name], source: n.name })
      : ctx.b.add({ op: 'reshape', name: name(n, ctx), inputs: [sliced.name], source: n.name, shape });
  ctx.setOutput(n, 0, withAxes(view.name, out, x.batch?.movedBy ?? n.name));
}

/** Gather: an embedding, one position of an activation, or (on shape values) shape arithmetic. */
const gather: OpHandler = (n, ctx) => {
  const data = required(n, ctx, 0, 'data');
  const indices = required(n, ctx, 1, 'indices');
  if (data.kind === 'const' && indices.kind === 'act') return embedding(n, ctx, data.t, tracked(n, ctx, 1, 'indices'));
  if (data.kind === 'act' && indices.kind === 'const') return selectPosition(n, ctx, tracked(n, ctx, 0, 'data'), indices.t);
  if (data.kind === 'act' || data.kind === 'pad') {
    throw new UnsupportedError(`${n.where}: the data is an activation; Gather is only supported on shape values, as an embedding (constant table, model input as indices) or with one constant index (x[:, 0])`);
  }
  SHAPE_OPS.Gather(n, ctx);
};

/**
 * Expand of a constant to [N, ...] (the class token, `cls.expand(n, -1, -1)`): a `constant`
 * node with the broadcast per-sample value. The target comes from shape arithmetic (its first
 * entry the batch size N) or, in a fixed-batch export, is literal.
 */
const expand: OpHandler = (n, ctx) => {
  const data = required(n, ctx, 0, 'input');
  const shapeV = required(n, ctx, 1, 'shape');
  if (data.kind !== 'const') {
    throw new UnsupportedError(`${n.where}: Expand of an activation is not supported (only of a constant over the batch, as a class token)`);
  }
  let target: Dim[];
  if (shapeV.kind === 'shape') target = shapeV.values;
  else if (shapeV.kind === 'const') target = constNumbers(shapeV.t, `shape of ${n.where}`);
  else throw new UnsupportedError(`${n.where}: the shape of Expand must be a constant or computed from Shape`);
  const lead = target[0];
  const overBatch = target.length >= 1 && ((isBatchDim(lead) && lead.k === 1) || (ctx.staticBatch !== null && lead === ctx.staticBatch));
  if (!overBatch || target.slice(1).some(isBatchDim)) {
    if (target.some(isBatchDim)) throw new UnsupportedError(`${n.where}: Expand to ${target.join(', ')} is only supported with the batch size N as the first entry`);
    throw new UnsupportedError(`${n.where}: Expand of the constant '${data.t.name}' to [${target.join(', ')}] does not broadcast it over the batch (the batch size N must be the first entry); fold it at export`);
  }
  // Expand broadcasts both ways: a 1 in the target keeps the constant's length.
  const dims = [...new Array<number>(Math.max(0, target.length - data.t.dims.length)).fill(1), ...data.t.dims];
  const shape = (target.slice(1) as number[]).map((d, i) => (d === 1 || d === -1 ? dims[i + 1] : d));
  const c = perSampleConstant(n, ctx, data.t, shape, 'input');
  if (!c) throw new UnsupportedError(`${n.where}: the constant '${data.t.name}' ${shapeStr(data.t.dims)} does not broadcast to [N, ${shape.join(', ')}]`);
  ctx.setOutput(n, 0, c);
};

/** Handlers by ONNX op type (Gather also serves shape values). */
export const ONNX_TOKEN_OPS: Readonly<Record<string, OpHandler>> = {
  Gather: gather,
  Expand: expand,
};
