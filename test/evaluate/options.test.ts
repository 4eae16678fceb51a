// Bad options and inputs of evaluate(), compareMethods() and sanityCheck(): typed errors that name the problem.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareMethods, evaluate, InputError, parseMethod, sanityCheck, type Model } from '../../src/index.js';
import { linearModel, wave } from './linear-model.js';

describe('evaluate() rejects bad options', () => {
  let model: Model;
  const x = Float32Array.from(wave(2 * 64, 0.4), (v) => (v + 1) / 2);
  const a = wave(2 * 64, 2.2);
  beforeAll(async () => ({ model } = await linearModel()));
  afterAll(() => model.dispose());

  const cases: Array<[string, object, RegExp]> = [
    ['patch larger than the image', { patch: 9 }, /patch 9x9 is larger than the 8x8 input/],
    ['patch [h, w] too wide', { patch: [2, 12] }, /patch 2x12 is larger/],
    ['patch zero', { patch: 0 }, /patch must be a positive integer/],
    ['patch fractional', { patch: 1.5 }, /patch must be a positive integer/],
    ['patch of three numbers', { patch: [1, 2, 3] }, /patch must be/],
    ['zero steps', { steps: 0 }, /steps must be a positive integer, got 0/],
    ['more steps than regions', { patch: 4, steps: 5 }, /steps 5 is more than the 4 regions of 4x4 patches/],
    ['unknown order', { order: 'backwards' }, /unknown order 'backwards' \(known: morf, lerf, random\)/],
    ['empty order list', { order: [] }, /order must be one of/],
    ['repeated order', { order: ['morf', 'morf'] }, /each order at most once/],
    ['unknown replacement', { replacement: 'zeros' }, /unknown replacement 'zeros' \(known: constant, mean, blur, uniform\)/],
    ['non-finite value', { value: Number.NaN }, /value must be a finite number/],
    ['bad sigma', { replacement: 'blur', sigma: 0 }, /sigma must be a positive number/],
    ['bad range', { range: [1, 0] }, /range must be \[lo, hi\]/],
    ['bad seed', { seed: -1 }, /seed must be an integer/],
    ['bad score', { score: 'loss' }, /score must be 'logit' or 'probability'/],
    ['bad batch', { batch: 0 }, /batch must be a positive integer/],
    ['target out of range', { target: 3 }, /target 3 \(sample 0\) is out of range: the model has 3 outputs/],
    ['one target too few', { target: [0] }, /target has 1 entries but x has 2 samples/],
  ];
  for (const [what, opts, message] of cases)
    it(what, () => {
      let err: unknown;
      try {
        evaluate(model, x, a, opts);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(message);
    });

  it('option errors carry the code E_OPTION', () => {
    expect(() => evaluate(model, x, a, { steps: 0 })).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
  });

  it('bad x and attributions', () => {
    expect(() => evaluate(model, x.subarray(0, 100), a)).toThrow(/whole number of samples of 64 values/);
    expect(() => evaluate(model, x, a.subarray(0, 64))).toThrow(/attributions hold 64 values but x holds 128/);
    expect(() => evaluate(model, x, null)).toThrow(/only order 'random' runs without them/);
    const nan = a.slice();
    nan[70] = Number.NaN;
    expect(() => evaluate(model, x, nan)).toThrow(/attributions hold NaN at index 70/);
    const inf = x.slice();
    inf[65] = Infinity;
    expect(() => evaluate(model, inf, a)).toThrow(/x holds Infinity at sample 1, index 1/);
    // random order needs no attributions
    expect(evaluate(model, x, null, { order: 'random' }).random!.aopc).toHaveLength(2);
  });

  it('unknown methods name themselves and the known ones', async () => {
    expect(() => parseMethod('lrp-magic')).toThrow(InputError);
    expect(() => parseMethod('lrp-magic')).toThrow(/unknown method 'lrp-magic' \(known: epsilon-plus, .*gradient, .*random/);
    expect(() => parseMethod('gamma:0.25/zbox:0,1/flat')).toThrow(/at most one '\/'/);
    expect(() => compareMethods(model, x, ['gradient', 'saliency'])).toThrow(/unknown method 'saliency'/);
    await expect(sanityCheck(model, x, ['random'])).rejects.toThrow(/does not depend on the model/);
  });

  it('parses rule specs into custom contenders', () => {
    expect(parseMethod('epsilon:0.25')).toEqual({ label: 'epsilon(0.25)', explain: { rule: { name: 'epsilon', epsilon: 0.25 }, firstRule: undefined } });
    const m = parseMethod('gamma:0.25/zbox:0,1');
    expect(m.label).toBe('gamma(0.25)/zbox(0,1)');
    expect(m.explain?.firstRule).toEqual({ name: 'zbox', low: 0, high: 1 });
    expect(parseMethod('smoothgrad')).toEqual({ label: 'smoothgrad', attribute: { method: 'smoothgrad' } });
  });
});
