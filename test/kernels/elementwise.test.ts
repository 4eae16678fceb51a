import { describe, test, expect } from 'vitest';
import { MODES, both, expectClose, growAgain, makePair, randArray, runnableVariants } from './harness.js';

const LENS = [1, 3, 4, 5, 7, 13, 33, 1001, 2077];

describe.each(runnableVariants())('element-wise (%s)', (variant) => {
  describe.each(MODES)('%s memory', (mode) => {
    const p = makePair(variant, mode);

    test('relu, negPart, add, mul, mulAcc, fill, copy', () => {
      let seed = 1;
      for (const len of LENS) {
        const a = p.f32(randArray(len, (seed += 10)));
        const b = p.f32(randArray(len, seed + 1));
        const y = p.f32(randArray(len, seed + 2, 50, 60));
        // relu/negPart must produce something non-zero for len 1: force sign per case
        p.set(a, Float32Array.from(randArray(len, seed + 3), (v, i) => (i === 0 ? 0.5 : v)));
        both(p, (k, at) => k.relu(at(a), at(y), len));
        expectClose(p, y, `relu ${len}`, 0);
        p.set(a, Float32Array.from(randArray(len, seed + 3), (v, i) => (i === 0 ? -0.5 : v)));
        both(p, (k, at) => k.negPart(at(a), at(y), len));
        expectClose(p, y, `negPart ${len}`, 0);
        both(p, (k, at) => k.relu(at(a), at(a), len)); // in place
        expectClose(p, a, `relu in place ${len}`, 0, false);
        p.set(a, randArray(len, seed + 4));
        both(p, (k, at) => k.add(at(a), at(b), at(y), len));
        expectClose(p, y, `add ${len}`, 0);
        both(p, (k, at) => k.mul(at(a), at(b), at(y), len));
        expectClose(p, y, `mul ${len}`, 1e-7);
        both(p, (k, at) => k.mulAcc(at(a), at(b), at(y), len, 0.37));
        expectClose(p, y, `mulAcc ${len}`, 1e-6);
        both(p, (k, at) => k.fill(at(y), len, -2.5));
        expectClose(p, y, `fill ${len}`, 0);
        both(p, (k, at) => k.copy(at(b), at(y), len));
        expectClose(p, y, `copy ${len}`, 0);
        p.release();
      }
      // an exact check that the relu really zeroes negatives (so the comparisons above are not vacuous)
      const x = p.f32(Float32Array.from([-1, 2, -3, 4, -5]));
      const y = p.f32(5);
      p.wasm.kernels.relu(x.w, y.w, 5);
      expect(Array.from(p.readWasm(y))).toEqual([0, 2, 0, 4, 0]);
      p.release();
    });

    test('hasNegative / hasNonFinite at every position class', () => {
      growAgain(p, mode);
      for (const len of LENS) {
        const base = randArray(len, len, 0, 1);
        const x = p.f32(base);
        expect(p.wasm.kernels.hasNegative(x.w, len), `no negative ${len}`).toBe(0);
        expect(p.wasm.kernels.hasNonFinite(x.w, len), `all finite ${len}`).toBe(0);
        for (const pos of new Set([0, len >> 1, len - 1])) {
          for (const [v, neg, nonFinite] of [[-1e-30, 1, 0], [-0, 0, 0], [NaN, 0, 1], [Infinity, 0, 1], [-Infinity, 1, 1]] as const) {
            const d = base.slice();
            d[pos] = v;
            p.set(x, d);
            for (const k of [p.wasm.kernels, p.ref.kernels]) {
              const ptr = k === p.wasm.kernels ? x.w : x.r;
              expect(k.hasNegative(ptr, len), `hasNegative ${v}@${pos}/${len}`).toBe(neg);
              expect(k.hasNonFinite(ptr, len), `hasNonFinite ${v}@${pos}/${len}`).toBe(nonFinite);
            }
          }
        }
        // a prefix length that stops before the bad element
        if (len > 1) {
          const d = base.slice();
          d[len - 1] = -Infinity;
          p.set(x, d);
          expect(p.wasm.kernels.hasNegative(x.w, len - 1)).toBe(0);
          expect(p.wasm.kernels.hasNonFinite(x.w, len - 1)).toBe(0);
        }
        p.release();
      }
    });

    test('hasNonZero at every position class (-0 is zero, NaN is not)', () => {
      growAgain(p, mode);
      for (const len of LENS) {
        const zeros = new Float32Array(len);
        const x = p.f32(zeros);
        expect(p.wasm.kernels.hasNonZero(x.w, len), `all zero ${len}`).toBe(0);
        for (const pos of new Set([0, len >> 1, len - 1])) {
          for (const [v, nonZero] of [[1e-45, 1], [-1e-30, 1], [-0, 0], [NaN, 1], [-Infinity, 1]] as const) {
            const d = zeros.slice();
            d[pos] = v;
            p.set(x, d);
            for (const k of [p.wasm.kernels, p.ref.kernels]) {
              expect(k.hasNonZero(k === p.wasm.kernels ? x.w : x.r, len), `hasNonZero ${v}@${pos}/${len}`).toBe(nonZero);
            }
          }
        }
        if (len > 1) {
          const d = zeros.slice();
          d[len - 1] = 3;
          p.set(x, d);
          expect(p.wasm.kernels.hasNonZero(x.w, len - 1), 'a prefix before the non-zero').toBe(0);
        }
        p.release();
      }
    });

    test('stabDivide and stabDivideMasked (z = 0, z < 0, sign +-1)', () => {
      let seed = 300;
      for (const len of LENS) {
        const r = p.f32(randArray(len, (seed += 10)));
        const zd = randArray(len, seed + 1);
        for (let i = 0; i < len; i += 3) zd[i] = 0; // z == 0 takes +eps
        const z = p.f32(zd);
        const m = p.f32(randArray(len, seed + 2));
        const y = p.f32(randArray(len, seed + 3, 50, 60));
        for (const eps of [1e-6, 0.25]) {
          both(p, (k, at) => k.stabDivide(at(r), at(z), at(y), len, eps));
          expectClose(p, y, `stabDivide eps=${eps} ${len}`, 1e-6);
          for (const sign of [1, -1]) {
            both(p, (k, at) => k.stabDivideMasked(at(r), at(z), at(m), at(y), len, eps, sign));
            expectClose(p, y, `stabDivideMasked eps=${eps} sign=${sign} ${len}`, 1e-6, len > 3);
          }
        }
        p.release();
      }
    });

    test('gammaDivide: against the reference, bit for bit the kernels it fuses, and its flag', () => {
      let seed = 900;
      const gamma = 0.25, eps = 1e-6;
      for (const len of LENS) {
        const rd = randArray(len, (seed += 10));
        const zd = randArray(len, seed + 1);
        for (let i = 0; i < len; i += 5) zd[i] = i % 10 ? 0 : -0; // z == 0 passes nothing
        const z = p.f32(zd);
        const zplus = p.f32(randArray(len, seed + 2, 0, 2)); // f(x; W⁺, b⁺) ≥ 0 on x ≥ 0
        const r = p.f32(rd);
        const gp = p.f32(randArray(len, seed + 3, 50, 60)), gn = p.f32(randArray(len, seed + 4, 50, 60));
        const flags: number[] = [];
        both(p, (k, at) => flags.push(k.gammaDivide(at(r), at(z), at(zplus), at(gp), at(gn), len, gamma, eps)));
        expectClose(p, gp, `gammaDivide gp ${len}`, 1e-6, len > 3);
        expectClose(p, gn, `gammaDivide gn ${len}`, 1e-6, len > 3);
        const anyNeg = zd.some((v, i) => v < 0 && rd[i] !== 0) ? 1 : 0;
        expect(flags, `flag ${len}`).toEqual([anyNeg, anyNeg]);
        // the composition gamma ran before (copy, three mulAcc, stabDivideMasked twice), on the WASM side
        const k = p.wasm.kernels;
        const ones = p.f32(new Float32Array(len).fill(1));
        const zp = p.f32(len), zn = p.f32(len), y = p.f32(len);
        k.copy(z.w, zp.w, len);
        k.mulAcc(zplus.w, ones.w, zp.w, len, gamma);
        k.copy(zplus.w, zn.w, len);
        k.mulAcc(zn.w, ones.w, zn.w, len, -gamma - 1);
        k.mulAcc(z.w, ones.w, zn.w, len, 1 + gamma);
        k.stabDivideMasked(r.w, zp.w, z.w, y.w, len, eps, 1);
        expect(p.readWasm(gp), `gp bits ${len}`).toEqual(p.readWasm(y));
        k.stabDivideMasked(r.w, zn.w, z.w, y.w, len, eps, -1);
        expect(p.readWasm(gn), `gn bits ${len}`).toEqual(p.readWasm(y));
        // no relevance where z < 0 (a ReLU follows): flag 0; a NaN there: flag 1
        const after = rd.map((v, i) => (zd[i] < 0 ? 0 : v));
        p.set(r, after);
        expect(k.gammaDivide(r.w, z.w, zplus.w, gp.w, gn.w, len, gamma, eps), `no negative relevance ${len}`).toBe(0);
        const neg = zd.findIndex((v) => v < 0);
        if (neg >= 0) {
          after[neg] = NaN;
          p.set(r, after);
          expect(k.gammaDivide(r.w, z.w, zplus.w, gp.w, gn.w, len, gamma, eps), `NaN at ${neg}/${len}`).toBe(1);
        }
        p.release();
      }
    });

    test('channelAffine / channelScale, copyBlocks / addBlocks', () => {
      let seed = 700;
      for (const inner of [1, 3, 5, 13, 33]) {
        for (const [n, C] of [[1, 1], [2, 3], [3, 7]]) {
          const len = n * C * inner;
          const x = p.f32(randArray(len, (seed += 10)));
          const sc = p.f32(randArray(C, seed + 1)), sh = p.f32(randArray(C, seed + 2));
          const y = p.f32(randArray(len, seed + 3, 50, 60));
          both(p, (k, at) => k.channelAffine(at(x), at(sc), at(sh), at(y), n, C, inner));
          expectClose(p, y, `channelAffine n=${n} C=${C} inner=${inner}`, 1e-6);
          both(p, (k, at) => k.channelScale(at(x), at(sc), at(y), n, C, inner));
          expectClose(p, y, `channelScale n=${n} C=${C} inner=${inner}`, 1e-6);
          p.release();
        }
      }
      for (const [blocks, blockLen, srcStride, dstStride] of [[1, 1, 1, 1], [3, 5, 7, 13], [4, 13, 13, 33], [2, 33, 40, 33], [5, 7, 7, 7]]) {
        const src = p.f32(randArray(blocks * srcStride, (seed += 10)));
        const dst = p.f32(randArray(blocks * dstStride, seed + 1));
        both(p, (k, at) => k.copyBlocks(at(src), at(dst), blocks, blockLen, srcStride, dstStride));
        expectClose(p, dst, `copyBlocks ${blocks},${blockLen},${srcStride},${dstStride}`, 0);
        both(p, (k, at) => k.addBlocks(at(src), at(dst), blocks, blockLen, srcStride, dstStride));
        expectClose(p, dst, `addBlocks ${blocks},${blockLen},${srcStride},${dstStride}`, 0);
        p.release();
      }
    });
  });
});
