import { describe, test, expect } from 'vitest';
import { MODES, both, expectClose, growAgain, makePair, randArray, runnableVariants, rng } from './harness.js';

/** [count, vocab, dim] */
const SHAPES: Array<[number, number, number]> = [[1, 1, 1], [3, 5, 7], [17, 3, 1], [9, 100, 33], [64, 1000, 5], [5, 2, 129]];

function ids(count: number, vocab: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: count }, () => Math.floor(r() * vocab));
}

describe.each(runnableVariants())('embedding (%s)', (variant) => {
  describe.each(MODES)('%s memory', (mode) => {
    const p = makePair(variant, mode);

    test('gathers the rows of valid ids (odd sizes, first and last row)', () => {
      let seed = 1;
      for (const [count, vocab, dim] of SHAPES) {
        const idv = ids(count, vocab, (seed += 10));
        idv[0] = vocab - 1;
        if (count > 1) idv[count - 1] = 0;
        const id = p.f32(idv), table = p.f32(randArray(vocab * dim, seed + 1));
        const y = p.f32(randArray(count * dim, seed + 2, 50, 60));
        const got: number[] = [];
        both(p, (k, at) => got.push(k.embeddingForward(at(id), at(table), at(y), count, vocab, dim)));
        expect(got).toEqual([-1, -1]);
        expectClose(p, y, `embeddingForward count=${count} vocab=${vocab} dim=${dim}`, 0);
        // the rows are the table's, bit for bit
        const t = p.readWasm(table), out = p.readWasm(y);
        for (let i = 0; i < count; i++)
          expect(Array.from(out.subarray(i * dim, (i + 1) * dim))).toEqual(Array.from(t.subarray(idv[i] * dim, (idv[i] + 1) * dim)));
        p.release();
      }
    });

    test('an invalid id returns its index and writes nothing', () => {
      growAgain(p, mode);
      const vocab = 6, dim = 3, count = 5;
      for (const bad of [-1, 6, 7, 2.5, -0.5, 1e30, NaN, Infinity, -Infinity, 5.000001]) {
        for (const pos of [0, 2, 4]) {
          const idv = Float32Array.from([1, 5, 0, 3, 2]);
          idv[pos] = bad;
          if (pos < 4) idv[4] = -3; // a later bad id: the first one is reported
          const id = p.f32(idv), table = p.f32(randArray(vocab * dim, 3));
          const garbage = randArray(count * dim, 4, 50, 60);
          const y = p.f32(garbage);
          const got: number[] = [];
          both(p, (k, at) => got.push(k.embeddingForward(at(id), at(table), at(y), count, vocab, dim)));
          expect(got, `id ${bad} at ${pos}`).toEqual([pos, pos]);
          expect(Array.from(p.readWasm(y))).toEqual(Array.from(garbage));
          p.release();
        }
      }
      // -0 is the id 0
      const id = p.f32(Float32Array.from([-0])), table = p.f32(Float32Array.from([4, 5])), y = p.f32(2);
      expect(p.wasm.kernels.embeddingForward(id.w, table.w, y.w, 1, 1, 2)).toBe(-1);
      expect(Array.from(p.readWasm(y))).toEqual([4, 5]);
      p.release();
    });
  });
});
