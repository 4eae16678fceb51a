/**
 * ONNX element-wise activations and gating products → IR nodes (ops/activation.ts, ops/prelu.ts,
 * ops/mul.ts). Every activation gets the pass rule by default, as Zennit's activations do.
 */
import { ModelFormatError, UnsupportedError } from '../errors.js';
import type { GraphNode } from '../graph/ir.js';
import { size } from '../graph/shapes.js';
import type { ActivationFn } from '../ops/activation.js';
import type { MulNode } from '../ops/mul.js';
import { act, constant, name, sameShape, type ActValue, type OnnxContext, type OnnxNode, type OpHandler } from './onnx-context.js';
import { constFloats, constNumbers, constSize } from './onnx-tensor.js';
import { shapeStr } from './geometry.js';

function activationNode(n: OnnxNode, ctx: OnnxContext, x: ActValue, fn: ActivationFn, params?: number[]): void {
  for (const p of params ?? [])
    if (Number.isNaN(p)) throw new ModelFormatError(`${n.where}: parameter ${p} is not a number`);
  const node = ctx.b.add({ op: 'activation', name: name(n, ctx), inputs: [x.node], source: n.name, fn, params });
  ctx.setOutput(n, 0, { kind: 'act', node: node.name, shape: x.shape.slice() });
}

/** An activation without inputs beyond x; `params` reads its attributes. */
function unary(fn: ActivationFn, params?: (n: OnnxNode) => number[]): OpHandler {
  return (n, ctx) => activationNode(n, ctx, act(n, ctx), fn, params?.(n));
}

/** A scalar bound of Clip (opset ≥ 11: optional inputs). */
function clipBound(n: OnnxNode, ctx: OnnxContext, i: number, role: string, def: number): number {
  if (!ctx.input(n, i)) return def;
  const t = constant(n, ctx, i, role);
  if (constSize(t) !== 1) throw new UnsupportedError(`${n.where}: ${role} '${t.name}' ${shapeStr(t.dims)} must be a scalar`);
  return constNumbers(t, `${role} of ${n.where}`)[0];
}

const clip: OpHandler = (n, ctx) => {
  const x = act(n, ctx);
  const [lo, hi] =
    ctx.opset < 11
      ? [n.attrs.float('min', -3.4028234663852886e38), n.attrs.float('max', 3.4028234663852886e38)]
      : [clipBound(n, ctx, 1, 'min', -Infinity), clipBound(n, ctx, 2, 'max', Infinity)];
  if (lo === 0 && hi >= 3.4e38) {
    const node = ctx.b.add({ op: 'relu', name: name(n, ctx), inputs: [x.node], source: n.name });
    ctx.setOutput(n, 0, { kind: 'act', node: node.name, shape: x.shape.slice() });
    return;
  }
  activationNode(n, ctx, x, 'clip', [lo, hi]);
};

const gelu: OpHandler = (n, ctx) => {
  const approx = n.attrs.string('approximate', 'none');
  if (approx !== 'none' && approx !== 'tanh') throw new UnsupportedError(`${n.where}: approximate='${approx}' is not supported`);
  activationNode(n, ctx, act(n, ctx), approx === 'tanh' ? 'gelu-tanh' : 'gelu');
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

const ELEMENTWISE_UNARY = new Set(['activation', 'affine', 'relu', 'prelu']);

/** `tensor` and the tensors it is computed from through element-wise single-input nodes, nearest first. */
function elementwiseAncestry(ctx: OnnxContext, tensor: string): string[] {
  const out = [tensor];
  let node: GraphNode | undefined = ctx.b.get(tensor);
  while (node && ELEMENTWISE_UNARY.has(node.op) && node.inputs.length === 1 && out.length < 64) {
    out.push(node.inputs[0]);
    node = ctx.b.get(node.inputs[0]);
  }
  return out;
}

/**
 * For x·g(x) (both factors computed from one tensor through element-wise ops): which factor is
 * the signal (the one nearer the common source), or null if they share no source.
 */
function selfGate(ctx: OnnxContext, a: ActValue, b: ActValue): [ActValue, ActValue] | null {
  const ca = elementwiseAncestry(ctx, a.node);
  const cb = elementwiseAncestry(ctx, b.node);
  for (let i = 0; i < ca.length; i++) {
    const j = cb.indexOf(ca[i]);
    if (j >= 0) return i <= j ? [a, b] : [b, a];
  }
  return null;
}

/** A sigmoid-like output in [0, 1]: what gates are made of (when shapes alone cannot tell, e.g. a 1×1 map). */
function isGateActivation(ctx: OnnxContext, tensor: string): boolean {
  const node = ctx.b.get(tensor);
  return node?.op === 'activation' && (node.fn === 'sigmoid' || node.fn === 'hardsigmoid');
}

/**
 * Mul of two activations: recognised when one factor is a gate of the other, i.e. a per-channel
 * factor ([C] or [C, 1, 1] against [C, ...]: squeeze-excitation) or a factor computed from the
 * other through element-wise ops (x·σ(x), x·hardsigmoid(x), GELU's x·(1 + erf(x/√2))). Any other
 * product of activations is refused: no rule for it would be a principled guess.
 */
export function gatingMul(n: OnnxNode, ctx: OnnxContext, a: ActValue, b: ActValue): void {
  let signal: ActValue;
  let gate: ActValue;
  let pattern: MulNode['pattern'];
  const perChannel = (g: ActValue, x: ActValue) =>
    x.shape.length >= 1 && g.shape[0] === x.shape[0] && size(g.shape) === x.shape[0] && size(x.shape) > x.shape[0];
  const self = sameShape(a.shape, b.shape) ? selfGate(ctx, a, b) : null;
  if (self) [signal, gate, pattern] = [self[0], self[1], 'self-gate'];
  else if (perChannel(b, a)) [signal, gate, pattern] = [a, b, 'squeeze-excitation'];
  else if (perChannel(a, b)) [signal, gate, pattern] = [b, a, 'squeeze-excitation'];
  else if (sameShape(a.shape, b.shape) && isGateActivation(ctx, b.node) !== isGateActivation(ctx, a.node))
    [signal, gate, pattern] = isGateActivation(ctx, b.node) ? [a, b, 'gate'] : [b, a, 'gate'];
  else {
    throw new UnsupportedError(
      `${n.where}: Mul of the activations ${shapeStr(a.shape)} and ${shapeStr(b.shape)} is neither an activation pattern ` +
        '(SiLU, hard-swish, GELU: x times a function of x) nor a gate (a per-channel factor, as in squeeze-excitation); ' +
        'no LRP rule applies to it',
    );
  }
  const node = ctx.b.add({ op: 'mul', name: name(n, ctx), inputs: [signal.node, gate.node], source: n.name, pattern });
  ctx.setOutput(n, 0, { kind: 'act', node: node.name, shape: signal.shape.slice() });
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
