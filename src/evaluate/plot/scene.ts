/**
 * A chart as a list of drawing primitives in pixel coordinates (y down). The same scene is written
 * as SVG (svg.ts) and rasterised to RGBA for PNG (raster.ts), so both files show the same chart.
 */

export type Color = readonly [number, number, number];

export type Shape =
  | { kind: 'rect'; x: number; y: number; w: number; h: number; fill: Color; opacity?: number }
  | { kind: 'polygon'; points: number[]; fill: Color; opacity?: number }
  | { kind: 'line'; points: number[]; stroke: Color; width: number; dash?: [number, number] }
  | { kind: 'text'; x: number; y: number; text: string; size: number; color: Color; anchor?: 'start' | 'middle' | 'end' };

export interface Scene {
  width: number;
  height: number;
  background: Color;
  shapes: Shape[];
}

/** Text size unit: a size-s label is 7s pixels tall (the bitmap font's cap height) and 6s pixels per character. */
export const CHAR_W = 6;
export const CAP_H = 7;

/** Tableau-10 colours, for up to ten methods; the random baseline is drawn in grey. */
export const PALETTE: Color[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [188, 189, 34],
  [23, 190, 207],
  [82, 82, 82],
];
export const GREY: Color = [150, 150, 150];
export const INK: Color = [30, 30, 30];
export const FAINT: Color = [225, 225, 225];

/** About five round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** [lo, hi] widened to whole tick steps, and the ticks. */
export function niceRange(lo: number, hi: number, count = 5): { lo: number; hi: number; ticks: number[] } {
  const t = ticks(lo, hi, count);
  if (t.length < 2) return { lo, hi, ticks: t };
  const step = t[1] - t[0];
  const a = Math.floor(lo / step + 1e-9) * step;
  const b = Math.ceil(hi / step - 1e-9) * step;
  return { lo: a, hi: b, ticks: ticks(a, b, Math.round((b - a) / step)) };
}

/** A tick label: few digits, no float noise. */
export function tickLabel(v: number): string {
  return String(Number(v.toPrecision(6)));
}
