// Checks the files of the bundled transformers themselves (models/fashion-mnist-vit/, models/spam-transformer/, from
// scripts/train-vit-fashion-mnist.py and scripts/train-spam-transformer.py): metadata.json agrees with model.onnx,
// the vocabulary and tokenizer description are usable as written, and onnxruntime-web, an independent runtime,
// classifies the samples and the README's examples as the trainers recorded.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeImage, imageToTensor } from '../../src/io/index.js';
import { ort } from '../helpers/oracle.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

interface FileEntry {
  bytes: number;
  sha256: string;
}

function checkFiles(dir: string, files: Record<string, FileEntry>): void {
  expect(Object.keys(files)).toEqual(['model.onnx']);
  for (const [file, entry] of Object.entries(files)) {
    const bytes = fs.readFileSync(path.join(dir, file));
    expect(bytes.length, file).toBe(entry.bytes);
    expect(sha256(bytes), file).toBe(entry.sha256);
    expect(bytes.length, file).toBeLessThan(2e6);
  }
}

async function runOrt(file: string, input: Float32Array | BigInt64Array, shape: number[]): Promise<Float32Array> {
  const { InferenceSession, Tensor } = await ort();
  const session = await InferenceSession.create(fs.readFileSync(file), { executionProviders: ['wasm'] });
  try {
    const type = input instanceof BigInt64Array ? 'int64' : 'float32';
    const out = await session.run({ [session.inputNames[0]]: new Tensor(type, input, shape) });
    expect(session.outputNames).toEqual(['logits']);
    return out.logits.data as Float32Array;
  } finally {
    await session.release();
  }
}

const argmax = (row: ArrayLike<number>) => Array.from(row).indexOf(Math.max(...Array.from(row)));

describe('models/fashion-mnist-vit', () => {
  const dir = path.join(ROOT, 'models', 'fashion-mnist-vit');
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8'));

  it('metadata.json describes model.onnx (size, sha256) and an accuracy of at least 85% on the 10k test set', () => {
    checkFiles(dir, meta.files);
    expect(meta.classes.length).toBe(10);
    expect(meta.testSize).toBe(10000);
    expect(meta.testAccuracy).toBe(meta.testCorrect / meta.testSize);
    expect(meta.testAccuracy).toBeGreaterThanOrEqual(0.85);
    expect(meta.history.at(-1).testAccuracy).toBe(meta.testAccuracy);
  });

  it("onnxruntime-web classifies the CNN's 16 samples as the trainer recorded", async () => {
    const samplesDir = path.join(ROOT, meta.samples.dir);
    const labels = JSON.parse(fs.readFileSync(path.join(samplesDir, 'labels.json'), 'utf8')) as { file: string }[];
    const recorded = meta.samples.predictions as { file: string; predicted: number }[];
    expect(recorded.map((s) => s.file)).toEqual(labels.map((s) => s.file));
    const x = new Float32Array(recorded.length * 784);
    recorded.forEach((s, i) => {
      const img = decodeImage(fs.readFileSync(path.join(samplesDir, s.file)), s.file);
      x.set(imageToTensor(img, { channels: 1, height: 28, width: 28, range: [0, 1], layout: 'NCHW' }), i * 784);
    });
    const logits = await runOrt(path.join(dir, 'model.onnx'), x, [recorded.length, 1, 28, 28]);
    recorded.forEach((s, i) => expect(argmax(logits.subarray(i * 10, (i + 1) * 10)), s.file).toBe(s.predicted));
  });
});

describe('models/spam-transformer', () => {
  const dir = path.join(ROOT, 'models', 'spam-transformer');
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8'));
  const tokens = meta.tokens as string[];
  const ids = new Map(tokens.map((t, i) => [t, i]));

  /** The tokenizer exactly as metadata.json describes it. */
  function encode(text: string): { words: string[]; ids: number[] } {
    const words = text.toLowerCase().match(new RegExp(meta.tokenizer.pattern, 'g')) ?? [];
    const out = words.slice(0, meta.maxLength).map((w) => ids.get(w) ?? meta.unknown);
    while (out.length < meta.maxLength) out.push(meta.pad);
    return { words, ids: out };
  }

  it('metadata.json describes model.onnx and a vocabulary with <pad> and <unk> at the ids it names', () => {
    checkFiles(dir, meta.files);
    expect(meta.labels).toEqual(['ham', 'spam']);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(tokens[meta.pad]).toBe('<pad>');
    expect(tokens[meta.unknown]).toBe('<unk>');
    const pattern = new RegExp(`^(?:${meta.tokenizer.pattern})$`);
    expect(tokens.slice(2).every((t) => pattern.test(t))).toBe(true);
    expect(meta.testAccuracy).toBe(meta.testCorrect / meta.testSize);
  });

  it("the described tokenizer reproduces the trainer's tokens, and onnxruntime-web its spam probabilities", async () => {
    const examples = meta.examples as { text: string; tokens: string[]; ids: number[]; pSpam: number }[];
    expect(examples.length).toBeGreaterThan(2);
    const batch = new BigInt64Array(examples.length * meta.maxLength);
    examples.forEach((e, i) => {
      const enc = encode(e.text);
      expect(enc.words).toEqual(e.tokens);
      expect(enc.ids.slice(0, e.ids.length)).toEqual(e.ids);
      batch.set(enc.ids.map(BigInt), i * meta.maxLength);
    });
    const logits = await runOrt(path.join(dir, 'model.onnx'), batch, [examples.length, meta.maxLength]);
    examples.forEach((e, i) => {
      const [ham, spam] = [logits[2 * i], logits[2 * i + 1]];
      const pSpam = 1 / (1 + Math.exp(ham - spam));
      expect(Math.abs(pSpam - e.pSpam), e.text).toBeLessThan(2e-4);
    });
  });
});
