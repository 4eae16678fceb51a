import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { detokenize, parseVocabulary, splitTokens, tokenize, tokenizeBatch } from '../../src/text/index.js';

const META = {
  tokens: ['<pad>', '<unk>', 'the', 'movie', 'was', 'not', 'good', ',', '!', "don't", 'great', '.'],
  pad: '<pad>',
  unknown: '<unk>',
  maxLength: 8,
};

function inputError(fn: () => unknown, code = 'E_VOCABULARY'): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).code).toBe(code);
    return e as InputError;
  }
  throw new Error('expected an InputError, nothing was thrown');
}

describe('parseVocabulary', () => {
  it('reads tokens, special tokens (as strings or ids) and maxLength', () => {
    const v = parseVocabulary(META);
    expect(v.tokens.length).toBe(12);
    expect(v.ids.get('movie')).toBe(3);
    expect(v.pad).toBe(0);
    expect(v.unknown).toBe(1);
    expect(v.maxLength).toBe(8);
    expect(v.rule.lowercase).toBe(true);
    expect(v.rule.padding).toBe('post');
    const byId = parseVocabulary({ ...META, pad: 0, unknown: 1, maxLength: undefined, max_length: 5 });
    expect([byId.pad, byId.unknown, byId.maxLength]).toEqual([0, 1, 5]);
    // nested under "vocabulary"
    expect(parseVocabulary({ name: 'x', vocabulary: META }).ids.get('great')).toBe(10);
  });

  it('names what is missing or malformed', () => {
    expect(inputError(() => parseVocabulary({ classes: ['a', 'b'] }, 'm.json')).message).toMatch(/m\.json: no vocabulary.*"tokens"/);
    expect(inputError(() => parseVocabulary({ ...META, tokens: ['a', 3] })).message).toMatch(/list of strings/);
    expect(inputError(() => parseVocabulary({ ...META, tokens: ['a', 'a', '<pad>', '<unk>'] })).message).toMatch(/"a" appears twice.*ids 0 and 1/);
    expect(inputError(() => parseVocabulary({ ...META, pad: '[PAD]' })).message).toMatch(/"pad" "\[PAD\]" is not one of the tokens/);
    expect(inputError(() => parseVocabulary({ ...META, unknown: 12 })).message).toMatch(/"unknown" id 12 is not an id of the 12 tokens/);
    expect(inputError(() => parseVocabulary({ ...META, unknown: undefined })).message).toMatch(/"unknown" is missing/);
    expect(inputError(() => parseVocabulary({ ...META, maxLength: 0 })).message).toMatch(/maxLength.*positive integer/);
    expect(inputError(() => parseVocabulary({ ...META, tokenizer: { split: 'bpe' } })).message).toMatch(/tokenizer\.split.*whitespace-punctuation/);
    expect(inputError(() => parseVocabulary({ ...META, tokenizer: { pattern: '[a-' } })).message).toMatch(/not a valid regular expression/);
    expect(inputError(() => parseVocabulary({ ...META, tokenizer: { pattern: '\\w*' } })).message).toMatch(/matches the empty string/);
    expect(inputError(() => parseVocabulary({ ...META, tokenizer: { padding: 'left' } })).message).toMatch(/padding.*'pre' or 'post'/);
    expect(inputError(() => parseVocabulary({ ...META, tokenizer: { truncation: 3 } })).message).toMatch(/truncation.*'pre' or 'post'/);
    expect(inputError(() => parseVocabulary([1, 2])).message).toMatch(/JSON object/);
  });
});

describe('tokenize', () => {
  const v = parseVocabulary(META);

  it('lowercases, splits words and punctuation, maps unknown words, pads at the end', () => {
    const t = tokenize('The movie was NOT good!', v);
    expect(Array.from(t.ids)).toEqual([2, 3, 4, 5, 6, 8, 0, 0]);
    // the text's own spelling is kept for display; pad positions hold the pad token
    expect(t.tokens).toEqual(['The', 'movie', 'was', 'NOT', 'good', '!', '<pad>', '<pad>']);
    expect(t.padding).toEqual([false, false, false, false, false, false, true, true]);
    expect(t.unknown).toEqual([]);
    expect(t.truncated).toBe(0);

    const u = tokenize("Don't, the film was great.", v);
    // "don't" keeps its apostrophe; "film" is unknown (id 1)
    expect(u.tokens.slice(0, 7)).toEqual(["Don't", ',', 'the', 'film', 'was', 'great', '.']);
    expect(Array.from(u.ids)).toEqual([9, 7, 2, 1, 4, 10, 11, 0]);
    expect(u.unknown).toEqual([3]);
  });

  it('splits on any whitespace and punctuation run, one mark per token', () => {
    expect(splitTokens('  good!!\tthe\nmovie...', v).map((p) => p.token)).toEqual(['good', '!', '!', 'the', 'movie', '.', '.', '.']);
    expect(splitTokens('', v)).toEqual([]);
    const t = tokenize('   ', v);
    expect(Array.from(t.ids)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(t.padding.every(Boolean)).toBe(true);
  });

  it('truncates to maxLength at the end (post) or the start (pre)', () => {
    const long = 'the movie was not good , the movie was great';
    const post = tokenize(long, v);
    expect(post.truncated).toBe(2);
    expect(post.tokens).toEqual(['the', 'movie', 'was', 'not', 'good', ',', 'the', 'movie']);
    const pre = tokenize(long, parseVocabulary({ ...META, tokenizer: { truncation: 'pre', padding: 'pre' } }));
    expect(pre.tokens).toEqual(['was', 'not', 'good', ',', 'the', 'movie', 'was', 'great']);
    expect(pre.truncated).toBe(2);
    const padPre = tokenize('good movie', parseVocabulary({ ...META, tokenizer: { padding: 'pre' } }));
    expect(Array.from(padPre.ids)).toEqual([0, 0, 0, 0, 0, 0, 6, 3]);
    expect(padPre.padding.slice(5)).toEqual([true, false, false]);
    // an explicit length overrides maxLength
    expect(tokenize('good', v, 3).ids.length).toBe(3);
  });

  it('follows the metadata rule: case kept, a Python-style pattern, dropped punctuation', () => {
    const cased = parseVocabulary({ ...META, tokens: [...META.tokens, 'The'], tokenizer: { lowercase: false } });
    expect(Array.from(tokenize('The the', cased).ids.slice(0, 2))).toEqual([12, 2]);
    const named = parseVocabulary({ ...META, tokenizer: { pattern: '(?P<w>[a-z]+)' } });
    expect(tokenize("don't!", named).tokens.slice(0, 3)).toEqual(['don', 't', '<pad>']);
    const drop = parseVocabulary({ ...META, tokenizer: { split: 'whitespace-drop-punctuation' } });
    expect(tokenize('good, great!', drop).tokens.slice(0, 3)).toEqual(['good', 'great', '<pad>']);
    const ws = parseVocabulary({ ...META, tokenizer: 'whitespace' });
    expect(tokenize('good, great!', ws).tokens.slice(0, 3)).toEqual(['good,', 'great!', '<pad>']);
  });

  it("reads a trainer's prose for padding and truncation (the bundled spam model's metadata)", () => {
    const meta = parseVocabulary({
      ...META,
      pad: 0,
      unknown: 1,
      tokenizer: {
        lowercase: true,
        pattern: '[a-z0-9]+',
        rule: 'lowercase the text, then take the maximal runs of the characters a-z and 0-9',
        truncate: 'keep the first 8 tokens',
        padding: 'append <pad> (id 0) up to 8 tokens; the model has no attention mask',
      },
    });
    expect([meta.rule.padding, meta.rule.truncation]).toEqual(['post', 'post']);
    // "don't" is two tokens here, "!" and "," separate without being tokens
    const t = tokenize("Don't, the MOVIE was great!", meta);
    expect(t.tokens.slice(0, 7)).toEqual(['Don', 't', 'the', 'MOVIE', 'was', 'great', '<pad>']);
    expect(Array.from(t.ids.slice(0, 7))).toEqual([1, 1, 2, 3, 4, 10, 0]);
    const pre = parseVocabulary({ ...META, tokenizer: { truncate: 'keep the last 8 tokens', padding: 'prepend <pad>' } });
    expect([pre.rule.padding, pre.rule.truncation]).toEqual(['pre', 'pre']);
    expect(inputError(() => parseVocabulary({ ...META, tokenizer: { padding: 'pad it somehow' } })).message).toMatch(
      /"tokenizer.padding" must be 'pre' or 'post' \(or a sentence starting "append"/,
    );
  });

  it('batches texts and turns ids back into tokens', () => {
    const b = tokenizeBatch(['good', 'the movie'], v);
    expect(b.ids.length).toBe(16);
    expect(Array.from(b.ids.subarray(8, 11))).toEqual([2, 3, 0]);
    const d = detokenize([2, 3, 1, 0, 99], v);
    expect(d.tokens).toEqual(['the', 'movie', '<unk>', '<pad>', '<id 99>']);
    expect(d.padding).toEqual([false, false, false, true, false]);
    expect(d.unknown).toEqual([2]);
  });

  it('rejects what is not text, and a missing length', () => {
    inputError(() => tokenize(42 as unknown as string, v), 'E_INPUT');
    const noLength = parseVocabulary({ ...META, maxLength: undefined });
    expect(inputError(() => tokenize('good', noLength), 'E_INPUT').message).toMatch(/no maxLength/);
  });
});
