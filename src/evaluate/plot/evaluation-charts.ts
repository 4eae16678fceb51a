/** The three evaluation charts from results: perturbation curves, AOPC bars, sanity-check similarity. */
import type { MethodEvaluation } from '../compare.js';
import type { SanityResult } from '../sanity.js';
import { barChart, lineChart } from './charts.js';
import type { Scene } from './scene.js';

const scoreName = (r: MethodEvaluation[]) => (r[0]?.evaluation.score === 'probability' ? 'probability of the class' : 'logit of the class');

/** Mean score per step (+-1 SE band) for each method, one panel per order that ran. */
export function curvesChart(results: MethodEvaluation[], title: string): Scene {
  const e0 = results[0].evaluation;
  const panels = (['morf', 'lerf', 'random'] as const)
    .filter((o) => e0[o])
    .map((o) => ({
      title: { morf: 'MoRF: most relevant first', lerf: 'LeRF: least relevant first', random: 'random order' }[o],
      series: results.map((r) => ({ label: r.label, mean: r.evaluation[o]!.meanCurve, stderr: r.evaluation[o]!.stderrCurve })),
    }));
  // one y range for every panel, so that they compare
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of panels)
    for (const s of p.series)
      for (let k = 0; k < s.mean.length; k++) {
        lo = Math.min(lo, s.mean[k] - s.stderr[k]);
        hi = Math.max(hi, s.mean[k] + s.stderr[k]);
      }
  return lineChart({
    title,
    x: e0.fractions,
    xLabel: `fraction of ${e0.patch[0]}x${e0.patch[1]} regions replaced (${e0.replacement})`,
    yLabel: scoreName(results),
    panels: panels.map((p) => ({ ...p, yRange: [lo, hi] as [number, number] })),
  });
}

/** AOPC of MoRF and LeRF and their difference per method, mean +-1 SE. */
export function aopcChart(results: MethodEvaluation[], title: string): Scene {
  return barChart({
    title,
    xLabel: `AOPC (${scoreName(results)})`,
    groups: results.map((r) => {
      const e = r.evaluation;
      const bars = [];
      if (e.morf) bars.push({ name: 'MoRF (higher is better)', ...e.morf.summary });
      if (e.lerf) bars.push({ name: 'LeRF (lower is better)', ...e.lerf.summary });
      if (e.area) bars.push({ name: 'MoRF - LeRF (higher is better)', ...e.area.summary });
      if (e.random) bars.push({ name: 'random order', ...e.random.summary });
      return { label: r.label, bars };
    }),
  });
}

/** Similarity to the trained model's explanation as more layers are randomised (the first point: none). */
export function sanityChart(sanity: SanityResult, title: string): Scene {
  const labels = Object.keys(sanity.steps[0]?.methods ?? {});
  const measure = (key: 'spearman' | 'spearmanAbs' | 'ssim') =>
    labels.map((label) => ({
      label,
      mean: [1, ...sanity.steps.map((s) => s.methods[label][key].summary.mean)],
      stderr: [0, ...sanity.steps.map((s) => s.methods[label][key].summary.stderr ?? 0)],
    }));
  return lineChart({
    title,
    x: Array.from({ length: sanity.steps.length + 1 }, (_, i) => i),
    xTickLabels: ['none', ...sanity.steps.map((s) => s.layer)],
    xLabel: 'randomised down to layer (cascading, from the output)',
    yLabel: 'similarity to the original',
    panels: [
      { title: 'Spearman rank correlation', series: measure('spearman'), yRange: [-0.25, 1] },
      { title: 'Spearman of |relevance|', series: measure('spearmanAbs'), yRange: [-0.25, 1] },
      { title: 'SSIM', series: measure('ssim'), yRange: [-0.25, 1] },
    ],
  });
}
