/**
 * loadModel: take a model from wherever the user has it (see ModelSource), sniff its format,
 * import it to the IR, canonicalize it and put it on a backend. The importers are loaded on
 * demand (dynamic import): bundlers that split code put each in its own chunk, fetched when a
 * model of that format is loaded, and loadTfjsModel / loadOnnxModel leave the other importers out
 * of the bundle altogether (tree shaking).
 */
import { createBackend, type BackendChoice } from './backends.js';
import type { WinogradMode } from './kernels/abi.js';
import { canonicalize } from './graph/canonicalize.js';
import type { Graph } from './graph/ir.js';
import { InputError, LrpError, ModelFormatError, UnsupportedError } from './errors.js';
import { WASM32_MAX_BYTES } from './kernels/arena.js';
import { defaultThreads, MAX_THREADS } from './wasm/threads.js';
import { openSource, type ModelSource, type OpenedFile } from './import/source.js';
import { shardPaths } from './import/tfjs-fetch.js';
import { loadMetadata, parseMetadata, type ModelMetadata } from './image/metadata.js';
import { checkMemoryLimit, Model } from './model.js';

export type { ModelSource, ResponseLike, BlobLike, TfjsModelArtifacts, TfjsLayersModelLike, TfjsInMemory, TfjsSaveResult } from './import/source.js';

/** The model file formats: ONNX, a TF.js LayersModel, or this library's own JSON. */
export type ModelFormat = 'onnx' | 'tfjs' | 'lrp-json';

/** Options of {@link loadModel}. */
export interface LoadOptions {
  /** The file format, instead of sniffing it from the bytes. */
  format?: ModelFormat;
  /** Per-sample input shape (NCHW order, no batch axis) for models whose file leaves it open. */
  inputShape?: number[];
  /** Fold batch norm into the preceding dense/conv layer (default true); false keeps it, with the `pass` rule. */
  canonize?: boolean;
  /** Compute backend (default 'wasm': SIMD kernels, relaxed SIMD where the runtime has it). */
  backend?: BackendChoice;
  /**
   * Winograd convolutions in the relevance pass of 3×3 stride-1 convs: 'auto' (default on 'wasm*': where
   * they pay), 'on' (wherever they apply) or 'off' (im2col + GEMM everywhere; saves memory: the
   * transformed filters are cached per weight set and direction, up to 4× that conv's weights each).
   * `predict` does not use them. The 'reference' backend defaults to 'off'.
   */
  winograd?: WinogradMode;
  /**
   * The model's metadata.json (its URL or path, or its content): class names, the input range and
   * mean/std, which explainImage uses and explain checks inputs against. Becomes `model.metadata`.
   */
  metadata?: string | URL | ModelMetadata | Record<string, unknown>;
  /**
   * Bytes of WebAssembly memory the model should plan for (default 2 GiB, at most 4 GiB): calls
   * without a `batch` option run the largest chunk of samples whose buffers fit in it (see
   * `model.memoryPlan`). Modified parameter sets (W⁺, W+γW⁺, …) stay cached while they fit in it
   * and are recomputed per layer step when they do not (`memoryPlan().recomputedParameters`). An
   * explicit `batch` may go above it, up to what WebAssembly can address (the workspace then
   * evicts the caches first).
   */
  memoryLimit?: number;
  /**
   * Threads one predict/explain call may use, the calling thread included (default: what the
   * runtime offers, at most its cores; 1: no kernel threads). Threads need SharedArrayBuffer and
   * WebAssembly threads: in browsers a cross-origin isolated page, and a worker rather than the main
   * thread (see `createExplainer`). `model.threads` says what the model got and, if fewer, why.
   */
  threads?: number;
}

/** The importers a load function may use, each loaded on demand. */
interface Importers {
  onnx?: () => Promise<typeof import('./import/onnx.js')>;
  tfjs?: () => Promise<typeof import('./import/tfjs.js')>;
  lrpJson?: () => Promise<typeof import('./import/lrp-json.js')>;
}

/**
 * Loads a model (ONNX, TF.js LayersModel or lrp JSON, sniffed from its bytes) and prepares it for
 * `predict` and `explain`.
 *
 * @param source a URL, a path (Node), bytes, a File/FileList, a Response or a TF.js model in
 *   memory: see {@link ModelSource}. In browsers relative strings resolve against the page.
 * @throws {@link ModelFormatError} for unreadable or malformed files, {@link UnsupportedError}
 *   for operations the library does not support.
 * @example
 * ```ts
 * const model = await loadModel('models/fashion-mnist/tfjs/model.json');
 * ```
 */
export function loadModel(source: ModelSource, opts: LoadOptions = {}): Promise<Model> {
  return loadWith({ onnx: () => import('./import/onnx.js'), tfjs: () => import('./import/tfjs.js'), lrpJson: () => import('./import/lrp-json.js') }, source, opts);
}

/**
 * {@link loadModel} for TF.js LayersModels only (a model.json and its shards, ModelArtifacts, a
 * tf.LayersModel). Apps that use it instead of loadModel do not bundle the ONNX decoder.
 */
export function loadTfjsModel(source: ModelSource, opts: LoadOptions = {}): Promise<Model> {
  return loadWith({ tfjs: () => import('./import/tfjs.js') }, source, opts);
}

/** {@link loadModel} for ONNX files only. Apps that use it instead of loadModel do not bundle the TF.js importer. */
export function loadOnnxModel(source: ModelSource, opts: LoadOptions = {}): Promise<Model> {
  return loadWith({ onnx: () => import('./import/onnx.js') }, source, opts);
}

async function loadWith(importers: Importers, source: ModelSource, opts: LoadOptions): Promise<Model> {
  const limit = checkMemoryLimit(opts.memoryLimit);
  const threads = checkThreads(opts.threads);
  const m = opts.metadata;
  const metadata = m === undefined ? null : typeof m === 'string' || m instanceof URL ? await loadMetadata(m) : parseMetadata(m, 'metadata');
  const graph = await importWith(importers, source, opts);
  const canonical = canonicalize(graph, { canonize: opts.canonize });
  const backend = await createBackend(opts.backend ?? 'wasm', threads, opts.threads === 1 ? 'threads: 1 was asked for' : 'this machine has one core', opts.winograd);
  const model = new Model(canonical, backend);
  model.metadata = metadata;
  model.memoryLimit = limit;
  return model;
}


function checkThreads(threads: number | undefined): number {
  if (threads === undefined) return defaultThreads();
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS)
    throw new InputError(`threads must be an integer from 1 to ${MAX_THREADS}, got ${String(threads)}`, 'E_OPTION');
  return threads;
}

/** Imports a model to the IR without canonicalizing it or choosing a backend (for tools that inspect graphs). */
export function importGraph(source: ModelSource, opts: LoadOptions = {}): Promise<Graph> {
  return importWith({ onnx: () => import('./import/onnx.js'), tfjs: () => import('./import/tfjs.js'), lrpJson: () => import('./import/lrp-json.js') }, source, opts);
}

async function importWith(importers: Importers, source: ModelSource, opts: LoadOptions): Promise<Graph> {
  try {
    const opened = await openSource(source);
    if (opened.kind === 'tfjs') {
      const { importTfjs } = await need(importers.tfjs, 'TF.js');
      return importTfjs(opened.modelJson as object, opened.weights, { inputShape: opts.inputShape });
    }
    return await importFile(importers, opened, opts);
  } catch (e) {
    if (e instanceof LrpError) throw e;
    throw new ModelFormatError(`cannot load model${typeof source === 'string' ? ` '${source}'` : ''}: ${(e as Error).message}`);
  }
}

function need<T>(importer: (() => Promise<T>) | undefined, format: string): Promise<T> {
  if (!importer) throw new UnsupportedError(`this is a ${format} model, and the load function used reads other formats only: use loadModel()`);
  return importer();
}

async function importFile(importers: Importers, file: OpenedFile, opts: LoadOptions): Promise<Graph> {
  const { bytes, name } = file;
  const notModel = sniffNotModel(bytes);
  if (notModel) throw new ModelFormatError(`${name} is ${notModel}, not a model (expected an .onnx file or a model.json)`);
  const modelName = nameFromLocation(name);
  if (opts.format === 'onnx' || (!opts.format && !looksLikeJson(bytes))) {
    const { importOnnx } = await need(importers.onnx, 'ONNX');
    return importOnnx(bytes, { inputShape: opts.inputShape, name: modelName });
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ModelFormatError(`${name}: not valid JSON: ${(e as Error).message}`);
  }
  const isObject = json !== null && typeof json === 'object' && !Array.isArray(json);
  if (opts.format === 'tfjs' || (!opts.format && isObject && 'modelTopology' in (json as object))) {
    const { importTfjs } = await need(importers.tfjs, 'TF.js');
    const weights = await Promise.all(shardPaths(json, name).map((p) => file.sibling(p, 'TF.js weight shard')));
    return importTfjs(json as object, weights, { name: modelName, inputShape: opts.inputShape });
  }
  if (opts.format === 'lrp-json' || (isObject && 'format_version' in (json as object))) {
    const lrp = await need(importers.lrpJson, 'lrp JSON');
    const graph = await lrp.importLrpJson(json, (rel) => file.sibling(rel, 'parameter file'), name);
    if (graph.name === 'model') graph.name = modelName;
    return graph;
  }
  throw new ModelFormatError(`${name}: unknown JSON model format (expected an lrp model.json with "format_version" or a TF.js model.json with "modelTopology")`);
}

function looksLikeJson(bytes: Uint8Array): boolean {
  for (const b of bytes.subarray(0, 64)) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0xef || b === 0xbb || b === 0xbf) continue;
    return b === 0x7b; // '{'
  }
  return false;
}

/** Files people pass by mistake: images, and the HTML page a dev server sends for a missing file. */
function sniffNotModel(bytes: Uint8Array): string | null {
  const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart().toLowerCase();
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'a PNG image';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'a JPEG image';
  if (head.startsWith('gif8')) return 'a GIF image';
  if (head.startsWith('riff') && head.slice(8, 12) === 'webp') return 'a WebP image';
  if (head.startsWith('<!doctype') || head.startsWith('<html'))
    return 'an HTML page (a web server answering a wrong or missing URL with a page?)';
  if (bytes.length === 0) return 'empty';
  return null;
}

/** Folder names that say how a model is stored rather than what it is. */
const GENERIC = new Set(['model', 'models', 'tfjs', 'onnx', 'web_model', 'tfjs_model', 'export', 'exported', 'saved', 'dist', 'public', 'static', 'assets', '.', '']);

/**
 * A model's name from where it was: the file's stem (resnet18.onnx → resnet18), or, for generic
 * file names (model.json, model.onnx), the nearest folder that is not a storage folder
 * (models/fashion-mnist/tfjs/model.json → fashion-mnist).
 */
export function nameFromLocation(location: string): string {
  let path = location.replace(/[?#].*$/, '');
  if (/^[a-z][a-z0-9+.-]+:/i.test(location)) {
    try {
      const url = new URL(location);
      path = url.protocol === 'data:' || url.protocol === 'blob:' ? '' : url.pathname;
    } catch {
      path = '';
    }
  }
  const parts = path.split(/[\\/]/).filter((p) => p !== '');
  const file = parts.pop() ?? '';
  const stem = file.replace(/\.[^.]*$/, '');
  if (stem && !GENERIC.has(stem.toLowerCase())) return decodeSafe(stem);
  for (let i = parts.length - 1; i >= 0; i--) {
    const dir = decodeSafe(parts[i]);
    if (!GENERIC.has(dir.toLowerCase())) return dir;
  }
  return stem || 'model';
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
