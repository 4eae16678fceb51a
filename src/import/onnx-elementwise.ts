/**
 * ONNX element-wise activations and gating products → IR nodes (ops/activation.ts, ops/prelu.ts,
 * ops/mul.ts). Every activation gets the pass rule by default, as Zennit's activations do.
 */
import { ModelFormatError, UnsupportedError } from '../errors.js';
import type { ActivationFn } from '../ops/activation.js';
import { classifyProduct } from './gating.js';
import { act, constant, name, tracked, type ActValue, type OnnxContext, type OnnxNode, type OpHandler } from './onnx-context.js';
import { constFloats, constNumbers, constSize } from './onnx-tensor.js';
import { shapeStr } from './geometry.js';
import { sameLayout } from './onnx-batch.js';

function activationNode(n: OnnxNode, ctx: OnnxContext, x: ActValue, fn: ActivationFn, params?: number[]): void {
  for (const p of params ?? [])
    if (Number.isNaN(p)) throw new ModelFormatError(`${n.where}: parameter ${p} is not a number`);
  const node = ctx.b.add({ op: 'activation', name: name(n, ctx), inputs: [x.node], source: n.name, fn, params });
  ctx.setOutput(n, 0, sameLayout(x, node.name));
}

/** An activation without inputs beyond x; `params` reads its attributes. */
function unary(fn: ActivationFn, params?: (n: OnnxNode) => number[]): OpHandler {
  return (n, ctx) => activationNode(n, ctx, tracked(n, ctx), fn, params?.(n));
}

/** A scalar bound of Clip (opset ≥ 11: optional inputs). */
function clipBound(n: OnnxNode, ctx: OnnxContext, i: number, role: string, def: number): number {
  if (!ctx.input(n, i)) return def;
  const t = constant(n, ctx, i, role);
  if (constSize(t) !== 1) throw new UnsupportedError(`${n.where}: ${role} '${t.name}' ${shapeStr(t.dims)} must be a scalar`);
  return constNumbers(t, `${role} of ${n.where}`)[0];
}

const clip: OpHandler = (n, ctx) => {
  const x = tracked(n, ctx);
  const [lo, hi] =
    ctx.opset < 11
      ? [n.attrs.float('min', -3.4028234663852886e38), n.attrs.float('max', 3.4028234663852886e38)]
      : [clipBound(n, ctx, 1, 'min', -Infinity), clipBound(n, ctx, 2, 'max', Infinity)];
  if (lo === 0 && hi >= 3.4e38) {
    const node = ctx.b.add({ op: 'relu', name: name(n, ctx), inputs: [x.node], source: n.name });
    ctx.setOutput(n, 0, sameLayout(x, node.name));
    return;
  }
  activationNode(n, ctx, x, 'clip', [lo, hi]);
};

const gelu: OpHandler = (n, ctx) => {
  const approx = n.attrs.string('approximate', 'none');
  if (approx !== 'none' && approx !== 'tanh') throw new UnsupportedError(`${n.where}: approximate='${approx}' is not supported`);
  activationNode(n, ctx, tracked(n, ctx), approx === 'tanh' ? 'gelu-tanh' : 'gelu');
};

/** PRelu with a scalar or per-channel slope ([C], [C, 1, 1], [1, C, 1, 1]). */
const prelu: OpHandler = (n, ctx) => {
  const x = act(n, ctx);
  const t = constant(n, ctx, 1, 'slope');
  const count = constSize(t);
  const perChannel = t.dims.filter((d) => d !== 1).length <= 1 && (count === 1 || count === x.shape[0]);
  const trailing = t.dims.length >= 2 ? t.dims.slice(t.dims.indexOf(count) + 1).every((d) => d === 1) : true;
  if (!perChannel || !trailing)
    throw new UnsupportedError(`${n.where}: slope '${t.name}' ${shapeStr(t.dims)} must be a scalar or one value per channel (${x.shape[0]})`);
  const slope = constFloats(t, `slope of ${n.where}`);
  const node = ctx.b.add({ op: 'prelu', name: name(n, ctx), inputs: [x.node], source: n.name, slope });
  ctx.setOutput(n, 0, { kind: 'act', node: node.name, shape: x.shape.slice() });
};

/**
 * Mul of two activations: recognised when one factor is a gate of the other (src/import/gating.ts):
 * a per-channel factor (squeeze-excitation) or a factor computed from the other through element-wise
 * ops (x·σ(x), x·hardsigmoid(x), GELU's x·(1 + erf(x/√2))). Any other product of two activations of
 * the same shape is a 'product' (uniform rule, AttnLRP); products of other shapes are refused.
 */
export function gatingMul(n: OnnxNode, ctx: OnnxContext, a: ActValue, b: ActValue): void {
  const g = classifyProduct(ctx.b, a, b);
  if (!g) {
    throw new UnsupportedError(
      `${n.where}: Mul of the activations ${shapeStr(a.shape)} and ${shapeStr(b.shape)} is neither an activation pattern ` +
        '(SiLU, hard-swish, GELU: x times a function of x) nor a gate (a per-channel factor, as in squeeze-excitation); ' +
        'no LRP rule applies to it',
    );
  }
  const node = ctx.b.add({ op: 'mul', name: name(n, ctx), inputs: [g.signal.node, g.gate.node], source: n.name, pattern: g.pattern });
  ctx.setOutput(n, 0, sameLayout(g.signal, node.name));
}

/** Handlers by ONNX op type. */
export const ONNX_ELEMENTWISE_OPS: Readonly<Record<string, OpHandler>> = {
  Clip: clip,
  LeakyRelu: unary('leakyrelu', (n) => [n.attrs.float('alpha', 0.01)]),
  Elu: unary('elu', (n) => [n.attrs.float('alpha', 1)]),
  Selu: unary('selu', (n) => [n.attrs.float('alpha', 1.67326319217681884765625), n.attrs.float('gamma', 1.05070102214813232421875)]),
  Sigmoid: unary('sigmoid'),
  HardSigmoid: unary('hardsigmoid', (n) => [n.attrs.float('alpha', 0.2), n.attrs.float('beta', 0.5)]),
  HardSwish: unary('hardswish'),
  Tanh: unary('tanh'),
  Softplus: unary('softplus'),
  Erf: unary('erf'),
  Gelu: gelu,
  PRelu: prelu,
};
