/**
 * A float64 reference of the LRP engine (written for transformer graphs; it also walks max and average
 * pooling, so CNNs such as VGG and ResNet): the forward pass (forward-f64.ts) and the
 * relevance walk over an IR graph, one sample at a time, with plain loops and one function per op. The
 * transformer rules are written from AttnLRP's equations (Achtibat et al., ICML 2024):
 *  - layer norm (attnlrp): the division by the standard deviation is treated as a constant (identity rule,
 *    Prop. 3.4), the remaining linear map x ↦ (x − mean)·w/std + b gets the epsilon rule;
 *  - softmax (attnlrp): Deep Taylor decomposition at x with the bias term (Prop. 3.1),
 *    R_x = x ⊙ (R − s ⊙ Σ_row R);
 *  - product of two activations (attnlrp): epsilon rule then the uniform split between the factors
 *    (Prop. 3.3), C = R / stab(2·O), R_A = A ⊙ (C·Bᵀ), R_B = B ⊙ (Aᵀ·C);
 *  - element-wise product (uniform): each factor gets R/2 (Prop. 3.2);
 *  - embedding (pass): each token gets the sum of its vector's relevance.
 * Every `gradient` rule is the exact vector-Jacobian product, written from the op's Jacobian. Rules are
 * resolved per node by the engine's own resolution (engine/assign.ts), so both apply the same rule to
 * each node; the formulas here are written independently of src/ops/.
 */
import type { Composite } from '../composites.js';
import { assignRules } from '../engine/assign.js';
import { InputError, RuleError, UnsupportedError } from '../errors.js';
import { MODEL_INPUT, type Graph, type Shape } from '../graph/ir.js';
import { ACTIVATIONS } from '../ops/activation.js';
import { STABILIZER, type Rule } from '../rules.js';
import { activationDerivRef } from './activations.js';
import {
  activationParams,
  channelOf,
  concatSources,
  forwardF64,
  gateIndex,
  layerNormF64,
  matmulDims,
  maxPoolF64,
  avgPoolWindows,
  globalWindow,
  sliceSources,
  transposeSources,
} from './forward-f64.js';
import { convMap, denseMap, linearRelevanceF64 } from './linear-f64.js';
import { size } from '../graph/shapes.js';
import { stab, type GraphF64, type NodeF64, type Tensor64 } from './nodes-f64.js';

type Node<K extends NodeF64['op']> = Extract<NodeF64, { op: K }>;

/** What one node sends back to each of its inputs (null: nothing, e.g. a gate under signal-take-all). */
type Sent = Array<Float64Array | null>;

const where = (node: NodeF64) => `${node.op} node '${node.name}'`;

function noRule(node: NodeF64, rule: Rule): never {
  throw new RuleError(`the float64 reference has no '${rule.name}' rule for ${where(node)}`);
}

/** The stabiliser of a norm or attnlrp rule (Zennit's 1e-6 unless given). */
function stabilizerOf(rule: Rule): number {
  return ((rule.name === 'norm' || rule.name === 'attnlrp') && rule.stabilizer) || STABILIZER;
}

// ---- one function per op: (node, rule, inputs, output, output relevance) → relevance per input ----

function denseRel(node: Node<'dense'>, rule: Rule, [x]: Tensor64[], out: Tensor64, R: Float64Array): Sent {
  return [linearRelevanceF64(denseMap(node, x.shape), x, out.data, R, rule, where(node))];
}

function conv2dRel(node: Node<'conv2d'>, rule: Rule, [x]: Tensor64[], out: Tensor64, R: Float64Array): Sent {
  return [linearRelevanceF64(convMap(node, x.shape), x, out.data, R, rule, where(node))];
}

function reluRel(node: Node<'relu'>, rule: Rule, [x]: Tensor64[], _out: Tensor64, R: Float64Array): Sent {
  if (rule.name === 'pass') return [R.slice()];
  if (rule.name === 'gradient') return [R.map((r, i) => (x.data[i] > 0 ? r : 0))];
  return noRule(node, rule);
}

function activationRel(node: Node<'activation'>, rule: Rule, [x]: Tensor64[], _out: Tensor64, R: Float64Array): Sent {
  if (rule.name === 'pass') return [R.slice()];
  if (rule.name !== 'gradient') return noRule(node, rule);
  const kind = ACTIVATIONS[node.fn].kind;
  const [a, b, c] = activationParams(node);
  return [R.map((r, i) => r * activationDerivRef(kind, x.data[i], a, b, c))];
}

/** norm: R_k = x_k · R / stab(Σ x) (AttnLRP's epsilon rule on a sum, Eq. 8); gradient: R to every input. */
function addRel(node: Node<'add'>, rule: Rule, ins: Tensor64[], out: Tensor64, R: Float64Array): Sent {
  if (rule.name === 'gradient') return ins.map(() => R.slice());
  if (rule.name !== 'norm') return noRule(node, rule);
  const eps = stabilizerOf(rule);
  return ins.map((t) => t.data.map((v, i) => (v * R[i]) / stab(out.data[i], eps)));
}

/** Inputs [signal, gate]; a per-channel gate collects the sum over its broadcast positions. */
function mulRel(node: Node<'mul'>, rule: Rule, [x, gate]: Tensor64[], _out: Tensor64, R: Float64Array): Sent {
  const gi = gateIndex(x, gate);
  const toGate = (perElement: (i: number) => number) => {
    const g = new Float64Array(gate.data.length);
    for (let i = 0; i < R.length; i++) g[gi(i)] += perElement(i);
    return g;
  };
  switch (rule.name) {
    case 'signal':
      return [R.slice(), null];
    case 'uniform':
      return [R.map((r) => r / 2), toGate((i) => R[i] / 2)];
    case 'gradient':
      return [R.map((r, i) => r * gate.data[gi(i)]), toGate((i) => R[i] * x.data[i])];
    default:
      return noRule(node, rule);
  }
}

function affineRel(node: Node<'affine'>, rule: Rule, [x]: Tensor64[], _out: Tensor64, R: Float64Array): Sent {
  if (rule.name === 'pass') return [R.slice()];
  if (rule.name !== 'gradient') return noRule(node, rule);
  const cs = channelOf(x, node.scale.length > 1);
  return [R.map((r, i) => r * node.scale[cs(i)])];
}

/** Flatten and reshape: the same values in another shape, so the same relevance. */
function viewRel(node: Node<'flatten' | 'reshape'>, rule: Rule, _ins: Tensor64[], _out: Tensor64, R: Float64Array): Sent {
  if (rule.name !== 'gradient') return noRule(node, rule);
  return [R.slice()];
}

/** Relevance moves back with its value: out element o read input element source[o]. */
function scatter(source: Int32Array, R: Float64Array, inSize: number): Float64Array {
  const back = new Float64Array(inSize);
  for (let o = 0; o < source.length; o++) back[source[o]] += R[o];
  return back;
}

function transposeRel(node: Node<'transpose'>, rule: Rule, [x]: Tensor64[], _out: Tensor64, R: Float64Array): Sent {
  if (rule.name !== 'gradient') return noRule(node, rule);
  return [scatter(transposeSources(node.perm, x.shape).source, R, x.data.length)];
}

function sliceRel(node: Node<'slice'>, rule: Rule, [x]: Tensor64[], _out: Tensor64, R: Float64Array): Sent {
  if (rule.name !== 'gradient') return noRule(node, rule);
  return [scatter(sliceSources(node, x.shape).source, R, x.data.length)];
}

function concatRel(node: Node<'concat'>, rule: Rule, ins: Tensor64[], _out: Tensor64, R: Float64Array): Sent {
  if (rule.name !== 'gradient') return noRule(node, rule);
  const { input, source } = concatSources(node.axis, ins.map((t) => t.shape));
  const back = ins.map((t) => new Float64Array(t.data.length));
  for (let o = 0; o < R.length; o++) back[input[o]][source[o]] += R[o];
  return back;
}

/** gradient (Zennit's default for max pooling): each output's relevance goes to its window's maximum. */
function maxPoolRel(node: Node<'maxpool2d'>, rule: Rule, [x]: Tensor64[], _out: Tensor64, R: Float64Array): Sent {
  if (rule.name !== 'gradient') return noRule(node, rule);
  const { argmax } = maxPoolF64(node, x);
  const back = new Float64Array(x.data.length);
  for (let o = 0; o < argmax.length; o++) back[argmax[o]] += R[o];
  return [back];
}

/**
 * norm (Zennit's default): each input gets its share x/div of its windows' outputs' relevance; gradient:
 * R/div. Global pooling is its one-window case (`named`: the node messages name).
 */
function avgPoolRel(node: Node<'avgpool2d'>, rule: Rule, [x]: Tensor64[], out: Tensor64, R: Float64Array, named: NodeF64 = node): Sent {
  if (rule.name !== 'norm' && rule.name !== 'gradient') return noRule(named, rule);
  const [C, H, W] = x.shape;
  const { windows } = avgPoolWindows(node, H, W);
  const back = new Float64Array(x.data.length);
  for (let c = 0; c < C; c++)
    windows.forEach(({ h0, h1, w0, w1, div }, o) => {
      const at = c * windows.length + o;
      const g = rule.name === 'norm' ? R[at] / stab(out.data[at], stabilizerOf(rule)) : R[at];
      for (let h = h0; h < h1; h++)
        for (let w = w0; w < w1; w++) {
          const i = (c * H + h) * W + w;
          back[i] += rule.name === 'norm' ? ((x.data[i] / div) * g) : g / div;
        }
    });
  return [back];
}

/**
 * Layer norm, row by row, through the Jacobian of y_j = (x_j − mean)/std · w_j + b_j:
 *   ∂y_j/∂x_i = w_j/std · (δ_ij − 1/D − x̂_i x̂_j / D)   (x̂ = (x − mean)/std).
 * gradient: Jᵀg with that Jacobian. attnlrp: std is a constant, so the x̂ term drops out, and the epsilon
 * rule is applied to the resulting linear map: R_x = x ⊙ Jᵀ(R / stab(y)).
 */
function layerNormRel(node: Node<'layernorm'>, rule: Rule, [x]: Tensor64[], out: Tensor64, R: Float64Array): Sent {
  if (rule.name !== 'attnlrp' && rule.name !== 'gradient') return noRule(node, rule);
  const D = node.features;
  const { std } = layerNormF64(node, x);
  const eps = stabilizerOf(rule);
  const back = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / D; r++) {
    let mean = 0;
    for (let i = 0; i < D; i++) mean += x.data[r * D + i];
    mean /= D;
    const xhat = (i: number) => (x.data[r * D + i] - mean) / std[r];
    for (let i = 0; i < D; i++) {
      let acc = 0;
      for (let j = 0; j < D; j++) {
        const w = node.weight ? node.weight[j] : 1;
        const dij = (i === j ? 1 : 0) - 1 / D - (rule.name === 'gradient' ? (xhat(i) * xhat(j)) / D : 0);
        const c = rule.name === 'gradient' ? R[r * D + j] : R[r * D + j] / stab(out.data[r * D + j], eps);
        acc += c * (w / std[r]) * dij;
      }
      back[r * D + i] = rule.name === 'gradient' ? acc : x.data[r * D + i] * acc;
    }
  }
  return [back];
}

/** Softmax per row. attnlrp (Prop. 3.1): R_x,i = x_i (R_i − s_i Σ_j R_j). gradient: Σ_j g_j s_j (δ_ij − s_i). */
function softmaxRel(node: Node<'softmax'>, rule: Rule, [x]: Tensor64[], out: Tensor64, R: Float64Array): Sent {
  if (rule.name !== 'attnlrp' && rule.name !== 'gradient') return noRule(node, rule);
  const D = x.shape[x.shape.length - 1];
  const s = out.data;
  const back = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / D; r++)
    for (let i = 0; i < D; i++) {
      let acc = 0;
      if (rule.name === 'attnlrp') {
        for (let j = 0; j < D; j++) acc += R[r * D + j];
        back[r * D + i] = x.data[r * D + i] * (R[r * D + i] - s[r * D + i] * acc);
      } else {
        for (let j = 0; j < D; j++) acc += R[r * D + j] * s[r * D + j] * ((i === j ? 1 : 0) - s[r * D + i]);
        back[r * D + i] = acc;
      }
    }
  return [back];
}

/**
 * O = A·B per leading index. attnlrp (Prop. 3.3): C = R / stab(2·O), R_A = A ⊙ (C·Bᵀ), R_B = B ⊙ (Aᵀ·C).
 * gradient: g·Bᵀ and Aᵀ·g.
 */
function matmulRel(node: Node<'matmul'>, rule: Rule, [A, B]: Tensor64[], out: Tensor64, R: Float64Array): Sent {
  if (rule.name !== 'attnlrp' && rule.name !== 'gradient') return noRule(node, rule);
  const { lead, M, K, N } = matmulDims(node, A.shape, B.shape);
  const eps = stabilizerOf(rule);
  const C = rule.name === 'attnlrp' ? R.map((r, i) => r / stab(2 * out.data[i], eps)) : R;
  const ra = new Float64Array(A.data.length);
  const rb = new Float64Array(B.data.length);
  for (let l = 0; l < lead; l++) {
    const a = (m: number, k: number) => (l * M + m) * K + k;
    const b = (k: number, n: number) => (l * K + k) * N + n;
    const o = (m: number, n: number) => (l * M + m) * N + n;
    for (let m = 0; m < M; m++)
      for (let k = 0; k < K; k++) {
        let acc = 0;
        for (let n = 0; n < N; n++) acc += C[o(m, n)] * B.data[b(k, n)];
        ra[a(m, k)] = rule.name === 'attnlrp' ? A.data[a(m, k)] * acc : acc;
      }
    for (let k = 0; k < K; k++)
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let m = 0; m < M; m++) acc += A.data[a(m, k)] * C[o(m, n)];
        rb[b(k, n)] = rule.name === 'attnlrp' ? B.data[b(k, n)] * acc : acc;
      }
  }
  return [ra, rb];
}

/**
 * pass: each token gets the sum of the relevance of its vector. Token ids have no gradient, so `gradient`
 * reports the same per-token sums (the gradient with respect to the vectors is the relevance at the output).
 */
function embeddingRel(node: Node<'embedding'>, rule: Rule, [ids]: Tensor64[], _out: Tensor64, R: Float64Array): Sent {
  if (rule.name !== 'pass' && rule.name !== 'gradient') return noRule(node, rule);
  const T = ids.data.length, D = node.dim;
  const back = new Float64Array(T);
  for (let t = 0; t < T; t++) for (let i = 0; i < D; i++) back[t] += R[t * D + i];
  return [back];
}

/** A constant absorbs its relevance (like a bias): it has no inputs. */
function constantRel(node: Node<'constant'>, rule: Rule): Sent {
  if (rule.name !== 'pass' && rule.name !== 'gradient') return noRule(node, rule);
  return [];
}

/** What `node` under `rule` sends back to each of its inputs. */
export function relevanceNode(node: NodeF64, rule: Rule, ins: Tensor64[], out: Tensor64, R: Float64Array): Sent {
  switch (node.op) {
    case 'dense':
      return denseRel(node, rule, ins, out, R);
    case 'conv2d':
      return conv2dRel(node, rule, ins, out, R);
    case 'relu':
      return reluRel(node, rule, ins, out, R);
    case 'activation':
      return activationRel(node, rule, ins, out, R);
    case 'add':
      return addRel(node, rule, ins, out, R);
    case 'mul':
      return mulRel(node, rule, ins, out, R);
    case 'affine':
      return affineRel(node, rule, ins, out, R);
    case 'flatten':
    case 'reshape':
      return viewRel(node, rule, ins, out, R);
    case 'transpose':
      return transposeRel(node, rule, ins, out, R);
    case 'slice':
      return sliceRel(node, rule, ins, out, R);
    case 'concat':
      return concatRel(node, rule, ins, out, R);
    case 'globalavgpool':
      return avgPoolRel(globalWindow(node, ins[0]), rule, ins, out, R, node);
    case 'maxpool2d':
      return maxPoolRel(node, rule, ins, out, R);
    case 'avgpool2d':
      return avgPoolRel(node, rule, ins, out, R);
    case 'layernorm':
      return layerNormRel(node, rule, ins, out, R);
    case 'softmax':
      return softmaxRel(node, rule, ins, out, R);
    case 'matmul':
      return matmulRel(node, rule, ins, out, R);
    case 'embedding':
      return embeddingRel(node, rule, ins, out, R);
    case 'constant':
      return constantRel(node, rule);
    default:
      throw new UnsupportedError(`the float64 reference does not cover ${where(node)}`);
  }
}

/**
 * The relevance walk for one sample: starting from `start` at the output, each node (last to first) sends
 * relevance to its inputs, and a tensor read by several nodes gets the sum. Returns the relevance at every
 * node's output and at MODEL_INPUT (zeros where nothing arrived).
 */
export function relevanceF64(graph: GraphF64, acts: ReadonlyMap<string, Tensor64>, start: Float64Array, ruleOf: ReadonlyMap<string, Rule>): Map<string, Float64Array> {
  const rel = new Map<string, Float64Array>();
  const at = (name: string) => {
    let r = rel.get(name);
    if (!r) rel.set(name, (r = new Float64Array(acts.get(name)!.data.length)));
    return r;
  };
  const out = at(graph.output);
  if (start.length !== out.length) throw new InputError(`start relevance has ${start.length} values, the output has ${out.length}`);
  out.set(start);
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k];
    const rule = ruleOf.get(node.name);
    if (!rule) throw new RuleError(`no rule for ${where(node)}`);
    const sent = relevanceNode(node, rule, node.inputs.map((i) => acts.get(i)!), acts.get(node.name)!, at(node.name));
    sent.forEach((r, i) => {
      if (!r) return;
      const target = at(node.inputs[i]);
      for (let j = 0; j < r.length; j++) target[j] += r[j];
    });
  }
  at(MODEL_INPUT);
  for (const node of graph.nodes) at(node.name);
  return rel;
}

/**
 * One rule per node, resolved exactly as the engine resolves a composite (engine/assign.ts: each op
 * module's default, then first/byIndex/byName). `shapes` are the nodes' per-sample output shapes.
 */
export function resolveRulesF64(graph: GraphF64, shapes: ReadonlyMap<string, Shape>, composite: Composite): Map<string, Rule> {
  const assigned = assignRules(graph as Graph, new Map(shapes), composite, {});
  return new Map([...assigned].map(([name, a]) => [name, a.rule]));
}

export interface ReferenceOptions {
  /** One rule per node name, or a composite resolved as the engine resolves it. */
  rules: ReadonlyMap<string, Rule> | Composite;
  /** The class explained for each sample. */
  targets: ArrayLike<number>;
  /** Output relevance: the target's logit (default, as the engine's 'logit') or 1 ('onehot'). */
  start?: 'logit' | 'onehot';
}

export interface ReferenceResult {
  /** [n, outputs] */
  logits: Float64Array;
  /** [n, input size]: relevance at the model input (per token for an embedding input) */
  relevance: Float64Array;
  /** Per node: relevance at its output, [n, size] */
  layers: Map<string, Float64Array>;
  /** The rule applied to each node. */
  rules: Map<string, Rule>;
}

/** Forward and relevance in float64 for n samples of x (the graph's layout, one sample after another). */
export function referenceExplain(graph: GraphF64, x: ArrayLike<number>, n: number, opts: ReferenceOptions): ReferenceResult {
  const inSize = size(graph.inputShape);
  if (!Number.isInteger(n) || n < 1 || x.length !== n * inSize) throw new InputError(`reference: x has ${x.length} values, expected ${n} samples of ${inSize}`);
  if (opts.targets.length !== n) throw new InputError(`reference: ${opts.targets.length} targets for ${n} samples`);
  const samples = Array.from({ length: n }, (_, s) => forwardF64(graph, Array.prototype.slice.call(x, s * inSize, (s + 1) * inSize), s));
  const shapes = new Map([...samples[0]].map(([name, t]) => [name, t.shape]));
  const ruleOf = opts.rules instanceof Map ? new Map(opts.rules) : resolveRulesF64(graph, shapes, opts.rules as Composite);
  const outSize = samples[0].get(graph.output)!.data.length;
  const logits = new Float64Array(n * outSize);
  const relevance = new Float64Array(n * inSize);
  const layers = new Map<string, Float64Array>(graph.nodes.map((node) => [node.name, new Float64Array(n * samples[0].get(node.name)!.data.length)]));
  samples.forEach((acts, s) => {
    const y = acts.get(graph.output)!.data;
    logits.set(y, s * outSize);
    const t = opts.targets[s];
    if (!Number.isInteger(t) || t < 0 || t >= outSize) throw new InputError(`reference: target ${t} of sample ${s} is not a class in [0, ${outSize})`);
    const start = new Float64Array(outSize);
    start[t] = opts.start === 'onehot' ? 1 : y[t];
    const rel = relevanceF64(graph, acts, start, ruleOf);
    relevance.set(rel.get(MODEL_INPUT)!, s * inSize);
    for (const [name, all] of layers) all.set(rel.get(name)!, (s * all.length) / n);
  });
  return { logits, relevance, layers, rules: ruleOf };
}
