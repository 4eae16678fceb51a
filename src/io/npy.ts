/**
 * NumPy .npy read/write on bytes. Browser-safe.
 *
 * Format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 *   "\x93NUMPY" major minor, header length (uint16 LE for 1.0, uint32 LE for 2.0 / 3.0),
 *   an ASCII (1.0, 2.0) or UTF-8 (3.0) Python dict literal
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces and '\n'
 *   so that the data starts at a multiple of 64 bytes, then the raw data.
 *
 * readNpy accepts little-endian float32 ('<f4') and float64 ('<f8', converted to float32), in C
 * or Fortran order (Fortran is converted to C order). Everything else is an InputError with
 * code E_NPY.
 */
import { InputError } from '../errors.js';

/** A NumPy array as readNpy gives it. */
export interface NpyArray {
  /** Values in C (row-major) order. */
  data: Float32Array;
  /** Its shape, e.g. [N, 28, 28, 1]. */
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;

const fail = (name: string, msg: string) => new InputError(`${name}: ${msg}`, 'E_NPY');

// ---------------------------------------------------------------------------------------------
// A tiny parser for the header's Python literal: dicts, tuples, lists, strings, ints, bools, None.

type PyValue = string | number | boolean | null | PyValue[] | { tuple: PyValue[] } | Map<string, PyValue>;

class HeaderParser {
  private pos = 0;
  constructor(private readonly s: string, private readonly name: string) {}

  private err(msg: string): InputError {
    return fail(this.name, `malformed header (${msg} at offset ${this.pos}): ${JSON.stringify(this.s.trim())}`);
  }

  private ws(): void {
    while (this.pos < this.s.length && /\s/.test(this.s[this.pos])) this.pos++;
  }

  parseTop(): PyValue {
    const v = this.value();
    this.ws();
    if (this.pos !== this.s.length) throw this.err('unexpected trailing text');
    return v;
  }

  private seq(close: string): PyValue[] {
    const items: PyValue[] = [];
    for (;;) {
      this.ws();
      if (this.s[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.value());
      this.ws();
      if (this.s[this.pos] === ',') this.pos++;
      else if (this.s[this.pos] !== close) throw this.err(`expected ',' or '${close}'`);
    }
  }

  private value(): PyValue {
    this.ws();
    const c = this.s[this.pos];
    if (c === undefined) throw this.err('unexpected end');
    if (c === '{') {
      this.pos++;
      const map = new Map<string, PyValue>();
      for (;;) {
        this.ws();
        if (this.s[this.pos] === '}') {
          this.pos++;
          return map;
        }
        const key = this.value();
        if (typeof key !== 'string') throw this.err('dict keys must be strings');
        this.ws();
        if (this.s[this.pos] !== ':') throw this.err("expected ':'");
        this.pos++;
        if (map.has(key)) throw this.err(`duplicate key '${key}'`);
        map.set(key, this.value());
        this.ws();
        if (this.s[this.pos] === ',') this.pos++;
        else if (this.s[this.pos] !== '}') throw this.err("expected ',' or '}'");
      }
    }
    if (c === '(') {
      this.pos++;
      return { tuple: this.seq(')') };
    }
    if (c === '[') {
      this.pos++;
      return this.seq(']');
    }
    if (c === "'" || c === '"') {
      const end = this.s.indexOf(c, this.pos + 1);
      if (end < 0) throw this.err('unterminated string');
      const str = this.s.slice(this.pos + 1, end);
      if (str.includes('\\')) throw this.err('escape sequences are not supported');
      this.pos = end + 1;
      return str;
    }
    const m = /^(True|False|None|[+-]?\d+L?)/.exec(this.s.slice(this.pos));
    if (!m) throw this.err('unexpected token');
    this.pos += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number(m[0].replace(/L$/, ''));
  }
}

function describeDescr(d: PyValue): string {
  return typeof d === 'string' ? `'${d}'` : 'a structured dtype';
}

function isLittleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/** What a .npy header says: where the data starts and how to read it. */
export interface NpyHeader {
  /** The array's shape, e.g. [N, 28, 28, 1]. */
  shape: number[];
  /** Bytes per value: 4 for '<f4', 8 for '<f8'. */
  itemSize: 4 | 8;
  /** Whether the data is in column-major (Fortran) order. */
  fortran: boolean;
  /** Byte offset of the first value. */
  dataStart: number;
  /** Bytes of data the shape needs. */
  dataBytes: number;
}

/**
 * Parses the header of a .npy file from its first bytes (at least up to the end of the header;
 * the data may be absent, so that a Node reader can read it in parts). Same errors as readNpy
 * for the header; the data size is not checked.
 */
export function readNpyHeader(bytes: Uint8Array, name = '.npy data'): NpyHeader {
  if (!(bytes instanceof Uint8Array)) throw fail(name, 'expected a Uint8Array');
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw fail(name, 'not a .npy file (missing \\x93NUMPY magic)');
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (![1, 2, 3].includes(major) || minor !== 0) {
    throw fail(name, `unsupported .npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerStart = 10;
    headerLen = view.getUint16(8, true);
  } else {
    if (bytes.length < 12) throw fail(name, 'truncated header');
    headerStart = 12;
    headerLen = view.getUint32(8, true);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) {
    throw fail(name, `truncated header: header needs ${headerLen} bytes, file has ${bytes.length - headerStart}`);
  }
  const headerBytes = bytes.subarray(headerStart, dataStart);
  let header: string;
  try {
    header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(headerBytes);
  } catch {
    throw fail(name, 'header is not valid UTF-8');
  }
  const dict = new HeaderParser(header, name).parseTop();
  if (!(dict instanceof Map)) throw fail(name, `malformed header (not a dict): ${JSON.stringify(header.trim())}`);
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!dict.has(key)) throw fail(name, `malformed header (missing '${key}'): ${JSON.stringify(header.trim())}`);
  }
  for (const key of dict.keys()) {
    if (!['descr', 'fortran_order', 'shape'].includes(key)) throw fail(name, `malformed header (unexpected key '${key}')`);
  }

  const descr = dict.get('descr') as PyValue;
  let itemSize: 4 | 8;
  if (descr === '<f4') itemSize = 4;
  else if (descr === '<f8') itemSize = 8;
  else if (typeof descr === 'string' && /^>/.test(descr)) {
    throw fail(name, `big-endian dtype '${descr}' is not supported; save as little-endian ('<f4') float32`);
  } else if (typeof descr === 'string' && /^[|<>=]?O/.test(descr)) {
    throw fail(name, `object arrays ('${descr}') are not supported; save a float32 array`);
  } else {
    throw fail(name, `dtype ${describeDescr(descr)} is not supported (only float32 '<f4' and float64 '<f8')`);
  }

  const fortran = dict.get('fortran_order');
  if (typeof fortran !== 'boolean') throw fail(name, `malformed header ('fortran_order' must be True or False)`);

  const shapeV = dict.get('shape') as PyValue;
  const shapeItems =
    shapeV && typeof shapeV === 'object' && 'tuple' in shapeV ? shapeV.tuple : Array.isArray(shapeV) ? shapeV : null;
  if (!shapeItems || !shapeItems.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw fail(name, `malformed header ('shape' must be a tuple of non-negative integers)`);
  }
  const shape = shapeItems as number[];
  const count = shape.reduce((a, b) => a * b, 1);
  return { shape, itemSize, fortran, dataStart, dataBytes: count * itemSize };
}

/**
 * Parses a .npy file. `name` is used in error messages (e.g. the file name).
 * Throws InputError (code E_NPY) for a bad magic, unsupported version, malformed header,
 * unsupported dtype (only '<f4' and '<f8'), big-endian data, truncated or oversized data.
 */
export function readNpy(bytes: Uint8Array, name = '.npy data'): NpyArray {
  const { shape, itemSize, fortran, dataStart, dataBytes: expected } = readNpyHeader(bytes, name);
  const count = shape.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const descr = itemSize === 4 ? '<f4' : '<f8';
  const available = bytes.length - dataStart;
  if (!Number.isSafeInteger(expected) || available < expected) {
    throw fail(
      name,
      `truncated data: shape (${shape.join(', ')}) of ${descr} needs ${expected} bytes, file has ${available}`,
    );
  }
  if (available > expected) {
    throw fail(name, `${available - expected} unexpected bytes after the data of shape (${shape.join(', ')})`);
  }

  let data: Float32Array;
  if (itemSize === 4 && isLittleEndianHost()) {
    // Uint8Array's slice() copies into a fresh, aligned buffer that the result owns (called as
    // Uint8Array's: a Node Buffer's own slice() is a view into its shared pool)
    data = new Float32Array(Uint8Array.prototype.slice.call(bytes, dataStart, dataStart + expected).buffer);
  } else {
    data = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      data[i] = itemSize === 4 ? view.getFloat32(dataStart + 4 * i, true) : view.getFloat64(dataStart + 8 * i, true);
    }
  }
  return { data: fortran && shape.length > 1 ? fortranToC(data, shape) : data, shape };
}

/** Reorders column-major (Fortran) data of `shape` into row-major (C) order. */
function fortranToC(src: Float32Array, shape: number[]): Float32Array {
  const nd = shape.length;
  const out = new Float32Array(src.length);
  if (src.length === 0) return out;
  // Fortran strides: stride[k] = prod(shape[0..k-1])
  const fstride = new Array<number>(nd);
  let s = 1;
  for (let k = 0; k < nd; k++) {
    fstride[k] = s;
    s *= shape[k];
  }
  const idx = new Array<number>(nd).fill(0);
  let f = 0; // Fortran offset of the current C-order index
  for (let c = 0; c < out.length; c++) {
    out[c] = src[f];
    // increment the C-order multi-index (last axis fastest)
    for (let k = nd - 1; k >= 0; k--) {
      idx[k]++;
      f += fstride[k];
      if (idx[k] < shape[k]) break;
      f -= fstride[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

/**
 * Writes a float32 array as a .npy file exactly as `numpy.save` does (version 1.0, '<f4',
 * C order, header padded with spaces to a 64-byte boundary; version 2.0 only if the header
 * would not fit in 64 KiB). Throws InputError if `shape` does not match `data.length`.
 */
export function writeNpy(data: Float32Array, shape: readonly number[]): Uint8Array<ArrayBuffer> {
  if (!(data instanceof Float32Array)) throw new InputError('writeNpy: data must be a Float32Array', 'E_NPY');
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new InputError(`writeNpy: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`, 'E_NPY');
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new InputError(
      `writeNpy: shape [${shape.join(', ')}] has ${count} elements but data has ${data.length}`,
      'E_NPY',
    );
  }
  const shapeRepr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeRepr}, }`;
  if (shape.length > 0) header += ' '.repeat(Math.max(0, 21 - String(shape[0]).length));
  const hlen = header.length + 1;
  let prefixLen = 10;
  let padlen = ALIGN - ((prefixLen + hlen) % ALIGN);
  let major = 1;
  if (hlen + padlen > 0xffff) {
    major = 2;
    prefixLen = 12;
    padlen = ALIGN - ((prefixLen + hlen) % ALIGN);
  }
  const total = prefixLen + hlen + padlen;
  const out = new Uint8Array(total + data.length * 4);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, hlen + padlen, true);
  else view.setUint32(8, hlen + padlen, true);
  for (let i = 0; i < header.length; i++) out[prefixLen + i] = header.charCodeAt(i);
  out.fill(0x20, prefixLen + header.length, total - 1);
  out[total - 1] = 0x0a;
  if (isLittleEndianHost()) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  } else {
    for (let i = 0; i < data.length; i++) view.setFloat32(total + 4 * i, data[i], true);
  }
  return out;
}
