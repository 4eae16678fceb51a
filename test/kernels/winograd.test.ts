// Winograd F(2,3) and F(4,3) kernels (WASM, every variant, and the TypeScript twin) against a float64
// direct conv: odd sizes (partial edge tiles), C and O not multiples of 4/8, padding 0/1/2 and
// asymmetric, batch 1 and 3, the transposed product with and without accumulate, and the
// (part, parts) split. The error bound below is measured (max over these cases, see ARCHITECTURE.md)
// and asserted with a margin of about 2x.
import { describe, test, expect } from 'vitest';
import { DESC_INTS } from '../../src/kernels/abi.js';
import { winogradFilterFloats } from '../../src/kernels/winograd.js';
import { winogradTile } from '../../src/engine/winograd.js';
import { winogradScratchBytes } from '../../src/wasm/scratch.js';
import type { WasmBackend } from '../../src/wasm/index.js';
import { MODES, Pair, both, expectClose, makePair, randArray, relErr, runnableVariants, type Buf } from './harness.js';

/** positive: inputs, weights and gradients in [0, 1] (as a z⁺ layer after a ReLU sees them), else in [−1, 1]. */
interface Case { n: number; C: number; H: number; W: number; O: number; PT: number; PL: number; PB?: number; PR?: number; positive?: true }

/** max |y − y64| / max |y64| allowed: float32 Winograd vs a float64 direct conv (inputs, weights in [−1, 1]). */
const BOUND = { 2: 8e-7, 4: 8e-6 } as const;
/**
 * Terms per output of the longest sums those bounds were measured on (C = 36: 36·9). Rounding errors of
 * a sum grow like the square root of its length, so a longer sum gets that much more: the C = 257 and
 * O = 258 cases (2313 and 2322 terms) measured up to 9.5e-7 with F(2,3). Packing U changes no sum's order:
 * a 261 -> 262 case gave the same errors (1.36e-6) on the build before the filters were packed.
 */
const BOUND_TERMS = 36 * 9;
const bound = (m: 2 | 4, terms: number) => BOUND[m] * Math.sqrt(Math.max(1, terms / BOUND_TERMS));

function descOf(c: Case): Int32Array {
  const OH = c.H + c.PT + (c.PB ?? c.PT) - 2, OW = c.W + c.PL + (c.PR ?? c.PL) - 2;
  const d = new Int32Array(DESC_INTS);
  d.set([c.C, c.H, c.W, c.O, 3, 3, 1, 1, c.PT, c.PL, 1, 1, 1, OH, OW]);
  return d;
}

/** float64 direct conv of float32 data (forward, bias optional). */
function forward64(c: Case, d: Int32Array, x: Float32Array, w: Float32Array, b: Float32Array | null): Float64Array {
  const [OH, OW] = [d[13], d[14]];
  const y = new Float64Array(c.n * c.O * OH * OW);
  for (let s = 0; s < c.n; s++)
    for (let o = 0; o < c.O; o++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let acc = b ? b[o] : 0;
          for (let ci = 0; ci < c.C; ci++)
            for (let kh = 0; kh < 3; kh++)
              for (let kw = 0; kw < 3; kw++) {
                const ih = oh - c.PT + kh, iw = ow - c.PL + kw;
                if (ih >= 0 && ih < c.H && iw >= 0 && iw < c.W) acc += x[((s * c.C + ci) * c.H + ih) * c.W + iw] * w[((o * c.C + ci) * 3 + kh) * 3 + kw];
              }
          y[((s * c.O + o) * OH + oh) * OW + ow] = acc;
        }
  return y;
}

/** float64 transposed product: out[s,c,h,w] = Σ g[s,o,oh,ow] w[o,c,kh,kw] over the taps reading (h, w). */
function transpose64(c: Case, d: Int32Array, g: Float32Array, w: Float32Array): Float64Array {
  const [OH, OW] = [d[13], d[14]];
  const out = new Float64Array(c.n * c.C * c.H * c.W);
  for (let s = 0; s < c.n; s++)
    for (let o = 0; o < c.O; o++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const gv = g[((s * c.O + o) * OH + oh) * OW + ow];
          for (let ci = 0; ci < c.C; ci++)
            for (let kh = 0; kh < 3; kh++)
              for (let kw = 0; kw < 3; kw++) {
                const ih = oh - c.PT + kh, iw = ow - c.PL + kw;
                if (ih >= 0 && ih < c.H && iw >= 0 && iw < c.W) out[((s * c.C + ci) * c.H + ih) * c.W + iw] += gv * w[((o * c.C + ci) * 3 + kh) * 3 + kw];
              }
        }
  return out;
}

/** Largest error seen per tile size, and of the direct im2col conv for comparison (printed by the last test). */
const seen = { 2: 0, 4: 0, direct: 0 };

/** terms: products summed per output (C·9 forward, O·9 transposed). */
function expectBound(got: ArrayLike<number>, want: Float64Array, m: 2 | 4, terms: number, label: string): void {
  const { err, scale } = relErr(got, want);
  expect(scale, `${label}: vacuous (all-zero reference)`).toBeGreaterThan(0);
  seen[m] = Math.max(seen[m], err);
  expect(err, `${label}: relative error ${err}`).toBeLessThanOrEqual(bound(m, terms));
}

const PARTS = 3;
/** The thread pool's parts on two threads (4 per thread): small planes split output channels there. */
const POOL_PARTS = 8;

function winogradCase(p: Pair, c: Case, m: 2 | 4, seed: number): void {
  const d = descOf(c);
  const [OH, OW] = [d[13], d[14]];
  const label = `F(${m},3) ${JSON.stringify(c).replace(/"/g, '')}`;
  const lo = c.positive ? 0 : -1;
  const xs = randArray(c.n * c.C * c.H * c.W, seed, lo), ws = randArray(c.O * c.C * 9, seed + 1, lo), bs = randArray(c.O, seed + 2);
  const desc = p.i32(d), x = p.f32(xs), w = p.f32(ws), b = p.f32(bs);
  const uf = p.f32(winogradFilterFloats(d, m, false)), ut = p.f32(winogradFilterFloats(d, m, true));
  const partBytes = p.wasm.kernels.winogradScratchBytes(d, m);
  const scratch = p.f32(Math.max(POOL_PARTS * partBytes, p.wasm.kernels.convScratchBytes(d)) / 4);
  p.set(scratch, randArray(scratch.len, seed + 3, 1e3, 2e3)); // garbage: the kernel must not rely on zeros
  p.set(uf, randArray(uf.len, seed + 9, 1e3, 2e3)); // garbage: the panels' padding rows must be written
  p.set(ut, randArray(ut.len, seed + 10, 1e3, 2e3));
  both(p, (k, at) => k.winogradFilter(at(desc), at(w), at(uf), m, 0));
  both(p, (k, at) => k.winogradFilter(at(desc), at(w), at(ut), m, 1));
  expectClose(p, uf, `filter ${label}`, 1e-6);
  expectClose(p, ut, `transposed filter ${label}`, 1e-6);

  // forward, bias and no bias, against float64; the twin too
  const ylen = c.n * c.O * OH * OW;
  const y = p.f32(randArray(ylen, seed + 4, 50, 60));
  const yDirect = p.f32(ylen);
  for (const bias of [b, 0] as const) {
    const want = forward64(c, d, xs, ws, bias ? bs : null);
    both(p, (k, at) => k.winogradForward(at(desc), at(x), at(uf), at(bias), at(y), at(scratch), c.n, m, 0, 1));
    p.checkGuards(label);
    expectBound(p.readWasm(y), want, m, c.C * 9, `forward ${bias ? 'bias' : 'no-bias'} ${label}`);
    expectBound(p.readRef(y), want, m, c.C * 9, `twin forward ${label}`);
    p.wasm.kernels.conv2dForward(desc.w, x.w, w.w, bias ? b.w : 0, yDirect.w, scratch.w, c.n);
    seen.direct = Math.max(seen.direct, relErr(p.readWasm(yDirect), want).err);
  }
  // parts: the same numbers, each output written by exactly one part
  const whole = p.readWasm(y);
  p.set(y, randArray(ylen, seed + 5, 50, 60));
  for (let part = 0; part < PARTS; part++) {
    both(p, (k, at) => k.winogradForward(at(desc), at(x), at(uf), 0, at(y), at(scratch), c.n, m, part, PARTS));
  }
  expect(Array.from(p.readWasm(y)), `parts ${label}`).toEqual(Array.from(whole));
  expectClose(p, y, `twin parts ${label}`, bound(m, c.C * 9) * 2);
  p.set(y, randArray(ylen, seed + 11, 50, 60));
  for (let part = 0; part < POOL_PARTS; part++) p.wasm.kernels.winogradForward(desc.w, x.w, uf.w, 0, y.w, scratch.w, c.n, m, part, POOL_PARTS);
  expect(Array.from(p.readWasm(y)), `${POOL_PARTS} parts ${label}`).toEqual(Array.from(whole));

  // transposed product, overwrite and accumulate
  const gs = randArray(ylen, seed + 6, lo);
  const g = p.f32(gs);
  const inLen = c.n * c.C * c.H * c.W;
  const out = p.f32(randArray(inLen, seed + 7, 50, 60));
  const wantT = transpose64(c, d, gs, ws);
  both(p, (k, at) => k.winogradTranspose(at(desc), at(g), at(ut), at(out), at(scratch), c.n, m, 0, 0, 1));
  expectBound(p.readWasm(out), wantT, m, c.O * 9, `transpose acc=0 ${label}`);
  expectBound(p.readRef(out), wantT, m, c.O * 9, `twin transpose ${label}`);
  const wholeT = p.readWasm(out);
  p.set(out, randArray(inLen, seed + 12, 50, 60));
  for (let part = 0; part < POOL_PARTS; part++) p.wasm.kernels.winogradTranspose(desc.w, g.w, ut.w, out.w, scratch.w, c.n, m, 0, part, POOL_PARTS);
  expect(Array.from(p.readWasm(out)), `${POOL_PARTS} parts transpose ${label}`).toEqual(Array.from(wholeT));
  const prior = randArray(inLen, seed + 8);
  p.set(out, prior);
  for (let part = 0; part < PARTS; part++) {
    both(p, (k, at) => k.winogradTranspose(at(desc), at(g), at(ut), at(out), at(scratch), c.n, m, 1, part, PARTS));
  }
  expectBound(p.readWasm(out), wantT.map((v, i) => v + prior[i]), m, c.O * 9, `transpose acc=1 parts ${label}`);
  p.checkGuards(label);
  p.release();
}

const CASES: Case[] = [
  { n: 1, C: 5, H: 7, W: 9, O: 7, PT: 1, PL: 1 },
  { n: 3, C: 13, H: 10, W: 11, O: 9, PT: 0, PL: 0 },
  { n: 3, C: 3, H: 1, W: 1, O: 2, PT: 1, PL: 1 },
  { n: 1, C: 17, H: 13, W: 23, O: 20, PT: 1, PL: 1 },
  { n: 2, C: 9, H: 6, W: 5, O: 11, PT: 2, PL: 2 },
  { n: 1, C: 6, H: 9, W: 14, O: 5, PT: 1, PL: 0, PB: 0, PR: 1 },
  { n: 2, C: 4, H: 3, W: 3, O: 4, PT: 0, PL: 0 },
  { n: 1, C: 36, H: 16, W: 16, O: 33, PT: 1, PL: 1 },
  // more than one 256-deep slice of the packed filters both ways, rows not a multiple of the panel height
  { n: 1, C: 257, H: 2, W: 3, O: 5, PT: 1, PL: 1, positive: true },
  { n: 1, C: 6, H: 2, W: 3, O: 258, PT: 1, PL: 1, positive: true },
  // more tiles per block than one pass of the packed GEMM takes (120 columns)
  { n: 2, C: 5, H: 40, W: 40, O: 7, PT: 1, PL: 1 },
  // enough tile rows (both tile sizes) for the parts to split rows; the smaller cases split channels
  { n: 4, C: 1, H: 24, W: 256, O: 2, PT: 1, PL: 1 },
];

describe.each(runnableVariants())('winograd (%s)', (variant) => {
  describe.each(MODES)('%s memory', (mode) => {
    const p = makePair(variant, mode);
    for (const m of [2, 4] as const) {
      test(`F(${m}x${m},3x3) vs float64 direct conv: forward, transposed, parts`, () => {
        let seed = 500 * m;
        for (const c of CASES) winogradCase(p, c, m, (seed += 10));
      });
    }
  });
});

describe('winograd scratch', () => {
  test('winogradScratchBytes (TS) equals winograd_scratch_bytes (WASM)', () => {
    const p = new Pair(runnableVariants()[0]);
    const ex = (p.wasm as WasmBackend).exports;
    for (const [C, W, O, OW] of [[3, 5, 7, 5], [64, 224, 64, 224], [512, 14, 512, 14], [1, 1, 1, 3], [300, 57, 17, 55]])
      for (const m of [2, 4]) {
        const d = new Int32Array(DESC_INTS);
        d.set([C, W, W, O, 3, 3, 1, 1, 1, 1, 1, 1, 1, OW, OW]);
        const dp = p.i32(d);
        expect(winogradScratchBytes(d, m)).toBe(ex.winograd_scratch_bytes(dp.w, m));
      }
    p.release();
  });

  test('bad tile size or part is a typed error', () => {
    const p = new Pair(runnableVariants()[0]);
    // (the checks run before any memory is touched, so null pointers are fine)
    for (const k of [p.wasm.kernels, p.ref.kernels]) {
      expect(() => k.winogradFilter(0, 0, 0, 3, 0)).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED' }));
      expect(() => k.winogradForward(0, 0, 0, 0, 0, 0, 1, 2, 1, 1)).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED' }));
      expect(() => k.winogradTranspose(0, 0, 0, 0, 0, 1, 4, 0, 0, 0)).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED' }));
    }
  });

  test('measured error (for ARCHITECTURE.md)', () => {
    console.log(`winograd max relative error vs float64 direct: F(2,3) ${seen[2].toExponential(2)}, F(4,3) ${seen[4].toExponential(2)}, direct im2col ${seen.direct.toExponential(2)}`);
    expect(seen[2]).toBeGreaterThan(0);
  });
});

describe('winograd dispatch rule (src/engine/winograd.ts)', () => {
  const desc = (C: number, H: number, O: number, more: Partial<Record<'K' | 'S' | 'D' | 'G', number>> = {}) => {
    const d = new Int32Array(DESC_INTS);
    const K = more.K ?? 3, S = more.S ?? 1;
    const OH = Math.floor((H + 2 - (more.D ?? 1) * (K - 1) - 1) / S) + 1;
    d.set([C, H, H, O, K, K, S, S, 1, 1, more.D ?? 1, more.D ?? 1, more.G ?? 1, OH, OH]);
    return d;
  };
  test("'auto' takes the measured thresholds, 'on' every 3x3 stride-1 conv, 'off' none", () => {
    expect(winogradTile(desc(64, 56, 64), 'auto')).toBe(4);
    expect(winogradTile(desc(512, 14, 512), 'auto')).toBe(4);
    expect(winogradTile(desc(512, 7, 512), 'on')).toBe(2);
    expect(winogradTile(desc(16, 8, 4), 'auto')).toBe(2);
    expect(winogradTile(desc(8, 56, 64), 'auto')).toBe(0);
    expect(winogradTile(desc(64, 56, 2), 'auto')).toBe(0);
    expect(winogradTile(desc(64, 7, 64), 'auto')).toBe(0);
    expect(winogradTile(desc(3, 224, 64), 'on')).toBe(4);
    expect(winogradTile(desc(64, 56, 64), 'off')).toBe(0);
    for (const more of [{ K: 5 }, { K: 1 }, { S: 2 }, { D: 2 }, { G: 2 }]) expect(winogradTile(desc(64, 56, 64, more), 'on'), JSON.stringify(more)).toBe(0);
  });
});
