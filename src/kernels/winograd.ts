/**
 * What the Winograd kernels (assembly/winograd.ts and the reference twin) accept, checked on the
 * TypeScript side: the conv shape they compute, the tile size m, and the (part, parts) split.
 */
import { ConvDesc as CD } from './abi.js';
import { UnsupportedError } from '../errors.js';

/** The output tile sizes implemented: F(2×2, 3×3) and F(4×4, 3×3). */
export type WinogradTile = 2 | 4;

/** True when a conv descriptor is one Winograd computes: 3×3, stride 1, dilation 1, groups 1 (any padding). */
export function winogradApplies(desc: Int32Array): boolean {
  return desc[CD.KH] === 3 && desc[CD.KW] === 3 && desc[CD.SH] === 1 && desc[CD.SW] === 1 &&
    desc[CD.DH] === 1 && desc[CD.DW] === 1 && desc[CD.G] === 1;
}

/** Floats of one transformed filter set U: (m+2)² · O · C. */
export function winogradFilterFloats(desc: Int32Array, m: WinogradTile): number {
  return (m + 2) * (m + 2) * desc[CD.O] * desc[CD.C];
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
