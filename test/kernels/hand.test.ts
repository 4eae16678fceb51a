/** Small hand-computed expectations (independent of the reference backend). */
import { describe, test, expect } from 'vitest';
import { DESC_INTS } from '../../src/kernels/abi.js';
import { createWasmBackend } from '../../src/wasm/index.js';
import { runnableVariants } from './harness.js';

describe.each(runnableVariants())('hand-computed (%s)', (variant) => {
  const be = createWasmBackend({ variant });
  const m = be.memory, k = be.kernels;
  const put = (vals: number[]) => {
    const p = m.alloc(vals.length * 4);
    m.f32().set(vals, p >> 2);
    return p;
  };
  const putI = (vals: number[]) => {
    const d = new Int32Array(DESC_INTS);
    d.set(vals);
    const p = m.alloc(64);
    m.i32().set(d, p >> 2);
    return { p, d };
  };
  const get = (p: number, n: number) => Array.from(m.f32().subarray(p >> 2, (p >> 2) + n));
  const getI = (p: number, n: number) => Array.from(m.i32().subarray(p >> 2, (p >> 2) + n));

  test('dense forward / transpose 2x3 -> 2', () => {
    const x = put([1, 2, 3, 4, 5, 6]); // [2,3]
    const w = put([1, 0, -1, 2, 1, 0]); // [2,3]
    const b = put([0.5, -1]);
    const y = m.alloc(16);
    k.denseForward(x, w, b, y, 2, 3, 2);
    expect(get(y, 4)).toEqual([1 - 3 + 0.5, 2 + 2 - 1, 4 - 6 + 0.5, 8 + 5 - 1]);
    const out = put([10, 10, 10, 10, 10, 10]);
    k.denseTranspose(put([1, 2, 3, 4]), w, out, 2, 3, 2, 1);
    // row0: 1*[1,0,-1] + 2*[2,1,0] = [5,2,-1]; row1: 3*[1,0,-1] + 4*[2,1,0] = [11,4,-3]
    expect(get(out, 6)).toEqual([15, 12, 9, 21, 14, 7]);
    k.denseTranspose(put([1, 2, 3, 4]), w, out, 2, 3, 2, 0);
    expect(get(out, 6)).toEqual([5, 2, -1, 11, 4, -3]);
  });

  test('conv 3x3 pad 1 on a 3x3 image, and its transpose', () => {
    // C H W O KH KW SH SW PT PL DH DW G OH OW
    const { p: d } = putI([1, 3, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 3, 3]);
    const x = put([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const w = put([0, 0, 0, 0, 1, 1, 0, 0, 0]); // y[i,j] = x[i,j] + x[i,j+1]
    const s = m.alloc(k.convScratchBytes(new Int32Array([1, 3, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 3, 3, 0])));
    const y = m.alloc(36);
    k.conv2dForward(d, x, w, put([100]), y, s, 1);
    expect(get(y, 9)).toEqual([103, 105, 103, 109, 111, 106, 115, 117, 109]);
    const out = m.alloc(36);
    k.conv2dTranspose(d, put([1, 0, 0, 0, 0, 0, 0, 0, 1]), w, out, s, 1, 0);
    // g at (0,0) feeds x(0,0) and x(0,1); g at (2,2) feeds x(2,2) only (x(2,3) is padding)
    expect(get(out, 9)).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 1]);
  });

  test('conv stride 2: positions no window reads get 0 in the transpose', () => {
    // 1x1 kernel, stride 2 on 3x3: reads (0,0),(0,2),(2,0),(2,2)
    const desc = [1, 3, 3, 1, 1, 1, 2, 2, 0, 0, 1, 1, 1, 2, 2, 0];
    const { p: d } = putI(desc);
    const s = m.alloc(k.convScratchBytes(new Int32Array(desc)));
    const out = put([9, 9, 9, 9, 9, 9, 9, 9, 9]);
    k.conv2dTranspose(d, put([1, 2, 3, 4]), put([2]), out, s, 1, 0);
    expect(get(out, 9)).toEqual([2, 0, 4, 0, 0, 0, 6, 0, 8]);
  });

  test('depthwise conv (groups = channels)', () => {
    const desc = [2, 1, 3, 2, 1, 2, 1, 1, 0, 0, 1, 1, 2, 1, 2, 0];
    const { p: d } = putI(desc);
    const s = m.alloc(k.convScratchBytes(new Int32Array(desc)));
    const y = m.alloc(16);
    k.conv2dForward(d, put([1, 2, 3, 10, 20, 30]), put([1, 1, 1, -1]), 0, y, s, 1);
    expect(get(y, 4)).toEqual([3, 5, -10, -10]);
  });

  test('maxpool: first maximum wins ties, padding ignored, backward scatters', () => {
    // 1 channel 2x4, kernel 2x2 stride 2
    const { p: d } = putI([1, 2, 4, 2, 2, 2, 2, 0, 0, 1, 1, 1, 2]);
    const x = put([1, 5, 5, 0, 5, 2, -1, -1]);
    const y = m.alloc(8), am = m.alloc(8);
    k.maxpool2dForward(d, x, y, am, 1);
    expect(get(y, 2)).toEqual([5, 5]);
    expect(getI(am, 2)).toEqual([1, 2]);
    const out = m.alloc(32);
    k.maxpool2dBackward(d, put([7, 3]), am, out, 1);
    expect(get(out, 8)).toEqual([0, 7, 3, 0, 0, 0, 0, 0]);
    // padding 1, 3x3 window stride 2 on 2x2 all-negative input: padding must not win (max -1, not 0)
    const { p: d2 } = putI([1, 2, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1]);
    k.maxpool2dForward(d2, put([-3, -1, -2, -4]), y, am, 1);
    expect(get(y, 1)).toEqual([-1]);
    expect(getI(am, 1)).toEqual([1]);
  });

  test('avgpool forward / transpose with invDiv', () => {
    const { p: d } = putI([1, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1, 2, 2]);
    const x = put([1, 2, 3, 4]);
    const inv = put([1 / 9, 1 / 9, 1 / 9, 0.25]);
    const y = m.alloc(16);
    k.avgpool2dForward(d, x, inv, y, 1);
    const r = get(y, 4);
    [10 / 9, 10 / 9, 10 / 9, 2.5].forEach((v, i) => expect(r[i]).toBeCloseTo(v, 6));
    const out = m.alloc(16);
    k.avgpool2dTranspose(d, put([9, 0, 0, 4]), inv, out, 1);
    expect(get(out, 4)).toEqual([2, 2, 2, 2]);
  });

  test('element-wise', () => {
    const a = put([-2, -1, 0, 1, 2]), b = put([4, 0, 0, -1, 0.5]);
    const y = m.alloc(20);
    k.stabDivide(a, b, y, 5, 0.5);
    expect(get(y, 5)).toEqual([-2 / 4.5, -1 / 0.5, 0, 1 / -1.5, 2 / 1].map(Math.fround));
    k.stabDivideMasked(a, b, b, y, 5, 0.5, -1);
    expect(get(y, 5)).toEqual([0, 0, 0, 1 / -1.5, 0].map(Math.fround));
    k.channelAffine(put([1, 2, 3, 4]), put([2, 3]), put([1, -1]), y, 1, 2, 2);
    expect(get(y, 4)).toEqual([3, 5, 8, 11]);
    k.fill(y, 5, 7);
    k.mulAcc(a, b, y, 5, 2);
    expect(get(y, 5)).toEqual([7 - 16, 7, 7, 7 - 2, 7 + 2]);
    const blocks = put([1, 2, 3, 4, 5, 6]);
    const dst = put([0, 0, 0, 0]);
    k.copyBlocks(blocks, dst, 2, 2, 3, 2);
    expect(get(dst, 4)).toEqual([1, 2, 4, 5]);
    k.addBlocks(blocks, dst, 2, 1, 3, 2);
    expect(get(dst, 4)).toEqual([2, 2, 8, 5]);
  });
});

describe('empty sizes are no-ops', () => {
  test('n = 0, len = 0, zero-width dense', () => {
    const be = createWasmBackend({ variant: 'simd' });
    const m = be.memory, k = be.kernels;
    const buf = m.alloc(64);
    m.f32().fill(3, buf >> 2, (buf >> 2) + 16);
    const d = m.alloc(64);
    m.i32().set([2, 3, 3, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 3, 3], d >> 2);
    k.denseForward(buf, buf, 0, buf, 0, 4, 4);
    k.denseTranspose(buf, buf, buf, 0, 4, 4, 0);
    k.conv2dForward(d, buf, buf, 0, buf, buf, 0);
    k.conv2dTranspose(d, buf, buf, buf, buf, 0, 0);
    k.relu(buf, buf, 0);
    k.copy(buf, buf, 0);
    k.fill(buf, 0, 9);
    expect(k.hasNegative(buf, 0)).toBe(0);
    expect(k.hasNonFinite(buf, 0)).toBe(0);
    expect(Array.from(m.f32().subarray(buf >> 2, (buf >> 2) + 16))).toEqual(new Array(16).fill(3));
    // K = 0: y = bias only
    const y = m.alloc(16);
    k.denseForward(buf, buf, buf, y, 2, 0, 2);
    expect(Array.from(m.f32().subarray(y >> 2, (y >> 2) + 4))).toEqual([3, 3, 3, 3]);
    k.denseForward(buf, buf, 0, y, 2, 0, 2);
    expect(Array.from(m.f32().subarray(y >> 2, (y >> 2) + 4))).toEqual([0, 0, 0, 0]);
  });
});
