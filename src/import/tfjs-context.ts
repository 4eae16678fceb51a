/**
 * What every TF.js layer handler shares: the Keras value as the IR sees it (TValue), the context
 * a handler gets, and small config/weight readers that name the layer in their errors.
 *
 * Layout convention (see tfjs-layers.ts): a Keras per-sample tensor of rank 3, [H, W, C], is IR
 * [C, H, W]; rank 1, [F], is IR [F] in Keras order unless `perm` says otherwise (a flattened
 * spatial tensor); every other rank keeps the Keras order (IR shape = Keras shape).
 */
import { ModelFormatError, ShapeError, UnsupportedError } from '../errors.js';
import type { Pads4, Pair, Shape } from '../graph/ir.js';
import { MAX_INT32 } from '../graph/shapes.js';
import type { GraphBuilder } from './builder.js';
import { shapeStr } from './geometry.js';
import { cfg, type Config, type KerasLayer } from './tfjs-topology.js';
import type { TfjsWeights } from './tfjs-weights.js';

/** A Keras tensor in the IR: producer node, per-sample IR shape, and the Flatten permutation. */
export interface TValue {
  node: string;
  /** [C, H, W] for Keras [H, W, C]; [F] for Keras [F]; the Keras shape for other ranks. */
  shape: Shape;
  /** For flat values: IR feature j holds Keras feature perm[j]; null = same order. */
  perm: Int32Array | null;
  /**
   * Zero padding of a ZeroPadding2D still to be merged into the next window layer; `node` and
   * `shape` are then the unpadded input of the ZeroPadding2D.
   */
  pad?: PendingPad;
}

export interface PendingPad {
  /** [top, left, bottom, right] */
  pads: Pads4;
  /** The ZeroPadding2D layer(s), for messages. */
  from: string;
}

export interface LayerContext {
  b: GraphBuilder;
  weights: TfjsWeights;
  notes: string[];
  /** The layer's output is the model output (a softmax is allowed only there). */
  isOutput: boolean;
  /** Number of layer inputs that read this layer's output (not counting the model output). */
  consumers: number;
}

export type LayerHandler = (layer: KerasLayer, inputs: TValue[], ctx: LayerContext) => TValue;

/** "TF.js layer 'name' (Class)": how messages name a layer. */
export function where(layer: KerasLayer): string {
  return `TF.js layer '${layer.name}' (${layer.className})`;
}

/** The `source` of the IR nodes a layer makes. */
export function source(layer: KerasLayer): string {
  return `${layer.name} (${layer.className})`;
}

/** Per-sample Keras shape of an IR value (rank 3: [C, H, W] → [H, W, C]). */
export function kerasDims(shape: Shape): Shape {
  return shape.length === 3 ? [shape[1], shape[2], shape[0]] : shape.slice();
}

/** The Keras view of an IR per-sample shape, for messages. */
export function kerasShape(shape: Shape): string {
  return shapeStr(kerasDims(shape));
}

export function get(layer: KerasLayer, key: string): unknown {
  return cfg(layer.config, key);
}

export function posInt(layer: KerasLayer, key: string, def?: number): number {
  const v = get(layer, key) ?? def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_INT32) {
    throw new ModelFormatError(`${where(layer)}: '${key}' must be a positive integer up to 2^31-1, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A finite number from the config (`def` when absent or null). */
export function num(layer: KerasLayer, key: string, def: number): number {
  const v = get(layer, key);
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ModelFormatError(`${where(layer)}: '${key}' must be a finite number, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function pairOf(layer: KerasLayer, key: string, def?: Pair): Pair {
  let v = get(layer, key);
  if (v === undefined || v === null) v = def;
  const p = typeof v === 'number' ? [v, v] : Array.isArray(v) ? v.map(Number) : [];
  if (p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < 1 || d > MAX_INT32)) {
    throw new ModelFormatError(`${where(layer)}: '${key}' must be one or two positive integers up to 2^31-1, got ${JSON.stringify(v)}`);
  }
  return [p[0], p[1]];
}

export function bool(layer: KerasLayer, key: string, def: boolean): boolean {
  const v = get(layer, key);
  return v === undefined || v === null ? def : Boolean(v);
}

export function one(layer: KerasLayer, inputs: TValue[]): TValue {
  if (inputs.length !== 1) throw new ModelFormatError(`${where(layer)} expects one input, got ${inputs.length}`);
  return inputs[0];
}

export function spatial(layer: KerasLayer, x: TValue): [number, number, number] {
  if (x.shape.length !== 3) {
    throw new ShapeError(`${where(layer)}: expects a 4-D input [N, H, W, C], got per-sample shape ${kerasShape(x.shape)}`);
  }
  return x.shape as [number, number, number];
}

export function channelsLast(layer: KerasLayer): void {
  const f = get(layer, 'data_format');
  if (f !== undefined && f !== null && f !== 'channels_last') {
    throw new UnsupportedError(`${where(layer)}: data_format '${String(f)}' is not supported (only channels_last)`);
  }
}

export function requireWeight(layer: KerasLayer, ctx: LayerContext, role: string) {
  const wt = ctx.weights.get(layer.name, role);
  if (!wt) {
    throw new ModelFormatError(`TF.js weight '${layer.name}/${role}' of ${where(layer)} is missing from the weights manifest`);
  }
  return wt;
}

export function weight(layer: KerasLayer, ctx: LayerContext, role: string, shape: number[]): Float32Array {
  const wt = requireWeight(layer, ctx, role);
  if (wt.shape.length !== shape.length || wt.shape.some((v, i) => v !== shape[i])) {
    throw new ShapeError(`${where(layer)}: weight '${wt.name}' has shape ${shapeStr(wt.shape)}, expected ${shapeStr(shape)}`);
  }
  return wt.data;
}

/** The name of an activation given as a string or a serialized {class_name, config} object. */
export function activationName(v: unknown): string {
  if (v === undefined || v === null) return 'linear';
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && typeof (v as Config).class_name === 'string') return String((v as Config).class_name);
  return JSON.stringify(v);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function samePerm(a: Int32Array | null, b: Int32Array | null): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Per-feature values in Keras order → IR order of a flat value with `perm`. */
export function permute(v: Float32Array, perm: Int32Array | null): Float32Array {
  if (!perm) return v;
  const out = new Float32Array(v.length);
  for (let j = 0; j < perm.length; j++) out[j] = v[perm[j]];
  return out;
}

/** The same value under a new producer node (element-wise layers keep shape and perm). */
export function sameAs(x: TValue, node: string): TValue {
  return { node, shape: x.shape.slice(), perm: x.perm };
}
