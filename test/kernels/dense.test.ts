import { describe, test, expect } from 'vitest';
import { MODES, Pair, both, expectClose, growAgain, makePair, randArray, runnableVariants } from './harness.js';

const WIDTHS = [1, 3, 5, 7, 13, 33];

describe.each(runnableVariants())('dense (%s)', (variant) => {
  describe.each(MODES)('%s memory', (mode) => {
    const p = makePair(variant, mode);

    function denseCase(p: Pair, n: number, I: number, O: number, seed: number): void {
      const x = p.f32(randArray(n * I, seed));
      const w = p.f32(randArray(O * I, seed + 1));
      const b = p.f32(randArray(O, seed + 2));
      const y = p.f32(randArray(n * O, seed + 3, 50, 60)); // garbage: must be overwritten
      const label = `n=${n} I=${I} O=${O}`;
      both(p, (k, at) => k.denseForward(at(x), at(w), at(b), at(y), n, I, O));
      expectClose(p, y, `denseForward bias ${label}`);
      both(p, (k, at) => k.denseForward(at(x), at(w), 0, at(y), n, I, O));
      expectClose(p, y, `denseForward no-bias ${label}`);

      const g = p.f32(randArray(n * O, seed + 4));
      const out = p.f32(randArray(n * I, seed + 5, 50, 60));
      both(p, (k, at) => k.denseTranspose(at(g), at(w), at(out), n, I, O, 0));
      expectClose(p, out, `denseTranspose acc=0 ${label}`);
      p.set(out, randArray(n * I, seed + 6));
      both(p, (k, at) => k.denseTranspose(at(g), at(w), at(out), n, I, O, 1));
      expectClose(p, out, `denseTranspose acc=1 ${label}`);
      p.release();
    }

    test('awkward widths, batch 1..9', () => {
      let seed = 1;
      for (const n of [1, 2, 3, 4, 5, 9])
        for (const I of WIDTHS)
          for (const O of WIDTHS) denseCase(p, n, I, O, (seed += 10));
    });

    test('GEMM blocking boundaries (K > 256 slices, M > 96 row blocks, N tails)', () => {
      growAgain(p, mode);
      denseCase(p, 4, 784, 300, 11);
      denseCase(p, 8, 513, 37, 12);
      denseCase(p, 97, 300, 33, 13);
      denseCase(p, 193, 65, 17, 14);
      denseCase(p, 100, 600, 70, 15);
      denseCase(p, 16, 16, 16, 16);
      denseCase(p, 1, 1000, 10, 17);
      denseCase(p, 3, 257, 129, 18);
      // batch 1, rows wider than 256 (the transposed product sweeps W a few rows at a time): N and K tails
      denseCase(p, 1, 1001, 37, 19);
      denseCase(p, 2, 258, 6, 20);
    });

    test('a wide row of gemm_f32 (M < 4) adds its products in the same order as the packed path', () => {
      const ex = (p.wasm as unknown as { exports: { gemm_f32: (...a: number[]) => void } }).exports;
      const mem = p.wasm.memory;
      // K <= 256 (one slice): the packed micro-kernel and the unpacked row both sum k = 0, 1, ... from 0
      for (const [N, K] of [[1001, 37], [256, 255], [300, 1]]) {
        const A = randArray(K, N), B = randArray(K * N, K + 7);
        const a = mem.alloc(4 * K * 4), bb = mem.alloc(K * N * 4), c1 = mem.alloc(N * 4), c4 = mem.alloc(4 * N * 4);
        for (let i = 0; i < 4; i++) mem.f32().set(A, (a >> 2) + i * K);
        mem.f32().set(B, bb >> 2);
        ex.gemm_f32(1, N, K, a, K, 1, bb, N, 1, c1, N, 0);
        ex.gemm_f32(4, N, K, a, K, 1, bb, N, 1, c4, N, 0);
        // (relaxed builds: the row's last N % 4 columns are scalar, unfused, the packed edge tile fused)
        const cols = variant.startsWith('relaxed') ? N & ~3 : N;
        const one = mem.f32().slice(c1 >> 2, (c1 >> 2) + cols), packed = mem.f32().slice(c4 >> 2, (c4 >> 2) + cols);
        expect(Array.from(one), `N=${N} K=${K}`).toEqual(Array.from(packed));
        mem.free(a); mem.free(bb); mem.free(c1); mem.free(c4);
      }
    });

    test('raw gemm_f32 NN / NT / TN strides against a float64 product', () => {
      const ex = p.wasm.memory && (p.wasm as unknown as { exports: { gemm_f32: (...a: number[]) => void } }).exports;
      const mem = p.wasm.memory;
      for (const [M, N, K] of [[5, 7, 3], [13, 33, 300], [100, 9, 513], [4, 8, 1], [96, 64, 256]]) {
        const A = randArray(M * K, M + N), B = randArray(K * N, K + 1);
        const a = mem.alloc(M * K * 4), bb = mem.alloc(K * N * 4), c = mem.alloc(M * N * 4);
        mem.f32().set(A, a >> 2);
        for (const layout of ['NN', 'NT', 'TN'] as const) {
          // store A and B in the layout under test, same logical matrices
          const f = mem.f32();
          for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) f[(a >> 2) + (layout === 'TN' ? k * M + i : i * K + k)] = A[i * K + k];
          for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) f[(bb >> 2) + (layout === 'NT' ? j * K + k : k * N + j)] = B[k * N + j];
          const [aRs, aCs] = layout === 'TN' ? [1, M] : [K, 1];
          const [bRs, bCs] = layout === 'NT' ? [1, K] : [N, 1];
          ex.gemm_f32(M, N, K, a, aRs, aCs, bb, bRs, bCs, c, N, 0);
          const C = mem.f32().slice(c >> 2, (c >> 2) + M * N);
          let err = 0, scale = 0;
          for (let i = 0; i < M; i++)
            for (let j = 0; j < N; j++) {
              let s = 0;
              for (let k = 0; k < K; k++) s += A[i * K + k] * B[k * N + j];
              scale = Math.max(scale, Math.abs(s));
              err = Math.max(err, Math.abs(s - C[i * N + j]));
            }
          expect(err / scale, `gemm ${layout} ${M}x${N}x${K}`).toBeLessThan(1e-5);
        }
        mem.free(a); mem.free(bb); mem.free(c);
      }
    });
  });
});
