import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { escapeHtml, formatRelevance, getColormap, textHeatmap, tokenColors } from '../../src/heatmap/index.js';
import { parseVocabulary, tokenize } from '../../src/text/index.js';

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError, nothing was thrown');
}

const ESC = '\x1b';

describe('tokenColors', () => {
  it('maps R/max|R| onto the diverging map: -max blue, 0 white, +max red, half way between', () => {
    const c = tokenColors(['a', 'b', 'c', 'd'], [-2, 0, 1, 2]);
    expect(c.map((x) => x.background)).toEqual([
      [0, 0, 255],
      [255, 255, 255],
      // t = 0.75 → index round(191.25) = 191 of bwr, as heatmap() draws it
      getColormap('bwr').at(191 / 255),
      [255, 0, 0],
    ]);
    // white text on blue (contrast 8.6 vs 2.4), black on white, light red and red (5.3 vs 4.0)
    expect(c.map((x) => x.foreground)).toEqual([
      [255, 255, 255],
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    // another map and a shared scale: R = 1 of max 4 is t = 0.625
    const s = tokenColors(['a'], [1], { colormap: 'coldnhot', max: 4 });
    expect(s[0].background).toEqual(getColormap('coldnhot').at(Math.round(0.625 * 255) / 255));
  });

  it('hides padding (by flag list, pad token, or a tokenized text) and normalises over what is shown', () => {
    const shown = tokenColors(['x', '<pad>', 'y'], [1, 100, -1], { pad: '<pad>' });
    expect(shown.map((c) => c.position)).toEqual([0, 2]);
    // the pad's 100 does not set the scale: x is full red
    expect(shown[0].background).toEqual([255, 0, 0]);
    expect(tokenColors(['x', '<pad>', 'y'], [1, 100, -1], { pad: '<pad>', showPadding: true }).length).toBe(3);
    expect(tokenColors(['x', 'y'], [1, 2], { padding: [false, true] }).map((c) => c.token)).toEqual(['x']);
    const v = parseVocabulary({ tokens: ['<pad>', '<unk>', 'good'], pad: '<pad>', unknown: '<unk>', maxLength: 4 });
    const t = tokenize('Good', v);
    expect(tokenColors(t, [0.5, 0, 0, 0]).map((c) => c.token)).toEqual(['Good']);
  });
});

describe('textHeatmap', () => {
  it('html: one escaped span per token with its colour and value', () => {
    const html = textHeatmap(['<b>', 'a&b', '"q"', "it's"], [1, -1, 0, 0.5], { format: 'html' });
    expect(html.startsWith('<span class="lrp-text">')).toBe(true);
    expect(html.endsWith('</span>')).toBe(true);
    const spans = [...html.matchAll(/<span class="lrp-token" style="background-color:(#[0-9a-f]{6});color:(#[0-9a-f]{6})" title="([^"]*)" data-relevance="([^"]*)">([^<]*)<\/span>/g)];
    expect(spans.length).toBe(4);
    expect(spans.map((m) => m[5])).toEqual(['&lt;b&gt;', 'a&amp;b', '&quot;q&quot;', 'it&#39;s']);
    expect(spans.map((m) => m[1])).toEqual(['#ff0000', '#0000ff', '#ffffff', `#${getColormap('bwr').at(191 / 255).map((v) => v.toString(16).padStart(2, '0')).join('')}`]);
    expect(spans.map((m) => m[3])).toEqual(['&lt;b&gt;: +1', 'a&amp;b: -1', '&quot;q&quot;: 0', 'it&#39;s: +0.5']);
    expect(spans.map((m) => Number(m[4]))).toEqual([1, -1, 0, 0.5]);
    // nothing of the text survives unescaped
    expect(html).not.toContain('<b>');
    expect(escapeHtml(`<&>"'`)).toBe('&lt;&amp;&gt;&quot;&#39;');
  });

  it('ansi: 24-bit background and foreground per token, reset after each; control characters removed', () => {
    const s = textHeatmap(['good', 'bad\x1b[2J'], [2, -2], { format: 'ansi' });
    expect(s).toBe(`${ESC}[48;2;255;0;0m${ESC}[38;2;0;0;0mgood${ESC}[0m ${ESC}[48;2;0;0;255m${ESC}[38;2;255;255;255mbad[2J${ESC}[0m`);
  });

  it('plain: tokens with signed values, padding hidden', () => {
    expect(textHeatmap(['the', 'movie', '<pad>'], [0.001234, -2.5, 0], { format: 'plain', pad: '<pad>' })).toBe('the(+0.00123) movie(-2.5)');
    expect(textHeatmap(['a'], [123456], { format: 'plain', digits: 2 })).toBe('a(+1.2e+5)');
    expect(formatRelevance(0)).toBe('0');
    expect(formatRelevance(-0.00001)).toBe('-1.00e-5');
  });

  it('an all-zero relevance is drawn in the centre colour, not NaN', () => {
    expect(tokenColors(['a', 'b'], [0, 0]).map((c) => c.background)).toEqual([
      [255, 255, 255],
      [255, 255, 255],
    ]);
  });

  it('rejects bad input with InputErrors that say what is wrong', () => {
    expect(inputError(() => textHeatmap(['a', 'b'], [1], { format: 'html' })).message).toMatch(/2 tokens but 1 relevance values/);
    expect(inputError(() => textHeatmap(['a'], [NaN], { format: 'html' })).message).toMatch(/relevance\[0\] is NaN/);
    expect(inputError(() => textHeatmap(['a'], [1], { format: 'svg' as 'html' })).message).toMatch(/format must be 'html', 'ansi' or 'plain'/);
    expect(inputError(() => textHeatmap(['a'], [1], undefined as unknown as { format: 'html' })).message).toMatch(/options/);
    expect(inputError(() => textHeatmap([1 as unknown as string], [1], { format: 'html' })).message).toMatch(/list of strings/);
    expect(inputError(() => textHeatmap(['a'], [1], { format: 'html', colormap: 'nope' })).message).toMatch(/unknown colormap 'nope'/);
    expect(inputError(() => textHeatmap(['a'], [1], { format: 'html', max: -1 })).message).toMatch(/max must be a positive/);
    expect(inputError(() => textHeatmap(['a'], [1], { format: 'html', padding: [true, false] })).message).toMatch(/padding has 2 entries for 1 tokens/);
    expect(inputError(() => textHeatmap(['a'], [1], { format: 'plain', digits: 0 })).message).toMatch(/digits/);
  });
});
