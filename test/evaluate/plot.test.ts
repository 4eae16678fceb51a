// Charts: the rasteriser fills what the scene says, SVG escapes text, the chart builders lay out every series.
import { describe, expect, it } from 'vitest';
import { barChart, lineChart, rasterize, toSVG, type Scene } from '../../src/index.js';

const px = (img: { rgba: Uint8ClampedArray; width: number }, x: number, y: number) => Array.from(img.rgba.subarray(4 * (y * img.width + x), 4 * (y * img.width + x) + 4));

describe('plots', () => {
  it('rasterises rectangles, translucent polygons and lines where the scene puts them', () => {
    const scene: Scene = {
      width: 40,
      height: 30,
      background: [255, 255, 255],
      shapes: [
        { kind: 'rect', x: 10, y: 5, w: 10, h: 10, fill: [255, 0, 0] },
        { kind: 'polygon', points: [0, 20, 40, 20, 40, 30, 0, 30], fill: [0, 0, 255], opacity: 0.5 },
        { kind: 'line', points: [30, 0, 30, 15], stroke: [0, 0, 0], width: 2 },
      ],
    };
    const img = rasterize(scene);
    expect([img.width, img.height]).toEqual([40, 30]);
    expect(px(img, 15, 10)).toEqual([255, 0, 0, 255]); // inside the rect
    expect(px(img, 5, 10)).toEqual([255, 255, 255, 255]); // outside
    expect(px(img, 10, 10)[1]).toBe(0); // the rect's left column is covered completely (x from 10.0)
    expect(px(img, 20, 10)).toEqual([255, 255, 255, 255]); // ... and its right edge is at 20.0
    expect(px(img, 5, 25)).toEqual([128, 128, 255, 255]); // half blue over white
    expect(px(img, 29, 7)).toEqual([0, 0, 0, 255]); // the 2 px line covers x 29..31
    expect(px(img, 31, 7)).toEqual([255, 255, 255, 255]);
  });

  it('writes SVG with escaped text and the same primitives', () => {
    const svg = toSVG({ width: 10, height: 10, background: [0, 0, 0], shapes: [{ kind: 'text', x: 1, y: 1, text: 'a<b & "c"', size: 1, color: [1, 2, 3] }] });
    expect(svg).toContain('>a&lt;b &amp; &quot;c&quot;</text>');
    expect(svg).toContain('fill="rgb(1,2,3)"');
  });

  it('draws one band and one line per series, one bar per measure and method', () => {
    const line = lineChart({
      title: 't',
      x: [0, 0.5, 1],
      xLabel: 'x',
      yLabel: 'y',
      panels: [{ title: 'p', series: [{ label: 'a', mean: [3, 2, 1], stderr: [0.1, 0.1, 0.1] }, { label: 'random', mean: [3, 2.5, 1] }] }],
    });
    expect(line.shapes.filter((s) => s.kind === 'polygon')).toHaveLength(1); // only 'a' has a band
    const thick = line.shapes.filter((s) => s.kind === 'line' && s.width > 1.5); // axes and grid are 1 px
    expect(thick.filter((s) => s.kind === 'line' && s.points.length === 6)).toHaveLength(2); // a curve per series
    expect(thick.filter((s) => s.kind === 'line' && s.points.length === 4)).toHaveLength(2); // a legend swatch per series
    const bars = barChart({ title: 't', xLabel: 'x', groups: [{ label: 'm', bars: [{ name: 'A', mean: 2, stderr: 0.5 }, { name: 'B', mean: -1, stderr: null }] }] });
    expect(bars.shapes.filter((s) => s.kind === 'rect')).toHaveLength(2 + 2); // two legend swatches, two bars
    expect(Number.isInteger(bars.width) && Number.isInteger(bars.height)).toBe(true);
  });
});
