/**
 * Shape arithmetic evaluated at import time. Exporters that do not fold constants (PyTorch with
 * do_constant_folding=False: `x.view(x.size(0), -1)`, `x.reshape(x.shape[0], -1)`) compute a
 * Reshape's target from the runtime shape: Shape → Gather / Slice → Unsqueeze → Concat (with a
 * constant [-1]) → Reshape. Such integer tensors are known here except for the batch size, which
 * is a symbol (BATCH, printed N): Shape of an activation is [N, ...per-sample shape]. Shape,
 * Gather, Slice, Unsqueeze, Squeeze, Concat and Cast are evaluated on them and on integer
 * constants; a result without the symbol becomes an ordinary int64 constant, one with it a
 * ShapeValue, which only Reshape (as its shape input) and these ops accept. None of these nodes
 * becomes an IR node. Shape tensors are at most 1-D.
 */
import { ModelFormatError, UnsupportedError } from '../errors.js';
import { shapeStr } from './geometry.js';
import type { OnnxContext, OnnxNode, OpHandler } from './onnx-ops.js';
import { constFromValues, constNumbers, dtypeName, DT } from './onnx-tensor.js';
import { isBatchAxis, onnxAxes } from './onnx-batch.js';

/** k times the batch size N (unknown at import time); printed "N", "12·N". */
export class BatchMultiple {
  constructor(readonly k: number) {}
  toString(): string {
    return this.k === 1 ? 'N' : `${this.k}·N`;
  }
}
/** The batch size itself. */
export const BATCH = new BatchMultiple(1);
export type Dim = number | BatchMultiple;
export const isBatchDim = (d: Dim): d is BatchMultiple => d instanceof BatchMultiple;

/** An integer tensor whose values are known except for the batch size (at least one entry is a multiple of N). */
export interface ShapeValue {
  kind: 'shape';
  /** [] (a scalar) or [length]. */
  dims: number[];
  values: Dim[];
  dataType: number;
  /** The Shape node it derives from, for messages. */
  from: string;
}

const INTEGER_TYPES: ReadonlySet<number> = new Set([
  DT.INT64, DT.INT32, DT.INT16, DT.INT8, DT.UINT64, DT.UINT32, DT.UINT16, DT.UINT8,
]);

const SHAPE_OPS_LIST = 'Gather, Slice, Unsqueeze, Squeeze, Concat, Cast and integer Add/Sub/Mul/Div into the shape input of a Reshape';

export function dimsStr(values: readonly Dim[]): string {
  return `[${values.join(', ')}]`;
}

/** The error for an op that reads a shape value it cannot use. */
export function shapeNotSupported(n: OnnxNode, v: ShapeValue, role = 'input'): UnsupportedError {
  return new UnsupportedError(
    `${n.where}: the ${role} is the shape value ${dimsStr(v.values)} computed from Shape '${v.from}' ` +
      `(N = batch size); shape values are only supported through ${SHAPE_OPS_LIST}`,
  );
}

/** An input read as integers (shape value or integer constant). */
interface Ints {
  dims: number[];
  values: Dim[];
  dataType: number;
  /** The Shape node it derives from, null for a constant. */
  from: string | null;
}

function ints(n: OnnxNode, ctx: OnnxContext, i: number, role: string): Ints {
  const v = ctx.input(n, i);
  if (!v) throw new ModelFormatError(`${n.where}: missing ${role} (input ${i})`);
  switch (v.kind) {
    case 'shape':
      return { dims: v.dims, values: v.values, dataType: v.dataType, from: v.from };
    case 'const':
      if (!INTEGER_TYPES.has(v.t.dataType)) {
        throw new UnsupportedError(
          `${n.where}: the ${role} '${v.t.name}' has data type ${dtypeName(v.t.dataType)}; ` +
            `${n.op} is only evaluated on integer shape tensors`,
        );
      }
      return { dims: v.t.dims, values: constNumbers(v.t, `${role} of ${n.where}`), dataType: v.t.dataType, from: null };
    default:
      throw new UnsupportedError(
        `${n.where}: the ${role} is an activation; ${n.op} is only supported on shape values (outputs of Shape) and integer constants`,
      );
  }
}

/** A scalar or 1-D integer input. */
function vector(n: OnnxNode, ctx: OnnxContext, i: number, role: string): Ints {
  const t = ints(n, ctx, i, role);
  if (t.dims.length > 1) {
    throw new UnsupportedError(`${n.where}: the ${role} has shape ${shapeStr(t.dims)}; only scalar and 1-D shape tensors are supported`);
  }
  return t;
}

/** Integers that must not depend on the batch size (indices, axes, starts…). */
function known(n: OnnxNode, t: Ints, role: string): number[] {
  if (t.values.some(isBatchDim)) {
    throw new UnsupportedError(`${n.where}: the ${role} ${dimsStr(t.values)} depends on the batch size N`);
  }
  return t.values as number[];
}

/** Attribute (older opsets) or constant input (newer opsets) holding integers; undefined if absent. */
function intsParam(n: OnnxNode, ctx: OnnxContext, name: string, i: number, inputSince: number): number[] | undefined {
  if (ctx.opset < inputSince) return n.attrs.ints(name);
  if (!ctx.input(n, i)) return n.attrs.ints(name); // tolerate the attribute form in mislabelled files
  return known(n, vector(n, ctx, i, name), name);
}

/** A single axis of a 1-D tensor: 0 or -1. */
function axis0(n: OnnxNode, axis: number, what: string): void {
  if (axis !== 0 && axis !== -1) {
    throw new UnsupportedError(`${n.where}: ${what} ${axis} of a 1-D shape tensor is not supported (only 0 or -1)`);
  }
}

function emit(n: OnnxNode, ctx: OnnxContext, dims: number[], values: Dim[], dataType: number, from: string | null): void {
  const out = n.proto.output?.[0] ?? n.name;
  if (values.some(isBatchDim)) {
    ctx.setOutput(n, 0, { kind: 'shape', dims, values, dataType, from: from ?? n.name });
  } else {
    ctx.setOutput(n, 0, { kind: 'const', t: constFromValues(out, dims, dataType, values as number[]) });
  }
}

/** ONNX Slice bounds for one axis of length `len` (negative = from the end, clamped). */
function sliceRange(len: number, start: number, end: number, step: number): number[] {
  const norm = (v: number) => (v < 0 ? v + len : v);
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const s = step > 0 ? clamp(norm(start), 0, len) : clamp(norm(start), 0, len - 1);
  const e = step > 0 ? clamp(norm(end), 0, len) : clamp(norm(end), -1, len - 1);
  const out: number[] = [];
  if (step > 0) for (let i = s; i < e; i += step) out.push(i);
  else for (let i = s; i > e; i += step) out.push(i);
  return out;
}

// ---- handlers ----------------------------------------------------------------------------------

const shapeOp: OpHandler = (n, ctx) => {
  const v = ctx.input(n, 0);
  if (!v) throw new ModelFormatError(`${n.where}: missing data (input 0)`);
  let full: Dim[];
  let from: string | null = n.name;
  switch (v.kind) {
    case 'act':
      full = onnxAxes(v).map((a) => (isBatchAxis(a) ? new BatchMultiple(a.pre * a.post) : a));
      break;
    case 'pad': {
      const [c, h, w] = v.src.shape;
      const [t, l, b, r] = v.pads;
      full = [BATCH, c, h + t + b, w + l + r];
      break;
    }
    case 'const':
      full = v.t.dims.slice();
      from = null;
      break;
    case 'shape':
      full = v.dims.slice();
      from = null;
      break;
  }
  const len = full.length;
  const norm = (a: number) => Math.min(Math.max(a < 0 ? a + len : a, 0), len);
  const start = norm(n.attrs.int('start', 0));
  const end = n.attrs.has('end') ? norm(n.attrs.int('end', len)) : len;
  const values = full.slice(start, Math.max(start, end));
  emit(n, ctx, [values.length], values, DT.INT64, from);
};

const gather: OpHandler = (n, ctx) => {
  const data = vector(n, ctx, 0, 'data');
  const idx = vector(n, ctx, 1, 'indices');
  const indices = known(n, idx, 'indices');
  if (data.dims.length !== 1) throw new UnsupportedError(`${n.where}: Gather from a scalar is not supported`);
  axis0(n, n.attrs.int('axis', 0), 'axis');
  const len = data.values.length;
  const values = indices.map((i) => {
    const j = i < 0 ? i + len : i;
    if (!Number.isInteger(j) || j < 0 || j >= len) {
      throw new ModelFormatError(`${n.where}: index ${i} is out of range for ${dimsStr(data.values)}`);
    }
    return data.values[j];
  });
  emit(n, ctx, idx.dims.slice(), values, data.dataType, data.from);
};

const slice: OpHandler = (n, ctx) => {
  const data = vector(n, ctx, 0, 'data');
  if (data.dims.length !== 1) throw new UnsupportedError(`${n.where}: Slice of a scalar is not supported`);
  const starts = intsParam(n, ctx, 'starts', 1, 10);
  const ends = intsParam(n, ctx, 'ends', 2, 10);
  if (!starts || !ends) throw new ModelFormatError(`${n.where}: missing starts or ends`);
  const axes = intsParam(n, ctx, 'axes', 3, 10) ?? [0];
  const steps = (ctx.opset >= 10 ? intsParam(n, ctx, 'steps', 4, 10) : undefined) ?? [1];
  if (starts.length !== 1 || ends.length !== 1 || axes.length !== 1 || steps.length !== 1) {
    throw new UnsupportedError(
      `${n.where}: starts ${shapeStr(starts)}, ends ${shapeStr(ends)}, axes ${shapeStr(axes)} must each have one entry for a 1-D shape tensor`,
    );
  }
  axis0(n, axes[0], 'axis');
  if (steps[0] === 0) throw new ModelFormatError(`${n.where}: Slice step 0`);
  const picked = sliceRange(data.values.length, starts[0], ends[0], steps[0]);
  emit(n, ctx, [picked.length], picked.map((i) => data.values[i]), data.dataType, data.from);
};

const unsqueeze: OpHandler = (n, ctx) => {
  const data = vector(n, ctx, 0, 'data');
  const axes = intsParam(n, ctx, 'axes', 1, 13);
  if (!axes) throw new ModelFormatError(`${n.where}: missing axes`);
  if (data.dims.length !== 0 || axes.length !== 1) {
    throw new UnsupportedError(
      `${n.where}: Unsqueeze of ${shapeStr(data.dims)} with axes ${shapeStr(axes)} gives a tensor of rank ${data.dims.length + axes.length}; ` +
        'only scalar → 1-D shape tensors are supported',
    );
  }
  axis0(n, axes[0], 'axis');
  emit(n, ctx, [1], data.values.slice(), data.dataType, data.from);
};

const squeeze: OpHandler = (n, ctx) => {
  const data = vector(n, ctx, 0, 'data');
  const axes = intsParam(n, ctx, 'axes', 1, 13);
  if (data.dims.length === 0) {
    if (axes && axes.length > 0) throw new ModelFormatError(`${n.where}: Squeeze of a scalar with axes ${shapeStr(axes)}`);
    emit(n, ctx, [], data.values.slice(), data.dataType, data.from);
    return;
  }
  if (axes) {
    if (axes.length > 1) throw new ModelFormatError(`${n.where}: axes ${shapeStr(axes)} out of range for a 1-D tensor`);
    if (axes.length === 1) {
      axis0(n, axes[0], 'axis');
      if (data.dims[0] !== 1) {
        throw new ModelFormatError(`${n.where}: cannot squeeze axis ${axes[0]} of length ${data.dims[0]}`);
      }
    }
  }
  const dims = data.dims[0] === 1 && (!axes || axes.length === 1) ? [] : data.dims.slice();
  emit(n, ctx, dims, data.values.slice(), data.dataType, data.from);
};

/** Concat of shape values / integer constants (onnx-ops' Concat hands over when it sees one). */
export const shapeConcat: OpHandler = (n, ctx) => {
  const count = n.proto.input?.length ?? 0;
  if (!n.attrs.has('axis')) throw new ModelFormatError(`${n.where}: Concat needs an axis attribute`);
  axis0(n, n.attrs.int('axis', 0), 'Concat axis');
  const values: Dim[] = [];
  let from: string | null = null;
  let dataType: number = DT.INT64;
  for (let i = 0; i < count; i++) {
    const t = vector(n, ctx, i, `input ${i}`);
    if (t.dims.length !== 1) throw new ModelFormatError(`${n.where}: input ${i} is a scalar; Concat needs 1-D inputs`);
    if (i === 0) dataType = t.dataType;
    values.push(...t.values);
    from = from ?? t.from;
  }
  emit(n, ctx, [values.length], values, dataType, from);
};

/** Cast of a shape value or constant; returns false when the input is an activation. */
export function castConstant(n: OnnxNode, ctx: OnnxContext): boolean {
  const v = ctx.input(n, 0);
  if (!v) throw new ModelFormatError(`${n.where}: missing input (input 0)`);
  if (v.kind === 'act' || v.kind === 'pad') return false;
  const to = n.attrs.int('to', 0);
  if (v.kind === 'const' && v.t.dataType === to) {
    ctx.setOutput(n, 0, { ...v, t: { ...v.t, name: n.proto.output?.[0] ?? v.t.name } });
    return true;
  }
  if (!INTEGER_TYPES.has(to)) {
    const what = v.kind === 'shape' ? `the shape value ${dimsStr(v.values)}` : `the constant '${v.t.name}'`;
    throw new UnsupportedError(`${n.where}: Cast of ${what} to ${dtypeName(to)} is not supported (only between integer types)`);
  }
  const t = ints(n, ctx, 0, 'input');
  emit(n, ctx, t.dims.slice(), t.values.slice(), to, t.from);
  return true;
}

/**
 * The target of a Reshape from its shape input: an integer constant or a shape value
 * (BATCH entries stand for the batch size).
 */
export function reshapeTarget(n: OnnxNode, ctx: OnnxContext, i: number): Dim[] {
  const v = ctx.input(n, i);
  if (v && (v.kind === 'act' || v.kind === 'pad')) {
    throw new UnsupportedError(
      `${n.where}: the shape must be a constant (initializer or Constant) or computed from Shape, not an activation`,
    );
  }
  const t = ints(n, ctx, i, 'shape');
  if (t.dims.length !== 1) throw new ModelFormatError(`${n.where}: the shape input has shape ${shapeStr(t.dims)}, expected 1-D`);
  return t.values.slice();
}

/**
 * The two operands of an element-wise op on shape values, broadcast (a scalar against a vector): their values at
 * output index i, the output length and dims.
 */
function twoOperands(n: OnnxNode, ctx: OnnxContext): { a: Ints; b: Ints; len: number; at: (t: Ints, i: number) => Dim; dims: number[] } {
  const a = vector(n, ctx, 0, 'A');
  const b = vector(n, ctx, 1, 'B');
  const len = Math.max(a.values.length, b.values.length);
  for (const t of [a, b])
    if (t.values.length !== len && t.values.length !== 1)
      throw new UnsupportedError(`${n.where}: cannot broadcast shape tensors ${dimsStr(a.values)} and ${dimsStr(b.values)}`);
  const dims = a.dims.length >= b.dims.length ? a.dims.slice() : b.dims.slice();
  if (dims.length === 1) dims[0] = len;
  return { a, b, len, at: (t, i) => t.values[t.values.length === 1 ? 0 : i], dims };
}

/**
 * Add/Sub/Mul/Div on shape values and integer constants (e.g. `c // groups` in a channel shuffle's
 * `x.view(n, groups, c // groups, h, w)`), element-wise with broadcasting of scalars. The batch
 * size N may only pass through unchanged (N·1, N/1, N+0, N−0): anything else would make a
 * per-sample shape depend on the batch.
 */
export function shapeArithmetic(n: OnnxNode, ctx: OnnxContext, op: 'Add' | 'Sub' | 'Mul' | 'Div'): void {
  const { a, b, len, at, dims } = twoOperands(n, ctx);
  const values: Dim[] = [];
  const depends = () => new UnsupportedError(`${n.where}: ${op} of ${dimsStr(a.values)} and ${dimsStr(b.values)} would make a shape depend on the batch size N`);
  for (let i = 0; i < len; i++) {
    const x = at(a, i);
    const y = at(b, i);
    if (isBatchDim(x) || isBatchDim(y)) {
      values.push(batchArithmetic(op, x, y, depends));
      continue;
    }
    if (op === 'Div' && y === 0) throw new ModelFormatError(`${n.where}: integer division by zero in shape arithmetic`);
    values.push(op === 'Add' ? x + y : op === 'Sub' ? x - y : op === 'Mul' ? x * y : Math.trunc(x / y));
  }
  emit(n, ctx, dims, values, a.dataType, a.from ?? b.from);
}

/**
 * Arithmetic with a multiple of the batch size: k·N times or divided by a constant (the batch
 * merged with or split from the heads of an attention layer, k·N / c when c divides k), plus or
 * minus 0. Anything else would tie a per-sample length to N.
 */
function batchArithmetic(op: 'Add' | 'Sub' | 'Mul' | 'Div', x: Dim, y: Dim, depends: () => Error): Dim {
  if (isBatchDim(x) && isBatchDim(y)) throw depends();
  const [m, c] = isBatchDim(x) ? [x, y as number] : [y as BatchMultiple, x as number];
  const batchFirst = isBatchDim(x);
  switch (op) {
    case 'Mul':
      if (c >= 1) return new BatchMultiple(m.k * c);
      break;
    case 'Div':
      if (batchFirst && c >= 1 && m.k % c === 0) return new BatchMultiple(m.k / c);
      break;
    case 'Add':
      if (c === 0) return m;
      break;
    case 'Sub':
      if (batchFirst && c === 0) return m;
      break;
  }
  throw depends();
}

/** Floor / Ceil of a shape value or integer constant: integers are unchanged. */
const roundInts: OpHandler = (n, ctx) => {
  const t = vector(n, ctx, 0, 'X');
  emit(n, ctx, t.dims.slice(), t.values.slice(), t.dataType, t.from);
};

/** The lengths of Reshape's 0 / -1 entries for a tensor of known dims (constants, shape values). */
function constTarget(n: OnnxNode, dims: number[], target: Dim[], what: string): number[] {
  const total = dims.reduce((a, b) => a * b, 1);
  if (target.some(isBatchDim)) throw new UnsupportedError(`${n.where}: reshape of ${what} to ${dimsStr(target)}, which depends on the batch size N`);
  const out = (target as number[]).map((d, i) => (d === 0 ? dims[i] : d));
  const rest = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  if (out.filter((d) => d === -1).length > 1 || out.some((d) => d === undefined || d < -1)) throw new ModelFormatError(`${n.where}: invalid shape ${dimsStr(target)}`);
  const inferIdx = out.indexOf(-1);
  if (inferIdx >= 0) out[inferIdx] = rest === 0 ? 0 : total / rest;
  if (out.reduce((a, b) => a * b, 1) !== total || out.some((d) => !Number.isInteger(d)))
    throw new ModelFormatError(`${n.where}: cannot reshape ${shapeStr(dims)} to ${dimsStr(target)}`);
  return out;
}

/** Reshape of a constant or a shape value (e.g. the class token's Expand shape): new dims, same values. */
export const constReshape: OpHandler = (n, ctx) => {
  const v = ctx.input(n, 0)!;
  const target = reshapeTarget(n, ctx, 1);
  if (v.kind === 'const') {
    const dims = constTarget(n, v.t.dims, target, `the constant '${v.t.name}'`);
    ctx.setOutput(n, 0, { kind: 'const', t: { ...v.t, name: n.proto.output?.[0] ?? v.t.name, dims } });
    return;
  }
  if (v.kind !== 'shape') throw new ModelFormatError(`${n.where}: expected a constant or shape value`);
  const dims = constTarget(n, v.dims, target, `the shape value ${dimsStr(v.values)}`);
  if (dims.length > 1) throw new UnsupportedError(`${n.where}: reshape of the shape value ${dimsStr(v.values)} to rank ${dims.length} is not supported`);
  emit(n, ctx, dims, v.values.slice(), v.dataType, v.from);
};

/** ConstantOfShape with a known shape: a constant filled with its `value` (default float 0). */
const constantOfShape: OpHandler = (n, ctx) => {
  const shape = known(n, vector(n, ctx, 0, 'shape'), 'shape');
  const out = n.proto.output?.[0] ?? n.name;
  const fill = n.attrs.tensor('value', out);
  const dataType = fill?.dataType ?? DT.FLOAT;
  const value = fill ? constNumbers(fill, `value of ${n.where}`)[0] ?? 0 : 0;
  const count = shape.reduce((a, b) => a * b, 1);
  if (count > 1 << 16) throw new UnsupportedError(`${n.where}: ConstantOfShape of ${shapeStr(shape)} is too large for a shape computation`);
  const t = constFromValues(out, shape, dataType, new Array<number>(count).fill(value));
  ctx.setOutput(n, 0, { kind: 'const', t });
};

/** Equal of shape values / integer constants: a BOOL constant (N ≥ 1, so N equals no constant ≤ 0). */
const equal: OpHandler = (n, ctx) => {
  const { a, b, len, at, dims } = twoOperands(n, ctx);
  const values = Array.from({ length: len }, (_, i) => {
    const x = at(a, i);
    const y = at(b, i);
    if (!isBatchDim(x) && !isBatchDim(y)) return x === y ? 1 : 0;
    if (isBatchDim(x) && isBatchDim(y)) return x.k === y.k ? 1 : 0;
    const c = (isBatchDim(x) ? y : x) as number;
    if (c <= 0) return 0;
    throw new UnsupportedError(`${n.where}: Equal of ${dimsStr(a.values)} and ${dimsStr(b.values)} depends on the batch size N`);
  });
  ctx.setOutput(n, 0, { kind: 'const', t: constFromValues(n.proto.output?.[0] ?? n.name, dims, DT.BOOL, values) });
};

/** Where with a known condition over shape values / integer constants. */
const where: OpHandler = (n, ctx) => {
  const cv = ctx.input(n, 0);
  if (!cv || cv.kind !== 'const') throw new UnsupportedError(`${n.where}: Where is only supported with a constant condition on shape values`);
  const cond = constNumbers(cv.t, `condition of ${n.where}`);
  const a = vector(n, ctx, 1, 'X');
  const b = vector(n, ctx, 2, 'Y');
  const len = Math.max(cond.length, a.values.length, b.values.length);
  const pick = <T,>(v: T[], i: number) => v[v.length === 1 ? 0 : i];
  for (const v of [cond, a.values, b.values])
    if (v.length !== len && v.length !== 1) throw new UnsupportedError(`${n.where}: cannot broadcast the inputs of Where`);
  const values = Array.from({ length: len }, (_, i) => (pick(cond, i) ? pick(a.values, i) : pick(b.values, i)));
  emit(n, ctx, [len], values, a.dataType, a.from ?? b.from);
};

/** Shape-only handlers, by ONNX op type (Concat and Cast are shared with onnx-ops). */
export const SHAPE_OPS: Readonly<Record<string, OpHandler>> = {
  Shape: shapeOp,
  Gather: gather,
  Slice: slice,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Floor: roundInts,
  Ceil: roundInts,
  ConstantOfShape: constantOfShape,
  Equal: equal,
  Where: where,
};
