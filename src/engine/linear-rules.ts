/**
 * Relevance through a dense or conv2d layer, for every rule, written once for both layer types
 * in terms of the layer's affine map f(x; W, b) and its transpose J^T(g; W). The formulas are
 * Zennit's (see ARCHITECTURE.md). Every function ACCUMULATES into relIn, because a tensor may
 * feed several consumers and its relevance is the sum of what they send back.
 */
import type { Rule, RuleName } from '../rules.js';
import type { RuleFn } from '../ops/spec.js';
import { STABILIZER } from '../rules.js';
import { gammaDown, gammaUp, LinearLayer, neg, one, pos, square } from './linear.js';
import type { Workspace } from './tensors.js';

export interface LinearStep {
  layer: LinearLayer;
  ws: Workspace;
  n: number;
  /** input activation, output activation (the unmodified z = f(x; W, b)), output relevance, input relevance */
  x: number;
  z: number;
  r: number;
  relIn: number;
}

/** zbox bounds expanded to one value per input element of one sample. */
export interface BoxBounds {
  low: Float32Array;
  high: Float32Array;
  key: string;
}

/** The rules dense and conv accept, for their op modules: each zeroes relIn on its first write, then accumulates. */
export function linearRuleTable<N>(): Partial<Record<RuleName, RuleFn<N, LinearLayer>>> {
  const run: RuleFn<N, LinearLayer> = (s) => {
    const x = s.ins[0];
    if (s.first(x)) s.k.fill(x.rel, s.n * x.size, 0);
    linearRelevance({ layer: s.state, ws: s.ws, n: s.n, x: x.act, z: s.out.act, r: s.out.rel, relIn: x.rel }, s.rule, s.box);
  };
  return { epsilon: run, zplus: run, alphabeta: run, gamma: run, flat: run, wsquare: run, zbox: run, gradient: run };
}

export function linearRelevance(step: LinearStep, rule: Rule, box?: BoxBounds): void {
  switch (rule.name) {
    case 'epsilon':
      return epsilon(step, rule.epsilon);
    case 'zplus':
      return alphaBeta(step, 1, 0);
    case 'alphabeta':
      return alphaBeta(step, rule.alpha, rule.beta);
    case 'gamma':
      return gamma(step, rule.gamma);
    case 'flat':
      return precomputedDenominator(step, 'flat', one, () => 0);
    case 'wsquare':
      return precomputedDenominator(step, 'wsquare', square, square);
    case 'zbox':
      if (!box) throw new Error('internal: zbox without bounds');
      return zbox(step, box);
    case 'pass':
      // relevance passes unchanged only where shapes agree; otherwise it is meaningless
      if (step.layer.inSize !== step.layer.outSize) throw new Error(`internal: pass on a resizing layer '${step.layer.node.name}'`);
      step.ws.backend.kernels.add(step.relIn, step.r, step.relIn, step.n * step.layer.inSize);
      return;
    case 'gradient':
      step.layer.transpose(step.r, step.layer.weight(), step.relIn, step.n, true, step.ws.convScratch);
      return;
    case 'norm':
      throw new Error(`internal: norm is not a rule for linear layers ('${step.layer.node.name}')`);
  }
}

/** R_in = x · J^T(R / stab_e(z); W), z with bias */
function epsilon(s: LinearStep, eps: number): void {
  const { layer, ws, n } = s;
  const k = ws.backend.kernels;
  const g = ws.scratchOut[2];
  const tmp = ws.scratchIn[2];
  k.stabDivide(s.r, s.z, g, n * layer.outSize, eps);
  layer.transpose(g, layer.weight(), tmp, n, false, ws.convScratch);
  k.mulAcc(s.x, tmp, s.relIn, n * layer.inSize, 1);
}

/** Positive and negative parts of the input; xn is 0 (absent) when the input has no negatives. */
function splitInput(s: LinearStep): { xp: number; xn: number } {
  const { ws, layer, n } = s;
  const k = ws.backend.kernels;
  const len = n * layer.inSize;
  if (!k.hasNegative(s.x, len)) return { xp: s.x, xn: 0 };
  // sized to this layer's input: usually only the first layer's input has negatives, and it is small
  const xp = ws.scratchInSized(0, ws.capacity * layer.inSize);
  const xn = ws.scratchInSized(1, ws.capacity * layer.inSize);
  k.relu(s.x, xp, len);
  k.negPart(s.x, xn, len);
  return { xp, xn };
}

/**
 * y = f(a; Wa, ba) + f(b; Wb, 0), the b term skipped when b is absent. exactZeros: see LinearLayer.forward.
 * The b term goes through scratchOut[2], the quotient's buffer: every caller fills it only after the
 * denominators are done (y is never scratchOut[2]), so the rules need no fourth output-sized buffer.
 */
function affinePair(s: LinearStep, a: number, wa: number, ba: number, b: number, wb: number, y: number, exactZeros = false): void {
  const { layer, ws, n } = s;
  layer.forward(a, wa, ba, y, n, ws.convScratch, exactZeros);
  if (b) {
    const t = ws.scratchOut[2];
    if (t === y) throw new Error('internal: affinePair into its own temporary');
    layer.forward(b, wb, 0, t, n, ws.convScratch, exactZeros);
    ws.backend.kernels.add(y, t, y, n * layer.outSize);
  }
}

/**
 * relIn += coef · (a · J^T(g; Wa) + b · J^T(g; Wb)), the b term skipped when b is absent. exactZeros: see
 * LinearLayer.forward. With b, both products go into their own buffer first (LinearLayer.transposePair).
 */
function reducePair(s: LinearStep, g: number, a: number, wa: number, b: number, wb: number, coef: number, exactZeros = false): void {
  const { layer, ws, n } = s;
  const k = ws.backend.kernels;
  const tmp = ws.scratchIn[2];
  const len = n * layer.inSize;
  if (!b) {
    layer.transpose(g, wa, tmp, n, false, ws.convScratch, exactZeros);
    k.mulAcc(a, tmp, s.relIn, len, coef);
    return;
  }
  const tmpB = ws.scratchInSized(3, ws.capacity * layer.inSize);
  layer.transposePair(g, wa, tmp, wb, tmpB, n, ws.convScratch, exactZeros);
  k.mulAcc(a, tmp, s.relIn, len, coef);
  k.mulAcc(b, tmpB, s.relIn, len, coef);
}

/**
 * zp = f(x+; W+, b+) + f(x−; W−, 0), zn = f(x+; W−, b−) + f(x−; W+, 0);
 * R_in = α (x+ J^T(R/zp; W+) + x− J^T(R/zp; W−)) − β (x+ J^T(R/zn; W−) + x− J^T(R/zn; W+)).
 * zplus is alphabeta(1, 0).
 */
function alphaBeta(s: LinearStep, alpha: number, beta: number): void {
  const { layer, ws, n } = s;
  const k = ws.backend.kernels;
  const { xp, xn } = splitInput(s);
  const wp = layer.param('w', 'pos', pos);
  // W⁻ only where a term reads it: z⁺ on an input without negatives (after a ReLU) never does
  const wn = xn || beta !== 0 ? layer.param('w', 'neg', neg) : 0;
  const len = n * layer.outSize;
  const zp = ws.scratchOut[0];
  const gp = ws.scratchOut[2];
  affinePair(s, xp, wp, layer.param('b', 'pos', pos), xn, wn, zp);
  k.stabDivide(s.r, zp, gp, len, STABILIZER);
  reducePair(s, gp, xp, wp, xn, wn, alpha);
  if (beta !== 0) {
    const zn = ws.scratchOut[1];
    affinePair(s, xp, wn, layer.param('b', 'neg', neg), xn, wp, zn, true);
    k.stabDivide(s.r, zn, gp, len, STABILIZER);
    reducePair(s, gp, xp, wn, xn, wp, -beta, true);
  }
}

/**
 * Generalised gamma: Wu = W + γW+, Wd = W + γW−; zp = f(x+; Wu, bu) + f(x−; Wd, 0),
 * zn = f(x+; Wd, bd) + f(x−; Wu, 0); gp = [z>0] R/zp, gn = [z<0] R/zn;
 * R_in = x+ J^T(gp; Wu) + x− J^T(gp; Wd) + x+ J^T(gn; Wd) + x− J^T(gn; Wu).
 */
function gamma(s: LinearStep, g: number): void {
  const { layer, ws, n } = s;
  const k = ws.backend.kernels;
  const { xp, xn } = splitInput(s);
  const wu = layer.param('w', `gu${g}`, gammaUp(g));
  // Wd only where a term reads it: never after a ReLU (no x−, and gn is all zeros; see below)
  const wd = () => layer.param('w', `gd${g}`, gammaDown(g));
  const len = n * layer.outSize;
  const gp = ws.scratchOut[2];
  // Where a ReLU follows, R is exactly 0 wherever z < 0 (the next layer multiplies by relu(z) = 0), so
  // gn is all zeros and its products would add only zeros: they are skipped. A NaN is not zero, so it
  // still reaches the products and the non-finite checks.
  if (!xn) {
    // x ≥ 0: with z⁺ = f(x; W⁺, b⁺), zp = z + γz⁺ and zn = (1+γ)z − γz⁺ exactly, one product instead of
    // two, and both quotients in one pass. No cancellation: zp is used only where z > 0 (both terms ≥ 0)
    // and zn only where z < 0 (both terms ≤ 0).
    const zplus = ws.scratchOut[1];
    const gn = ws.scratchOut[0];
    layer.forward(xp, layer.param('w', 'pos', pos), layer.param('b', 'pos', pos), zplus, n, ws.convScratch);
    const anyNegative = k.gammaDivide(s.r, s.z, zplus, gp, gn, len, g, STABILIZER);
    reducePair(s, gp, xp, wu, 0, 0, 1);
    if (anyNegative) reducePair(s, gn, xp, wd(), 0, 0, 1);
    return;
  }
  const zp = ws.scratchOut[0];
  const zn = ws.scratchOut[1];
  affinePair(s, xp, wu, layer.param('b', `gu${g}`, gammaUp(g)), xn, wd(), zp);
  affinePair(s, xp, wd(), layer.param('b', `gd${g}`, gammaDown(g)), xn, wu, zn);
  k.stabDivideMasked(s.r, zp, s.z, gp, len, STABILIZER, 1);
  reducePair(s, gp, xp, wu, xn, wd(), 1);
  k.stabDivideMasked(s.r, zn, s.z, gp, len, STABILIZER, -1);
  if (k.hasNonZero(gp, len)) reducePair(s, gp, xp, wd(), xn, wu, 1);
}

/**
 * Rules whose denominator does not depend on the input: flat (d = f(1; ones, 0)) and wsquare
 * (d = f(1; W², b²)). d is computed once per batch capacity; R_in = J^T(R / stab(d); W').
 */
function precomputedDenominator(s: LinearStep, key: string, wMap: (v: number) => number, bMap: (v: number) => number): void {
  const { layer, ws, n } = s;
  const k = ws.backend.kernels;
  const w = layer.param('w', key, wMap);
  const b = key === 'flat' ? 0 : layer.param('b', key, bMap);
  const d = ws.constant(`${layer.node.name}|${key}`, ws.capacity * layer.outSize, (p) =>
    layer.forward(ws.ones, w, b, p, ws.capacity, ws.convScratch),
  );
  const g = ws.scratchOut[2];
  k.stabDivide(s.r, d, g, n * layer.outSize, STABILIZER);
  layer.transpose(g, w, s.relIn, n, true, ws.convScratch);
}

/**
 * zbox: d = f(x; W, b) − f(L; W+, b+) − f(H; W−, b−); g = R / stab(d);
 * R_in = x J^T(g; W) − L J^T(g; W+) − H J^T(g; W−). The L/H terms are constants per capacity.
 */
function zbox(s: LinearStep, box: BoxBounds): void {
  const { layer, ws, n } = s;
  const k = ws.backend.kernels;
  const inLen = ws.capacity * layer.inSize;
  const fillBound = (values: Float32Array) => (p: number) => {
    const f32 = ws.backend.memory.f32();
    for (let i = 0; i < ws.capacity; i++) f32.set(values, (p >>> 2) + i * layer.inSize);
  };
  const L = ws.constant(`${layer.node.name}|zbox-low|${box.key}`, inLen, fillBound(box.low));
  const H = ws.constant(`${layer.node.name}|zbox-high|${box.key}`, inLen, fillBound(box.high));
  const wp = layer.param('w', 'pos', pos);
  const wn = layer.param('w', 'neg', neg);
  const negOffset = ws.constant(`${layer.node.name}|zbox-offset|${box.key}`, ws.capacity * layer.outSize, (p) => {
    const t = ws.scratchOut[2]; // free until g below
    const len = ws.capacity * layer.outSize;
    layer.forward(L, wp, layer.param('b', 'pos', pos), p, ws.capacity, ws.convScratch);
    layer.forward(H, wn, layer.param('b', 'neg', neg), t, ws.capacity, ws.convScratch);
    k.add(p, t, p, len);
    k.mulAcc(p, ws.ones, p, len, -2); // p = -p
  });
  const len = n * layer.outSize;
  const d = ws.scratchOut[0];
  const g = ws.scratchOut[2];
  k.add(s.z, negOffset, d, len);
  k.stabDivide(s.r, d, g, len, STABILIZER);
  reducePair(s, g, s.x, layer.weight(), 0, 0, 1);
  reducePair(s, g, L, wp, H, wn, -1);
}
