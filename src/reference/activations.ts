/**
 * The activations of ActKind (src/kernels/abi.ts) and their derivatives as plain float64 functions: the reference
 * the WASM kernels are tested against, and what an IR evaluator can call. Parameters a, b, c as documented on
 * ActKind (unused ones ignored). Written for accuracy over the whole float32 range: no overflow for large |x|, no
 * cancellation in the tails (each rewrite is noted). Derivatives at kinks take PyTorch's autograd values.
 */
import { ActKind, checkActKind } from '../kernels/abi.js';
import { erf, erfc } from './erf.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_TANH_CUBIC = 0.044715;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** 1 / (1 + exp(-x)), exp taken of -|x| only. */
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** GELU_TANH's tanh argument sqrt(2/pi) (x + 0.044715 x^3). */
function geluTanhInner(x: number): number {
  return SQRT_2_OVER_PI * (x + GELU_TANH_CUBIC * x * x * x);
}

/** f(x) of the activation `kind`. Throws UnsupportedError for an unknown kind. */
export function activationRef(kind: number, x: number, a = 0, b = 0, c = 0): number {
  checkActKind(kind);
  switch (kind) {
    case ActKind.CLIP:
      return Math.min(Math.max(x, a), b);
    case ActKind.LEAKY_RELU:
      return x > 0 ? x : a * x;
    case ActKind.ELU:
      return x > 0 ? x : a * Math.expm1(x);
    case ActKind.SELU:
      return b * (x > 0 ? x : a * Math.expm1(x));
    case ActKind.SIGMOID:
      return sigmoid(x);
    case ActKind.HARD_SIGMOID:
      return Math.min(Math.max(a * x + b, 0), 1);
    case ActKind.HARD_SWISH:
      return (x * Math.min(Math.max(x + 3, 0), 6)) / 6;
    case ActKind.TANH:
      return Math.tanh(x);
    case ActKind.SOFTPLUS:
      return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    case ActKind.GELU: // 0.5 x (1 + erf(x/sqrt2)) = 0.5 x erfc(-x/sqrt2): keeps the tail for x << 0
      return 0.5 * x * erfc(-x * Math.SQRT1_2);
    case ActKind.GELU_TANH: // 0.5 x (1 + tanh(u)) = x sigmoid(2u): no cancellation for x << 0
      return x * sigmoid(2 * geluTanhInner(x));
    case ActKind.SILU:
      return x * sigmoid(x);
    case ActKind.ERF:
      return erf(x);
    case ActKind.TF_RELU: // at x == c: Keras' value x * (x > c) - a * relu(c - x) = 0
      return x >= b ? b : x > c ? x : a * (x - c);
  }
  return NaN; // unreachable: checkActKind threw
}

/** f'(x) of the activation `kind` (at a kink: the one-sided value PyTorch's autograd uses). */
export function activationDerivRef(kind: number, x: number, a = 0, b = 0, c = 0): number {
  checkActKind(kind);
  switch (kind) {
    case ActKind.CLIP: // hardtanh_backward: 0 at both kinks
      return x > a && x < b ? 1 : 0;
    case ActKind.LEAKY_RELU: // leaky_relu_backward: the slope at 0
      return x > 0 ? 1 : a;
    case ActKind.ELU: // elu_backward: x <= 0 takes a exp(x)
      return x > 0 ? 1 : a * Math.exp(x);
    case ActKind.SELU:
      return b * (x > 0 ? 1 : a * Math.exp(x));
    case ActKind.SIGMOID: {
      const e = Math.exp(-Math.abs(x));
      return e / ((1 + e) * (1 + e));
    }
    case ActKind.HARD_SIGMOID: { // hardsigmoid_backward: a strictly inside, 0 at the kinks
      const t = a * x + b;
      return t > 0 && t < 1 ? a : 0;
    }
    case ActKind.HARD_SWISH: // hardswish_backward: -0.5 at x = -3, 1.5 at x = 3
      return x < -3 ? 0 : x <= 3 ? x / 3 + 0.5 : 1;
    case ActKind.TANH: { // 1 - tanh^2 = 4e / (1 + e)^2 with e = exp(-2|x|)
      const e = Math.exp(-2 * Math.abs(x));
      return (4 * e) / ((1 + e) * (1 + e));
    }
    case ActKind.SOFTPLUS:
      return sigmoid(x);
    case ActKind.GELU:
      return 0.5 * erfc(-x * Math.SQRT1_2) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    case ActKind.GELU_TANH: { // s(2u) (1 + 2 x s(-2u) u')
      const z = 2 * geluTanhInner(x);
      const du = SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_CUBIC * x * x);
      return sigmoid(z) * (1 + 2 * x * sigmoid(-z) * du);
    }
    case ActKind.SILU:
      return sigmoid(x) * (1 + x * sigmoid(-x));
    case ActKind.ERF:
      return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x);
    case ActKind.TF_RELU: // 0 at/above the max value, the slope at/below the threshold
      return x >= b ? 0 : x > c ? 1 : a;
  }
  return NaN;
}
