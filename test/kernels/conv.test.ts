import { describe, test, expect } from 'vitest';
import { DESC_INTS } from '../../src/kernels/abi.js';
import { MODES, Pair, both, expectClose, growAgain, makePair, randArray, relErr, runnableVariants, scratchFor, dirtyScratch } from './harness.js';

interface Conv {
  n: number; C: number; H: number; W: number; O: number; KH: number; KW: number;
  SH?: number; SW?: number; PT?: number; PB?: number; PL?: number; PR?: number; DH?: number; DW?: number; G?: number;
}

function descOf(c: Conv): Int32Array | null {
  const SH = c.SH ?? 1, SW = c.SW ?? 1, PT = c.PT ?? 0, PB = c.PB ?? PT, PL = c.PL ?? 0, PR = c.PR ?? PL;
  const DH = c.DH ?? 1, DW = c.DW ?? 1, G = c.G ?? 1;
  const OH = Math.floor((c.H + PT + PB - DH * (c.KH - 1) - 1) / SH) + 1;
  const OW = Math.floor((c.W + PL + PR - DW * (c.KW - 1) - 1) / SW) + 1;
  if (OH <= 0 || OW <= 0) return null;
  const d = new Int32Array(DESC_INTS);
  d.set([c.C, c.H, c.W, c.O, c.KH, c.KW, SH, SW, PT, PL, DH, DW, G, OH, OW]);
  return d;
}

function label(c: Conv): string {
  return JSON.stringify(c).replace(/"/g, '');
}

/** Runs forward (bias / no bias) and transpose (acc 0 / 1) on both backends; returns false if the shape is empty. */
function convCase(p: Pair, c: Conv, seed: number): boolean {
  const d = descOf(c);
  if (!d) return false;
  const [OH, OW] = [d[13], d[14]];
  const G = c.G ?? 1;
  const desc = p.i32(d);
  const x = p.f32(randArray(c.n * c.C * c.H * c.W, seed));
  const w = p.f32(randArray(c.O * (c.C / G) * c.KH * c.KW, seed + 1));
  const b = p.f32(randArray(c.O, seed + 2));
  const ylen = c.n * c.O * OH * OW;
  const y = p.f32(randArray(ylen, seed + 3, 50, 60));
  const scratch = scratchFor(p, d);
  const l = label(c);
  both(p, (k, at) => k.conv2dForward(at(desc), at(x), at(w), at(b), at(y), at(scratch), c.n));
  expectClose(p, y, `conv2dForward bias ${l}`);
  dirtyScratch(p, scratch, p.wasm.kernels.convScratchBytes(d));
  both(p, (k, at) => k.conv2dForward(at(desc), at(x), at(w), 0, at(y), at(scratch), c.n));
  expectClose(p, y, `conv2dForward no-bias ${l}`);

  const g = p.f32(randArray(ylen, seed + 4));
  const out = p.f32(randArray(c.n * c.C * c.H * c.W, seed + 5, 50, 60));
  both(p, (k, at) => k.conv2dTranspose(at(desc), at(g), at(w), at(out), at(scratch), c.n, 0));
  expectClose(p, out, `conv2dTranspose acc=0 ${l}`);
  p.set(out, randArray(c.n * c.C * c.H * c.W, seed + 6));
  dirtyScratch(p, scratch, p.wasm.kernels.convScratchBytes(d));
  both(p, (k, at) => k.conv2dTranspose(at(desc), at(g), at(w), at(out), at(scratch), c.n, 1));
  expectClose(p, out, `conv2dTranspose acc=1 ${l}`);
  p.release();
  return true;
}

describe.each(runnableVariants())('conv2d (%s)', (variant) => {
  describe.each(MODES)('%s memory', (mode) => {
    const p = makePair(variant, mode);

    test('kernel 1/3/5 x stride 1/2/3 x padding 0/1/2, non-square, C=5 -> O=7', () => {
      let seed = 100, ran = 0;
      for (const K of [1, 3, 5])
        for (const S of [1, 2, 3])
          for (const P of [0, 1, 2])
            for (const n of [1, 3]) if (convCase(p, { n, C: 5, H: 9, W: 13, O: 7, KH: K, KW: K, SH: S, SW: S, PT: P, PL: P }, (seed += 10))) ran++;
      expect(ran).toBeGreaterThan(40);
    });

    test('widths 1,3,5,7,13,33 (every SIMD remainder) and rectangular kernels', () => {
      let seed = 2000;
      for (const W of [1, 3, 5, 7, 13, 33])
        for (const [KH, KW] of [[1, 1], [3, 3], [1, 3], [3, 1], [3, 5]])
          convCase(p, { n: 2, C: 3, H: 5, W, O: 6, KH, KW, PT: KH >> 1, PL: KW >> 1 }, (seed += 10));
      for (const W of [5, 7, 13, 33])
        for (const S of [2, 3]) convCase(p, { n: 1, C: 2, H: 4, W, O: 5, KH: 3, KW: 3, SH: 1, SW: S, PT: 1, PL: 1 }, (seed += 10));
    });

    test('asymmetric padding, dilation 2, mixed strides', () => {
      growAgain(p, mode);
      let seed = 3000;
      const cases: Conv[] = [
        { n: 2, C: 3, H: 10, W: 7, O: 5, KH: 3, KW: 3, PT: 1, PB: 0, PL: 2, PR: 1 },
        { n: 1, C: 4, H: 8, W: 11, O: 3, KH: 5, KW: 3, SH: 2, SW: 1, PT: 0, PB: 2, PL: 1, PR: 0 },
        { n: 2, C: 3, H: 12, W: 9, O: 5, KH: 3, KW: 3, DH: 2, DW: 2, PT: 2, PL: 2 },
        { n: 1, C: 5, H: 13, W: 13, O: 6, KH: 3, KW: 5, DH: 2, DW: 2, SH: 2, SW: 3, PT: 1, PB: 2, PL: 0, PR: 3 },
        { n: 3, C: 2, H: 7, W: 6, O: 3, KH: 2, KW: 2, SH: 2, SW: 2 },
        { n: 1, C: 1, H: 1, W: 33, O: 4, KH: 1, KW: 5, PL: 2 },
        { n: 2, C: 7, H: 6, W: 5, O: 9, KH: 3, KW: 3, SH: 3, SW: 2, PT: 2, PL: 1, PR: 2 },
      ];
      for (const c of cases) expect(convCase(p, c, (seed += 10)), label(c)).toBe(true);
    });

    test('groups 2, depthwise, depthwise multiplier 2, channels not divisible by 4', () => {
      let seed = 4000;
      const cases: Conv[] = [
        { n: 2, C: 6, H: 9, W: 10, O: 4, KH: 3, KW: 3, PT: 1, PL: 1, G: 2 },
        { n: 1, C: 10, H: 7, W: 7, O: 6, KH: 3, KW: 3, SH: 2, SW: 2, PT: 1, PL: 1, G: 2 },
        { n: 2, C: 6, H: 9, W: 13, O: 6, KH: 3, KW: 3, PT: 1, PL: 1, G: 6 },
        { n: 1, C: 5, H: 11, W: 7, O: 5, KH: 5, KW: 5, SH: 2, SW: 2, PT: 2, PL: 2, G: 5 },
        { n: 2, C: 4, H: 8, W: 8, O: 8, KH: 3, KW: 3, PT: 1, PL: 1, G: 4 },
        { n: 1, C: 3, H: 9, W: 9, O: 9, KH: 3, KW: 3, DH: 2, DW: 2, PT: 2, PL: 2, G: 3 },
        { n: 2, C: 13, H: 5, W: 7, O: 11, KH: 3, KW: 3, PT: 1, PL: 1 },
        { n: 2, C: 6, H: 5, W: 7, O: 9, KH: 1, KW: 1, G: 3 },
        // pure depthwise (direct per-tap path): strides 1/2/3, dilation, asymmetric padding, widths
        { n: 2, C: 7, H: 10, W: 17, O: 7, KH: 3, KW: 5, SH: 2, SW: 3, PT: 0, PB: 2, PL: 2, PR: 1, DH: 2, G: 7 },
        { n: 1, C: 3, H: 9, W: 33, O: 3, KH: 3, KW: 3, SH: 2, SW: 2, PT: 1, PL: 1, G: 3 },
        { n: 1, C: 3, H: 6, W: 33, O: 3, KH: 3, KW: 3, SW: 2, PT: 2, PL: 2, DH: 2, DW: 2, G: 3 },
        { n: 3, C: 5, H: 7, W: 13, O: 5, KH: 1, KW: 3, PL: 0, PR: 2, G: 5 },
        { n: 1, C: 2, H: 5, W: 1, O: 2, KH: 3, KW: 1, PT: 1, G: 2 },
      ];
      for (const c of cases) expect(convCase(p, c, (seed += 10)), label(c)).toBe(true);
    });

    test('the bias is added to each output as one float addition: forward with bias = forward without + b, bit for bit', () => {
      // Kd <= 256: one GEMM slice, so the sum without bias is the one the bias is added to (fewer than 4
      // output channels take the GEMM's row-by-row path instead, which adds each term onto the bias)
      const cases: Conv[] = [
        { n: 2, C: 24, H: 9, W: 13, O: 7, KH: 1, KW: 1 }, // pointwise, edge tiles (7 rows, 117 columns)
        { n: 1, C: 5, H: 11, W: 11, O: 13, KH: 3, KW: 3, PT: 1, PL: 1, SH: 2, SW: 2 }, // im2col
        { n: 1, C: 9, H: 1, W: 1, O: 4, KH: 1, KW: 1 }, // one column: the dot-product path
      ];
      let seed = 4500;
      for (const c of cases) {
        const d = descOf(c)!;
        const k = p.wasm.kernels;
        const desc = p.i32(d), x = p.f32(randArray(c.n * c.C * c.H * c.W, (seed += 10))), w = p.f32(randArray(c.O * c.C * c.KH * c.KW, seed + 1));
        const b = p.f32(randArray(c.O, seed + 2, -3, 3)), scratch = scratchFor(p, d);
        const plane = d[13] * d[14], y = p.f32(c.n * c.O * plane), y0 = p.f32(c.n * c.O * plane);
        const bias = p.wasm.memory.f32().slice(b.w >>> 2, (b.w >>> 2) + c.O);
        k.conv2dForward(desc.w, x.w, w.w, b.w, y.w, scratch.w, c.n);
        k.conv2dForward(desc.w, x.w, w.w, 0, y0.w, scratch.w, c.n);
        const f = p.wasm.memory.f32(), got = new Float32Array(y.len), want = new Float32Array(y.len);
        for (let i = 0; i < y.len; i++) {
          got[i] = f[(y.w >>> 2) + i];
          want[i] = f[(y0.w >>> 2) + i] + bias[Math.floor(i / plane) % c.O];
        }
        let bad = -1;
        for (let i = 0; i < y.len && bad < 0; i++) if (!Object.is(got[i], want[i])) bad = i;
        expect(bad, `${label(c)}: element ${bad}, ${got[bad]} vs ${want[bad]}`).toBe(-1);
        p.release();
      }
    });

    test('pointwise 1x1 (no im2col) and larger GEMM blocking (K > 256, M > 96)', () => {
      growAgain(p, mode);
      let seed = 5000;
      const cases: Conv[] = [
        { n: 2, C: 5, H: 7, W: 5, O: 33, KH: 1, KW: 1 },
        { n: 1, C: 13, H: 3, W: 11, O: 7, KH: 1, KW: 1 },
        { n: 1, C: 40, H: 6, W: 7, O: 100, KH: 3, KW: 3, PT: 1, PL: 1 },
        { n: 2, C: 64, H: 5, W: 5, O: 20, KH: 3, KW: 3, PT: 1, PL: 1 },
        { n: 1, C: 300, H: 3, W: 3, O: 97, KH: 1, KW: 1 },
        { n: 1, C: 8, H: 28, W: 28, O: 16, KH: 3, KW: 3, PT: 1, PL: 1 },
        // 1×1 planes (squeeze-excitation): 4 output channels and one column take the GEMM's dot-product
        // path, 5 and 12 its packed one
        { n: 2, C: 9, H: 1, W: 1, O: 4, KH: 1, KW: 1 },
        { n: 1, C: 300, H: 1, W: 1, O: 4, KH: 1, KW: 1 },
        { n: 1, C: 24, H: 1, W: 1, O: 5, KH: 1, KW: 1 },
        { n: 3, C: 12, H: 1, W: 1, O: 12, KH: 1, KW: 1 },
      ];
      for (const c of cases) expect(convCase(p, c, (seed += 10)), label(c)).toBe(true);
    });

    test('im2col in several column blocks (block edges inside output rows), groups, strides, dilation', () => {
      growAgain(p, mode);
      let seed = 6000;
      const cases: Conv[] = [
        { n: 2, C: 128, H: 17, W: 19, O: 6, KH: 3, KW: 3, PT: 1, PL: 1 },
        { n: 1, C: 100, H: 37, W: 33, O: 5, KH: 5, KW: 5, SH: 2, SW: 2, PT: 2, PL: 2 },
        { n: 1, C: 60, H: 40, W: 28, O: 3, KH: 3, KW: 3, SW: 3, PT: 1, PB: 0, PL: 0, PR: 2, DH: 2, DW: 2 },
        { n: 2, C: 96, H: 17, W: 17, O: 12, KH: 3, KW: 3, PT: 1, PL: 1, G: 2 },
        { n: 1, C: 4, H: 50, W: 47, O: 4, KH: 5, KW: 5, PT: 2, PL: 2, G: 4 },
        // stride 1 with OW == W (im2col rows are shifted planes): dilated, and asymmetric padding
        { n: 1, C: 100, H: 20, W: 21, O: 5, KH: 3, KW: 3, DH: 2, DW: 2, PT: 2, PL: 2 },
        { n: 2, C: 70, H: 15, W: 23, O: 4, KH: 3, KW: 3, PT: 0, PB: 2, PL: 2, PR: 0 },
      ];
      for (const c of cases) {
        const d = descOf(c)!;
        const Kd = (c.C / (c.G ?? 1)) * c.KH * c.KW;
        // these shapes are chosen so that the column buffer holds fewer than OH*OW positions
        expect(p.wasm.kernels.convScratchBytes(d), label(c)).toBeLessThan(Kd * d[13] * d[14] * 4);
        expect(convCase(p, c, (seed += 10)), label(c)).toBe(true);
      }
    });

    test('convScratchBytes (TS) equals conv2d_scratch_bytes (WASM)', () => {
      const ex = (p.wasm as unknown as { exports: { conv2d_scratch_bytes(d: number): number } }).exports;
      const dp = p.wasm.memory.alloc(64);
      let n = 0;
      for (const C of [1, 3, 8, 64, 100, 512])
        for (const K of [1, 3, 5])
          for (const S of [1, 2])
            for (const P of [0, 1])
              for (const G of [1, C])
                for (const H of [1, 7, 56, 224]) {
                  const d = descOf({ n: 1, C, H, W: H + 3, O: G * 2, KH: K, KW: K, SH: S, SW: S, PT: P, PL: P, G });
                  if (!d) continue;
                  p.wasm.memory.i32().set(d, dp >> 2);
                  expect(p.wasm.kernels.convScratchBytes(d)).toBe(ex.conv2d_scratch_bytes(dp));
                  n++;
                }
      expect(n).toBeGreaterThan(200);
      p.wasm.memory.free(dp);
    });

    test('negative control: a wrong stride in one backend is detected', () => {
      const d = descOf({ n: 1, C: 3, H: 8, W: 8, O: 4, KH: 3, KW: 3, PT: 1, PL: 1 })!;
      const d2 = d.slice();
      d2[6] = 2; d2[13] = 4; // stride 2 in the wasm descriptor, same output buffer size is larger: alloc max
      const descW = p.i32(d2), descR = p.i32(d);
      const x = p.f32(randArray(3 * 64, 1)), w = p.f32(randArray(4 * 27, 2)), y = p.f32(4 * 64);
      const s = scratchFor(p, d);
      p.wasm.kernels.conv2dForward(descW.w, x.w, w.w, 0, y.w, s.w, 1);
      p.ref.kernels.conv2dForward(descR.r, x.r, w.r, 0, y.r, s.r, 1);
      expect(relErr(p.readWasm(y), p.readRef(y)).err).toBeGreaterThan(1e-3);
      p.release();
    });
  });
});
