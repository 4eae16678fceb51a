// The direct depthwise kernel (assembly/depthwise.ts: C = G, O = M*G) against the reference conv,
// over the shapes that reach its SIMD interiors, tails and borders in every build.
import { describe, test, expect } from 'vitest';
import { DESC_INTS } from '../../src/kernels/abi.js';
import { MODES, Pair, both, expectClose, growAgain, makePair, randArray, runnableVariants, scratchFor, dirtyScratch } from './harness.js';

interface Dw {
  n: number; C: number; M: number; H: number; W: number; KH: number; KW: number;
  SH?: number; SW?: number; PT?: number; PB?: number; PL?: number; PR?: number; DH?: number; DW?: number;
}

function descOf(c: Dw): Int32Array | null {
  const SH = c.SH ?? 1, SW = c.SW ?? 1, PT = c.PT ?? 0, PB = c.PB ?? PT, PL = c.PL ?? 0, PR = c.PR ?? PL;
  const DH = c.DH ?? 1, DW = c.DW ?? 1;
  const OH = Math.floor((c.H + PT + PB - DH * (c.KH - 1) - 1) / SH) + 1;
  const OW = Math.floor((c.W + PL + PR - DW * (c.KW - 1) - 1) / SW) + 1;
  if (OH <= 0 || OW <= 0) return null;
  const d = new Int32Array(DESC_INTS);
  d.set([c.C, c.H, c.W, c.C * c.M, c.KH, c.KW, SH, SW, PT, PL, DH, DW, c.C, OH, OW]);
  return d;
}

const label = (c: Dw) => JSON.stringify(c).replace(/"/g, '');

/** Forward with and without bias, transpose with accumulate 0 and 1; false if the output would be empty. */
function dwCase(p: Pair, c: Dw, seed: number): boolean {
  const d = descOf(c);
  if (!d) return false;
  const O = c.C * c.M, OH = d[13], OW = d[14];
  // the direct kernel needs no scratch (any scratch pointer, even 0, is ignored)
  expect(p.wasm.kernels.convScratchBytes(d), label(c)).toBe(0);
  const desc = p.i32(d);
  const xlen = c.n * c.C * c.H * c.W, ylen = c.n * O * OH * OW;
  const x = p.f32(randArray(xlen, seed));
  const w = p.f32(randArray(O * c.KH * c.KW, seed + 1));
  const b = p.f32(randArray(O, seed + 2));
  const y = p.f32(randArray(ylen, seed + 3, 50, 60)); // garbage: the forward overwrites
  const scratch = scratchFor(p, d);
  const l = label(c);
  const xBefore = p.readWasm(x), wBefore = p.readWasm(w);
  both(p, (k, at) => k.conv2dForward(at(desc), at(x), at(w), at(b), at(y), at(scratch), c.n));
  expectClose(p, y, `forward bias ${l}`);
  p.set(y, randArray(ylen, seed + 7, 50, 60));
  both(p, (k, at) => k.conv2dForward(at(desc), at(x), at(w), 0, at(y), at(scratch), c.n));
  expectClose(p, y, `forward no-bias ${l}`);

  const g = p.f32(randArray(ylen, seed + 4));
  const out = p.f32(randArray(xlen, seed + 5, 50, 60));
  both(p, (k, at) => k.conv2dTranspose(at(desc), at(g), at(w), at(out), at(scratch), c.n, 0));
  expectClose(p, out, `transpose acc=0 ${l}`);
  p.set(out, randArray(xlen, seed + 6));
  dirtyScratch(p, scratch, p.wasm.kernels.convScratchBytes(d));
  both(p, (k, at) => k.conv2dTranspose(at(desc), at(g), at(w), at(out), at(scratch), c.n, 1));
  expectClose(p, out, `transpose acc=1 ${l}`);
  // inputs are left as they were
  expect(Array.from(p.readWasm(x))).toEqual(Array.from(xBefore));
  expect(Array.from(p.readWasm(w))).toEqual(Array.from(wBefore));
  p.release();
  return true;
}

describe.each(runnableVariants())('depthwise conv2d (%s)', (variant) => {
  describe.each(MODES)('%s memory', (mode) => {
    const p = makePair(variant, mode);

    test('odd widths x kernels 1x1/3x3/5x5/3x1 x stride 1/2 x padding 0/1/2, multiplier 1 and 2', () => {
      growAgain(p, mode);
      let seed = 100, ran = 0;
      for (const W of [1, 3, 5, 7, 13, 17])
        for (const [KH, KW] of [[1, 1], [3, 3], [5, 5], [3, 1]])
          for (const S of [1, 2])
            for (const P of [0, 1, 2])
              for (const M of [1, 2]) {
                const n = (W + KH + S + P + M) % 2 === 0 ? 1 : 3;
                // columns padded at most KW/2 (a 1-wide row padded by 1 on each side would be all zeros)
                const PL = Math.min(P, KW >> 1);
                if (dwCase(p, { n, C: 3, M, H: 6, W, KH, KW, SH: S, SW: S, PT: P, PL }, (seed += 10))) ran++;
              }
      expect(ran).toBeGreaterThan(200);
    });

    test('wide rows reach the 8- and 4-wide SIMD loops and their tails (W = 29..41)', () => {
      let seed = 2000;
      for (const W of [29, 30, 31, 32, 33, 34, 35, 40, 41])
        for (const [K, P] of [[3, 1], [5, 2], [3, 0]])
          for (const S of [1, 2])
            expect(dwCase(p, { n: 1, C: 2, M: 1, H: 7, W, KH: K, KW: K, SH: S, SW: S, PT: P, PL: P }, (seed += 10))).toBe(true);
    });

    test('asymmetric padding, dilation 2, mixed and larger strides, multiplier 3', () => {
      growAgain(p, mode);
      let seed = 3000;
      const cases: Dw[] = [
        { n: 2, C: 3, M: 1, H: 10, W: 17, KH: 3, KW: 3, PT: 1, PB: 0, PL: 2, PR: 1 },
        { n: 1, C: 4, M: 2, H: 9, W: 13, KH: 3, KW: 3, PT: 0, PB: 2, PL: 0, PR: 2 },
        { n: 3, C: 2, M: 1, H: 12, W: 21, KH: 3, KW: 3, DH: 2, DW: 2, PT: 2, PL: 2 },
        { n: 1, C: 3, M: 2, H: 11, W: 23, KH: 3, KW: 3, SH: 2, SW: 2, DH: 2, DW: 2, PT: 2, PL: 2 },
        { n: 1, C: 3, M: 1, H: 9, W: 33, KH: 5, KW: 5, SH: 2, SW: 2, DH: 2, DW: 2, PT: 3, PB: 4, PL: 4, PR: 3 },
        { n: 2, C: 5, M: 1, H: 10, W: 17, KH: 3, KW: 5, SH: 2, SW: 3, PT: 0, PB: 2, PL: 2, PR: 1, DH: 2 },
        // 3x3 stride 1 dilated in rows only (the unrolled 3x3 loops' row step), multiplier 1 and 8
        { n: 2, C: 3, M: 1, H: 13, W: 19, KH: 3, KW: 3, DH: 2, PT: 2, PL: 1 },
        { n: 1, C: 1, M: 8, H: 11, W: 14, KH: 3, KW: 3, DH: 3, PT: 1, PB: 4, PL: 0, PR: 2 },
        { n: 1, C: 2, M: 3, H: 8, W: 19, KH: 3, KW: 3, SH: 1, SW: 2, PT: 1, PL: 1 },
        { n: 1, C: 2, M: 2, H: 9, W: 19, KH: 3, KW: 3, SH: 2, SW: 1, PT: 1, PL: 1 },
        { n: 2, C: 3, M: 1, H: 13, W: 25, KH: 3, KW: 3, SH: 3, SW: 3, PT: 1, PL: 1 },
        { n: 1, C: 2, M: 1, H: 7, W: 20, KH: 2, KW: 4, SH: 2, SW: 2, PT: 0, PB: 1, PL: 1, PR: 2 },
        { n: 1, C: 1, M: 4, H: 6, W: 15, KH: 3, KW: 3, PT: 1, PL: 1 },
        { n: 2, C: 3, M: 2, H: 5, W: 1, KH: 3, KW: 1, PT: 1 },
        // padding wider than the kernel reach: rows and columns of bias only
        { n: 1, C: 2, M: 1, H: 4, W: 9, KH: 3, KW: 3, PT: 3, PL: 4 },
        // kernel larger than the input
        { n: 1, C: 2, M: 2, H: 3, W: 5, KH: 5, KW: 7, PT: 2, PL: 3 },
      ];
      for (const c of cases) expect(dwCase(p, c, (seed += 10)), label(c)).toBe(true);
    });

    test('planes too large for the padded copy in the 128 KiB workspace (bounds-checked gathers)', () => {
      growAgain(p, mode);
      let seed = 5000;
      const cases: Dw[] = [
        { n: 1, C: 1, M: 2, H: 190, W: 190, KH: 3, KW: 3, PT: 1, PL: 1 },
        { n: 2, C: 1, M: 1, H: 189, W: 193, KH: 5, KW: 5, PT: 2, PL: 2, DH: 2, PB: 0, PR: 1 },
        { n: 1, C: 2, M: 1, H: 190, W: 190, KH: 3, KW: 3, SH: 2, SW: 2, PT: 1, PL: 1 },
        { n: 1, C: 1, M: 2, H: 371, W: 373, KH: 3, KW: 3, SH: 2, SW: 2, PT: 1, PL: 0, PR: 1 },
      ];
      for (const c of cases) expect(dwCase(p, c, (seed += 10)), label(c)).toBe(true);
    });

    test('MobileNetV2 / EfficientNet-B0 shaped layers (batch 1 and 3)', () => {
      growAgain(p, mode);
      let seed = 4000;
      const cases: Dw[] = [
        { n: 1, C: 16, M: 1, H: 28, W: 28, KH: 3, KW: 3, PT: 1, PL: 1 },
        { n: 3, C: 8, M: 1, H: 28, W: 28, KH: 3, KW: 3, SH: 2, SW: 2, PT: 1, PL: 1 },
        { n: 1, C: 8, M: 1, H: 14, W: 14, KH: 5, KW: 5, PT: 2, PL: 2 },
        { n: 3, C: 4, M: 1, H: 15, W: 15, KH: 5, KW: 5, SH: 2, SW: 2, PT: 2, PL: 2 },
      ];
      for (const c of cases) expect(dwCase(p, c, (seed += 10)), label(c)).toBe(true);
    });
  });
});
