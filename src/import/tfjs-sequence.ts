/**
 * TF.js sequence layers: Conv1D, MaxPooling1D / AveragePooling1D, GlobalMaxPooling1D /
 * GlobalAveragePooling1D, SpatialDropout1D, and the recurrent layers (refused, naming the layer).
 *
 * Layout: a Keras sequence [N, L, C] is IR [L, C] per sample, in Keras order (tokens × features,
 * the IR's sequence layout), so the caller's arrays need no translation and relevance comes back
 * as [N, L, C]. The 1-D window layers run on the 2-D kernels without moving the data to channels
 * first: [L, C] is viewed as a one-channel image [1, L, C] (a free reshape), and
 * - pooling uses a window [k, 1] (each feature column pooled along the tokens) → [1, L', C] → view
 *   [L', C]: no transpose at all;
 * - Conv1D is a conv2d with one input channel and a kernel [k, C] that spans every feature
 *   (weight [F, 1, k, C]) → [F, L', 1]; its output is channels first, so one transpose brings it
 *   back to [L', F].
 */
import { ModelFormatError, ShapeError, UnsupportedError } from '../errors.js';
import type { Conv2dNode, Pads4, Shape } from '../graph/ir.js';
import { samePadding, windowOutput } from './geometry.js';
import { fusedActivation } from './tfjs-activations.js';
import { bool, get, kerasShape, one, posInt, source, weight, where, type LayerContext, type LayerHandler, type TValue } from './tfjs-context.js';
import type { KerasLayer } from './tfjs-topology.js';

/** The [L, C] of a Keras sequence value [N, L, C], or a ShapeError naming the layer. */
export function sequenceDims(layer: KerasLayer, x: TValue): [number, number] {
  if (x.shape.length !== 2) {
    throw new ShapeError(`${where(layer)}: expects a 3-D input [N, steps, channels], got per-sample shape ${kerasShape(x.shape)}`);
  }
  return x.shape as [number, number];
}

/** One positive integer, given as n or [n] (TF.js saves 1-D sizes as one-element arrays). */
function single(layer: KerasLayer, key: string, def?: number): number {
  let v = get(layer, key);
  if (v === undefined || v === null) v = def;
  const n = typeof v === 'number' ? v : Array.isArray(v) && v.length === 1 ? v[0] : NaN;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 2 ** 31 - 1) {
    throw new ModelFormatError(`${where(layer)}: '${key}' must be one positive integer (n or [n]), got ${JSON.stringify(v)}`);
  }
  return n;
}

function channelsLast1d(layer: KerasLayer): void {
  const f = get(layer, 'data_format');
  if (f !== undefined && f !== null && f !== 'channels_last') {
    throw new UnsupportedError(`${where(layer)}: data_format '${String(f)}' is not supported (only channels_last, [N, steps, channels])`);
  }
}

/**
 * Padding [begin, end] along the steps and the output length. 'causal' (Conv1D only) pads
 * (k − 1)·d steps at the start, so output t sees inputs up to t.
 */
function stepGeometry(layer: KerasLayer, len: number, k: number, s: number, d: number, causal: boolean): { pads: [number, number]; out: number } {
  const mode = get(layer, 'padding') ?? 'valid';
  let pads: [number, number];
  if (mode === 'valid') pads = [0, 0];
  else if (mode === 'same') pads = samePadding(len, k, s, d);
  else if (mode === 'causal' && causal) pads = [(k - 1) * d, 0];
  else {
    throw new UnsupportedError(`${where(layer)}: padding '${String(mode)}' is not supported (${causal ? 'valid, same or causal' : 'valid or same'})`);
  }
  return { pads, out: windowOutput(len, k, s, d, pads[0], pads[1], false, where(layer)) };
}

/** A view of `x` with shape `shape` named `name` (a reshape node; no copy). */
function view(ctx: LayerContext, layer: KerasLayer, from: string, name: string, shape: Shape): string {
  const node = ctx.b.unique(name);
  ctx.b.add({ op: 'reshape', name: node, inputs: [from], source: source(layer), shape: shape.slice() });
  return node;
}

const conv1d: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const [len, c] = sequenceDims(layer, x);
  channelsLast1d(layer);
  const groups = get(layer, 'groups') ?? 1;
  if (groups !== 1) throw new UnsupportedError(`${where(layer)}: groups ${JSON.stringify(groups)} is not supported (only 1)`);
  const filters = posInt(layer, 'filters');
  const k = single(layer, 'kernel_size');
  const s = single(layer, 'strides', 1);
  const d = single(layer, 'dilation_rate', 1);
  const geo = stepGeometry(layer, len, k, s, d, true);
  const kern = weight(layer, ctx, 'kernel', [k, c, filters]);
  // [k, C, F] → [F, 1, k, C]
  const wt = new Float32Array(filters * k * c);
  for (let t = 0; t < k; t++)
    for (let i = 0; i < c; i++) for (let o = 0; o < filters; o++) wt[(o * k + t) * c + i] = kern[(t * c + i) * filters + o];
  const image = view(ctx, layer, x.node, `${layer.name}_image`, [1, len, c]);
  const name = ctx.b.unique(layer.name);
  const padding: Pads4 = [geo.pads[0], 0, geo.pads[1], 0];
  ctx.b.add<Conv2dNode>({
    op: 'conv2d',
    name,
    inputs: [image],
    source: source(layer),
    inChannels: 1,
    outChannels: filters,
    kernel: [k, c],
    stride: [s, 1],
    padding,
    dilation: [d, 1],
    groups: 1,
    weight: wt,
    bias: bool(layer, 'use_bias', true) ? weight(layer, ctx, 'bias', [filters]) : null,
  });
  const y = fusedActivation(layer, ctx, { node: name, shape: [filters, geo.out, 1], perm: null });
  // [F, L', 1] → [F, L'] → [L', F]
  const rows = view(ctx, layer, y.node, `${layer.name}_filters`, [filters, geo.out]);
  const out = ctx.b.unique(`${layer.name}_steps`);
  ctx.b.add({ op: 'transpose', name: out, inputs: [rows], source: source(layer), perm: [1, 0] });
  return { node: out, shape: [geo.out, filters], perm: null };
};

/** A 2-D pooling node over the one-channel image [1, L, C] of x, window [k, 1]; returns its name. */
function poolColumns(
  layer: KerasLayer,
  ctx: LayerContext,
  x: TValue,
  kind: 'max' | 'avg',
  k: number,
  s: number,
  pads: [number, number],
): string {
  const [len, c] = x.shape;
  const image = view(ctx, layer, x.node, `${layer.name}_image`, [1, len, c]);
  const name = ctx.b.unique(layer.name);
  const common = {
    name, inputs: [image], source: source(layer),
    kernel: [k, 1] as [number, number], stride: [s, 1] as [number, number], padding: [pads[0], 0, pads[1], 0] as Pads4, ceilMode: false,
  };
  if (kind === 'max') ctx.b.add({ op: 'maxpool2d', ...common, dilation: [1, 1] });
  // TF's "same" average pooling divides by the number of real (unpadded) steps
  else ctx.b.add({ op: 'avgpool2d', ...common, countIncludePad: false, divisorOverride: null });
  return name;
}

function pool1d(kind: 'max' | 'avg'): LayerHandler {
  return (layer, inputs, ctx) => {
    const x = one(layer, inputs);
    const [len, c] = sequenceDims(layer, x);
    channelsLast1d(layer);
    const k = single(layer, 'pool_size', 2);
    const s = single(layer, 'strides', k);
    const geo = stepGeometry(layer, len, k, s, 1, false);
    const pooled = poolColumns(layer, ctx, x, kind, k, s, geo.pads);
    const out = view(ctx, layer, pooled, `${layer.name}_steps`, [geo.out, c]);
    return { node: out, shape: [geo.out, c], perm: null };
  };
}

function globalPool1d(kind: 'max' | 'avg'): LayerHandler {
  return (layer, inputs, ctx) => {
    const x = one(layer, inputs);
    const [len, c] = sequenceDims(layer, x);
    channelsLast1d(layer);
    const pooled = poolColumns(layer, ctx, x, kind, len, len, [0, 0]);
    if (bool(layer, 'keepdims', false)) {
      return { node: view(ctx, layer, pooled, `${layer.name}_steps`, [1, c]), shape: [1, c], perm: null };
    }
    const flat = ctx.b.unique(`${layer.name}_flatten`);
    ctx.b.add({ op: 'flatten', name: flat, inputs: [pooled], source: source(layer) });
    return { node: flat, shape: [c], perm: null };
  };
}

const recurrent: LayerHandler = (layer) => {
  throw new UnsupportedError(
    `${where(layer)}: recurrent layers are not supported (LSTM, GRU, SimpleRNN, ConvLSTM2D, RNN, and the Bidirectional and TimeDistributed wrappers)`,
  );
};

/** Sequence layers by Keras class name (SpatialDropout1D is with the other dropouts, tfjs-layers.ts). */
export const TFJS_SEQUENCE_LAYERS: Readonly<Record<string, LayerHandler>> = {
  Conv1D: conv1d,
  MaxPooling1D: pool1d('max'),
  AveragePooling1D: pool1d('avg'),
  GlobalMaxPooling1D: globalPool1d('max'),
  GlobalAveragePooling1D: globalPool1d('avg'),
  LSTM: recurrent,
  GRU: recurrent,
  SimpleRNN: recurrent,
  RNN: recurrent,
  ConvLSTM2D: recurrent,
  Bidirectional: recurrent,
  TimeDistributed: recurrent,
};
