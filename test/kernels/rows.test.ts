// Layer norm and softmax kernels (rows × features): WASM vs the reference at odd sizes, in place, after memory
// growth, plus exact hand values and the float64 statistics on rows with large offsets.
import { describe, expect, test } from 'vitest';
import { MODES, both, expectClose, growAgain, makePair, randArray, runnableVariants } from './harness.js';

const FEATURES = [1, 3, 7, 17, 768];
const ROWS = [1, 2, 5];
/** WASM and reference both compute in float64 and round once; only the summation order differs. */
const TOL = 2.5e-7;

describe.each(runnableVariants())('layer norm and softmax kernels (%s)', (variant) => {
  describe.each(MODES)('%s memory', (mode) => {
    const p = makePair(variant, mode);

    test('layerNormForward / layerNormAttnLrp / layerNormGradient, with and without weight and bias', () => {
      let seed = 1;
      for (const F of FEATURES)
        for (const rows of ROWS)
          for (const affine of [true, false]) {
            const len = rows * F;
            const x = p.f32(randArray(len, (seed += 10), -3, 3));
            const w = affine ? p.f32(randArray(F, seed + 1, -2, 2)) : 0;
            const b = affine ? p.f32(randArray(F, seed + 2, -1, 1)) : 0;
            const y = p.f32(randArray(len, seed + 3, 50, 60));
            const r = p.f32(randArray(len, seed + 4));
            const out = p.f32(randArray(len, seed + 5, 50, 60));
            const l = `F=${F} rows=${rows} affine=${affine}`;
            const eps = 1e-5;
            both(p, (k, at) => k.layerNormForward(at(x), at(w), at(b), at(y), rows, F, eps));
            // a single feature normalises to 0: only the bias is left (exact zeros without one)
            expectClose(p, y, `layerNormForward ${l}`, TOL, F > 1 || affine);
            both(p, (k, at) => k.layerNormAttnLrp(at(x), at(y), at(w), at(r), at(out), rows, F, eps, 1e-6));
            expectClose(p, out, `layerNormAttnLrp ${l}`, TOL, F > 1);
            both(p, (k, at) => k.layerNormGradient(at(x), at(w), at(r), at(out), rows, F, eps));
            expectClose(p, out, `layerNormGradient ${l}`, TOL, F > 1);
            // in place: relevance over r, gradient over x, forward over x
            both(p, (k, at) => k.layerNormAttnLrp(at(x), at(y), at(w), at(r), at(r), rows, F, eps, 1e-6));
            expectClose(p, r, `layerNormAttnLrp into r ${l}`, TOL, F > 1);
            both(p, (k, at) => k.layerNormGradient(at(x), at(w), at(y), at(y), rows, F, eps));
            expectClose(p, y, `layerNormGradient into g ${l}`, TOL, false);
            both(p, (k, at) => k.layerNormForward(at(x), at(w), at(b), at(x), rows, F, eps));
            expectClose(p, x, `layerNormForward in place ${l}`, TOL, F > 1 || affine);
            p.release();
          }
      growAgain(p, mode);
    });

    test('softmaxForward / softmaxAttnLrp / softmaxGradient', () => {
      let seed = 500;
      for (const F of FEATURES)
        for (const rows of ROWS) {
          const len = rows * F;
          const x = p.f32(randArray(len, (seed += 10), -8, 8));
          const y = p.f32(randArray(len, seed + 1, 50, 60));
          const r = p.f32(randArray(len, seed + 2));
          const out = p.f32(randArray(len, seed + 3, 50, 60));
          const l = `F=${F} rows=${rows}`;
          both(p, (k, at) => k.softmaxForward(at(x), at(y), rows, F));
          expectClose(p, y, `softmaxForward ${l}`, TOL);
          both(p, (k, at) => k.softmaxAttnLrp(at(x), at(y), at(r), at(out), rows, F));
          expectClose(p, out, `softmaxAttnLrp ${l}`, TOL, F > 1);
          both(p, (k, at) => k.softmaxGradient(at(y), at(r), at(out), rows, F));
          expectClose(p, out, `softmaxGradient ${l}`, TOL, F > 1);
          both(p, (k, at) => k.softmaxAttnLrp(at(x), at(y), at(r), at(r), rows, F));
          expectClose(p, r, `softmaxAttnLrp into r ${l}`, TOL, F > 1);
          both(p, (k, at) => k.softmaxForward(at(x), at(x), rows, F));
          expectClose(p, x, `softmaxForward in place ${l}`, TOL);
          p.release();
        }
      growAgain(p, mode);
    });

    test('softmaxForward: rows longer than the kernel keeps in its workspace (16384) and at the limit', () => {
      for (const F of [16384, 16385, 20001]) {
        const x = p.f32(randArray(2 * F, F, -8, 8)), y = p.f32(2 * F);
        both(p, (k, at) => k.softmaxForward(at(x), at(y), 2, F));
        expectClose(p, y, `softmaxForward F=${F}`, TOL);
        p.release();
      }
    });

    test('exact values', () => {
      const k = p.wasm.kernels;
      // [1, 3]: mean 2, variance 1 → [-1, 1]; [5, 5, 5, 5, 5]: all 0 then the bias
      const x = p.f32(Float32Array.from([1, 3])), y = p.f32(2);
      k.layerNormForward(x.w, 0, 0, y.w, 1, 2, 0);
      expect(Array.from(p.readWasm(y))).toEqual([-1, 1]);
      const c = p.f32(new Float32Array(5).fill(5)), b = p.f32(Float32Array.from([1, 2, 3, 4, 5])), yc = p.f32(5);
      k.layerNormForward(c.w, 0, b.w, yc.w, 1, 5, 1e-5);
      expect(Array.from(p.readWasm(yc))).toEqual([1, 2, 3, 4, 5]);
      // equal logits share equally; -inf gets nothing
      const s = p.f32(Float32Array.from([2, 2, 2, 2, 2, 2, 2, 2, -Infinity])), ys = p.f32(9);
      k.softmaxForward(s.w, ys.w, 1, 9);
      expect(Array.from(p.readWasm(ys))).toEqual([...new Array(8).fill(0.125), 0]);
      // AttnLRP softmax: x·(r − s·Σr) with −∞ counted as 0
      const r = p.f32(Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0, 5])), out = p.f32(9);
      k.softmaxAttnLrp(s.w, ys.w, r.w, out.w, 1, 9);
      expect(Array.from(p.readWasm(out))).toEqual([2 * (1 - 0.75), ...new Array(7).fill(2 * -0.75), 0]);
      p.release();
    });

    test('float64 statistics: a row far from zero keeps float32 accuracy', () => {
      const F = 768;
      const xd = randArray(F, 77, -1, 1).map((v) => 1e4 + v);
      const x = p.f32(xd), y = p.f32(F);
      p.wasm.kernels.layerNormForward(x.w, 0, 0, y.w, 1, F, 1e-5);
      let mean = 0;
      for (const v of xd) mean += v / F;
      let variance = 0;
      for (const v of xd) variance += (v - mean) ** 2 / F;
      const got = p.readWasm(y);
      for (let i = 0; i < F; i++) {
        const want = (xd[i] - mean) / Math.sqrt(variance + 1e-5);
        expect(Math.abs(got[i] - want)).toBeLessThanOrEqual(2 ** -23 * Math.max(1, Math.abs(want)));
      }
      p.release();
    });
  });
});
