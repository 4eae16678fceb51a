/**
 * Layer normalisation over the LAST per-sample axis (nn.LayerNorm(features), ONNX LayerNormalization with
 * axis = -1): y = (x − mean)/sqrt(var + epsilon)·weight + bias per row of `features` values; the row's mean and
 * variance are taken in float64 and each output rounded once. Input [..., features], any rank ≥ 1.
 *
 * Default rule: AttnLRP's (Achtibat et al. 2024, Prop. 3.4 and LXT's layer_norm): the division by the standard
 * deviation gets the identity rule (the std is a constant), the remaining linear map x ↦ (x − mean)·w/std + b the
 * epsilon rule: c = R / stab(y), R_x,i = x_i/std · (w_i c_i − mean_j(w_j c_j)). The input relevance sums to
 * Σ R·(y − bias)/stab(y): conserving when there is no bias. The gradient rule is the exact vector-Jacobian product.
 */
import type { NodeBase } from '../graph/ir.js';
import { size } from '../graph/shapes.js';
import { ShapeError } from '../errors.js';
import { rules, STABILIZER } from '../rules.js';
import type { OpSpec } from './spec.js';

export interface LayerNormNode extends NodeBase {
  op: 'layernorm';
  /** Length of the last axis. */
  features: number;
  /** The variance epsilon (ONNX attribute `epsilon`, default 1e-5). */
  epsilon: number;
  /** [features] (gamma); null: 1. */
  weight: Float32Array | null;
  /** [features] (beta); null: 0. */
  bias: Float32Array | null;
}

export interface LayerNormState {
  /** Weight and bias in linear memory (0: none). */
  w: number;
  b: number;
  /** Rows of `features` values per sample. */
  rows: number;
}

export const layernorm: OpSpec<LayerNormNode, LayerNormState> = {
  op: 'layernorm',
  arity: 1,
  shape(node, [inp], where) {
    const F = node.features;
    if (!Number.isInteger(F) || F < 1) throw new ShapeError(`${where}: features must be a positive integer, got ${String(F)}`);
    if (inp.length < 1 || inp[inp.length - 1] !== F)
      throw new ShapeError(`${where} normalises the last axis of ${F} features, got shape [${inp.join(', ')}]`);
    if (typeof node.epsilon !== 'number' || !Number.isFinite(node.epsilon) || node.epsilon < 0)
      throw new ShapeError(`${where}: epsilon must be a finite number ≥ 0, got ${String(node.epsilon)}`);
    for (const [name, v] of [['weight', node.weight], ['bias', node.bias]] as const)
      if (v && v.length !== F) throw new ShapeError(`${where}: ${name} has ${v.length} values, expected ${F}`);
    return inp.slice();
  },
  prepare(node, env) {
    return {
      w: node.weight ? env.floats(node.weight) : 0,
      b: node.bias ? env.floats(node.bias) : 0,
      rows: size(env.inShapes[0]) / node.features,
    };
  },
  forward({ k, node, state, ins, out, n }) {
    k.layerNormForward(ins[0].act, state.w, state.b, out.act, n * state.rows, node.features, node.epsilon);
  },
  rules: {
    attnlrp(s) {
      const x = s.ins[0];
      const stab = (s.rule.name === 'attnlrp' && s.rule.stabilizer) || STABILIZER;
      const target = s.target(x, s.ws.scratchIn[0]);
      s.k.layerNormAttnLrp(x.act, s.out.act, s.state.w, s.out.rel, target, s.n * s.state.rows, s.node.features, s.node.epsilon, stab);
      s.commit(x, target);
    },
    gradient(s) {
      const x = s.ins[0];
      const target = s.target(x, s.ws.scratchIn[0]);
      s.k.layerNormGradient(x.act, s.state.w, s.out.rel, target, s.n * s.state.rows, s.node.features, s.node.epsilon);
      s.commit(x, target);
    },
  },
  defaultRule: (_node, c) => c.layerNorm ?? rules.attnlrp(),
  ruleNote: 'attnlrp: AttnLRP (identity rule on the division by the std, epsilon rule on the rest)',
  nonNegative: () => false,
  detail: (node) =>
    `${node.features} features, eps ${Number(node.epsilon.toPrecision(7))}` +
    (node.weight || node.bias ? (node.weight ? (node.bias ? '' : ', no bias') : ', no weight') : ', no affine'),
};
