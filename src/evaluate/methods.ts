/**
 * The contenders of an evaluation: every way the library explains a prediction, named as on the
 * command line, plus a random attribution as the baseline every real method should beat.
 *   composites  epsilon-plus, epsilon-gamma-box, epsilon-alpha2-beta1, epsilon-plus-flat, epsilon-alpha2-beta1-flat
 *   baselines   gradient, gradient-x-input, smoothgrad, integrated-gradients (model.attribute)
 *   rule specs  'SPEC' (one rule on every dense/conv layer) or 'SPEC/FIRST' (FIRST on the first layer),
 *               e.g. 'epsilon:0.25', 'gamma:0.25/zbox:0,1'
 *   random      uniform noise in [0, 1), seeded per sample
 */
import type { CompositeName } from '../composites.js';
import { COMPOSITE_NAMES, type Composite } from '../composites.js';
import { InputError, RuleError } from '../errors.js';
import { ATTRIBUTION_METHODS, type AttributeOptions, type AttributionMethod, type ExplainOptions, type Model, type Target } from '../model.js';
import { formatRule, parseRule, type Bound, type Rule } from '../rules.js';
import { deriveSeed, mulberry32 } from './random.js';

/** A contender of an evaluation: how its attributions are computed, and its label. */
export interface Method {
  /** Shown in tables, plots and results.json. */
  label: string;
  /** Exactly one of: LRP options for explain(), a baseline for attribute(), or random attributions. */
  explain?: Omit<ExplainOptions, 'target' | 'batch' | 'layers'>;
  /** Options for model.attribute() (gradient-based baselines). */
  attribute?: Omit<AttributeOptions, 'target' | 'batch'>;
  /** Uniform random attributions, the baseline. */
  random?: true;
}

/** Every built-in contender, in the order of the tables. */
export const ALL_METHODS: readonly string[] = [...COMPOSITE_NAMES, ...ATTRIBUTION_METHODS, 'random'];

/** A method from its name or rule spec (see the file comment); throws InputError naming the unknown method. */
export function parseMethod(spec: string): Method {
  if (typeof spec !== 'string' || spec.trim() === '') throw new InputError(`a method must be a name or a rule spec, got ${JSON.stringify(spec)}`, 'E_METHOD');
  const name = spec.trim();
  if ((COMPOSITE_NAMES as readonly string[]).includes(name)) return { label: name, explain: { composite: name as CompositeName } };
  if ((ATTRIBUTION_METHODS as readonly string[]).includes(name)) return { label: name, attribute: { method: name as AttributionMethod } };
  if (name === 'random') return { label: 'random', random: true };
  const [rest, first, extra] = name.split('/');
  let rule: Rule;
  let firstRule: Rule | undefined;
  try {
    if (extra !== undefined) throw new RuleError(`at most one '/' (RULE/FIRST)`);
    rule = parseRule(rest);
    firstRule = first === undefined ? undefined : parseRule(first);
  } catch (e) {
    if (!(e instanceof RuleError)) throw e;
    throw new InputError(
      `unknown method '${name}' (known: ${ALL_METHODS.join(', ')}, or a rule spec such as epsilon:0.25 or gamma:0.25/zbox:0,1): ${e.message}`,
      'E_METHOD',
    );
  }
  const label = firstRule ? `${formatRule(rule)}/${formatRule(firstRule)}` : formatRule(rule);
  return { label, explain: { rule, firstRule } };
}

/** A custom composite as a contender. */
export function compositeMethod(composite: Composite, label = composite.name): Method {
  return { label, explain: { composite } };
}

/** Options of {@link attributionsFor}. */
export interface AttributionOptions {
  /** Class to explain: 'argmax' (default), one index, or one per sample. */
  target?: Target;
  /** zbox bounds for composites and rules that need them. */
  low?: Bound;
  /** Upper zbox bound. */
  high?: Bound;
  /** Seed of the random attributions (and of SmoothGrad, unless the method sets its own). */
  seed?: number;
  /** Samples per batch. */
  batch?: number;
}

/** The method's attributions for x (same layout) and the class each sample was explained for. */
export function attributionsFor(model: Model, x: Float32Array, method: Method, opts: AttributionOptions = {}): {
  /** Attributions, the layout of x. */
  attributions: Float32Array;
  /** The class each sample was explained for. */
  targets: Int32Array;
} {
  const kinds = [method.explain, method.attribute, method.random].filter((v) => v !== undefined).length;
  if (kinds !== 1) throw new InputError(`method '${method.label}' must have exactly one of explain, attribute or random`, 'E_METHOD');
  const target = opts.target ?? 'argmax';
  if (method.random) {
    const per = model.inputSize;
    if (x.length === 0 || x.length % per !== 0) throw new InputError(`x must hold a whole number of samples of ${per} values, got ${x.length} values`);
    const n = x.length / per;
    const targets = targetsOf(model, x, target, opts.batch);
    const attributions = new Float32Array(x.length);
    for (let s = 0; s < n; s++) {
      const rand = mulberry32(deriveSeed(opts.seed ?? 1, s, STREAM_RANDOM_ATTRIBUTION));
      for (let i = s * per; i < (s + 1) * per; i++) attributions[i] = rand();
    }
    return { attributions, targets };
  }
  // from onehot unless the method says otherwise: from 'logit', a negative target logit would flip the ranking
  if (method.attribute) {
    const start = method.attribute.method === 'gradient' || method.attribute.method === 'gradient-x-input' ? 'onehot' : undefined;
    const r = model.attribute(x, { seed: opts.seed, start, ...method.attribute, target, batch: opts.batch });
    return { attributions: r.relevance, targets: r.targets };
  }
  const explainOpts: ExplainOptions = { start: 'onehot', ...method.explain, target, batch: opts.batch };
  if (explainOpts.low === undefined && opts.low !== undefined) explainOpts.low = opts.low;
  if (explainOpts.high === undefined && opts.high !== undefined) explainOpts.high = opts.high;
  const r = model.explain(x, explainOpts);
  return { attributions: r.relevance, targets: r.targets };
}

const STREAM_RANDOM_ATTRIBUTION = 3;

function targetsOf(model: Model, x: Float32Array, target: Target, batch?: number): Int32Array {
  const n = x.length / model.inputSize;
  if (target !== 'argmax') {
    const list = typeof target === 'number' ? new Array<number>(n).fill(target) : Array.from(target);
    return Int32Array.from(list);
  }
  const logits = model.predict(x, { batch });
  const O = model.outputSize;
  const out = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    let best = 0;
    for (let j = 1; j < O; j++) if (logits[s * O + j] > logits[s * O + best]) best = j;
    out[s] = best;
  }
  return out;
}
