/**
 * The split kernels (conv2d forward and transpose, the transpose pair, depthwise, dense forward and transpose, matmul) run
 * part by part on one thread, for parts 1..4 and 8: the parts together give bit for bit the result of
 * parts = 1 (which matches src/reference), every output element is written by exactly one part, and
 * a part reads and writes only its own slice of the scratch.
 */
import { describe, expect, test } from 'vitest';
import type { Backend, Kernels } from '../src/kernels/abi.js';
import { DESC_INTS } from '../src/kernels/abi.js';
import { createReferenceBackend } from '../src/reference/kernels.js';
import { createWasmBackend, type KernelExports, type WasmBackend } from '../src/wasm/index.js';
import { convScratchBytes } from '../src/wasm/scratch.js';
import { EwOp } from '../src/wasm/thread-control.js';
import { randArray, relErr, runnableVariants } from './kernels/harness.js';

/** A float32 NaN with a payload no kernel produces: marks elements no part has written. */
const SENTINEL_BITS = 0x7fc0dead;

interface Operand {
  data: Float32Array | Int32Array;
}

/** One kernel call: its operands, which operand is the output, and how to call it on each backend. */
interface SplitCase {
  label: string;
  operands: Operand[];
  /** Index of the output operand. */
  out: number;
  /** True when the kernel adds into the output (its initial contents matter; not every element must change). */
  accumulates: boolean;
  /** Scratch bytes of one part (conv); 0 for none. */
  scratchBytes: number;
  wasm(ex: KernelExports, ptr: (i: number) => number, scratch: number, part: number, parts: number): void;
  ref(k: Kernels, ptr: (i: number) => number): void;
}

function place(b: Backend, ops: Operand[], extra: number): { ptrs: number[]; scratch: number } {
  const ptrs = ops.map((o) => {
    const p = b.memory.alloc(o.data.length * 4);
    (o.data instanceof Int32Array ? b.memory.i32() : b.memory.f32()).set(o.data, p >>> 2);
    return p;
  });
  return { ptrs, scratch: extra > 0 ? b.memory.alloc(extra) : 0 };
}

function readBits(b: Backend, ptr: number, len: number): Uint32Array {
  return new Uint32Array(b.memory.f32().buffer, ptr, len).slice();
}

function checkSplit(wasm: WasmBackend, c: SplitCase): void {
  const ref = createReferenceBackend();
  const r = place(ref, c.operands, 0);
  c.ref(ref.kernels, (i) => r.ptrs[i]);
  const outLen = c.operands[c.out].data.length;
  const expected = ref.memory.f32().slice(r.ptrs[c.out] >>> 2, (r.ptrs[c.out] >>> 2) + outLen);

  const w = place(wasm, c.operands, 8 * c.scratchBytes);
  const at = (i: number) => w.ptrs[i];
  const out = w.ptrs[c.out];
  const garbage = w.scratch ? randArray(2 * c.scratchBytes, 7, 1e3, 2e3) : null; // 8 parts' slices
  const init = () => {
    if (c.accumulates) wasm.memory.f32().set(c.operands[c.out].data, out >>> 2);
    else new Uint32Array(wasm.memory.f32().buffer, out, outLen).fill(SENTINEL_BITS);
    if (garbage) wasm.memory.f32().set(garbage, w.scratch >>> 2);
  };
  init();
  c.wasm(wasm.exports, at, w.scratch, 0, 1);
  const whole = readBits(wasm, out, outLen);
  const wholeF = new Float32Array(whole.buffer);
  const { err } = relErr(wholeF, expected);
  expect(err, `${c.label}: parts = 1 against the reference`).toBeLessThanOrEqual(1e-5);

  // 2…4 as in tests of a few threads, 8: what 2 threads run (PARTS_PER_THREAD = 4)
  for (const parts of [2, 3, 4, 8]) {
    init();
    for (let p = 0; p < parts; p++) c.wasm(wasm.exports, at, w.scratch, p, parts);
    const got = readBits(wasm, out, outLen);
    let bad = -1;
    for (let i = 0; i < outLen && bad < 0; i++) if (got[i] !== whole[i]) bad = i;
    expect(bad, `${c.label}: ${parts} parts differ from one part at element ${bad}`).toBe(-1);

    // ownership: each part alone writes a set of elements; the sets are disjoint (and cover the output)
    const owner = new Int8Array(outLen).fill(-1);
    let twice = '';
    for (let p = 0; p < parts; p++) {
      init();
      const before = readBits(wasm, out, outLen);
      c.wasm(wasm.exports, at, w.scratch, p, parts);
      const after = readBits(wasm, out, outLen);
      for (let i = 0; i < outLen; i++) {
        if (after[i] === before[i]) continue;
        if (owner[i] >= 0 && !twice) twice = `element ${i} written by parts ${owner[i]} and ${p} of ${parts}`;
        owner[i] = p;
      }
    }
    expect(twice, c.label).toBe('');
    if (!c.accumulates) expect(owner.indexOf(-1), `${c.label}: an element no part of ${parts} writes`).toBe(-1);
  }
  for (const p of [...w.ptrs, ...(w.scratch ? [w.scratch] : [])]) wasm.memory.free(p);
}

interface Conv {
  n: number; C: number; H: number; W: number; O: number; K: number;
  S?: number; P?: number; G?: number;
}

function convDesc(c: Conv): Int32Array {
  const S = c.S ?? 1, P = c.P ?? 0, G = c.G ?? 1;
  const OH = Math.floor((c.H + 2 * P - c.K) / S) + 1;
  const OW = Math.floor((c.W + 2 * P - c.K) / S) + 1;
  const d = new Int32Array(DESC_INTS);
  d.set([c.C, c.H, c.W, c.O, c.K, c.K, S, S, P, P, 1, 1, G, OH, OW]);
  return d;
}

function convCases(c: Conv, seed: number): SplitCase[] {
  const d = convDesc(c);
  const G = c.G ?? 1;
  const x = randArray(c.n * c.C * c.H * c.W, seed);
  const w = randArray(c.O * (c.C / G) * c.K * c.K, seed + 1);
  const b = randArray(c.O, seed + 2);
  const y = randArray(c.n * c.O * d[13] * d[14], seed + 3);
  const name = `conv ${JSON.stringify(c).replace(/"/g, '')}`;
  const scratchBytes = convScratchBytes(d);
  const ops = (): Operand[] => [{ data: d }, { data: x }, { data: w }, { data: b }, { data: y }, { data: x.map((v) => v * 0.5) }];
  return [
    {
      label: `${name} forward`, operands: ops(), out: 4, accumulates: false, scratchBytes,
      wasm: (ex, p, s, part, parts) => ex.conv2d_forward_f32(p(0), p(1), p(2), p(3), p(4), s, c.n, part, parts),
      ref: (k, p) => k.conv2dForward(p(0), p(1), p(2), p(3), p(4), 0, c.n),
    },
    ...[0, 1].map((acc): SplitCase => ({
      label: `${name} transpose acc ${acc}`, operands: ops(), out: 5, accumulates: acc === 1, scratchBytes,
      wasm: (ex, p, s, part, parts) => ex.conv2d_transpose_f32(p(0), p(4), p(2), p(5), s, c.n, acc, part, parts),
      ref: (k, p) => k.conv2dTranspose(p(0), p(4), p(2), p(5), 0, c.n, acc),
    })),
  ];
}

/**
 * conv2d_transpose_pair_f32: outA = J^T(g; wA) (operand 5) and outB = J^T(g; wB) (operand 7) in one call,
 * even parts A's, odd parts B's; one case per output, each against its own reference product.
 */
function pairCases(c: Conv, seed: number): SplitCase[] {
  const d = convDesc(c);
  const G = c.G ?? 1;
  const w = randArray(c.O * (c.C / G) * c.K * c.K, seed + 1), w2 = randArray(w.length, seed + 4);
  const g = randArray(c.n * c.O * d[13] * d[14], seed + 3), out = randArray(c.n * c.C * c.H * c.W, seed + 5);
  const name = `conv ${JSON.stringify(c).replace(/"/g, '')} transpose pair`;
  const ops = (): Operand[] => [{ data: d }, { data: out }, { data: w }, { data: out }, { data: g }, { data: out }, { data: w2 }, { data: out.map((v) => -v) }];
  return [[5, 2], [7, 6]].map(([o, wi]): SplitCase => ({
    label: `${name}, output ${o === 5 ? 'A' : 'B'}`, operands: ops(), out: o, accumulates: false, scratchBytes: convScratchBytes(d),
    wasm: (ex, p, s, part, parts) => ex.conv2d_transpose_pair_f32(p(0), p(4), p(2), p(5), p(6), p(7), s, c.n, part, parts),
    ref: (k, p) => k.conv2dTranspose(p(0), p(4), p(wi), p(o), 0, c.n, 0),
  }));
}

const PAIRS: Conv[] = [
  // a first layer: 3 input channels, 7x7 stride 2 (ResNet's stem), 3x3 (VGG's)
  { n: 1, C: 3, H: 30, W: 30, O: 16, K: 7, S: 2, P: 3 },
  { n: 2, C: 3, H: 20, W: 20, O: 9, K: 3, P: 1 },
  // pointwise, and depthwise
  { n: 2, C: 24, H: 13, W: 13, O: 20, K: 1 },
  { n: 3, C: 5, H: 17, W: 17, O: 10, K: 3, P: 1, G: 5 },
];

const CONVS: Conv[] = [
  // 8 im2col blocks of 256 columns (the last one partial), P = 2025 divisible by neither 2 nor 4:
  // the forward's parts take whole blocks
  { n: 1, C: 64, H: 45, W: 45, O: 6, K: 3, P: 1 },
  // one block (P = 169): the forward's parts take output channels instead, 37 = 9 tiles of 4 and 1
  { n: 2, C: 16, H: 13, W: 13, O: 37, K: 3, P: 1 },
  // three blocks (P = 625): 8 parts are 3 blocks × 2 channel groups (two parts idle), 4 parts one group each
  { n: 1, C: 16, H: 25, W: 25, O: 20, K: 3, P: 1 },
  // one block of 49 columns (a 7×7 plane) and 70 output channels: 8 parts split it into 4 column ranges
  // × 2 channel groups, 4 parts into 4 column ranges (assembly/conv2d.ts blockColumnRanges)
  { n: 2, C: 8, H: 7, W: 7, O: 70, K: 3, P: 1 },
  // batch 3, fewer output channels than the GEMM tile, stride 2
  { n: 3, C: 40, H: 15, W: 11, O: 3, K: 3, S: 2, P: 1 },
  // fewer input channels than parts (transpose: 2 channels, 1 channel)
  { n: 2, C: 2, H: 20, W: 20, O: 9, K: 3, P: 1 },
  { n: 1, C: 1, H: 30, W: 30, O: 5, K: 5, P: 2 },
  // 1x1 stride 2: one tap per channel, so a part of the transpose takes at least 4 channels
  { n: 1, C: 10, H: 14, W: 14, O: 12, K: 1, S: 2 },
  // … and a transposed product deeper than one GEMM K block (300 > 256 output channels)
  { n: 1, C: 6, H: 9, W: 9, O: 300, K: 1, S: 2 },
  // pointwise (no im2col): 16-aligned column ranges, P = 169 (2 parts); output (forward) or input channels
  // (transpose) from 3 parts on, where P < 64 columns per part
  { n: 2, C: 24, H: 13, W: 13, O: 20, K: 1 },
  // … on a 7×7 plane, deeper than one GEMM K block both ways, channels not a multiple of 4
  { n: 1, C: 301, H: 7, W: 7, O: 262, K: 1 },
  // groups
  { n: 1, C: 12, H: 16, W: 16, O: 8, K: 3, P: 1, G: 2 },
  // depthwise, channel multiplier 2 (n*C planes split)
  { n: 3, C: 5, H: 17, W: 17, O: 10, K: 3, P: 1, G: 5 },
];

function denseCases(n: number, inF: number, outF: number, seed: number): SplitCase[] {
  const x = randArray(n * inF, seed), w = randArray(outF * inF, seed + 1), b = randArray(outF, seed + 2);
  const g = randArray(n * outF, seed + 3), out = randArray(n * inF, seed + 4), y = randArray(n * outF, seed + 5);
  const ops = (): Operand[] => [{ data: x }, { data: w }, { data: b }, { data: y }, { data: g }, { data: out }];
  const name = `dense n=${n} in=${inF} out=${outF}`;
  return [
    {
      label: `${name} forward`, operands: ops(), out: 3, accumulates: false, scratchBytes: 0,
      wasm: (ex, p, _s, part, parts) => ex.dense_forward_f32(p(0), p(1), p(2), p(3), n, inF, outF, part, parts),
      ref: (k, p) => k.denseForward(p(0), p(1), p(2), p(3), n, inF, outF),
    },
    ...[0, 1].map((acc): SplitCase => ({
      label: `${name} transpose acc ${acc}`, operands: ops(), out: 5, accumulates: acc === 1, scratchBytes: 0,
      wasm: (ex, p, _s, part, parts) => ex.dense_transpose_f32(p(4), p(1), p(5), n, inF, outF, acc, part, parts),
      ref: (k, p) => k.denseTranspose(p(4), p(1), p(5), n, inF, outF, acc),
    })),
  ];
}

function matmulCases(batch: number, M: number, K: number, N: number, seed: number): SplitCase[] {
  const a = randArray(batch * M * K, seed), b = randArray(batch * K * N, seed + 1), c = randArray(batch * M * N, seed + 2);
  const out: SplitCase[] = [];
  for (const [ta, tb, acc] of [[0, 0, 0], [1, 0, 1], [0, 1, 0], [1, 1, 1]]) {
    out.push({
      label: `matmul batch=${batch} ${M}x${K}x${N} transA ${ta} transB ${tb} acc ${acc}`,
      operands: [{ data: a }, { data: b }, { data: c }], out: 2, accumulates: acc === 1, scratchBytes: 0,
      wasm: (ex, p, _s, part, parts) => ex.matmul_f32(p(0), p(1), p(2), batch, M, K, N, ta, tb, acc, part, parts),
      ref: (k, p) => k.matmul(p(0), p(1), p(2), batch, M, K, N, ta, tb, acc),
    });
  }
  return out;
}

const word = new Int32Array(1), float = new Float32Array(word.buffer);
const bits = (v: number) => ((float[0] = v), word[0]);

/** The element-wise passes the threaded backend splits (EwOp), on len floats: operands a, b, m (a mask), y. */
function elementwiseCases(len: number, seed: number): SplitCase[] {
  const a = randArray(len, seed), b = randArray(len, seed + 1), y = randArray(len, seed + 2, 50, 60);
  const m = randArray(len, seed + 3).map((v) => (v > 0 ? 1 : 0));
  b[0] = 0; // a zero denominator (stabilised)
  const ops = (): Operand[] => [{ data: a }, { data: b }, { data: m }, { data: y }];
  const name = `elementwise len=${len}`;
  const ew = (op: number, p0: number, p1: number, p2: number, p3: number, s0 = 0, s1 = 0) =>
    (ex: KernelExports, p: (i: number) => number, _s: number, part: number, parts: number) =>
      ex.elementwise_part_f32(op, p0 < 0 ? 0 : p(p0), p1 < 0 ? 0 : p(p1), p2 < 0 ? 0 : p(p2), p3 < 0 ? 0 : p(p3), len, bits(s0), bits(s1), 0, part, parts);
  const c = (label: string, accumulates: boolean, wasm: SplitCase['wasm'], ref: SplitCase['ref']): SplitCase =>
    ({ label: `${name} ${label}`, operands: ops(), out: 3, accumulates, scratchBytes: 0, wasm, ref });
  return [
    c('relu', false, ew(EwOp.RELU, 0, 3, -1, -1), (k, p) => k.relu(p(0), p(3), len)),
    c('add', false, ew(EwOp.ADD, 0, 1, 3, -1), (k, p) => k.add(p(0), p(1), p(3), len)),
    c('mul', false, ew(EwOp.MUL, 0, 1, 3, -1), (k, p) => k.mul(p(0), p(1), p(3), len)),
    c('mulAcc', true, ew(EwOp.MUL_ACC, 0, 1, 3, -1, -0.75), (k, p) => k.mulAcc(p(0), p(1), p(3), len, -0.75)),
    c('stabDivide', false, ew(EwOp.STAB_DIVIDE, 0, 1, 3, -1, 1e-3), (k, p) => k.stabDivide(p(0), p(1), p(3), len, 1e-3)),
    c('stabDivideMasked', false, ew(EwOp.STAB_DIVIDE_MASKED, 0, 1, 2, 3, 1e-3, -1), (k, p) => k.stabDivideMasked(p(0), p(1), p(2), p(3), len, 1e-3, -1)),
    c('fill', false, ew(EwOp.FILL, 3, -1, -1, -1, 2.5), (k, p) => k.fill(p(3), len, 2.5)),
    c('copy', false, ew(EwOp.COPY, 0, 3, -1, -1), (k, p) => k.copy(p(0), p(3), len)),
  ];
}

/** gamma_divide in parts (γ = 0.25, eps 1e-6): its two quotient arrays, each checked as a split output. */
function gammaCases(len: number, seed: number): SplitCase[] {
  const r = randArray(len, seed), z = randArray(len, seed + 1), zp = randArray(len, seed + 2, 0, 1);
  const gp = randArray(len, seed + 3, 50, 60), gn = randArray(len, seed + 4, 50, 60);
  // operands: r, z, z⁺, gp, gn, the four constants, 8 flags
  const ops = (): Operand[] => [{ data: r }, { data: z }, { data: zp }, { data: gp }, { data: gn }, { data: new Float32Array([0.25, -1.25, 1.25, 1e-6]) }, { data: new Int32Array(8) }];
  return [3, 4].map((out): SplitCase => ({
    label: `gamma_divide len=${len} ${out === 3 ? 'gp' : 'gn'}`, operands: ops(), out, accumulates: false, scratchBytes: 0,
    wasm: (ex, p, _s, part, parts) => ex.gamma_divide_part_f32(p(0), p(1), p(2), p(3), p(4), len, p(5), p(6), part, parts),
    ref: (k, p) => k.gammaDivide(p(0), p(1), p(2), p(3), p(4), len, 0.25, 1e-6),
  }));
}

const CASES: SplitCase[] = [
  ...CONVS.flatMap((c, i) => convCases(c, 100 + 10 * i)),
  ...PAIRS.flatMap((c, i) => pairCases(c, 400 + 10 * i)),
  // batch 1 (unpacked rows), batch 5 (packed), fewer outputs than a 16-column grain, K > 256 (K blocking)
  ...denseCases(1, 300, 70, 1),
  ...denseCases(5, 37, 50, 2),
  ...denseCases(2, 33, 3, 3),
  ...denseCases(6, 40, 1, 4),
  // one matrix (columns split), several (matrices split, or columns when fewer than the parts)
  ...matmulCases(1, 7, 20, 45, 5),
  ...matmulCases(3, 9, 300, 33, 6),
  ...matmulCases(9, 5, 20, 17, 7),
  // element-wise: several 16-float grains per part and a tail, and fewer grains than parts
  ...elementwiseCases(1000 + 7, 8),
  ...elementwiseCases(37, 9),
  ...gammaCases(1000 + 7, 10),
  ...gammaCases(37, 11),
];

describe.each(runnableVariants())('split scans (has_non_finite, has_negative, has_nonzero), %s build', (variant) => {
  test('each part flags its own range only; the flags together answer the whole scan', () => {
    const wasm = createWasmBackend({ variant });
    const len = 1000 + 7;
    const x = wasm.memory.alloc(len * 4), flags = wasm.memory.alloc(8 * 4);
    const hits: [number, number][] = [[EwOp.HAS_NON_FINITE, NaN], [EwOp.HAS_NON_FINITE, -Infinity], [EwOp.HAS_NEGATIVE, -1e-30], [EwOp.HAS_NONZERO, 1e-40]];
    for (const [op, value] of hits)
      for (const parts of [1, 2, 3, 8])
        for (const at of [-1, 0, 15, 16, 500, len - 1]) {
          // the other elements: 0 (nothing found), positive ones too where the scan is not for non-zeros
          const fillValue = op === EwOp.HAS_NONZERO ? 0 : 2;
          const f = wasm.memory.f32();
          f.fill(fillValue, x >>> 2, (x >>> 2) + len);
          if (at >= 0) f[(x >>> 2) + at] = value;
          for (let p = 0; p < parts; p++) wasm.exports.elementwise_part_f32(op, x, 0, 0, 0, len, 0, 0, flags, p, parts);
          const got = Array.from(wasm.memory.i32().subarray(flags >>> 2, (flags >>> 2) + parts));
          const whole = op === EwOp.HAS_NON_FINITE ? wasm.exports.has_non_finite_f32(x, len) : op === EwOp.HAS_NEGATIVE ? wasm.exports.has_negative_f32(x, len) : wasm.exports.has_nonzero_f32(x, len);
          const label = `op ${op} value ${value} at ${at}, ${parts} parts: ${got}`;
          expect(got.some((g) => g !== 0) ? 1 : 0, label).toBe(whole ? 1 : 0);
          expect(whole ? 1 : 0, label).toBe(at >= 0 ? 1 : 0);
          expect(got.filter((g) => g !== 0).length, label).toBe(at >= 0 ? 1 : 0);
        }
    // gamma_divide's flag: a non-zero gn (z < 0 with relevance) in one part only
    const z = wasm.memory.alloc(len * 4), zp = wasm.memory.alloc(len * 4), gp = wasm.memory.alloc(len * 4), gn = wasm.memory.alloc(len * 4), consts = wasm.memory.alloc(16);
    wasm.memory.f32().set([0.25, -1.25, 1.25, 1e-6], consts >>> 2);
    for (const parts of [1, 3, 8])
      for (const at of [-1, 0, 600, len - 1]) {
        const f = wasm.memory.f32();
        f.fill(1, x >>> 2, (x >>> 2) + len); // r
        f.fill(2, z >>> 2, (z >>> 2) + len);
        f.fill(1, zp >>> 2, (zp >>> 2) + len);
        if (at >= 0) f[(z >>> 2) + at] = -3;
        for (let p = 0; p < parts; p++) wasm.exports.gamma_divide_part_f32(x, z, zp, gp, gn, len, consts, flags, p, parts);
        const got = Array.from(wasm.memory.i32().subarray(flags >>> 2, (flags >>> 2) + parts));
        const whole = wasm.exports.gamma_divide_f32(x, z, zp, gp, gn, len, 0.25, -1.25, 1.25, 1e-6);
        expect(whole, `gamma_divide at ${at}`).toBe(at >= 0 ? 1 : 0);
        expect(got.filter((g) => g !== 0).length, `gamma_divide at ${at}, ${parts} parts: ${got}`).toBe(at >= 0 ? 1 : 0);
      }
  });
});

describe.each(runnableVariants())('split kernels, %s build, parts 1..4 and 8', (variant) => {
  test.each(['fresh', 'grown'])('%s memory', (mode) => {
    const wasm = createWasmBackend({ variant });
    // grown: every buffer sits above a 40 MiB block, after memory.grow
    if (mode === 'grown') wasm.memory.alloc(40 * 2 ** 20);
    for (const c of CASES) checkSplit(wasm, c);
  });
});
