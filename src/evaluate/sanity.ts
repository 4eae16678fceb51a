/**
 * The cascading randomisation sanity check (Adebayo et al., "Sanity Checks for Saliency Maps",
 * 2018): the parametrised layers are randomised one more at a time from the top (output) down,
 * and each method's explanation of the randomised model is compared with its explanation of the
 * trained one. An explanation that stays similar does not depend on what the model learned.
 *
 * The caller's model is not touched: each step builds a copy of its graph with new parameters
 * (Gaussian with the mean and standard deviation of the original tensor, seeded) and runs it as
 * its own Model on a new backend of the same kind.
 */
import { createBackend, type BackendChoice } from '../backends.js';
import { InputError } from '../errors.js';
import type { Graph, GraphNode } from '../graph/ir.js';
import { Model, type Target } from '../model.js';
import type { Bound } from '../rules.js';
import { attributionsFor, parseMethod, type Method } from './methods.js';
import { deriveSeed, mulberry32, normal } from './random.js';
import { inputGeometry, sampleIndex, type InputGeometry } from './regions.js';
import { meanStdErr, spearman, ssim, type MeanStdErr } from './stats.js';

/** Options of {@link sanityCheck}. */
export interface SanityOptions {
  /** Seed of the random parameters (default 1). */
  seed?: number;
  /** Class to explain (default: the trained model's argmax, kept for every randomised model). */
  target?: Target;
  /** Lower zbox bound for the methods that need it. */
  low?: Bound;
  /** Upper zbox bound for the methods that need it. */
  high?: Bound;
  /** Samples per batch. */
  batch?: number;
  /** Called after each randomised layer with (layers done, total layers). */
  onProgress?: (done: number, total: number) => void;
}

/** One similarity measure between the trained and the randomised model's explanations. */
export interface Similarity {
  /** The measure for each sample. */
  perSample: Float64Array;
  /** Its mean and standard error over the samples. */
  summary: MeanStdErr;
}

/** One step of the cascade: one more layer randomised. */
export interface SanityStep {
  /** The node randomised at this step (all nodes above it are random too). */
  layer: string;
  /** That node's op. */
  op: string;
  /** Per method label: rank correlation of the heatmaps, of their absolute values, and SSIM. */
  methods: Record<
    string,
    {
      /** Spearman rank correlation of the heatmaps. */
      spearman: Similarity;
      /** Spearman rank correlation of their absolute values. */
      spearmanAbs: Similarity;
      /** SSIM of the heatmaps scaled by their largest absolute value. */
      ssim: Similarity;
    }
  >;
}

/** The result of {@link sanityCheck}. */
export interface SanityResult {
  /** Layers in the order they were randomised (top first). */
  steps: SanityStep[];
  /** The class explained for each sample (fixed by the trained model). */
  targets: Int32Array;
}

const PARAMETRISED = new Set<GraphNode['op']>(['dense', 'conv2d', 'batchnorm']);

/** The parametrised nodes from the output down: the order of the cascade. */
export function randomisationOrder(graph: Graph): GraphNode[] {
  return graph.nodes.filter((node) => PARAMETRISED.has(node.op)).reverse();
}

/**
 * Runs the cascading randomisation on x for each method (not 'random') and compares each
 * randomised model's explanations with the trained model's. The caller's model is not modified.
 */
export async function sanityCheck(model: Model, x: Float32Array, methods: ReadonlyArray<string | Method>, options: SanityOptions = {}): Promise<SanityResult> {
  const parsed = methods.map((m) => (typeof m === 'string' ? parseMethod(m) : m));
  for (const m of parsed) if (m.random) throw new InputError(`method '${m.label}' does not depend on the model: the sanity check needs methods that explain it`, 'E_METHOD');
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new InputError(`seed must be an integer in 0..2^32-1, got ${String(seed)}`, 'E_OPTION');
  const g = inputGeometry(model.inputShape, model.inputLayout);
  const attrOpts = { low: options.low, high: options.high, seed, batch: options.batch };

  // the trained model's explanations fix the targets for the randomised ones
  const first = parsed.map((m) => attributionsFor(model, x, m, { ...attrOpts, target: options.target }));
  const targets = first[0]?.targets ?? new Int32Array(0);
  const originals = first.map((r) => r.attributions);

  const layers = randomisationOrder(model.graph);
  const backendChoice = backendOf(model.backendName);
  const steps: SanityStep[] = [];
  const randomised = new Map<string, GraphNode>();
  for (const [k, node] of layers.entries()) {
    randomised.set(node.name, randomiseNode(node, deriveSeed(seed, k)));
    const copy: Graph = { ...model.graph, nodes: model.graph.nodes.map((nd) => randomised.get(nd.name) ?? nd), notes: [...model.graph.notes] };
    const random = new Model(copy, await createBackend(backendChoice));
    random.metadata = model.metadata; // the same input range (zbox bounds) and labels as the trained model
    random.memoryLimit = model.memoryLimit;
    try {
      const step: SanityStep = { layer: node.name, op: node.op, methods: {} };
      parsed.forEach((m, j) => {
        const r = attributionsFor(random, x, m, { ...attrOpts, target: targets });
        step.methods[m.label] = similarities(g, originals[j], r.attributions);
      });
      steps.push(step);
    } finally {
      random.dispose();
    }
    options.onProgress?.(k + 1, layers.length);
  }
  return { steps, targets };
}

/** The backend to create for a copy: the same kind as the model's. */
function backendOf(name: string): BackendChoice {
  switch (name) {
    case 'wasm-relaxed-simd':
      return 'wasm-relaxed';
    case 'wasm-simd':
    case 'wasm-scalar':
    case 'reference':
      return name;
    default:
      return 'wasm';
  }
}

/** A copy of the node with every parameter tensor redrawn (batch norm: its scale and shift only, so the variance stays valid). */
export function randomiseNode(node: GraphNode, seed: number): GraphNode {
  const redraw = (t: Float32Array, stream: number) => {
    const { mean, std } = moments(t);
    const gauss = normal(mulberry32(deriveSeed(seed, stream)));
    return Float32Array.from(t, () => mean + std * gauss());
  };
  switch (node.op) {
    case 'dense':
    case 'conv2d':
      return { ...node, weight: redraw(node.weight, 0), bias: node.bias && redraw(node.bias, 1) };
    case 'batchnorm':
      return { ...node, weight: redraw(node.weight, 0), bias: redraw(node.bias, 1) };
    default:
      return node;
  }
}

function moments(t: Float32Array): { mean: number; std: number } {
  let s = 0;
  for (const v of t) s += v;
  const mean = s / t.length;
  let ss = 0;
  for (const v of t) ss += (v - mean) ** 2;
  return { mean, std: Math.sqrt(ss / t.length) };
}

/** Per sample: heatmaps (channels summed per pixel) compared by rank correlation, of |values|, and SSIM of the maps scaled by their max |value|. */
function similarities(g: InputGeometry, a: Float32Array, b: Float32Array) {
  const per = g.C * g.H * g.W;
  const n = a.length / per;
  const rho = new Float64Array(n);
  const rhoAbs = new Float64Array(n);
  const ss = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    const ma = pixelMap(g, a, s * per);
    const mb = pixelMap(g, b, s * per);
    rho[s] = spearman(ma, mb);
    rhoAbs[s] = spearman(ma.map(Math.abs), mb.map(Math.abs));
    ss[s] = ssim(scaled(ma), scaled(mb), g.H, g.W, 2);
  }
  const sim = (v: Float64Array): Similarity => ({ perSample: v, summary: meanStdErr(v) });
  return { spearman: sim(rho), spearmanAbs: sim(rhoAbs), ssim: sim(ss) };
}

function pixelMap(g: InputGeometry, r: Float32Array, offset: number): Float64Array {
  const map = new Float64Array(g.H * g.W);
  for (let c = 0; c < g.C; c++) for (let y = 0; y < g.H; y++) for (let x = 0; x < g.W; x++) map[y * g.W + x] += r[offset + sampleIndex(g, c, y, x)];
  return map;
}

/** Divided by the largest |value| (into [-1, 1]); an all-zero map stays zero. */
function scaled(m: Float64Array): Float64Array {
  let max = 0;
  for (const v of m) max = Math.max(max, Math.abs(v));
  return max === 0 ? m : m.map((v) => v / max);
}
