/**
 * Case k of a campaign with seed S: a seed model, its mutations and what to run on it (inputs,
 * composite, attribution), all derived from caseSeed(S, k). Regenerating a case gives the same
 * files and the same run.
 */
import { mutateCase } from './mutate.mjs';
import { caseSeed, rng } from './random.mjs';

const COMPOSITES = ['epsilon-plus', 'epsilon-gamma-box', 'epsilon-alpha2-beta1', 'epsilon-plus-flat', 'epsilon-alpha2-beta1-flat'];
const RULES = [{ name: 'epsilon', epsilon: 0.25 }, { name: 'gamma', gamma: 0.25 }, { name: 'alphabeta', alpha: 2, beta: 1 }, { name: 'zplus' }, { name: 'wsquare' }, { name: 'flat' }, { name: 'gradient' }, { name: 'zbox', low: 0, high: 1 }];

export function makeCase(seeds, campaignSeed, index) {
  const r = rng(caseSeed(campaignSeed, index));
  const seed = seeds[r.int(seeds.length)];
  const { files, description } = mutateCase(seed, r);
  const explain = r.chance(0.7) ? { composite: r.pick(COMPOSITES), low: 0, high: 1 } : { rule: r.pick(RULES) };
  if (r.chance(0.1)) explain.layers = true;
  const run = {
    samples: 1 + r.int(3),
    input: r.weighted({ uniform: 8, extreme: 1, negative: 1 }),
    inputSeed: r.int(2 ** 31),
    explain,
    attribute: r.chance(0.1) ? r.pick([{ method: 'gradient-x-input' }, { method: 'smoothgrad', samples: 4 }, { method: 'integrated-gradients', samples: 4 }]) : null,
  };
  return { index, seed: seed.name, format: seed.format, entry: seed.entry, files, description, run };
}
