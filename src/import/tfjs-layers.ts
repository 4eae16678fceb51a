/**
 * Translation of single Keras layers (as saved by TF.js) into IR nodes, translating layouts
 * once, at load time:
 *
 * - activations: Keras [H, W, C] per sample ↔ IR [C, H, W];
 * - Conv2D kernel [kh, kw, in/groups, out] → [out, in/groups, kh, kw];
 * - DepthwiseConv2D kernel [kh, kw, in, mult] → [in·mult, 1, kh, kw] (output channel i·mult + m);
 * - Dense kernel [in, out] → [out, in];
 * - Keras Flatten is row-major over (h, w, c) but the IR flattens (c, h, w): the flat value keeps
 *   a permutation (`perm[j]` = Keras index of IR feature j) that the next Dense (or BN) applies
 *   to its weights, through Dropout / Activation / identity layers. No transposes are inserted.
 * - ZeroPadding2D makes no node: its padding waits on the value (`pad`) and is added to the
 *   padding of the one layer that reads it (Conv2D, DepthwiseConv2D, SeparableConv2D, and the
 *   pooling layers where that keeps their semantics); any other reader is rejected.
 */
import { ShapeError, UnsupportedError, ModelFormatError } from '../errors.js';
import type { Conv2dNode, DenseNode, Pads4, Pair, Shape } from '../graph/ir.js';
import type { GraphBuilder } from './builder.js';
import { checkSampleSize, MAX_INT32 } from '../graph/shapes.js';
import { samePadding, shapeStr, windowOutput } from './geometry.js';
import { cfg, type Config, type KerasLayer } from './tfjs-topology.js';
import type { TfjsWeights } from './tfjs-weights.js';

/** A Keras tensor in the IR: producer node, per-sample IR shape, and the Flatten permutation. */
export interface TValue {
  node: string;
  /** [C, H, W] for Keras [H, W, C]; [F] for Keras [F]. */
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

// ---- helpers --------------------------------------------------------------------------------

function where(layer: KerasLayer): string {
  return `TF.js layer '${layer.name}' (${layer.className})`;
}

function source(layer: KerasLayer): string {
  return `${layer.name} (${layer.className})`;
}

/** The Keras view of an IR per-sample shape, for messages. */
function kerasShape(shape: Shape): string {
  return shapeStr(shape.length === 3 ? [shape[1], shape[2], shape[0]] : shape);
}

function get(layer: KerasLayer, key: string): unknown {
  return cfg(layer.config, key);
}

function posInt(layer: KerasLayer, key: string, def?: number): number {
  const v = get(layer, key) ?? def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_INT32) {
    throw new ModelFormatError(`${where(layer)}: '${key}' must be a positive integer up to 2^31-1, got ${JSON.stringify(v)}`);
  }
  return v;
}

function pairOf(layer: KerasLayer, key: string, def?: Pair): Pair {
  let v = get(layer, key);
  if (v === undefined || v === null) v = def;
  const p = typeof v === 'number' ? [v, v] : Array.isArray(v) ? v.map(Number) : [];
  if (p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < 1 || d > MAX_INT32)) {
    throw new ModelFormatError(`${where(layer)}: '${key}' must be one or two positive integers up to 2^31-1, got ${JSON.stringify(v)}`);
  }
  return [p[0], p[1]];
}

function bool(layer: KerasLayer, key: string, def: boolean): boolean {
  const v = get(layer, key);
  return v === undefined || v === null ? def : Boolean(v);
}

function one(layer: KerasLayer, inputs: TValue[]): TValue {
  if (inputs.length !== 1) throw new ModelFormatError(`${where(layer)} expects one input, got ${inputs.length}`);
  return inputs[0];
}

function spatial(layer: KerasLayer, x: TValue): [number, number, number] {
  if (x.shape.length !== 3) {
    throw new ShapeError(`${where(layer)}: expects a 4-D input [N, H, W, C], got per-sample shape ${kerasShape(x.shape)}`);
  }
  return x.shape as [number, number, number];
}

function channelsLast(layer: KerasLayer): void {
  const f = get(layer, 'data_format');
  if (f !== undefined && f !== null && f !== 'channels_last') {
    throw new UnsupportedError(`${where(layer)}: data_format '${String(f)}' is not supported (only channels_last)`);
  }
}

function paddingMode(layer: KerasLayer): 'valid' | 'same' {
  const p = get(layer, 'padding') ?? 'valid';
  if (p !== 'valid' && p !== 'same') {
    throw new UnsupportedError(`${where(layer)}: padding '${String(p)}' is not supported (valid or same)`);
  }
  return p;
}

/**
 * Spatial padding and output size of a window layer, TF style, on the input after the zero
 * padding `merged` of a preceding ZeroPadding2D. `own` is the layer's own ("same") padding,
 * `pads` the total.
 */
function windowGeometry(
  layer: KerasLayer,
  h: number,
  w: number,
  k: Pair,
  s: Pair,
  d: Pair,
  mode: 'valid' | 'same',
  merged: Pads4 = [0, 0, 0, 0],
): { own: Pads4; pads: Pads4; out: [number, number] } {
  const ph = h + merged[0] + merged[2];
  const pw = w + merged[1] + merged[3];
  let own: Pads4 = [0, 0, 0, 0];
  if (mode === 'same') {
    const [t, b] = samePadding(ph, k[0], s[0], d[0]);
    const [l, r] = samePadding(pw, k[1], s[1], d[1]);
    own = [t, l, b, r];
  }
  const oh = windowOutput(ph, k[0], s[0], d[0], own[0], own[2], false, where(layer));
  const ow = windowOutput(pw, k[1], s[1], d[1], own[1], own[3], false, where(layer));
  const pads: Pads4 = [own[0] + merged[0], own[1] + merged[1], own[2] + merged[2], own[3] + merged[3]];
  return { own, pads, out: [oh, ow] };
}

function anyPad(p: Pads4): boolean {
  return p.some((v) => v !== 0);
}

/** Records the merge of a pending ZeroPadding2D into `into`. */
function mergedNote(ctx: LayerContext, x: TValue, into: string): void {
  if (x.pad && anyPad(x.pad.pads)) ctx.notes.push(`ZeroPadding2D '${x.pad.from}' merged into the padding of '${into}'`);
}

function requireWeight(layer: KerasLayer, ctx: LayerContext, role: string) {
  const wt = ctx.weights.get(layer.name, role);
  if (!wt) {
    throw new ModelFormatError(`TF.js weight '${layer.name}/${role}' of ${where(layer)} is missing from the weights manifest`);
  }
  return wt;
}

function weight(layer: KerasLayer, ctx: LayerContext, role: string, shape: number[]): Float32Array {
  const wt = requireWeight(layer, ctx, role);
  if (wt.shape.length !== shape.length || wt.shape.some((v, i) => v !== shape[i])) {
    throw new ShapeError(`${where(layer)}: weight '${wt.name}' has shape ${shapeStr(wt.shape)}, expected ${shapeStr(shape)}`);
  }
  return wt.data;
}

function activationName(v: unknown): string {
  if (v === undefined || v === null) return 'linear';
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && typeof (v as Config).class_name === 'string') return String((v as Config).class_name);
  return JSON.stringify(v);
}

function softmaxNode(layer: KerasLayer, ctx: LayerContext, x: TValue, nodeName: string): TValue {
  if (!ctx.isOutput || x.shape.length !== 1) {
    throw new UnsupportedError(`${where(layer)}: softmax is only supported on the output layer (over the logits)`);
  }
  if (x.perm) throw new UnsupportedError(`${where(layer)}: softmax over a flattened spatial tensor is not supported`);
  ctx.b.add({ op: 'softmax', name: nodeName, inputs: [x.node], source: source(layer) });
  return { node: nodeName, shape: x.shape.slice(), perm: null };
}

/** A fused activation (`activation` of Dense / Conv2D / …): a separate node `<layer>_act`. */
function fusedActivation(layer: KerasLayer, ctx: LayerContext, x: TValue): TValue {
  const act = activationName(get(layer, 'activation'));
  switch (act) {
    case 'linear':
      return x;
    case 'relu': {
      const name = ctx.b.unique(`${layer.name}_act`);
      ctx.b.add({ op: 'relu', name, inputs: [x.node], source: source(layer) });
      return { node: name, shape: x.shape.slice(), perm: x.perm };
    }
    case 'softmax':
      return softmaxNode(layer, ctx, x, ctx.b.unique(`${layer.name}_act`));
    default:
      throw new UnsupportedError(
        `${where(layer)} has activation '${act}'; only relu, linear and a softmax on the output layer are supported`,
      );
  }
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function samePerm(a: Int32Array | null, b: Int32Array | null): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function permute(v: Float32Array, perm: Int32Array | null): Float32Array {
  if (!perm) return v;
  const out = new Float32Array(v.length);
  for (let j = 0; j < perm.length; j++) out[j] = v[perm[j]];
  return out;
}

// ---- linear layers ----------------------------------------------------------------------------

const dense: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  if (x.shape.length !== 1) {
    throw new UnsupportedError(
      `${where(layer)}: Dense on per-sample shape ${kerasShape(x.shape)} is not supported (only [N, features]: add a Flatten or global pooling)`,
    );
  }
  const inF = x.shape[0];
  const units = posInt(layer, 'units');
  const k = weight(layer, ctx, 'kernel', [inF, units]);
  // IR weight[o, j] = K[perm[j], o]
  const w = new Float32Array(units * inF);
  const perm = x.perm;
  for (let j = 0; j < inF; j++) {
    const row = (perm ? perm[j] : j) * units;
    for (let o = 0; o < units; o++) w[o * inF + j] = k[row + o];
  }
  if (perm) {
    ctx.notes.push(
      `Dense '${layer.name}' reads a Keras Flatten (H, W, C order): its weight columns were permuted to the graph's (C, H, W) order`,
    );
  }
  const name = ctx.b.unique(layer.name);
  ctx.b.add<DenseNode>({
    op: 'dense',
    name,
    inputs: [x.node],
    source: source(layer),
    inFeatures: inF,
    outFeatures: units,
    weight: w,
    bias: bool(layer, 'use_bias', true) ? weight(layer, ctx, 'bias', [units]) : null,
  });
  return fusedActivation(layer, ctx, { node: name, shape: [units], perm: null });
};

const conv2d: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const [c, h, w] = spatial(layer, x);
  channelsLast(layer);
  const filters = posInt(layer, 'filters');
  const k = pairOf(layer, 'kernel_size');
  const s = pairOf(layer, 'strides', [1, 1]);
  const d = pairOf(layer, 'dilation_rate', [1, 1]);
  const groups = posInt(layer, 'groups', 1);
  if (c % groups !== 0 || filters % groups !== 0) {
    throw new ShapeError(`${where(layer)}: groups ${groups} does not divide ${c} input channels and ${filters} filters`);
  }
  const cg = c / groups;
  const geo = windowGeometry(layer, h, w, k, s, d, paddingMode(layer), x.pad?.pads);
  const kern = weight(layer, ctx, 'kernel', [k[0], k[1], cg, filters]);
  // [kh, kw, cg, out] → [out, cg, kh, kw]
  const wt = new Float32Array(filters * cg * k[0] * k[1]);
  for (let y = 0; y < k[0]; y++)
    for (let xx = 0; xx < k[1]; xx++)
      for (let i = 0; i < cg; i++)
        for (let o = 0; o < filters; o++)
          wt[((o * cg + i) * k[0] + y) * k[1] + xx] = kern[((y * k[1] + xx) * cg + i) * filters + o];
  const name = ctx.b.unique(layer.name);
  ctx.b.add<Conv2dNode>({
    op: 'conv2d',
    name,
    inputs: [x.node],
    source: source(layer),
    inChannels: c,
    outChannels: filters,
    kernel: k,
    stride: s,
    padding: geo.pads,
    dilation: d,
    groups,
    weight: wt,
    bias: bool(layer, 'use_bias', true) ? weight(layer, ctx, 'bias', [filters]) : null,
  });
  mergedNote(ctx, x, name);
  return fusedActivation(layer, ctx, { node: name, shape: [filters, geo.out[0], geo.out[1]], perm: null });
};

/** A depthwise conv node (groups = in channels); returns its output. */
function depthwiseNode(
  layer: KerasLayer,
  ctx: LayerContext,
  x: TValue,
  name: string,
  withBias: boolean,
): TValue {
  const [c, h, w] = spatial(layer, x);
  channelsLast(layer);
  // tfjs's SeparableConv2D config omits depth_multiplier: take it from the kernel then.
  const given = get(layer, 'depth_multiplier');
  const mult =
    given === undefined || given === null
      ? (requireWeight(layer, ctx, 'depthwise_kernel').shape[3] ?? 1)
      : posInt(layer, 'depth_multiplier');
  const k = pairOf(layer, 'kernel_size');
  const s = pairOf(layer, 'strides', [1, 1]);
  const d = pairOf(layer, 'dilation_rate', [1, 1]);
  const geo = windowGeometry(layer, h, w, k, s, d, paddingMode(layer), x.pad?.pads);
  const kern = weight(layer, ctx, 'depthwise_kernel', [k[0], k[1], c, mult]);
  // [kh, kw, in, mult] → [in·mult, 1, kh, kw], output channel i·mult + m (TF's order)
  const out = c * mult;
  const wt = new Float32Array(out * k[0] * k[1]);
  for (let y = 0; y < k[0]; y++)
    for (let xx = 0; xx < k[1]; xx++)
      for (let i = 0; i < c; i++)
        for (let m = 0; m < mult; m++)
          wt[((i * mult + m) * k[0] + y) * k[1] + xx] = kern[((y * k[1] + xx) * c + i) * mult + m];
  ctx.b.add<Conv2dNode>({
    op: 'conv2d',
    name,
    inputs: [x.node],
    source: source(layer),
    inChannels: c,
    outChannels: out,
    kernel: k,
    stride: s,
    padding: geo.pads,
    dilation: d,
    groups: c,
    weight: wt,
    bias: withBias ? weight(layer, ctx, 'bias', [out]) : null,
  });
  mergedNote(ctx, x, name);
  return { node: name, shape: [out, geo.out[0], geo.out[1]], perm: null };
}

const depthwiseConv2d: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const y = depthwiseNode(layer, ctx, x, ctx.b.unique(layer.name), bool(layer, 'use_bias', true));
  return fusedActivation(layer, ctx, y);
};

const separableConv2d: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const dw = depthwiseNode(layer, ctx, x, ctx.b.unique(`${layer.name}_depthwise`), false);
  const cin = dw.shape[0];
  const filters = posInt(layer, 'filters');
  const pk = weight(layer, ctx, 'pointwise_kernel', [1, 1, cin, filters]);
  const wt = new Float32Array(filters * cin);
  for (let i = 0; i < cin; i++) for (let o = 0; o < filters; o++) wt[o * cin + i] = pk[i * filters + o];
  const name = ctx.b.unique(layer.name);
  ctx.b.add<Conv2dNode>({
    op: 'conv2d',
    name,
    inputs: [dw.node],
    source: source(layer),
    inChannels: cin,
    outChannels: filters,
    kernel: [1, 1],
    stride: [1, 1],
    padding: [0, 0, 0, 0],
    dilation: [1, 1],
    groups: 1,
    weight: wt,
    bias: bool(layer, 'use_bias', true) ? weight(layer, ctx, 'bias', [filters]) : null,
  });
  return fusedActivation(layer, ctx, { node: name, shape: [filters, dw.shape[1], dw.shape[2]], perm: null });
};

// ---- pooling ---------------------------------------------------------------------------------

function pool(kind: 'max' | 'avg'): LayerHandler {
  return (layer, inputs, ctx) => {
    const x = one(layer, inputs);
    const [c, h, w] = spatial(layer, x);
    channelsLast(layer);
    const k = pairOf(layer, 'pool_size', [2, 2]);
    const s = pairOf(layer, 'strides', k);
    const mode = paddingMode(layer);
    const geo = windowGeometry(layer, h, w, k, s, [1, 1], mode, x.pad?.pads);
    const merged = x.pad !== undefined && anyPad(x.pad.pads);
    if (merged) mergeablePool(layer, kind, x, k, geo.own, geo.pads, ctx);
    const name = ctx.b.unique(layer.name);
    const common = { name, inputs: [x.node], source: source(layer), kernel: k, stride: s, padding: geo.pads, ceilMode: false };
    if (kind === 'max') ctx.b.add({ op: 'maxpool2d', ...common, dilation: [1, 1] });
    // TF's "same" average pooling divides by the number of real (unpadded) elements; the zeros
    // of a merged ZeroPadding2D are real elements, counted in every window (count_include_pad).
    else ctx.b.add({ op: 'avgpool2d', ...common, countIncludePad: merged, divisorOverride: null });
    mergedNote(ctx, x, name);
    return { node: name, shape: [c, geo.out[0], geo.out[1]], perm: null };
  };
}

/**
 * Throws unless the zero padding of a ZeroPadding2D can become the pooling layer's own padding:
 * average pooling counts the zeros (count_include_pad), which "same" padding would not;
 * max pooling pads with −∞, which equals zero padding only on non-negative inputs, and only
 * while every window still holds an input element (padding at most half the window).
 */
function mergeablePool(
  layer: KerasLayer,
  kind: 'max' | 'avg',
  x: TValue,
  k: Pair,
  own: Pads4,
  total: Pads4,
  ctx: LayerContext,
): void {
  const zp = `ZeroPadding2D '${x.pad!.from}'`;
  if (kind === 'avg') {
    if (anyPad(own)) {
      throw new UnsupportedError(
        `${where(layer)}: cannot merge the zero padding of ${zp} into average pooling with padding 'same' ` +
          '(its own padding is left out of the average, the zeros of ZeroPadding2D are not)',
      );
    }
    return;
  }
  if (!ctx.b.nonNegative(x.node)) {
    throw new UnsupportedError(`${where(layer)}: cannot merge the zero padding of ${zp} into max pooling (its input may be negative)`);
  }
  if (total[0] * 2 > k[0] || total[2] * 2 > k[0] || total[1] * 2 > k[1] || total[3] * 2 > k[1]) {
    throw new UnsupportedError(
      `${where(layer)}: cannot merge the zero padding of ${zp} into max pooling: padding ${shapeStr(total)} is more than half the pool size ${shapeStr(k)}`,
    );
  }
}

function globalPool(kind: 'max' | 'avg'): LayerHandler {
  return (layer, inputs, ctx) => {
    const x = one(layer, inputs);
    const [c, h, w] = spatial(layer, x);
    channelsLast(layer);
    const name = ctx.b.unique(layer.name);
    if (kind === 'avg') {
      ctx.b.add({ op: 'globalavgpool', name, inputs: [x.node], source: source(layer) });
    } else {
      ctx.b.add({
        op: 'maxpool2d', name, inputs: [x.node], source: source(layer),
        kernel: [h, w], stride: [h, w], padding: [0, 0, 0, 0], dilation: [1, 1], ceilMode: false,
      });
    }
    if (bool(layer, 'keepdims', false)) return { node: name, shape: [c, 1, 1], perm: null };
    const flat = ctx.b.unique(`${layer.name}_flatten`);
    ctx.b.add({ op: 'flatten', name: flat, inputs: [name], source: source(layer) });
    return { node: flat, shape: [c], perm: null };
  };
}

// ---- normalisation, reshaping, element-wise ----------------------------------------------------

const batchNorm: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const rank = x.shape.length + 1; // Keras rank with the batch axis
  if (rank !== 2 && rank !== 4) {
    throw new UnsupportedError(`${where(layer)}: BatchNormalization on per-sample shape ${kerasShape(x.shape)} is not supported`);
  }
  let axis = get(layer, 'axis') ?? -1;
  if (Array.isArray(axis) && axis.length === 1) axis = axis[0];
  const ax = typeof axis === 'number' ? (axis < 0 ? axis + rank : axis) : NaN;
  if (ax !== rank - 1) {
    throw new UnsupportedError(`${where(layer)}: axis ${JSON.stringify(axis)} is not supported (only the channel axis, -1)`);
  }
  const c = x.shape[0];
  const gamma = bool(layer, 'scale', true) ? weight(layer, ctx, 'gamma', [c]) : new Float32Array(c).fill(1);
  const beta = bool(layer, 'center', true) ? weight(layer, ctx, 'beta', [c]) : new Float32Array(c);
  const mean = weight(layer, ctx, 'moving_mean', [c]);
  const variance = weight(layer, ctx, 'moving_variance', [c]);
  const eps = get(layer, 'epsilon') ?? 1e-3;
  if (typeof eps !== 'number' || !(eps >= 0)) throw new ModelFormatError(`${where(layer)}: bad epsilon ${JSON.stringify(eps)}`);
  const name = ctx.b.unique(layer.name);
  ctx.b.add({
    op: 'batchnorm',
    name,
    inputs: [x.node],
    source: source(layer),
    numFeatures: c,
    eps,
    weight: permute(gamma, x.perm),
    bias: permute(beta, x.perm),
    runningMean: permute(mean, x.perm),
    runningVar: permute(variance, x.perm),
  });
  return { node: name, shape: x.shape.slice(), perm: x.perm };
};

const flatten: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  channelsLast(layer);
  const name = ctx.b.unique(layer.name);
  ctx.b.add({ op: 'flatten', name, inputs: [x.node], source: source(layer) });
  if (x.shape.length === 1) return { node: name, shape: x.shape.slice(), perm: x.perm };
  if (x.shape.length !== 3) {
    throw new UnsupportedError(`${where(layer)}: Flatten of per-sample shape ${kerasShape(x.shape)} is not supported`);
  }
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
};

/** ZeroPadding2D `padding`: n, [h, w] or [[top, bottom], [left, right]] → [top, left, bottom, right]. */
function zeroPads(layer: KerasLayer): Pads4 {
  const p = get(layer, 'padding') ?? 1;
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (ok(p)) return [p, p, p, p];
  if (Array.isArray(p) && p.length === 2) {
    if (ok(p[0]) && ok(p[1])) return [p[0], p[1], p[0], p[1]];
    const [hp, wp] = p as unknown[];
    if (Array.isArray(hp) && Array.isArray(wp) && hp.length === 2 && wp.length === 2 && [...hp, ...wp].every(ok)) {
      return [hp[0], wp[0], hp[1], wp[1]];
    }
  }
  throw new ModelFormatError(
    `${where(layer)}: 'padding' must be n, [h, w] or [[top, bottom], [left, right]] (non-negative integers), got ${JSON.stringify(p)}`,
  );
}

/** Layers that take a pending ZeroPadding2D into their own padding. */
export const PAD_MERGING_LAYERS: ReadonlySet<string> = new Set([
  'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'AveragePooling2D', 'MaxPooling2D', 'ZeroPadding2D',
]);

/** Throws if `layer` reads a pending ZeroPadding2D it cannot merge. */
export function checkPadReader(layer: KerasLayer, inputs: TValue[]): void {
  const padded = inputs.find((x) => x.pad);
  if (padded && !PAD_MERGING_LAYERS.has(layer.className)) {
    throw new UnsupportedError(
      `ZeroPadding2D '${padded.pad!.from}' is read by ${where(layer)}; ZeroPadding2D is only supported right before ` +
        'Conv2D, DepthwiseConv2D, SeparableConv2D, AveragePooling2D or MaxPooling2D (merged into their padding)',
    );
  }
}

const zeroPadding2d: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  spatial(layer, x);
  channelsLast(layer);
  const pads = zeroPads(layer);
  if (ctx.isOutput || ctx.consumers !== 1) {
    throw new UnsupportedError(
      `${where(layer)} ${ctx.isOutput ? 'is the model output' : `is read by ${ctx.consumers} layers`}; ZeroPadding2D is only ` +
        'supported with a single reader, a Conv2D, DepthwiseConv2D, SeparableConv2D, AveragePooling2D or MaxPooling2D (merged into its padding)',
    );
  }
  const prev = x.pad;
  const total: Pads4 = prev ? [prev.pads[0] + pads[0], prev.pads[1] + pads[1], prev.pads[2] + pads[2], prev.pads[3] + pads[3]] : pads;
  return { node: x.node, shape: x.shape.slice(), perm: null, pad: { pads: total, from: prev ? `${prev.from}, ${layer.name}` : layer.name } };
};

const dropout: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const name = ctx.b.unique(layer.name);
  ctx.b.add({ op: 'dropout', name, inputs: [x.node], source: source(layer) });
  return { node: name, shape: x.shape.slice(), perm: x.perm };
};

const activation: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const act = activationName(get(layer, 'activation'));
  const name = ctx.b.unique(layer.name);
  if (act === 'softmax') return softmaxNode(layer, ctx, x, name);
  if (act !== 'relu' && act !== 'linear') {
    throw new UnsupportedError(`${where(layer)} has activation '${act}'; only relu, linear and a softmax on the output layer are supported`);
  }
  ctx.b.add({ op: act === 'relu' ? 'relu' : 'identity', name, inputs: [x.node], source: source(layer) });
  return { node: name, shape: x.shape.slice(), perm: x.perm };
};

const reluLayer: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const maxValue = get(layer, 'max_value');
  const slope = get(layer, 'negative_slope') ?? 0;
  const threshold = get(layer, 'threshold') ?? 0;
  if ((maxValue !== undefined && maxValue !== null) || slope !== 0 || threshold !== 0) {
    throw new UnsupportedError(
      `${where(layer)}: ReLU with max_value/negative_slope/threshold (${JSON.stringify({ maxValue, slope, threshold })}) is not supported`,
    );
  }
  const name = ctx.b.unique(layer.name);
  ctx.b.add({ op: 'relu', name, inputs: [x.node], source: source(layer) });
  return { node: name, shape: x.shape.slice(), perm: x.perm };
};

const softmaxLayer: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const axis = get(layer, 'axis') ?? -1;
  if (axis !== -1 && axis !== 1 && !(Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 1))) {
    throw new UnsupportedError(`${where(layer)}: softmax over axis ${JSON.stringify(axis)} is not supported`);
  }
  return softmaxNode(layer, ctx, x, ctx.b.unique(layer.name));
};

const addLayer: LayerHandler = (layer, inputs, ctx) => {
  if (inputs.length < 2) throw new ModelFormatError(`${where(layer)} expects at least two inputs, got ${inputs.length}`);
  for (const x of inputs.slice(1)) {
    if (!sameShape(x.shape, inputs[0].shape)) {
      throw new ShapeError(
        `${where(layer)}: cannot add shapes ${inputs.map((v) => kerasShape(v.shape)).join(' and ')} (broadcasting is not supported)`,
      );
    }
    if (!samePerm(x.perm, inputs[0].perm)) {
      throw new UnsupportedError(`${where(layer)}: adds flattened tensors with different layouts`);
    }
  }
  const name = ctx.b.unique(layer.name);
  ctx.b.add({ op: 'add', name, inputs: inputs.map((x) => x.node), source: source(layer) });
  return { node: name, shape: inputs[0].shape.slice(), perm: inputs[0].perm };
};

const concatenate: LayerHandler = (layer, inputs, ctx) => {
  if (inputs.length < 1) throw new ModelFormatError(`${where(layer)} has no inputs`);
  const rank = inputs[0].shape.length + 1;
  const axis = get(layer, 'axis') ?? -1;
  if (typeof axis !== 'number' || !Number.isInteger(axis)) {
    throw new ModelFormatError(`${where(layer)}: bad axis ${JSON.stringify(axis)}`);
  }
  const kAxis = axis < 0 ? axis + rank : axis; // Keras axis incl. batch
  if (kAxis < 1 || kAxis >= rank) {
    throw new UnsupportedError(`${where(layer)}: concatenation along axis ${axis} (batch or out of range) is not supported`);
  }
  // Keras NHWC axis → IR per-sample axis: C (3) → 0, H (1) → 1, W (2) → 2; features (1) → 0.
  const a = rank === 4 ? (kAxis === 3 ? 0 : kAxis) : rank === 2 ? 0 : NaN;
  if (Number.isNaN(a)) throw new UnsupportedError(`${where(layer)}: concatenation of rank-${rank} tensors is not supported`);
  const out = inputs[0].shape.slice();
  out[a] = 0;
  for (const x of inputs) {
    if (x.shape.length !== out.length || x.shape.some((d, i) => i !== a && d !== out[i])) {
      throw new ShapeError(
        `${where(layer)}: cannot concatenate shapes ${inputs.map((v) => kerasShape(v.shape)).join(', ')} along axis ${axis}`,
      );
    }
    out[a] += x.shape[a];
  }
  let perm: Int32Array | null = null;
  if (rank === 2 && inputs.some((x) => x.perm)) {
    perm = new Int32Array(out[0]);
    let at = 0;
    for (const x of inputs) {
      for (let j = 0; j < x.shape[0]; j++) perm[at + j] = at + (x.perm ? x.perm[j] : j);
      at += x.shape[0];
    }
  }
  const name = ctx.b.unique(layer.name);
  ctx.b.add({ op: 'concat', name, inputs: inputs.map((x) => x.node), source: source(layer), axis: a });
  return { node: name, shape: out, perm };
};

/** Handlers by Keras class name. */
export const TFJS_LAYERS: Readonly<Record<string, LayerHandler>> = {
  Dense: dense,
  Conv2D: conv2d,
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
  MaxPooling2D: pool('max'),
  AveragePooling2D: pool('avg'),
  GlobalAveragePooling2D: globalPool('avg'),
  GlobalMaxPooling2D: globalPool('max'),
  BatchNormalization: batchNorm,
  Flatten: flatten,
  Dropout: dropout,
  SpatialDropout2D: dropout,
  AlphaDropout: dropout,
  GaussianDropout: dropout,
  GaussianNoise: dropout,
  Activation: activation,
  ReLU: reluLayer,
  Softmax: softmaxLayer,
  Add: addLayer,
  Concatenate: concatenate,
  ZeroPadding2D: zeroPadding2d,
};

