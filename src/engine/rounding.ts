/**
 * Which conv layers may compute their own output z = f(x; W, b) on Winograd in one call. Its rounding
 * error is relative to the sum of |terms|, not to z, and it travels: every later output computed from a
 * rounded value carries an error of the same kind, whichever kernel computes it. That is harmless for a
 * value passed on and for the rules' one-signed denominators. A division by a value that may nearly cancel
 * is harmless too where its numerator is that same value times a factor (R = z·c: R/(z+ε) = c·z/(z+ε) moves
 * by less than the relative error of z, and where z flips sign the relevance it carries is near 0 either
 * way); it is not where the numerator does not scale with it. So without a relevance pass (predict) every
 * layer may round; in explain a layer may when
 * - its own rule does not read z as a value (ROUNDING_SAFE), and
 * - everything its output reaches, up to the model output, either only routes values (ReLU under pass,
 *   reshapes, slices, concatenation, max pooling, average pooling under the gradient), or is a linear
 *   layer under such a rule, or divides by its own output while the relevance it receives is proportional
 *   to that output (`proportional` below): an epsilon layer or average pooling under the norm rule whose
 *   relevance comes from a layer that multiplies its input by something (epsilon, z⁺, alpha-beta, gamma),
 *   through ReLUs, max pooling and reshapes, or that is the model output explained from its logit.
 *   Anything else blocks: an add under the norm rule (resnet_mini's epsilon vectors: 2.1e-4 against a
 *   tolerance of 1e-4), average pooling under the gradient before an epsilon layer (cnn_bn's avgpool-
 *   gradient vectors: 4e-3 against 1e-3), flat, w² and zbox layers (their relevance is not x times a
 *   factor), a gate, an explanation started from 'onehot' or from given values.
 * - no activation takes the gradient: its mask, which a rounded near-zero z can flip, would decide where
 *   relevance goes (under the pass rule it does not).
 * The usual composites (z⁺, alpha-beta or gamma on convs, epsilon on the dense layers at the end) round
 * every conv of a plain chain (VGG) explained from its logit; in residual nets only the layers after the
 * last add round.
 */
import type { Graph } from '../graph/ir.js';
import type { RuleName } from '../rules.js';
import type { Assigned } from './assign.js';

/**
 * Rules that never read a layer's own z as a value: their denominators are other products (z⁺,
 * (W+γW⁺)x, flat, W²), and gamma reads z only through zp = z + γz⁺ where z > 0 and zn = z + γz⁻ where
 * z < 0, whose error stays within 2/γ times Winograd's (z⁺ > |z⁻| where z > 0). epsilon divides by z,
 * zbox by z minus a constant.
 */
const ROUNDING_SAFE = new Set<RuleName>(['zplus', 'alphabeta', 'gamma', 'flat', 'wsquare']);

/** Activations whose gradient is a mask of where their input is positive (or a slope that switches there). */
const MASKING = new Set(['relu', 'activation', 'prelu']);

/** Ops that hand values on without dividing by them (under any rule but norm: average pooling's divides by the window sum). */
const ROUTING = new Set(['relu', 'activation', 'prelu', 'maxpool2d', 'avgpool2d', 'globalavgpool', 'flatten', 'reshape', 'transpose', 'slice', 'concat']);

/** Rules whose relevance at the input is the input times a factor (x · J^T(g; W′)). */
const MULTIPLY_INPUT = new Set<RuleName>(['epsilon', 'zplus', 'alphabeta', 'gamma']);

/** Ops that send back, under these rules, relevance proportional to what they received as the values they passed on. */
const KEEPS_PROPORTION: Record<string, RuleName> = {
  relu: 'pass',
  prelu: 'pass',
  maxpool2d: 'gradient',
  flatten: 'gradient',
  reshape: 'gradient',
  transpose: 'gradient',
  slice: 'gradient',
  concat: 'gradient',
};

const POOLING = new Set(['avgpool2d', 'globalavgpool']);

const LINEAR = new Set(['conv2d', 'dense']);

/**
 * Names of the conv nodes whose own forward may round in a call with these rules.
 * `fromLogit`: the relevance at the model output is its logit (start 'logit'), which is proportional to it.
 */
export function roundingLayers(graph: Graph, assigned: Map<string, Assigned>, fromLogit: boolean): Set<string> {
  const rule = (name: string) => assigned.get(name)?.rule.name;
  const out = new Set<string>();
  if (graph.nodes.some((node) => MASKING.has(node.op) && rule(node.name) === 'gradient')) return out;
  const consumers = new Map<string, string[]>();
  const ops = new Map(graph.nodes.map((node) => [node.name, node.op]));
  for (const node of graph.nodes)
    for (const i of node.inputs) {
      const list = consumers.get(i);
      if (list) list.push(node.name);
      else consumers.set(i, [node.name]);
    }
  /** Whether the relevance this node's output receives is that output times a factor (memoised). */
  const prop = new Map<string, boolean>();
  const proportional = (name: string): boolean => {
    let ok = prop.get(name);
    if (ok !== undefined) return ok;
    const list = consumers.get(name) ?? [];
    ok = name === graph.output ? fromLogit && list.length === 0 : list.length > 0;
    ok &&= list.every((c) => {
      const op = ops.get(c)!;
      const r = rule(c)!;
      if (LINEAR.has(op)) return MULTIPLY_INPUT.has(r);
      if (POOLING.has(op)) return r === 'norm'; // x · R / stab(window sum)
      return KEEPS_PROPORTION[op] === r && proportional(c);
    });
    prop.set(name, ok);
    return ok;
  };
  /** Whether everything this tensor reaches reads it harmlessly (memoised by node name). */
  const safe = new Map<string, boolean>();
  const passedOnSafely = (name: string): boolean => {
    let ok = safe.get(name);
    if (ok !== undefined) return ok;
    ok = (consumers.get(name) ?? []).every((c) => {
      const op = ops.get(c)!;
      const r = rule(c)!;
      if (LINEAR.has(op)) return (ROUNDING_SAFE.has(r) || (r === 'epsilon' && proportional(c))) && passedOnSafely(c);
      if (POOLING.has(op) && r === 'norm') return proportional(c) && passedOnSafely(c);
      return ROUTING.has(op) && r !== 'norm' && passedOnSafely(c);
    });
    safe.set(name, ok);
    return ok;
  };
  // dense layers have no Winograd path
  for (const node of graph.nodes)
    if (node.op === 'conv2d' && ROUNDING_SAFE.has(rule(node.name)!) && passedOnSafely(node.name)) out.add(node.name);
  return out;
}
