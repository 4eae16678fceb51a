/** A Scene as an SVG document (text in a sans-serif font, sized to match the bitmap font's metrics). */
import { CAP_H, type Color, type Scene, type SceneShape } from './scene.js';

const rgb = (c: Color) => `rgb(${c[0]},${c[1]},${c[2]})`;
const n = (v: number) => String(Math.round(v * 100) / 100);
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const pts = (p: number[]) => p.map((v, i) => (i % 2 ? ',' : i ? ' ' : '') + n(v)).join('');

function shape(s: SceneShape): string {
  switch (s.kind) {
    case 'rect':
      return `<rect x="${n(s.x)}" y="${n(s.y)}" width="${n(s.w)}" height="${n(s.h)}" fill="${rgb(s.fill)}"${s.opacity !== undefined ? ` fill-opacity="${s.opacity}"` : ''}/>`;
    case 'polygon':
      return `<polygon points="${pts(s.points)}" fill="${rgb(s.fill)}"${s.opacity !== undefined ? ` fill-opacity="${s.opacity}"` : ''}/>`;
    case 'line':
      return `<polyline points="${pts(s.points)}" fill="none" stroke="${rgb(s.stroke)}" stroke-width="${n(s.width)}" stroke-linejoin="round"${s.dash ? ` stroke-dasharray="${s.dash.join(' ')}"` : ''}/>`;
    case 'text': {
      // y is the top of the capitals, as in the bitmap font; SVG places the baseline
      const anchor = s.anchor && s.anchor !== 'start' ? ` text-anchor="${s.anchor}"` : '';
      return `<text x="${n(s.x)}" y="${n(s.y + CAP_H * s.size)}" font-size="${n(9.5 * s.size)}" fill="${rgb(s.color)}"${anchor}>${esc(s.text)}</text>`;
    }
  }
}

/** The scene as an SVG document (a string ending in a newline). */
export function toSVG(scene: Scene): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${scene.width}" height="${scene.height}" viewBox="0 0 ${scene.width} ${scene.height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="${rgb(scene.background)}"/>`,
    ...scene.shapes.map(shape),
    '</svg>',
    '',
  ].join('\n');
}
