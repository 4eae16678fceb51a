// Minimal IDX (MNIST-style) reader. Handles plain and gzipped files.
// Format: magic = [0, 0, dtypeCode, ndim], then ndim big-endian uint32 dims,
// then the data in row-major order (big-endian for multi-byte types).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

const DTYPES = {
  0x08: { name: 'uint8', bytes: 1, Arr: Uint8Array, get: (dv, o) => dv.getUint8(o) },
  0x09: { name: 'int8', bytes: 1, Arr: Int8Array, get: (dv, o) => dv.getInt8(o) },
  0x0b: { name: 'int16', bytes: 2, Arr: Int16Array, get: (dv, o) => dv.getInt16(o, false) },
  0x0c: { name: 'int32', bytes: 4, Arr: Int32Array, get: (dv, o) => dv.getInt32(o, false) },
  0x0d: { name: 'float32', bytes: 4, Arr: Float32Array, get: (dv, o) => dv.getFloat32(o, false) },
  0x0e: { name: 'float64', bytes: 8, Arr: Float64Array, get: (dv, o) => dv.getFloat64(o, false) },
};

/** @returns {{dtype: string, shape: number[], data: Uint8Array|Int8Array|Int16Array|Int32Array|Float32Array|Float64Array}} */
export function parseIdx(buf) {
  const bytes = buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 || dv.getUint8(0) !== 0 || dv.getUint8(1) !== 0) {
    throw new Error('IDX: bad magic number');
  }
  const code = dv.getUint8(2);
  const ndim = dv.getUint8(3);
  const dt = DTYPES[code];
  if (!dt) throw new Error(`IDX: unknown data type code 0x${code.toString(16)}`);
  const shape = [];
  for (let i = 0; i < ndim; i++) shape.push(dv.getUint32(4 + 4 * i, false));
  const header = 4 + 4 * ndim;
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== header + count * dt.bytes) {
    throw new Error(`IDX: expected ${header + count * dt.bytes} bytes, got ${bytes.length}`);
  }
  let data;
  if (dt.bytes === 1) {
    data = new dt.Arr(bytes.buffer.slice(bytes.byteOffset + header, bytes.byteOffset + header + count));
  } else {
    data = new dt.Arr(count);
    for (let i = 0; i < count; i++) data[i] = dt.get(dv, header + i * dt.bytes);
  }
  return { dtype: dt.name, shape, data };
}

export function readIdx(path) {
  return parseIdx(readFileSync(path));
}
