/**
 * metadata.json: what a model file leaves out and an image pipeline needs: class names, the input
 * range pixels map to, and per-channel mean/std. Several spellings are accepted (`classes`,
 * `class_names`, `classNames`, `labels`; `inputRange`, `input_range`, `range`, `input.range`,
 * `preprocessing.range`; `mean`/`std` at the top or under `normalize`, `input`, `preprocessing`).
 * Browser-safe; the command line reads the same file through it.
 */
import { InputError } from '../errors.js';
import { readJsonFile } from '../import/location.js';

/** A model's preprocessing and labels (see {@link parseMetadata} for the accepted keys). */
export interface ModelMetadata {
  /** A display name for the model. */
  name?: string;
  /** One name per output, e.g. `['T-shirt/top', 'Trouser', …]`. */
  classNames?: string[];
  /** Pixel intensities 0..255 map linearly to this range (e.g. [0, 1], [-1, 1]) before mean/std. */
  inputRange?: [number, number];
  /** Per channel (or one for all): subtracted after scaling to inputRange. */
  mean?: number[];
  /** Per channel (or one for all): divides after subtracting mean. */
  std?: number[];
}

const isNums = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x));

function pick(obj: Record<string, unknown>, keys: string[]): unknown {
  for (const k of keys) {
    let v: unknown = obj;
    for (const p of k.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
    if (v !== undefined) return v;
  }
  return undefined;
}

/**
 * Reads a parsed metadata.json. `source` names the file in error messages.
 * @throws {@link InputError} (code `E_METADATA`) naming the key that is malformed.
 */
export function parseMetadata(json: unknown, source = 'metadata'): ModelMetadata {
  const fail = (msg: string) => new InputError(`${source}: ${msg}`, 'E_METADATA');
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw fail('metadata must be a JSON object');
  const o = json as Record<string, unknown>;
  const meta: ModelMetadata = {};
  if (typeof o.name === 'string' && o.name.trim()) meta.name = o.name.trim();
  const classes = pick(o, ['classes', 'class_names', 'classNames', 'labels']);
  if (classes !== undefined) {
    if (!Array.isArray(classes) || !classes.every((c) => typeof c === 'string' || typeof c === 'number')) throw fail('"classes" must be a list of names');
    meta.classNames = classes.map(String);
  }
  const range = pick(o, ['inputRange', 'input_range', 'range', 'input.range', 'preprocessing.range']);
  if (range !== undefined) {
    if (!isNums(range) || range.length !== 2 || range[0] === range[1]) throw fail(`input range must be [lo, hi], got ${JSON.stringify(range)}`);
    meta.inputRange = [range[0], range[1]];
  }
  for (const key of ['mean', 'std'] as const) {
    const v = pick(o, [key, `normalize.${key}`, `input.${key}`, `preprocessing.${key}`]);
    if (v === undefined) continue;
    const list = typeof v === 'number' ? [v] : v;
    if (!isNums(list)) throw fail(`"${key}" must be a number or a list of numbers, got ${JSON.stringify(v)}`);
    if (key === 'std' && list.some((s) => s === 0)) throw fail('"std" must not contain 0');
    meta[key] = list;
  }
  return meta;
}

/**
 * Fetches (or, in Node, reads) a metadata.json and parses it. Relative strings resolve as for
 * {@link loadModel}: against the page in browsers, as paths in Node.
 * @throws {@link ModelFormatError} when the file cannot be read, {@link InputError} when it is malformed.
 */
export async function loadMetadata(source: string | URL): Promise<ModelMetadata> {
  const { json, from } = await readJsonFile(source, 'metadata file', 'E_METADATA');
  return parseMetadata(json, from);
}

/** Per-channel values from one or C numbers; `what` names them in the error. */
export function perChannel(v: readonly number[], channels: number, what: string): number[] {
  if (v.length !== 1 && v.length !== channels)
    throw new InputError(`${what} has ${v.length} values, but the model has ${channels} input channel${channels === 1 ? ': give one value' : `s: give 1 or ${channels} values`}`);
  return v.length === 1 ? new Array<number>(channels).fill(v[0]) : v.slice();
}
