/**
 * The region grid of region perturbation: a model input seen as C channels of H x W (in the
 * caller's layout, NCHW or NHWC), cut into patches of ph x pw pixels (the last row and column of
 * patches are smaller when the size does not divide). A region holds every channel of its pixels.
 */
import { InputError } from '../errors.js';

export interface InputGeometry {
  C: number;
  H: number;
  W: number;
  /** Layout of a sample: channel-major (NCHW) or channel-last (NHWC). */
  channelsLast: boolean;
}

export interface RegionGrid {
  geometry: InputGeometry;
  patch: [number, number];
  /** Number of regions. */
  count: number;
  /** Region r holds the sample indices indices[offsets[r] .. offsets[r + 1]). */
  offsets: Int32Array;
  indices: Int32Array;
}

/**
 * How evaluation sees a model's per-sample shape (NCHW order): [C, H, W] is an image, [H, W] one
 * channel, [F] a row of F values (patches are then runs of pw values), and for more axes the last
 * two are H and W and the others count as channels.
 */
export function inputGeometry(inputShape: readonly number[], layout: 'NCHW' | 'NHWC'): InputGeometry {
  const s = inputShape;
  if (s.length === 1) return { C: 1, H: 1, W: s[0], channelsLast: false };
  if (s.length === 2) return { C: 1, H: s[0], W: s[1], channelsLast: false };
  const H = s[s.length - 2];
  const W = s[s.length - 1];
  const C = s.slice(0, -2).reduce((a, b) => a * b, 1);
  return { C, H, W, channelsLast: layout === 'NHWC' && s.length === 3 };
}

/** Index of (c, y, x) within one sample. */
export function sampleIndex(g: InputGeometry, c: number, y: number, x: number): number {
  return g.channelsLast ? (y * g.W + x) * g.C + c : (c * g.H + y) * g.W + x;
}

/** patch as given by the caller: a side length, or [height, width]; a number on a 1-D input is a run of values. */
export function parsePatch(patch: unknown, g: InputGeometry): [number, number] {
  let ph: number;
  let pw: number;
  if (typeof patch === 'number') [ph, pw] = g.H === 1 ? [1, patch] : [patch, patch];
  else if (Array.isArray(patch) && patch.length === 2) [ph, pw] = patch as [number, number];
  else throw new InputError(`patch must be a positive integer or [height, width], got ${JSON.stringify(patch)}`, 'E_OPTION');
  for (const v of [ph, pw])
    if (!Number.isInteger(v) || v < 1) throw new InputError(`patch must be a positive integer or [height, width] of them, got ${JSON.stringify(patch)}`, 'E_OPTION');
  if (ph > g.H || pw > g.W)
    throw new InputError(`patch ${ph}x${pw} is larger than the ${g.H}x${g.W} input`, 'E_OPTION');
  return [ph, pw];
}

export function regionGrid(g: InputGeometry, patch: [number, number]): RegionGrid {
  const [ph, pw] = patch;
  const rows = Math.ceil(g.H / ph);
  const cols = Math.ceil(g.W / pw);
  const count = rows * cols;
  const offsets = new Int32Array(count + 1);
  const indices = new Int32Array(g.C * g.H * g.W);
  let k = 0;
  for (let r = 0; r < rows; r++)
    for (let q = 0; q < cols; q++) {
      offsets[r * cols + q] = k;
      for (let y = r * ph; y < Math.min(g.H, (r + 1) * ph); y++)
        for (let x = q * pw; x < Math.min(g.W, (q + 1) * pw); x++)
          for (let c = 0; c < g.C; c++) indices[k++] = sampleIndex(g, c, y, x);
    }
  offsets[count] = k;
  return { geometry: g, patch: [ph, pw], count, offsets, indices };
}

/** Sum of the attribution over each region of one sample. */
export function regionScores(grid: RegionGrid, attribution: ArrayLike<number>, offset: number, out: Float64Array): Float64Array {
  for (let r = 0; r < grid.count; r++) {
    let s = 0;
    for (let i = grid.offsets[r]; i < grid.offsets[r + 1]; i++) s += attribution[offset + grid.indices[i]];
    out[r] = s;
  }
  return out;
}
