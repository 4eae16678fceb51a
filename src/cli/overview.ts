/**
 * overview.png: a grid with each input beside its heatmap and a few lines of text below (name,
 * predicted class, explained class), a title line, and a colour bar of the heatmap's colour map.
 */
import { getColormap } from '../heatmap/index.js';
import { advance, drawText, fitText, GLYPH_H, textWidth } from './font.js';

export interface OverviewCell {
  /** Input and heatmap, RGBA at width x height. */
  image: Uint8ClampedArray;
  heat: Uint8ClampedArray;
  /** Text lines under the pair (shortened to fit). */
  lines: string[];
  /** Colour of the second line (e.g. the prediction); default the text colour. */
  accent?: readonly [number, number, number];
}

export interface OverviewOptions {
  /** Size of each image and heatmap. */
  width: number;
  height: number;
  title: string;
  cmap: string;
  /** Draw at most this many cells (default 100); the title says how many were left out. */
  maxCells?: number;
}

const BG: [number, number, number] = [28, 28, 30];
const FG: [number, number, number] = [236, 236, 236];
const DIM: [number, number, number] = [150, 150, 155];
const FRAME: [number, number, number] = [90, 90, 96];
const TEXT_SCALE = 2;
const LINE_H = GLYPH_H * TEXT_SCALE + 5;
const PAD = 12;
const GAP = 4;

/** Nearest-neighbour resampling of RGBA to (tw, th): integer upscaling keeps pixels sharp. */
function resample(src: Uint8ClampedArray, w: number, h: number, tw: number, th: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(tw * th * 4);
  for (let y = 0; y < th; y++) {
    const sy = Math.min(h - 1, Math.floor((y * h) / th));
    for (let x = 0; x < tw; x++) {
      const sx = Math.min(w - 1, Math.floor((x * w) / tw));
      const s = 4 * (sy * w + sx);
      const d = 4 * (y * tw + x);
      out[d] = src[s];
      out[d + 1] = src[s + 1];
      out[d + 2] = src[s + 2];
      out[d + 3] = 255;
    }
  }
  return out;
}

function blit(dst: Uint8ClampedArray, dw: number, src: Uint8ClampedArray, sw: number, sh: number, x0: number, y0: number): void {
  for (let y = 0; y < sh; y++) dst.set(src.subarray(4 * y * sw, 4 * (y + 1) * sw), 4 * ((y0 + y) * dw + x0));
}

function fillRect(dst: Uint8ClampedArray, dw: number, x0: number, y0: number, w: number, h: number, c: readonly number[]): void {
  for (let y = y0; y < y0 + h; y++)
    for (let x = x0; x < x0 + w; x++) {
      const o = 4 * (y * dw + x);
      dst[o] = c[0];
      dst[o + 1] = c[1];
      dst[o + 2] = c[2];
      dst[o + 3] = 255;
    }
}

/** Display size of one image: small inputs are enlarged by a whole factor to about 112 px, large ones shrunk to 224 px. */
export function displaySize(width: number, height: number): [number, number] {
  const m = Math.max(width, height);
  if (m <= 112) {
    const k = Math.max(1, Math.round(112 / m));
    return [width * k, height * k];
  }
  if (m <= 224) return [width, height];
  const f = 224 / m;
  return [Math.max(1, Math.round(width * f)), Math.max(1, Math.round(height * f))];
}

export function renderOverview(cells: OverviewCell[], opts: OverviewOptions): { rgba: Uint8ClampedArray; width: number; height: number } {
  const maxCells = opts.maxCells ?? 100;
  const shown = cells.slice(0, maxCells);
  const [tw, th] = displaySize(opts.width, opts.height);
  const nLines = Math.max(1, ...shown.map((c) => c.lines.length));
  const cellW = 2 * tw + GAP + 2; // + frames
  const cellH = th + 2 + 6 + nLines * LINE_H;
  const cols = Math.max(1, Math.min(shown.length, Math.ceil(Math.sqrt(shown.length))));
  const rows = Math.ceil(shown.length / cols);
  const headerH = PAD + 2 * LINE_H + 12 + 4;
  const title = shown.length < cells.length ? `${opts.title} - first ${shown.length} of ${cells.length}` : opts.title;
  const width = Math.max(PAD * 2 + cols * cellW + (cols - 1) * PAD, PAD * 2 + 300);
  const height = headerH + rows * cellH + (rows - 1) * PAD + PAD;
  const rgba = new Uint8ClampedArray(width * height * 4);
  fillRect(rgba, width, 0, 0, width, height, BG);

  const maxChars = Math.floor((width - 2 * PAD + TEXT_SCALE) / advance(TEXT_SCALE));
  drawText(rgba, width, height, fitText(title, maxChars), PAD, PAD, FG, TEXT_SCALE);

  // colour bar: "-" [palette] "+"
  const pal = getColormap(opts.cmap).palette(1);
  const barY = PAD + LINE_H + 4;
  const barX = PAD + textWidth('-', TEXT_SCALE) + 8;
  const barW = Math.min(256, width - barX - PAD - textWidth('+', TEXT_SCALE) - 8);
  drawText(rgba, width, height, '-', PAD, barY + 2, DIM, TEXT_SCALE);
  for (let x = 0; x < barW; x++) {
    const k = Math.round((x / Math.max(1, barW - 1)) * 255);
    fillRect(rgba, width, barX + x, barY, 1, 16, [pal[3 * k], pal[3 * k + 1], pal[3 * k + 2]]);
  }
  drawText(rgba, width, height, '+', barX + barW + 8, barY + 2, DIM, TEXT_SCALE);
  drawText(rgba, width, height, 'RELEVANCE', barX + barW + 8 + advance(TEXT_SCALE) * 2, barY + 2, DIM, TEXT_SCALE);

  const cellChars = Math.floor((cellW + TEXT_SCALE) / advance(TEXT_SCALE));
  shown.forEach((cell, i) => {
    const x0 = PAD + (i % cols) * (cellW + PAD);
    const y0 = headerH + Math.floor(i / cols) * (cellH + PAD);
    fillRect(rgba, width, x0, y0, tw + 2, th + 2, FRAME);
    fillRect(rgba, width, x0 + tw + GAP, y0, tw + 2, th + 2, FRAME);
    blit(rgba, width, resample(cell.image, opts.width, opts.height, tw, th), tw, th, x0 + 1, y0 + 1);
    blit(rgba, width, resample(cell.heat, opts.width, opts.height, tw, th), tw, th, x0 + tw + GAP + 1, y0 + 1);
    cell.lines.forEach((line, j) => {
      const color = j === 0 ? DIM : j === 1 && cell.accent ? cell.accent : FG;
      drawText(rgba, width, height, fitText(line, cellChars), x0, y0 + th + 2 + 6 + j * LINE_H, color, TEXT_SCALE);
    });
  });
  return { rgba, width, height };
}
