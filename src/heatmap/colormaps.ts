/**
 * Colour maps for heatmaps, browser-safe.
 *
 * The built-in maps and the way they are evaluated follow Zennit's `zennit.cmap.ColorMap` and
 * `zennit.image.CMAPS`, so that a heatmap drawn here has the same colours as one drawn with
 * `zennit.image.imgify`.
 *
 * A map is written in Zennit's colour-map specification language (cmsl): comma-separated colours
 * as hex RGB (`f00` or `ff0000`), each optionally prefixed by an index on the 0..255 scale
 * (`80:fff` puts white at 0x80 = 128). Between nodes colours are interpolated linearly. Colours
 * without an index are spread evenly between their indexed neighbours (index truncated to an
 * integer); a missing first / last index is 0 / 255.
 *
 * Control points of the built-in maps (index on 0..255 → RGB):
 *
 * | name     | source                          | nodes                                                        |
 * |----------|---------------------------------|--------------------------------------------------------------|
 * | gray     | `000,fff`                       | 0 black, 255 white                                           |
 * | wred     | `fff,f00`                       | 0 white, 255 red                                             |
 * | wblue    | `fff,00f`                       | 0 white, 255 blue                                            |
 * | hot      | `000,f00,ff0,fff`               | 0 black, 85 red, 170 yellow, 255 white                       |
 * | cold     | `000,00f,0ff`                   | 0 black, 127 blue, 255 cyan                                  |
 * | coldnhot | `0ff,00f,80:000,f00,ff0,fff`    | 0 cyan, 64 blue, 128 black, 170 red, 212 yellow, 255 white   |
 * | bwr      | `00f,80:fff,f00`                | 0 blue, 128 white, 255 red                                   |
 * | france   | `0055a4,80:fff,ef4135`          | 0 #0055a4, 128 white, 255 #ef4135                            |
 * | seismic  | `0000d0,80:d0d0d0,d00000`       | 0 #0000d0, 128 #d0d0d0, 255 #d00000 (Zennit's, not matplotlib's) |
 * | coolio   | `00d0d0,80:d0d0d0,d000d0`       | 0 #00d0d0, 128 #d0d0d0, 255 #d000d0                          |
 * | coleus   | `00d000,80:d0d0d0,d000d0`       | 0 #00d000, 128 #d0d0d0, 255 #d000d0                          |
 *
 * Note the centre node of the diverging maps sits at index 128 (t = 128/255), exactly as in
 * Zennit; heatmap() quantises t to a palette index so that a relevance of 0 lands on it.
 *
 * Evaluation (Zennit's `ColorMap.__call__` and `palette`): x = clip(255·t, 0, 255); find the
 * segment [i₀, i₁] containing x; colour = c₀·(1−α) + c₁·α with α = (x−i₀)/(i₁−i₀); the byte is
 * the colour truncated towards zero (after rounding to 12 decimals to absorb float noise).
 */
import { InputError } from '../errors.js';

/** A colour as [r, g, b] bytes. */
export type RGB = [number, number, number];

/**
 * The built-in maps that run one way (from 0 to large |R|) rather than diverging from a centre:
 * they suit 'absolute' normalisation.
 */
export const SEQUENTIAL_COLORMAPS: readonly string[] = ['gray', 'wred', 'wblue', 'hot', 'cold'];

/** Zennit's built-in colour maps, as cmsl source. */
export const CMAP_SOURCES: Readonly<Record<string, string>> = Object.freeze({
  gray: '000,fff',
  wred: 'fff,f00',
  wblue: 'fff,00f',
  hot: '000,f00,ff0,fff',
  cold: '000,00f,0ff',
  coldnhot: '0ff,00f,80:000,f00,ff0,fff',
  bwr: '00f,80:fff,f00',
  france: '0055a4,80:fff,ef4135',
  seismic: '0000d0,80:d0d0d0,d00000',
  coolio: '00d0d0,80:d0d0d0,d000d0',
  coleus: '00d000,80:d0d0d0,d000d0',
});

/** The names of Zennit's built-in colour maps. */
export type BuiltinColormap = keyof typeof CMAP_SOURCES;

/** Names of the built-in colour maps. */
export function colormapNames(): string[] {
  return Object.keys(CMAP_SOURCES);
}

/** A colour map: nodes on a 0..255 scale with colours, interpolated linearly (Zennit's ColorMap). */
export interface Colormap {
  /** Built-in name, or the cmsl source for custom maps. */
  readonly name: string;
  /** Its cmsl source. */
  readonly source: string;
  /** Node positions on the 0..255 scale, ascending, first 0 and last 255. */
  readonly indices: readonly number[];
  /** Node colours, bytes. */
  readonly colors: readonly (readonly [number, number, number])[];
  /** Colour at t ∈ [0, 1] (clipped; NaN is treated as 0) as RGB bytes. */
  at(t: number): RGB;
  /**
   * 256-entry palette as 768 bytes (RGB RGB …), Zennit's `ColorMap.palette(level)`:
   * entry i is the colour at clip(0.5 + 0.5·level·(2i/255 − 1), 0, 1). level 1 gives
   * entry i = at(i/255); level > 1 saturates earlier (steeper around the centre), level < 1
   * uses less of the colour range, level 0 gives the centre colour everywhere.
   */
  palette(level?: number): Uint8Array;
}

interface Node {
  index: number | null;
  color: [number, number, number];
}

const TOKEN =
  /(?<longcolor>[0-9a-fA-F]{6})|(?<shortcolor>[0-9a-fA-F]{3})|(?<index>[0-9a-fA-F]{1,2})|(?<adsep>:)|(?<sep>,)|(?<whitespace>\s+)|(?<error>.+)/gy;

function lex(source: string): { type: string; value: string; pos: number }[] {
  const out: { type: string; value: string; pos: number }[] = [];
  TOKEN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (TOKEN.lastIndex < source.length && (m = TOKEN.exec(source)) !== null) {
    const groups = m.groups as Record<string, string | undefined>;
    const type = Object.keys(groups).find((k) => groups[k] !== undefined) as string;
    out.push({ type, value: m[0], pos: m.index });
  }
  return out;
}

function parse(source: string): Node[] {
  const nodes: Node[] = [];
  let log: { type: string; value: string }[] = [];
  const bad = (tok: { value: string; pos: number }) =>
    new InputError(`colormap source '${source}': unexpected '${tok.value}' at position ${tok.pos}`, 'E_CMAP');
  for (const tok of lex(source)) {
    if (tok.type === 'index' && log.length === 0) {
      log.push(tok);
    } else if (tok.type === 'adsep' && log.length === 1 && log[0].type === 'index') {
      log.push(tok);
    } else if (tok.type === 'shortcolor' || tok.type === 'longcolor') {
      let index: number | null;
      if (log.length === 2 && log[0].type === 'index') {
        const v = log[0].value.length === 1 ? log[0].value.repeat(2) : log[0].value;
        index = parseInt(v, 16);
      } else if (log.length === 0) {
        index = null;
      } else {
        throw bad(tok);
      }
      const v = tok.value;
      const color: [number, number, number] =
        tok.type === 'shortcolor'
          ? [parseInt(v[0] + v[0], 16), parseInt(v[1] + v[1], 16), parseInt(v[2] + v[2], 16)]
          : [parseInt(v.slice(0, 2), 16), parseInt(v.slice(2, 4), 16), parseInt(v.slice(4, 6), 16)];
      log.push(tok);
      nodes.push({ index, color });
    } else if (
      tok.type === 'sep' &&
      log.length > 0 &&
      (log[log.length - 1].type === 'longcolor' || log[log.length - 1].type === 'shortcolor')
    ) {
      log = [];
    } else if (tok.type !== 'whitespace') {
      throw bad(tok);
    }
  }
  if (log.length > 0 && log[log.length - 1].type !== 'shortcolor' && log[log.length - 1].type !== 'longcolor') {
    throw new InputError(`colormap source '${source}': ends with an incomplete colour`, 'E_CMAP');
  }
  return nodes;
}

/** numpy.linspace(0, 1, n)[k] as numpy computes it. */
function linspace01(n: number, k: number): number {
  return k === n - 1 ? 1 : k * (1 / (n - 1));
}

function makePalette(source: string, nodes: Node[]): { indices: number[]; colors: [number, number, number][] } {
  if (nodes.length < 2) {
    throw new InputError(`colormap source '${source}': needs at least 2 colours`, 'E_CMAP');
  }
  const result: { index: number; color: [number, number, number] }[] = [];
  let log: Node[] = [];
  const start = nodes[0];
  result.push({ index: 0, color: start.color });
  if (start.index !== null && start.index > 0) result.push({ index: start.index, color: start.color });
  const rest = nodes.slice(1);
  rest.forEach((n0, n) => {
    let node = n0;
    if (node.index === null) {
      if (n < rest.length - 1) {
        log.push(node);
        return;
      }
      node = { index: 255, color: node.color };
    } else if (node.index < result[result.length - 1].index) {
      throw new InputError(`colormap source '${source}': indices must be in ascending order`, 'E_CMAP');
    }
    if (log.length > 0) {
      const prev = result[result.length - 1].index;
      const count = log.length + 2;
      log.forEach((lognode, k) => {
        const alpha = linspace01(count, k + 1);
        result.push({ index: Math.trunc(prev * (1 - alpha) + (node.index as number) * alpha), color: lognode.color });
      });
      log = [];
    }
    result.push({ index: node.index as number, color: node.color });
  });
  // Zennit appends a sentinel node at 256 with the last colour; a final index < 255 means
  // the last colour extends to the end. Make the table end at 255 explicitly instead.
  const last = result[result.length - 1];
  if (last.index < 255) result.push({ index: 255, color: last.color });
  return { indices: result.map((r) => r.index), colors: result.map((r) => r.color) };
}

/** numpy's round(x, 12): rint(x·1e12)/1e12 with round-half-to-even. */
function round12(x: number): number {
  const y = x * 1e12;
  let r = Math.round(y);
  if (r - y === 0.5 && r % 2 !== 0) r -= 1;
  return r / 1e12;
}

class PiecewiseColormap implements Colormap {
  readonly name: string;
  readonly source: string;
  readonly indices: readonly number[];
  readonly colors: readonly (readonly [number, number, number])[];
  private readonly palettes = new Map<number, Uint8Array>();

  constructor(name: string, source: string) {
    this.name = name;
    this.source = source;
    const { indices, colors } = makePalette(source, parse(source));
    this.indices = Object.freeze(indices);
    this.colors = Object.freeze(colors.map((c) => Object.freeze(c)));
  }

  /** Writes the colour at t into out[o..o+2] as bytes. */
  private write(t: number, out: Uint8Array | number[], o: number): void {
    let x = t * 255;
    if (!(x > 0)) x = 0; // also NaN
    if (x > 255) x = 255;
    const idx = this.indices;
    // Zennit: searchsorted(indices[:-1 incl. sentinel], x, 'right'); with the sentinel at 256
    // the segment is [idx[i-1], idx[i]) where idx[i-1] <= x < idx[i]. x = 255 lands in the
    // last segment ending at 255 (its sentinel segment [255, 256) has one colour).
    let i = 1;
    while (i < idx.length - 1 && idx[i] <= x) i++;
    const i0 = idx[i - 1];
    const i1 = idx[i];
    const c0 = this.colors[i - 1];
    const c1 = this.colors[i];
    const a = i1 > i0 ? (x - i0) / (i1 - i0) : 1;
    for (let c = 0; c < 3; c++) {
      const v = (c0[c] * (1 - a) + c1[c] * a) / 255;
      let b = Math.trunc(round12(v * 255));
      if (b < 0) b = 0;
      if (b > 255) b = 255;
      out[o + c] = b;
    }
  }

  at(t: number): RGB {
    const out: RGB = [0, 0, 0];
    this.write(t, out, 0);
    return out;
  }

  palette(level = 1): Uint8Array {
    if (!Number.isFinite(level)) {
      throw new InputError(`colormap level must be a finite number, got ${level}`);
    }
    let p = this.palettes.get(level);
    if (p) return p;
    p = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) {
      // numpy.linspace(-1, 1, 256): i·(2/255) − 1, last element exactly 1
      const x = (i === 255 ? 1 : i * (2 / 255) - 1) * level;
      let t = (x + 1) / 2;
      if (t < 0) t = 0;
      if (t > 1) t = 1;
      this.write(t, p, i * 3);
    }
    if (this.palettes.size < 16) this.palettes.set(level, p);
    return p;
  }
}

const builtins = new Map<string, Colormap>();

/**
 * A built-in colour map by name, a custom map from cmsl source (e.g. `'00f,80:fff,f00'`), or the
 * given Colormap itself. Throws InputError (code E_CMAP) for an unknown name or bad source.
 */
export function getColormap(cmap: string | Colormap): Colormap {
  if (typeof cmap !== 'string') {
    if (cmap && typeof cmap.palette === 'function' && typeof cmap.at === 'function') return cmap;
    throw new InputError(`cmap must be a colormap name or source string, got ${typeof cmap}`, 'E_CMAP');
  }
  const known = Object.prototype.hasOwnProperty.call(CMAP_SOURCES, cmap);
  if (known) {
    let m = builtins.get(cmap);
    if (!m) {
      m = new PiecewiseColormap(cmap, CMAP_SOURCES[cmap]);
      builtins.set(cmap, m);
    }
    return m;
  }
  try {
    return new PiecewiseColormap(cmap, cmap);
  } catch (err) {
    if (/^[\s0-9a-fA-F:,]*$/.test(cmap) && cmap.includes(',')) throw err;
    throw new InputError(
      `unknown colormap '${cmap}' (known: ${colormapNames().join(', ')}; or a source such as '00f,80:fff,f00')`,
      'E_CMAP',
    );
  }
}

/** Parses a colour map from cmsl source (see the module comment). Throws InputError. */
export function parseColormap(source: string, name = source): Colormap {
  if (typeof source !== 'string') throw new InputError('colormap source must be a string', 'E_CMAP');
  return new PiecewiseColormap(name, source);
}
