/**
 * Composites map layer types to rules, as Zennit's presets do. A composite is data; the engine
 * resolves it to one rule per node with `resolveRules`.
 */
import { RuleError } from './errors.js';
import { OPS } from './ops/registry.js';
import { parseRule, rules, validateRule, type Bound, type Rule, type RuleName } from './rules.js';

/** Layer types mapped to rules, as Zennit's composites; the presets are in {@link composites}. */
export interface Composite {
  /** Shown by describe(). */
  name: string;
  /** Rule for the first layer(s): every `firstOn` node that reads the model input (through views only). */
  first?: Rule;
  /** Which linear nodes count for `first`: 'conv' (EpsilonGammaBox) or 'linear' (dense or conv, the flat presets). */
  firstOn?: 'conv' | 'dense' | 'linear';
  /** Dense (fully connected) layers. */
  dense?: Rule;
  /** Convolutions. */
  conv?: Rule;
  /** Average and global average pooling (default: norm). */
  pool?: Rule;
  /** Max pooling (default: gradient, i.e. winner takes all). */
  maxpool?: Rule;
  /** Residual adds (default: norm). */
  add?: Rule;
  /** Element-wise activations: ReLU, ReLU6, SiLU, GELU, … (default: pass, as Zennit). */
  activation?: Rule;
  /** Constant scale/shift nodes and unfolded batch norms (default: pass). */
  affine?: Rule;
  /** Element-wise products of two activations: gates get signal-take-all, other products uniform (the defaults). */
  mul?: Rule;
  /** Layer norms (default: attnlrp, identity on the std and epsilon on the rest; or gradient). */
  layerNorm?: Rule;
  /** Softmax inside the graph, e.g. attention weights (default: attnlrp, AttnLRP's Prop. 3.1; or gradient). */
  softmax?: Rule;
  /** Matrix products of two activations, e.g. attention's Q·Kᵀ (default: attnlrp). */
  matmul?: Rule;
  /** By node position in the imported graph (0-based). */
  byIndex?: Record<number, Rule>;
  /** By node name (e.g. "0", "block1.conv2", a Keras layer name). */
  byName?: Record<string, Rule>;
}

/** The preset composites, by the names `explain({ composite })` and the command line take. */
export type CompositeName =
  | 'epsilon-plus'
  | 'epsilon-gamma-box'
  | 'epsilon-alpha2-beta1'
  | 'epsilon-plus-flat'
  | 'epsilon-alpha2-beta1-flat'
  | 'attnlrp';

/** Zennit's spellings of the presets (class names and snake_case), accepted as aliases. */
export type CompositeAlias =
  | 'EpsilonPlus'
  | 'EpsilonGammaBox'
  | 'EpsilonAlpha2Beta1'
  | 'EpsilonPlusFlat'
  | 'EpsilonAlpha2Beta1Flat'
  | 'epsilon_plus'
  | 'epsilon_gamma_box'
  | 'epsilon_alpha2_beta1'
  | 'epsilon_plus_flat'
  | 'epsilon_alpha2_beta1_flat';

/**
 * The preset a name means: its kebab-case name, or one of Zennit's spellings (`EpsilonGammaBox`,
 * `epsilon_gamma_box`; case, `-` and `_` do not matter). Null for anything else.
 */
export function canonicalCompositeName(name: string): CompositeName | null {
  const key = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
  return typeof name === 'string' ? (COMPOSITE_NAMES.find((c) => key(c) === key(name)) ?? null) : null;
}

const EPS = 1e-6;

/** The preset composites (Zennit's), and `custom` for your own. */
export const composites = {
  /** Zennit EpsilonPlus: conv zplus, dense epsilon. */
  epsilonPlus(opts: { epsilon?: number } = {}): Composite {
    return { name: 'epsilon-plus', conv: rules.zPlus(), dense: rules.epsilon(opts?.epsilon ?? EPS) };
  },
  /** Zennit EpsilonGammaBox: first conv zbox(low, high), other conv gamma, dense epsilon. */
  epsilonGammaBox(opts: { low?: Bound; high?: Bound; gamma?: number; epsilon?: number } = {}): Composite {
    return {
      name: 'epsilon-gamma-box',
      first: rules.zBox(opts?.low, opts?.high),
      firstOn: 'conv',
      conv: rules.gamma(opts?.gamma ?? 0.25),
      dense: rules.epsilon(opts?.epsilon ?? EPS),
    };
  },
  /** Zennit EpsilonAlpha2Beta1: conv alphabeta(2,1), dense epsilon. */
  epsilonAlpha2Beta1(opts: { epsilon?: number } = {}): Composite {
    return { name: 'epsilon-alpha2-beta1', conv: rules.alphaBeta(2, 1), dense: rules.epsilon(opts?.epsilon ?? EPS) };
  },
  /** Zennit EpsilonPlusFlat: first dense-or-conv flat, conv zplus, dense epsilon. */
  epsilonPlusFlat(opts: { epsilon?: number } = {}): Composite {
    return { name: 'epsilon-plus-flat', first: rules.flat(), firstOn: 'linear', conv: rules.zPlus(), dense: rules.epsilon(opts?.epsilon ?? EPS) };
  },
  /** Zennit EpsilonAlpha2Beta1Flat: first dense-or-conv flat, conv alphabeta(2,1), dense epsilon. */
  epsilonAlpha2Beta1Flat(opts: { epsilon?: number } = {}): Composite {
    return {
      name: 'epsilon-alpha2-beta1-flat',
      first: rules.flat(),
      firstOn: 'linear',
      conv: rules.alphaBeta(2, 1),
      dense: rules.epsilon(opts?.epsilon ?? EPS),
    };
  },
  /**
   * AttnLRP (Achtibat et al. 2024), the paper's setting for transformers: dense and conv epsilon, layer norm,
   * softmax and products of activations their AttnLRP rules (each op's default), residual adds norm.
   */
  attnlrp(opts: { epsilon?: number } = {}): Composite {
    return { name: 'attnlrp', dense: rules.epsilon(opts?.epsilon ?? EPS), conv: rules.epsilon(opts?.epsilon ?? EPS) };
  },
  /**
   * Your own mapping; unspecified layer types keep Zennit's defaults (dense/conv: epsilon 1e-6).
   * Unknown keys and rules that cannot apply to their layer type are rejected, naming the key.
   */
  custom(spec: Omit<Composite, 'name'> & { name?: string }): Composite {
    if (!spec || typeof spec !== 'object' || Array.isArray(spec))
      throw new RuleError(`composites.custom() takes an object such as { conv: rules.zPlus() }, got ${spec === null ? 'null' : Array.isArray(spec) ? 'an array' : typeof spec}`);
    for (const key of Object.keys(spec))
      if (!COMPOSITE_KEYS.includes(key as keyof Composite))
        throw new RuleError(`composite: unknown key '${key}' (known: ${COMPOSITE_KEYS.join(', ')})`);
    if (spec.name !== undefined && typeof spec.name !== 'string') throw new RuleError(`composite.name must be a string, got ${typeof spec.name}`);
    const c: Composite = { ...spec, name: spec.name ?? 'custom' };
    for (const key of ['first', 'dense', 'conv', 'pool', 'maxpool', 'add', 'activation', 'affine', 'mul', 'layerNorm', 'softmax', 'matmul'] as const) {
      const r = c[key];
      if (r === undefined) continue;
      const rule = validateRule(r, `composite.${key}`);
      if (!APPLICABLE[key].includes(rule.name))
        throw new RuleError(`composite.${key}: rule '${rule.name}' does not apply to ${LAYER_KIND[key]} (allowed: ${APPLICABLE[key].join(', ')})`);
      c[key] = rule;
    }
    if (c.firstOn !== undefined && !['conv', 'dense', 'linear'].includes(c.firstOn))
      throw new RuleError(`composite.firstOn must be 'conv', 'dense' or 'linear', got '${String(c.firstOn)}'`);
    if (c.byIndex !== undefined) {
      checkRecord(c.byIndex, 'byIndex');
      for (const k of Object.keys(c.byIndex))
        if (!/^(0|[1-9]\d*)$/.test(k)) throw new RuleError(`composite.byIndex: key '${k}' is not a node index (0, 1, 2, ...)`);
      c.byIndex = mapValues(c.byIndex, (r, k) => validateRule(r, `composite.byIndex[${k}]`));
    }
    if (c.byName !== undefined) {
      checkRecord(c.byName, 'byName');
      c.byName = mapValues(c.byName, (r, k) => validateRule(r, `composite.byName['${k}']`));
    }
    return c;
  },
  /** Look up a preset by its name or one of Zennit's spellings (see {@link canonicalCompositeName}). */
  byName(name: string, opts: { low?: Bound; high?: Bound } = {}): Composite {
    if (typeof name !== 'string') throw new RuleError(`a composite name must be a string (known: ${COMPOSITE_NAMES.join(', ')}), got ${name === null ? 'null' : typeof name}`);
    switch (canonicalCompositeName(name)) {
      case 'epsilon-plus':
        return composites.epsilonPlus();
      case 'epsilon-gamma-box':
        return composites.epsilonGammaBox(opts);
      case 'epsilon-alpha2-beta1':
        return composites.epsilonAlpha2Beta1();
      case 'epsilon-plus-flat':
        return composites.epsilonPlusFlat();
      case 'epsilon-alpha2-beta1-flat':
        return composites.epsilonAlpha2Beta1Flat();
      case 'attnlrp':
        return composites.attnlrp();
      default:
        throw new RuleError(`unknown composite '${name}' (known: ${COMPOSITE_NAMES.join(', ')})`);
    }
  },
};

/** Every {@link CompositeName}. */
export const COMPOSITE_NAMES: readonly CompositeName[] = [
  'epsilon-plus',
  'epsilon-gamma-box',
  'epsilon-alpha2-beta1',
  'epsilon-plus-flat',
  'epsilon-alpha2-beta1-flat',
  'attnlrp',
];

const COMPOSITE_KEYS: ReadonlyArray<keyof Composite> = [
  'name', 'first', 'firstOn', 'dense', 'conv', 'pool', 'maxpool', 'add', 'activation', 'affine', 'mul', 'layerNorm', 'softmax', 'matmul', 'byIndex', 'byName',
];

/** The rules every op of a key accepts (each op module lists its own, src/ops/). */
function rulesOf(...ops: Array<keyof typeof OPS>): readonly RuleName[] {
  const lists = ops.map((op) => Object.keys(OPS[op].rules) as RuleName[]);
  return lists[0].filter((r) => lists.every((l) => l.includes(r)));
}

type LayerKey = 'first' | 'dense' | 'conv' | 'pool' | 'maxpool' | 'add' | 'activation' | 'affine' | 'mul' | 'layerNorm' | 'softmax' | 'matmul';

/** The ops each layer-type key of a composite stands for, and how messages name them. */
const KEY_OPS: Record<LayerKey, { ops: Array<keyof typeof OPS>; kind: string }> = {
  first: { ops: ['dense', 'conv2d'], kind: 'the first dense/conv layers' },
  dense: { ops: ['dense'], kind: 'dense layers' },
  conv: { ops: ['conv2d'], kind: 'conv layers' },
  pool: { ops: ['avgpool2d', 'globalavgpool'], kind: 'average pooling' },
  maxpool: { ops: ['maxpool2d'], kind: 'max pooling' },
  add: { ops: ['add'], kind: 'residual adds' },
  activation: { ops: ['relu', 'activation', 'prelu'], kind: 'activations' },
  affine: { ops: ['affine', 'batchnorm'], kind: 'constant scale/shift and unfolded batch norms' },
  mul: { ops: ['mul'], kind: 'element-wise products' },
  layerNorm: { ops: ['layernorm'], kind: 'layer norms' },
  softmax: { ops: ['softmax'], kind: 'softmax inside the graph' },
  matmul: { ops: ['matmul'], kind: 'matrix products of two activations' },
};

const APPLICABLE = Object.fromEntries(Object.entries(KEY_OPS).map(([k, v]) => [k, rulesOf(...v.ops)])) as Record<LayerKey, readonly RuleName[]>;
const LAYER_KIND = Object.fromEntries(Object.entries(KEY_OPS).map(([k, v]) => [k, v.kind])) as Record<LayerKey, string>;

function checkRecord(v: unknown, key: string): void {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new RuleError(`composite.${key} must be an object mapping to rules`);
}

function mapValues<K extends string | number>(o: Record<K, Rule>, f: (r: Rule, k: string) => Rule): Record<K, Rule> {
  const out = {} as Record<K, Rule>;
  for (const [k, v] of Object.entries(o) as Array<[K, Rule]>) out[k] = f(v, String(k));
  return out;
}

/**
 * A composite that puts `rule` on every dense/conv node and `firstRule` (if any) on the first ones.
 * Rules may be given as specs (`'epsilon:0.25'`, see {@link parseRule}).
 */
export function ruleComposite(rule: Rule | string, firstRule?: Rule | string): Composite {
  const r = validateRule(typeof rule === 'string' ? parseRule(rule) : rule, 'rule');
  const f = firstRule === undefined ? undefined : validateRule(typeof firstRule === 'string' ? parseRule(firstRule) : firstRule, 'firstRule');
  return { name: f ? `${r.name} (first: ${f.name})` : r.name, dense: r, conv: r, first: f, firstOn: 'linear' };
}
