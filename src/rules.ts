/**
 * LRP rules as plain data. Semantics (Zennit's) are in ARCHITECTURE.md and the engine's
 * src/engine/linear-rules.ts; this file only builds, validates and parses them.
 */
import { RuleError } from './errors.js';

/** Bounds for zbox: a scalar, or one value per input channel. */
export type Bound = number | ArrayLike<number>;

/**
 * An LRP rule as data, built with {@link rules} (or parsed from a spec with {@link parseRule}).
 * The formulas are Zennit's, see ARCHITECTURE.md.
 */
export type Rule =
  | {
      /** LRP-epsilon. */
      name: 'epsilon';
      /** The stabiliser added to the denominator (≥ 0). */
      epsilon: number;
    }
  | {
      /** The generalised gamma rule. */
      name: 'gamma';
      /** Weight of the positive contributions (≥ 0). */
      gamma: number;
    }
  | {
      /** Alpha-beta. */
      name: 'alphabeta';
      /** Weight of the positive part (alpha − beta = 1). */
      alpha: number;
      /** Weight of the negative part. */
      beta: number;
    }
  | {
      /** z⁺: positive contributions only. */
      name: 'zplus';
    }
  | {
      /** ZB, for inputs bounded by [low, high]. */
      name: 'zbox';
      /** Lower bound (default: explain()'s `low`). */
      low?: Bound;
      /** Upper bound (default: explain()'s `high`). */
      high?: Bound;
    }
  | {
      /** w²: squared weights, independent of the input. */
      name: 'wsquare';
    }
  | {
      /** Flat: uniform redistribution over the receptive field. */
      name: 'flat';
    }
  | {
      /** Relevance passes unchanged. */
      name: 'pass';
    }
  | {
      /** Proportional split without bias. */
      name: 'norm';
      /** Zennit's stabiliser of the division (default 1e-6). */
      stabilizer?: number;
    }
  | {
      /** Signal-take-all, for gates: the signal gets all relevance, the gate none. */
      name: 'signal';
    }
  | {
      /** Each factor of a product of two activations gets an equal share (AttnLRP's uniform rule). */
      name: 'uniform';
    }
  | {
      /**
       * AttnLRP (Achtibat et al. 2024) for the transformer ops Zennit has no rule for: layer norm
       * (identity on the division by the standard deviation, epsilon on the rest), softmax (its
       * linearisation, Prop. 3.1) and the product of two activation matrices (epsilon, then the
       * uniform split between the factors, Prop. 3.3). Each op module says which one it applies.
       */
      name: 'attnlrp';
      /** The epsilon stabiliser of the divisions (default 1e-6, as LXT). */
      stabilizer?: number;
    }
  | {
      /** The plain gradient. */
      name: 'gradient';
    };

/** The names of the rules. */
export type RuleName = Rule['name'];

/** Stabiliser of every rule but epsilon (Zennit's default). */
export const STABILIZER = 1e-6;

function finite(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RuleError(`${what} must be a finite number, got ${String(v)}`);
  return v;
}

/** Builders of every {@link Rule}, with their hyper-parameters checked. */
export const rules = {
  /** LRP-epsilon: z / (z + eps·sign(z)); LRP-0 is epsilon with a tiny eps. */
  epsilon(epsilon = 1e-6): Rule {
    if (finite(epsilon, 'epsilon') < 0) throw new RuleError(`epsilon must be >= 0, got ${epsilon}`);
    return { name: 'epsilon', epsilon };
  },
  /** Generalised gamma rule (Zennit >= 0.5). */
  gamma(gamma = 0.25): Rule {
    if (finite(gamma, 'gamma') < 0) throw new RuleError(`gamma must be >= 0, got ${gamma}`);
    return { name: 'gamma', gamma };
  },
  /** Alpha-beta; alpha - beta must equal 1 and both be >= 0. */
  alphaBeta(alpha = 2, beta = 1): Rule {
    finite(alpha, 'alpha');
    finite(beta, 'beta');
    if (alpha < 0 || beta < 0) throw new RuleError(`alpha and beta must be >= 0, got alpha=${alpha}, beta=${beta}`);
    if (Math.abs(alpha - beta - 1) > 1e-9)
      throw new RuleError(`alpha - beta must equal 1 (conservation), got alpha=${alpha}, beta=${beta}`);
    return { name: 'alphabeta', alpha, beta };
  },
  /** z⁺ (alpha1-beta0): only positive contributions. */
  zPlus(): Rule {
    return { name: 'zplus' };
  },
  /** ZB (box) rule for inputs bounded by [low, high]; bounds default to explain()'s low/high. */
  zBox(low?: Bound, high?: Bound): Rule {
    if (low !== undefined) checkBound(low, 'low');
    if (high !== undefined) checkBound(high, 'high');
    if (low !== undefined && high !== undefined) {
      const n = typeof low === 'number' ? (typeof high === 'number' ? 1 : high.length) : low.length;
      // arrays of different lengths are compared once expanded to the layer's input (engine/assign.ts)
      if (typeof low === 'number' || typeof high === 'number' || low.length === high.length)
        checkBoxOrder({ length: n, low: (i) => (typeof low === 'number' ? low : low[i]), high: (i) => (typeof high === 'number' ? high : high[i]) }, 'zbox');
    }
    return { name: 'zbox', low, high };
  },
  /** w²: relevance split by squared weights, independent of the input. */
  wSquare(): Rule {
    return { name: 'wsquare' };
  },
  /** Flat: relevance split uniformly over each output's receptive field. */
  flat(): Rule {
    return { name: 'flat' };
  },
  /** Relevance passes unchanged (ReLU, batch norm after folding). */
  pass(): Rule {
    return { name: 'pass' };
  },
  /**
   * Proportional split without bias (average pooling, residual add): R_i = x_i · R / (z + s·sign(z)),
   * Zennit's Norm with its stabilizer s (default 1e-6).
   */
  norm(stabilizer = STABILIZER): Rule {
    if (finite(stabilizer, 'stabilizer') <= 0) throw new RuleError(`stabilizer must be > 0, got ${stabilizer}`);
    return stabilizer === STABILIZER ? { name: 'norm' } : { name: 'norm', stabilizer };
  },
  /**
   * Signal-take-all, for a product x·gate whose gate is computed from the signal through a side
   * branch (squeeze-excitation, SiLU-like self-gating): all relevance goes to the signal x, the
   * gate is treated as a constant and receives none (Arras et al. 2017, LRP for gated units).
   */
  signal(): Rule {
    return { name: 'signal' };
  },
  /**
   * Uniform rule for an element-wise product of two activations (GLU-style gates): each factor
   * gets half of the product's relevance (AttnLRP, Achtibat et al. 2024).
   */
  uniform(): Rule {
    return { name: 'uniform' };
  },
  /**
   * AttnLRP's rule for a transformer op (layer norm, softmax, matrix product of two activations);
   * `stabilizer` is the epsilon of its divisions (default 1e-6).
   */
  attnlrp(stabilizer = STABILIZER): Rule {
    if (finite(stabilizer, 'stabilizer') <= 0) throw new RuleError(`stabilizer must be > 0, got ${stabilizer}`);
    return stabilizer === STABILIZER ? { name: 'attnlrp' } : { name: 'attnlrp', stabilizer };
  },
  /** No rule: the plain gradient (vector-Jacobian product) of the layer. */
  gradient(): Rule {
    return { name: 'gradient' };
  },
};

function checkBound(b: Bound, what: string): void {
  if (typeof b === 'number') finite(b, `zbox ${what}`);
  else if (b && typeof (b as ArrayLike<number>).length === 'number') {
    for (let i = 0; i < b.length; i++) finite(b[i], `zbox ${what}[${i}]`);
  } else throw new RuleError(`zbox ${what} must be a number or an array of numbers`);
}

/**
 * zbox needs low < high for every input value: with low > high the box is empty and with
 * low == high the relevance says nothing about the input. `where` names the rule or layer.
 */
export function checkBoxOrder(b: { length: number; low: (i: number) => number; high: (i: number) => number }, where: string): void {
  for (let i = 0; i < b.length; i++)
    if (!(b.low(i) < b.high(i)))
      throw new RuleError(`${where}: low must be below high for every input value, got low ${b.low(i)} >= high ${b.high(i)}${b.length > 1 ? ` at index ${i}` : ''}`);
}

/** Validate a rule object that may come from user code (not built by `rules.*`). */
export function validateRule(rule: unknown, where: string): Rule {
  if (!rule || typeof rule !== 'object' || typeof (rule as { name?: unknown }).name !== 'string')
    throw new RuleError(`${where}: a rule must be an object with a name (use rules.epsilon(), rules.zPlus(), ...), got ${JSON.stringify(rule)}`);
  const r = rule as Rule & Record<string, unknown>;
  switch (r.name) {
    case 'epsilon':
      return rules.epsilon(r.epsilon as number);
    case 'gamma':
      return rules.gamma(r.gamma as number);
    case 'alphabeta':
      return rules.alphaBeta(r.alpha as number, r.beta as number);
    case 'zbox':
      return rules.zBox(r.low as Bound | undefined, r.high as Bound | undefined);
    case 'norm':
      return rules.norm((r.stabilizer as number | undefined) ?? STABILIZER);
    case 'attnlrp':
      return rules.attnlrp((r.stabilizer as number | undefined) ?? STABILIZER);
    case 'zplus':
    case 'wsquare':
    case 'flat':
    case 'pass':
    case 'signal':
    case 'uniform':
    case 'gradient':
      return { name: r.name };
    default:
      throw new RuleError(`${where}: unknown rule '${String((r as { name: unknown }).name)}' (known: ${RULE_NAMES.join(', ')})`);
  }
}

/** Every {@link RuleName}. */
export const RULE_NAMES: readonly RuleName[] = ['epsilon', 'gamma', 'alphabeta', 'zplus', 'zbox', 'wsquare', 'flat', 'pass', 'norm', 'signal', 'uniform', 'attnlrp', 'gradient'];

/**
 * Parse the command line's rule SPEC: `epsilon:0.25`, `gamma:0.25`, `alphabeta:2,1`, `zplus`,
 * `zbox:LOW,HIGH`, `wsquare`, `flat`, `pass`, `norm` or `norm:STABILIZER`, `signal`, `gradient`.
 */
export function parseRule(spec: string): Rule {
  if (typeof spec !== 'string') throw new RuleError(`a rule spec must be a string such as 'epsilon:0.25', got ${spec === null ? 'null' : typeof spec}`);
  const [rawName, rawArgs] = spec.trim().split(':', 2);
  const name = rawName.toLowerCase().replace(/[-_]/g, '');
  const args =
    rawArgs === undefined || rawArgs === ''
      ? []
      : rawArgs.split(',').map((a) => {
          const v = Number(a);
          if (a.trim() === '' || !Number.isFinite(v)) throw new RuleError(`rule spec '${spec}': '${a}' is not a number`);
          return v;
        });
  const arity = (min: number, max: number) => {
    if (args.length < min || args.length > max)
      throw new RuleError(`rule spec '${spec}': ${name} takes ${min === max ? min : `${min} to ${max}`} argument(s), got ${args.length}`);
  };
  switch (name) {
    case 'epsilon':
    case 'eps':
      arity(0, 1);
      return rules.epsilon(args[0] ?? 1e-6);
    case 'lrp0':
    case 'zero':
      arity(0, 0);
      return rules.epsilon(1e-6);
    case 'gamma':
      arity(0, 1);
      return rules.gamma(args[0] ?? 0.25);
    case 'alphabeta':
      arity(0, 2);
      return rules.alphaBeta(args[0] ?? 2, args[1] ?? (args[0] !== undefined ? args[0] - 1 : 1));
    case 'zplus':
      arity(0, 0);
      return rules.zPlus();
    case 'zbox':
    case 'zb':
      arity(0, 2);
      if (args.length === 1) throw new RuleError(`rule spec '${spec}': zbox takes LOW,HIGH`);
      return rules.zBox(args[0], args[1]);
    case 'wsquare':
    case 'w2':
      arity(0, 0);
      return rules.wSquare();
    case 'flat':
      arity(0, 0);
      return rules.flat();
    case 'pass':
      arity(0, 0);
      return rules.pass();
    case 'norm':
      arity(0, 1);
      return rules.norm(args[0] ?? STABILIZER);
    case 'gradient':
      arity(0, 0);
      return rules.gradient();
    case 'signal':
    case 'signaltakeall':
      arity(0, 0);
      return rules.signal();
    case 'uniform':
      arity(0, 0);
      return rules.uniform();
    case 'attnlrp':
      arity(0, 1);
      return rules.attnlrp(args[0] ?? STABILIZER);
    default:
      throw new RuleError(`unknown rule '${rawName}' in spec '${spec}' (known: ${RULE_NAMES.join(', ')})`);
  }
}

/** A short human-readable form, e.g. "epsilon(1e-6)". */
export function formatRule(rule: Rule): string {
  if (!rule || typeof rule !== 'object') throw new RuleError(`formatRule() takes a rule object, got ${rule === null ? 'null' : typeof rule}`);
  switch (rule.name) {
    case 'epsilon':
      return `epsilon(${fmtNum(rule.epsilon)})`;
    case 'gamma':
      return `gamma(${fmtNum(rule.gamma)})`;
    case 'alphabeta':
      return `alphabeta(${rule.alpha},${rule.beta})`;
    case 'zbox':
      return `zbox(${fmtBound(rule.low)},${fmtBound(rule.high)})`;
    case 'norm':
      return rule.stabilizer === undefined ? 'norm' : `norm(${fmtNum(rule.stabilizer)})`;
    default:
      return rule.name;
  }
}

function fmtNum(v: number): string {
  return v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential() : String(v);
}

function fmtBound(b: Bound | undefined): string {
  if (b === undefined) return 'low/high';
  return typeof b === 'number' ? String(b) : `[${Array.from(b).join(' ')}]`;
}
