/**
 * The model as the command line sees it: the loaded Model, the metadata.json next to it (class
 * names, input range, mean/std), the image geometry of its input, and the preprocessing that
 * follows from the model, the metadata and the options (--scale, --mean, --std, --low, --high).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadModel, type Model } from '../index.js';
import type { BackendChoice } from '../backends.js';
import { CliError } from './errors.js';
import { parseMetadata, type ModelMetadata } from '../image/metadata.js';
import { imageGeometry, type ImageGeometry } from '../image/geometry.js';

export interface Metadata {
  file: string;
  name?: string;
  classes?: string[];
  inputRange?: [number, number];
  mean?: number[];
  std?: number[];
}

/** How a per-sample input is drawn as an image: C channels of H x W (the library's rule). */
export type Geometry = ImageGeometry;

export interface ModelContext {
  model: Model;
  modelPath: string;
  /** For titles: metadata.json's name, else the model's. */
  displayName: string;
  meta: Metadata | null;
  classes?: string[];
  geometry: Geometry;
  /** Image bytes 0..255 map to this range before mean/std. */
  range: [number, number];
  rangeSource: '--scale' | 'metadata.json' | 'model' | 'model.json beside the .onnx' | 'default';
  mean?: number[];
  std?: number[];
  /** zbox bounds to pass to explain() (undefined: the library's default, the model's input range). */
  low?: number | number[];
  high?: number | number[];
  /** zbox bounds when the batch holds images: they were scaled to `range` and normalised by us. */
  imageLow: number | number[];
  imageHigh: number | number[];
  /** Warnings to print (one line each). */
  warnings: string[];
}

export interface ContextOptions {
  model: string;
  backend: BackendChoice;
  metadata?: string;
  scale?: [number, number];
  mean?: number[];
  std?: number[];
  low?: number | number[];
  high?: number | number[];
}

const isNums = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** Reads a metadata.json through the library's parseMetadata (the keys it accepts are listed there). */
export function readMetadata(file: string): Metadata {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `metadata file not found: ${file}` : `${file}: cannot read metadata: ${(e as Error).message}`);
  }
  let parsed: ModelMetadata;
  try {
    parsed = parseMetadata(json, file);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const { classNames, ...rest } = parsed;
  return { file, ...rest, ...(classNames ? { classes: classNames } : {}) };
}

/** metadata.json in the model's folder, or in its parent (models/x/tfjs/model.json → models/x/metadata.json). */
export function findMetadata(modelPath: string): string | null {
  const dir = path.dirname(path.resolve(modelPath));
  for (const d of [dir, path.dirname(dir)]) {
    const f = path.join(d, 'metadata.json');
    if (existsSync(f) && path.resolve(f) !== path.resolve(modelPath)) return f;
  }
  return null;
}

/**
 * The input range an ONNX file does not carry, from the same model in our format beside it: an
 * lrp `model.json` with `input_range` in the .onnx file's folder (the layout of the test vectors,
 * and what `torch.onnx.export` next to our exporter's output gives).
 */
export function siblingInputRange(modelPath: string): [number, number] | null {
  if (!/\.onnx$/i.test(modelPath) || /^https?:/i.test(modelPath)) return null;
  const f = path.join(path.dirname(path.resolve(modelPath)), 'model.json');
  if (!existsSync(f)) return null;
  try {
    const json = JSON.parse(readFileSync(f, 'utf8')) as { format_version?: unknown; input_range?: unknown };
    const r = json.input_range;
    if (json.format_version === undefined || !isNums(r) || r.length !== 2 || r[0] === r[1]) return null;
    return [r[0], r[1]];
  } catch {
    return null;
  }
}

export function geometryOf(model: Model): Geometry {
  return imageGeometry(model.inputShape);
}

function perChannel(v: number[], C: number, what: string): number[] {
  if (v.length !== 1 && v.length !== C)
    throw new CliError(`${what} has ${v.length} values, but the model has ${C} input channel${C === 1 ? ': give one value' : `s: give 1 or ${C} values`}`);
  return v.length === 1 ? new Array<number>(C).fill(v[0]) : v;
}

/** Loads the model and everything around it; validates the preprocessing against the model. */
export async function openModel(opts: ContextOptions): Promise<ModelContext> {
  if (!/^(https?|file):/i.test(opts.model)) {
    if (!existsSync(opts.model)) throw new CliError(`model not found: ${opts.model}`);
    if (statSync(opts.model).isDirectory()) throw new CliError(`${opts.model} is a folder: give the model file (model.onnx or model.json)`);
  }
  const metaFile = opts.metadata ?? (/^https?:/i.test(opts.model) ? null : findMetadata(opts.model));
  const meta = metaFile ? readMetadata(metaFile) : null;
  let model: Model;
  try {
    model = await loadModel(opts.model, { backend: opts.backend });
  } catch (e) {
    // name the file in every model error
    if (e instanceof Error && !e.message.includes(opts.model) && !e.message.includes(path.basename(opts.model))) e.message = `${opts.model}: ${e.message}`;
    throw e;
  }
  try {
    const geometry = geometryOf(model);
    const warnings: string[] = [];
    let classes = meta?.classes;
    if (classes && classes.length !== model.outputSize) {
      warnings.push(`${meta!.file}: ${classes.length} class names for ${model.outputSize} outputs; not using them`);
      classes = undefined;
    }
    let range: [number, number];
    let rangeSource: ModelContext['rangeSource'];
    let sibling: [number, number] | null;
    if (opts.scale) [range, rangeSource] = [opts.scale, '--scale'];
    else if (meta?.inputRange) [range, rangeSource] = [meta.inputRange, 'metadata.json'];
    else if (model.graph.inputRange) [range, rangeSource] = [model.graph.inputRange, 'model'];
    else if ((sibling = siblingInputRange(opts.model))) [range, rangeSource] = [sibling, 'model.json beside the .onnx'];
    else [range, rangeSource] = [[0, 1], 'default'];
    const C = model.inputShape.length === 3 ? model.inputShape[0] : 1;
    const meanIn = opts.mean ?? meta?.mean;
    const stdIn = opts.std ?? meta?.std;
    const mean = meanIn && perChannel(meanIn, C, opts.mean ? '--mean' : `${meta!.file}: mean`);
    const std = stdIn && perChannel(stdIn, C, opts.std ? '--std' : `${meta!.file}: std`);
    for (const [b, name] of [[opts.low, '--low'], [opts.high, '--high']] as const)
      if (Array.isArray(b)) perChannel(b, C, name);

    // zbox bounds: the input range after mean/std, per channel where they differ.
    const norm = (v: number) => (mean || std ? Array.from({ length: C }, (_, c) => (v - (mean?.[c] ?? 0)) / (std?.[c] ?? 1)) : v);
    const simplify = (b: number | number[]) => (Array.isArray(b) && b.every((x) => x === b[0]) ? b[0] : b);
    const imageLow = opts.low ?? simplify(norm(Math.min(...range)));
    const imageHigh = opts.high ?? simplify(norm(Math.max(...range)));
    // For .npy inputs: explicit, else that range when the CLI knows more than the model file does
    // (metadata.json, --scale, mean/std), else the library's default (the model's input range).
    const informed =
      rangeSource === '--scale' || rangeSource === 'metadata.json' || rangeSource === 'model.json beside the .onnx' || mean !== undefined || std !== undefined;
    const low = opts.low ?? (informed ? imageLow : undefined);
    const high = opts.high ?? (informed ? imageHigh : undefined);
    return { model, modelPath: opts.model, displayName: meta?.name ?? model.name, meta, classes, geometry, range, rangeSource, mean, std, low, high, imageLow, imageHigh, warnings };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** "7 (Sneaker)" or "7". */
export function classLabel(ctx: Pick<ModelContext, 'classes'>, k: number): string {
  return ctx.classes ? `${k} (${ctx.classes[k]})` : String(k);
}
