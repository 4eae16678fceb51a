/**
 * loadModel: take a model from wherever the user has it (a path in Node, a URL, ONNX bytes,
 * an lrp or TF.js model.json, or TF.js { modelJson, weights }), sniff its format, import it
 * to the IR, canonicalize it and put it on a backend.
 */
import { createBackend, type BackendChoice } from './backends.js';
import { canonicalize } from './graph/canonicalize.js';
import type { Graph } from './graph/ir.js';
import { LrpError, ModelFormatError } from './errors.js';
import { importLrpJson, isLrpJson } from './import/lrp-json.js';
import { importOnnx } from './import/onnx.js';
import { importTfjs } from './import/tfjs.js';
import { readTfjsFolder } from './import/tfjs-fetch.js';
import { readBytes } from './import/read-bytes.js';
import { Model } from './model.js';

export type ModelFormat = 'onnx' | 'tfjs' | 'lrp-json';

export type ModelSource =
  | string
  | URL
  | Uint8Array
  | ArrayBuffer
  | { modelJson: unknown; weights: ArrayBuffer | Uint8Array | Array<ArrayBuffer | Uint8Array> };

export interface LoadOptions {
  /** Skip sniffing. */
  format?: ModelFormat;
  /** Per-sample input shape (NCHW order) for models whose file leaves it open. */
  inputShape?: number[];
  /** Fold batch norm into the preceding layer (default true). */
  canonize?: boolean;
  /** Compute backend (default 'wasm': SIMD kernels, relaxed SIMD where the runtime has it). */
  backend?: BackendChoice;
}

export async function loadModel(source: ModelSource, opts: LoadOptions = {}): Promise<Model> {
  const graph = await importGraph(source, opts);
  const canonical = canonicalize(graph, { canonize: opts.canonize });
  const backend = await createBackend(opts.backend ?? 'wasm');
  return new Model(canonical, backend);
}

/** Import without canonicalizing or choosing a backend (for tools that inspect graphs). */
export async function importGraph(source: ModelSource, opts: LoadOptions = {}): Promise<Graph> {
  try {
    return await importGraphUnchecked(source, opts);
  } catch (e) {
    if (e instanceof LrpError) throw e;
    throw new ModelFormatError(`cannot load model${typeof source === 'string' ? ` '${source}'` : ''}: ${(e as Error).message}`);
  }
}

async function importGraphUnchecked(source: ModelSource, opts: LoadOptions): Promise<Graph> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
    const format = opts.format ?? (looksLikeJson(bytes) ? undefined : 'onnx');
    if (format === 'onnx') return importOnnx(bytes, { inputShape: opts.inputShape });
    throw new ModelFormatError('JSON model bytes need their parameter files: pass the path or URL of model.json, or { modelJson, weights } for TF.js');
  }
  if (source && typeof source === 'object' && !(source instanceof URL) && 'modelJson' in source) {
    return importTfjs(source.modelJson as object, source.weights);
  }
  if (typeof source !== 'string' && !(source instanceof URL))
    throw new ModelFormatError('model source must be a path, a URL, ONNX bytes, or { modelJson, weights }');
  const location = source.toString();
  const bytes = await readBytes(location);
  const fileName = baseName(location);
  if (opts.format === 'onnx' || (!opts.format && !looksLikeJson(bytes))) return importOnnx(bytes, { inputShape: opts.inputShape, name: stem(fileName) });
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ModelFormatError(`${location}: not valid JSON: ${(e as Error).message}`);
  }
  const dir = dirName(location);
  if (opts.format === 'tfjs' || (!opts.format && json && typeof json === 'object' && 'modelTopology' in json)) {
    const { modelJson, weights } = await readTfjsFolder(location);
    return importTfjs(modelJson, weights, { name: stem(baseName(dir)) });
  }
  if (opts.format === 'lrp-json' || isLrpJson(json)) return importLrpJson(json, (rel) => readBytes(join(dir, rel)), location);
  throw new ModelFormatError(`${location}: unknown JSON model format (expected an lrp model.json with "format_version" or a TF.js model.json with "modelTopology")`);
}

function looksLikeJson(bytes: Uint8Array): boolean {
  for (const b of bytes.subarray(0, 64)) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0xef || b === 0xbb || b === 0xbf) continue;
    return b === 0x7b; // '{'
  }
  return false;
}

const isUrl = (s: string) => /^(https?|data|blob|file):/i.test(s);

function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

function stem(p: string): string {
  return p.replace(/\.[^.]*$/, '');
}

function dirName(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i < 0 ? '.' : p.slice(0, i) || '/';
}

function join(dir: string, rel: string): string {
  if (isUrl(rel) || rel.startsWith('/')) return rel;
  if (isUrl(dir)) return new URL(rel, dir.endsWith('/') ? dir : `${dir}/`).toString();
  return `${dir}/${rel}`;
}
