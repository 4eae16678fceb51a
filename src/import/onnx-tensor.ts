/**
 * ONNX tensors: the protobuf classes (onnx-proto), int64 conversion, and decoding of
 * initializers / Constant values into numbers. Decoding is lazy and every call returns a fresh
 * array, so two graph nodes never share a parameter buffer.
 */
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import { ModelFormatError, UnsupportedError } from '../errors.js';
import { firstNonFinite, readF32LE } from './bytes.js';
import { product, shapeStr } from './geometry.js';

export type { onnx };
/** The generated protobuf namespace (a CommonJS module: reached through its default export). */
export const onnxRoot: typeof onnx = onnxProto.onnx;

/** ONNX TensorProto.DataType numbers. */
export const DT = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const;

const DT_NAMES: Record<number, string> = Object.fromEntries(Object.entries(DT).map(([k, v]) => [v, k]));

export function dtypeName(dt: number | null | undefined): string {
  return DT_NAMES[dt ?? 0] ?? `type ${dt ?? 0}`;
}

/** int64 fields arrive as numbers or Long objects (protobufjs uses `long` when installed). */
export function toNum(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  if (v !== null && typeof v === 'object' && typeof (v as { toNumber?: unknown }).toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  throw new ModelFormatError(`invalid integer in ${what}`);
}

/** A constant known at import time: an initializer or the value of a Constant node. */
export interface ConstTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** Set for initializers and Constant(value=tensor). */
  proto?: onnx.ITensorProto;
  /** Set for Constant(value_float(s) / value_int(s)). */
  values?: number[];
}

/**
 * Wraps a TensorProto. Throws for external data (not supported) so the message is clear no
 * matter which node uses the tensor.
 */
export function constFromProto(t: onnx.ITensorProto, fallbackName: string): ConstTensor {
  const name = t.name || fallbackName;
  const external = t.dataLocation === 1 || (t.externalData?.length ?? 0) > 0;
  if (external) {
    const location = t.externalData?.find((e) => e.key === 'location')?.value;
    throw new ModelFormatError(
      `ONNX tensor '${name}' is stored as external data${location ? ` (file '${location}')` : ''}: ` +
        'external data is not supported, re-export with the weights inside the file',
    );
  }
  if (t.segment) throw new UnsupportedError(`ONNX tensor '${name}' is segmented, which is not supported`);
  const dims = (t.dims ?? []).map((d) => toNum(d, `the dims of tensor '${name}'`));
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ModelFormatError(`ONNX tensor '${name}' has invalid dims ${shapeStr(dims)}`);
  }
  return { name, dims, dataType: t.dataType ?? 0, proto: t };
}

export function constFromValues(name: string, dims: number[], dataType: number, values: number[]): ConstTensor {
  return { name, dims, dataType, values };
}

/** Element count. */
export function constSize(c: ConstTensor): number {
  return product(c.dims);
}

function countMismatch(c: ConstTensor, got: number): ModelFormatError {
  return new ModelFormatError(
    `ONNX tensor '${c.name}' holds ${got} values but its dims ${shapeStr(c.dims)} need ${constSize(c)}`,
  );
}

/**
 * The tensor as float32 weights. Anything but FLOAT is rejected, naming the tensor and its role
 * (e.g. "weight of Conv '/0/Conv'").
 */
export function constFloats(c: ConstTensor, role: string): Float32Array {
  if (c.dataType !== DT.FLOAT) {
    throw new UnsupportedError(
      `ONNX tensor '${c.name}' (${role}) has data type ${dtypeName(c.dataType)}; only float32 weights are supported`,
    );
  }
  return checkFinite(c, role, decodeFloats(c));
}

function decodeFloats(c: ConstTensor): Float32Array {
  const n = constSize(c);
  if (c.values) {
    if (c.values.length !== n) throw countMismatch(c, c.values.length);
    return Float32Array.from(c.values);
  }
  const t = c.proto!;
  const raw = t.rawData;
  if (raw && raw.byteLength > 0) {
    if (raw.byteLength !== n * 4) throw countMismatch(c, raw.byteLength / 4);
    return readF32LE(raw, 0, n);
  }
  const fd = t.floatData ?? [];
  if (fd.length !== n) throw countMismatch(c, fd.length);
  return Float32Array.from(fd);
}

/** Weights must be finite: a NaN or infinite weight would only show up later as NaN relevance. */
function checkFinite(c: ConstTensor, role: string, v: Float32Array): Float32Array {
  const i = firstNonFinite(v);
  if (i >= 0) throw new ModelFormatError(`ONNX tensor '${c.name}' (${role}) holds ${v[i]} at index ${i}: weights must be finite`);
  return v;
}

const RAW_WIDTH: Record<number, number> = {
  [DT.FLOAT]: 4, [DT.DOUBLE]: 8, [DT.INT64]: 8, [DT.UINT64]: 8, [DT.INT32]: 4, [DT.UINT32]: 4,
  [DT.INT16]: 2, [DT.UINT16]: 2, [DT.INT8]: 1, [DT.UINT8]: 1, [DT.BOOL]: 1,
};

/**
 * The tensor as plain numbers, for shapes, pads, axes and scalars (any integer or float type
 * except float16/bfloat16, strings and complex numbers).
 */
export function constNumbers(c: ConstTensor, role: string): number[] {
  const n = constSize(c);
  if (c.values) {
    if (c.values.length !== n) throw countMismatch(c, c.values.length);
    return c.values.slice();
  }
  const width = RAW_WIDTH[c.dataType];
  if (width === undefined) {
    throw new UnsupportedError(`ONNX tensor '${c.name}' (${role}) has unsupported data type ${dtypeName(c.dataType)}`);
  }
  const t = c.proto!;
  const raw = t.rawData;
  if (raw && raw.byteLength > 0) {
    if (raw.byteLength !== n * width) throw countMismatch(c, raw.byteLength / width);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const at = i * width;
      switch (c.dataType) {
        case DT.FLOAT: out[i] = view.getFloat32(at, true); break;
        case DT.DOUBLE: out[i] = view.getFloat64(at, true); break;
        case DT.INT64: out[i] = Number(view.getBigInt64(at, true)); break;
        case DT.UINT64: out[i] = Number(view.getBigUint64(at, true)); break;
        case DT.INT32: out[i] = view.getInt32(at, true); break;
        case DT.UINT32: out[i] = view.getUint32(at, true); break;
        case DT.INT16: out[i] = view.getInt16(at, true); break;
        case DT.UINT16: out[i] = view.getUint16(at, true); break;
        case DT.INT8: out[i] = view.getInt8(at); break;
        default: out[i] = view.getUint8(at); break;
      }
    }
    return out;
  }
  let src: unknown[];
  switch (c.dataType) {
    case DT.FLOAT: src = t.floatData ?? []; break;
    case DT.DOUBLE: src = t.doubleData ?? []; break;
    case DT.INT64: src = t.int64Data ?? []; break;
    case DT.UINT64: case DT.UINT32: src = t.uint64Data ?? []; break;
    default: src = t.int32Data ?? []; break;
  }
  if (src.length !== n) throw countMismatch(c, src.length);
  return src.map((v) => toNum(v, `tensor '${c.name}'`));
}
