/**
 * Plain TypeScript twin of assembly/winograd.ts: Winograd F(m×m, 3×3) written with the transform
 * matrices themselves (Lavin & Gray 2016; interpolation points 0, ±1 for m = 2 and 0, ±1, ±2 for
 * m = 4), one tile at a time, in float64. Same ABI and filter layout as the WASM kernels, so tests
 * can mix them; needs no scratch. (part, parts) splits the tile rows like the WASM kernel does.
 */
import { ConvDesc as CD, type Kernels, type Memory } from '../kernels/abi.js';
import { checkPart, checkTile, winogradFilterIndex, type WinogradTile } from '../kernels/winograd.js';
import { PACKED_MR } from '../kernels/packed-a.js';

type Matrix = readonly (readonly number[])[];

interface Transforms {
  /** Bᵀ (a × a), G (a × 3), Aᵀ (m × a) */
  BT: Matrix;
  G: Matrix;
  AT: Matrix;
}

const TRANSFORMS: Record<WinogradTile, Transforms> = {
  2: {
    BT: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
    G: [[1, 0, 0], [1 / 2, 1 / 2, 1 / 2], [1 / 2, -1 / 2, 1 / 2], [0, 0, 1]],
    AT: [[1, 1, 1, 0], [0, 1, -1, -1]],
  },
  4: {
    BT: [
      [4, 0, -5, 0, 1, 0],
      [0, -4, -4, 1, 1, 0],
      [0, 4, -4, -1, 1, 0],
      [0, -2, -1, 2, 1, 0],
      [0, 2, -1, -2, 1, 0],
      [0, 4, 0, -5, 0, 1],
    ],
    G: [
      [1 / 4, 0, 0],
      [-1 / 6, -1 / 6, -1 / 6],
      [-1 / 6, 1 / 6, -1 / 6],
      [1 / 24, 1 / 12, 1 / 6],
      [1 / 24, -1 / 12, 1 / 6],
      [0, 0, 1],
    ],
    AT: [
      [1, 1, 1, 1, 1, 0],
      [0, 1, -1, 2, -2, 0],
      [0, 1, 1, 4, 4, 0],
      [0, 1, -1, 8, -8, 1],
    ],
  },
};

/** L · X · Rᵀ for X given as a function of (row, column) with `inner` × `inner2` entries. */
function sandwich(L: Matrix, x: (i: number, j: number) => number, R: Matrix): number[][] {
  const inner = L[0].length, inner2 = R[0].length;
  return L.map((l) =>
    R.map((r) => {
      let s = 0;
      for (let i = 0; i < inner; i++) for (let j = 0; j < inner2; j++) s += l[i] * x(i, j) * r[j];
      return s;
    }),
  );
}

/** The Winograd entries of the Kernels contract, on the reference heap. */
export function referenceWinogradKernels(mem: Memory): Pick<Kernels, 'winogradScratchBytes' | 'winogradFilter' | 'winogradForward' | 'winogradTranspose'> {
  const desc = (ptr: number) => mem.i32().subarray(ptr >>> 2, (ptr >>> 2) + 16);

  /**
   * y[s,o,oh,ow] (+)= Σ_{c,kh,kw} x[s,c,oh−pt+kh,ow−pl+kw]·f[o,c,kh,kw] (+ b[o]), f given as U: planes U_t [Co × Ci] in the packed layout (winogradFilterIndex).
   * Part p computes the tile rows [p·R/parts, (p+1)·R/parts) of the R = n·tilesH rows (the WASM kernel
   * splits rows too, or output channels on small planes; the result is the same).
   */
  function run(
    Ci: number, Hi: number, Wi: number, Co: number, Ho: number, Wo: number, pt: number, pl: number,
    x: number, u: number, b: number, y: number, n: number, m: WinogradTile, acc: number, part: number, parts: number,
  ): void {
    const { BT, AT } = TRANSFORMS[m];
    const a = m + 2;
    const h = mem.f32();
    const X = x >>> 2, U = u >>> 2, Y = y >>> 2;
    const tilesH = Math.ceil(Ho / m), tilesW = Math.ceil(Wo / m);
    const rows = n * tilesH;
    const [r0, r1] = [Math.floor((rows * part) / parts), Math.floor((rows * (part + 1)) / parts)];
    for (let r = r0; r < r1; r++) {
      const s = Math.floor(r / tilesH), ty = r % tilesH;
      for (let tx = 0; tx < tilesW; tx++) {
        // V[c] = Bᵀ d B for every input channel
        const V: number[][][] = [];
        for (let c = 0; c < Ci; c++) {
          const plane = X + (s * Ci + c) * Hi * Wi;
          const d = (i: number, j: number) => {
            const ih = ty * m - pt + i, iw = tx * m - pl + j;
            return ih >= 0 && ih < Hi && iw >= 0 && iw < Wi ? h[plane + ih * Wi + iw] : 0;
          };
          V.push(sandwich(BT, d, BT));
        }
        for (let o = 0; o < Co; o++) {
          // M[i][j] = Σ_c U_t[o][c]·V[c][i][j], t = i·a + j (each computed once: Aᵀ M A reads it m² times)
          const M = Array.from({ length: a }, (_, i) =>
            Array.from({ length: a }, (_, j) => {
              let sum = 0;
              for (let c = 0; c < Ci; c++) sum += h[U + winogradFilterIndex(Co, Ci, i * a + j, o, c)] * V[c][i][j];
              return sum;
            }),
          );
          const out = sandwich(AT, (i, j) => M[i][j], AT);
          for (let i = 0; i < m && ty * m + i < Ho; i++)
            for (let j = 0; j < m && tx * m + j < Wo; j++) {
              const idx = Y + ((s * Co + o) * Ho + ty * m + i) * Wo + tx * m + j;
              const v = out[i][j] + (b ? h[(b >>> 2) + o] : 0);
              h[idx] = acc ? h[idx] + v : v;
            }
        }
      }
    }
  }

  return {
    winogradScratchBytes: () => 0,
    winogradFilter(dp, w, u, mArg, transposed) {
      const m = checkTile(mArg);
      const { G } = TRANSFORMS[m];
      const d = desc(dp);
      const C = d[CD.C], O = d[CD.O], a = m + 2;
      const [rows, cols] = transposed ? [C, O] : [O, C];
      const h = mem.f32();
      // the padding rows of the last panel read as zeros
      for (let t = 0; t < a * a; t++)
        for (let r = rows; r % PACKED_MR !== 0; r++) for (let k = 0; k < cols; k++) h[(u >>> 2) + winogradFilterIndex(rows, cols, t, r, k)] = 0;
      for (let o = 0; o < O; o++)
        for (let c = 0; c < C; c++) {
          const base = (w >>> 2) + (o * C + c) * 9;
          const g = transposed ? (i: number, j: number) => h[base + (2 - i) * 3 + 2 - j] : (i: number, j: number) => h[base + i * 3 + j];
          const Uoc = sandwich(G, g, G);
          for (let i = 0; i < a; i++)
            for (let j = 0; j < a; j++) {
              const t = i * a + j;
              h[(u >>> 2) + (transposed ? winogradFilterIndex(C, O, t, c, o) : winogradFilterIndex(O, C, t, o, c))] = Uoc[i][j];
            }
        }
    },
    winogradForward(dp, x, u, b, y, _scratch, n, m, part, parts) {
      const d = desc(dp);
      run(d[CD.C], d[CD.H], d[CD.W], d[CD.O], d[CD.OH], d[CD.OW], d[CD.PT], d[CD.PL], x, u, b, y, n, checkTile(m), 0, ...checkPart(part, parts));
    },
    winogradTranspose(dp, g, u, out, _scratch, n, m, accumulate, part, parts) {
      const d = desc(dp);
      run(d[CD.O], d[CD.OH], d[CD.OW], d[CD.C], d[CD.H], d[CD.W], 2 - d[CD.PT], 2 - d[CD.PL], g, u, 0, out, n, checkTile(m), accumulate, ...checkPart(part, parts));
    },
  };
}
