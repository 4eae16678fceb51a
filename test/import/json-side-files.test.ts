// metadata.json read as a side file (loadMetadata, loadVocabulary): invalid JSON is an InputError naming the file,
// with each loader's own code; a good file parses.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, loadMetadata, loadVocabulary } from '../../src/index.js';

describe('JSON side files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lrp-json-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{ "classes": [1, 2');

  it.each([
    ['loadMetadata', () => loadMetadata(bad), 'E_METADATA'],
    ['loadVocabulary', () => loadVocabulary(bad), 'E_VOCABULARY'],
  ] as const)('%s: invalid JSON is an InputError naming the file', async (_name, load, code) => {
    const e = await load().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).code).toBe(code);
    expect((e as Error).message).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not valid JSON`));
  });

  it('reads the bundled models\' metadata', async () => {
    const meta = await loadMetadata('models/fashion-mnist/metadata.json');
    expect(meta.classNames).toHaveLength(10);
    expect(meta.inputRange).toEqual([0, 1]);
    expect((await loadVocabulary('models/spam-transformer/metadata.json')).tokens.length).toBe(2002);
  });
});
