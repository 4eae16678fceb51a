/**
 * The options of `lrp evaluate`: their parseArgs spec, their lines of the usage text, and their
 * validation into EvaluateCliOptions (usage errors name the option).
 */
import { ALL_METHODS, ORDERS, parseMethod, REPLACEMENTS, type Method, type PerturbationOrder, type Replacement, type Score } from '../evaluate/index.js';
import { usageError } from './errors.js';

export const EVALUATE_OPTIONS = {
  methods: { type: 'string' },
  patch: { type: 'string' },
  steps: { type: 'string' },
  order: { type: 'string' },
  replacement: { type: 'string' },
  value: { type: 'string' },
  sigma: { type: 'string' },
  range: { type: 'string' },
  seed: { type: 'string' },
  score: { type: 'string' },
  sanity: { type: 'string' },
} as const;

export const EVALUATE_USAGE = {
  synopsis: `  lrp evaluate MODEL INPUT... [--methods M,M,...] [--patch P] [--steps S] [--order morf,lerf,random]
              [--replacement constant|mean|blur|uniform] [--seed N] [--sanity N] [--out DIR]`,
  summary: `evaluate: region perturbation (AOPC of MoRF and LeRF per method, vs a random baseline) and the
         cascading randomisation sanity check: results.json, curves.npy, a table, and plots (SVG, PNG) in --out.`,
  options: `evaluate:
  --methods LIST       comma-separated: a composite, gradient, gradient-x-input, smoothgrad,
                       integrated-gradients, random, a rule SPEC or SPEC/FIRST (e.g. gamma:0.25/zbox:0,1);
                       default: the 5 composites, the 4 baselines and random
  --patch P            region size in pixels, P or HxW (default 4)
  --steps S            perturbation steps, one region each (default 50, at most the number of regions)
  --order LIST         morf, lerf, random (default morf,lerf)
  --replacement R      constant (--value, default 0), mean, blur (--sigma px, default P) or uniform
                       noise in --range LO,HI (default: the input range) (default constant)
  --score S            logit (default) or probability
  --seed N             seed of random orders, noise, random attributions, SmoothGrad and the sanity check (default 1)
  --sanity N           samples for the sanity check (default 100; 0 skips it)`,
};

export interface EvaluateCliOptions {
  methods: Method[];
  patch?: number | [number, number];
  steps?: number;
  order: PerturbationOrder[];
  replacement: Replacement;
  value?: number;
  sigma?: number;
  range?: [number, number];
  seed: number;
  score: Score;
  sanity: number;
}

/**
 * Splits a --methods list on commas, keeping the numbers of a rule spec together:
 * 'epsilon-plus,alphabeta:2,1,zbox:0,1' → ['epsilon-plus', 'alphabeta:2,1', 'zbox:0,1'].
 */
export function splitMethods(list: string): string[] {
  const out: string[] = [];
  for (const part of list.split(',')) {
    const p = part.trim();
    if (/^[+-]?(\d|\.\d)/.test(p) && out.length > 0 && out[out.length - 1].includes(':')) out[out.length - 1] += `,${p}`;
    else out.push(p);
  }
  return out;
}

const integer = (v: string | undefined, name: string, min: number): number | undefined => {
  if (v === undefined) return undefined;
  const k = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(k) || k < min) throw usageError(`--${name} must be an integer >= ${min}, got '${v}'`);
  return k;
};

const finite = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const k = Number(v);
  if (v.trim() === '' || !Number.isFinite(k)) throw usageError(`--${name} must be a number, got '${v}'`);
  return k;
};

export function parseEvaluateOptions(v: Partial<Record<keyof typeof EVALUATE_OPTIONS, string>>): EvaluateCliOptions {
  const names = v.methods === undefined ? [...ALL_METHODS] : splitMethods(v.methods);
  const methods = names.map((name) => {
    if (name === '') throw usageError(`--methods has an empty entry in '${v.methods}'`);
    try {
      return parseMethod(name);
    } catch (e) {
      throw usageError(`--methods: ${(e as Error).message}`);
    }
  });
  const labels = methods.map((m) => m.label);
  const twice = labels.find((l, i) => labels.indexOf(l) !== i);
  if (twice) throw usageError(`--methods lists '${twice}' twice`);

  let patch: number | [number, number] | undefined;
  if (v.patch !== undefined) {
    const m = /^\s*(\d+)\s*(?:[xX]\s*(\d+)\s*)?$/.exec(v.patch);
    if (!m || Number(m[1]) < 1 || (m[2] !== undefined && Number(m[2]) < 1)) throw usageError(`--patch must be a positive integer P or HxW, got '${v.patch}'`);
    patch = m[2] === undefined ? Number(m[1]) : [Number(m[1]), Number(m[2])];
  }
  const order = (v.order ?? 'morf,lerf').split(',').map((o) => o.trim().toLowerCase());
  for (const o of order) if (!(ORDERS as readonly string[]).includes(o)) throw usageError(`--order: unknown order '${o}' (known: ${ORDERS.join(', ')})`);
  if (new Set(order).size !== order.length) throw usageError(`--order lists an order twice: '${v.order}'`);
  const replacement = (v.replacement ?? 'constant') as Replacement;
  if (!REPLACEMENTS.includes(replacement)) throw usageError(`--replacement must be one of ${REPLACEMENTS.join(', ')}, got '${v.replacement}'`);
  let range: [number, number] | undefined;
  if (v.range !== undefined) {
    const parts = v.range.split(',').map((p) => Number(p));
    if (parts.length !== 2 || v.range.split(',').some((p) => p.trim() === '') || !parts.every(Number.isFinite) || parts[0] > parts[1])
      throw usageError(`--range must be LO,HI with LO <= HI, got '${v.range}'`);
    range = [parts[0], parts[1]];
  }
  const score = (v.score ?? 'logit') as Score;
  if (score !== 'logit' && score !== 'probability') throw usageError(`--score must be logit or probability, got '${v.score}'`);
  const sigma = finite(v.sigma, 'sigma');
  if (sigma !== undefined && sigma <= 0) throw usageError(`--sigma must be positive, got '${v.sigma}'`);
  const seed = integer(v.seed, 'seed', 0) ?? 1;
  if (seed > 0xffffffff) throw usageError(`--seed must be at most ${0xffffffff}, got '${v.seed}'`);
  return {
    methods,
    patch,
    steps: integer(v.steps, 'steps', 1),
    order: order as PerturbationOrder[],
    replacement,
    value: finite(v.value, 'value'),
    sigma,
    range,
    seed,
    score,
    sanity: integer(v.sanity, 'sanity', 0) ?? 100,
  };
}
