/**
 * Tokens coloured by their relevance: HTML (a span per token), 24-bit ANSI colours for terminals,
 * or plain text with the values. Browser-safe.
 *
 * Colours: t = 0.5 + 0.5·R / max|R| (symmetric, max over the tokens shown, or the `max` given),
 * looked up in the colour map's palette at round(255·t), as {@link heatmap} does, so that R = 0 is
 * the map's centre (white for bwr). The text on each token is black or white, whichever reads
 * better on its background. Pad tokens are hidden unless `showPadding`.
 */
import { InputError } from '../errors.js';
import { getColormap, type Colormap } from './colormaps.js';
import { normalizeRelevance } from './heatmap.js';

/** The output of {@link textHeatmap}. */
export type TextHeatmapFormat = 'html' | 'ansi' | 'plain';

/** Options of {@link textHeatmap}. */
export interface TextHeatmapOptions {
  /** 'html' (spans with a background colour and the value in `title`), 'ansi' (24-bit terminal colours) or 'plain' (`token(+0.12)`). */
  format: TextHeatmapFormat;
  /** A diverging colour map: built-in name, cmsl source or a Colormap (default 'bwr'). */
  colormap?: string | Colormap;
  /** The |R| drawn at the ends of the map instead of the tokens' own largest |R| (one scale for several texts). */
  max?: number;
  /** Which positions are padding (hidden unless showPadding). Default: from a TokenizedText, else positions holding `pad`. */
  padding?: readonly boolean[];
  /** The pad token: positions holding it are padding (when `padding` is not given). */
  pad?: string;
  /** Show pad positions too (default false). */
  showPadding?: boolean;
  /** Significant digits of the values in titles and plain output (default 3). */
  digits?: number;
}

/** Tokens as a list of strings, or a tokenized text (its padding and pad token are used). */
export type TokenList = readonly string[] | TokenSequence;

/** Tokens with their padding, as {@link tokenize} returns them. */
export interface TokenSequence {
  /** One token per position. */
  tokens: readonly string[];
  /** Whether each position is padding. */
  padding?: readonly boolean[];
  /** The pad token. */
  pad?: string;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe inside HTML elements and quoted attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** A relevance value with its sign, `digits` significant digits. */
export function formatRelevance(v: number, digits = 3): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  const s = a >= 1e4 || a < 1e-3 ? a.toExponential(digits - 1) : String(Number(a.toPrecision(digits)));
  return `${v < 0 ? '-' : '+'}${s}`;
}

/** Black or white text on an RGB background, by relative luminance (WCAG). */
function textColor([r, g, b]: readonly number[]): [number, number, number] {
  const lin = (c: number) => {
    const x = c / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  const L = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  // contrast with black (L + 0.05)/0.05 against white 1.05/(L + 0.05): equal at L ≈ 0.179
  return L > 0.179 ? [0, 0, 0] : [255, 255, 255];
}

const hex = (c: readonly number[]) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/** One entry per shown token: its text, value and colours. */
export interface TokenColor {
  /** Position in the sequence. */
  position: number;
  /** The token's text. */
  token: string;
  /** Its relevance. */
  relevance: number;
  /** Background as RGB bytes. */
  background: [number, number, number];
  /** Black or white, whichever reads better on the background. */
  foreground: [number, number, number];
}

/**
 * The colour of every shown token (pad positions left out unless `showPadding`), for drawing
 * your own. {@link textHeatmap} formats these.
 * @throws {@link InputError} for mismatched lengths, non-finite relevance or bad options.
 */
export function tokenColors(tokens: TokenList, relevance: ArrayLike<number>, opts: Omit<TextHeatmapOptions, 'format'> = {}): TokenColor[] {
  const list = Array.isArray(tokens) ? (tokens as readonly string[]) : (tokens as { tokens: readonly string[] })?.tokens;
  if (!Array.isArray(list) || !list.every((t) => typeof t === 'string')) throw new InputError('textHeatmap: tokens must be a list of strings or a tokenized text');
  if (!relevance || typeof relevance !== 'object' || typeof relevance.length !== 'number') throw new InputError('textHeatmap: relevance must be an array or typed array');
  if (relevance.length !== list.length)
    throw new InputError(`textHeatmap: ${list.length} tokens but ${relevance.length} relevance values (pass one sample's relevance: ${list.length} values)`);
  const fromTokens = Array.isArray(tokens) ? undefined : (tokens as { padding?: readonly boolean[]; pad?: string });
  const padding = opts.padding ?? fromTokens?.padding;
  const pad = opts.pad ?? fromTokens?.pad;
  if (padding !== undefined && padding.length !== list.length) throw new InputError(`textHeatmap: padding has ${padding.length} entries for ${list.length} tokens`);
  const shown: number[] = [];
  for (let i = 0; i < list.length; i++) {
    if (!Number.isFinite(relevance[i])) throw new InputError(`textHeatmap: relevance[${i}] is ${relevance[i]}; all values must be finite`);
    const isPad = padding ? padding[i] : pad !== undefined && list[i] === pad;
    if (!isPad || opts.showPadding) shown.push(i);
  }
  const cmap = getColormap(opts.colormap ?? 'bwr');
  const pal = cmap.palette(1);
  const t = normalizeRelevance(shown.map((i) => relevance[i]), 'symmetric', opts.max);
  return shown.map((position, k) => {
    const idx = Math.min(255, Math.max(0, Math.round(t[k] * 255)));
    const background: [number, number, number] = [pal[3 * idx], pal[3 * idx + 1], pal[3 * idx + 2]];
    return { position, token: list[position], relevance: relevance[position], background, foreground: textColor(background) };
  });
}

/**
 * One text's tokens coloured by relevance.
 * - `html`: `<span class="lrp-text">` holding one `<span class="lrp-token">` per token with its
 *   background colour, and its value in `title` and `data-relevance`; text escaped.
 * - `ansi`: 24-bit background colours (ESC[48;2;r;g;bm), reset after each token; for terminals.
 * - `plain`: `token(+0.123)`, for logs and terminals without colour.
 * Tokens are separated by one space.
 * @param tokens the token strings, one per position (or a {@link TokenizedText})
 * @param relevance one value per token (one sample of {@link Explanation.relevance} for a text model)
 */
export function textHeatmap(tokens: TokenList, relevance: ArrayLike<number>, opts: TextHeatmapOptions): string {
  if (!opts || typeof opts !== 'object') throw new InputError("textHeatmap: options { format: 'html' | 'ansi' | 'plain' } are required");
  const { format } = opts;
  if (format !== 'html' && format !== 'ansi' && format !== 'plain') throw new InputError(`textHeatmap: format must be 'html', 'ansi' or 'plain', got '${String(format)}'`);
  const digits = opts.digits ?? 3;
  if (!Number.isInteger(digits) || digits < 1 || digits > 21) throw new InputError(`textHeatmap: digits must be an integer from 1 to 21, got ${digits}`);
  const colors = tokenColors(tokens, relevance, opts);
  if (format === 'plain') return colors.map((c) => `${c.token}(${formatRelevance(c.relevance, digits)})`).join(' ');
  if (format === 'ansi')
    return colors
      .map((c) => `\x1b[48;2;${c.background.join(';')}m\x1b[38;2;${c.foreground.join(';')}m${c.token.replace(/[\x00-\x1f\x7f]/g, '')}\x1b[0m`)
      .join(' ');
  const spans = colors.map(
    (c) =>
      `<span class="lrp-token" style="background-color:${hex(c.background)};color:${hex(c.foreground)}" title="${escapeHtml(`${c.token}: ${formatRelevance(c.relevance, digits)}`)}" data-relevance="${c.relevance}">${escapeHtml(c.token)}</span>`,
  );
  return `<span class="lrp-text">${spans.join(' ')}</span>`;
}
