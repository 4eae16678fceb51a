/**
 * What the Winograd kernels (assembly/winograd.ts and the reference twin) accept, checked on the
 * TypeScript side: the conv shape they compute, the tile size m, and the (part, parts) split.
 */
import { ConvDesc as CD } from './abi.js';
import { UnsupportedError } from '../errors.js';
import { packedAFloats, packedAIndex } from './packed-a.js';

/** The output tile sizes implemented: F(2×2, 3×3) and F(4×4, 3×3). */
export type WinogradTile = 2 | 4;

/** True when a conv descriptor is one Winograd computes: 3×3, stride 1, dilation 1, groups 1 (any padding). */
export function winogradApplies(desc: Int32Array): boolean {
  return desc[CD.KH] === 3 && desc[CD.KW] === 3 && desc[CD.SH] === 1 && desc[CD.SW] === 1 &&
    desc[CD.DH] === 1 && desc[CD.DW] === 1 && desc[CD.G] === 1;
}

/**
 * Layout of U: (m+2)² planes, plane t holding the rows × cols matrix U_t (O × C; transposed: C × O) in
 * the packed-A layout (packed-a.ts). The reference twin lays U out with winogradFilterIndex, so a
 * mismatch with the WASM layout fails test/kernels/winograd.test.ts (it compares the two filter sets).
 */

/** Floats of one transformed filter set U (transposed: the transposed product's). */
export function winogradFilterFloats(desc: Int32Array, m: WinogradTile, transposed: boolean): number {
  const [rows, cols] = transposed ? [desc[CD.C], desc[CD.O]] : [desc[CD.O], desc[CD.C]];
  return (m + 2) * (m + 2) * packedAFloats(rows, cols);
}

/** Float offset of U_t[r][k] in a filter set whose planes are rows × cols. */
export function winogradFilterIndex(rows: number, cols: number, t: number, r: number, k: number): number {
  return t * packedAFloats(rows, cols) + packedAIndex(rows, cols, r, k);
}

export function checkTile(m: number): WinogradTile {
  if (m !== 2 && m !== 4) throw new UnsupportedError(`Winograd tile size ${m} is not implemented (F(2,3) and F(4,3): m = 2 or 4)`);
  return m;
}

export function checkPart(part: number, parts: number): [number, number] {
  if (!Number.isInteger(parts) || parts < 1 || !Number.isInteger(part) || part < 0 || part >= parts) {
    throw new UnsupportedError(`Winograd part ${part} of ${parts}: need integers 0 <= part < parts`);
  }
  return [part, parts];
}
