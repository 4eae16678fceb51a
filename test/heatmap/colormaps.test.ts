import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { CMAP_SOURCES, colormapNames, getColormap, parseColormap } from '../../src/heatmap/colormaps.js';

interface PaletteFixture {
  [name: string]: { source: string; indices: number[]; palettes: Record<string, string> };
}
// Reference palettes computed with Zennit's ColorMap.palette(level) algorithm (numpy), see
// the fixture's keys: map name → source, node indices, base64 palette per level.
const fixture: PaletteFixture = JSON.parse(
  readFileSync(new URL('./fixtures/zennit-palettes.json', import.meta.url), 'utf8'),
);

describe('colormaps', () => {
  it('has the Zennit built-ins, including the brief\'s six', () => {
    for (const n of ['bwr', 'coldnhot', 'seismic', 'gray', 'hot', 'cold', 'wred', 'wblue']) {
      expect(colormapNames()).toContain(n);
    }
    expect(CMAP_SOURCES.bwr).toBe('00f,80:fff,f00');
  });

  it('places control points like Zennit (unindexed colours spread evenly, truncated)', () => {
    expect(getColormap('bwr').indices).toEqual([0, 128, 255]);
    expect(getColormap('hot').indices).toEqual([0, 85, 170, 255]);
    expect(getColormap('cold').indices).toEqual([0, 127, 255]);
    expect(getColormap('coldnhot').indices).toEqual([0, 64, 128, 170, 212, 255]);
    expect(getColormap('coldnhot').colors).toEqual([
      [0, 255, 255],
      [0, 0, 255],
      [0, 0, 0],
      [255, 0, 0],
      [255, 255, 0],
      [255, 255, 255],
    ]);
    expect(getColormap('seismic').colors).toEqual([
      [0, 0, 0xd0],
      [0xd0, 0xd0, 0xd0],
      [0xd0, 0, 0],
    ]);
  });

  it('evaluates at t by hand-computable values', () => {
    const bwr = getColormap('bwr');
    expect(bwr.at(0)).toEqual([0, 0, 255]);
    expect(bwr.at(128 / 255)).toEqual([255, 255, 255]);
    expect(bwr.at(1)).toEqual([255, 0, 0]);
    // index 64: blue→white, alpha = 64/128 = 0.5 → 127.5 → truncated 127
    expect(bwr.at(64 / 255)).toEqual([127, 127, 255]);
    // clipping and NaN
    expect(bwr.at(-3)).toEqual([0, 0, 255]);
    expect(bwr.at(7)).toEqual([255, 0, 0]);
    expect(bwr.at(Number.NaN)).toEqual([0, 0, 255]);
    const hot = getColormap('hot');
    expect(hot.at(85 / 255)).toEqual([255, 0, 0]);
    expect(hot.at(170 / 255)).toEqual([255, 255, 0]);
    expect(getColormap('gray').at(100 / 255)).toEqual([100, 100, 100]);
    expect(getColormap('cold').at(127 / 255)).toEqual([0, 0, 255]);
  });

  it('palette(1)[i] equals at(i/255)', () => {
    for (const name of colormapNames()) {
      const cm = getColormap(name);
      const p = cm.palette(1);
      for (let i = 0; i < 256; i++) expect([p[3 * i], p[3 * i + 1], p[3 * i + 2]]).toEqual(cm.at(i / 255));
    }
  });

  it('matches Zennit palettes byte for byte (levels 1 and 1.7, built-in and custom sources)', () => {
    let compared = 0;
    for (const [name, ref] of Object.entries(fixture)) {
      const cm = name in CMAP_SOURCES ? getColormap(name) : parseColormap(ref.source);
      expect(cm.source).toBe(ref.source);
      const ours = [...cm.indices];
      // Zennit ends at the last given index plus a sentinel at 256; we end at 255 explicitly
      const zi = ref.indices[ref.indices.length - 1] < 255 ? [...ref.indices, 255] : ref.indices;
      expect(ours).toEqual(zi);
      for (const [level, b64] of Object.entries(ref.palettes)) {
        const expected = new Uint8Array(Buffer.from(b64, 'base64'));
        expect(cm.palette(Number(level)), `${name} level ${level}`).toEqual(expected);
        compared++;
      }
    }
    expect(compared).toBe(16);
  });

  it('level 0 gives the centre colour everywhere', () => {
    const p = getColormap('bwr').palette(0);
    // linspace(-1, 1, 256)·0 = 0 → t = 0.5 → x = 127.5 → alpha = 127.5/128 → 254.00 → 254
    for (let i = 0; i < 256; i++) expect([p[3 * i], p[3 * i + 1], p[3 * i + 2]]).toEqual([254, 254, 255]);
  });

  it('accepts custom cmsl sources and rejects bad ones with InputError', () => {
    expect(getColormap('000,f00').at(1)).toEqual([255, 0, 0]);
    expect(getColormap('ff0000, 80:00ff00 ,0000ff').indices).toEqual([0, 128, 255]);
    const cases: [string, RegExp][] = [
      ['jet', /unknown colormap 'jet'.*bwr/],
      ['viridis', /unknown colormap/],
      ['', /unknown colormap ''/],
      ['fff', /unknown colormap 'fff'/],
      ['fff,', /needs at least 2 colours|incomplete/],
      ['f0:fff,10:000', /ascending/],
      ['00f,,fff', /unexpected ','/],
      ['00f,80:', /incomplete/],
    ];
    for (const [src, re] of cases) {
      let err: unknown;
      try {
        getColormap(src);
      } catch (e) {
        err = e;
      }
      expect(err, src).toBeInstanceOf(InputError);
      expect((err as InputError).code).toBe('E_CMAP');
      expect((err as Error).message).toMatch(re);
    }
    expect(() => parseColormap('zz')).toThrow(InputError);
    expect(() => getColormap('bwr').palette(Number.NaN)).toThrow(InputError);
  });
});
