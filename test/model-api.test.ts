// The public API around explain(): batching, memory growth, start modes, and typed errors.
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, copyFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DisposedError, InputError, loadModel, ModelFormatError, RuleError, rules, UnsupportedError, type Model,
} from '../src/index.js';
import { modelDir, readF32 } from './helpers/fixtures.js';

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** Deterministic inputs in [0, 1): n samples of the mlp's 784 features. */
function inputs(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n * 784);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

describe('explain() on the mlp', () => {
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(`${modelDir('mlp')}/model.json`);
  });
  afterAll(() => model.dispose());

  it('describes the model', () => {
    expect(model.inputShape).toEqual([784]);
    expect(model.outputSize).toBe(10);
    const text = model.describe('epsilon-plus');
    expect(text).toMatch(/dense.*\[N, 300\].*epsilon\(1e-6\)/);
    expect(text).toMatch(/relu.*pass/);
  });

  it('gives the same per-sample relevance for a batch as one sample at a time', () => {
    const x = inputs(13);
    for (const rule of [rules.epsilon(0.25), rules.gamma(0.25), rules.alphaBeta(2, 1), rules.zBox(0, 1), rules.flat()]) {
      const all = model.explain(x, { rule, batch: 5 }); // 5 + 5 + 3: a partial last chunk
      for (let s = 0; s < 13; s++) {
        const one = model.explain(x.subarray(s * 784, (s + 1) * 784), { rule, batch: 1 });
        const part = all.relevance.subarray(s * 784, (s + 1) * 784);
        expect(maxAbsDiff(one.relevance, part) / maxAbs(one.relevance)).toBeLessThan(1e-5);
        expect(one.targets[0]).toBe(all.targets[s]);
      }
    }
  });

  it('still gives the right numbers after the WASM memory has grown', () => {
    const x = inputs(3, 7);
    const before = model.explain(x, { composite: 'epsilon-plus-flat' });
    const bytes = model.memoryBytes;
    model.explain(inputs(600, 9), { composite: 'epsilon-plus-flat', batch: 600 }); // a much larger workspace
    expect(model.memoryBytes).toBeGreaterThan(bytes);
    const after = model.explain(x, { composite: 'epsilon-plus-flat', batch: 2 });
    expect(maxAbsDiff(before.relevance, after.relevance)).toBeLessThanOrEqual(1e-6 * maxAbs(before.relevance));
  });

  it('start onehot is start logit divided by the target logit, and a custom start is linear', () => {
    const x = readF32('mlp', 'inputs.f32');
    for (const rule of [rules.epsilon(1e-6), rules.gamma(0.25), rules.zPlus(), rules.wSquare()]) {
      const a = model.explain(x, { rule, start: 'logit' });
      const b = model.explain(x, { rule, start: 'onehot' });
      for (let s = 0; s < 4; s++) {
        const t = a.targets[s];
        const logit = a.logits[s * 10 + t];
        expect(a.sums.start[s]).toBeCloseTo(logit, 6);
        expect(b.sums.start[s]).toBe(1);
        const ra = a.relevance.subarray(s * 784, (s + 1) * 784);
        const rb = b.relevance.subarray(s * 784, (s + 1) * 784).map((v) => v * logit);
        expect(maxAbsDiff(ra, rb) / maxAbs(ra)).toBeLessThan(1e-5);
      }
      const start = new Float32Array(40);
      for (let s = 0; s < 4; s++) start[s * 10 + a.targets[s]] = 2;
      const c = model.explain(x, { rule, start });
      expect(maxAbsDiff(c.relevance, b.relevance.map((v) => v * 2))).toBeLessThan(1e-5 * maxAbs(c.relevance));
    }
  });

  it('explains a chosen target and reports sums', () => {
    const x = inputs(2);
    const r = model.explain(x, { rule: rules.flat(), target: [3, 7] });
    expect(Array.from(r.targets)).toEqual([3, 7]);
    const scalar = model.explain(x, { rule: rules.flat(), target: 5 });
    expect(Array.from(scalar.targets)).toEqual([5, 5]);
    // flat passes the start relevance through the first layer; check sums match the returned relevance
    for (let s = 0; s < 2; s++) {
      const sum = r.relevance.subarray(s * 784, (s + 1) * 784).reduce((a, b) => a + b, 0);
      expect(r.sums.input[s]).toBeCloseTo(sum, 4);
    }
  });

  it('does not modify the caller arrays', () => {
    const x = inputs(2);
    const copy = x.slice();
    const start = new Float32Array(20).fill(0.5);
    const startCopy = start.slice();
    model.explain(x, { start, rule: rules.epsilon(0.1) });
    model.predict(x);
    expect(x).toEqual(copy);
    expect(start).toEqual(startCopy);
  });

  it('rejects bad input with typed errors', () => {
    const x = inputs(1);
    expect(() => model.explain(new Float32Array(783))).toThrow(InputError);
    expect(() => model.explain(new Float32Array(783))).toThrow(/783.*784/);
    expect(() => model.predict(new Float32Array(0))).toThrow(InputError);
    const nan = x.slice();
    nan[100] = NaN;
    expect(() => model.explain(nan)).toThrow(/NaN at sample 0, index 100/);
    const inf = x.slice();
    inf[5] = Infinity;
    expect(() => model.predict(inf)).toThrow(InputError);
    expect(() => model.explain(x, { target: 10 })).toThrow(/target 10.*out of range/);
    expect(() => model.explain(x, { target: -1 })).toThrow(InputError);
    expect(() => model.explain(x, { target: 1.5 })).toThrow(InputError);
    expect(() => model.explain(x, { target: [1, 2] })).toThrow(/2 entries.*1 samples/);
    expect(() => model.explain(x, { rule: { name: 'bogus' } as never })).toThrow(RuleError);
    expect(() => model.explain(x, { rule: { name: 'bogus' } as never })).toThrow(/unknown rule 'bogus'/);
    expect(() => rules.alphaBeta(2, 2)).toThrow(/alpha - beta must equal 1/);
    expect(() => model.explain(x, { rule: { name: 'alphabeta', alpha: 3, beta: 1 } as never })).toThrow(RuleError);
    expect(() => model.explain(x, { composite: 'epsilon-bogus' })).toThrow(/unknown composite/);
    expect(() => model.explain(x, { composite: 'epsilon-plus', rule: rules.zPlus() })).toThrow(RuleError);
    expect(() => model.explain(x, { start: 'sum' as never })).toThrow(InputError);
    expect(() => model.explain(x, { start: new Float32Array(3) })).toThrow(/start has 3 values/);
    expect(() => model.explain(x, { batch: 0 })).toThrow(InputError);
    expect(() => rules.epsilon(NaN)).toThrow(RuleError);
  });

  it('refuses to run after dispose', async () => {
    const m = await loadModel(`${modelDir('mlp')}/model.json`);
    m.dispose();
    expect(() => m.predict(inputs(1))).toThrow(DisposedError);
  });
});

describe('loading lrp model.json files', () => {
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'lrp-bad-'));
    const src = modelDir('mlp');
    mkdirSync(join(d, 'params'));
    for (const f of readdirSync(join(src, 'params'))) copyFileSync(join(src, 'params', f), join(d, 'params', f));
    return { d, json: JSON.parse(readFileSync(join(src, 'model.json'), 'utf8')) };
  };

  it('names a missing parameter file', async () => {
    const { d, json } = dir();
    json.layers[0].weight.file = 'params/nope.f32';
    writeFileSync(join(d, 'model.json'), JSON.stringify(json));
    await expect(loadModel(join(d, 'model.json'))).rejects.toThrow(ModelFormatError);
    await expect(loadModel(join(d, 'model.json'))).rejects.toThrow(/params\/nope\.f32/);
  });

  it('names a short parameter file', async () => {
    const { d, json } = dir();
    writeFileSync(join(d, 'params', '0.bias.f32'), new Uint8Array(12));
    writeFileSync(join(d, 'model.json'), JSON.stringify(json));
    await expect(loadModel(join(d, 'model.json'))).rejects.toThrow(/0\.bias\.f32' has 12 bytes, expected 1200/);
  });

  it('rejects malformed model.json', async () => {
    const { d, json } = dir();
    writeFileSync(join(d, 'model.json'), '{"format_version": 1, "layers": [');
    await expect(loadModel(join(d, 'model.json'))).rejects.toThrow(ModelFormatError);
    writeFileSync(join(d, 'model.json'), JSON.stringify({ ...json, format_version: 9 }));
    await expect(loadModel(join(d, 'model.json'))).rejects.toThrow(/format_version 9/);
    const bad = structuredClone(json);
    bad.layers[1].type = 'lstm';
    writeFileSync(join(d, 'model.json'), JSON.stringify(bad));
    await expect(loadModel(join(d, 'model.json'))).rejects.toThrow(UnsupportedError);
    const wrongShape = structuredClone(json);
    wrongShape.layers[2].in_features = 301;
    writeFileSync(join(d, 'model.json'), JSON.stringify(wrongShape));
    await expect(loadModel(join(d, 'model.json'))).rejects.toThrow(/expects 301 input features/);
    await expect(loadModel(join(d, 'missing.json'))).rejects.toThrow(/file not found/);
  });
});
