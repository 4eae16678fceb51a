/**
 * Which conv layers may compute their own output z = f(x; W, b) on Winograd in one call. Its rounding
 * error is relative to the sum of |terms|, not to z, and it travels: every later output computed from a
 * rounded value carries an error of the same kind, whichever kernel computes it. That is harmless for a
 * value passed on and for the rules' one-signed denominators, not for a value divided by where it nearly
 * cancels. So without a relevance pass (predict) every layer may round; in explain a layer may when
 * - its own rule does not read z as a value (ROUNDING_SAFE), and
 * - everything its output reaches, up to the model output, only routes values (ReLU under pass, reshapes,
 *   slices, concatenation, max pooling, average pooling under the gradient) or is a linear layer under
 *   such a rule: an epsilon layer anywhere after it would divide by sums of rounded values (resnet_mini's
 *   flat-first, epsilon-rest vectors went from 1e-6 to 2.2e-4 with only the next layer checked; resnet18's
 *   residual adds, under the norm rule, moved epsilon-plus relevance by 1.2e-4 of its largest value), and
 *   so would any other op (an add or average pooling under the norm rule, a gate). Max pooling passes it
 *   on: a rounded near-tie may move the winner, as float32 itself may (the 64×64 torchvision VGG16 under
 *   z⁺, alpha-beta or gamma throughout: relevance within 2.6e-6 of im2col's).
 * - no activation takes the gradient: its mask, which a rounded near-zero z can flip, would decide where
 *   relevance goes (under the pass rule it does not).
 * The usual composites put epsilon on the dense layers at the end, so in their explain calls no layer
 * rounds; rule sets of z⁺, alpha-beta, gamma, flat and w² throughout do.
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

const LINEAR = new Set(['conv2d', 'dense']);

/** Names of the conv/dense nodes whose own forward may round in a call with these rules. */
export function roundingLayers(graph: Graph, assigned: Map<string, Assigned>): Set<string> {
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
  /** Whether everything this tensor reaches reads it harmlessly (memoised by node name). */
  const safe = new Map<string, boolean>();
  const passedOnSafely = (name: string): boolean => {
    let ok = safe.get(name);
    if (ok !== undefined) return ok;
    ok = (consumers.get(name) ?? []).every((c) => {
      const op = ops.get(c)!;
      if (LINEAR.has(op)) return ROUNDING_SAFE.has(rule(c)!) && passedOnSafely(c);
      return ROUTING.has(op) && rule(c) !== 'norm' && passedOnSafely(c);
    });
    safe.set(name, ok);
    return ok;
  };
  for (const node of graph.nodes)
    if (LINEAR.has(node.op) && ROUNDING_SAFE.has(rule(node.name)!) && passedOnSafely(node.name)) out.add(node.name);
  return out;
}
