/**
 * evaluate(): region perturbation (Samek et al. 2017). The input is cut into patches; the patches
 * are ranked by their summed attribution and replaced one per step, most relevant first (MoRF),
 * least relevant first (LeRF), or in a random order; the model's score for the target class is
 * read after every step. AOPC = mean over k = 0..steps of (f(x_0) - f(x_k)).
 * All perturbed copies of a group of samples go through predict() together, in batches.
 */
import { InputError } from '../errors.js';
import type { Model, Target } from '../model.js';
import { deriveSeed, mulberry32, shuffle } from './random.js';
import { inputGeometry, parsePatch, regionGrid, regionScores, type RegionGrid } from './regions.js';
import { REPLACEMENTS, replacementImage, type Replacement, type ReplacementSpec } from './replacement.js';
import { meanStdErr, type MeanStdErr } from './stats.js';

/** The order in which regions are perturbed: most relevant first, least relevant first, or random. */
export type PerturbationOrder = 'morf' | 'lerf' | 'random';
/** Every perturbation order. */
export const ORDERS: readonly PerturbationOrder[] = ['morf', 'lerf', 'random'];

/** The model output whose fall the curves follow. */
export type Score = 'logit' | 'probability';

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Patch side in pixels, or [height, width] (default 4; on a 1-D input: a run of values). */
  patch?: number | [number, number];
  /** Perturbation steps, one region each (default: 50, or every region if there are fewer). */
  steps?: number;
  /** Which orders to run (default ['morf', 'lerf']). */
  order?: PerturbationOrder | readonly PerturbationOrder[];
  /** What replaces a region (default 'constant'). */
  replacement?: Replacement;
  /** The constant for 'constant' (default 0). */
  value?: number;
  /** Gaussian std in pixels for 'blur' (default: the larger patch side). */
  sigma?: number;
  /** [lo, hi] of the noise for 'uniform' (default: the model's input range, else the data's min and max). */
  range?: [number, number];
  /** Seed for random orders and uniform noise (default 1). */
  seed?: number;
  /** Class whose score is followed: 'argmax' of the clean input (default), one index, or one per sample. */
  target?: Target;
  /** 'logit' (default) or the softmax 'probability' of the target. */
  score?: Score;
  /** Samples per predict batch (default 32). */
  batch?: number;
  /** Called after each group of samples with (samples done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** The curves and AOPC of one perturbation order. */
export interface OrderResult {
  /** Which order these results are for. */
  order: PerturbationOrder;
  /** [n, steps + 1] target score after k = 0..steps perturbation steps. */
  curves: Float32Array;
  /** Per sample: mean over k of (f(x_0) - f(x_k)). */
  aopc: Float64Array;
  /** Mean and standard error of the AOPC over the samples. */
  summary: MeanStdErr;
  /** Mean curve over the samples and its standard error per step (steps + 1 values each). */
  meanCurve: Float64Array;
  /** Standard error of the mean curve, per step. */
  stderrCurve: Float64Array;
}

/** The result of {@link evaluate}: one {@link OrderResult} per order that ran. */
export interface Evaluation {
  /** Number of samples. */
  n: number;
  /** Perturbation steps per sample. */
  steps: number;
  /** Patch size [height, width] in pixels. */
  patch: [number, number];
  /** Number of regions of one sample. */
  regions: number;
  /** What replaced the perturbed regions. */
  replacement: Replacement;
  /** Which model output the curves follow. */
  score: Score;
  /** Seed of the random orders and the uniform noise. */
  seed: number;
  /** The class followed for each sample. */
  targets: Int32Array;
  /** Fraction of the regions perturbed after k = 0..steps steps. */
  fractions: Float64Array;
  /** Most relevant first, if it ran. */
  morf?: OrderResult;
  /** Least relevant first, if it ran. */
  lerf?: OrderResult;
  /** Random order, if it ran. */
  random?: OrderResult;
  /** When MoRF and LeRF both ran: per sample mean over k of (f_LeRF(k) - f_MoRF(k)) = AOPC_MoRF - AOPC_LeRF. */
  area?: {
    /** AOPC_MoRF - AOPC_LeRF of each sample. */
    perSample: Float64Array;
    /** Its mean and standard error over the samples. */
    summary: MeanStdErr;
  };
  /** Milliseconds in model.predict and in total (the rest is bookkeeping: ranking, copies, scores). */
  timing: {
    /** Milliseconds in model.predict. */
    predictMs: number;
    /** Milliseconds in total. */
    totalMs: number;
  };
}

/** Bytes of perturbed copies built per group of samples (bounds memory for large inputs and many steps). */
const COPY_BYTES = 64 * 1024 * 1024;

const option = (message: string) => new InputError(message, 'E_OPTION');

/**
 * Region perturbation of x (n samples in the model's layout) ranked by `attributions` (same length
 * and layout, e.g. explain()'s relevance). `attributions` may be null when only random orders run.
 */
export function evaluate(model: Model, x: ArrayLike<number>, attributions: ArrayLike<number> | null, options: EvaluateOptions = {}): Evaluation {
  const t0 = now();
  const per = model.inputSize;
  if (!x || typeof x.length !== 'number' || x.length === 0 || x.length % per !== 0)
    throw new InputError(`x must hold a whole number of samples of ${per} values (shape [${model.inputShape.join(', ')}]), got ${x?.length} values`);
  const n = x.length / per;
  const xs = x instanceof Float32Array ? x : Float32Array.from(x);
  for (let i = 0; i < xs.length; i++)
    if (!Number.isFinite(xs[i])) throw new InputError(`x holds ${xs[i]} at sample ${Math.floor(i / per)}, index ${i % per}: inputs must be finite`);
  const o = resolveOptions(model, xs, options);
  const needsRanking = o.orders.some((k) => k !== 'random');
  if (needsRanking) checkAttributions(attributions, xs.length);
  const targetsIn = checkTargets(options.target ?? 'argmax', n, model.outputSize);

  const S = o.steps;
  const O = model.outputSize;
  const copiesPerSample = o.orders.length * (S + 1);
  const group = Math.max(1, Math.min(n, Math.floor(COPY_BYTES / (4 * per * copiesPerSample))));
  const buf = new Float32Array(group * copiesPerSample * per);
  const repl = new Float32Array(per);
  const scores = new Float64Array(o.grid.count);
  const curves = o.orders.map(() => new Float32Array(n * (S + 1)));
  const targets = new Int32Array(n);
  let predictMs = 0;

  for (let s0 = 0; s0 < n; s0 += group) {
    const m = Math.min(group, n - s0);
    for (let i = 0; i < m; i++) {
      const s = s0 + i;
      const sample = xs.subarray(s * per, (s + 1) * per);
      replacementImage(o.spec, o.grid.geometry, sample, deriveSeed(o.seed, s, STREAM_NOISE), repl);
      o.orders.forEach((order, j) => {
        const ranking = rankRegions(o.grid, order, attributions, s * per, scores, deriveSeed(o.seed, s, STREAM_ORDER));
        const base = (i * copiesPerSample + j * (S + 1)) * per;
        buf.set(sample, base);
        for (let k = 1; k <= S; k++) {
          const dst = base + k * per;
          buf.copyWithin(dst, dst - per, dst);
          const r = ranking[k - 1];
          for (let q = o.grid.offsets[r]; q < o.grid.offsets[r + 1]; q++) {
            const idx = o.grid.indices[q];
            buf[dst + idx] = repl[idx];
          }
        }
      });
    }
    const t = now();
    const logits = model.predict(buf.subarray(0, m * copiesPerSample * per), { batch: o.batch });
    predictMs += now() - t;
    for (let i = 0; i < m; i++) {
      const s = s0 + i;
      const clean = logits.subarray(i * copiesPerSample * O, (i * copiesPerSample + 1) * O);
      const t = targetsIn === 'argmax' ? argmax(clean) : targetsIn[s];
      targets[s] = t;
      o.orders.forEach((_, j) => {
        for (let k = 0; k <= S; k++) {
          const row = (i * copiesPerSample + j * (S + 1) + k) * O;
          curves[j][s * (S + 1) + k] = scoreOf(logits.subarray(row, row + O), t, o.score);
        }
      });
    }
    options.onProgress?.(s0 + m, n);
  }

  const result: Evaluation = {
    n,
    steps: S,
    patch: o.grid.patch,
    regions: o.grid.count,
    replacement: o.spec.kind,
    score: o.score,
    seed: o.seed,
    targets,
    fractions: Float64Array.from({ length: S + 1 }, (_, k) => k / o.grid.count),
    timing: { predictMs, totalMs: 0 },
  };
  o.orders.forEach((order, j) => (result[order] = summarise(order, curves[j], n, S)));
  if (result.morf && result.lerf) {
    const perSample = result.morf.aopc.map((v, s) => v - result.lerf!.aopc[s]);
    result.area = { perSample, summary: meanStdErr(perSample) };
  }
  result.timing.totalMs = now() - t0;
  return result;
}

const STREAM_NOISE = 1;
const STREAM_ORDER = 2;

interface Resolved {
  grid: RegionGrid;
  steps: number;
  orders: PerturbationOrder[];
  spec: ReplacementSpec;
  seed: number;
  score: Score;
  batch: number;
}

function resolveOptions(model: Model, xs: Float32Array, options: EvaluateOptions): Resolved {
  if (options === null || typeof options !== 'object') throw option(`options must be an object`);
  const g = inputGeometry(model.inputShape, model.inputLayout);
  const grid = regionGrid(g, parsePatch(options.patch ?? Math.min(4, g.H === 1 ? g.W : Math.min(g.H, g.W)), g));
  const steps = options.steps ?? Math.min(50, grid.count);
  if (!Number.isInteger(steps) || steps < 1) throw option(`steps must be a positive integer, got ${String(options.steps)}`);
  if (steps > grid.count)
    throw option(`steps ${steps} is more than the ${grid.count} regions of ${grid.patch[0]}x${grid.patch[1]} patches in a ${g.H}x${g.W} input (one region per step)`);
  const orderIn = options.order ?? ['morf', 'lerf'];
  const orders = typeof orderIn === 'string' ? [orderIn] : Array.isArray(orderIn) ? [...orderIn] : null;
  if (!orders || orders.length === 0) throw option(`order must be one of ${ORDERS.join(', ')} or a list of them`);
  for (const k of orders) if (!ORDERS.includes(k)) throw option(`unknown order '${String(k)}' (known: ${ORDERS.join(', ')})`);
  if (new Set(orders).size !== orders.length) throw option(`order lists '${orders.join(', ')}': each order at most once`);
  const kind = options.replacement ?? 'constant';
  if (!REPLACEMENTS.includes(kind)) throw option(`unknown replacement '${String(kind)}' (known: ${REPLACEMENTS.join(', ')})`);
  const value = options.value ?? 0;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw option(`value must be a finite number, got ${String(value)}`);
  const sigma = options.sigma ?? Math.max(...grid.patch);
  if (typeof sigma !== 'number' || !Number.isFinite(sigma) || sigma <= 0) throw option(`sigma must be a positive number, got ${String(sigma)}`);
  const range = options.range ?? model.graph.inputRange ?? dataRange(xs);
  if (!Array.isArray(range) || range.length !== 2 || !range.every((v) => typeof v === 'number' && Number.isFinite(v)) || range[0] > range[1])
    throw option(`range must be [lo, hi] with lo <= hi, got ${JSON.stringify(range)}`);
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw option(`seed must be an integer in 0..2^32-1, got ${String(seed)}`);
  const score = options.score ?? 'logit';
  if (score !== 'logit' && score !== 'probability') throw option(`score must be 'logit' or 'probability', got '${String(score)}'`);
  const batch = options.batch ?? 32;
  if (!Number.isInteger(batch) || batch < 1) throw option(`batch must be a positive integer, got ${String(options.batch)}`);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw option(`onProgress must be a function`);
  return { grid, steps, orders, spec: { kind, value, sigma, range: [range[0], range[1]] }, seed, score, batch };
}

function checkAttributions(a: ArrayLike<number> | null, length: number): void {
  if (!a || typeof a.length !== 'number') throw new InputError(`attributions must be an array of ${length} values (one per input value, the layout of x); only order 'random' runs without them`);
  if (a.length !== length) throw new InputError(`attributions hold ${a.length} values but x holds ${length}: give one attribution per input value, in the layout of x`);
  for (let i = 0; i < length; i++)
    if (!Number.isFinite(a[i])) throw new InputError(`attributions hold ${a[i]} at index ${i}: attributions must be finite`);
}

function checkTargets(target: Target, n: number, outputs: number): 'argmax' | Int32Array {
  if (target === 'argmax') return 'argmax';
  const list = typeof target === 'number' ? new Array<number>(n).fill(target) : target;
  if (!list || typeof list !== 'object' || typeof list.length !== 'number') throw new InputError(`target must be 'argmax', a class index or one index per sample`);
  if (list.length !== n) throw new InputError(`target has ${list.length} entries but x has ${n} samples`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(list[i]) || list[i] < 0 || list[i] >= outputs)
      throw new InputError(`target ${list[i]} (sample ${i}) is out of range: the model has ${outputs} outputs (0..${outputs - 1})`);
    out[i] = list[i];
  }
  return out;
}

/** Region ids in perturbation order. Ties keep the region order (top-left first), so rankings are deterministic. */
function rankRegions(grid: RegionGrid, order: PerturbationOrder, attributions: ArrayLike<number> | null, offset: number, scores: Float64Array, seed: number): Int32Array {
  const ids = Int32Array.from({ length: grid.count }, (_, r) => r);
  if (order === 'random') return shuffle(ids, mulberry32(seed));
  regionScores(grid, attributions!, offset, scores);
  const sign = order === 'morf' ? -1 : 1;
  return ids.sort((a, b) => sign * (scores[a] - scores[b]) || a - b);
}

function scoreOf(row: Float32Array, t: number, score: Score): number {
  if (score === 'logit') return row[t];
  let max = -Infinity;
  for (let j = 0; j < row.length; j++) max = Math.max(max, row[j]);
  let sum = 0;
  for (let j = 0; j < row.length; j++) sum += Math.exp(row[j] - max);
  return Math.exp(row[t] - max) / sum;
}

function summarise(order: PerturbationOrder, curves: Float32Array, n: number, S: number): OrderResult {
  const aopc = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    const c = curves.subarray(s * (S + 1), (s + 1) * (S + 1));
    let sum = 0;
    for (let k = 0; k <= S; k++) sum += c[0] - c[k];
    aopc[s] = sum / (S + 1);
  }
  const meanCurve = new Float64Array(S + 1);
  const stderrCurve = new Float64Array(S + 1);
  const column = new Float64Array(n);
  for (let k = 0; k <= S; k++) {
    for (let s = 0; s < n; s++) column[s] = curves[s * (S + 1) + k];
    const ms = meanStdErr(column);
    meanCurve[k] = ms.mean;
    stderrCurve[k] = ms.stderr ?? 0;
  }
  return { order, curves, aopc, summary: meanStdErr(aopc), meanCurve, stderrCurve };
}

function dataRange(xs: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    if (xs[i] < lo) lo = xs[i];
    if (xs[i] > hi) hi = xs[i];
  }
  return [lo, hi];
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
  return best;
}

const now = () => globalThis.performance.now();
