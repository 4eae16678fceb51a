/**
 * Where the importer tests find the test vectors: test/helpers/fixtures.ts materialises each model
 * folder (model.json, params/, model.onnx, tfjs/, inputs.f32, logits.f32, cases.json) as a real
 * directory. LRP_TESTDATA=<dir> points the tests at a raw testdata tree instead (e.g. /work/shared/testdata).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelDir as fixtureDir } from '../helpers/fixtures.js';

export function modelDir(model: string): string {
  const root = process.env.LRP_TESTDATA;
  return root ? join(root, model) : fixtureDir(model);
}

export function readJson<T = any>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function readBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** A raw little-endian float32 file. */
export function readF32(path: string): Float32Array {
  const b = readBytes(path);
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}
