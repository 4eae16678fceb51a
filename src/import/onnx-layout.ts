/**
 * ONNX layout ops and reductions on activations → IR nodes: Transpose, Slice, Split, Squeeze,
 * Unsqueeze, Flatten at any axis, ReduceMean/ReduceSum/ReduceMax over per-sample axes (global pooling),
 * GlobalMaxPool. On shape values (Shape's outputs) Slice/Squeeze/Unsqueeze/Gather are evaluated
 * by onnx-shape.ts instead. Relevance moves by index through all of these (exact gradients).
 */
import { ModelFormatError, ShapeError, UnsupportedError } from '../errors.js';
import { size } from '../graph/shapes.js';
import { act, name, sameShape, tracked, type ActValue, type OnnxContext, type OnnxNode, type OpHandler } from './onnx-context.js';
import {
  axisStr, batchIndex, holdsBatch, irAxisOf, irShape, isBatchAxis, layoutStr, onnxAxes, regroup, transposeAxes, withAxes, type OnnxAxis, type TargetAxis,
} from './onnx-batch.js';
import { shapeStr } from './geometry.js';
import { constNumbers } from './onnx-tensor.js';
import { SHAPE_OPS } from './onnx-shape.js';
import { run1d } from './onnx-conv1d.js';

/** Integers from an attribute (older opsets) or a constant input (newer ones); undefined if absent. */
function intsArg(n: OnnxNode, ctx: OnnxContext, attr: string, input: number, inputSince: number): number[] | undefined {
  if (ctx.opset < inputSince || !ctx.input(n, input)) return n.attrs.ints(attr);
  const v = ctx.input(n, input)!;
  if (v.kind !== 'const') throw new UnsupportedError(`${n.where}: ${attr} must be a constant`);
  return constNumbers(v.t, `${attr} of ${n.where}`);
}

/**
 * ONNX axis → per-sample (IR) axis, through the batch layout (onnx-batch.ts); an axis that holds
 * the batch is refused.
 */
function sampleAxis(n: OnnxNode, ctx: OnnxContext, axis: number, x: ActValue, what: string): number {
  const axes = onnxAxes(x);
  const full = axes.length;
  const a = axis < 0 ? axis + full : axis;
  if (!Number.isInteger(a) || a < 0 || a >= full) throw new ModelFormatError(`${n.where}: ${what} ${axis} is out of range for rank ${full}`);
  if (isBatchAxis(axes[a]) && (holdsBatch(axes[a], ctx.staticBatch) || irAxisOf(axes, a) === null)) {
    if (!x.batch) throw new UnsupportedError(`${n.where}: ${what} ${axis} is the batch axis, which must stay as it is`);
    throw new UnsupportedError(`${n.where}: ${what} ${axis} of ${layoutStr(axes)} holds the batch N (moved by ${x.batch.movedBy}), which must stay as it is`);
  }
  return irAxisOf(axes, a)!;
}

/** Handle activations here, shape values / constants in onnx-shape.ts. */
function onActivation(handler: OpHandler, shapeHandler: OpHandler | undefined): OpHandler {
  return (n, ctx) => {
    const v = ctx.input(n, 0);
    if (v && (v.kind === 'act' || v.kind === 'pad')) handler(n, ctx);
    else if (shapeHandler) shapeHandler(n, ctx);
    else throw new UnsupportedError(`${n.where}: ${n.op} of a constant is not supported`);
  };
}

/** A view of `x` with the ONNX axes `axes` (no IR node when the per-sample shape stays). */
function reshapeTo(n: OnnxNode, ctx: OnnxContext, x: ActValue, axes: OnnxAxis[]): void {
  const shape = irShape(axes);
  if (shape.length === 0) throw new UnsupportedError(`${n.where}: the result ${layoutStr(axes)} leaves a scalar per sample, which is not supported`);
  const movedBy = x.batch?.movedBy ?? n.name;
  if (sameShape(shape, x.shape)) {
    ctx.setOutput(n, 0, withAxes(x.node, axes, movedBy));
    return;
  }
  const node =
    shape.length === 1
      ? ctx.b.add({ op: 'flatten', name: name(n, ctx), inputs: [x.node], source: n.name })
      : ctx.b.add({ op: 'reshape', name: name(n, ctx), inputs: [x.node], source: n.name, shape });
  ctx.setOutput(n, 0, withAxes(node.name, axes, movedBy));
}

/** Transpose: a permutation of the ONNX axes is one of the per-sample axes, wherever the batch goes (onnx-batch.ts). */
const transpose: OpHandler = (n, ctx) => {
  const x = tracked(n, ctx);
  const axes = onnxAxes(x);
  const full = axes.length;
  const perm = n.attrs.ints('perm') ?? Array.from({ length: full }, (_, i) => full - 1 - i);
  if (perm.length !== full || [...perm].sort((a, b) => a - b).some((v, i) => v !== i)) {
    throw new ShapeError(`${n.where}: perm ${shapeStr(perm)} is not a permutation of the ${full} axes of ${layoutStr(axes)}`);
  }
  const t = transposeAxes(axes, perm);
  const movedBy = x.batch?.movedBy ?? n.name;
  if (!t.irPerm) {
    ctx.setOutput(n, 0, withAxes(x.node, t.axes, movedBy));
    return;
  }
  const node = ctx.b.add({ op: 'transpose', name: name(n, ctx), inputs: [x.node], source: n.name, perm: t.irPerm });
  ctx.setOutput(n, 0, withAxes(node.name, t.axes, movedBy));
};

/** Clamped start/end of ONNX Slice for a positive step. */
function bounds(len: number, start: number, end: number): [number, number] {
  const norm = (v: number) => Math.min(Math.max(v < 0 ? v + len : v, 0), len);
  return [norm(start), norm(end)];
}

/** One slice node per sliced axis (a chain), none for an axis sliced whole. */
function sliceChain(n: OnnxNode, ctx: OnnxContext, x: ActValue, cuts: Array<{ axis: number; start: number; end: number; step: number }>, suffix = ''): ActValue {
  let cur = x;
  for (const c of cuts) {
    const len = cur.shape[c.axis];
    if (c.start === 0 && c.end === len && c.step === 1) continue;
    if (c.start >= c.end) throw new UnsupportedError(`${n.where}: the slice ${c.start}:${c.end} of per-sample axis ${c.axis} is empty`);
    const node = ctx.b.add({ op: 'slice', name: ctx.b.unique(`${n.name}${suffix}`), inputs: [cur.node], source: n.name, ...c });
    cur = resized(cur, node.name, c.axis, Math.ceil((c.end - c.start) / c.step));
  }
  return cur;
}

/** `x` with per-sample axis `irAxis` given a new length (its ONNX axis holds no batch). */
export function resized(x: ActValue, node: string, irAxis: number, len: number): ActValue {
  const axes = onnxAxes(x);
  const at = axes.findIndex((_, a) => irAxisOf(axes, a) === irAxis);
  axes[at] = len;
  return withAxes(node, axes, x.batch?.movedBy ?? '');
}

const slice: OpHandler = (n, ctx) => {
  const x = tracked(n, ctx);
  const starts = intsArg(n, ctx, 'starts', 1, 10);
  const ends = intsArg(n, ctx, 'ends', 2, 10);
  if (!starts || !ends || starts.length !== ends.length) throw new ModelFormatError(`${n.where}: missing or mismatched starts/ends`);
  const axes = intsArg(n, ctx, 'axes', 3, 10) ?? starts.map((_, i) => i);
  const steps = (ctx.opset >= 10 ? intsArg(n, ctx, 'steps', 4, 10) : undefined) ?? starts.map(() => 1);
  if (axes.length !== starts.length || steps.length !== starts.length) throw new ModelFormatError(`${n.where}: starts, ends, axes and steps differ in length`);
  const layout = onnxAxes(x);
  const cuts = axes.map((axis, i) => {
    const full = layout.length;
    const a = axis < 0 ? axis + full : axis;
    if (a >= 0 && a < full && isBatchAxis(layout[a]) && (holdsBatch(layout[a], ctx.staticBatch) || irAxisOf(layout, a) === null)) {
      if (starts[i] === 0 && ends[i] >= 2 ** 31 - 1 && steps[i] === 1) return null; // the whole batch
      throw new UnsupportedError(`${n.where}: slicing the batch axis is not supported`);
    }
    const ax = sampleAxis(n, ctx, axis, x, 'axis');
    if (steps[i] < 1) throw new UnsupportedError(`${n.where}: step ${steps[i]} is not supported (only positive steps)`);
    const [s, e] = bounds(x.shape[ax], starts[i], ends[i]);
    return { axis: ax, start: s, end: e, step: steps[i] };
  }).filter((c): c is NonNullable<typeof c> => c !== null);
  ctx.setOutput(n, 0, sliceChain(n, ctx, x, cuts));
};

const split: OpHandler = (n, ctx) => {
  const x = tracked(n, ctx);
  const outputs = (n.proto.output ?? []).length;
  const ax = sampleAxis(n, ctx, n.attrs.int('axis', 0), x, 'axis');
  const len = x.shape[ax];
  let sizes = intsArg(n, ctx, 'split', 1, 13);
  if (!sizes || sizes.length === 0) {
    const parts = n.attrs.int('num_outputs', outputs);
    const chunk = Math.ceil(len / parts);
    sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(chunk, len - i * chunk)));
  }
  if (sizes.length !== outputs || sizes.reduce((a, b) => a + b, 0) !== len || sizes.some((v) => v < 1))
    throw new ModelFormatError(`${n.where}: split ${shapeStr(sizes)} does not divide axis ${n.attrs.int('axis', 0)} of length ${len} into ${outputs} parts`);
  let at = 0;
  sizes.forEach((sz, i) => {
    ctx.setOutput(n, i, sliceChain(n, ctx, x, [{ axis: ax, start: at, end: at + sz, step: 1 }], `_${i}`));
    at += sz;
  });
};

const squeeze: OpHandler = (n, ctx) => {
  const x = tracked(n, ctx);
  const layout = onnxAxes(x);
  const full = layout.length;
  const given = intsArg(n, ctx, 'axes', 1, 13);
  const picked = given ?? layout.map((d, i) => (d === 1 ? i : -1)).filter((a) => a >= 0);
  const drop = new Set(picked.map((a) => (a < 0 ? a + full : a)));
  for (const a of drop) {
    if (a < 0 || a >= full) throw new ModelFormatError(`${n.where}: axis ${a} is out of range for rank ${full}`);
    const d = layout[a];
    if (isBatchAxis(d)) sampleAxis(n, ctx, a, x, 'axis'); // throws: the batch axis stays
    if (d !== 1) throw new ShapeError(`${n.where}: cannot squeeze axis ${a} of length ${axisStr(d)}`);
  }
  reshapeTo(n, ctx, x, layout.filter((_, i) => !drop.has(i)));
};

const unsqueeze: OpHandler = (n, ctx) => {
  const x = tracked(n, ctx);
  const layout = onnxAxes(x);
  const axes = intsArg(n, ctx, 'axes', 1, 13);
  if (!axes) throw new ModelFormatError(`${n.where}: missing axes`);
  const rank = layout.length + axes.length;
  const norm = axes.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
  if (norm.some((a) => a < 0 || a >= rank)) throw new ModelFormatError(`${n.where}: axes ${shapeStr(axes)} out of range for rank ${rank}`);
  if (!x.batch && norm.includes(0)) throw new UnsupportedError(`${n.where}: inserting an axis before the batch axis is not supported`);
  const out = layout.slice();
  for (const a of norm) out.splice(a, 0, 1);
  reshapeTo(n, ctx, x, out);
};

/** Flatten at any axis: two ONNX axes, the batch merged into one of them (onnx-batch.ts). */
const flatten: OpHandler = (n, ctx) => {
  const x = tracked(n, ctx);
  const layout = onnxAxes(x);
  const full = layout.length;
  const axis = n.attrs.int('axis', 1);
  const ax = axis < 0 ? axis + full : axis;
  if (ax < 0 || ax > full) throw new ModelFormatError(`${n.where}: axis ${axis} is out of range for rank ${full}`);
  const b = batchIndex(layout);
  const lens = (part: OnnxAxis[]) => size(part.map((d) => (isBatchAxis(d) ? d.pre * d.post : d)));
  const target: TargetAxis[] = [
    { k: lens(layout.slice(0, ax)), batch: b < ax },
    { k: lens(layout.slice(ax)), batch: b >= ax },
  ];
  const out = regroup(layout, target, null);
  if (typeof out === 'string') throw new UnsupportedError(`${n.where}: Flatten at axis ${axis} of ${layoutStr(layout)}: ${out}`);
  reshapeTo(n, ctx, x, out);
};

/**
 * ReduceMean / ReduceSum / ReduceMax over per-sample axes: global pooling. Over the spatial axes
 * of [N, C, H, W] it is one globalavgpool / avgpool (divisor 1) / maxpool node; over any other
 * axes (the time axis of [N, C, L], the tokens of [N, T, D]) the reduced axes are moved last
 * (a transpose, if needed), the tensor is viewed as [kept, 1, reduced] and pooled the same way.
 */
function reduce(kind: 'mean' | 'sum' | 'max'): OpHandler {
  const opName = { mean: 'ReduceMean', sum: 'ReduceSum', max: 'ReduceMax' }[kind];
  return (n, ctx) => {
    const x = act(n, ctx);
    const sinceInput = kind === 'sum' ? 13 : 18;
    const axes = intsArg(n, ctx, 'axes', 1, sinceInput);
    const keep = n.attrs.int('keepdims', 1) !== 0;
    if (!axes || axes.length === 0) {
      throw new UnsupportedError(`${n.where}: ${opName} over all axes (no axes given) is not supported (it would reduce the batch)`);
    }
    const picked = [...new Set(axes.map((a) => sampleAxis(n, ctx, a, x, 'axis')))].sort((a, b) => a - b);
    const rank = x.shape.length;
    const kept = x.shape.map((_, i) => i).filter((i) => !picked.includes(i));
    if (kept.length === 0 && !keep) {
      throw new UnsupportedError(`${n.where}: ${opName} over every axis of per-sample shape ${shapeStr(x.shape)} leaves a scalar per sample, which is not supported`);
    }
    const keptLen = size(kept.map((i) => x.shape[i]));
    const len = size(picked.map((i) => x.shape[i]));
    // [kept..., reduced...] as [C, H, W] for the 2-D pooling ops
    let src = x;
    const spatial = rank === 3 && picked.length === 2 && picked[0] === 1 && picked[1] === 2;
    let window: [number, number] = [x.shape[1], x.shape[2]];
    if (!spatial) {
      const perm = [...kept, ...picked];
      if (perm.some((a, i) => a !== i)) {
        const t = ctx.b.add({ op: 'transpose', name: ctx.b.unique(`${n.name}_last`), inputs: [src.node], source: n.name, perm });
        src = { kind: 'act', node: t.name, shape: perm.map((a) => x.shape[a]) };
      }
      const v = ctx.b.add({ op: 'reshape', name: ctx.b.unique(`${n.name}_2d`), inputs: [src.node], source: n.name, shape: [keptLen, 1, len] });
      src = { kind: 'act', node: v.name, shape: [keptLen, 1, len] };
      window = [1, len];
    }
    const pooled = ctx.b.unique(spatial ? n.name : `${n.name}_pool`);
    const common = { name: pooled, inputs: [src.node], source: n.name, kernel: window, padding: [0, 0, 0, 0] as [number, number, number, number], ceilMode: false };
    if (kind === 'mean') ctx.b.add({ op: 'globalavgpool', name: pooled, inputs: [src.node], source: n.name });
    else if (kind === 'sum') ctx.b.add({ op: 'avgpool2d', ...common, stride: [1, 1], countIncludePad: false, divisorOverride: 1 });
    else ctx.b.add({ op: 'maxpool2d', ...common, stride: window, dilation: [1, 1] });
    const c = spatial ? x.shape[0] : keptLen;
    const out = keep ? x.shape.map((d, i) => (picked.includes(i) ? 1 : d)) : kept.map((i) => x.shape[i]);
    if (spatial && keep) {
      ctx.setOutput(n, 0, { kind: 'act', node: pooled, shape: [c, 1, 1] });
      return;
    }
    const view =
      out.length === 1
        ? ctx.b.add({ op: 'flatten', name: ctx.b.unique(spatial ? `${n.name}_flatten` : n.name), inputs: [pooled], source: n.name })
        : ctx.b.add({ op: 'reshape', name: ctx.b.unique(n.name), inputs: [pooled], source: n.name, shape: out });
    ctx.setOutput(n, 0, { kind: 'act', node: view.name, shape: out });
  };
}

const globalMaxPool: OpHandler = (n, ctx) => {
  const x = act(n, ctx);
  if (x.shape.length === 2) return run1d(n, ctx, globalMaxPool);
  if (x.shape.length !== 3) throw new ShapeError(`${n.where}: expects [N, C, H, W], got per-sample shape ${shapeStr(x.shape)}`);
  const [c, h, w] = x.shape;
  const node = ctx.b.add({
    op: 'maxpool2d', name: name(n, ctx), inputs: [x.node], source: n.name,
    kernel: [h, w], stride: [h, w], padding: [0, 0, 0, 0], dilation: [1, 1], ceilMode: false,
  });
  ctx.setOutput(n, 0, { kind: 'act', node: node.name, shape: [c, 1, 1] });
};

/**
 * Resize / Upsample in nearest mode by integer factors on H and W (nn.Upsample(scale_factor=k)):
 * with 'asymmetric' + floor, or half-pixel coordinates (which pick the same pixels for integer
 * factors), output pixel (h, w) reads input (⌊h/k⌋, ⌊w/k⌋).
 */
const resize: OpHandler = (n, ctx) => {
  const x = act(n, ctx);
  if (x.shape.length !== 3) throw new ShapeError(`${n.where}: expects [N, C, H, W], got per-sample shape ${shapeStr(x.shape)}`);
  const mode = n.attrs.string('mode', 'nearest');
  if (mode !== 'nearest') throw new UnsupportedError(`${n.where}: mode '${mode}' is not supported (only nearest, integer factors)`);
  const coord = n.attrs.string('coordinate_transformation_mode', n.op === 'Upsample' ? 'asymmetric' : 'half_pixel');
  const rounding = n.attrs.string('nearest_mode', n.op === 'Upsample' ? 'floor' : 'round_prefer_floor');
  const ok = (coord === 'asymmetric' && rounding === 'floor') || coord === 'half_pixel' || coord === 'pytorch_half_pixel';
  if (!ok) throw new UnsupportedError(`${n.where}: coordinate_transformation_mode '${coord}' with nearest_mode '${rounding}' is not supported`);
  let scales: number[] | undefined;
  const scaleInput = n.op === 'Upsample' ? 1 : ctx.opset >= 11 ? 2 : 1;
  const sv = ctx.input(n, scaleInput);
  if (sv?.kind === 'const' && sv.t.dims.reduce((a, b) => a * b, 1) > 0) scales = constNumbers(sv.t, `scales of ${n.where}`);
  else if (n.op === 'Upsample' && n.attrs.has('scales')) scales = n.attrs.floats('scales') ?? undefined;
  const sizes = n.op === 'Resize' && ctx.opset >= 11 ? ctx.input(n, 3) : undefined;
  if (!scales && sizes?.kind === 'const') {
    const want = constNumbers(sizes.t, `sizes of ${n.where}`);
    scales = want.map((d, i) => d / (i === 0 ? 1 : x.shape[i - 1]));
    scales[0] = 1;
  }
  if (!scales || scales.length !== 4) throw new UnsupportedError(`${n.where}: needs constant scales or sizes for [N, C, H, W]`);
  const [sn, sc, sh, sw] = scales;
  if (sn !== 1 || sc !== 1 || !Number.isInteger(sh) || !Number.isInteger(sw) || sh < 1 || sw < 1)
    throw new UnsupportedError(`${n.where}: scales ${shapeStr(scales)} are not supported (only integer factors on H and W)`);
  const node = ctx.b.add({ op: 'upsample', name: name(n, ctx), inputs: [x.node], source: n.name, scale: [sh, sw] });
  ctx.setOutput(n, 0, { kind: 'act', node: node.name, shape: [x.shape[0], x.shape[1] * sh, x.shape[2] * sw] });
};

/** Handlers by ONNX op type (Slice/Squeeze/Unsqueeze also serve shape values). */
export const ONNX_LAYOUT_OPS: Readonly<Record<string, OpHandler>> = {
  Transpose: transpose,
  Slice: onActivation(slice, SHAPE_OPS.Slice),
  Split: split,
  Squeeze: onActivation(squeeze, SHAPE_OPS.Squeeze),
  Unsqueeze: onActivation(unsqueeze, SHAPE_OPS.Unsqueeze),
  Flatten: flatten,
  ReduceMean: reduce('mean'),
  ReduceSum: reduce('sum'),
  ReduceMax: reduce('max'),
  GlobalMaxPool: globalMaxPool,
  Resize: resize,
  Upsample: resize,
};
