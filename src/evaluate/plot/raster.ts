/**
 * A Scene rasterised to RGBA: polygons filled by scanlines (even-odd), lines as one quad per
 * segment with square joins, text in the 5x7 bitmap font; drawn at `ss` times the size and averaged
 * down, which smooths the edges.
 */
import { drawText } from '../../cli/font.js';
import { CHAR_W, type Color, type Scene } from './scene.js';

/** The scene as RGBA pixels at its size, drawn at `ss` times the size and averaged down. */
export function rasterize(
  scene: Scene,
  ss = 3,
): {
  /** RGBA bytes, row by row. */
  rgba: Uint8ClampedArray;
  /** Pixels per row (the scene's width). */
  width: number;
  /** Rows (the scene's height). */
  height: number;
} {
  const W = scene.width * ss;
  const H = scene.height * ss;
  const big = new Uint8ClampedArray(W * H * 4);
  for (let i = 0; i < W * H; i++) {
    big[4 * i] = scene.background[0];
    big[4 * i + 1] = scene.background[1];
    big[4 * i + 2] = scene.background[2];
    big[4 * i + 3] = 255;
  }
  for (const s of scene.shapes) {
    switch (s.kind) {
      case 'rect':
        fillPolygon(big, W, H, [s.x, s.y, s.x + s.w, s.y, s.x + s.w, s.y + s.h, s.x, s.y + s.h].map((v) => v * ss), s.fill, s.opacity ?? 1);
        break;
      case 'polygon':
        fillPolygon(big, W, H, s.points.map((v) => v * ss), s.fill, s.opacity ?? 1);
        break;
      case 'line':
        for (const seg of dashed(s.points, s.dash)) strokeLine(big, W, H, seg.map((v) => v * ss), s.width * ss, s.stroke);
        break;
      case 'text': {
        const scale = Math.max(1, Math.round(s.size * ss));
        const w = s.text.length * CHAR_W * scale - scale;
        const x = s.anchor === 'middle' ? s.x * ss - w / 2 : s.anchor === 'end' ? s.x * ss - w : s.x * ss;
        drawText(big, W, H, s.text, Math.round(x), Math.round(s.y * ss), s.color, scale);
        break;
      }
    }
  }
  const width = scene.width;
  const height = scene.height;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let dy = 0; dy < ss; dy++) for (let dx = 0; dx < ss; dx++) sum += big[4 * ((y * ss + dy) * W + x * ss + dx) + c];
        rgba[4 * (y * width + x) + c] = Math.round(sum / (ss * ss));
      }
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
  return { rgba, width, height };
}

function fillPolygon(img: Uint8ClampedArray, W: number, H: number, p: number[], color: Color, opacity: number): void {
  const count = p.length / 2;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 1; i < p.length; i += 2) {
    minY = Math.min(minY, p[i]);
    maxY = Math.max(maxY, p[i]);
  }
  const xs: number[] = [];
  for (let y = Math.max(0, Math.floor(minY)); y <= Math.min(H - 1, Math.ceil(maxY)); y++) {
    const cy = y + 0.5;
    xs.length = 0;
    for (let i = 0; i < count; i++) {
      const x0 = p[2 * i];
      const y0 = p[2 * i + 1];
      const x1 = p[(2 * i + 2) % p.length];
      const y1 = p[(2 * i + 3) % p.length];
      if (y0 <= cy !== y1 <= cy) xs.push(x0 + ((cy - y0) / (y1 - y0)) * (x1 - x0));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const from = Math.max(0, Math.round(xs[k]));
      const to = Math.min(W, Math.round(xs[k + 1]));
      for (let x = from; x < to; x++) {
        const o = 4 * (y * W + x);
        for (let c = 0; c < 3; c++) img[o + c] = img[o + c] * (1 - opacity) + color[c] * opacity;
      }
    }
  }
}

function strokeLine(img: Uint8ClampedArray, W: number, H: number, p: number[], width: number, color: Color): void {
  const h = width / 2;
  for (let i = 0; i + 3 < p.length; i += 2) {
    const [x0, y0, x1, y1] = [p[i], p[i + 1], p[i + 2], p[i + 3]];
    const len = Math.hypot(x1 - x0, y1 - y0) || 1;
    const nx = (-(y1 - y0) / len) * h;
    const ny = ((x1 - x0) / len) * h;
    fillPolygon(img, W, H, [x0 + nx, y0 + ny, x1 + nx, y1 + ny, x1 - nx, y1 - ny, x0 - nx, y0 - ny], color, 1);
  }
  // square joins: no gaps where segments meet at an angle
  for (let i = 2; i + 1 < p.length - 2; i += 2) fillPolygon(img, W, H, [p[i] - h, p[i + 1] - h, p[i] + h, p[i + 1] - h, p[i] + h, p[i + 1] + h, p[i] - h, p[i + 1] + h], color, 1);
}

/** A polyline cut into its dashes (on, off lengths in pixels), or itself when not dashed. */
function dashed(p: number[], dash?: [number, number]): number[][] {
  if (!dash) return [p];
  const out: number[][] = [];
  let on = true;
  let left = dash[0];
  let cur: number[] = [p[0], p[1]];
  for (let i = 0; i + 3 < p.length; i += 2) {
    let [x0, y0] = [p[i], p[i + 1]];
    const [x1, y1] = [p[i + 2], p[i + 3]];
    let len = Math.hypot(x1 - x0, y1 - y0);
    while (len > left) {
      const t = left / len;
      const [xm, ym] = [x0 + t * (x1 - x0), y0 + t * (y1 - y0)];
      if (on) out.push([...cur, xm, ym]);
      cur = [xm, ym];
      [x0, y0] = [xm, ym];
      len -= left;
      on = !on;
      left = on ? dash[0] : dash[1];
    }
    left -= len;
    if (on) cur.push(x1, y1);
    else cur = [x1, y1];
  }
  if (on && cur.length >= 4) out.push(cur);
  return out;
}
