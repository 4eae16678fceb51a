/**
 * Results as data: the JSON report (results.json) and the text tables of `lrp evaluate`.
 * Numbers in tables have a fixed number of decimals, so that runs with the same seed print the same digits.
 */
import type { MethodEvaluation } from './compare.js';
import type { OrderResult, PerturbationOrder, Score } from './perturbation.js';
import type { Replacement } from './replacement.js';
import type { SanityResult } from './sanity.js';
import type { MeanStdErr } from './stats.js';

/** 6 significant digits: plenty for float32 scores, and a compact JSON. */
const r6 = (v: number) => Number(v.toPrecision(6));
const summary = (s: MeanStdErr): MeanStdErr => ({ mean: r6(s.mean), stderr: s.stderr === null ? null : r6(s.stderr) });

/** One perturbation order of one method in results.json. */
export interface OrderJson {
  /** Mean and standard error of the AOPC over the samples. */
  aopc: MeanStdErr;
  /** Mean target score after k = 0..steps steps. */
  meanCurve: number[];
  /** Standard error of the mean curve, per step. */
  stderrCurve: number[];
  /** AOPC of each sample. */
  perSample: number[];
}

/** One method's results in results.json. */
export interface MethodJson {
  /** The method's label. */
  label: string;
  /** The class explained and followed for each sample. */
  targets: number[];
  /** Whole milliseconds spent. */
  timing: {
    /** Computing the attributions. */
    attributionMs: number;
    /** In model.predict during the perturbation. */
    predictMs: number;
    /** In the whole perturbation. */
    evaluateMs: number;
  };
  /** Most relevant first, if it ran. */
  morf?: OrderJson;
  /** Least relevant first, if it ran. */
  lerf?: OrderJson;
  /** Random order, if it ran. */
  random?: OrderJson;
  /** AOPC_MoRF - AOPC_LeRF (mean, standard error, per sample), when both ran. */
  morfMinusLerf?: MeanStdErr & {
    /** AOPC_MoRF - AOPC_LeRF of each sample. */
    perSample: number[];
  };
}

/** The region perturbation part of results.json; the settings are those of the first method's evaluation (all share them). */
export interface EvaluationJson {
  /** Number of samples. */
  n: number;
  /** Patch size [height, width] in pixels. */
  patch?: [number, number];
  /** Number of regions of one sample. */
  regions?: number;
  /** Perturbation steps per sample. */
  steps?: number;
  /** What replaced the perturbed regions. */
  replacement?: Replacement;
  /** Which model output the curves follow. */
  score?: Score;
  /** Seed of the random orders and noise. */
  seed?: number;
  /** Fraction of the regions perturbed after k = 0..steps steps. */
  fractions: number[];
  /** One entry per method, in the order compared. */
  methods: MethodJson[];
}

/** The sanity check part of results.json. */
export interface SanityJson {
  /** Number of samples explained. */
  samples: number;
  /** One entry per randomised layer, top first. */
  steps: Array<{
    /** The node randomised at this step. */
    layer: string;
    /** That node's op. */
    op: string;
    /** Per method label: mean and standard error of each similarity measure. */
    methods: Record<
      string,
      {
        /** Spearman rank correlation of the heatmaps. */
        spearman: MeanStdErr;
        /** Spearman rank correlation of their absolute values. */
        spearmanAbs: MeanStdErr;
        /** SSIM of the scaled heatmaps. */
        ssim: MeanStdErr;
      }
    >;
  }>;
}

/** A text table: column titles and rows of cells. */
export interface TextTable {
  /** Column titles. */
  header: string[];
  /** One row of cells per method. */
  rows: string[][];
}

function orderJson(o: OrderResult): OrderJson {
  return {
    aopc: summary(o.summary),
    meanCurve: Array.from(o.meanCurve, r6),
    stderrCurve: Array.from(o.stderrCurve, r6),
    perSample: Array.from(o.aopc, r6),
  };
}

/** The JSON report of compared methods (numbers rounded to 6 significant digits). */
export function evaluationJson(results: MethodEvaluation[]): EvaluationJson {
  const e0 = results[0]?.evaluation;
  return {
    n: e0?.n ?? 0,
    patch: e0?.patch,
    regions: e0?.regions,
    steps: e0?.steps,
    replacement: e0?.replacement,
    score: e0?.score,
    seed: e0?.seed,
    fractions: e0 ? Array.from(e0.fractions, r6) : [],
    methods: results.map((r): MethodJson => {
      const e = r.evaluation;
      return {
        label: r.label,
        targets: Array.from(e.targets),
        timing: { attributionMs: Math.round(r.attributionMs), predictMs: Math.round(e.timing.predictMs), evaluateMs: Math.round(e.timing.totalMs) },
        ...(e.morf ? { morf: orderJson(e.morf) } : {}),
        ...(e.lerf ? { lerf: orderJson(e.lerf) } : {}),
        ...(e.random ? { random: orderJson(e.random) } : {}),
        ...(e.area ? { morfMinusLerf: { ...summary(e.area.summary), perSample: Array.from(e.area.perSample, r6) } } : {}),
      };
    }),
  };
}

/** The JSON report of a sanity check on `samples` samples (numbers rounded to 6 significant digits). */
export function sanityJson(s: SanityResult, samples: number): SanityJson {
  return {
    samples,
    steps: s.steps.map((step) => ({
      layer: step.layer,
      op: step.op,
      methods: Object.fromEntries(
        Object.entries(step.methods).map(([label, m]) => [label, { spearman: summary(m.spearman.summary), spearmanAbs: summary(m.spearmanAbs.summary), ssim: summary(m.ssim.summary) }]),
      ),
    })),
  };
}

/** "9.282 ± 0.380" with `digits` decimals; just the mean when there is no standard error. */
export function formatMeanStdErr(s: MeanStdErr, digits = 3): string {
  const m = s.mean.toFixed(digits);
  return s.stderr === null ? m : `${m} ± ${s.stderr.toFixed(digits)}`;
}

/** Rows of the AOPC table: method, then mean ± SE per order that ran, then MoRF - LeRF. */
export function aopcTable(results: MethodEvaluation[]): TextTable {
  const e0 = results[0]?.evaluation;
  const orders = (['morf', 'lerf', 'random'] as PerturbationOrder[]).filter((o) => e0?.[o]);
  const title = { morf: 'AOPC MoRF ↑', lerf: 'AOPC LeRF ↓', random: 'AOPC random' };
  const header = ['method', ...orders.map((o) => title[o]), ...(e0?.area ? ['MoRF − LeRF ↑'] : [])];
  const rows = results.map((r) => [
    r.label,
    ...orders.map((o) => formatMeanStdErr(r.evaluation[o]!.summary)),
    ...(r.evaluation.area ? [formatMeanStdErr(r.evaluation.area.summary)] : []),
  ]);
  return { header, rows };
}

/** Rows of the sanity table: one per method, one column per randomised layer (Spearman / SSIM, means). */
export function sanityTable(s: SanityResult): TextTable {
  const labels = Object.keys(s.steps[0]?.methods ?? {});
  return {
    header: ['method', ...s.steps.map((step) => `→ ${step.layer}`)],
    rows: labels.map((l) => [
      l,
      ...s.steps.map((step) => `${step.methods[l].spearman.summary.mean.toFixed(3)} / ${step.methods[l].ssim.summary.mean.toFixed(3)}`),
    ]),
  };
}
