// The bundled text model's tokenisation, reproduced in TypeScript: the trainer's own tokens and ids for
// the examples it recorded in metadata.json (Python: re.findall(r"[a-z0-9]+", text.lower())).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseVocabulary, splitTokens, tokenize } from '../../src/text/index.js';

const META = JSON.parse(readFileSync('models/spam-transformer/metadata.json', 'utf8'));

describe('the spam model vocabulary', () => {
  const vocab = parseVocabulary(META, 'models/spam-transformer/metadata.json');

  it('reads the trainer rule: lowercase, [a-z0-9]+ runs, pad/truncate at the end to 64', () => {
    expect(vocab.tokens.length).toBe(META.tokens.length);
    expect([vocab.pad, vocab.unknown, vocab.maxLength]).toEqual([0, 1, 64]);
    expect(vocab.rule).toMatchObject({ lowercase: true, padding: 'post', truncation: 'post', description: 'pattern [a-z0-9]+' });
  });

  it("gives the trainer's tokens and ids for every recorded example", () => {
    expect(META.examples.length).toBeGreaterThan(3);
    for (const ex of META.examples as { text: string; tokens: string[]; ids: number[] }[]) {
      expect(splitTokens(ex.text, vocab).map((p) => p.token)).toEqual(ex.tokens);
      const t = tokenize(ex.text, vocab);
      expect(Array.from(t.ids.subarray(0, ex.ids.length))).toEqual(ex.ids);
      expect(Array.from(t.ids.subarray(ex.ids.length)).every((id) => id === 0)).toBe(true);
    }
  });
});
