import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { readNpy, writeNpy } from '../../src/io/npy.js';

// Fixtures written by numpy 2.4 (test/io/fixtures/make_fixtures.py); numpy is not needed to test.
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));

const A23 = [1.5, -2.0, 3.25, 0.0, 1e-3, -7.0].map(Math.fround);
const A234 = Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);

function npyError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).code).toBe('E_NPY');
    return e as InputError;
  }
  throw new Error('expected an InputError, nothing was thrown');
}

/** Hand-made .npy: magic, version, header padded to 64 bytes with '\n', then data bytes. */
function craft(header: string, data: Uint8Array = new Uint8Array(0), major = 1): Uint8Array {
  const enc = new TextEncoder().encode(header);
  const prefix = major === 1 ? 10 : 12;
  let hlen = enc.length + 1;
  hlen += (64 - ((prefix + hlen) % 64)) % 64;
  const out = new Uint8Array(prefix + hlen + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const v = new DataView(out.buffer);
  if (major === 1) v.setUint16(8, hlen, true);
  else v.setUint32(8, hlen, true);
  out.fill(0x20, prefix, prefix + hlen);
  out.set(enc, prefix);
  out[prefix + hlen - 1] = 0x0a;
  out.set(data, prefix + hlen);
  return out;
}

const f32 = (xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);

describe('readNpy', () => {
  it('reads float32 C order (v1.0)', () => {
    const a = readNpy(fixture('f4_c_2x3.npy'));
    expect(a.shape).toEqual([2, 3]);
    expect(a.data).toBeInstanceOf(Float32Array);
    expect([...a.data]).toEqual(A23);
  });

  it('reads float64 and converts to float32', () => {
    const a = readNpy(fixture('f8_c_2x3.npy'));
    expect(a.shape).toEqual([2, 3]);
    expect(a.data).toBeInstanceOf(Float32Array);
    expect([...a.data]).toEqual(A23);
  });

  it('converts Fortran order to C order (f4 3-D, f8 2-D)', () => {
    const a = readNpy(fixture('f4_f_2x3x4.npy'));
    expect(a.shape).toEqual([2, 3, 4]);
    expect([...a.data]).toEqual(A234);
    const b = readNpy(fixture('f8_f_2x3.npy'));
    expect(b.shape).toEqual([2, 3]);
    expect([...b.data]).toEqual(A23);
    // hand-made: Fortran data of shape (2, 3) [[1, 2, 3], [4, 5, 6]] is stored 1 4 2 5 3 6
    const c = readNpy(craft("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f32([1, 4, 2, 5, 3, 6])));
    expect([...c.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads version 2.0 and 3.0 headers', () => {
    expect(fixture('f4_c_2x3_v2.npy')[6]).toBe(2);
    expect(fixture('f4_c_2x3_v3.npy')[6]).toBe(3);
    expect([...readNpy(fixture('f4_c_2x3_v2.npy')).data]).toEqual(A23);
    expect([...readNpy(fixture('f4_c_2x3_v3.npy')).data]).toEqual(A23);
    const f = readNpy(fixture('f4_f_2x3x4_v3.npy'));
    expect(f.shape).toEqual([2, 3, 4]);
    expect([...f.data]).toEqual(A234);
    // hand-made v2 with double quotes, a list shape, no trailing comma and a Python 2 long
    const h = readNpy(craft('{"descr": "<f4", "shape": [2L, 1], "fortran_order": False}', f32([7, 8]), 2));
    expect(h.shape).toEqual([2, 1]);
    expect([...h.data]).toEqual([7, 8]);
  });

  it('reads 1-D, 0-D (scalar) and empty arrays', () => {
    expect(readNpy(fixture('f4_c_1d.npy'))).toEqual({ shape: [5], data: new Float32Array([1, 2, 3, 4, 5]) });
    expect(readNpy(fixture('f4_c_scalar.npy'))).toEqual({ shape: [], data: new Float32Array([42.5]) });
    expect(readNpy(fixture('f4_c_empty_0x3.npy'))).toEqual({ shape: [0, 3], data: new Float32Array(0) });
  });

  it('reads from an unaligned view into a larger buffer', () => {
    const bytes = fixture('f4_c_2x3.npy');
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    expect([...readNpy(big.subarray(3)).data]).toEqual(A23);
  });

  it('rejects unsupported dtypes with a message naming them', () => {
    expect(npyError(() => readNpy(fixture('bad_f4_bigendian.npy'), 'be.npy')).message).toMatch(
      /^be\.npy: big-endian dtype '>f4'/,
    );
    expect(npyError(() => readNpy(fixture('bad_i4.npy'))).message).toMatch(/dtype '<i4' is not supported.*'<f4'/);
    expect(npyError(() => readNpy(fixture('bad_u1.npy'))).message).toMatch(/dtype '\|u1' is not supported/);
    expect(npyError(() => readNpy(fixture('bad_f2.npy'))).message).toMatch(/dtype '<f2' is not supported/);
    expect(npyError(() => readNpy(fixture('bad_object.npy'))).message).toMatch(/object arrays \('\|O'\)/);
    expect(npyError(() => readNpy(fixture('bad_structured.npy'))).message).toMatch(/structured dtype/);
  });

  it('rejects bad magic, versions and truncated files', () => {
    const good = fixture('f4_c_2x3.npy');
    expect(npyError(() => readNpy(new Uint8Array(0))).message).toMatch(/not a \.npy file/);
    expect(npyError(() => readNpy(new TextEncoder().encode('hello, world, not npy'), 'a.npy')).message).toMatch(
      /^a\.npy: not a \.npy file/,
    );
    const v4 = new Uint8Array(good);
    v4[6] = 4;
    expect(npyError(() => readNpy(v4)).message).toMatch(/version 4\.0/);
    const v11 = new Uint8Array(good);
    v11[7] = 1;
    expect(npyError(() => readNpy(v11)).message).toMatch(/version 1\.1/);
    expect(npyError(() => readNpy(good.subarray(0, 60))).message).toMatch(/truncated header/);
    expect(npyError(() => readNpy(good.subarray(0, good.length - 1))).message).toMatch(
      /truncated data: shape \(2, 3\) of <f4 needs 24 bytes, file has 23/,
    );
    const longer = new Uint8Array(good.length + 4);
    longer.set(good);
    expect(npyError(() => readNpy(longer)).message).toMatch(/4 unexpected bytes after the data/);
    const v2 = fixture('f4_c_2x3_v2.npy');
    expect(npyError(() => readNpy(v2.subarray(0, 11))).message).toMatch(/truncated header/);
  });

  it('rejects malformed headers', () => {
    const d = f32([1, 2]);
    const cases: [string, RegExp][] = [
      ["{'descr': '<f4', 'fortran_order': False}", /missing 'shape'/],
      ["{'descr': '<f4', 'shape': (2,)}", /missing 'fortran_order'/],
      ["{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", /fortran_order/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", /'shape' must be a tuple of non-negative integers/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': 2, }", /'shape' must be a tuple/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", /unexpected key 'x'/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'descr': '<f4'}", /duplicate key/],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", /malformed header/],
      ["{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}", /malformed header/],
      ["['descr', '<f4']", /not a dict/],
      ["{'descr': <f4, 'fortran_order': False, 'shape': (2,)}", /malformed header/],
      ['', /malformed header/],
    ];
    for (const [header, re] of cases) {
      expect(npyError(() => readNpy(craft(header, d))).message, header).toMatch(re);
    }
  });
});

describe('writeNpy', () => {
  it('writes exactly the bytes numpy.save writes', () => {
    expect(writeNpy(new Float32Array(A23), [2, 3])).toEqual(fixture('f4_c_2x3.npy'));
    expect(writeNpy(new Float32Array([1, 2, 3, 4, 5]), [5])).toEqual(fixture('f4_c_1d.npy'));
    expect(writeNpy(new Float32Array([42.5]), [])).toEqual(fixture('f4_c_scalar.npy'));
    expect(writeNpy(new Float32Array(0), [0, 3])).toEqual(fixture('f4_c_empty_0x3.npy'));
    const a123 = Float32Array.from({ length: 123 }, (_, i) => i / 8);
    expect(writeNpy(a123, [123, 1])).toEqual(fixture('f4_c_123x1.npy'));
  });

  it('pads the header to 64 bytes and round-trips', () => {
    for (const shape of [[1], [3, 4], [2, 3, 4, 5], [1, 1, 28, 28], [1000000000, 0]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 1e3);
      const bytes = writeNpy(data, shape);
      const hlen = bytes[8] | (bytes[9] << 8);
      expect((10 + hlen) % 64).toBe(0);
      expect(bytes[10 + hlen - 1]).toBe(0x0a);
      expect(bytes.length).toBe(10 + hlen + 4 * n);
      const back = readNpy(bytes);
      expect(back.shape).toEqual(shape);
      expect(back.data).toEqual(data);
    }
  });

  it('writes a subarray view correctly', () => {
    const buf = new Float32Array([9, 1, 2, 3, 9]);
    expect([...readNpy(writeNpy(buf.subarray(1, 4), [3])).data]).toEqual([1, 2, 3]);
  });

  it('rejects a shape that does not match the data', () => {
    expect(npyError(() => writeNpy(new Float32Array(6), [2, 2])).message).toMatch(/\[2, 2\] has 4 elements but data has 6/);
    expect(npyError(() => writeNpy(new Float32Array(2), [2.5])).message).toMatch(/non-negative integers/);
    expect(npyError(() => writeNpy(new Float32Array(2), [-2])).message).toMatch(/non-negative integers/);
    expect(npyError(() => writeNpy([1, 2] as unknown as Float32Array, [2])).message).toMatch(/Float32Array/);
  });
});

describe('readNpy on a Node Buffer', () => {
  it('reads the data of a Buffer that sits inside a larger pool (readFileSync of a small file)', () => {
    const bytes = writeNpy(Float32Array.from([1, 2, 3]), [3]);
    const inPool = Buffer.concat([Buffer.from('12345678'), Buffer.from(bytes)]).subarray(8);
    expect(inPool.byteOffset).toBeGreaterThan(0);
    expect(Array.from(readNpy(inPool).data)).toEqual([1, 2, 3]);
  });
});
