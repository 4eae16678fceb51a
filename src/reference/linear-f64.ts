/**
 * Zennit's rules for dense and conv2d in float64, written from their definitions over a layer's affine
 * map f(x; W, b) and its transposed product Jᵀ(g; W) with explicit loops (no GEMM, no im2col):
 * epsilon, z⁺ (= alpha1-beta0), alpha-beta, gamma and the plain gradient. Modified parameters
 * (W⁺, W⁻, W + γW⁺, …) are computed in float64 from the float32 weights.
 */
import { UnsupportedError } from '../errors.js';
import type { Conv2dNode, DenseNode } from '../graph/ir.js';
import { STABILIZER, type Rule } from '../rules.js';
import { size, windowOutput } from '../graph/shapes.js';
import { stab, type Tensor64 } from './nodes-f64.js';

/** A dense or conv layer as the two maps every rule is built from, for any parameters of its shape. */
export interface LinearMapF64 {
  readonly weight: Float64Array;
  readonly bias: Float64Array | null;
  /** f(x; w, b) */
  apply(x: Float64Array, w: Float64Array, b: Float64Array | null): Float64Array;
  /** Jᵀ(g; w): the input gradient of Σ g·f(x; w, ·) */
  applyT(g: Float64Array, w: Float64Array): Float64Array;
}

/** nn.Linear over the last axis of [..., inFeatures]. */
export function denseMap(node: DenseNode, inShape: readonly number[]): LinearMapF64 {
  const inF = node.inFeatures, outF = node.outFeatures;
  const rows = size(inShape) / inF;
  return {
    weight: Float64Array.from(node.weight),
    bias: node.bias ? Float64Array.from(node.bias) : null,
    apply(x, w, b) {
      const y = new Float64Array(rows * outF);
      for (let r = 0; r < rows; r++)
        for (let o = 0; o < outF; o++) {
          let acc = b ? b[o] : 0;
          for (let i = 0; i < inF; i++) acc += x[r * inF + i] * w[o * inF + i];
          y[r * outF + o] = acc;
        }
      return y;
    },
    applyT(g, w) {
      const out = new Float64Array(rows * inF);
      for (let r = 0; r < rows; r++)
        for (let i = 0; i < inF; i++) {
          let acc = 0;
          for (let o = 0; o < outF; o++) acc += g[r * outF + o] * w[o * inF + i];
          out[r * inF + i] = acc;
        }
      return out;
    },
  };
}

/** [OH, OW] of a conv over [C, H, W] (PyTorch's formula). */
export function convOutShape(node: Conv2dNode, inShape: readonly number[]): [number, number] {
  const [, H, W] = inShape;
  const [KH, KW] = node.kernel, [SH, SW] = node.stride, [DH, DW] = node.dilation, [PT, PL, PB, PR] = node.padding;
  return [windowOutput(H, KH, SH, PT, PB, DH, false), windowOutput(W, KW, SW, PL, PR, DW, false)];
}

/** Conv2d [C, H, W] → [O, OH, OW] (zero padding, stride, dilation, groups). */
export function convMap(node: Conv2dNode, inShape: readonly number[]): LinearMapF64 {
  const [C, H, W] = inShape;
  const [KH, KW] = node.kernel, [SH, SW] = node.stride, [DH, DW] = node.dilation, [PT, PL] = node.padding;
  const O = node.outChannels, G = node.groups, Cg = C / G, Og = O / G;
  const [OH, OW] = convOutShape(node, inShape);
  /** visit every (output, input, weight) index triple of the cross-correlation */
  const each = (visit: (yi: number, xi: number, wi: number) => void) => {
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / Og);
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++)
          for (let c = 0; c < Cg; c++)
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * SH - PT + kh * DH;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * SW - PL + kw * DW;
                if (iw < 0 || iw >= W) continue;
                visit((o * OH + oh) * OW + ow, ((g * Cg + c) * H + ih) * W + iw, ((o * Cg + c) * KH + kh) * KW + kw);
              }
            }
    }
  };
  return {
    weight: Float64Array.from(node.weight),
    bias: node.bias ? Float64Array.from(node.bias) : null,
    apply(x, w, b) {
      const y = new Float64Array(O * OH * OW);
      if (b) for (let o = 0; o < O; o++) y.fill(b[o], o * OH * OW, (o + 1) * OH * OW);
      each((yi, xi, wi) => (y[yi] += x[xi] * w[wi]));
      return y;
    },
    applyT(g, w) {
      const out = new Float64Array(C * H * W);
      each((yi, xi, wi) => (out[xi] += g[yi] * w[wi]));
      return out;
    },
  };
}

const mapped = (v: Float64Array | null, f: (x: number) => number): Float64Array | null => (v ? v.map(f) : null);
const pos = (v: number) => (v > 0 ? v : 0);
const neg = (v: number) => (v < 0 ? v : 0);

function plus(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v + b[i]);
}

/** R / stab(z) element-wise, zero where `keep` says so. */
function divide(R: Float64Array, z: Float64Array, eps: number, keep: (i: number) => boolean = () => true): Float64Array {
  return R.map((r, i) => (keep(i) ? r / stab(z[i], eps) : 0));
}

/** Σ_k coef_k · a_k ⊙ Jᵀ(g; w_k) */
function weighted(layer: LinearMapF64, g: Float64Array, terms: Array<[Float64Array, Float64Array]>, coef = 1): Float64Array {
  let out: Float64Array | null = null;
  for (const [a, w] of terms) {
    const t = layer.applyT(g, w);
    const part = a.map((v, i) => coef * v * t[i]);
    out = out ? plus(out, part) : part;
  }
  return out!;
}

/**
 * The input relevance of a dense/conv layer: x its input, z = f(x; W, b) its output, R the relevance at
 * its output. Returns a new array (the caller accumulates).
 */
export function linearRelevanceF64(layer: LinearMapF64, x: Tensor64, z: Float64Array, R: Float64Array, rule: Rule, where: string): Float64Array {
  const W = layer.weight, b = layer.bias;
  const xp = x.data.map(pos), xn = x.data.map(neg);
  switch (rule.name) {
    case 'epsilon':
      // R_i = x_i Σ_j W_ji R_j / stab(z_j)
      return weighted(layer, divide(R, z, rule.epsilon), [[x.data, W]]);
    case 'gradient':
      return layer.applyT(R, W);
    case 'zplus':
    case 'alphabeta': {
      const [alpha, beta] = rule.name === 'zplus' ? [1, 0] : [rule.alpha, rule.beta];
      const Wp = W.map(pos), Wn = W.map(neg);
      // positive contributions: x⁺ through W⁺ (with b⁺) and x⁻ through W⁻
      const zp = plus(layer.apply(xp, Wp, mapped(b, pos)), layer.apply(xn, Wn, null));
      let out = weighted(layer, divide(R, zp, STABILIZER), [[xp, Wp], [xn, Wn]], alpha);
      if (beta !== 0) {
        const zn = plus(layer.apply(xp, Wn, mapped(b, neg)), layer.apply(xn, Wp, null));
        out = plus(out, weighted(layer, divide(R, zn, STABILIZER), [[xp, Wn], [xn, Wp]], -beta));
      }
      return out;
    }
    case 'gamma': {
      const g = rule.gamma;
      const up = (v: number) => v + g * pos(v), down = (v: number) => v + g * neg(v);
      const Wu = W.map(up), Wd = W.map(down);
      // outputs z > 0 take the positively amplified denominator, z < 0 the negatively amplified one
      const zp = plus(layer.apply(xp, Wu, mapped(b, up)), layer.apply(xn, Wd, null));
      const zn = plus(layer.apply(xp, Wd, mapped(b, down)), layer.apply(xn, Wu, null));
      const gp = divide(R, zp, STABILIZER, (i) => z[i] > 0);
      const gn = divide(R, zn, STABILIZER, (i) => z[i] < 0);
      return plus(weighted(layer, gp, [[xp, Wu], [xn, Wd]]), weighted(layer, gn, [[xp, Wd], [xn, Wu]]));
    }
    default:
      throw new UnsupportedError(`the float64 reference has no '${rule.name}' rule for ${where}`);
  }
}
