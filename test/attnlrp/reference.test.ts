// The float64 reference (src/reference/attnlrp.ts) checked on its own: its gradient rules against finite
// differences of its forward, its AttnLRP rules against their defining equations (Taylor terms computed by
// finite differences, conservation sums), and the walk's bookkeeping over whole tiny transformers.
import { describe, expect, it } from 'vitest';
import { InputError, RuleError, UnsupportedError } from '../../src/errors.js';
import { MODEL_INPUT } from '../../src/graph/ir.js';
import { mulberry32, normal } from '../../src/evaluate/random.js';
import { referenceExplain, relevanceNode } from '../../src/reference/attnlrp.js';
import { forwardF64, forwardNode } from '../../src/reference/forward-f64.js';
import { stab, type NodeF64, type Tensor64 } from '../../src/reference/nodes-f64.js';
import { rules } from '../../src/rules.js';
import { allGradient, attnlrpRules, centralDiff, relErr } from './helpers.js';
import { TEXT, tinyInputs, tinyText, tinyVit, VIT } from './tiny-transformers.js';

const gauss = normal(mulberry32(99));
const randT = (shape: number[], scale = 1): Tensor64 => ({ shape, data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => gauss() * scale) });
const sum = (a: ArrayLike<number>) => Array.prototype.reduce.call(a, (s: number, v: number) => s + v, 0) as number;
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

const layerNorm = (weight: boolean, bias: boolean): NodeF64 => ({
  op: 'layernorm', name: 'ln', inputs: ['x'], features: 5, epsilon: 1e-5,
  weight: weight ? Float32Array.from({ length: 5 }, () => 1 + 0.3 * gauss()) : null,
  bias: bias ? Float32Array.from({ length: 5 }, () => 0.2 * gauss()) : null,
});
const softmax: NodeF64 = { op: 'softmax', name: 'sm', inputs: ['x'] };
const matmul: NodeF64 = { op: 'matmul', name: 'mm', inputs: ['a', 'b'] };

describe('float64 reference: gradient rules are the vector-Jacobian products of its forward', () => {
  // for each op: Σ_j R_j ∂y_j/∂x_i by central differences of forwardNode equals the gradient rule
  const cases: Array<[string, NodeF64, Tensor64[]]> = [
    ['layernorm (weight, bias)', layerNorm(true, true), [randT([3, 5])]],
    ['layernorm (no affine)', layerNorm(false, false), [randT([2, 5], 3)]],
    ['softmax', softmax, [randT([2, 3, 7], 2)]],
    ['matmul', matmul, [randT([2, 3, 4]), randT([2, 4, 5])]],
    ['dense rank 2', { op: 'dense', name: 'd', inputs: ['x'], inFeatures: 4, outFeatures: 3, weight: Float32Array.from({ length: 12 }, gauss), bias: Float32Array.of(0.1, -0.2, 0.3) }, [randT([5, 4])]],
    ['gelu', { op: 'activation', name: 'g', inputs: ['x'], fn: 'gelu' }, [randT([9], 2)]],
    ['gelu-tanh', { op: 'activation', name: 'g', inputs: ['x'], fn: 'gelu-tanh' }, [randT([9], 2)]],
    ['tanh', { op: 'activation', name: 't', inputs: ['x'], fn: 'tanh' }, [randT([9], 2)]],
  ];
  for (const [label, node, ins] of cases)
    it(label, () => {
      const out = forwardNode(node, ins);
      const R = randT(out.shape).data;
      const sent = relevanceNode(node, rules.gradient(), ins, out, R);
      ins.forEach((t, k) => {
        const fd = centralDiff((v) => dot(R, forwardNode(node, ins.map((u, j) => (j === k ? { shape: u.shape, data: v } : u))).data), t.data);
        expect(relErr(sent[k]!, fd)).toBeLessThan(1e-7);
      });
    });
});

describe('float64 reference: AttnLRP rules follow their equations', () => {
  it('layer norm: R_x = x ⊙ Jᵀ(R / stab(y)) with the standard deviation held constant (Taylor term by finite differences)', () => {
    const node = layerNorm(true, true) as Extract<NodeF64, { op: 'layernorm' }>;
    const x = randT([3, 5], 2);
    const out = forwardNode(node, [x]);
    const R = randT(out.shape).data;
    const [rx] = relevanceNode(node, rules.attnlrp(), [x], out, R);
    const c = R.map((r, i) => r / stab(out.data[i], 1e-6));
    // the layer with each row's std frozen at x's value: a linear map of x' (plus the bias)
    const frozen = (v: Float64Array) => {
      let total = 0;
      for (let r = 0; r < 3; r++) {
        const row = x.data.subarray(r * 5, r * 5 + 5), rowV = v.subarray(r * 5, r * 5 + 5);
        const m = sum(row) / 5, std = Math.sqrt(row.reduce((s, u) => s + (u - m) ** 2, 0) / 5 + node.epsilon);
        const mv = sum(rowV) / 5;
        for (let i = 0; i < 5; i++) total += c[r * 5 + i] * (((rowV[i] - mv) / std) * node.weight![i] + node.bias![i]);
      }
      return total;
    };
    const taylor = centralDiff(frozen, x.data).map((g, i) => g * x.data[i]);
    expect(relErr(rx!, taylor)).toBeLessThan(1e-8);
    // conservation as the contract states it: Σ R_x = Σ R·(y − b)/stab(y)
    const expected = sum(R.map((r, i) => (r * (out.data[i] - node.bias![i % 5])) / stab(out.data[i], 1e-6)));
    expect(sum(rx!)).toBeCloseTo(expected, 10);
  });

  it('softmax: R_x = x ⊙ (R − s Σ_row R) = x ⊙ Jᵀ(R / s), the Deep Taylor term at x (Prop. 3.1)', () => {
    const x = randT([2, 6], 2);
    const out = forwardNode(softmax, [x]);
    const R = randT(out.shape).data;
    const [rx] = relevanceNode(softmax, rules.attnlrp(), [x], out, R);
    const [grad] = relevanceNode(softmax, rules.gradient(), [x], out, R.map((r, i) => r / out.data[i]));
    expect(relErr(rx!, grad!.map((g, i) => g * x.data[i]))).toBeLessThan(1e-12);
    // what the bias term keeps: per row Σ R_x = Σ x R − (Σ x s)(Σ R)
    for (let r = 0; r < 2; r++) {
      const row = (a: Float64Array) => a.subarray(r * 6, r * 6 + 6);
      expect(sum(row(rx!))).toBeCloseTo(dot(row(x.data), row(R)) - dot(row(x.data), row(out.data)) * sum(row(R)), 12);
    }
  });

  it('matmul: epsilon then uniform (Prop. 3.3): each factor gets A ⊙ ∂(Σ C⊙O)/∂A with C = R / stab(2·O), and Σ R_A + Σ R_B = Σ R·2O/stab(2O)', () => {
    const a = randT([2, 3, 4]), b = randT([2, 4, 5]);
    const out = forwardNode(matmul, [a, b]);
    const R = randT(out.shape).data;
    const [ra, rb] = relevanceNode(matmul, rules.attnlrp(), [a, b], out, R);
    const C = R.map((r, i) => r / stab(2 * out.data[i], 1e-6));
    const da = centralDiff((v) => dot(C, forwardNode(matmul, [{ shape: a.shape, data: v }, b]).data), a.data);
    const db = centralDiff((v) => dot(C, forwardNode(matmul, [a, { shape: b.shape, data: v }]).data), b.data);
    expect(relErr(ra!, da.map((g, i) => g * a.data[i]))).toBeLessThan(1e-8);
    expect(relErr(rb!, db.map((g, i) => g * b.data[i]))).toBeLessThan(1e-8);
    expect(sum(ra!) + sum(rb!)).toBeCloseTo(sum(R.map((r, i) => (r * 2 * out.data[i]) / stab(2 * out.data[i], 1e-6))), 10);
    // the two factors get the same total: the uniform split
    expect(sum(ra!)).toBeCloseTo(sum(rb!), 10);
  });

  it('a custom stabiliser is used', () => {
    const a = randT([1, 2, 2], 1e-3), b = randT([1, 2, 2], 1e-3);
    const out = forwardNode(matmul, [a, b]);
    const R = new Float64Array(4).fill(1);
    const [ra1] = relevanceNode(matmul, rules.attnlrp(), [a, b], out, R);
    const [ra2] = relevanceNode(matmul, rules.attnlrp(1e-2), [a, b], out, R);
    expect(relErr(ra2!, ra1!)).toBeGreaterThan(0.5);
  });

  it('element-wise product: uniform gives each factor half; a per-channel gate collects its half over the channel', () => {
    const mul: NodeF64 = { op: 'mul', name: 'm', inputs: ['x', 'g'], pattern: 'gate' };
    const x = randT([2, 3, 1]), g = randT([2, 1, 1]);
    const out = forwardNode(mul, [x, g]);
    const R = randT(out.shape).data;
    const [rx, rg] = relevanceNode(mul, rules.uniform(), [x, g], out, R);
    expect(Array.from(rx!)).toEqual(Array.from(R, (r) => r / 2));
    expect(rg![0]).toBeCloseTo((R[0] + R[1] + R[2]) / 2, 14);
    expect(rg![1]).toBeCloseTo((R[3] + R[4] + R[5]) / 2, 14);
  });

  it('embedding: each token gets the sum of its vector, and a constant absorbs', () => {
    const emb: NodeF64 = { op: 'embedding', name: 'e', inputs: ['ids'], vocab: 4, dim: 3, table: Float32Array.from({ length: 12 }, gauss) };
    const ids: Tensor64 = { shape: [2], data: Float64Array.of(3, 1) };
    const out = forwardNode(emb, [ids]);
    expect(Array.from(out.data.subarray(0, 3))).toEqual(Array.from((emb as { table: Float32Array }).table.subarray(9, 12)));
    const R = Float64Array.of(1, 2, 3, 4, 5, 6);
    expect(Array.from(relevanceNode(emb, rules.pass(), [ids], out, R)[0]!)).toEqual([6, 15]);
    const cst: NodeF64 = { op: 'constant', name: 'c', inputs: [], shape: [2], value: Float32Array.of(1, 2) };
    expect(relevanceNode(cst, rules.pass(), [], forwardNode(cst, []), Float64Array.of(1, 1))).toEqual([]);
  });
});

describe('float64 reference: whole tiny transformers', () => {
  it('ViT: the all-gradient walk is the input gradient (central differences of the float64 forward)', () => {
    const graph = tinyVit({ gelu: 'gelu-tanh' });
    const x = tinyInputs('vit', 1);
    for (const target of [3]) {
      const ref = referenceExplain(graph, x, 1, { rules: allGradient(graph), targets: [target], start: 'onehot' });
      const fd = centralDiff((v) => forwardF64(graph, v).get(graph.output)!.data[target], Float64Array.from(x));
      expect(relErr(ref.relevance, fd)).toBeLessThan(1e-7);
    }
  });

  it('text model: the all-gradient walk at the embedding output is the gradient with respect to it', () => {
    const graph = tinyText();
    const ids = tinyInputs('text', 1);
    const ref = referenceExplain(graph, ids, 1, { rules: allGradient(graph), targets: [1], start: 'onehot' });
    const e0 = forwardF64(graph, ids).get('embed')!;
    const fd = centralDiff((v) => forwardF64(graph, ids, 0, new Map([['embed', { shape: e0.shape, data: v }]])).get(graph.output)!.data[1], e0.data);
    expect(relErr(ref.layers.get('embed')!, fd)).toBeLessThan(1e-7);
    // pass at the embedding: per-token sums of that gradient
    for (let t = 0; t < TEXT.T; t++) expect(ref.relevance[t]).toBeCloseTo(sum(fd.subarray(t * TEXT.D, (t + 1) * TEXT.D)), 6);
  });

  it('AttnLRP on the bias-free models: the inputs get the start minus what the softmax bias terms and the constants (class token) keep', () => {
    for (const [graph, x] of [[tinyVit({ biasFree: true }), tinyInputs('vit', 2)], [tinyText({ biasFree: true }), tinyInputs('text', 2)]] as const) {
      const ref = referenceExplain(graph, x, 2, { rules: attnlrpRules(graph), targets: [0, 1] });
      const inSize = x.length / 2;
      for (let s = 0; s < 2; s++) {
        const start = ref.logits[s * (ref.logits.length / 2) + s];
        // the softmax's bias term: relevance at its output minus what it sends to its input
        const per = (name: string) => ref.layers.get(name)!.subarray((s * ref.layers.get(name)!.length) / 2, ((s + 1) * ref.layers.get(name)!.length) / 2);
        const constants = graph.nodes.filter((n) => n.op === 'constant').reduce((t, n) => t + sum(per(n.name)), 0);
        const kept = sum(per('attn')) - sum(per('scale')) + constants;
        const inputSum = sum(ref.relevance.subarray(s * inSize, (s + 1) * inSize));
        expect(Math.abs(kept)).toBeGreaterThan(1e-3 * Math.abs(start)); // the check below is not vacuous
        expect(Math.abs(inputSum - (start - kept))).toBeLessThan(1e-4 * Math.abs(start));
      }
    }
  });

  it('reads a batch sample by sample', () => {
    const graph = tinyVit();
    const x = tinyInputs('vit', 3);
    const all = referenceExplain(graph, x, 3, { rules: attnlrpRules(graph), targets: [4, 0, 2] });
    const one = referenceExplain(graph, x.subarray(VIT.C * 64 * 2), 1, { rules: attnlrpRules(graph), targets: [2] });
    expect(Array.from(all.relevance.subarray(VIT.C * 64 * 2))).toEqual(Array.from(one.relevance));
  });

  it('refuses bad ids, rules it does not have, and ops it does not cover, with typed errors', () => {
    const graph = tinyText();
    const ids = tinyInputs('text', 1);
    ids[2] = 11;
    expect(() => forwardF64(graph, ids)).toThrow(InputError);
    expect(() => forwardF64(graph, ids)).toThrow(/position 2/);
    ids[2] = 1.5;
    expect(() => forwardF64(graph, ids)).toThrow(InputError);
    const good = tinyInputs('text', 1);
    const bad = attnlrpRules(graph).set('attn', rules.epsilon());
    expect(() => referenceExplain(graph, good, 1, { rules: bad, targets: [0] })).toThrow(RuleError);
    const up: NodeF64 = { op: 'upsample', name: 'u', inputs: [MODEL_INPUT], scale: [2, 2] };
    expect(() => forwardNode(up, [randT([1, 2, 2])])).toThrow(UnsupportedError);
  });
});
