// D5: zbox bounds with low > high or low == high used to be accepted and gave meaningless
// relevance; now every way of passing them is refused, naming where (and which index).
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composites, loadModel, RuleError, rules, type Model } from '../../src/index.js';
import { lrp } from '../cli/helpers.js';
import { FASHION, inputs, lrpCopy, thrown } from './helpers.js';

describe('D5: zbox bounds must satisfy low < high', () => {
  let model: Model;
  const x = inputs(784 * 2);
  beforeAll(async () => {
    model = await loadModel(`${FASHION}/tfjs/model.json`);
  });
  afterAll(() => model.dispose());

  it('explain({ low, high }) with low > high or low == high', () => {
    for (const [low, high] of [[1, 0], [0.5, 0.5]]) {
      const e = thrown(() => model.explain(x, { composite: 'epsilon-gamma-box', low, high }));
      expect(e).toBeInstanceOf(RuleError);
      expect(e.message).toBe(`zbox: low must be below high for every input value, got low ${low} >= high ${high}`);
    }
    expect(model.explain(x, { composite: 'epsilon-gamma-box', low: 0, high: 1 }).relevance.every(Number.isFinite)).toBe(true);
  });

  it('rules.zBox(1, 0), and zbox without bounds given reversed ones by explain()', () => {
    expect(() => rules.zBox(1, 0)).toThrow(RuleError);
    expect(() => rules.zBox([0, 2], [1, 1])).toThrow(/low 2 >= high 1 at index 1/);
    const e = thrown(() => model.explain(x, { rule: rules.zBox(), low: 1, high: 0 }));
    expect(e).toBeInstanceOf(RuleError);
    expect(e.message).toMatch(/^zbox on 'conv1': low must be below high for every input value, got low 1 >= high 0 at index 0$/);
  });

  it('per-value bounds with one bad value name its index', () => {
    const low = new Float32Array(784);
    const high = new Float32Array(784).fill(1);
    low[300] = 1;
    const e = thrown(() => model.explain(x, { composite: composites.epsilonGammaBox({ low, high }) }));
    expect(e).toBeInstanceOf(RuleError);
    expect(e.message).toMatch(/low 1 >= high 1 at index 300/);
  });

  it("a model whose input_range is reversed cannot run zbox on its own bounds", async () => {
    const file = lrpCopy('cnn');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    json.input_range = [1, 0];
    writeFileSync(file, JSON.stringify(json));
    const m = await loadModel(file);
    try {
      expect(() => m.explain(inputs(784), { composite: 'epsilon-gamma-box' })).toThrow(/zbox on '0': low must be below high/);
    } finally {
      m.dispose();
    }
  });

  it('the CLI refuses --low 1 --high 0 as a usage error (exit 2)', async () => {
    const run = await lrp(['explain', `${FASHION}/tfjs/model.json`, `${FASHION}/samples/0000_ankle_boot.png`, '--composite', 'epsilon-gamma-box', '--low', '1', '--high', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('lrp: error: --low must be below --high (for every channel), got --low 1 --high 0\n');
  });
});
