/**
 * Little-endian number reading for model files (ONNX raw_data, TF.js weight shards). Always
 * copies, so the result is aligned and does not alias the file's bytes.
 */

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** `count` little-endian float32 values starting at `byteOffset` of `bytes`. */
export function readF32LE(bytes: Uint8Array, byteOffset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  if (count === 0) return out;
  if (HOST_LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes.subarray(byteOffset, byteOffset + count * 4));
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset + byteOffset, count * 4);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

/** `bytes` as one Uint8Array (a single part is returned as a view, several are concatenated). */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let total = 0;
  for (const p of parts) total += p.byteLength;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** An ArrayBuffer or a typed-array view as a Uint8Array view (no copy). */
export function asBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** Index of the first NaN or ±Infinity in `v`, or -1. */
export function firstNonFinite(v: Float32Array): number {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return i;
  return -1;
}
