import { describe, test, expect } from 'vitest';
import { StrideDesc } from '../../src/kernels/abi.js';
import { makeStrideDesc, type StrideLayout } from '../../src/kernels/stride-desc.js';
import { ShapeError } from '../../src/errors.js';
import { MODES, type Pair, both, expectClose, growAgain, makePair, randArray, runnableVariants } from './harness.js';

/** Row-major strides of a shape. */
function rowMajor(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}
const product = (a: number[]) => a.reduce((x, y) => x * y, 1);

/** The gather that transposes a tensor of `shape` by `perm` (output dim k = input dim perm[k]). */
function transpose(shape: number[], perm: number[]): StrideLayout {
  const s = rowMajor(shape);
  return { inSize: product(shape), dims: perm.map((p) => shape[p]), strides: perm.map((p) => s[p]) };
}

interface Named {
  name: string;
  layout: StrideLayout;
  /** Some input element is read by more than one output element (stride-0 dims). */
  repeats: boolean;
}

const LAYOUTS: Named[] = [
  { name: '4-D transpose NCHW -> NHWC-like [0,2,3,1]', layout: transpose([2, 3, 4, 5], [0, 2, 3, 1]), repeats: false },
  { name: '4-D transpose [3,1,0,2]', layout: transpose([3, 5, 2, 7], [3, 1, 0, 2]), repeats: false },
  { name: 'channel shuffle: [g, C/g, H, W] perm [1,0,2,3]', layout: transpose([3, 4, 5, 7], [1, 0, 2, 3]), repeats: false },
  {
    name: 'slice: channels 1..3, rows 1::2, columns 2::3 of [5, 9, 11]',
    layout: { inSize: 5 * 9 * 11, dims: [3, 4, 3], strides: [99, 22, 3], offset: 99 + 11 + 2 },
    repeats: false,
  },
  {
    name: 'crop rows 2..7, columns 3..10 of [3, 10, 12]',
    layout: { inSize: 3 * 10 * 12, dims: [3, 6, 8], strides: [120, 12, 1], offset: 2 * 12 + 3 },
    repeats: false,
  },
  {
    name: 'nearest upsampling x2 of [3, 4, 5]: [3, 4, 2, 5, 2] with stride-0 dims',
    layout: { inSize: 60, dims: [3, 4, 2, 5, 2], strides: [20, 5, 0, 1, 0] },
    repeats: true,
  },
  {
    name: 'nearest upsampling x3 of the rows only of [2, 3, 9]',
    layout: { inSize: 54, dims: [2, 3, 3, 9], strides: [27, 9, 0, 1] },
    repeats: true,
  },
  { name: 'contiguous copy (dims merge into one run)', layout: { inSize: 4 * 6 * 9, dims: [4, 6, 9], strides: [54, 9, 1] }, repeats: false },
  { name: 'rank 1, step 2, offset 1', layout: { inSize: 15, dims: [7], strides: [2], offset: 1 }, repeats: false },
  { name: 'rank 1, contiguous, offset 3', layout: { inSize: 20, dims: [13], strides: [1], offset: 3 }, repeats: false },
  { name: 'rank 1, broadcast', layout: { inSize: 4, dims: [9], strides: [0], offset: 2 }, repeats: true },
  { name: 'rank 0 (one element)', layout: { inSize: 6, dims: [], strides: [], offset: 5 }, repeats: false },
  { name: 'rank 6 transpose', layout: transpose([2, 3, 2, 3, 2, 5], [5, 3, 1, 0, 2, 4]), repeats: false },
  {
    name: 'rank 6: slices, a size-1 dim, a stride-0 dim',
    layout: { inSize: 2 * 3 * 4 * 5 * 6, dims: [2, 1, 2, 3, 2, 3], strides: [360, 7, 60, 6, 0, 2], offset: 1 + 6 },
    repeats: true,
  },
];

test('every layout is in bounds and its descriptor says what it is', () => {
  for (const { name, layout } of LAYOUTS) {
    const d = makeStrideDesc(layout, name);
    expect(d[StrideDesc.RANK]).toBe(layout.dims.length);
    expect(d[StrideDesc.OUT_SIZE]).toBe(product(layout.dims));
    expect(d[StrideDesc.IN_SIZE]).toBe(layout.inSize);
    expect(d[StrideDesc.OFFSET]).toBe(layout.offset ?? 0);
    expect(Array.from(d.subarray(StrideDesc.DIMS, StrideDesc.DIMS + layout.dims.length))).toEqual(layout.dims);
    expect(Array.from(d.subarray(StrideDesc.STRIDES, StrideDesc.STRIDES + layout.dims.length))).toEqual(layout.strides);
  }
});

describe('makeStrideDesc rejects layouts the kernels cannot run safely', () => {
  const ok: StrideLayout = { inSize: 12, dims: [3, 4], strides: [4, 1] };
  test.each([
    ['rank 7', { ...ok, dims: [1, 1, 1, 1, 1, 3, 4], strides: [0, 0, 0, 0, 0, 4, 1] }, /rank 7 exceeds 6/],
    ['strides and dims differ in length', { ...ok, strides: [4] }, /1 strides for 2 dims \[3, 4\]/],
    ['negative stride', { ...ok, strides: [4, -1] }, /stride 1 must be an integer/],
    ['fractional dim', { ...ok, dims: [3, 1.5] }, /dim 1 must be an integer/],
    ['negative offset', { ...ok, offset: -1 }, /offset must be an integer/],
    ['NaN input size', { ...ok, inSize: NaN }, /input size must be an integer/],
    ['reads past the sample', { ...ok, offset: 1 }, /reach input element 12, past the 12 floats of a sample/],
    ['stride too large', { ...ok, strides: [5, 1] }, /reach input element 13/],
  ] as Array<[string, StrideLayout, RegExp]>)('%s', (_, layout, msg) => {
    let err: unknown;
    try {
      makeStrideDesc(layout, 'Slice node "s1"');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShapeError);
    expect((err as ShapeError).code).toBe('E_SHAPE');
    expect((err as Error).message).toMatch(/^Slice node "s1": /);
    expect((err as Error).message).toMatch(msg);
  });
  test('an empty output needs no input', () => {
    expect(makeStrideDesc({ inSize: 0, dims: [3, 0], strides: [7, 1], offset: 0 })[StrideDesc.OUT_SIZE]).toBe(0);
  });
});

/** Sum of a[i] * b[i] in float64, and of |a[i] * b[i]| (the scale of its rounding error). */
function dot(a: ArrayLike<number>, b: ArrayLike<number>): [number, number] {
  let s = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i] * b[i];
    m += Math.abs(a[i] * b[i]);
  }
  return [s, m];
}

function runLayout(p: Pair, { name, layout, repeats }: Named, n: number, seed: number): void {
  const d = makeStrideDesc(layout, name);
  const IN = layout.inSize, OUT = d[StrideDesc.OUT_SIZE];
  const desc = p.i32(d);
  const x = p.f32(randArray(n * IN, seed));
  const y = p.f32(randArray(n * OUT, seed + 1, 50, 60));
  const l = `${name}, n=${n}`;
  both(p, (k, at) => k.stridedGather(at(desc), at(x), at(y), n));
  expectClose(p, y, `gather ${l}`, 0);
  const g = p.f32(randArray(n * OUT, seed + 2));
  const out = p.f32(randArray(n * IN, seed + 3));
  both(p, (k, at) => k.stridedScatterAdd(at(desc), at(g), at(out), n));
  // without repeats every target gets one float32 addition; repeats are summed in another order
  expectClose(p, out, `scatterAdd ${l}`, repeats ? 1e-6 : 0);

  // adjoint: <gather(x), g> == <x, scatterAdd(g) into zeros>
  p.set(out, new Float32Array(n * IN));
  p.wasm.kernels.stridedScatterAdd(desc.w, g.w, out.w, n);
  const [lhs, scale] = dot(p.readWasm(y), p.readWasm(g));
  const [rhs] = dot(p.readWasm(x), p.readWasm(out));
  expect(scale, `adjoint ${l}: vacuous`).toBeGreaterThan(0);
  expect(Math.abs(lhs - rhs), `adjoint ${l}: <gather(x), g> = ${lhs}, <x, scatterAdd(g)> = ${rhs}`).toBeLessThanOrEqual(
    (repeats ? 1e-6 : 1e-13) * scale,
  );
  p.release();
}

describe.each(runnableVariants())('strided gather / scatter-add (%s)', (variant) => {
  describe.each(MODES)('%s memory', (mode) => {
    const p = makePair(variant, mode);

    test.each(LAYOUTS.map((c) => [c.name, c] as const))('%s', (_, c) => {
      for (const n of [1, 3]) runLayout(p, c, n, 17 * n + c.name.length);
    });

    test('exact values: 2x3 transpose, x2 upsampling, rank 0', () => {
      growAgain(p, mode);
      const x = p.f32(Float32Array.from([0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]));
      const y = p.f32(12);
      const t = p.i32(makeStrideDesc({ inSize: 6, dims: [3, 2], strides: [1, 3] }));
      p.wasm.kernels.stridedGather(t.w, x.w, y.w, 2);
      expect(Array.from(p.readWasm(y))).toEqual([0, 3, 1, 4, 2, 5, 10, 13, 11, 14, 12, 15]);
      const up = p.i32(makeStrideDesc({ inSize: 2, dims: [2, 2], strides: [1, 0] }));
      p.wasm.kernels.stridedGather(up.w, x.w, y.w, 2);
      expect(Array.from(p.readWasm(y)).slice(0, 8)).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
      const g = p.f32(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8])), out = p.f32(Float32Array.from([100, 200, 300, 400]));
      p.wasm.kernels.stridedScatterAdd(up.w, g.w, out.w, 2);
      expect(Array.from(p.readWasm(out))).toEqual([103, 207, 311, 415]);
      const r0 = p.i32(makeStrideDesc({ inSize: 6, dims: [], strides: [], offset: 4 }));
      p.wasm.kernels.stridedGather(r0.w, x.w, y.w, 2);
      expect(Array.from(p.readWasm(y)).slice(0, 2)).toEqual([4, 14]);
      p.release();
    });

    test('long contiguous and strided runs (SIMD body and tail), batch 2', () => {
      growAgain(p, mode);
      const runs: Named[] = [
        { name: 'rows 1, 3, 5 of [7, 1031]', layout: { inSize: 7 * 1031, dims: [3, 1031], strides: [2062, 1], offset: 1031 }, repeats: false },
        { name: 'column of a [1031, 3]', layout: { inSize: 3093, dims: [1031], strides: [3], offset: 2 }, repeats: false },
        { name: 'broadcast 1031', layout: { inSize: 3, dims: [3, 1031], strides: [1, 0] }, repeats: true },
      ];
      for (const c of runs) runLayout(p, c, 2, 5);
    });
  });
});
