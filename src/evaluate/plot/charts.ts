/**
 * The evaluation charts as Scenes: line panels with standard-error bands (perturbation curves,
 * sanity-check similarity per randomised layer) and horizontal bars with error whiskers (AOPC).
 * They take plain numbers, so that any front end (CLI, demo page) can draw its results.
 */
import { CAP_H, CHAR_W, FAINT, GREY, INK, niceRange, PALETTE, ticks, tickLabel, type Color, type Scene, type SceneShape } from './scene.js';

/** One line of a panel: a method's mean curve and its standard error. */
export interface Series {
  /** The method's label (colours it; 'random' is drawn grey and dashed). */
  label: string;
  /** y per x position, and its standard error (drawn as a band of +-1 SE). */
  mean: ArrayLike<number>;
  /** Standard error per x position (no band when absent). */
  stderr?: ArrayLike<number>;
}

/** One panel of a line chart. */
export interface LinePanel {
  /** Title above the panel. */
  title: string;
  /** The lines drawn in it. */
  series: Series[];
  /** y range; default: the data's, with the bands. */
  yRange?: [number, number];
}

/** A line chart: panels side by side sharing the x axis, with one legend. */
export interface LineChart {
  /** Title of the chart. */
  title: string;
  /** x value of each position. */
  x: ArrayLike<number>;
  /** Label of the x axis. */
  xLabel: string;
  /** Label of the y axis. */
  yLabel: string;
  /** Categorical x ticks (one label per position) instead of numeric ones. */
  xTickLabels?: string[];
  /** The panels, left to right. */
  panels: LinePanel[];
}

const BG: Color = [255, 255, 255];
// multiples of 1/3: whole bitmap-font scales at the rasteriser's 3x supersampling, so widths are exact
const TEXT = 5 / 3;
const SMALL = 4 / 3;
const PAD = 16;

/** A method's colour: the palette by position, grey for the random baseline. */
export function seriesColor(label: string, index: number): Color {
  return label === 'random' ? GREY : PALETTE[index % PALETTE.length];
}

const textW = (s: string, size: number) => s.length * CHAR_W * size;

/** A line chart with standard-error bands as a Scene. */
export function lineChart(spec: LineChart): Scene {
  const panelW = 380;
  const panelH = 260;
  const labels = spec.panels[0]?.series.map((s) => s.label) ?? [];
  const legendW = Math.max(...labels.map((l) => textW(l, SMALL)), 60) + 40;
  const left = 64;
  const top = PAD + 2 * CAP_H * TEXT + CAP_H * SMALL + 34;
  const bottom = spec.xTickLabels ? 70 : 50;
  const width = left + spec.panels.length * (panelW + left) - left + PAD + legendW + PAD;
  const height = Math.max(top + panelH + bottom, top + labels.length * 16 + PAD);
  const shapes: SceneShape[] = [{ kind: 'text', x: PAD, y: PAD, text: spec.title, size: TEXT, color: INK }];
  spec.panels.forEach((panel, p) => {
    const x0 = left + p * (panelW + left);
    drawLinePanel(shapes, spec, panel, x0, top, panelW, panelH);
  });
  // legend
  const lx = width - PAD - legendW + 8;
  labels.forEach((label, i) => {
    const y = top + i * 16;
    shapes.push({ kind: 'line', points: [lx, y + 5, lx + 22, y + 5], stroke: seriesColor(label, i), width: 2.5 });
    shapes.push({ kind: 'text', x: lx + 28, y, text: label, size: SMALL, color: INK });
  });
  return { width: Math.ceil(width), height: Math.ceil(height), background: BG, shapes };
}

function drawLinePanel(shapes: SceneShape[], spec: LineChart, panel: LinePanel, x0: number, y0: number, w: number, h: number): void {
  const xs = Array.from(spec.x);
  const [xmin, xmax] = [Math.min(...xs), Math.max(...xs)];
  let [ymin, ymax] = panel.yRange ?? [Infinity, -Infinity];
  if (!panel.yRange)
    for (const s of panel.series)
      for (let k = 0; k < s.mean.length; k++) {
        const e = s.stderr?.[k] ?? 0;
        ymin = Math.min(ymin, s.mean[k] - e);
        ymax = Math.max(ymax, s.mean[k] + e);
      }
  if (!(ymax > ymin)) [ymin, ymax] = [ymin - 1, ymin + 1];
  const ny = niceRange(ymin, ymax);
  const yt = ny.ticks;
  [ymin, ymax] = [ny.lo, ny.hi];
  const X = (v: number) => x0 + (xmax > xmin ? ((v - xmin) / (xmax - xmin)) * w : w / 2);
  const Y = (v: number) => y0 + h - ((v - ymin) / (ymax - ymin)) * h;

  shapes.push({ kind: 'text', x: x0 + w / 2, y: y0 - CAP_H * TEXT - CAP_H * SMALL - 22, text: panel.title, size: TEXT, color: INK, anchor: 'middle' });
  for (const v of yt) {
    shapes.push({ kind: 'line', points: [x0, Y(v), x0 + w, Y(v)], stroke: FAINT, width: 1 });
    shapes.push({ kind: 'text', x: x0 - 6, y: Y(v) - (CAP_H * SMALL) / 2, text: tickLabel(v), size: SMALL, color: INK, anchor: 'end' });
  }
  const xTicks = spec.xTickLabels ? xs.map((v, i) => ({ v, label: spec.xTickLabels![i] })) : ticks(xmin, xmax).map((v) => ({ v, label: tickLabel(v) }));
  for (const { v, label } of xTicks) {
    shapes.push({ kind: 'line', points: [X(v), y0 + h, X(v), y0 + h + 4], stroke: INK, width: 1 });
    shapes.push({ kind: 'text', x: X(v), y: y0 + h + 8, text: label, size: SMALL, color: INK, anchor: 'middle' });
  }
  shapes.push({ kind: 'line', points: [x0, y0, x0, y0 + h, x0 + w, y0 + h], stroke: INK, width: 1 });
  shapes.push({ kind: 'text', x: x0 + w / 2, y: y0 + h + (spec.xTickLabels ? 44 : 28), text: spec.xLabel, size: SMALL, color: INK, anchor: 'middle' });
  shapes.push({ kind: 'text', x: x0 - 50, y: y0 - CAP_H * SMALL - 10, text: spec.yLabel, size: SMALL, color: INK });

  // bands first, then the lines on top
  panel.series.forEach((s, i) => {
    if (!s.stderr) return;
    const upper: number[] = [];
    for (let k = 0; k < s.mean.length; k++) upper.push(X(xs[k]), Y(s.mean[k] + s.stderr[k]));
    shapes.push({ kind: 'polygon', points: [...upper, ...pairsReversed(s, xs, X, Y)], fill: seriesColor(s.label, i), opacity: 0.18 });
  });
  panel.series.forEach((s, i) => {
    const points: number[] = [];
    for (let k = 0; k < s.mean.length; k++) points.push(X(xs[k]), Y(s.mean[k]));
    shapes.push({ kind: 'line', points, stroke: seriesColor(s.label, i), width: s.label === 'random' ? 2 : 1.75, dash: s.label === 'random' ? [6, 4] : undefined });
  });
}

function pairsReversed(s: Series, xs: number[], X: (v: number) => number, Y: (v: number) => number): number[] {
  const out: number[] = [];
  for (let k = s.mean.length - 1; k >= 0; k--) out.push(X(xs[k]), Y(s.mean[k] - (s.stderr?.[k] ?? 0)));
  return out;
}

/** One row of a bar chart: a method and its bars. */
export interface BarGroup {
  /** The method's label. */
  label: string;
  /** One bar per measure, in the same order in every group. */
  bars: Array<{
    /** The measure's name (shown in the legend). */
    name: string;
    /** Bar length. */
    mean: number;
    /** Whisker half-width (none when null). */
    stderr: number | null;
  }>;
}

/** Horizontal bars: one row per method, one bar per measure (e.g. AOPC MoRF, LeRF, MoRF - LeRF), whiskers of +-1 SE. */
export function barChart(spec: { title: string; xLabel: string; groups: BarGroup[] }): Scene {
  const names = spec.groups[0]?.bars.map((b) => b.name) ?? [];
  const barH = 9;
  const groupH = names.length * barH + 10;
  const labelW = Math.max(...spec.groups.map((g) => textW(g.label, SMALL)), 40) + 12;
  const plotW = 460;
  const left = PAD + labelW;
  const top = PAD + 2 * CAP_H * TEXT + 16 + names.length * 16;
  const width = left + plotW + PAD + 20;
  const height = top + spec.groups.length * groupH + 56;
  const shapes: SceneShape[] = [{ kind: 'text', x: PAD, y: PAD, text: spec.title, size: TEXT, color: INK }];
  names.forEach((name, j) => {
    const y = PAD + 2 * CAP_H * TEXT + 8 + j * 16;
    shapes.push({ kind: 'rect', x: left, y, w: 14, h: 10, fill: PALETTE[j % PALETTE.length] });
    shapes.push({ kind: 'text', x: left + 20, y: y + 1, text: name, size: SMALL, color: INK });
  });
  let lo = 0;
  let hi = 0;
  for (const g of spec.groups)
    for (const b of g.bars) {
      lo = Math.min(lo, b.mean - (b.stderr ?? 0));
      hi = Math.max(hi, b.mean + (b.stderr ?? 0));
    }
  if (!(hi > lo)) hi = lo + 1;
  const nx = niceRange(lo, hi, 6);
  const xt = nx.ticks;
  [lo, hi] = [nx.lo, nx.hi];
  const X = (v: number) => left + ((v - lo) / (hi - lo)) * plotW;
  const bottom = top + spec.groups.length * groupH;
  for (const v of xt) {
    shapes.push({ kind: 'line', points: [X(v), top, X(v), bottom], stroke: v === 0 ? INK : FAINT, width: 1 });
    shapes.push({ kind: 'text', x: X(v), y: bottom + 8, text: tickLabel(v), size: SMALL, color: INK, anchor: 'middle' });
  }
  shapes.push({ kind: 'text', x: left + plotW / 2, y: bottom + 30, text: spec.xLabel, size: SMALL, color: INK, anchor: 'middle' });
  spec.groups.forEach((g, i) => {
    const y = top + i * groupH + 5;
    shapes.push({ kind: 'text', x: left - 8, y: y + (names.length * barH) / 2 - (CAP_H * SMALL) / 2, text: g.label, size: SMALL, color: INK, anchor: 'end' });
    g.bars.forEach((b, j) => {
      const yb = y + j * barH;
      const [a, c] = [X(Math.min(0, b.mean)), X(Math.max(0, b.mean))];
      shapes.push({ kind: 'rect', x: a, y: yb, w: Math.max(0.5, c - a), h: barH - 1, fill: PALETTE[j % PALETTE.length] });
      if (b.stderr) {
        const [e0, e1] = [X(b.mean - b.stderr), X(b.mean + b.stderr)];
        shapes.push({ kind: 'line', points: [e0, yb + barH / 2 - 0.5, e1, yb + barH / 2 - 0.5], stroke: INK, width: 1 });
      }
    });
  });
  return { width: Math.ceil(width), height: Math.ceil(height), background: BG, shapes };
}
