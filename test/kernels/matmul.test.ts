import { describe, test, expect } from 'vitest';
import { MODES, Pair, both, expectClose, growAgain, makePair, randArray, runnableVariants } from './harness.js';

/** [batch, M, K, N]: odd sizes, single rows/columns, and the GEMM's blocking boundaries (K > 256, M > 96). */
const SHAPES: Array<[number, number, number, number]> = [
  [1, 1, 1, 1], [1, 3, 5, 7], [3, 5, 3, 1], [2, 1, 9, 13], [5, 7, 1, 3], [3, 13, 33, 5],
  [2, 97, 17, 9], [1, 9, 300, 11], [4, 16, 8, 16], [2, 33, 65, 129],
];

describe.each(runnableVariants())('matmul (%s)', (variant) => {
  describe.each(MODES)('%s memory', (mode) => {
    const p = makePair(variant, mode);

    function matmulCase(p: Pair, batch: number, M: number, K: number, N: number, seed: number): void {
      const a = p.f32(randArray(batch * M * K, seed));
      const b = p.f32(randArray(batch * K * N, seed + 1));
      const c = p.f32(randArray(batch * M * N, seed + 2, 50, 60)); // garbage: must be overwritten
      for (const transA of [0, 1])
        for (const transB of [0, 1]) {
          const label = `batch=${batch} M=${M} K=${K} N=${N} transA=${transA} transB=${transB}`;
          both(p, (k, at) => k.matmul(at(a), at(b), at(c), batch, M, K, N, transA, transB, 0));
          expectClose(p, c, `matmul ${label}`);
          p.set(c, randArray(batch * M * N, seed + 3));
          both(p, (k, at) => k.matmul(at(a), at(b), at(c), batch, M, K, N, transA, transB, 1));
          expectClose(p, c, `matmul accumulate ${label}`);
        }
      p.release();
    }

    test('odd sizes, batches, every transpose combination, overwrite and accumulate', () => {
      let seed = 1;
      for (const [batch, M, K, N] of SHAPES) matmulCase(p, batch, M, K, N, (seed += 10));
    });

    test('exact values: A·B, A·Bᵀ and Aᵀ·B per batch entry', () => {
      growAgain(p, mode);
      // two batch entries of A [2x3] and B [3x2]
      const A = [1, 2, 3, 4, 5, 6, /* second */ -1, 0, 2, 1, 1, 1];
      const B = [1, 0, 0, 1, 1, 1, /* second */ 2, 3, 0, 1, 1, 0];
      const a = p.f32(Float32Array.from(A)), b = p.f32(Float32Array.from(B)), c = p.f32(8);
      p.wasm.kernels.matmul(a.w, b.w, c.w, 2, 2, 3, 2, 0, 0, 0);
      expect(Array.from(p.readWasm(c))).toEqual([4, 5, 10, 11, 0, -3, 3, 4]);
      // A·Bᵀ with B read as [N=3, K=2]: C [2x3]
      const c2 = p.f32(9);
      p.wasm.kernels.matmul(a.w, b.w, c2.w, 1, 3, 2, 3, 0, 1, 0); // A read as [3x2] = [[1,2],[3,4],[5,6]], Bᵀ of [[1,0],[0,1],[1,1]]
      expect(Array.from(p.readWasm(c2))).toEqual([1, 2, 3, 3, 4, 7, 5, 6, 11]);
      // Aᵀ·B: A stored [K=2, M=3] = [[1,2,3],[4,5,6]], B [2x2] = [[1,0],[0,1]] → Aᵀ [3x2]
      const c3 = p.f32(6);
      p.wasm.kernels.matmul(a.w, b.w, c3.w, 1, 3, 2, 2, 1, 0, 0);
      expect(Array.from(p.readWasm(c3))).toEqual([1, 4, 2, 5, 3, 6]);
      p.release();
    });

    test('batch 0 and M or N 0 write nothing; K 0 gives zeros (or leaves c when accumulating)', () => {
      const a = p.f32(randArray(4, 1)), b = p.f32(randArray(4, 2)), c = p.f32(Float32Array.from([7, 7, 7, 7]));
      p.wasm.kernels.matmul(a.w, b.w, c.w, 0, 2, 2, 2, 0, 0, 0);
      p.wasm.kernels.matmul(a.w, b.w, c.w, 1, 0, 2, 2, 0, 0, 0);
      expect(Array.from(p.readWasm(c))).toEqual([7, 7, 7, 7]);
      p.wasm.kernels.matmul(a.w, b.w, c.w, 1, 2, 0, 2, 0, 0, 1);
      expect(Array.from(p.readWasm(c))).toEqual([7, 7, 7, 7]);
      both(p, (k, at) => k.matmul(at(a), at(b), at(c), 1, 2, 0, 2, 0, 0, 0));
      expect(Array.from(p.readWasm(c))).toEqual([0, 0, 0, 0]);
      expect(Array.from(p.readRef(c))).toEqual([0, 0, 0, 0]);
      p.checkGuards('K = 0');
      p.release();
    });
  });
});
