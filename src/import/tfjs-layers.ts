/**
 * Translation of single Keras layers (as saved by TF.js) into IR nodes, translating layouts
 * once, at load time:
 *
 * - activations: Keras [H, W, C] per sample ↔ IR [C, H, W] (other ranks keep the Keras order;
 *   tfjs-context.ts);
 * - Conv2D kernel [kh, kw, in/groups, out] → [out, in/groups, kh, kw];
 * - DepthwiseConv2D kernel [kh, kw, in, mult] → [in·mult, 1, kh, kw] (output channel i·mult + m);
 * - Dense kernel [in, out] → [out, in];
 * - Keras Flatten is row-major over (h, w, c) but the IR flattens (c, h, w): the flat value keeps
 *   a permutation (`perm[j]` = Keras index of IR feature j) that the next Dense (or BN) applies
 *   to its weights, through Dropout / Activation / identity layers. No transposes are inserted,
 *   except where a Keras Reshape or Permute needs them (tfjs-reshaping.ts).
 * - ZeroPadding2D makes no node: its padding waits on the value (`pad`) and is added to the
 *   padding of the one layer that reads it (Conv2D, DepthwiseConv2D, SeparableConv2D, and the
 *   pooling layers where that keeps their semantics); any other reader is rejected.
 *
 * The handlers of this file cover linear, pooling, normalisation and padding layers; activations,
 * layout layers, merge layers, sequence layers and Embedding live in tfjs-activations.ts,
 * tfjs-reshaping.ts, tfjs-merge.ts, tfjs-sequence.ts and tfjs-embedding.ts. TFJS_LAYERS at the end is the one table the importer reads.
 */
import { ShapeError, UnsupportedError, ModelFormatError } from '../errors.js';
import type { Conv2dNode, DenseNode, Pads4, Pair } from '../graph/ir.js';
import type { LayerNormNode } from '../ops/layernorm.js';
import { samePadding, shapeStr, windowOutput } from './geometry.js';
import { fusedActivation, TFJS_ACTIVATION_LAYERS } from './tfjs-activations.js';
import {
  bool, channelsLast, get, kerasDims, kerasShape, num, one, pairOf, permute, posInt, requireWeight, source, spatial, weight, where,
  type LayerContext, type LayerHandler, type TValue,
} from './tfjs-context.js';
import { TFJS_MERGE_LAYERS } from './tfjs-merge.js';
import { TFJS_RESHAPING_LAYERS } from './tfjs-reshaping.js';
import { TFJS_SEQUENCE_LAYERS } from './tfjs-sequence.js';
import { TFJS_EMBEDDING_LAYERS } from './tfjs-embedding.js';
import type { KerasLayer } from './tfjs-topology.js';

export type { LayerContext, LayerHandler, PendingPad, TValue } from './tfjs-context.js';

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

// ---- linear layers ----------------------------------------------------------------------------

/**
 * Dense over the last Keras axis: [N, features] (columns permuted after a Flatten) or a sequence
 * [N, L, C] (IR [L, C], the same order: one row per step). Images are refused.
 */
const dense: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  if (x.shape.length !== 1 && x.shape.length !== 2) {
    throw new UnsupportedError(
      `${where(layer)}: Dense on per-sample shape ${kerasShape(x.shape)} is not supported (only [N, features] or [N, steps, features]: add a Flatten or global pooling)`,
    );
  }
  const inF = x.shape[x.shape.length - 1];
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
  return fusedActivation(layer, ctx, { node: name, shape: [...x.shape.slice(0, -1), units], perm: null });
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

// ---- normalisation, padding, dropout --------------------------------------------------------------

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

/**
 * LayerNormalization over the last Keras axis (the only axis the IR's layernorm takes): features
 * [F] (in the IR's order after a Flatten: gamma and beta permuted alike), a sequence [L, C], or
 * the channels of an image (IR [C, H, W]: transposed to [H, W, C] around the node).
 */
const layerNorm: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const rank = x.shape.length + 1; // Keras rank with the batch axis
  let axis = get(layer, 'axis') ?? -1;
  if (Array.isArray(axis) && axis.length === 1) axis = axis[0];
  const ax = typeof axis === 'number' && Number.isInteger(axis) ? (axis < 0 ? axis + rank : axis) : NaN;
  if (ax !== rank - 1) {
    throw new UnsupportedError(
      `${where(layer)}: axis ${JSON.stringify(get(layer, 'axis'))} is not supported on per-sample shape ${kerasShape(x.shape)} (only the last axis, -1)`,
    );
  }
  if (bool(layer, 'rms_scaling', false)) throw new UnsupportedError(`${where(layer)}: rms_scaling is not supported`);
  const f = kerasDims(x.shape)[rank - 2];
  const epsilon = num(layer, 'epsilon', 1e-3);
  if (!(epsilon >= 0)) throw new ModelFormatError(`${where(layer)}: bad epsilon ${epsilon}`);
  const image = x.shape.length === 3;
  let from = x.node;
  if (image) {
    from = ctx.b.unique(`${layer.name}_channels_last`);
    ctx.b.add({ op: 'transpose', name: from, inputs: [x.node], source: source(layer), perm: [1, 2, 0] });
  }
  const name = ctx.b.unique(image ? `${layer.name}_norm` : layer.name);
  ctx.b.add<LayerNormNode>({
    op: 'layernorm',
    name,
    inputs: [from],
    source: source(layer),
    features: f,
    epsilon,
    weight: bool(layer, 'scale', true) ? permute(weight(layer, ctx, 'gamma', [f]), x.perm) : null,
    bias: bool(layer, 'center', true) ? permute(weight(layer, ctx, 'beta', [f]), x.perm) : null,
  });
  if (!image) return { node: name, shape: x.shape.slice(), perm: x.perm };
  const back = ctx.b.unique(layer.name);
  ctx.b.add({ op: 'transpose', name: back, inputs: [name], source: source(layer), perm: [2, 0, 1] });
  return { node: back, shape: x.shape.slice(), perm: null };
};

/**
 * A Rescaling `scale` or `offset`: one number, or one per channel (the last Keras axis) on image
 * and flat values, in the IR's channel order.
 */
function channelConstant(layer: KerasLayer, key: string, def: number, x: TValue): Float32Array {
  const v = get(layer, key) ?? def;
  if (typeof v === 'number' && Number.isFinite(v)) return Float32Array.of(v);
  const channels = kerasDims(x.shape)[x.shape.length - 1];
  const perChannelOk = x.shape.length === 1 || x.shape.length === 3;
  if (Array.isArray(v) && v.every((e) => typeof e === 'number' && Number.isFinite(e)) && (v.length === 1 || (perChannelOk && v.length === channels))) {
    return v.length === 1 ? Float32Array.of(v[0]) : permute(Float32Array.from(v), x.perm);
  }
  throw new UnsupportedError(
    `${where(layer)}: '${key}' ${JSON.stringify(v)} is not supported for input ${kerasShape(x.shape)} (one number, or one per channel)`,
  );
}

/** Rescaling: y = x·scale + offset, an affine node (folded into a preceding dense/conv; at the input it stays). */
const rescaling: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const scale = channelConstant(layer, 'scale', 1, x);
  const shift = channelConstant(layer, 'offset', 0, x);
  const name = ctx.b.unique(layer.name);
  ctx.b.add({ op: 'affine', name, inputs: [x.node], source: source(layer), scale, shift });
  return { node: name, shape: x.shape.slice(), perm: x.perm };
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

/** Handlers by Keras class name: this file's, and those of the activation, layout and merge files. */
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
  LayerNormalization: layerNorm,
  Rescaling: rescaling,
  Dropout: dropout,
  SpatialDropout1D: dropout,
  SpatialDropout2D: dropout,
  AlphaDropout: dropout,
  GaussianDropout: dropout,
  GaussianNoise: dropout,
  ZeroPadding2D: zeroPadding2d,
  ...TFJS_ACTIVATION_LAYERS,
  ...TFJS_RESHAPING_LAYERS,
  ...TFJS_MERGE_LAYERS,
  ...TFJS_SEQUENCE_LAYERS,
  ...TFJS_EMBEDDING_LAYERS,
};
