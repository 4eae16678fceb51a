/**
 * Translation of single ONNX nodes into IR nodes. Each handler reads its inputs from the
 * context (activations with per-sample shapes, constants, a pending zero Pad, or a shape value
 * whose batch size is symbolic, see onnx-shape.ts), validates
 * shapes, appends IR nodes and records its outputs. Shapes are per sample (no batch axis).
 */
import { ModelFormatError, ShapeError, UnsupportedError } from '../errors.js';
import type { Conv2dNode, DenseNode, Pads4, Pair, Shape } from '../graph/ir.js';
import { product, samePadding, shapeStr, windowOutput } from './geometry.js';
import {
  constFloats,
  constFromValues,
  constNumbers,
  constSize,
  DT,
  dtypeName,
  type ConstTensor,
} from './onnx-tensor.js';
import {
  castConstant, constReshape, dimsStr, isBatchDim, reshapeTarget, SHAPE_OPS, shapeArithmetic, shapeConcat, shapeNotSupported, type Dim,
} from './onnx-shape.js';
import {
  batchLeads, batchMoved, holdsBatch, isBatchAxis, irShape, layoutStr, onnxAxes, regroup, resizeAxis, sameAxes, sameLayout, withAxes, type TargetAxis,
} from './onnx-batch.js';

import { gatingMul, ONNX_ELEMENTWISE_OPS } from './onnx-elementwise.js';
import { ONNX_LAYOUT_OPS } from './onnx-layout.js';
import { fullConstantAdd, ONNX_TOKEN_OPS, perSampleConstant } from './onnx-tokens.js';
import { activationMatMul, ONNX_TRANSFORMER_OPS } from './onnx-transformer.js';
import { run1d } from './onnx-conv1d.js';
export type { ActValue, PadValue, ConstValue, Value, OnnxNode, OnnxContext, OpHandler } from './onnx-context.js';
import {
  act, actOrPad, constant, extraOutputsUnused, name, optionalConstant, pair, padNotMerged, rank3, required, sameShape, tracked,
  type ActValue, type ConstValue, type OnnxContext, type OnnxNode, type OpHandler, type PadValue, type Value,
} from './onnx-context.js';

// ---- window geometry (Conv, MaxPool, AveragePool) ---------------------------------------

interface Window {
  kernel: Pair;
  stride: Pair;
  dilation: Pair;
  /** Padding from the node's own attributes (pads or auto_pad), [top, left, bottom, right]. */
  own: Pads4;
  /** Padding merged from a preceding Pad. */
  merged: Pads4;
  ceilMode: boolean;
  out: [number, number];
}

function windowOf(n: OnnxNode, x: ActValue, pad: PadValue | null, kernel: Pair, ceilMode: boolean): Window {
  const [, h, w] = rank3(n, x);
  const a = n.attrs;
  const stride = pair(n, a.ints('strides', [1, 1]), 'strides');
  const dilation = pair(n, a.ints('dilations', [1, 1]), 'dilations');
  const merged: Pads4 = pad ? pad.pads : [0, 0, 0, 0];
  const ph = h + merged[0] + merged[2];
  const pw = w + merged[1] + merged[3];
  const autoPad = a.string('auto_pad', 'NOTSET');
  let own: Pads4;
  switch (autoPad) {
    case 'NOTSET':
    case '': {
      const p = a.ints('pads', [0, 0, 0, 0]);
      if (p.length !== 4) throw new UnsupportedError(`${n.where}: pads ${shapeStr(p)} must have 4 entries (2-D)`);
      if (p.some((v) => v < 0)) throw new UnsupportedError(`${n.where}: negative pads ${shapeStr(p)} are not supported`);
      own = [p[0], p[1], p[2], p[3]];
      break;
    }
    case 'VALID':
      own = [0, 0, 0, 0];
      break;
    case 'SAME_UPPER':
    case 'SAME_LOWER': {
      const lower = autoPad === 'SAME_LOWER';
      const [t, b] = samePadding(ph, kernel[0], stride[0], dilation[0], lower);
      const [l, r] = samePadding(pw, kernel[1], stride[1], dilation[1], lower);
      own = [t, l, b, r];
      break;
    }
    default:
      throw new UnsupportedError(`${n.where}: auto_pad '${autoPad}' is not supported`);
  }
  const oh = windowOutput(ph, kernel[0], stride[0], dilation[0], own[0], own[2], ceilMode, n.where);
  const ow = windowOutput(pw, kernel[1], stride[1], dilation[1], own[1], own[3], ceilMode, n.where);
  return { kernel, stride, dilation, own, merged, ceilMode, out: [oh, ow] };
}

function addPads(a: Pads4, b: Pads4): Pads4 {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]];
}

function anyPad(p: Pads4): boolean {
  return p.some((v) => v !== 0);
}

function mergedNote(ctx: OnnxContext, pad: PadValue | null, into: string): void {
  if (pad) ctx.notes.push(`ONNX Pad '${pad.from}' merged into the padding of '${into}'`);
}

// ---- linear ops --------------------------------------------------------------------------

const conv: OpHandler = (n, ctx) => {
  const wt = constant(n, ctx, 1, 'weight');
  if (wt.dims.length === 3 && ctx.input(n, 0)?.kind === 'act') return run1d(n, ctx, conv, wt); // Conv1d
  const { x, pad } = actOrPad(n, ctx);
  if (wt.dims.length !== 4) {
    throw new UnsupportedError(
      `${n.where}: weight '${wt.name}' has shape ${shapeStr(wt.dims)}; only 1-D and 2-D convolutions (3-D and 4-D weights) are supported`,
    );
  }
  const [c] = rank3(n, x);
  const [m, cg, kh, kw] = wt.dims;
  const group = n.attrs.int('group', 1);
  if (group < 1 || c % group !== 0 || m % group !== 0 || c / group !== cg) {
    throw new ShapeError(
      `${n.where}: weight '${wt.name}' ${shapeStr(wt.dims)} with group ${group} does not fit an input with ${c} channels ` +
        `(expects ${c / group} input channels per group)`,
    );
  }
  const ks = n.attrs.ints('kernel_shape');
  if (ks && (ks.length !== 2 || ks[0] !== kh || ks[1] !== kw)) {
    throw new ShapeError(`${n.where}: kernel_shape ${shapeStr(ks)} does not match weight ${shapeStr(wt.dims)}`);
  }
  const win = windowOf(n, x, pad, [kh, kw], false);
  const bt = optionalConstant(n, ctx, 2, 'bias');
  let bias: Float32Array | null = null;
  if (bt) {
    if (constSize(bt) !== m) {
      throw new ShapeError(`${n.where}: bias '${bt.name}' has shape ${shapeStr(bt.dims)}, expected [${m}]`);
    }
    bias = constFloats(bt, `bias of ${n.where}`);
  }
  const node = ctx.b.add<Conv2dNode>({
    op: 'conv2d',
    name: name(n, ctx),
    inputs: [x.node],
    source: n.name,
    inChannels: c,
    outChannels: m,
    kernel: [kh, kw],
    stride: win.stride,
    padding: addPads(win.own, win.merged),
    dilation: win.dilation,
    groups: group,
    weight: constFloats(wt, `weight of ${n.where}`),
    bias,
  });
  mergedNote(ctx, pad, node.name);
  const out = n.proto.output?.[0] ?? '';
  if (!bias) ctx.biasless.set(out, node);
  ctx.setOutput(n, 0, { kind: 'act', node: node.name, shape: [m, win.out[0], win.out[1]] });
};

/** [k, m] row-major -> [m, k] row-major. */
function transpose(src: Float32Array, k: number, m: number): Float32Array {
  const out = new Float32Array(k * m);
  for (let i = 0; i < k; i++) for (let j = 0; j < m; j++) out[j * k + i] = src[i * m + j];
  return out;
}

/** A bias of length m from a constant that broadcasts over [N, m]: shape [], [1], [m] or [1, m]. */
function rowBias(n: OnnxNode, t: ConstTensor, m: number, role: string): Float32Array {
  const dims = t.dims;
  const size = constSize(t);
  const lastOk = dims.length === 0 || dims[dims.length - 1] === 1 || dims[dims.length - 1] === m;
  const leadingOnes = dims.slice(0, -1).every((d) => d === 1);
  if (!lastOk || !leadingOnes || (size !== 1 && size !== m)) {
    throw new UnsupportedError(
      `${n.where}: ${role} '${t.name}' has shape ${shapeStr(dims)}; only a per-feature bias ([${m}] or [1, ${m}]) is supported`,
    );
  }
  const v = constFloats(t, `${role} of ${n.where}`);
  return size === m ? v : new Float32Array(m).fill(v[0]);
}

/**
 * The input of a Gemm / MatMul with a constant weight: any activation whose last ONNX axis (the
 * features) holds no batch; the IR dense acts on the last per-sample axis, rows = the rest.
 */
function featuresInput(n: OnnxNode, ctx: OnnxContext, x: ActValue, onnxRank: number | null): number {
  const axes = onnxAxes(x);
  if (onnxRank !== null && axes.length !== onnxRank) {
    throw new ShapeError(`${n.where}: expects a ${onnxRank}-D input [rows, features], got ${layoutStr(axes)} (N = batch size)`);
  }
  const last = axes[axes.length - 1];
  if (axes.length < 2 || holdsBatch(last, ctx.staticBatch)) {
    throw new UnsupportedError(`${n.where}: the input ${layoutStr(axes)} (N = batch size) has the batch in its feature axis`);
  }
  return isBatchAxis(last) ? last.pre * last.post : last;
}

/** The output of a dense over the last axis of `x`: the same layout with `m` features. */
function denseOutput(x: ActValue, node: string, m: number): ActValue {
  const axes = onnxAxes(x);
  return withAxes(node, resizeAxis(axes, axes.length - 1, m), x.batch?.movedBy ?? '');
}

const gemm: OpHandler = (n, ctx) => {
  if (n.attrs.int('transA', 0) !== 0) {
    throw new UnsupportedError(`${n.where}: transA=1 is not supported (the batch must be the first axis of A)`);
  }
  const x = tracked(n, ctx, 0, 'A');
  const k = featuresInput(n, ctx, x, 2);
  const bt = constant(n, ctx, 1, 'weight B');
  if (bt.dims.length !== 2) throw new ShapeError(`${n.where}: B '${bt.name}' has shape ${shapeStr(bt.dims)}, expected 2-D`);
  const transB = n.attrs.int('transB', 0) !== 0;
  const [bk, m] = transB ? [bt.dims[1], bt.dims[0]] : [bt.dims[0], bt.dims[1]];
  if (bk !== k) {
    throw new ShapeError(
      `${n.where}: B '${bt.name}' ${shapeStr(bt.dims)}${transB ? ' (transB=1)' : ''} expects ${bk} input features, the input has ${k}`,
    );
  }
  const raw = constFloats(bt, `weight of ${n.where}`);
  const weight = transB ? raw : transpose(raw, k, m);
  const alpha = n.attrs.float('alpha', 1);
  if (alpha !== 1) for (let i = 0; i < weight.length; i++) weight[i] *= alpha;
  const ct = optionalConstant(n, ctx, 2, 'bias C');
  const beta = n.attrs.float('beta', 1);
  let bias: Float32Array | null = null;
  if (ct && beta !== 0) {
    bias = rowBias(n, ct, m, 'C');
    if (beta !== 1) for (let i = 0; i < m; i++) bias[i] *= beta;
  }
  const node = ctx.b.add<DenseNode>({
    op: 'dense',
    name: name(n, ctx),
    inputs: [x.node],
    source: n.name,
    inFeatures: k,
    outFeatures: m,
    weight,
    bias,
  });
  if (!bias) ctx.biasless.set(n.proto.output?.[0] ?? '', node);
  ctx.setOutput(n, 0, denseOutput(x, node.name, m));
};

/** MatMul: an activation times a constant [K, M] is a dense over the last axis; two activations: matmul (onnx-transformer.ts). */
const matmul: OpHandler = (n, ctx) => {
  const a = ctx.input(n, 0);
  if (a?.kind === 'const') {
    throw new UnsupportedError(`${n.where}: a constant left operand is not supported (expected x · W with W constant)`);
  }
  const b = ctx.input(n, 1);
  if (b?.kind === 'act') {
    activationMatMul(n, ctx);
    return;
  }
  const x = tracked(n, ctx, 0, 'A');
  const k = featuresInput(n, ctx, x, null);
  const bt = constant(n, ctx, 1, 'weight B');
  if (bt.dims.length !== 2 || bt.dims[0] !== k) {
    throw new ShapeError(`${n.where}: B '${bt.name}' has shape ${shapeStr(bt.dims)}, expected [${k}, out]`);
  }
  const m = bt.dims[1];
  const node = ctx.b.add<DenseNode>({
    op: 'dense',
    name: name(n, ctx),
    inputs: [x.node],
    source: n.name,
    inFeatures: k,
    outFeatures: m,
    weight: transpose(constFloats(bt, `weight of ${n.where}`), k, m),
    bias: null,
  });
  ctx.biasless.set(n.proto.output?.[0] ?? '', node);
  ctx.setOutput(n, 0, denseOutput(x, node.name, m));
};

/** A per-channel conv bias from a constant broadcasting over [N, C, H, W]: [C,1,1], [1,C,1,1], [C] not allowed. */
function channelBias(n: OnnxNode, t: ConstTensor, c: number): Float32Array | null {
  const d = t.dims;
  const core = d.length === 4 && d[0] === 1 ? d.slice(1) : d;
  if (core.length === 3 && core[1] === 1 && core[2] === 1 && (core[0] === c || core[0] === 1)) {
    const v = constFloats(t, `bias of ${n.where}`);
    return core[0] === c ? v : new Float32Array(c).fill(v[0]);
  }
  if (d.length === 0 || (d.length <= 4 && constSize(t) === 1)) {
    return new Float32Array(c).fill(constFloats(t, `bias of ${n.where}`)[0]);
  }
  return null;
}

/**
 * A constant that broadcasts over an activation of per-sample shape `x` as one value or one value
 * per channel (axis 0 of the per-sample shape, axis 1 of the full tensor): [], [1], [C, 1, 1],
 * [1, C, 1, 1], [C] for [N, C]… Returns null for any other broadcast.
 */
function channelConstant(n: OnnxNode, t: ConstTensor, x: Shape, role: string): Float32Array | null {
  const full = x.length + 1;
  if (t.dims.length > full) return null;
  const d = [...new Array<number>(full - t.dims.length).fill(1), ...t.dims];
  if (d[0] !== 1 || d.slice(2).some((v) => v !== 1)) return null;
  if (d[1] !== 1 && d[1] !== x[0]) return null;
  const v = constFloats(t, `${role} of ${n.where}`);
  for (let i = 0; i < v.length; i++)
    if (!Number.isFinite(v[i])) throw new ModelFormatError(`${n.where}: the constant '${t.name}' holds ${v[i]} at index ${i}`);
  return v;
}

type Arith = 'Add' | 'Sub' | 'Mul' | 'Div';

/**
 * Add, Sub, Mul, Div. On shape values and integer constants: shape arithmetic. Two activations:
 * a residual Add, or a gating Mul (ops/mul.ts). An activation and a constant: a bias folded into
 * the MatMul/Gemm/Conv right before, or a constant affine node (per channel or scalar).
 */
function arithmetic(op: Arith): OpHandler {
  return (n, ctx) => {
    const a = required(n, ctx, 0, 'input A');
    const b = required(n, ctx, 1, 'input B');
    for (const v of [a, b]) if (v.kind === 'pad') throw padNotMerged(n, v);
    const isData = (v: Value) => v.kind === 'act';
    if (!isData(a) && !isData(b)) {
      if (a.kind === 'const' && b.kind === 'const' && a.t.dataType === DT.FLOAT && b.t.dataType === DT.FLOAT)
        throw new UnsupportedError(`${n.where}: ${op} of two float constants (constant folding) is not supported; export with do_constant_folding=True`);
      shapeArithmetic(n, ctx, op);
      return;
    }
    for (const v of [a, b]) if (v.kind === 'shape') throw shapeNotSupported(n, v);
    if (a.kind === 'act' && b.kind === 'act') {
      if (a.batch || b.batch) {
        if (!sameAxes(onnxAxes(a), onnxAxes(b))) {
          throw new UnsupportedError(
            `${n.where}: ${op} of activations with the ONNX layouts ${layoutStr(onnxAxes(a))} and ${layoutStr(onnxAxes(b))} (N = batch size) is not supported`,
          );
        }
      }
      if (op === 'Add') return residualAdd(n, ctx, a, b);
      if (op === 'Mul') return gatingMul(n, ctx, a, b);
      throw new UnsupportedError(`${n.where}: ${op} of two activations is not supported`);
    }
    const xFirst = a.kind === 'act';
    const x = (xFirst ? a : b) as ActValue;
    const t = ((xFirst ? b : a) as ConstValue).t;
    if (op === 'Add' && foldBias(n, ctx, x, t, xFirst ? 0 : 1)) return;
    // Where the batch has moved, only a scalar broadcasts without knowing the axes.
    const c = x.batch ? (constSize(t) === 1 ? constFloats(t, `constant of ${n.where}`) : null) : channelConstant(n, t, x.shape, 'constant');
    if (!c) {
      if ((op === 'Add' || op === 'Sub') && fullConstantAdd(n, ctx, x, t, op, xFirst)) return;
      throw new UnsupportedError(
        `${n.where}: ${op} of the activation ${x.batch ? `${layoutStr(onnxAxes(x))} (N = batch size)` : shapeStr(x.shape)} and the constant '${t.name}' ${shapeStr(t.dims)} is only supported ` +
          `for a scalar or per-channel constant${x.batch ? '' : ' (Add and Sub: also a constant the same for every sample, as a position embedding)'}`,
      );
    }
    const len = c.length;
    let scale: Float32Array = new Float32Array(len).fill(1);
    let shift: Float32Array = new Float32Array(len);
    if (op === 'Add') shift = c;
    else if (op === 'Sub') {
      if (xFirst) shift = c.map((v) => -v);
      else {
        scale.fill(-1);
        shift = c;
      }
    } else if (op === 'Mul') scale = c;
    else {
      if (!xFirst) throw new UnsupportedError(`${n.where}: dividing a constant by an activation is not supported`);
      if (c.some((v) => v === 0)) throw new ModelFormatError(`${n.where}: division by the constant '${t.name}', which holds 0`);
      scale = c.map((v) => 1 / v);
    }
    const node = ctx.b.add({ op: 'affine', name: name(n, ctx), inputs: [x.node], source: n.name, scale, shift });
    ctx.setOutput(n, 0, sameLayout(x, node.name));
  };
}

function residualAdd(n: OnnxNode, ctx: OnnxContext, a: ActValue, b: ActValue): void {
  if (!sameShape(a.shape, b.shape)) {
    throw new UnsupportedError(
      `${n.where}: adding shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} needs broadcasting, which is not supported`,
    );
  }
  const node = ctx.b.add({ op: 'add', name: name(n, ctx), inputs: [a.node, b.node], source: n.name });
  ctx.setOutput(n, 0, sameLayout(a, node.name));
}

/** An Add of a constant right after a bias-less MatMul/Gemm/Conv (its only reader) becomes its bias. */
function foldBias(n: OnnxNode, ctx: OnnxContext, x: ActValue, t: ConstTensor, xi: number): boolean {
  const xTensor = n.proto.input?.[xi] ?? '';
  const lin = ctx.biasless.get(xTensor);
  const only = ctx.consumers(xTensor) === 1 && !ctx.isGraphOutput(xTensor);
  if (!lin || !only || lin.bias !== null) return false;
  let bias: Float32Array | null;
  try {
    bias = lin.op === 'dense' ? rowBias(n, t, lin.outFeatures, 'bias') : channelBias(n, t, lin.outChannels);
  } catch (e) {
    if (e instanceof UnsupportedError) return false;
    throw e;
  }
  if (!bias) return false;
  lin.bias = bias;
  lin.source = `${lin.source ?? lin.name} + ${n.name}`;
  ctx.biasless.delete(xTensor);
  ctx.setOutput(n, 0, x);
  return true;
}

// ---- element-wise and view ops --------------------------------------------------------------

const relu: OpHandler = (n, ctx) => {
  const x = tracked(n, ctx);
  const node = ctx.b.add({ op: 'relu', name: name(n, ctx), inputs: [x.node], source: n.name });
  ctx.setOutput(n, 0, sameLayout(x, node.name));
};

function passThrough(op: 'identity' | 'dropout'): OpHandler {
  return (n, ctx) => {
    if (op === 'dropout') extraOutputsUnused(n, ctx, 1, 'mask');
    const v = required(n, ctx, 0, 'input');
    if (v.kind === 'const' || v.kind === 'shape') {
      ctx.setOutput(n, 0, v);
      return;
    }
    if (v.kind === 'pad') throw padNotMerged(n, v);
    const node = ctx.b.add({ op, name: name(n, ctx), inputs: [v.node], source: n.name });
    ctx.setOutput(n, 0, sameLayout(v, node.name));
  };
}

/**
 * Reshape: a view that regroups the ONNX axes (onnx-batch.ts). The batch atom may be merged with
 * other axes (T·N, N·heads) but never split or moved; 0 copies an input axis, -1 is inferred, a
 * multiple of N comes from Shape arithmetic, and in a fixed-batch model literal lengths may
 * include the batch (found by grouping).
 */
const reshape: OpHandler = (n, ctx) => {
  const src = required(n, ctx, 0, 'data');
  if (src.kind === 'shape' || src.kind === 'const') {
    constReshape(n, ctx);
    return;
  }
  const x = tracked(n, ctx);
  let target: Dim[];
  if (ctx.opset < 5 || (n.attrs.has('shape') && !ctx.input(n, 1))) {
    target = n.attrs.ints('shape', []);
  } else {
    target = reshapeTarget(n, ctx, 1);
  }
  const axes = onnxAxes(x);
  const bad = (why: string) => new UnsupportedError(`${n.where}: reshape of ${layoutStr(axes)} to ${dimsStr(target)} ${why}`);
  if (n.attrs.int('allowzero', 0) !== 0 && target.includes(0)) throw bad('with allowzero=1 and a 0 entry is not supported');
  const fixed = ctx.staticBatch;
  const entries = target.map((d, i): TargetAxis | 'infer' => {
    if (isBatchDim(d)) return { k: d.k, batch: true };
    if (d === 0) {
      if (i >= axes.length) throw bad('copies (0) an axis the input does not have');
      const a = axes[i];
      return isBatchAxis(a) ? { k: a.pre * a.post, batch: true } : { k: a, batch: false };
    }
    if (d === -1) return 'infer';
    if (d < -1 || !Number.isInteger(d)) throw bad('has negative dimensions');
    return { k: d, batch: fixed === null ? false : null };
  });
  const known = entries.filter((e): e is TargetAxis => e !== 'infer');
  const inferred = entries.length - known.length;
  if (inferred > 1) throw bad('has more than one -1');
  if (known.filter((e) => e.batch === true).length > 1) throw bad('has the batch size N in more than one axis');
  const perSample = product(irShape(axes));
  const hasBatch = known.some((e) => e.batch === true);
  if (fixed === null) {
    const k = product(known.map((e) => e.k));
    if (inferred === 1) {
      if (k === 0 || perSample % k !== 0) throw bad(`cannot infer the -1 (size ${perSample} per sample)`);
      entries[entries.indexOf('infer')] = { k: perSample / k, batch: !hasBatch };
    } else if (k !== perSample) {
      throw bad(`changes the per-sample size (${perSample} to ${k})`);
    } else if (!hasBatch) {
      throw bad('leaves no axis for the batch size N (use 0, -1 or the batch size read from Shape for it)');
    }
  } else {
    // Lengths with the fixed batch counted in.
    const total = perSample * fixed;
    const full = product(known.map((e) => (e.batch === true ? e.k * fixed : e.k)));
    if (inferred === 1) {
      if (full === 0 || total % full !== 0) throw bad(`cannot infer the -1 (size ${total} with the batch of ${fixed})`);
      entries[entries.indexOf('infer')] = { k: total / full, batch: hasBatch ? false : null };
    } else if (full !== total) {
      throw bad(`changes the size (${total} with the batch of ${fixed}, to ${full})`);
    }
  }
  const out = regroup(axes, entries as TargetAxis[], fixed);
  if (typeof out === 'string') throw bad(`would split or move the batch: ${out}`);
  const shape = irShape(out);
  if (shape.length === 0) throw bad('leaves a scalar per sample, which is not supported');
  // A regrouping that leaves the per-sample tensor as it is needs no IR node (the common case
  // keeps its flatten / reshape node, as importers always made one).
  const same = sameShape(shape, x.shape) && !(x.batch === undefined && batchLeads(out));
  const nodeName = same ? x.node : name(n, ctx);
  if (!same) {
    if (shape.length === 1) ctx.b.add({ op: 'flatten', name: nodeName, inputs: [x.node], source: n.name });
    else ctx.b.add({ op: 'reshape', name: nodeName, inputs: [x.node], source: n.name, shape: shape.slice() });
  }
  ctx.setOutput(n, 0, withAxes(nodeName, out, x.batch && same ? x.batch.movedBy : n.name));
};

const concat: OpHandler = (n, ctx) => {
  const count = n.proto.input?.length ?? 0;
  if (count < 1) throw new ModelFormatError(`${n.where}: Concat has no inputs`);
  const kinds = Array.from({ length: count }, (_, i) => ctx.input(n, i)?.kind);
  const withData = kinds.some((k) => k === 'act' || k === 'pad');
  if (kinds.some((k) => k === 'shape') || !withData) {
    if (withData) throw new UnsupportedError(`${n.where}: Concat of activations with shape values is not supported`);
    shapeConcat(n, ctx); // shape arithmetic: Concat(Unsqueeze(Gather(Shape(x))), [-1])
    return;
  }
  if (!n.attrs.has('axis')) throw new ModelFormatError(`${n.where}: Concat needs an axis attribute`);
  const first = act(n, ctx, kinds.indexOf('act') >= 0 ? kinds.indexOf('act') : 0, 'input');
  const full = first.shape.length + 1;
  const axis = n.attrs.int('axis', 1);
  const ax = axis < 0 ? axis + full : axis;
  if (ax < 1 || ax >= full) {
    throw new UnsupportedError(`${n.where}: Concat along axis ${axis} (the batch axis or out of range) is not supported`);
  }
  const a = ax - 1;
  // A constant input (a class token) joins as a `constant` node, the same for every sample.
  const xs: ActValue[] = [];
  for (let i = 0; i < count; i++) {
    const v = required(n, ctx, i, `input ${i}`);
    if (v.kind !== 'const') {
      xs.push(act(n, ctx, i, `input ${i}`));
      continue;
    }
    const shape = first.shape.slice();
    shape[a] = v.t.dims.length === full ? v.t.dims[ax] : NaN;
    const c = Number.isNaN(shape[a]) ? null : perSampleConstant(n, ctx, v.t, shape, `input ${i}`);
    if (!c) {
      throw new UnsupportedError(
        `${n.where}: input ${i} is the constant '${v.t.name}' ${shapeStr(v.t.dims)}, which is not one value per sample that could join [N, ${shapeStr(first.shape).slice(1)} along axis ${axis}`,
      );
    }
    xs.push(c);
  }
  const out = xs[0].shape.slice();
  out[a] = 0;
  for (const x of xs) {
    if (x.shape.length !== out.length || x.shape.some((d, i) => i !== a && d !== out[i])) {
      throw new ShapeError(
        `${n.where}: cannot concatenate shapes ${xs.map((v) => shapeStr(v.shape)).join(', ')} along axis ${axis}`,
      );
    }
    out[a] += x.shape[a];
  }
  const node = ctx.b.add({ op: 'concat', name: name(n, ctx), inputs: xs.map((x) => x.node), source: n.name, axis: a });
  ctx.setOutput(n, 0, { kind: 'act', node: node.name, shape: out });
};

/** Cast: evaluated on shape values and constants; on activations only float → float. */
const cast: OpHandler = (n, ctx) => {
  if (castConstant(n, ctx)) return;
  const to = n.attrs.int('to', 0);
  if (to !== DT.FLOAT) {
    throw new UnsupportedError(`${n.where}: Cast of an activation to ${dtypeName(to)} is not supported (only to FLOAT)`);
  }
  passThrough('identity')(n, ctx);
};

// ---- pooling and normalisation --------------------------------------------------------------

function poolKernel(n: OnnxNode): Pair {
  const k = n.attrs.ints('kernel_shape');
  if (!k) throw new ModelFormatError(`${n.where}: missing kernel_shape`);
  return pair(n, k, 'kernel_shape');
}

/** A 1-D window (kernel_shape of one entry) on [N, C, L]: run as 2-D (onnx-conv1d.ts). */
const is1d = (n: OnnxNode, ctx: OnnxContext) => n.attrs.ints('kernel_shape')?.length === 1 && ctx.input(n, 0)?.kind === 'act';

const maxPool: OpHandler = (n, ctx) => {
  extraOutputsUnused(n, ctx, 1, 'Indices');
  if (is1d(n, ctx)) return run1d(n, ctx, maxPool);
  if (n.attrs.int('storage_order', 0) !== 0) {
    throw new UnsupportedError(`${n.where}: storage_order=1 is not supported`);
  }
  const { x, pad } = actOrPad(n, ctx);
  const [c] = rank3(n, x);
  const win = windowOf(n, x, pad, poolKernel(n), n.attrs.int('ceil_mode', 0) !== 0);
  // A Pad adds zeros, MaxPool's own padding is −∞: they agree only on non-negative inputs.
  if (pad && anyPad(win.merged) && !ctx.b.nonNegative(x.node)) {
    throw new UnsupportedError(
      `${n.where}: cannot merge the zero padding of Pad '${pad.from}' into MaxPool (its input may be negative)`,
    );
  }
  const node = ctx.b.add({
    op: 'maxpool2d',
    name: name(n, ctx),
    inputs: [x.node],
    source: n.name,
    kernel: win.kernel,
    stride: win.stride,
    padding: addPads(win.own, win.merged),
    dilation: win.dilation,
    ceilMode: win.ceilMode,
  });
  mergedNote(ctx, pad, node.name);
  ctx.setOutput(n, 0, { kind: 'act', node: node.name, shape: [c, win.out[0], win.out[1]] });
};

const averagePool: OpHandler = (n, ctx) => {
  if (is1d(n, ctx)) return run1d(n, ctx, averagePool);
  const { x, pad } = actOrPad(n, ctx);
  const [c] = rank3(n, x);
  const win = windowOf(n, x, pad, poolKernel(n), n.attrs.int('ceil_mode', 0) !== 0);
  if (win.dilation[0] !== 1 || win.dilation[1] !== 1) {
    throw new UnsupportedError(`${n.where}: AveragePool with dilations ${shapeStr(win.dilation)} is not supported`);
  }
  let countIncludePad = n.attrs.int('count_include_pad', 0) !== 0;
  if (pad && anyPad(win.merged)) {
    // The explicit zeros of a Pad are counted in every window: that is count_include_pad.
    if (anyPad(win.own) && !countIncludePad) {
      throw new UnsupportedError(
        `${n.where}: cannot merge Pad '${pad.from}' into an AveragePool with its own pads and count_include_pad=0`,
      );
    }
    countIncludePad = true;
  }
  const node = ctx.b.add({
    op: 'avgpool2d',
    name: name(n, ctx),
    inputs: [x.node],
    source: n.name,
    kernel: win.kernel,
    stride: win.stride,
    padding: addPads(win.own, win.merged),
    ceilMode: win.ceilMode,
    countIncludePad,
    divisorOverride: null,
  });
  mergedNote(ctx, pad, node.name);
  ctx.setOutput(n, 0, { kind: 'act', node: node.name, shape: [c, win.out[0], win.out[1]] });
};

const globalAveragePool: OpHandler = (n, ctx) => {
  const x = act(n, ctx);
  if (x.shape.length === 2) return run1d(n, ctx, globalAveragePool);
  const [c] = rank3(n, x);
  const node = ctx.b.add({ op: 'globalavgpool', name: name(n, ctx), inputs: [x.node], source: n.name });
  ctx.setOutput(n, 0, { kind: 'act', node: node.name, shape: [c, 1, 1] });
};

const batchNorm: OpHandler = (n, ctx) => {
  extraOutputsUnused(n, ctx, 1, 'running statistics (training mode)');
  if (n.attrs.int('training_mode', 0) !== 0) {
    throw new UnsupportedError(`${n.where}: training_mode=1 is not supported (export the model in eval mode)`);
  }
  if (n.attrs.int('spatial', 1) !== 1) throw new UnsupportedError(`${n.where}: spatial=0 is not supported`);
  const x = act(n, ctx);
  if (x.shape.length !== 1 && x.shape.length !== 3) {
    throw new ShapeError(`${n.where}: expects [N, C] or [N, C, H, W], got per-sample shape ${shapeStr(x.shape)}`);
  }
  const c = x.shape[0];
  const roles = ['scale', 'B', 'mean', 'var'];
  const params = roles.map((role, i) => {
    const t = constant(n, ctx, i + 1, role);
    if (constSize(t) !== c || t.dims.length !== 1) {
      throw new ShapeError(`${n.where}: ${role} '${t.name}' has shape ${shapeStr(t.dims)}, expected [${c}] (input channels)`);
    }
    return constFloats(t, `${role} of ${n.where}`);
  });
  const node = ctx.b.add({
    op: 'batchnorm',
    name: name(n, ctx),
    inputs: [x.node],
    source: n.name,
    numFeatures: c,
    eps: n.attrs.float('epsilon', 1e-5),
    weight: params[0],
    bias: params[1],
    runningMean: params[2],
    runningVar: params[3],
  });
  ctx.setOutput(n, 0, { kind: 'act', node: node.name, shape: x.shape.slice() });
};

// ---- Pad and Constant (no IR node of their own) -------------------------------------------

const pad: OpHandler = (n, ctx) => {
  const v = required(n, ctx, 0, 'data');
  if (v.kind === 'const') throw new UnsupportedError(`${n.where}: padding a constant is not supported`);
  if (v.kind === 'shape') throw shapeNotSupported(n, v, 'data');
  const mode = n.attrs.string('mode', 'constant');
  if (mode !== 'constant') {
    throw new UnsupportedError(`${n.where}: Pad mode '${mode}' is not supported (only constant zero padding)`);
  }
  let pads: number[];
  let value = 0;
  let axes: number[] | null = null;
  if (ctx.opset < 11) {
    pads = n.attrs.ints('pads') ?? n.attrs.ints('paddings') ?? [];
    value = n.attrs.float('value', 0);
  } else {
    pads = constNumbers(constant(n, ctx, 1, 'pads'), `pads of ${n.where}`);
    const cv = optionalConstant(n, ctx, 2, 'constant_value');
    if (cv) {
      const vals = constNumbers(cv, `constant_value of ${n.where}`);
      value = vals.length > 0 ? vals[0] : 0;
    }
    const ax = optionalConstant(n, ctx, 3, 'axes');
    if (ax) axes = constNumbers(ax, `axes of ${n.where}`);
  }
  if (value !== 0) {
    throw new UnsupportedError(`${n.where}: Pad with constant value ${value} is not supported (only zero padding)`);
  }
  const x = v.kind === 'pad' ? v.src : v;
  if (x.batch) throw batchMoved(n.where, x, 'data', 'Pad needs the batch as the leading axis');
  const full = x.shape.length + 1;
  const axisList = (axes ?? Array.from({ length: full }, (_, i) => i)).map((a) => (a < 0 ? a + full : a));
  if (pads.length !== 2 * axisList.length) {
    throw new ModelFormatError(`${n.where}: pads ${shapeStr(pads)} must have ${2 * axisList.length} entries`);
  }
  const begin = new Array<number>(full).fill(0);
  const end = new Array<number>(full).fill(0);
  axisList.forEach((a, i) => {
    if (a < 0 || a >= full) throw new ModelFormatError(`${n.where}: pad axis ${a} out of range`);
    begin[a] = pads[i];
    end[a] = pads[i + axisList.length];
  });
  if ([...begin, ...end].some((p) => p < 0)) {
    throw new UnsupportedError(`${n.where}: negative pads (cropping) ${shapeStr(pads)} are not supported`);
  }
  if (full !== 4) {
    if (begin.every((p) => p === 0) && end.every((p) => p === 0)) {
      ctx.setOutput(n, 0, x);
      return;
    }
    throw new UnsupportedError(`${n.where}: Pad is only supported on 4-D [N, C, H, W] activations`);
  }
  if (begin[0] || end[0] || begin[1] || end[1]) {
    throw new UnsupportedError(`${n.where}: padding the batch or channel axis is not supported (pads ${shapeStr(pads)})`);
  }
  const mine: Pads4 = [begin[2], begin[3], end[2], end[3]];
  const total = v.kind === 'pad' ? addPads(v.pads, mine) : mine;
  ctx.setOutput(n, 0, { kind: 'pad', src: x, pads: total, from: v.kind === 'pad' ? `${v.from}, ${n.name}` : n.name });
};

const constantOp: OpHandler = (n, ctx) => {
  const a = n.attrs;
  const out = n.proto.output?.[0] ?? n.name;
  let t: ConstTensor | undefined = a.tensor('value', out);
  if (t) t = { ...t, name: out };
  else if (a.has('value_float')) t = constFromValues(out, [], DT.FLOAT, [a.float('value_float', 0)]);
  else if (a.has('value_floats')) {
    const v = a.floats('value_floats') ?? [];
    t = constFromValues(out, [v.length], DT.FLOAT, v);
  } else if (a.has('value_int')) t = constFromValues(out, [], DT.INT64, [a.int('value_int', 0)]);
  else if (a.has('value_ints')) {
    const v = a.ints('value_ints', []);
    t = constFromValues(out, [v.length], DT.INT64, v);
  }
  if (!t) {
    throw new UnsupportedError(`${n.where}: Constant with attribute(s) ${a.names().join(', ') || '(none)'} is not supported`);
  }
  ctx.setOutput(n, 0, { kind: 'const', t });
};

/** Handlers by ONNX op type (default domain). */
export const ONNX_OPS: Readonly<Record<string, OpHandler>> = {
  Gemm: gemm,
  MatMul: matmul,
  Conv: conv,
  Relu: relu,
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
  BatchNormalization: batchNorm,
  Reshape: reshape,
  Pad: pad,
  Add: arithmetic('Add'),
  Sub: arithmetic('Sub'),
  Mul: arithmetic('Mul'),
  Div: arithmetic('Div'),
  Concat: concat,
  Constant: constantOp,
  Identity: passThrough('identity'),
  Dropout: passThrough('dropout'),
  Cast: cast,
  ...SHAPE_OPS,
  ...ONNX_ELEMENTWISE_OPS,
  ...ONNX_LAYOUT_OPS,
  ...ONNX_TOKEN_OPS,
  ...ONNX_TRANSFORMER_OPS,
};
