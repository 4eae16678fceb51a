/**
 * Models whose input is token ids (an embedding reads the model input): what the Model needs to
 * know about them, and the ids a caller passes (Int32Array, number[], number[][], Float32Array)
 * checked and turned into the float32 model input the engine reads. Browser-safe.
 */
import { InputError } from '../errors.js';
import { MODEL_INPUT, type Graph } from '../graph/ir.js';
import { where } from '../graph/shapes.js';

/** The embedding tables that read the model input (structurally: the op module lives in src/ops/embedding.ts). */
interface InputEmbedding {
  op: string;
  name: string;
  source?: string;
  vocab: number;
  dim: number;
  table: Float32Array;
}

/** The embedding nodes reading the model input directly. */
export function inputEmbeddings(graph: Graph): InputEmbedding[] {
  return (graph.nodes as unknown as Array<{ op: string; inputs: string[] } & InputEmbedding>).filter(
    (node) => node.op === 'embedding' && node.inputs.includes(MODEL_INPUT),
  );
}

/**
 * Whether the model input holds token ids: the importer says so (`graph.inputKind`), or an
 * embedding reads the input. The vocabulary size is the smallest table's (ids must be valid for
 * every table that reads them); null when no table reads the input directly.
 */
export function tokenInputOf(graph: Graph): { vocab: number | null; table: InputEmbedding | null } | null {
  const tables = inputEmbeddings(graph);
  const declared = (graph as { inputKind?: string }).inputKind === 'tokens';
  if (!declared && tables.length === 0) return null;
  // the smallest table decides which ids are valid, and is the one a bad id is reported against
  const table = tables.reduce<InputEmbedding | null>((a, t) => (a === null || t.vocab < a.vocab ? t : a), null);
  return { vocab: table?.vocab ?? null, table };
}

/** The largest integer a float32 holds exactly: ids beyond it would change on the way in. */
const MAX_EXACT_ID = 2 ** 24;

/** "5" for a rank-1 input, "[1, 5]" for a rank-2 one (as the embedding op names positions). */
function position(flat: number, shape: readonly number[]): string {
  if (shape.length <= 1) return String(flat);
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(flat % shape[d]);
    flat = Math.floor(flat / shape[d]);
  }
  return `[${idx.join(', ')}]`;
}

/**
 * Token ids → float32 model input, [n × T] (T = the ids per sample, `shape` their per-sample
 * shape). Accepts a flat array of n·T ids (Int32Array, Float32Array, number[] …) or one array of T
 * ids per sample (number[][]). Every id must be an integer in [0, vocab): anything else is an
 * InputError (E_TOKEN_ID) naming the sample and position, worded as the embedding op's own check.
 */
export function tokenIdsToInput(x: unknown, shape: readonly number[], token: { vocab: number | null; table: InputEmbedding | null }): { data: Float32Array; n: number } {
  const T = shape.reduce((a, b) => a * b, 1);
  const { vocab, table } = token;
  if (!x || typeof x !== 'object' || typeof (x as ArrayLike<unknown>).length !== 'number' || x instanceof BigInt64Array || x instanceof BigUint64Array)
    throw new InputError(`token ids must be an Int32Array, a Float32Array, a number[] or one number[] per sample, got ${x === null ? 'null' : typeof x === 'object' ? ((x as object).constructor?.name ?? 'an object') : typeof x}`);
  const list = x as ArrayLike<unknown>;
  const nested = list.length > 0 && !ArrayBuffer.isView(list) && typeof list[0] === 'object' && list[0] !== null;
  let n: number;
  let at: (s: number, t: number) => unknown;
  if (nested) {
    n = list.length;
    for (let s = 0; s < n; s++) {
      const row = list[s] as ArrayLike<unknown> | null;
      if (!row || typeof row !== 'object' || typeof row.length !== 'number')
        throw new InputError(`token ids: sample ${s} is not an array of ids (give one array of ${T} ids per sample)`);
      if (row.length !== T)
        throw new InputError(`token ids: sample ${s} has ${row.length} ids, the model takes ${T} per sample (pad or truncate them, e.g. with tokenize())`);
    }
    at = (s, t) => (list[s] as ArrayLike<unknown>)[t];
  } else {
    const len = list.length;
    if (len === 0 || len % T !== 0)
      throw new InputError(`${len} token ids are not a whole number of samples of ${T} ids (the model's sequence length)`);
    n = len / T;
    at = (s, t) => list[s * T + t];
  }
  const data = new Float32Array(n * T);
  for (let s = 0; s < n; s++)
    for (let t = 0; t < T; t++) {
      const id = at(s, t);
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || (vocab !== null && id >= vocab) || id >= MAX_EXACT_ID) {
        const at = `token id ${describe(id)} at sample ${s}, position ${position(t, shape)}`;
        throw new InputError(
          table && vocab !== null
            ? `${where(table)}: ${at} is not an integer from 0 to ${vocab - 1} (the vocabulary size is ${vocab})`
            : `${at} is not a non-negative integer`,
          'E_TOKEN_ID',
        );
      }
      data[s * T + t] = id;
    }
  return { data, n };
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object') return v === null ? 'null' : Array.isArray(v) ? 'an array' : 'an object';
  return String(v);
}
