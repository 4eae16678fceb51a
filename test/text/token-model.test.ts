// A token model built by hand (embedding → flatten → dense), explained through the public Model and
// checked against LRP computed here in float64 from the weights.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends.js';
import { canonicalize, InputError, Model, type Graph } from '../../src/index.js';
import { linearModel } from '../evaluate/linear-model.js';

const V = 11; // vocabulary
const D = 4; // embedding dim
const T = 5; // tokens per sample
const C = 3; // classes
const wave = (n: number, phase: number, scale = 1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 2.399 + phase) * scale);
const table = wave(V * D, 0.3);
const weight = wave(C * T * D, 1.1, 0.8);
const bias = wave(C, 2.2, 0.2);

function tokenGraph(): Graph {
  return {
    name: 'token-linear',
    inputShape: [T],
    inputLayout: 'NCHW',
    nodes: [
      { name: 'embed', op: 'embedding', inputs: ['input'], vocab: V, dim: D, table },
      { name: 'flat', op: 'flatten', inputs: ['embed'] },
      { name: 'fc', op: 'dense', inputs: ['flat'], inFeatures: T * D, outFeatures: C, weight, bias },
    ] as Graph['nodes'],
    output: 'fc',
    notes: [],
    format: 'lrp-json',
  };
}

const IDS = [
  [3, 0, 10, 7, 7],
  [1, 2, 9, 4, 0],
];

/** Float64 reference: logits, and epsilon-LRP (Zennit: z + eps·sign(z), bias in z) summed per token. */
function reference(ids: number[], target: number | 'argmax', eps: number) {
  const e = new Float64Array(T * D);
  ids.forEach((id, t) => {
    for (let d = 0; d < D; d++) e[t * D + d] = table[id * D + d];
  });
  const z = Array.from({ length: C }, (_, c) => {
    let s = bias[c];
    for (let i = 0; i < T * D; i++) s += weight[c * T * D + i] * e[i];
    return s;
  });
  const c = target === 'argmax' ? z.indexOf(Math.max(...z)) : target;
  const denom = z[c] + eps * (z[c] >= 0 ? 1 : -1);
  const perValue = Float64Array.from(e, (v, i) => (v * weight[c * T * D + i] * z[c]) / denom);
  const perToken = Array.from({ length: T }, (_, t) => perValue.slice(t * D, (t + 1) * D).reduce((a, v) => a + v, 0));
  const gradient = Array.from({ length: T }, (_, t) => weight.slice(c * T * D + t * D, c * T * D + (t + 1) * D).reduce((a, v) => a + v, 0));
  const gradXInput = Array.from({ length: T }, (_, t) => {
    let s = 0;
    for (let d = 0; d < D; d++) s += weight[c * T * D + t * D + d] * e[t * D + d];
    return s;
  });
  return { z, c, perValue, perToken, gradient, gradXInput };
}

function closeTo(actual: ArrayLike<number>, expected: ArrayLike<number>, rel = 1e-4) {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(...Array.from(expected, Math.abs), 1e-12);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(rel * scale);
}

function inputError(fn: () => unknown, code = 'E_TOKEN_ID'): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).code).toBe(code);
    return e as InputError;
  }
  throw new Error('expected an InputError, nothing was thrown');
}

let model: Model;
beforeAll(async () => {
  model = new Model(canonicalize(tokenGraph()), await createBackend('wasm'));
});
afterAll(() => model.dispose());

describe('a token-id model', () => {
  it('says that it takes token ids, and how many', () => {
    expect(model.inputKind).toBe('tokens');
    expect(model.vocabSize).toBe(V);
    expect(model.inputShape).toEqual([T]);
  });

  it('predicts from Int32Array, number[], number[][] and Float32Array ids alike, equal to float64 logits', () => {
    const flat = IDS.flat();
    const a = model.predict(Int32Array.from(flat));
    for (const x of [flat, IDS, Float32Array.from(flat)]) expect(Array.from(model.predict(x))).toEqual(Array.from(a));
    IDS.forEach((ids, s) => closeTo(a.subarray(s * C, (s + 1) * C), reference(ids, 'argmax', 0).z, 1e-5));
  });

  it('explains one relevance per token ([N, T], layout "tokens"): epsilon-LRP summed over the embedding, as computed in float64', () => {
    const eps = 0.01;
    const r = model.explain(IDS, { rule: `epsilon:${eps}`, layers: true });
    expect(r.layout).toBe('tokens');
    expect(r.relevance.length).toBe(IDS.length * T);
    IDS.forEach((ids, s) => {
      const ref = reference(ids, 'argmax', eps);
      expect(r.targets[s]).toBe(ref.c);
      closeTo(r.relevance.subarray(s * T, (s + 1) * T), ref.perToken);
      // the embedding's output relevance [T, D] is the per-value LRP, and the tokens get its sums
      const atEmbedding = r.layers!.embed.subarray(s * T * D, (s + 1) * T * D);
      closeTo(atEmbedding, ref.perValue);
      const summed = Array.from({ length: T }, (_, t) => atEmbedding.subarray(t * D, (t + 1) * D).reduce((acc, v) => acc + v, 0));
      closeTo(r.relevance.subarray(s * T, (s + 1) * T), summed, 1e-6);
      expect(r.sums.input[s]).toBeCloseTo(ref.perToken.reduce((acc, v) => acc + v, 0), 4);
    });
    // another target, from Int32Array ids
    const r1 = model.explain(Int32Array.from(IDS[1]), { rule: `epsilon:${eps}`, target: 2 });
    closeTo(r1.relevance, reference(IDS[1], 2, eps).perToken);
  });

  it('attributes gradient (summed per token) and gradient × input (in the embedding space); refuses smoothgrad and integrated gradients', () => {
    const g = model.attribute(IDS, { method: 'gradient', start: 'onehot' });
    const gx = model.attribute(IDS, { method: 'gradient-x-input', start: 'onehot' });
    expect(gx.layout).toBe('tokens');
    IDS.forEach((ids, s) => {
      const ref = reference(ids, 'argmax', 0);
      closeTo(g.relevance.subarray(s * T, (s + 1) * T), ref.gradient);
      closeTo(gx.relevance.subarray(s * T, (s + 1) * T), ref.gradXInput);
      expect(gx.sums.input[s]).toBeCloseTo(ref.gradXInput.reduce((a, v) => a + v, 0), 4);
    });
    for (const method of ['smoothgrad', 'integrated-gradients'] as const)
      expect(inputError(() => model.attribute(IDS, { method }), 'E_INPUT').message).toMatch(/token ids are not.*'gradient' or 'gradient-x-input'/);
  });

  it('names the sample and position of a bad id, for every input form', () => {
    const tail = `is not an integer from 0 to ${V - 1} (the vocabulary size is ${V})`;
    expect(inputError(() => model.explain([[1, 2, 3, 4, 5], [1, 2, 11, 4, 5]])).message).toBe(`embedding node 'embed': token id 11 at sample 1, position 2 ${tail}`);
    expect(inputError(() => model.predict(Int32Array.from([0, 0, 0, 0, 0, 0, -1, 0, 0, 0]))).message).toBe(`embedding node 'embed': token id -1 at sample 1, position 1 ${tail}`);
    expect(inputError(() => model.predict(Float32Array.from([0, 0, 0, 2.5, 0]))).message).toBe(`embedding node 'embed': token id 2.5 at sample 0, position 3 ${tail}`);
    expect(inputError(() => model.predict([0, NaN, 0, 0, 0])).message).toBe(`embedding node 'embed': token id NaN at sample 0, position 1 ${tail}`);
    expect(inputError(() => model.attribute([[0, 0, 0, 0, '3' as unknown as number]], { method: 'gradient' })).message).toBe(`embedding node 'embed': token id "3" at sample 0, position 4 ${tail}`);
    expect(inputError(() => model.predict([[1, 2, 3]]), 'E_INPUT').message).toMatch(/sample 0 has 3 ids, the model takes 5 per sample/);
    expect(inputError(() => model.predict([1, 2, 3]), 'E_INPUT').message).toMatch(/3 token ids are not a whole number of samples of 5 ids/);
    expect(inputError(() => model.predict('hello' as unknown as number[]), 'E_INPUT').message).toMatch(/token ids must be/);
  });

  it('leaves the caller\'s ids as they were, and warms up on valid ids', () => {
    const ids = Int32Array.from(IDS.flat());
    const nested = IDS.map((row) => row.slice());
    model.explain(ids);
    model.explain(nested);
    expect(Array.from(ids)).toEqual(IDS.flat());
    expect(nested).toEqual(IDS);
    expect(() => model.warmup(3)).not.toThrow();
    expect(model.describe()).toMatch(/embed\s+embedding/);
  });
});

describe('a model that takes values', () => {
  it('reports inputKind values, layout NCHW, and refuses arrays per sample', async () => {
    const { model: linear } = await linearModel();
    try {
      expect(linear.inputKind).toBe('values');
      expect(linear.vocabSize).toBeNull();
      const x = new Float32Array(64).fill(0.5);
      expect(linear.explain(x).layout).toBe('NCHW');
      expect(inputError(() => linear.predict([Array.from(x)]), 'E_INPUT').message).toMatch(/arrays per sample are for token-id models/);
    } finally {
      linear.dispose();
    }
  });
});
