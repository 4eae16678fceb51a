/**
 * Results as data: the JSON report (results.json) and the text tables of `lrp evaluate`.
 * Numbers in tables have a fixed number of decimals, so that runs with the same seed print the same digits.
 */
import type { MethodEvaluation } from './compare.js';
import type { OrderResult, PerturbationOrder } from './perturbation.js';
import type { SanityResult } from './sanity.js';
import type { MeanStdErr } from './stats.js';

/** 6 significant digits: plenty for float32 scores, and a compact JSON. */
const r6 = (v: number) => Number(v.toPrecision(6));
const summary = (s: MeanStdErr) => ({ mean: r6(s.mean), stderr: s.stderr === null ? null : r6(s.stderr) });

function orderJson(o: OrderResult) {
  return {
    aopc: summary(o.summary),
    meanCurve: Array.from(o.meanCurve, r6),
    stderrCurve: Array.from(o.stderrCurve, r6),
    perSample: Array.from(o.aopc, r6),
  };
}

export function evaluationJson(results: MethodEvaluation[]) {
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
    methods: results.map((r) => {
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

export function sanityJson(s: SanityResult, samples: number) {
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
export function aopcTable(results: MethodEvaluation[]): { header: string[]; rows: string[][] } {
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
export function sanityTable(s: SanityResult): { header: string[]; rows: string[][] } {
  const labels = Object.keys(s.steps[0]?.methods ?? {});
  return {
    header: ['method', ...s.steps.map((step) => `→ ${step.layer}`)],
    rows: labels.map((l) => [
      l,
      ...s.steps.map((step) => `${step.methods[l].spearman.summary.mean.toFixed(3)} / ${step.methods[l].ssim.summary.mean.toFixed(3)}`),
    ]),
  };
}
