/**
 * TF.js activations → IR nodes (ops/relu.ts, ops/activation.ts, ops/prelu.ts): the `activation`
 * string of Dense/Conv2D/DepthwiseConv2D/SeparableConv2D (a separate node `<layer>_act`), and the
 * layers Activation, ReLU, LeakyReLU, ELU, ThresholdedReLU, PReLU and Softmax. Every activation
 * gets the pass rule by default, as Zennit's activations do. Formulas are TF.js's own
 * (tfjs-layers 4.22 activations.ts), which for hard_sigmoid differs from Keras 3:
 * max(0, min(1, 0.2·x + 0.5)).
 */
import { ModelFormatError, UnsupportedError } from '../errors.js';
import type { ActivationFn } from '../ops/activation.js';
import { shapeStr } from './geometry.js';
import {
  activationName, get, kerasDims, num, one, permute, requireWeight, sameAs, source, where,
  type LayerContext, type LayerHandler, type TValue,
} from './tfjs-context.js';
import type { KerasLayer } from './tfjs-topology.js';

/** An element-wise activation as an IR node: plain relu, or an `activation` node with parameters. */
type ActSpec = { op: 'relu' } | { op: 'activation'; fn: ActivationFn; params?: number[] };

/** Activation strings TF.js saves, and what each computes; 'linear' and 'softmax' are handled apart. */
const ACTIVATION_STRINGS: Readonly<Record<string, ActSpec>> = {
  relu: { op: 'relu' },
  relu6: { op: 'activation', fn: 'clip', params: [0, 6] },
  elu: { op: 'activation', fn: 'elu', params: [1] },
  selu: { op: 'activation', fn: 'selu' },
  sigmoid: { op: 'activation', fn: 'sigmoid' },
  // TF.js: clip(0.2·x + 0.5, 0, 1); the camelCase spelling appears in hand-written files
  hard_sigmoid: { op: 'activation', fn: 'hardsigmoid', params: [0.2, 0.5] },
  hardSigmoid: { op: 'activation', fn: 'hardsigmoid', params: [0.2, 0.5] },
  tanh: { op: 'activation', fn: 'tanh' },
  // x·sigmoid(x) (the string form has alpha 1)
  swish: { op: 'activation', fn: 'silu' },
  // x·Φ(x) with erf; gelu_new is the tanh approximation
  gelu: { op: 'activation', fn: 'gelu' },
  gelu_new: { op: 'activation', fn: 'gelu-tanh' },
  softplus: { op: 'activation', fn: 'softplus' },
};

const SUPPORTED = ['linear', 'softmax (output layer only)', ...Object.keys(ACTIVATION_STRINGS).filter((k) => k !== 'hardSigmoid')];

function addActivation(layer: KerasLayer, ctx: LayerContext, x: TValue, spec: ActSpec, name: string): TValue {
  if (spec.op === 'relu') ctx.b.add({ op: 'relu', name, inputs: [x.node], source: source(layer) });
  else ctx.b.add({ op: 'activation', name, inputs: [x.node], source: source(layer), fn: spec.fn, params: spec.params?.slice() });
  return sameAs(x, name);
}

function softmaxNode(layer: KerasLayer, ctx: LayerContext, x: TValue, nodeName: string): TValue {
  if (!ctx.isOutput || x.shape.length !== 1) {
    throw new UnsupportedError(`${where(layer)}: softmax is only supported on the output layer (over the logits)`);
  }
  if (x.perm) throw new UnsupportedError(`${where(layer)}: softmax over a flattened spatial tensor is not supported`);
  ctx.b.add({ op: 'softmax', name: nodeName, inputs: [x.node], source: source(layer) });
  return { node: nodeName, shape: x.shape.slice(), perm: null };
}

/**
 * The activation `act` applied to x as a node named `name` (reserved lazily: linear makes no
 * node and returns null).
 */
function applyActivation(layer: KerasLayer, ctx: LayerContext, x: TValue, act: string, name: () => string): TValue | null {
  if (act === 'linear') return null;
  if (act === 'softmax') return softmaxNode(layer, ctx, x, name());
  const spec = Object.prototype.hasOwnProperty.call(ACTIVATION_STRINGS, act) ? ACTIVATION_STRINGS[act] : undefined;
  if (!spec) throw new UnsupportedError(`${where(layer)} has activation '${act}', which is not supported (supported: ${SUPPORTED.join(', ')})`);
  return addActivation(layer, ctx, x, spec, name());
}

/** A fused activation (`activation` of Dense / Conv2D / …): a separate node `<layer>_act`. */
export function fusedActivation(layer: KerasLayer, ctx: LayerContext, x: TValue): TValue {
  const act = activationName(get(layer, 'activation'));
  return applyActivation(layer, ctx, x, act, () => ctx.b.unique(`${layer.name}_act`)) ?? x;
}

const activation: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const act = activationName(get(layer, 'activation'));
  const name = ctx.b.unique(layer.name);
  const y = applyActivation(layer, ctx, x, act, () => name);
  if (y) return y;
  ctx.b.add({ op: 'identity', name, inputs: [x.node], source: source(layer) });
  return sameAs(x, name);
};

/**
 * Keras ReLU(max_value, negative_slope, threshold): x ≥ max → max; threshold < x < max → x;
 * x ≤ threshold → negative_slope·(x − threshold). TF.js itself saves only max_value.
 */
const reluLayer: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const max = num(layer, 'max_value', Infinity);
  const slope = num(layer, 'negative_slope', 0);
  const threshold = num(layer, 'threshold', 0);
  // Keras refuses negative values for all three; max below threshold has no single Keras meaning
  if (max < 0 || slope < 0 || threshold < 0) {
    throw new ModelFormatError(`${where(layer)}: max_value, negative_slope and threshold must be ≥ 0, got ${max}, ${slope}, ${threshold}`);
  }
  if (max < threshold) throw new UnsupportedError(`${where(layer)}: max_value ${max} below threshold ${threshold} is not supported`);
  let spec: ActSpec;
  if (slope === 0 && threshold === 0) spec = max === Infinity ? { op: 'relu' } : { op: 'activation', fn: 'clip', params: [0, max] };
  else if (max === Infinity && threshold === 0) spec = { op: 'activation', fn: 'leakyrelu', params: [slope] };
  else spec = { op: 'activation', fn: 'keras-relu', params: [slope, max, threshold] };
  return addActivation(layer, ctx, x, spec, ctx.b.unique(layer.name));
};

/** x > theta ? x : 0, which is Keras relu with threshold theta. */
const thresholdedRelu: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const theta = num(layer, 'theta', 1);
  return addActivation(layer, ctx, x, { op: 'activation', fn: 'keras-relu', params: [0, Infinity, theta] }, ctx.b.unique(layer.name));
};

/** LeakyReLU: `alpha` (TF.js, Keras 2; default 0.3) or `negative_slope` (Keras 3). */
const leakyRelu: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const alpha = num(layer, 'alpha', num(layer, 'negative_slope', 0.3));
  return addActivation(layer, ctx, x, { op: 'activation', fn: 'leakyrelu', params: [alpha] }, ctx.b.unique(layer.name));
};

const eluLayer: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const alpha = num(layer, 'alpha', 1);
  return addActivation(layer, ctx, x, { op: 'activation', fn: 'elu', params: [alpha] }, ctx.b.unique(layer.name));
};

/**
 * PReLU: the weight `alpha` has the input's Keras shape with every shared axis 1. Supported when
 * it holds one value or one per channel (the last Keras axis: shared_axes [1, 2] on images, none
 * on [N, features]); a slope per position is refused.
 */
const preluLayer: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const dims = kerasDims(x.shape);
  let shared = get(layer, 'shared_axes');
  if (typeof shared === 'number') shared = [shared];
  if (shared !== undefined && shared !== null && (!Array.isArray(shared) || shared.some((a) => !Number.isInteger(a) || a < 1 || a > dims.length))) {
    throw new ModelFormatError(`${where(layer)}: shared_axes must be axes 1..${dims.length}, got ${JSON.stringify(shared)}`);
  }
  const expected = dims.slice();
  for (const a of (shared as number[] | null | undefined) ?? []) expected[a - 1] = 1;
  const wt = requireWeight(layer, ctx, 'alpha');
  if (wt.shape.length !== expected.length || wt.shape.some((d, i) => d !== expected[i])) {
    throw new ModelFormatError(`${where(layer)}: weight '${wt.name}' has shape ${shapeStr(wt.shape)}, expected ${shapeStr(expected)}`);
  }
  const count = wt.data.length;
  const channels = dims[dims.length - 1];
  const perChannel = count === channels && expected.slice(0, -1).every((d) => d === 1) && (dims.length === 1 || dims.length === 3);
  if (count !== 1 && !perChannel) {
    throw new UnsupportedError(
      `${where(layer)}: a slope of shape ${shapeStr(expected)} (shared_axes ${JSON.stringify(shared ?? null)}) is not supported; ` +
        'only one slope or one per channel (shared_axes [1, 2] on [N, H, W, C] inputs)',
    );
  }
  const slope = count === 1 ? wt.data.slice() : permute(wt.data.slice(), x.perm);
  const name = ctx.b.unique(layer.name);
  ctx.b.add({ op: 'prelu', name, inputs: [x.node], source: source(layer), slope });
  return sameAs(x, name);
};

const softmaxLayer: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  const axis = get(layer, 'axis') ?? -1;
  if (axis !== -1 && axis !== 1 && !(Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 1))) {
    throw new UnsupportedError(`${where(layer)}: softmax over axis ${JSON.stringify(axis)} is not supported`);
  }
  return softmaxNode(layer, ctx, x, ctx.b.unique(layer.name));
};

/** Activation layers by Keras class name. */
export const TFJS_ACTIVATION_LAYERS: Readonly<Record<string, LayerHandler>> = {
  Activation: activation,
  ReLU: reluLayer,
  LeakyReLU: leakyRelu,
  ELU: eluLayer,
  ThresholdedReLU: thresholdedRelu,
  PReLU: preluLayer,
  Softmax: softmaxLayer,
};
