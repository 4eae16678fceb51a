/**
 * TF.js layers that move values without computing: Flatten, Reshape, Permute, Cropping2D,
 * UpSampling2D → IR views (flatten, reshape), transpose, slice and upsample nodes. Relevance moves
 * by index through all of them (ops/strided.ts).
 *
 * Keras reshapes are row-major over its own layout (H, W, C) while the IR holds [C, H, W], so a
 * Reshape goes through the Keras order: transpose to [H, W, C] (or undo a Flatten's permutation),
 * reshape, and transpose back when the target is an image. Transposes that move only axes of
 * length 1 become views, so Reshape((1, 1, C)) after global pooling costs nothing.
 */
import { ModelFormatError, ShapeError, UnsupportedError } from '../errors.js';
import type { Shape } from '../graph/ir.js';
import { checkSampleSize, size } from '../graph/shapes.js';
import { shapeStr } from './geometry.js';
import { channelsLast, get, kerasShape, one, source, spatial, where, type LayerContext, type LayerHandler, type TValue } from './tfjs-context.js';
import type { KerasLayer } from './tfjs-topology.js';

/** One layout step on the IR value: a row-major reshape or an axis permutation. */
type Step = { kind: 'view'; shape: Shape } | { kind: 'transpose'; perm: number[] };

/** The non-unit axes keep their order: the permutation is a reshape. */
function onlyUnitAxesMove(perm: number[], shape: Shape): boolean {
  const moved = perm.filter((a) => shape[a] !== 1);
  return moved.every((a, i) => i === 0 || a > moved[i - 1]);
}

/**
 * Emits `steps` on x as IR nodes (consecutive views merged, no-op views dropped); the last node
 * gets the layer's name. Returns the resulting value (perm null), or x itself if nothing moved.
 */
function emitLayout(layer: KerasLayer, ctx: LayerContext, x: TValue, steps: Step[]): TValue {
  type Op = { op: 'reshape'; shape: Shape } | { op: 'transpose'; perm: number[]; shape: Shape };
  const ops: Op[] = [];
  let shape = x.shape;
  for (const s of steps) {
    let out: Shape;
    let view: boolean;
    if (s.kind === 'view') {
      if (size(s.shape) !== size(shape)) throw new ShapeError(`${where(layer)}: cannot reshape ${shapeStr(shape)} to ${shapeStr(s.shape)}`);
      [out, view] = [s.shape.slice(), true];
    } else {
      out = s.perm.map((a) => shape[a]);
      view = onlyUnitAxesMove(s.perm, shape);
      if (!view) ops.push({ op: 'transpose', perm: s.perm.slice(), shape: out });
    }
    if (view) {
      const last = ops[ops.length - 1];
      if (last?.op === 'reshape') last.shape = out;
      else ops.push({ op: 'reshape', shape: out });
    }
    shape = out;
  }
  let cur = { node: x.node, shape: x.shape };
  const kept = ops.filter((op, i) => {
    const before = i === 0 ? x.shape : ops[i - 1].shape;
    return !(op.op === 'reshape' && shapeStr(op.shape) === shapeStr(before));
  });
  kept.forEach((op, i) => {
    const name = ctx.b.unique(i === kept.length - 1 ? layer.name : `${layer.name}_${op.op}`);
    const common = { name, inputs: [cur.node], source: source(layer) };
    if (op.op === 'transpose') ctx.b.add({ op: 'transpose', ...common, perm: op.perm });
    else if (op.shape.length === 1) ctx.b.add({ op: 'flatten', ...common });
    else ctx.b.add({ op: 'reshape', ...common, shape: op.shape.slice() });
    cur = { node: name, shape: op.shape };
  });
  if (kept.length === 0) return { node: x.node, shape: shape.slice(), perm: shape.length === 1 ? x.perm : null };
  return { node: cur.node, shape: cur.shape.slice(), perm: null };
}

/** For a Flatten's permutation of IR [C, HW]: C; null if `perm` is not of that form. */
function flattenedChannels(perm: Int32Array): number | null {
  if (perm.length < 2) return null;
  const c = perm[1];
  if (c < 1 || perm.length % c !== 0) return null;
  const hw = perm.length / c;
  for (let j = 0; j < perm.length; j++) if (perm[j] !== (j % hw) * c + Math.floor(j / hw)) return null;
  return c;
}

/** Steps that put x's values in Keras row-major order (IR shape = Keras shape afterwards). */
function toKerasOrder(layer: KerasLayer, x: TValue): Step[] {
  if (x.shape.length === 3) return [{ kind: 'transpose', perm: [1, 2, 0] }];
  if (x.shape.length === 1 && x.perm) {
    const c = flattenedChannels(x.perm);
    if (c === null) {
      throw new UnsupportedError(`${where(layer)}: reshaping a concatenation of flattened spatial tensors is not supported`);
    }
    return [{ kind: 'view', shape: [c, x.perm.length / c] }, { kind: 'transpose', perm: [1, 0] }];
  }
  return [];
}

/** Steps from Keras row-major values of Keras shape `target` to the IR layout of that shape. */
function fromKerasOrder(target: Shape): Step[] {
  if (target.length === 3) return [{ kind: 'view', shape: target.slice() }, { kind: 'transpose', perm: [2, 0, 1] }];
  return [{ kind: 'view', shape: target.slice() }];
}

/** Keras Flatten (row-major over H, W, C): an IR flatten; the value carries the permutation. */
function flattenValue(layer: KerasLayer, ctx: LayerContext, x: TValue): TValue {
  if (x.shape.length === 1) return x;
  if (x.shape.length !== 3) return emitLayout(layer, ctx, x, [{ kind: 'view', shape: [size(x.shape)] }]);
  const name = ctx.b.unique(layer.name);
  ctx.b.add({ op: 'flatten', name, inputs: [x.node], source: source(layer) });
  const [c, h, w] = x.shape;
  checkSampleSize(x.shape, where(layer));
  let perm: Int32Array | null = null;
  if (c > 1 && h * w > 1) {
    // IR index c·H·W + y·W + x  ←  Keras index y·W·C + x·C + c
    perm = new Int32Array(c * h * w);
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) perm[(ch * h + y) * w + xx] = (y * w + xx) * c + ch;
  }
  return { node: name, shape: [c * h * w], perm };
}

const flatten: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  channelsLast(layer);
  if (x.shape.length === 1) {
    // keep a node, so that the layer has one (a view costs nothing)
    const name = ctx.b.unique(layer.name);
    ctx.b.add({ op: 'flatten', name, inputs: [x.node], source: source(layer) });
    return { node: name, shape: x.shape.slice(), perm: x.perm };
  }
  return flattenValue(layer, ctx, x);
};

/** target_shape with one −1 resolved against the input size. */
function targetShape(layer: KerasLayer, x: TValue): Shape {
  // TF.js saves an inferred dimension (−1) as null
  const raw = get(layer, 'target_shape');
  const t = Array.isArray(raw) ? raw.map((d) => (d === null ? -1 : d)) : raw;
  if (!Array.isArray(t) || t.length === 0 || t.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1)) || t.filter((d) => d === -1).length > 1) {
    throw new ModelFormatError(`${where(layer)}: 'target_shape' must be positive integers (at most one −1 or null), got ${JSON.stringify(raw)}`);
  }
  const total = size(x.shape);
  const known = size((t as number[]).filter((d) => d !== -1));
  const out = (t as number[]).map((d) => (d === -1 ? total / known : d));
  if (!out.every(Number.isInteger) || size(out) !== total) {
    throw new ShapeError(`${where(layer)}: cannot reshape ${kerasShape(x.shape)} (${total} values) to ${JSON.stringify(raw)}`);
  }
  return out;
}

const reshape: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const target = targetShape(layer, x);
  if (target.length === 1) return flattenValue(layer, ctx, x);
  return emitLayout(layer, ctx, x, [...toKerasOrder(layer, x), ...fromKerasOrder(target)]);
};

/** Keras axis k of a rank-3 value is IR axis KERAS_TO_IR[k]; IR axis j is Keras axis IR_TO_KERAS[j]. */
const KERAS_TO_IR = [1, 2, 0];
const IR_TO_KERAS = [2, 0, 1];

const permute: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const rank = x.shape.length;
  const dims = get(layer, 'dims');
  if (!Array.isArray(dims) || dims.length !== rank || [...dims].sort((a, b) => a - b).some((d, i) => d !== i + 1)) {
    throw new ModelFormatError(`${where(layer)}: 'dims' must be a permutation of 1..${rank}, got ${JSON.stringify(dims)}`);
  }
  const d = (dims as number[]).map((v) => v - 1);
  if (rank === 1) return x;
  // output Keras axis i is input Keras axis d[i]
  const perm = rank === 3 ? IR_TO_KERAS.map((k) => KERAS_TO_IR[d[k]]) : d;
  return emitLayout(layer, ctx, x, [{ kind: 'transpose', perm }]);
};

/** `cropping` / `size`-style config: n, [a, b] or [[a0, a1], [b0, b1]] → [[a0, a1], [b0, b1]]. */
function symmetricPairs(layer: KerasLayer, key: string, def: unknown): [[number, number], [number, number]] {
  const v = get(layer, key) ?? def;
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;
  if (ok(v)) return [[v, v], [v, v]];
  if (Array.isArray(v) && v.length === 2) {
    if (ok(v[0]) && ok(v[1])) return [[v[0], v[0]], [v[1], v[1]]];
    const [a, b] = v as unknown[];
    if (Array.isArray(a) && Array.isArray(b) && a.length === 2 && b.length === 2 && [...a, ...b].every(ok)) return [[a[0], a[1]], [b[0], b[1]]];
  }
  throw new ModelFormatError(`${where(layer)}: '${key}' must be n, [h, w] or [[top, bottom], [left, right]] (non-negative integers), got ${JSON.stringify(v)}`);
}

/** Cropping2D: one slice per cropped spatial axis. */
const cropping2d: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const [c, h, w] = spatial(layer, x);
  channelsLast(layer);
  const [[top, bottom], [left, right]] = symmetricPairs(layer, 'cropping', 0);
  if (top + bottom >= h || left + right >= w) {
    throw new ShapeError(`${where(layer)}: cropping ${JSON.stringify([[top, bottom], [left, right]])} leaves nothing of ${kerasShape(x.shape)}`);
  }
  const cuts = [
    { axis: 1, start: top, end: h - bottom },
    { axis: 2, start: left, end: w - right },
  ].filter((cut, i) => cut.start > 0 || cut.end < (i === 0 ? h : w));
  let cur = x.node;
  cuts.forEach((cut, i) => {
    const name = ctx.b.unique(i === cuts.length - 1 ? layer.name : `${layer.name}_rows`);
    ctx.b.add({ op: 'slice', name, inputs: [cur], source: source(layer), ...cut, step: 1 });
    cur = name;
  });
  return { node: cur, shape: [c, h - top - bottom, w - left - right], perm: null };
};

/** UpSampling2D: nearest neighbour by integer factors (relevance of the copies summed back). */
const upSampling2d: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const [c, h, w] = spatial(layer, x);
  channelsLast(layer);
  const interpolation = get(layer, 'interpolation') ?? 'nearest';
  if (interpolation !== 'nearest') {
    throw new UnsupportedError(`${where(layer)}: interpolation '${String(interpolation)}' is not supported (only 'nearest')`);
  }
  const sz = get(layer, 'size') ?? [2, 2];
  const s = typeof sz === 'number' ? [sz, sz] : Array.isArray(sz) ? sz : [];
  if (s.length !== 2 || s.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new ModelFormatError(`${where(layer)}: 'size' must be one or two positive integers, got ${JSON.stringify(sz)}`);
  }
  if (s[0] === 1 && s[1] === 1) return x;
  const name = ctx.b.unique(layer.name);
  ctx.b.add({ op: 'upsample', name, inputs: [x.node], source: source(layer), scale: [s[0], s[1]] });
  return { node: name, shape: [c, h * s[0], w * s[1]], perm: null };
};

/** Layout layers by Keras class name. */
export const TFJS_RESHAPING_LAYERS: Readonly<Record<string, LayerHandler>> = {
  Flatten: flatten,
  Reshape: reshape,
  Permute: permute,
  Cropping2D: cropping2d,
  UpSampling2D: upSampling2d,
};
