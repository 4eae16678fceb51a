// D8: attribute() had no bound on `samples` (smoothgrad with 1e9 threw a raw RangeError,
// integrated-gradients with 2e6 allocated ~6 GB); now absurd values are refused and the copies
// are processed in bounded chunks, with the same numbers.
// D10: predict(BigInt64Array), explain(x, null) and composites.custom(null) threw raw TypeErrors.
// D12: composites.custom ignored byIndex keys matching no node, unknown keys and rules that
// cannot apply to a layer type; now each is refused, naming the key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composites, formatRule, InputError, loadModel, MAX_ATTRIBUTION_SAMPLES, parseRule, RuleError, rules, type Model } from '../../src/index.js';
import { modelDir } from '../helpers/fixtures.js';
import { FASHION, inputs, thrown } from './helpers.js';

let model: Model;
let bn: Model; // cnn_bn: its batch norms are folded away at load
beforeAll(async () => {
  model = await loadModel(`${FASHION}/tfjs/model.json`);
  bn = await loadModel(`${modelDir('cnn_bn')}/model.json`);
});
afterAll(() => {
  model.dispose();
  bn.dispose();
});
const x = inputs(784 * 2);

describe('D8: attribute() samples', () => {
  it('refuses absurd sample counts with an InputError, before any work', () => {
    for (const [method, samples] of [['smoothgrad', 1e9], ['integrated-gradients', 2e6], ['smoothgrad', MAX_ATTRIBUTION_SAMPLES + 1], ['smoothgrad', 2.5]] as const) {
      const e = thrown(() => model.attribute(x, { method, samples }));
      expect(e).toBeInstanceOf(InputError);
      expect(e.message).toBe(`samples must be an integer from 1 to ${MAX_ATTRIBUTION_SAMPLES}, got ${samples}`);
    }
  });

  it('gives the same numbers whatever the chunk of copies (batch), across chunk boundaries', () => {
    for (const method of ['smoothgrad', 'integrated-gradients'] as const) {
      const a = model.attribute(x, { method, samples: 70, batch: 1, noise: 0.2 }); // chunks of 32, 32, 6
      const b = model.attribute(x, { method, samples: 70, batch: 70, noise: 0.2 }); // one chunk of 70
      let diff = 0;
      for (let i = 0; i < a.relevance.length; i++) diff = Math.max(diff, Math.abs(a.relevance[i] - b.relevance[i]));
      const scale = b.relevance.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(diff).toBeLessThanOrEqual(1e-6 * scale);
    }
  });

  it('integrated gradients over many chunks stay complete (sum = logit(x) - logit(baseline))', () => {
    const r = model.attribute(x, { method: 'integrated-gradients', samples: 300, baseline: 0 });
    const base = model.predict(new Float32Array(x.length));
    for (let s = 0; s < 2; s++) {
      const t = r.targets[s];
      const delta = r.logits[s * 10 + t] - base[s * 10 + t];
      expect(Math.abs(r.sums.input[s] - delta)).toBeLessThan(2e-2 * Math.max(Math.abs(delta), 0.1));
    }
  });
});

describe('D10: wrong argument types are typed errors', () => {
  it('predict / explain / attribute with a BigInt array, a string, a number or null', () => {
    for (const bad of [new BigInt64Array(784), new BigUint64Array(784), 'x'.repeat(784), 784, null, undefined, {}]) {
      for (const call of [() => model.predict(bad as never), () => model.explain(bad as never), () => model.attribute(bad as never, { method: 'gradient' })]) {
        const e = thrown(call);
        expect(e).toBeInstanceOf(InputError);
        expect(e.message).toMatch(/^x must be a Float32Array \(or an array of numbers\), got /);
      }
    }
  });

  it('options that are not objects', () => {
    for (const bad of [null, 5, 'epsilon-plus', [1]]) {
      expect(thrown(() => model.explain(x, bad as never))).toBeInstanceOf(InputError);
      expect(thrown(() => model.predict(x, bad as never))).toBeInstanceOf(InputError);
      expect(thrown(() => model.attribute(x, bad as never))).toBeInstanceOf(InputError);
    }
    expect(thrown(() => model.explain(x, null as never)).message).toBe('explain() options must be an object, got null');
  });

  it('array-likes with a negative, fractional or huge length', () => {
    for (const length of [-784, 784.5, 2 ** 40]) {
      const e = thrown(() => model.predict({ length } as never));
      expect(e).toBeInstanceOf(InputError);
      expect(e.message).toMatch(new RegExp(`^x has length ${length}: it must be a whole number of values`));
    }
  });

  it('rule and composite helpers given null or numbers', () => {
    for (const call of [() => parseRule(null as never), () => parseRule(5 as never), () => formatRule(null as never), () => composites.byName(null as never), () => model.describe(5 as never)])
      expect(thrown(call)).toBeInstanceOf(RuleError);
    // preset options of null mean the defaults
    expect(composites.epsilonGammaBox(null as never)).toEqual(composites.epsilonGammaBox());
  });

  it('composites.custom(null) and other non-objects', () => {
    for (const bad of [null, undefined, 3, 'conv', [rules.zPlus()]]) {
      const e = thrown(() => composites.custom(bad as never));
      expect(e).toBeInstanceOf(RuleError);
      expect(e.message).toMatch(/^composites\.custom\(\) takes an object/);
    }
  });
});

describe('D12: composites.custom is strict about its keys', () => {
  it('refuses an unknown key, naming it', () => {
    const e = thrown(() => composites.custom({ convs: rules.zPlus() } as never));
    expect(e).toBeInstanceOf(RuleError);
    expect(e.message).toBe("composite: unknown key 'convs' (known: name, first, firstOn, dense, conv, pool, maxpool, add, activation, affine, mul, layerNorm, softmax, matmul, byIndex, byName)");
  });

  it('refuses rules that do not apply to the layer type, even if the model has no such layer', () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['pool', rules.gamma(), /^composite\.pool: rule 'gamma' does not apply to average pooling \(allowed: norm, gradient\)$/],
      ['maxpool', rules.norm(), /^composite\.maxpool: rule 'norm' does not apply to max pooling \(allowed: gradient\)$/],
      ['add', rules.zPlus(), /^composite\.add: rule 'zplus' does not apply to residual adds/],
      ['conv', rules.pass(), /^composite\.conv: rule 'pass' does not apply to conv layers/],
      ['dense', rules.norm(), /^composite\.dense: rule 'norm' does not apply to dense layers/],
      ['first', rules.pass(), /^composite\.first: rule 'pass' does not apply to the first dense\/conv layers/],
    ];
    for (const [key, rule, message] of cases) {
      const e = thrown(() => model.explain(x, { composite: { name: 'mine', [key]: rule } as never }));
      expect(e).toBeInstanceOf(RuleError);
      expect(e.message).toMatch(message);
    }
  });

  it('refuses byIndex keys that are no node index, or match no node of the model', () => {
    expect(thrown(() => composites.custom({ byIndex: { abc: rules.zPlus() } as never })).message).toBe("composite.byIndex: key 'abc' is not a node index (0, 1, 2, ...)");
    const e = thrown(() => model.explain(x, { composite: composites.custom({ byIndex: { 99: rules.gamma() } }) }));
    expect(e).toBeInstanceOf(RuleError);
    expect(e.message).toMatch(/^composite\.byIndex\[99\] matches no node of the model/);
    // cnn_bn's node 1 is a batch norm folded into node 0 at load: no rule can go there
    expect(() => bn.explain(inputs(784), { composite: composites.custom({ byIndex: { 1: rules.pass() } }) })).toThrow(/byIndex\[1\] matches no node/);
  });

  it('a valid custom composite gives the same numbers as the preset it spells out', () => {
    const preset = model.explain(x, { composite: 'epsilon-plus' });
    const custom = model.explain(x, { composite: composites.custom({ conv: rules.zPlus(), dense: rules.epsilon(1e-6), maxpool: rules.gradient(), byIndex: { 0: rules.zPlus() } }) });
    expect(custom.relevance).toEqual(preset.relevance);
  });
});
