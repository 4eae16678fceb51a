import { describe, test, expect } from 'vitest';
import { MODES, both, expectClose, growAgain, makePair, randArray, runnableVariants } from './harness.js';

const SHAPES: Array<[n: number, C: number, inner: number]> = [
  [1, 1, 1], [1, 3, 5], [2, 3, 37], [3, 7, 1], [2, 5, 1031], [4, 2, 4], [1, 1, 3],
];

/** Values with both signs and exact zeros (the PReLU kink). */
function signed(len: number, seed: number): Float32Array {
  const x = randArray(len, seed, -2, 2);
  for (let i = 0; i < len; i += 5) x[i] = 0;
  return x;
}

describe.each(runnableVariants())('PReLU and channel gate (%s)', (variant) => {
  describe.each(MODES)('%s memory', (mode) => {
    const p = makePair(variant, mode);

    test('preluForward / preluGradient: batches, odd inner sizes, in place', () => {
      let seed = 1;
      for (const [n, C, inner] of SHAPES) {
        const len = n * C * inner;
        const xd = signed(len, (seed += 10));
        xd[len - 1] = -1; // at least one negative: the slope is used
        const x = p.f32(xd), slope = p.f32(randArray(C, seed + 1, -0.5, 0.5));
        const g = p.f32(randArray(len, seed + 2)), y = p.f32(randArray(len, seed + 3, 50, 60));
        const l = `n=${n} C=${C} inner=${inner}`;
        both(p, (k, at) => k.preluForward(at(x), at(slope), at(y), n, C, inner));
        expectClose(p, y, `preluForward ${l}`, 0);
        both(p, (k, at) => k.preluGradient(at(x), at(slope), at(g), at(y), n, C, inner));
        expectClose(p, y, `preluGradient ${l}`, 0);
        both(p, (k, at) => k.preluGradient(at(x), at(slope), at(g), at(g), n, C, inner));
        expectClose(p, g, `preluGradient into g ${l}`, 0);
        both(p, (k, at) => k.preluForward(at(x), at(slope), at(x), n, C, inner));
        expectClose(p, x, `preluForward in place ${l}`, 0);
        p.release();
      }
      // exact values: the slope belongs to the channel, 0 takes the slope's branch in the gradient
      const x = p.f32(Float32Array.from([-2, 0, 3, -4, 5, -6, 1, -1, 0, 2, -2, 4]));
      const slope = p.f32(Float32Array.from([0.5, -0.25]));
      const y = p.f32(12), g = p.f32(new Float32Array(12).fill(2));
      p.wasm.kernels.preluForward(x.w, slope.w, y.w, 2, 2, 3);
      expect(Array.from(p.readWasm(y))).toEqual([-1, 0, 3, 1, 5, 1.5, 1, -0.5, 0, 2, 0.5, 4]);
      p.wasm.kernels.preluGradient(x.w, slope.w, g.w, y.w, 2, 2, 3);
      expect(Array.from(p.readWasm(y))).toEqual([1, 1, 2, -0.5, 2, -0.5, 2, 1, 1, 2, -0.5, 2]);
      p.release();
    });

    test('channelMul: a gate per sample and channel, in place', () => {
      growAgain(p, mode);
      let seed = 300;
      for (const [n, C, inner] of SHAPES) {
        const len = n * C * inner;
        const x = p.f32(randArray(len, (seed += 10))), gate = p.f32(randArray(n * C, seed + 1, 0, 1));
        const y = p.f32(randArray(len, seed + 2, 50, 60));
        both(p, (k, at) => k.channelMul(at(x), at(gate), at(y), n, C, inner));
        expectClose(p, y, `channelMul n=${n} C=${C} inner=${inner}`, 0);
        both(p, (k, at) => k.channelMul(at(x), at(gate), at(x), n, C, inner));
        expectClose(p, x, `channelMul in place n=${n} C=${C} inner=${inner}`, 0);
        p.release();
      }
      const x = p.f32(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8])), gate = p.f32(Float32Array.from([2, 0.5, -1, 10]));
      const y = p.f32(8);
      p.wasm.kernels.channelMul(x.w, gate.w, y.w, 2, 2, 2);
      expect(Array.from(p.readWasm(y))).toEqual([2, 4, 1.5, 2, -5, -6, 70, 80]);
      p.release();
    });

    test('channelDot: overwrite and accumulate', () => {
      growAgain(p, mode);
      let seed = 600;
      for (const [n, C, inner] of SHAPES) {
        const len = n * C * inner;
        const a = p.f32(randArray(len, (seed += 10))), b = p.f32(randArray(len, seed + 1));
        const out = p.f32(randArray(n * C, seed + 2, -1, 1));
        const l = `n=${n} C=${C} inner=${inner}`;
        both(p, (k, at) => k.channelDot(at(a), at(b), at(out), n, C, inner, 1));
        expectClose(p, out, `channelDot accumulate ${l}`, 1e-7);
        both(p, (k, at) => k.channelDot(at(a), at(b), at(out), n, C, inner, 0));
        expectClose(p, out, `channelDot ${l}`, 1e-7);
        p.release();
      }
      const a = p.f32(Float32Array.from([1, 2, 3, 4, 5, 6])), b = p.f32(Float32Array.from([1, 1, 1, -1, 0.5, 2]));
      const out = p.f32(Float32Array.from([100, 200]));
      p.wasm.kernels.channelDot(a.w, b.w, out.w, 1, 2, 3, 1);
      expect(Array.from(p.readWasm(out))).toEqual([100 + 6, 200 + 10.5]);
      p.release();
    });

    test('channelDot sums in float64: a long sum with cancellation keeps float32 accuracy', () => {
      // 1e8 and -1e8 around many small terms: a float32 running sum loses the small ones entirely
      const inner = 40001;
      const ad = randArray(inner, 7, 0, 1), bd = new Float32Array(inner).fill(1);
      ad[0] = 1e8;
      ad[inner - 1] = -1e8;
      let exact = 0;
      for (let i = 0; i < inner; i++) exact += ad[i] * bd[i];
      const a = p.f32(ad), b = p.f32(bd), out = p.f32(1);
      p.wasm.kernels.channelDot(a.w, b.w, out.w, 1, 1, inner, 0);
      expect(Math.abs(p.readWasm(out)[0] - exact)).toBeLessThanOrEqual(2 ** -24 * Math.abs(exact) * 1.0001);
      p.release();
    });
  });
});
