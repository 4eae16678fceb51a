/**
 * Element-wise activations other than ReLU: ReLU6/Clip, LeakyReLU, ELU, SELU, Sigmoid,
 * HardSigmoid, HardSwish, Tanh, Softplus, GELU (erf and tanh forms), SiLU, Erf, and Keras' ReLU
 * with options. Default rule: pass — Zennit maps every activation module (its `Activation` type
 * lists ReLU6, LeakyReLU, ELU, Sigmoid, SiLU, Hardswish, GELU, Tanh, …) to Pass. The gradient rule
 * multiplies by f'(x) (what attribute() uses).
 */
import type { NodeBase } from '../graph/ir.js';
import { ShapeError } from '../errors.js';
import { ActKind } from '../kernels/abi.js';
import { rules } from '../rules.js';
import type { OpSpec } from './spec.js';

interface FnInfo {
  kind: number;
  /** default a, b, c */
  defaults: [number, number, number];
  /** output ≥ 0 for any input (given the parameters) */
  nonNegative?: (a: number, b: number, c: number) => boolean;
  label: (a: number, b: number, c: number) => string;
}

const plain = (name: string) => () => name;
/** float32 parameters printed as the decimal they were written as (0.7, not 0.699999988) */
const num = (v: number) => String(Number(v.toPrecision(7)));

/** The activation functions, with the kernel kind and the meaning of the parameters a, b, c. */
export const ACTIVATIONS = {
  /** clamp(x, a, b); ReLU6 is clip(0, 6) */
  clip: { kind: ActKind.CLIP, defaults: [-Infinity, Infinity, 0], nonNegative: (a) => a >= 0, label: (a, b) => (a === 0 && b === 6 ? 'relu6' : `clip(${num(a)}, ${num(b)})`) },
  leakyrelu: { kind: ActKind.LEAKY_RELU, defaults: [0.01, 0, 0], nonNegative: (a) => a === 0, label: (a) => `leakyrelu(${num(a)})` },
  elu: { kind: ActKind.ELU, defaults: [1, 0, 0], label: (a) => `elu(${num(a)})` },
  selu: { kind: ActKind.SELU, defaults: [1.67326319217681884765625, 1.05070102214813232421875, 0], label: plain('selu') },
  sigmoid: { kind: ActKind.SIGMOID, defaults: [0, 0, 0], nonNegative: () => true, label: plain('sigmoid') },
  /** max(0, min(1, a·x + b)) */
  hardsigmoid: { kind: ActKind.HARD_SIGMOID, defaults: [0.2, 0.5, 0], nonNegative: () => true, label: (a, b) => `hardsigmoid(${num(a)}, ${num(b)})` },
  hardswish: { kind: ActKind.HARD_SWISH, defaults: [0, 0, 0], label: plain('hardswish') },
  tanh: { kind: ActKind.TANH, defaults: [0, 0, 0], label: plain('tanh') },
  softplus: { kind: ActKind.SOFTPLUS, defaults: [0, 0, 0], nonNegative: () => true, label: plain('softplus') },
  gelu: { kind: ActKind.GELU, defaults: [0, 0, 0], label: plain('gelu') },
  'gelu-tanh': { kind: ActKind.GELU_TANH, defaults: [0, 0, 0], label: plain('gelu (tanh approximation)') },
  silu: { kind: ActKind.SILU, defaults: [0, 0, 0], label: plain('silu') },
  erf: { kind: ActKind.ERF, defaults: [0, 0, 0], label: plain('erf') },
  /** Keras relu(x, negative_slope=a, max_value=b, threshold=c) */
  'keras-relu': {
    kind: ActKind.TF_RELU,
    defaults: [0, Infinity, 0],
    nonNegative: (a, _b, c) => a === 0 && c >= 0,
    label: (a, b, c) => `relu(slope ${num(a)}, max ${num(b)}, threshold ${num(c)})`,
  },
} satisfies Record<string, FnInfo>;

export type ActivationFn = keyof typeof ACTIVATIONS;

export interface ActivationNode extends NodeBase {
  op: 'activation';
  fn: ActivationFn;
  /** Parameters a, b, c (see ACTIVATIONS); omitted ones take the defaults. */
  params?: number[];
}

function params(node: ActivationNode): [number, number, number] {
  const d = (ACTIVATIONS[node.fn] as FnInfo).defaults;
  const p = node.params ?? [];
  return [p[0] ?? d[0], p[1] ?? d[1], p[2] ?? d[2]];
}

export interface ActState {
  kind: number;
  a: number;
  b: number;
  c: number;
}

export const activation: OpSpec<ActivationNode, ActState> = {
  op: 'activation',
  arity: 1,
  shape(node, [inp], where) {
    if (!Object.prototype.hasOwnProperty.call(ACTIVATIONS, node.fn)) throw new ShapeError(`${where}: unknown activation '${String(node.fn)}'`);
    const [a, b, c] = params(node);
    if ([a, b, c].some((v) => Number.isNaN(v))) throw new ShapeError(`${where}: activation parameters must be numbers, got [${[a, b, c].join(', ')}]`);
    if (node.fn === 'clip' && !(a <= b)) throw new ShapeError(`${where}: clip min ${a} is above max ${b}`);
    return inp.slice();
  },
  prepare(node) {
    const [a, b, c] = params(node);
    return { kind: ACTIVATIONS[node.fn].kind, a, b, c };
  },
  forward({ k, ins, out, n, state: s }) {
    k.activationForward(s.kind, ins[0].act, out.act, n * out.size, s.a, s.b, s.c);
  },
  rules: {
    pass: (s) => s.put(s.ins[0], s.out.rel),
    gradient(s) {
      const x = s.ins[0];
      const { kind, a, b, c } = s.state;
      const target = s.target(x, s.ws.scratchOut[0]);
      s.k.activationGradient(kind, x.act, s.out.rel, target, s.n * x.size, a, b, c);
      s.commit(x, target);
    },
  },
  defaultRule: (_node, c) => c.activation ?? rules.pass(),
  ruleNote: 'pass: element-wise activation, as Zennit',
  nonNegative: (node) => ((ACTIVATIONS[node.fn] as FnInfo).nonNegative?.(...params(node)) ?? false),
  detail: (node) => (ACTIVATIONS[node.fn] as FnInfo).label(...params(node)),
};
