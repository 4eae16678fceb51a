/**
 * A chart as a list of drawing primitives in pixel coordinates (y down). The same scene is written
 * as SVG (svg.ts) and rasterised to RGBA for PNG (raster.ts), so both files show the same chart.
 */

/** An RGB colour, 0..255 per channel. */
export type Color = readonly [number, number, number];

/** One drawing primitive of a scene. */
export type SceneShape =
  | {
      /** A filled axis-aligned rectangle. */
      kind: 'rect';
      /** Left edge. */
      x: number;
      /** Top edge. */
      y: number;
      /** Width. */
      w: number;
      /** Height. */
      h: number;
      /** Fill colour. */
      fill: Color;
      /** Fill opacity in [0, 1] (default 1). */
      opacity?: number;
    }
  | {
      /** A filled polygon (even-odd rule). */
      kind: 'polygon';
      /** Vertices as x0, y0, x1, y1, ... */
      points: number[];
      /** Fill colour. */
      fill: Color;
      /** Fill opacity in [0, 1] (default 1). */
      opacity?: number;
    }
  | {
      /** An open polyline. */
      kind: 'line';
      /** Vertices as x0, y0, x1, y1, ... */
      points: number[];
      /** Stroke colour. */
      stroke: Color;
      /** Stroke width in pixels. */
      width: number;
      /** [dash, gap] lengths in pixels (solid when absent). */
      dash?: [number, number];
    }
  | {
      /** A single line of text. */
      kind: 'text';
      /** Anchor x. */
      x: number;
      /** Top of the capitals. */
      y: number;
      /** The text. */
      text: string;
      /** Text size unit (see CHAR_W, CAP_H). */
      size: number;
      /** Text colour. */
      color: Color;
      /** Which point of the text sits at x (default 'start'). */
      anchor?: 'start' | 'middle' | 'end';
    };

/** A chart as drawing primitives in pixel coordinates. */
export interface Scene {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Colour of the whole canvas. */
  background: Color;
  /** Primitives in drawing order (later ones on top). */
  shapes: SceneShape[];
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
