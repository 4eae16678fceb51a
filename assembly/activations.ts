// Element-wise activations selected by a kind code, and their input gradients (out = g * f'(x), x the forward
// input). Every kind but SIGMOID and SILU is evaluated in float64 from the float32 inputs and parameters and rounded
// once on store, so each output is the float32 nearest to the float64 value (the transcendental functions add
// ~1e-13 at most); SIGMOID and SILU run in float32 (sigmoid32.ts, within 5 * 2^-24 relative) for speed. The SIMD
// loops do the very same operations as the scalar code (f64x2 for the float64 kinds, with exp and expm1 from exp64.ts,
// whose scalar and f64x2 versions match; f32x4 for the float32 ones), so an element gets the same bits in the SIMD
// body, the scalar tail and the scalar build. SOFTPLUS, GELU and ERF have no SIMD body (scalar float64).
// Outputs may alias inputs (each element is read before it is written).
//
// Kinks: the derivative takes the value PyTorch's autograd takes there (noted per kind below).
import { erf64, erfc64 } from "./erf";
import { exp64, exp64x2, expm1_64, expm1_64x2 } from "./exp64";
import {
  sigmoid32, sigmoid32x4, sigmoidDerivative32, sigmoidDerivative32x4, silu32, silu32x4, siluDerivative32, siluDerivative32x4,
} from "./sigmoid32";

// Kind codes: mirror ActKind in src/kernels/abi.ts (the kernel tests run every code against the reference).
// @ts-ignore: decorator
@inline const CLIP: i32 = 0;
// @ts-ignore: decorator
@inline const LEAKY_RELU: i32 = 1;
// @ts-ignore: decorator
@inline const ELU: i32 = 2;
// @ts-ignore: decorator
@inline const SELU: i32 = 3;
// @ts-ignore: decorator
@inline const SIGMOID: i32 = 4;
// @ts-ignore: decorator
@inline const HARD_SIGMOID: i32 = 5;
// @ts-ignore: decorator
@inline const HARD_SWISH: i32 = 6;
// @ts-ignore: decorator
@inline const TANH: i32 = 7;
// @ts-ignore: decorator
@inline const SOFTPLUS: i32 = 8;
// @ts-ignore: decorator
@inline const GELU: i32 = 9;
// @ts-ignore: decorator
@inline const GELU_TANH: i32 = 10;
// @ts-ignore: decorator
@inline const SILU: i32 = 11;
// @ts-ignore: decorator
@inline const ERF: i32 = 12;
// @ts-ignore: decorator
@inline const TF_RELU: i32 = 13;

const SQRT_2_OVER_PI: f64 = 0.7978845608028654; // sqrt(2/pi), GELU's tanh approximation
const GELU_TANH_CUBIC: f64 = 0.044715;
const INV_SQRT_2PI: f64 = 0.3989422804014327; // 1/sqrt(2 pi), the normal density's factor
const TWO_OVER_SQRT_PI: f64 = 1.1283791670955126;

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }

/** 1 / (1 + exp(-v)) without overflow: with e = exp(-|v|), 1 / (1 + e) for v >= 0 and e / (1 + e) below. */
// @ts-ignore: decorator
@inline function sigmoid(v: f64): f64 {
  const e = exp64(-Math.abs(v));
  return (v >= 0 ? 1 : e) / (1 + e);
}

/** tanh(v) = sign(v) * -m / (2 + m) with m = expm1(-2|v|): no cancellation near 0 nor overflow for large |v|. */
// @ts-ignore: decorator
@inline function tanh64(v: f64): f64 {
  const m = expm1_64(-2 * Math.abs(v));
  return copysign<f64>(-m / (2 + m), v);
}

/** sqrt(2/pi) * (x + 0.044715 x^3): GELU_TANH's tanh argument. */
// @ts-ignore: decorator
@inline function geluTanhInner(v: f64): f64 {
  return SQRT_2_OVER_PI * (v + GELU_TANH_CUBIC * v * v * v);
}

/** f(v) for one element (v, a, b, c are float32 values held in float64). */
function forward1(kind: i32, v: f64, a: f64, b: f64, c: f64): f64 {
  switch (kind) {
    case CLIP: return Math.min(Math.max(v, a), b);
    case LEAKY_RELU: return v > 0 ? v : a * v;
    case ELU: return v > 0 ? v : a * expm1_64(v); // expm1: no cancellation near 0
    case SELU: return b * (v > 0 ? v : a * expm1_64(v));
    case SIGMOID: return <f64>sigmoid32(<f32>v);
    case HARD_SIGMOID: return Math.min(Math.max(a * v + b, 0), 1);
    case HARD_SWISH: return v * Math.min(Math.max(v + 3, 0), 6) / 6; // PyTorch's form, in float64
    case TANH: return tanh64(v);
    case SOFTPLUS: return Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    // 0.5 x (1 + erf(x/sqrt2)) written with erfc, which keeps the tail for x << 0 (1 + erf would cancel)
    case GELU: return 0.5 * v * erfc64(-v * Math.SQRT1_2);
    // 0.5 x (1 + tanh(u)) = x * sigmoid(2u): the same value without 1 + tanh's cancellation for x << 0
    case GELU_TANH: return v * sigmoid(2 * geluTanhInner(v));
    case SILU: return <f64>silu32(<f32>v);
    case ERF: return erf64(v);
    // a = negative slope, b = max value, c = threshold (Keras relu). At x == c both branches agree when c == 0;
    // for c != 0 we take Keras' value there: x * (x > c) - a * relu(c - x) = 0.
    case TF_RELU: return v >= b ? b : v > c ? v : a * (v - c);
  }
  return NaN;
}

/** f'(v) for one element. */
function derivative1(kind: i32, v: f64, a: f64, b: f64, c: f64): f64 {
  switch (kind) {
    case CLIP: return v > a && v < b ? 1 : 0; // hardtanh_backward: 0 at both kinks
    case LEAKY_RELU: return v > 0 ? 1 : a; // leaky_relu_backward: the slope at x = 0
    case ELU: return v > 0 ? 1 : a * exp64(v); // elu_backward: x <= 0 takes a * exp(x) (a at 0)
    case SELU: return b * (v > 0 ? 1 : a * exp64(v));
    case SIGMOID: return <f64>sigmoidDerivative32(<f32>v);
    case HARD_SIGMOID: { // hardsigmoid_backward: a strictly inside (0 < a x + b < 1), 0 at the kinks
      const t = a * v + b;
      return t > 0 && t < 1 ? a : 0;
    }
    case HARD_SWISH: return v < -3 ? 0 : v <= 3 ? v / 3 + 0.5 : 1; // hardswish_backward: -0.5 at -3, 1.5 at 3
    case TANH: { // 1 - tanh^2 = 4e / (1 + e)^2, e = exp(-2|x|): no cancellation where tanh is near +-1
      const e = exp64(-2 * Math.abs(v));
      const d = 1 + e;
      return 4 * e / (d * d);
    }
    case SOFTPLUS: return sigmoid(v);
    case GELU: return 0.5 * erfc64(-v * Math.SQRT1_2) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v);
    case GELU_TANH: { // d/dx [x s(2u)] = s(2u) (1 + 2 x s(-2u) u'), u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)
      const z = 2 * geluTanhInner(v);
      const e = exp64(-Math.abs(z));
      const d = 1 + e;
      const s = (z >= 0 ? 1 : e) / d, sm = (z >= 0 ? e : 1) / d; // sigmoid(z), sigmoid(-z)
      const du = SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_CUBIC * v * v);
      const c = 2 * v * du;
      return s * (1 + c * sm); // this operation order is geluTanhDerivative2's
    }
    case SILU: return <f64>siluDerivative32(<f32>v);
    case ERF: return TWO_OVER_SQRT_PI * Math.exp(-v * v);
    case TF_RELU: return v >= b ? 0 : v > c ? 1 : a; // 0 at/above the max, the slope at/below the threshold
  }
  return NaN;
}

// ---- SIMD helpers: float64 math on the 4 float32 lanes of a v128, as two f64x2 halves ----------------------

// @ts-ignore: decorator
@inline function low64(v: v128): v128 { return f64x2.promote_low_f32x4(v); }
// @ts-ignore: decorator
@inline function high64(v: v128): v128 { return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3)); }
// @ts-ignore: decorator
@inline function join32(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

// @ts-ignore: decorator
@inline function hardSigmoid2(v: v128, a: v128, b: v128): v128 {
  return f64x2.min(f64x2.max(f64x2.add(f64x2.mul(a, v), b), f64x2.splat(0)), f64x2.splat(1));
}
// @ts-ignore: decorator
@inline function hardSwish2(v: v128): v128 {
  const m = f64x2.min(f64x2.max(f64x2.add(v, f64x2.splat(3)), f64x2.splat(0)), f64x2.splat(6));
  return f64x2.div(f64x2.mul(v, m), f64x2.splat(6));
}
// @ts-ignore: decorator
@inline function tfRelu2(v: v128, a: v128, b: v128, c: v128): v128 {
  const below = f64x2.mul(a, f64x2.sub(v, c));
  return v128.bitselect(b, v128.bitselect(v, below, f64x2.gt(v, c)), f64x2.ge(v, b));
}
// @ts-ignore: decorator
@inline function hardSigmoidDerivative2(v: v128, a: v128, b: v128): v128 {
  const t = f64x2.add(f64x2.mul(a, v), b);
  return v128.and(a, v128.and(f64x2.gt(t, f64x2.splat(0)), f64x2.lt(t, f64x2.splat(1))));
}
// @ts-ignore: decorator
@inline function hardSwishDerivative2(v: v128): v128 {
  const mid = f64x2.add(f64x2.div(v, f64x2.splat(3)), f64x2.splat(0.5));
  const d = v128.bitselect(mid, f64x2.splat(1), f64x2.le(v, f64x2.splat(3)));
  return v128.andnot(d, f64x2.lt(v, f64x2.splat(-3)));
}

// @ts-ignore: decorator
@inline function sigmoid2(v: v128): v128 {
  const e = exp64x2(f64x2.neg(f64x2.abs(v)));
  return f64x2.div(v128.bitselect(f64x2.splat(1), e, f64x2.ge(v, f64x2.splat(0))), f64x2.add(f64x2.splat(1), e));
}
/** s(z) (1 + c s(-z)): GELU_TANH's derivative with z = 2u, c = 2 x u'. */
// @ts-ignore: decorator
@inline function sigmoidProduct2(z: v128, c: v128): v128 {
  const e = exp64x2(f64x2.neg(f64x2.abs(z)));
  const d = f64x2.add(f64x2.splat(1), e);
  const pos = f64x2.ge(z, f64x2.splat(0));
  const s = f64x2.div(v128.bitselect(f64x2.splat(1), e, pos), d);
  const sm = f64x2.div(v128.bitselect(e, f64x2.splat(1), pos), d);
  return f64x2.mul(s, f64x2.add(f64x2.splat(1), f64x2.mul(c, sm)));
}
/** 2u = 2 sqrt(2/pi) (x + 0.044715 x^3), in geluTanhInner's operation order. */
// @ts-ignore: decorator
@inline function geluTanhZ2(v: v128): v128 {
  const cube = f64x2.mul(f64x2.mul(f64x2.mul(f64x2.splat(GELU_TANH_CUBIC), v), v), v);
  return f64x2.mul(f64x2.splat(2), f64x2.mul(f64x2.splat(SQRT_2_OVER_PI), f64x2.add(v, cube)));
}
// @ts-ignore: decorator
@inline function geluTanhDerivative2(v: v128): v128 {
  const du = f64x2.mul(f64x2.splat(SQRT_2_OVER_PI),
    f64x2.add(f64x2.splat(1), f64x2.mul(f64x2.mul(f64x2.splat(3 * GELU_TANH_CUBIC), v), v)));
  return sigmoidProduct2(geluTanhZ2(v), f64x2.mul(f64x2.mul(f64x2.splat(2), v), du));
}
// @ts-ignore: decorator
@inline function tanh2(v: v128): v128 {
  const m = expm1_64x2(f64x2.mul(f64x2.splat(-2), f64x2.abs(v)));
  const t = f64x2.div(f64x2.neg(m), f64x2.add(f64x2.splat(2), m));
  return v128.or(t, v128.and(v, f64x2.splat(-0.0))); // copysign (t >= 0)
}
// @ts-ignore: decorator
@inline function tanhDerivative2(v: v128): v128 {
  const e = exp64x2(f64x2.mul(f64x2.splat(-2), f64x2.abs(v)));
  const d = f64x2.add(f64x2.splat(1), e);
  return f64x2.div(f64x2.mul(f64x2.splat(4), e), f64x2.mul(d, d));
}
// @ts-ignore: decorator
@inline function elu2(v: v128, a: v128): v128 {
  const neg = f64x2.mul(a, expm1_64x2(f64x2.min(v, f64x2.splat(0))));
  return v128.bitselect(v, neg, f64x2.gt(v, f64x2.splat(0)));
}
// @ts-ignore: decorator
@inline function eluDerivative2(v: v128, a: v128): v128 {
  const neg = f64x2.mul(a, exp64x2(f64x2.min(v, f64x2.splat(0))));
  return v128.bitselect(f64x2.splat(1), neg, f64x2.gt(v, f64x2.splat(0)));
}

/** SIMD body of the forward for the kinds that have one; returns the number of elements done (a multiple of 4). */
function forwardSimd(kind: i32, x: usize, y: usize, len: i32, a: f32, b: f32, c: f32): i32 {
  let i = 0;
  if (kind == CLIP) {
    const lo = f32x4.splat(a), hi = f32x4.splat(b);
    for (; i + 4 <= len; i += 4) v128.store(at(y, i), f32x4.min(f32x4.max(v128.load(at(x, i)), lo), hi));
  } else if (kind == LEAKY_RELU) {
    const av = f32x4.splat(a), z = f32x4.splat(0);
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(at(x, i));
      v128.store(at(y, i), v128.bitselect(v, f32x4.mul(av, v), f32x4.gt(v, z)));
    }
  } else if (kind == HARD_SIGMOID) {
    const av = f64x2.splat(<f64>a), bv = f64x2.splat(<f64>b);
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(at(x, i));
      v128.store(at(y, i), join32(hardSigmoid2(low64(v), av, bv), hardSigmoid2(high64(v), av, bv)));
    }
  } else if (kind == HARD_SWISH) {
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(at(x, i));
      v128.store(at(y, i), join32(hardSwish2(low64(v)), hardSwish2(high64(v))));
    }
  } else if (kind == TF_RELU) {
    const av = f64x2.splat(<f64>a), bv = f64x2.splat(<f64>b), cv = f64x2.splat(<f64>c);
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(at(x, i));
      v128.store(at(y, i), join32(tfRelu2(low64(v), av, bv, cv), tfRelu2(high64(v), av, bv, cv)));
    }
  } else if (kind == SIGMOID) {
    for (; i + 4 <= len; i += 4) v128.store(at(y, i), sigmoid32x4(v128.load(at(x, i))));
  } else if (kind == SILU) {
    for (; i + 4 <= len; i += 4) v128.store(at(y, i), silu32x4(v128.load(at(x, i))));
  } else if (kind == GELU_TANH) {
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(at(x, i)), lo = low64(v), hi = high64(v);
      v128.store(at(y, i), join32(f64x2.mul(lo, sigmoid2(geluTanhZ2(lo))), f64x2.mul(hi, sigmoid2(geluTanhZ2(hi)))));
    }
  } else if (kind == TANH) {
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(at(x, i));
      v128.store(at(y, i), join32(tanh2(low64(v)), tanh2(high64(v))));
    }
  } else if (kind == ELU || kind == SELU) {
    const av = f64x2.splat(<f64>a), scale = f64x2.splat(kind == SELU ? <f64>b : 1);
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(at(x, i));
      v128.store(at(y, i), join32(f64x2.mul(scale, elu2(low64(v), av)), f64x2.mul(scale, elu2(high64(v), av))));
    }
  }
  return i;
}

/** SIMD body of the gradient (out = g * f'(x)) for the kinds that have one; returns the number of elements done. */
function gradientSimd(kind: i32, x: usize, g: usize, out: usize, len: i32, a: f32, b: f32, c: f32): i32 {
  let i = 0;
  if (kind == CLIP) {
    const lo = f32x4.splat(a), hi = f32x4.splat(b), one = f32x4.splat(1);
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(at(x, i));
      const d = v128.and(one, v128.and(f32x4.gt(v, lo), f32x4.lt(v, hi)));
      v128.store(at(out, i), f32x4.mul(v128.load(at(g, i)), d));
    }
  } else if (kind == LEAKY_RELU) {
    const av = f32x4.splat(a), one = f32x4.splat(1), z = f32x4.splat(0);
    for (; i + 4 <= len; i += 4) {
      const d = v128.bitselect(one, av, f32x4.gt(v128.load(at(x, i)), z));
      v128.store(at(out, i), f32x4.mul(v128.load(at(g, i)), d));
    }
  } else if (kind == TF_RELU) {
    const av = f32x4.splat(a), bv = f32x4.splat(b), cv = f32x4.splat(c), one = f32x4.splat(1);
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(at(x, i));
      const d = v128.andnot(v128.bitselect(one, av, f32x4.gt(v, cv)), f32x4.ge(v, bv));
      v128.store(at(out, i), f32x4.mul(v128.load(at(g, i)), d));
    }
  } else if (kind == HARD_SIGMOID) {
    const av = f64x2.splat(<f64>a), bv = f64x2.splat(<f64>b);
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(at(x, i)), gv = v128.load(at(g, i));
      const lo = f64x2.mul(low64(gv), hardSigmoidDerivative2(low64(v), av, bv));
      const hi = f64x2.mul(high64(gv), hardSigmoidDerivative2(high64(v), av, bv));
      v128.store(at(out, i), join32(lo, hi));
    }
  } else if (kind == HARD_SWISH) {
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(at(x, i)), gv = v128.load(at(g, i));
      const lo = f64x2.mul(low64(gv), hardSwishDerivative2(low64(v)));
      const hi = f64x2.mul(high64(gv), hardSwishDerivative2(high64(v)));
      v128.store(at(out, i), join32(lo, hi));
    }
  } else if (kind == SOFTPLUS) { // softplus' = sigmoid, in float64 like softplus
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(at(x, i)), gv = v128.load(at(g, i));
      v128.store(at(out, i), join32(f64x2.mul(low64(gv), sigmoid2(low64(v))), f64x2.mul(high64(gv), sigmoid2(high64(v)))));
    }
  } else if (kind == SIGMOID || kind == SILU) { // float32: g * f'(x) rounded twice, as the scalar tail
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(at(x, i));
      const d = kind == SIGMOID ? sigmoidDerivative32x4(v) : siluDerivative32x4(v);
      v128.store(at(out, i), f32x4.mul(v128.load(at(g, i)), d));
    }
  } else if (kind == GELU_TANH) {
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(at(x, i)), gv = v128.load(at(g, i));
      const dlo = geluTanhDerivative2(low64(v)), dhi = geluTanhDerivative2(high64(v));
      v128.store(at(out, i), join32(f64x2.mul(low64(gv), dlo), f64x2.mul(high64(gv), dhi)));
    }
  } else if (kind == TANH) {
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(at(x, i)), gv = v128.load(at(g, i));
      const dlo = tanhDerivative2(low64(v)), dhi = tanhDerivative2(high64(v));
      v128.store(at(out, i), join32(f64x2.mul(low64(gv), dlo), f64x2.mul(high64(gv), dhi)));
    }
  } else if (kind == ELU || kind == SELU) {
    const av = f64x2.splat(<f64>a), scale = f64x2.splat(kind == SELU ? <f64>b : 1);
    for (; i + 4 <= len; i += 4) {
      const v = v128.load(at(x, i)), gv = v128.load(at(g, i));
      const dlo = f64x2.mul(scale, eluDerivative2(low64(v), av)), dhi = f64x2.mul(scale, eluDerivative2(high64(v), av));
      v128.store(at(out, i), join32(f64x2.mul(low64(gv), dlo), f64x2.mul(high64(gv), dhi)));
    }
  }
  return i;
}

/** y = f(x) for len floats. An unknown kind leaves y untouched (the TypeScript wrappers reject it first). */
export function activation_forward_f32(kind: i32, x: usize, y: usize, len: i32, a: f32, b: f32, c: f32): void {
  if (<u32>kind > <u32>TF_RELU) return;
  let i = 0;
  if (ASC_FEATURE_SIMD) i = forwardSimd(kind, x, y, len, a, b, c);
  const a64 = <f64>a, b64 = <f64>b, c64 = <f64>c;
  for (; i < len; i++) store<f32>(at(y, i), <f32>forward1(kind, <f64>load<f32>(at(x, i)), a64, b64, c64));
}

/** out = g * f'(x) for len floats (x is the forward input). An unknown kind leaves out untouched. */
export function activation_gradient_f32(kind: i32, x: usize, g: usize, out: usize, len: i32, a: f32, b: f32, c: f32): void {
  if (<u32>kind > <u32>TF_RELU) return;
  let i = 0;
  if (ASC_FEATURE_SIMD) i = gradientSimd(kind, x, g, out, len, a, b, c);
  const a64 = <f64>a, b64 = <f64>b, c64 = <f64>c;
  for (; i < len; i++) {
    const d = derivative1(kind, <f64>load<f32>(at(x, i)), a64, b64, c64);
    store<f32>(at(out, i), <f32>(<f64>load<f32>(at(g, i)) * d));
  }
}
