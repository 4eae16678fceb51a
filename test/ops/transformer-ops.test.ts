// The transformer ops of this module set on small hand-built IR graphs: layernorm and softmax (forward, the
// AttnLRP and gradient rules, each against its formula computed here in float64), dense over [T, D] (equal to T
// separate denses for every dense rule), bad shapes, and the attnlrp preset on a fixture model.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends.js';
import { canonicalize, composites, loadModel, Model, rules, ShapeError, type Graph, type GraphNode, type Rule } from '../../src/index.js';
import { randArray } from '../kernels/harness.js';
import { modelDir, readF32 } from '../helpers/fixtures.js';

const live: Model[] = [];
afterAll(() => live.forEach((m) => m.dispose()));

async function build(nodes: GraphNode[], inputShape: number[], output = nodes[nodes.length - 1].name): Promise<Model> {
  const graph: Graph = { name: 'ops', inputShape, inputLayout: 'NCHW', nodes, output, notes: [], format: 'lrp-json' };
  const m = new Model(canonicalize(graph), await createBackend('wasm'));
  live.push(m);
  return m;
}

/** |got − want| ≤ tol·max(1, |want|) everywhere, with a message naming the first bad index. */
function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, label: string): void {
  expect(got.length, label).toBe(want.length);
  let bad = -1;
  for (let i = 0; i < want.length && bad < 0; i++) if (!(Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])))) bad = i;
  expect(bad, `${label}: index ${bad}: got ${got[bad]}, want ${want[bad]}`).toBe(-1);
}

const N = 2, T = 3, D = 7;
const X = randArray(N * T * D, 11, -2, 2);

/** Per row of D values (float64): mean and 1/sqrt(var + eps). */
function rowStats(x: ArrayLike<number>, at: number, F: number, eps: number): { mean: number; inv: number } {
  let mean = 0;
  for (let i = 0; i < F; i++) mean += x[at + i] / F;
  let v = 0;
  for (let i = 0; i < F; i++) v += (x[at + i] - mean) ** 2 / F;
  return { mean, inv: 1 / Math.sqrt(v + eps) };
}

/** Output relevance with both signs, none tiny: |R| in [0.2, 1]. */
function startRelevance(len: number, seed: number): Float32Array {
  return randArray(len, seed, 0.2, 1).map((v, i) => (i % 3 === 1 ? -v : v));
}

describe('layernorm', () => {
  const eps = 1e-5;
  const weight = randArray(D, 21, 0.5, 1.5).map((v, i) => (i === 2 ? -v : v));
  const bias = randArray(D, 22, -0.5, 0.5);
  const lnGraph = (w: Float32Array | null, b: Float32Array | null): GraphNode[] => [
    { name: 'ln', op: 'layernorm', inputs: ['input'], features: D, epsilon: eps, weight: w, bias: b },
    { name: 'out', op: 'reshape', inputs: ['ln'], shape: [T * D] },
  ];

  /** y in float64, per the definition. */
  function forward(x: Float32Array, w: Float32Array | null, b: Float32Array | null): Float64Array {
    const y = new Float64Array(x.length);
    for (let r = 0; r < x.length / D; r++) {
      const { mean, inv } = rowStats(x, r * D, D, eps);
      for (let i = 0; i < D; i++) y[r * D + i] = (x[r * D + i] - mean) * inv * (w ? w[i] : 1) + (b ? b[i] : 0);
    }
    return y;
  }

  /** out_i = Σ_j g_j J_ji for each row, J the Jacobian given by `jac(i, j, row)`. */
  function vjp(g: ArrayLike<number>, jac: (i: number, j: number, row: number) => number, scaleByX: ArrayLike<number> | null): Float64Array {
    const out = new Float64Array(g.length);
    for (let r = 0; r < g.length / D; r++)
      for (let i = 0; i < D; i++) {
        let s = 0;
        for (let j = 0; j < D; j++) s += g[r * D + j] * jac(i, j, r);
        out[r * D + i] = scaleByX ? scaleByX[r * D + i] * s : s;
      }
    return out;
  }

  it('forward equals the float64 formula, with and without weight and bias', async () => {
    for (const [w, b] of [[weight, bias], [null, null], [weight, null]] as const) {
      const m = await build(lnGraph(w, b), [T, D]);
      expectNear(m.predict(X), forward(X, w, b), 1e-6, `weight ${!!w} bias ${!!b}`);
    }
  });

  it('attnlrp: R_x = x ⊙ Jᵀ(R / stab(y)), J the Jacobian at a constant std', async () => {
    const m = await build(lnGraph(weight, bias), [T, D]);
    const R = startRelevance(N * T * D, 31);
    const e = m.explain(X, { start: R, composite: 'attnlrp' });
    const y = e.logits; // the forward output, as the engine holds it
    const c = Float64Array.from(R, (r, k) => r / (y[k] + (y[k] >= 0 ? 1e-6 : -1e-6)));
    const inv = (row: number) => rowStats(X, row * D, D, eps).inv;
    const want = vjp(c, (i, j, row) => (weight[j] * inv(row) * ((i === j ? 1 : 0) - 1 / D)), X);
    expectNear(e.relevance, want, 1e-5, 'attnlrp');
    // the rule is the preset's and every composite's default
    expect(m.explain(X, { start: R }).relevance).toEqual(e.relevance);
    expect(m.explain(X, { start: R, composite: composites.custom({ layerNorm: rules.attnlrp() }) }).relevance).toEqual(e.relevance);
    // a larger stabiliser changes the result as its formula says
    const big = m.explain(X, { start: R, composite: composites.custom({ layerNorm: rules.attnlrp(0.5) }) });
    const c2 = Float64Array.from(R, (r, k) => r / (y[k] + (y[k] >= 0 ? 0.5 : -0.5)));
    expectNear(big.relevance, vjp(c2, (i, j, row) => (weight[j] * inv(row) * ((i === j ? 1 : 0) - 1 / D)), X), 1e-5, 'attnlrp(0.5)');
  });

  it('attnlrp conserves relevance without a bias', async () => {
    const m = await build(lnGraph(weight, null), [T, D]);
    const y = m.predict(X);
    const R = y.map(Math.abs); // positive relevance, none tiny relative to its output
    const e = m.explain(X, { start: R, composite: 'attnlrp' });
    for (let s = 0; s < N; s++) {
      expect(Math.abs(e.sums.input[s] - e.sums.start[s])).toBeLessThanOrEqual(1e-5 * Math.abs(e.sums.start[s]));
    }
    // with a bias, the bias term keeps Σ R·b/stab(y) (not conserving)
    const mb = await build(lnGraph(weight, bias), [T, D]);
    const eb = mb.explain(X, { start: mb.predict(X).map(Math.abs), composite: 'attnlrp' });
    expect(Math.abs(eb.sums.input[0] - eb.sums.start[0])).toBeGreaterThan(1e-3);
  });

  it('gradient: the exact vector-Jacobian product (variance included)', async () => {
    const m = await build(lnGraph(weight, bias), [T, D]);
    const G = startRelevance(N * T * D, 41);
    const e = m.explain(X, { start: G, composite: composites.custom({ layerNorm: rules.gradient() }) });
    const jac = (i: number, j: number, row: number) => {
      const { mean, inv } = rowStats(X, row * D, D, eps);
      const xi = (X[row * D + i] - mean) * inv, xj = (X[row * D + j] - mean) * inv;
      return weight[j] * inv * ((i === j ? 1 : 0) - 1 / D - (xi * xj) / D);
    };
    expectNear(e.relevance, vjp(G, jac, null), 1e-5, 'gradient');
    // and by finite differences of the float64 forward
    const h = 1e-6;
    const fd = new Float64Array(X.length);
    for (let k = 0; k < X.length; k++) {
      const plus = Float64Array.from(X), minus = Float64Array.from(X);
      plus[k] += h;
      minus[k] -= h;
      const fp = forward(plus as unknown as Float32Array, weight, bias), fm = forward(minus as unknown as Float32Array, weight, bias);
      let s = 0;
      for (let j = 0; j < X.length; j++) s += G[j] * (fp[j] - fm[j]);
      fd[k] = s / (2 * h);
    }
    expectNear(e.relevance, fd, 1e-5, 'gradient vs finite differences');
  });

  it('describe() names the rule and the layer', async () => {
    const m = await build(lnGraph(weight, null), [T, D]);
    const text = m.describe({ composite: 'attnlrp' });
    expect(text).toMatch(/layernorm/);
    expect(text).toMatch(/7 features, eps 0\.00001, no bias/);
    expect(text).toMatch(/attnlrp/);
  });

  it('bad shapes and parameters are ShapeErrors naming the node', async () => {
    const ln = (o: object) => [{ name: 'ln1', op: 'layernorm', inputs: ['input'], features: D, epsilon: eps, weight: null, bias: null, ...o }] as GraphNode[];
    await expect(build(ln({ features: 5 }), [T, D])).rejects.toThrow(new ShapeError("layernorm node 'ln1' normalises the last axis of 5 features, got shape [3, 7]"));
    await expect(build(ln({ weight: new Float32Array(6) }), [T, D])).rejects.toThrow(/layernorm node 'ln1': weight has 6 values, expected 7/);
    await expect(build(ln({ bias: new Float32Array(8) }), [T, D])).rejects.toThrow(/layernorm node 'ln1': bias has 8 values, expected 7/);
    await expect(build(ln({ epsilon: -1 }), [T, D])).rejects.toThrow(/layernorm node 'ln1': epsilon must be a finite number ≥ 0, got -1/);
    await expect(build(ln({ features: 0 }), [T, D])).rejects.toThrow(ShapeError);
  });
});

describe('softmax', () => {
  const smGraph: GraphNode[] = [
    { name: 'sm', op: 'softmax', inputs: ['input'] },
    { name: 'out', op: 'reshape', inputs: ['sm'], shape: [T * D] },
  ];
  const XS = randArray(N * T * D, 51, -4, 4);

  function forward(x: ArrayLike<number>): Float64Array {
    const y = new Float64Array(x.length);
    for (let r = 0; r < x.length / D; r++) {
      let max = -Infinity;
      for (let i = 0; i < D; i++) max = Math.max(max, x[r * D + i]);
      let sum = 0;
      for (let i = 0; i < D; i++) sum += Math.exp(x[r * D + i] - max);
      for (let i = 0; i < D; i++) y[r * D + i] = Math.exp(x[r * D + i] - max) / sum;
    }
    return y;
  }

  it('forward equals the float64 formula; a softmax inside the graph stays, a final one is removed', async () => {
    const m = await build(smGraph, [T, D]);
    expectNear(m.predict(XS), forward(XS), 1e-6, 'softmax');
    expect(m.graph.nodes.map((n) => n.op)).toEqual(['softmax', 'reshape']);
    const last = await build([{ name: 'fc', op: 'dense', inputs: ['input'], inFeatures: D, outFeatures: 4, weight: randArray(28, 3), bias: null }, { name: 'p', op: 'softmax', inputs: ['fc'] }], [D]);
    expect(last.graph.nodes.map((n) => n.op)).toEqual(['dense']);
    expect(last.graph.notes.join('\n')).toMatch(/removed the final softmax 'p'/);
  });

  it('attnlrp: R_x = x ⊙ (R − s ⊙ Σ_row R) (AttnLRP Prop. 3.1)', async () => {
    const m = await build(smGraph, [T, D]);
    const R = startRelevance(N * T * D, 61);
    const e = m.explain(XS, { start: R, composite: 'attnlrp' });
    const s = m.predict(XS);
    const want = new Float64Array(XS.length);
    for (let r = 0; r < XS.length / D; r++) {
      let total = 0;
      for (let j = 0; j < D; j++) total += R[r * D + j];
      for (let i = 0; i < D; i++) want[r * D + i] = XS[r * D + i] * (R[r * D + i] - s[r * D + i] * total);
    }
    expectNear(e.relevance, want, 1e-5, 'softmax attnlrp');
    expect(m.explain(XS, { start: R }).relevance).toEqual(e.relevance);
  });

  it('gradient: equal to finite differences of the float64 softmax', async () => {
    const m = await build(smGraph, [T, D]);
    const G = startRelevance(N * T * D, 71);
    const e = m.explain(XS, { start: G, composite: composites.custom({ softmax: rules.gradient() }) });
    const h = 1e-6;
    const fd = new Float64Array(XS.length);
    for (let k = 0; k < XS.length; k++) {
      const plus = Float64Array.from(XS), minus = Float64Array.from(XS);
      plus[k] += h;
      minus[k] -= h;
      const fp = forward(plus), fm = forward(minus);
      let d = 0;
      for (let j = 0; j < XS.length; j++) d += G[j] * (fp[j] - fm[j]);
      fd[k] = d / (2 * h);
    }
    expectNear(e.relevance, fd, 1e-5, 'softmax gradient');
    let scale = 0;
    for (const v of fd) scale = Math.max(scale, Math.abs(v));
    expect(scale).toBeGreaterThan(0.05); // not vacuous
  });

  it('a rule softmax does not accept is a RuleError naming the key', () => {
    expect(() => composites.custom({ softmax: rules.epsilon() })).toThrow(/composite\.softmax: rule 'epsilon' does not apply to softmax inside the graph \(allowed: attnlrp, gradient\)/);
    expect(() => composites.custom({ layerNorm: rules.zPlus() })).toThrow(/composite\.layerNorm: rule 'zplus' does not apply to layer norms/);
  });
});

describe('dense over [T, D]', () => {
  const O = 5;
  const W = randArray(O * D, 81, -1, 1);
  const B = randArray(O, 82, -0.3, 0.3);
  const XP = randArray(N * T * D, 83, 0, 1.5); // non-negative (after a ReLU): the rules' x ≥ 0 paths
  const RULES: Array<[string, Rule]> = [
    ['epsilon', rules.epsilon(0.01)],
    ['gamma', rules.gamma(0.25)],
    ['alphabeta', rules.alphaBeta(2, 1)],
    ['zplus', rules.zPlus()],
    ['zbox', rules.zBox(-2, 2)],
    ['wsquare', rules.wSquare()],
    ['flat', rules.flat()],
    ['gradient', rules.gradient()],
  ];

  it('output shape [T, O]; a wrong last axis is a ShapeError naming the node', async () => {
    const m = await build([{ name: 'fc', op: 'dense', inputs: ['input'], inFeatures: D, outFeatures: O, weight: W, bias: B }], [T, D]);
    expect(m.outputSize).toBe(T * O);
    await expect(build([{ name: 'fcx', op: 'dense', inputs: ['input'], inFeatures: D + 1, outFeatures: O, weight: randArray(O * (D + 1), 1), bias: null }], [T, D])).rejects.toThrow(
      new ShapeError("dense node 'fcx' expects 8 input features in the last axis, got shape [3, 7]"),
    );
  });

  it.each(RULES)('%s: equal to T separate rank-1 denses (signed and non-negative inputs)', async (_name, rule) => {
    const seq = await build([{ name: 'fc', op: 'dense', inputs: ['input'], inFeatures: D, outFeatures: O, weight: W, bias: B }], [T, D]);
    const one = await build([{ name: 'fc', op: 'dense', inputs: ['input'], inFeatures: D, outFeatures: O, weight: W, bias: B }], [D]);
    for (const x of [X, XP]) {
      const R = startRelevance(N * T * O, 91);
      const a = seq.explain(x, { rule, start: R, low: -2, high: 2, checkRange: false });
      const b = one.explain(x, { rule, start: R, low: -2, high: 2, checkRange: false });
      expect(a.logits).toEqual(b.logits);
      expect(a.relevance).toEqual(b.relevance);
      expect(a.relevance.some((v) => v !== 0)).toBe(true);
    }
  });

  it('channels-last [H, W, C] input: the same as per-position denses', async () => {
    const C = 4, H = 2, Wd = 3;
    const w = randArray(O * C, 95, -1, 1);
    const x = randArray(H * Wd * C, 96, -1, 1);
    const m = await build([{ name: 'fc', op: 'dense', inputs: ['input'], inFeatures: C, outFeatures: O, weight: w, bias: null }], [H, Wd, C]);
    const y = m.predict(x);
    const want = new Float64Array(H * Wd * O);
    for (let p = 0; p < H * Wd; p++) for (let o = 0; o < O; o++) for (let c = 0; c < C; c++) want[p * O + o] += w[o * C + c] * x[p * C + c];
    expectNear(y, want, 1e-6, 'dense [H, W, C]');
  });
});

describe('the attnlrp preset', () => {
  it('on a CNN fixture: epsilon on every dense and conv layer (the paper setting)', async () => {
    const m = await loadModel(join(modelDir('cnn'), 'model.json'));
    live.push(m);
    const x = readF32('cnn', 'inputs.f32');
    const a = m.explain(x, { composite: 'attnlrp' });
    const b = m.explain(x, { rule: rules.epsilon(1e-6) });
    expect(a.relevance).toEqual(b.relevance);
    expect(a.relevance).not.toEqual(m.explain(x, { composite: 'epsilon-plus' }).relevance);
    expect(m.explain(x, { composite: 'AttnLRP' as 'attnlrp' }).relevance).toEqual(a.relevance);
    expect(composites.byName('attnlrp').name).toBe('attnlrp');
  });
});

describe('layernorm parameters', () => {
  it('a non-finite weight is refused when the model is built, naming the node', async () => {
    const w = new Float32Array(D).fill(1);
    w[3] = NaN;
    await expect(build([{ name: 'lnw', op: 'layernorm', inputs: ['input'], features: D, epsilon: 1e-5, weight: w, bias: null }], [T, D])).rejects.toThrow(
      /layernorm node 'lnw': weight holds NaN at index 3/,
    );
  });
});
