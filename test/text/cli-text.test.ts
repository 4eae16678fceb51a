// lrp explain / predict / info on the bundled text model, end to end: texts in, tokens coloured by
// relevance out, and the files of --out equal to what the library computes.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, loadVocabulary, readNpy, tokenize, type Model, type Vocabulary } from '../../src/index.js';
import { lrp, tempDir } from '../cli/helpers.js';

const DIR = 'models/spam-transformer';
const MODEL = `${DIR}/model.onnx`;
const TEXTS = ['Click here to claim your FREE prize now!!!', 'Hi Bob, the <meeting> notes are attached & fine.'];

let model: Model;
let vocab: Vocabulary;
let classes: string[];
beforeAll(async () => {
  model = await loadModel(MODEL);
  vocab = await loadVocabulary(`${DIR}/metadata.json`);
  classes = JSON.parse(readFileSync(`${DIR}/metadata.json`, 'utf8')).labels;
});
afterAll(() => model?.dispose());

/** Runs with NO_COLOR / FORCE_COLOR as given (and restores them). */
async function withEnv<T>(env: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  else process.env[k] = v;
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

describe('lrp explain on a text model', () => {
  it('--out writes text.html, relevance.npy and relevance.json equal to model.explain of the tokenized texts', async () => {
    const out = tempDir();
    const r = await lrp(['explain', MODEL, '--text', TEXTS[0], '--text', TEXTS[1], '--composite', 'attnlrp', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const T = model.inputSize;
    const ids = Int32Array.from(TEXTS.flatMap((t) => Array.from(tokenize(t, vocab).ids)));
    const lib = model.explain(ids, { composite: 'attnlrp' });
    expect(lib.layout).toBe('tokens');

    const npy = readNpy(readFileSync(path.join(out, 'relevance.npy')));
    expect(npy.shape).toEqual([2, T]);
    expect(Array.from(npy.data)).toEqual(Array.from(lib.relevance));

    const json = JSON.parse(readFileSync(path.join(out, 'relevance.json'), 'utf8'));
    const printed = JSON.parse(r.stdout);
    expect(printed.samples).toEqual(json.samples);
    expect(json.samples.length).toBe(2);
    json.samples.forEach((s: Record<string, unknown>, i: number) => {
      expect(s.source).toBe(`--text ${i + 1}`);
      expect(s.text).toBe(TEXTS[i]);
      expect(s.ids).toEqual(Array.from(tokenize(TEXTS[i], vocab).ids));
      expect(s.target).toBe(lib.targets[i]);
      expect(s.predictedClassName).toBe(classes[lib.targets[i]]);
      (s.relevance as number[]).forEach((v, t) => expect(v).toBeCloseTo(lib.relevance[i * T + t], 6));
    });
    expect(json.samples[0].tokens.slice(0, 3)).toEqual(['Click', 'here', 'to']);

    const html = readFileSync(path.join(out, 'text.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.match(/<section>/g)!.length).toBe(2);
    // one span per token that is not padding, and the text escaped
    const shown = TEXTS.reduce((k, t) => k + tokenize(t, vocab).padding.filter((p) => !p).length, 0);
    expect(html.match(/class="lrp-token"/g)!.length).toBe(shown);
    expect(html).not.toContain('<meeting>');
    expect(html).toContain(`predicted ${lib.targets[0]} (${classes[lib.targets[0]]})`);
  });

  it('prints tokens with their values when stdout is no terminal, 24-bit colours with FORCE_COLOR, none with NO_COLOR', async () => {
    const plain = await withEnv({ NO_COLOR: undefined, FORCE_COLOR: undefined }, () => lrp(['explain', MODEL, '--text', TEXTS[0]]));
    expect(plain.code).toBe(0);
    const lines = plain.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/epsilon-plus: relevance per token \(token\(relevance\)\)/);
    expect(lines[1]).toMatch(new RegExp(`^--text 1: predicted \\d \\((${classes.join('|')})\\) \\(p [01]\\.\\d{3}\\); R start \\S+, sum \\S+$`));
    expect(lines[2]).toMatch(/^ {2}Click\([+-]?[\d.e+-]+\) here\([+-]?[\d.e+-]+\) to\(/);
    expect(plain.stdout).not.toContain('\x1b[');
    expect(plain.stdout).not.toContain('<pad>');

    const coloured = await withEnv({ NO_COLOR: undefined, FORCE_COLOR: '1' }, () => lrp(['explain', MODEL, '--text', TEXTS[0]]));
    expect(coloured.stdout).toMatch(/\x1b\[48;2;\d+;\d+;\d+m\x1b\[38;2;(0;0;0|255;255;255)mClick\x1b\[0m/);
    const off = await withEnv({ NO_COLOR: '1', FORCE_COLOR: '1' }, () => lrp(['explain', MODEL, '--text', TEXTS[0]]));
    expect(off.stdout).not.toContain('\x1b[');
  });

  it('reads text files one sample per line (blank lines skipped) and notes unknown words and truncation', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'mails.txt');
    const long = Array.from({ length: model.inputSize + 5 }, () => 'free').join(' ');
    writeFileSync(file, `${TEXTS[0]}\n\n   \nzzqxv is here\r\n${long}\n`);
    const r = await lrp(['explain', MODEL, file, '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.samples.map((s: { source: string }) => s.source)).toEqual(['mails.txt:1', 'mails.txt:4', 'mails.txt:5']);
    expect(json.samples[1].unknown).toContain(0);
    expect(json.samples[2].truncated).toBe(5);
    const text = await lrp(['explain', MODEL, file]);
    expect(text.stderr).toContain('lrp: note: mails.txt:4: not in the vocabulary (read as <unk>): zzqxv');
    expect(text.stderr).toContain(`lrp: note: mails.txt:5: 5 tokens beyond ${model.inputSize} dropped (at the end)`);
  });

  it('explains another class by name, and predicts with class names', async () => {
    const r = await lrp(['explain', MODEL, '--text', TEXTS[0], '--target', classes[0], '--json']);
    expect(JSON.parse(r.stdout).samples[0].target).toBe(0);
    const p = await lrp(['predict', MODEL, '--text', TEXTS[0], '--text', TEXTS[1]]);
    expect(p.code).toBe(0);
    const logits = model.predict(TEXTS.flatMap((t) => Array.from(tokenize(t, vocab).ids)));
    const k0 = logits[0] > logits[1] ? 0 : 1;
    expect(p.stdout.split('\n')[1]).toMatch(new RegExp(`^--text 1\\s+${k0} \\(${classes[k0]}\\)`));
  });

  it('lrp info names the vocabulary and the tokenizer', async () => {
    const r = await lrp(['info', MODEL]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`input: ${model.inputSize} token ids per sample, embedding of ${model.vocabSize}; vocabulary: ${vocab.tokens.length} tokens, pad "<pad>", unknown "<unk>", lowercase, pattern \\[a-z0-9\\]\\+, padding post, truncation post`));
    expect(r.stdout).toMatch(/token ids \(vocabulary \d+\)/);
  });

  it('says clearly when the vocabulary is missing or does not fit, and refuses image options', async () => {
    const dir = tempDir();
    const bare = path.join(dir, 'model.onnx');
    copyFileSync(MODEL, bare);
    const none = await lrp(['explain', bare, '--text', 'hello']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/takes token ids but has no vocabulary to turn text into them: put a metadata.json with "tokens"/);
    const meta = JSON.parse(readFileSync(`${DIR}/metadata.json`, 'utf8'));
    writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify({ ...meta, maxLength: model.inputSize + 1 }));
    const longer = await lrp(['explain', bare, '--text', 'hello']);
    expect(longer.stderr).toMatch(new RegExp(`"maxLength" is ${model.inputSize + 1}, but model '.*' takes ${model.inputSize} token ids per sample`));
    writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify({ ...meta, tokens: undefined }));
    expect((await lrp(['explain', bare, '--text', 'hello'])).stderr).toMatch(/no vocabulary: a text model's metadata needs "tokens"/);
    const size = await lrp(['explain', MODEL, '--text', 'hello', '--size', '100']);
    expect(size.code).toBe(2);
    expect(size.stderr).toMatch(/--size applies to image models; model '.*' takes token ids/);
  });
});
