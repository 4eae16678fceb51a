// Models for the reliability tests: fresh, editable copies of the bundled Fashion-MNIST model
// (TF.js and ONNX) and of fixture models in the lrp JSON format.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { modelDir } from '../helpers/fixtures.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FASHION = path.join(ROOT, 'models', 'fashion-mnist');

/** The bundled TF.js model as { modelJson, weights }: a deep copy, free to edit. */
export function fashionTfjs(): { modelJson: any; weights: Uint8Array } {
  const dir = path.join(FASHION, 'tfjs');
  return {
    modelJson: JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')),
    weights: new Uint8Array(readFileSync(path.join(dir, 'group1-shard1of1.bin'))),
  };
}

/** The first layer's config of the TF.js model (conv1). */
export const conv1Config = (m: { modelJson: any }) => m.modelJson.modelTopology.config.layers[0].config;

/** The bundled ONNX model's bytes (a fresh copy). */
export function fashionOnnx(): Uint8Array {
  return new Uint8Array(readFileSync(path.join(FASHION, 'model.onnx')));
}

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A fresh temp folder, removed after the test file. */
export function tempDir(prefix = 'lrp-rel-'): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  roots.push(d);
  return d;
}

/** An editable copy of a fixture model's folder (model.json + params/); returns the model.json path. */
export function lrpCopy(model: string): string {
  const dir = path.join(tempDir(), model);
  cpSync(modelDir(model), dir, { recursive: true });
  return path.join(dir, 'model.json');
}

/** Deterministic inputs in [0, 1). */
export function inputs(length: number, seed = 1): Float32Array {
  const out = new Float32Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

/** The error `f` throws (fails the test if it returns). */
export function thrown(f: () => unknown): any {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error, but the call returned');
}

/** The error `p` rejects with (fails the test if it resolves). */
export async function rejected(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection, but the promise resolved');
}
