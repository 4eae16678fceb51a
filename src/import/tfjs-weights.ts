/**
 * TF.js weights: the `weightsManifest` of a LayersModel and its binary shards. Shards are
 * concatenated group by group (in manifest path order) and each group's weights are laid out in
 * manifest order. Weights are looked up by NAME (the manifest order is not the layer order).
 */
import { ModelFormatError, UnsupportedError } from '../errors.js';
import { asBytes, concatBytes, firstNonFinite, readF32LE } from './bytes.js';
import { product, shapeStr } from './geometry.js';

export type WeightData = ArrayBuffer | Uint8Array | Array<ArrayBuffer | Uint8Array>;

interface Entry {
  name: string;
  shape: number[];
  /** Byte offset in the concatenation of all shards. */
  offset: number;
}

export interface Weight {
  name: string;
  shape: number[];
  data: Float32Array;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Strips the ":0" tensor suffix some converters append. */
function normalise(name: string): string {
  return name.replace(/:0$/, '');
}

export class TfjsWeights {
  private readonly entries = new Map<string, Entry>();
  private readonly bytes: Uint8Array;

  constructor(manifest: unknown, data: WeightData) {
    if (!Array.isArray(manifest)) {
      throw new ModelFormatError('model.json has no weightsManifest array (not a TF.js LayersModel with weights)');
    }
    const shards = (Array.isArray(data) ? data : [data]).map(asBytes);
    const groups: Array<{ paths: string[]; need: number }> = [];
    let offset = 0;
    manifest.forEach((group, gi) => {
      if (!isRecord(group) || !Array.isArray(group.weights)) {
        throw new ModelFormatError(`weightsManifest[${gi}] has no weights list`);
      }
      const paths = Array.isArray(group.paths) ? group.paths.map(String) : [];
      const start = offset;
      for (const w of group.weights as unknown[]) {
        if (!isRecord(w) || typeof w.name !== 'string' || !Array.isArray(w.shape)) {
          throw new ModelFormatError(`weightsManifest[${gi}] has an entry without name or shape`);
        }
        const name = w.name;
        const shape = (w.shape as unknown[]).map(Number);
        if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
          throw new ModelFormatError(`TF.js weight '${name}' has an invalid shape ${shapeStr(shape)}`);
        }
        if (w.quantization !== undefined && w.quantization !== null) {
          const q = isRecord(w.quantization) ? String(w.quantization.dtype ?? '?') : '?';
          throw new UnsupportedError(`TF.js weight '${name}' is quantized (${q}); only float32 weights are supported`);
        }
        const dtype = w.dtype === undefined ? 'float32' : String(w.dtype);
        if (dtype !== 'float32') {
          throw new UnsupportedError(`TF.js weight '${name}' has dtype ${dtype}; only float32 weights are supported`);
        }
        const key = normalise(name);
        if (this.entries.has(key)) throw new ModelFormatError(`TF.js weight '${name}' appears twice in the manifest`);
        this.entries.set(key, { name, shape, offset });
        offset += product(shape) * 4;
      }
      groups.push({ paths, need: offset - start });
    });

    const totalPaths = groups.reduce((s, g) => s + g.paths.length, 0);
    const have = shards.reduce((s, b) => s + b.byteLength, 0);
    if (shards.length > 1 && shards.length !== totalPaths) {
      throw new ModelFormatError(`got ${shards.length} weight shards but the weights manifest lists ${totalPaths} paths`);
    }
    if (shards.length > 1) {
      // One buffer per path: check every group on its own, so a short shard is named.
      let at = 0;
      for (const g of groups) {
        const got = shards.slice(at, at + g.paths.length).reduce((s, b) => s + b.byteLength, 0);
        at += g.paths.length;
        if (got !== g.need) throw this.sizeError(g.need, got, g.paths.join(', '));
      }
    } else if (have !== offset) {
      throw this.sizeError(offset, have, groups.flatMap((g) => g.paths).join(', '));
    }
    this.bytes = concatBytes(shards);
  }

  private sizeError(need: number, got: number, paths: string): ModelFormatError {
    const what = paths ? ` (${paths})` : '';
    return got < need
      ? new ModelFormatError(`TF.js weights are truncated: the manifest needs ${need} bytes, the shards${what} hold ${got}`)
      : new ModelFormatError(`TF.js weight shards${what} hold ${got} bytes, but the manifest describes ${need}`);
  }

  /**
   * The weight `<layer>/<role>` (also found as `…/<layer>/<role>` when the converter prefixed a
   * scope), or undefined if the manifest has no such weight.
   */
  get(layer: string, role: string): Weight | undefined {
    const want = `${layer}/${role}`;
    let e = this.entries.get(want);
    if (!e) {
      const suffix = `/${want}`;
      const hits = [...this.entries.entries()].filter(([k]) => k.endsWith(suffix));
      if (hits.length > 1) {
        throw new ModelFormatError(`TF.js weight '${want}' is ambiguous: ${hits.map(([, v]) => v.name).join(', ')}`);
      }
      e = hits[0]?.[1];
    }
    if (!e) return undefined;
    const data = readF32LE(this.bytes, e.offset, product(e.shape));
    const bad = firstNonFinite(data);
    if (bad >= 0) {
      throw new ModelFormatError(`TF.js weight '${e.name}' of layer '${layer}' holds ${data[bad]} at index ${bad}: weights must be finite`);
    }
    return { name: e.name, shape: e.shape.slice(), data };
  }
}
