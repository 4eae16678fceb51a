// Access to the architecture fixtures in test/fixtures/arch/: small PyTorch/torchvision classifiers exported to ONNX
// by scripts/export-architectures.py --small (see the script's header for how each was built).
//
// index.json lists the entries; each entry NAME has NAME.json (metadata, op-type histogram, PyTorch's logits) and
// NAME.onnx or NAME.onnx.gz. Every model reads the same inputs.f32 (float32 [2, 3, 64, 64], values in [0, 1)).

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

export const ARCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'arch');

/** One line of index.json. */
export interface ArchEntry {
  name: string;
  family: string;
  /** The stored ONNX file: NAME.onnx or NAME.onnx.gz. */
  file: string;
  json: string;
  opset: number;
  dynamic: boolean;
  stored_bytes: number;
  onnx_bytes: number;
}

export interface ArchIndex {
  /** Per sample, NCHW. */
  input_shape: number[];
  classes: number;
  inputs: string;
  input_seed: number;
  entries: ArchEntry[];
}

/** NAME.json. */
export interface ArchMeta {
  name: string;
  family: string;
  file: string;
  onnx_bytes: number;
  onnx_sha256: string;
  input_shape: number[];
  classes: number;
  opset: number;
  dynamic: boolean;
  /** The fixed batch size of a fixed-batch export; null when the batch axis is dynamic. */
  batch: number | null;
  /** How many nodes of each op type the graph has. */
  op_types: Record<string, number>;
  params: number;
  inputs: string;
  /** PyTorch's output for the samples of inputs.f32, [samples][classes]. */
  torch_logits: number[][];
  /** The same model run in float64. */
  torch_logits_f64: number[][];
  /** Worst sample's max |torch_logits - torch_logits_f64| / max |torch_logits_f64|: float32's own noise. */
  f32_vs_f64: number;
  export: {
    opset_version: number;
    do_constant_folding: boolean;
    input_names: string[];
    output_names: string[];
    dynamic_axes: Record<string, Record<string, string>> | null;
    training: string;
    versions: Record<string, string>;
  };
  /** How the model was built (torchvision builder and what was changed). */
  construction: string;
}

let indexCache: ArchIndex | undefined;

export function archIndex(): ArchIndex {
  indexCache ??= JSON.parse(fs.readFileSync(path.join(ARCH_DIR, 'index.json'), 'utf8')) as ArchIndex;
  return indexCache;
}

/** Every entry of index.json, in its order. */
export function archEntries(): ArchEntry[] {
  return archIndex().entries;
}

function entry(name: string): ArchEntry {
  const e = archEntries().find((x) => x.name === name);
  if (!e) throw new Error(`arch fixtures: no entry '${name}' (have: ${archEntries().map((x) => x.name).join(', ')})`);
  return e;
}

/** NAME.json of an entry. */
export function archMeta(name: string): ArchMeta {
  return JSON.parse(fs.readFileSync(path.join(ARCH_DIR, entry(name).json), 'utf8')) as ArchMeta;
}

/** The ONNX bytes of an entry (gunzipped if stored as .gz), checked against the length and sha256 in NAME.json. */
export function archOnnx(name: string): Uint8Array {
  const e = entry(name);
  const meta = archMeta(name);
  const raw = fs.readFileSync(path.join(ARCH_DIR, e.file));
  const bytes = e.file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw;
  if (bytes.length !== meta.onnx_bytes) {
    throw new Error(`arch fixtures: ${e.file}: ${bytes.length} bytes, ${e.json} says ${meta.onnx_bytes}`);
  }
  const hash = crypto.createHash('sha256').update(bytes).digest('hex');
  if (hash !== meta.onnx_sha256) throw new Error(`arch fixtures: ${e.file}: sha256 differs from ${e.json}`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** inputs.f32 as a fresh Float32Array: [samples, ...input_shape]. */
export function archInputs(): Float32Array {
  const buf = fs.readFileSync(path.join(ARCH_DIR, archIndex().inputs));
  const per = archIndex().input_shape.reduce((a, b) => a * b, 1);
  if (buf.length % (4 * per) !== 0) throw new Error(`arch fixtures: inputs.f32 is not a whole number of samples`);
  const out = new Float32Array(buf.length / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/** PyTorch's logits for an entry, flattened: [samples * classes]. */
export function archLogits(name: string): Float32Array {
  return Float32Array.from(archMeta(name).torch_logits.flat());
}
