import { describe, test, expect } from 'vitest';
import { DESC_INTS } from '../../src/kernels/abi.js';
import { MODES, Pair, both, expectClose, growAgain, makePair, randArray, rng, runnableVariants } from './harness.js';

interface Pool {
  n: number; C: number; H: number; W: number; KH: number; KW: number;
  SH?: number; SW?: number; PT?: number; PB?: number; PL?: number; PR?: number; DH?: number; DW?: number; ceil?: boolean;
}

/** PyTorch's output size (ceil mode drops a last window that would start in the right padding). */
function outSize(L: number, P0: number, P1: number, D: number, K: number, S: number, ceil: boolean): number {
  const span = L + P0 + P1 - D * (K - 1) - 1;
  let o = (ceil ? Math.ceil(span / S) : Math.floor(span / S)) + 1;
  if (ceil && (o - 1) * S >= L + P0) o--;
  return o;
}

function descOf(c: Pool): Int32Array {
  const SH = c.SH ?? c.KH, SW = c.SW ?? c.KW, PT = c.PT ?? 0, PB = c.PB ?? PT, PL = c.PL ?? 0, PR = c.PR ?? PL;
  const DH = c.DH ?? 1, DW = c.DW ?? 1;
  const OH = outSize(c.H, PT, PB, DH, c.KH, SH, !!c.ceil), OW = outSize(c.W, PL, PR, DW, c.KW, SW, !!c.ceil);
  const d = new Int32Array(DESC_INTS);
  d.set([c.C, c.H, c.W, c.KH, c.KW, SH, SW, PT, PL, DH, DW, OH, OW]);
  return d;
}

/** Values from a small set so that windows contain ties (first-maximum rule). */
function quantized(len: number, seed: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(len);
  for (let i = 0; i < len; i++) a[i] = Math.floor(r() * 5) - 2;
  return a;
}

function poolCase(p: Pair, c: Pool, seed: number, ties: boolean, avg: boolean): void {
  const d = descOf(c);
  const [OH, OW] = [d[11], d[12]];
  expect(OH > 0 && OW > 0, JSON.stringify(c)).toBe(true);
  const desc = p.i32(d);
  const inLen = c.n * c.C * c.H * c.W, outLen = c.n * c.C * OH * OW;
  const x = p.f32(ties ? quantized(inLen, seed) : randArray(inLen, seed));
  const y = p.f32(randArray(outLen, seed + 1, 50, 60));
  const g = p.f32(randArray(outLen, seed + 2));
  const out = p.f32(randArray(inLen, seed + 3, 50, 60));
  const l = JSON.stringify(c);
  if (!avg) {
    const am = p.i32(outLen);
    both(p, (k, at) => k.maxpool2dForward(at(desc), at(x), at(y), at(am), c.n));
    expectClose(p, y, `maxpool2dForward ${l}`, 0);
    expectClose(p, am, `maxpool argmax ${l}`);
    both(p, (k, at) => k.maxpool2dBackward(at(desc), at(g), at(am), at(out), c.n));
    expectClose(p, out, `maxpool2dBackward ${l}`, 1e-6);
  } else {
    const inv = p.f32(randArray(OH * OW, seed + 4, 0.05, 1));
    both(p, (k, at) => k.avgpool2dForward(at(desc), at(x), at(inv), at(y), c.n));
    expectClose(p, y, `avgpool2dForward ${l}`);
    both(p, (k, at) => k.avgpool2dTranspose(at(desc), at(g), at(inv), at(out), c.n));
    expectClose(p, out, `avgpool2dTranspose ${l}`);
  }
  p.release();
}

const POOLS: Pool[] = [
  { n: 2, C: 3, H: 8, W: 8, KH: 2, KW: 2 },
  { n: 1, C: 5, H: 7, W: 13, KH: 2, KW: 2 },
  { n: 2, C: 3, H: 7, W: 13, KH: 2, KW: 2, ceil: true },
  { n: 1, C: 2, H: 9, W: 10, KH: 3, KW: 3, SH: 2, SW: 2, PT: 1, PL: 1 },
  { n: 2, C: 3, H: 10, W: 7, KH: 3, KW: 3, SH: 2, SW: 2, PT: 1, PL: 1, ceil: true },
  { n: 1, C: 3, H: 6, W: 5, KH: 3, KW: 3, SH: 1, SW: 1, PT: 1, PL: 1 },
  { n: 1, C: 7, H: 11, W: 33, KH: 3, KW: 2, SH: 3, SW: 2, PT: 1, PB: 0, PL: 0, PR: 1 },
  { n: 3, C: 1, H: 1, W: 13, KH: 1, KW: 3, SH: 1, SW: 2, PL: 1 },
  { n: 1, C: 4, H: 5, W: 5, KH: 5, KW: 5, SH: 1, SW: 1, PT: 2, PL: 2 },
  { n: 2, C: 2, H: 13, W: 13, KH: 13, KW: 13 },
  { n: 1, C: 3, H: 9, W: 11, KH: 3, KW: 3, SH: 3, SW: 3, ceil: true },
  // 2x2 stride 2 (SIMD interior path): padding shifts, long rows, ceil-mode edges
  { n: 2, C: 3, H: 9, W: 21, KH: 2, KW: 2, PT: 1, PL: 1 },
  { n: 1, C: 2, H: 6, W: 33, KH: 2, KW: 2 },
  { n: 2, C: 2, H: 7, W: 33, KH: 2, KW: 2, ceil: true },
  { n: 1, C: 3, H: 10, W: 40, KH: 2, KW: 2, PT: 0, PB: 1, PL: 1, PR: 0 },
  // rows ending in a SIMD block that overlaps the one before (OW = 5, 7, 14), or too short for one (OW = 3)
  { n: 2, C: 2, H: 4, W: 10, KH: 2, KW: 2 },
  { n: 1, C: 3, H: 6, W: 15, KH: 2, KW: 2 },
  { n: 2, C: 2, H: 28, W: 28, KH: 2, KW: 2 },
  { n: 1, C: 2, H: 4, W: 6, KH: 2, KW: 2 },
  // 3x3 stride 2 (max pooling's SIMD interior path, ResNet's stem pool): padding, none, one-sided, ceil mode,
  // rows whose last SIMD block overlaps the one before (OW = 15, 18), rows too short for a block (W = 9)
  { n: 2, C: 3, H: 11, W: 29, KH: 3, KW: 3, SH: 2, SW: 2, PT: 1, PL: 1 },
  { n: 1, C: 2, H: 9, W: 40, KH: 3, KW: 3, SH: 2, SW: 2 },
  { n: 1, C: 2, H: 24, W: 24, KH: 3, KW: 3, SH: 2, SW: 2, PT: 1, PL: 1 },
  { n: 2, C: 2, H: 8, W: 37, KH: 3, KW: 3, SH: 2, SW: 2, PT: 0, PB: 1, PL: 1, PR: 0 },
  { n: 1, C: 3, H: 13, W: 31, KH: 3, KW: 3, SH: 2, SW: 2, PT: 1, PL: 1, ceil: true },
  { n: 1, C: 2, H: 7, W: 9, KH: 3, KW: 3, SH: 2, SW: 2, PT: 1, PL: 1 },
];

describe.each(runnableVariants())('pooling (%s)', (variant) => {
  describe.each(MODES)('%s memory', (mode) => {
    const p = makePair(variant, mode);

    test('maxpool: padding, ceil mode, strides, non-square, random data', () => {
      let seed = 1;
      for (const c of POOLS) poolCase(p, c, (seed += 10), false, false);
    });

    test('maxpool: ties pick the first maximum; dilation 2', () => {
      growAgain(p, mode);
      let seed = 500;
      for (const c of POOLS) poolCase(p, c, (seed += 10), true, false);
      const dil: Pool[] = [
        { n: 2, C: 3, H: 9, W: 9, KH: 3, KW: 3, SH: 2, SW: 2, DH: 2, DW: 2 },
        { n: 1, C: 2, H: 10, W: 13, KH: 2, KW: 3, SH: 1, SW: 2, DH: 2, DW: 2, PT: 1, PL: 1 },
        { n: 1, C: 3, H: 11, W: 8, KH: 3, KW: 3, SH: 2, SW: 2, DH: 2, DW: 2, PT: 1, PL: 1, ceil: true },
      ];
      for (const c of dil) {
        poolCase(p, c, (seed += 10), true, false);
        poolCase(p, c, (seed += 10), false, false);
      }
    });

    test('avgpool: padding, ceil mode, strides, non-square', () => {
      growAgain(p, mode);
      let seed = 900;
      for (const c of POOLS) poolCase(p, c, (seed += 10), false, true);
    });
  });
});
