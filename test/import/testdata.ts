/**
 * The one place that knows where the shared test vectors are. Switch this to
 * test/helpers/fixtures.ts (modelDir) once that loader exists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = process.env.LRP_TESTDATA ?? '/work/shared/testdata';

/** A real directory with model.json, params/, model.onnx, tfjs/, inputs.f32, logits.f32, cases.json. */
export function modelDir(model: string): string {
  return join(ROOT, model);
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
