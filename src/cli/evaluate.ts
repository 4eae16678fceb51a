/**
 * `lrp evaluate MODEL INPUT...`: every --methods contender through region perturbation (and a
 * sanity check on the first --sanity samples); writes results.json, curves.npy and the plots
 * (curves, aopc, sanity; SVG and PNG) to --out, and prints the AOPC table.
 */
import path from 'node:path';
import {
  aopcChart,
  aopcTable,
  compareMethods,
  curvesChart,
  encodePNG,
  evaluationJson,
  randomisationOrder,
  rasterize,
  sanityChart,
  sanityCheck,
  sanityJson,
  sanityTable,
  toSVG,
  writeNpy,
  type MethodEvaluation,
  type PerturbationOrder,
  type SanityResult,
  type Scene,
} from '../index.js';
import type { CliOptions } from './args.js';
import { open, progressFor, readBatch, resolveTargets, type CliIO } from './commands.js';
import { checkOutDir, table } from './outputs.js';
import { StagedFiles } from './staged-files.js';

const display = (p: string) => (path.isAbsolute(p) ? p : p.split(path.sep).join('/'));
const range = (b: number | number[]): [number, number] => (Array.isArray(b) ? [Math.min(...b), Math.max(...b)] : [b, b]);

export async function evaluateCommand(o: CliOptions, io: CliIO): Promise<number> {
  const e = o.evaluate!;
  checkOutDir(o.out);
  const ctx = await open(o, io);
  try {
    const { model } = ctx;
    const batch = readBatch(o, ctx, io);
    const { n, x } = batch;
    const targets = resolveTargets(o.target, n, ctx);
    const low = ctx.low ?? (batch.hasImages ? ctx.imageLow : undefined);
    const high = ctx.high ?? (batch.hasImages ? ctx.imageHigh : undefined);
    // noise range: --range, else the input range the command line knows, else the library's default
    const noiseRange = e.range ?? (ctx.rangeSource !== 'default' ? ([range(ctx.imageLow)[0], range(ctx.imageHigh)[1]] as [number, number]) : undefined);

    const bar = progressFor(io, n);
    bar.start(e.methods.length * n, 'evaluating');
    let results: MethodEvaluation[];
    try {
      results = compareMethods(model, x, e.methods, {
        patch: e.patch,
        steps: e.steps,
        order: e.order,
        replacement: e.replacement,
        value: e.value,
        sigma: e.sigma,
        range: noiseRange,
        seed: e.seed,
        score: e.score,
        target: targets,
        batch: o.batch,
        low,
        high,
        onProgress: (done) => bar.update(done),
      });
    } finally {
      bar.stop();
    }

    const sanityMethods = e.methods.filter((m) => !m.random);
    const m = Math.min(e.sanity, n);
    let sanity: SanityResult | null = null;
    if (m > 0 && sanityMethods.length > 0 && randomisationOrder(model.graph).length > 0) {
      const sbar = progressFor(io, m);
      sbar.start(randomisationOrder(model.graph).length, 'sanity');
      try {
        sanity = await sanityCheck(model, x.subarray(0, m * model.inputSize), sanityMethods, {
          seed: e.seed,
          target: targets === 'argmax' ? undefined : targets.slice(0, m),
          low,
          high,
          batch: o.batch,
          onProgress: (done) => sbar.update(done),
        });
      } finally {
        sbar.stop();
      }
    }

    // everything to files, written at once
    const staged = new StagedFiles();
    const title = `${ctx.displayName}: ${n} samples`;
    const chart = (name: string, scene: Scene) => {
      staged.add(path.join(o.out, `${name}.svg`), new TextEncoder().encode(toSVG(scene)));
      const img = rasterize(scene);
      staged.add(path.join(o.out, `${name}.png`), encodePNG(img.rgba, img.width, img.height));
    };
    chart('curves', curvesChart(results, `${title}, region perturbation, mean +-1 SE`));
    chart('aopc', aopcChart(results, `${title}, AOPC per method, mean +-1 SE`));
    if (sanity) chart('sanity', sanityChart(sanity, `${ctx.displayName}: cascading randomisation, ${m} samples, mean +-1 SE`));
    const e0 = results[0].evaluation;
    const orders = e.order as PerturbationOrder[];
    const S1 = e0.steps + 1;
    const curves = new Float32Array(results.length * orders.length * n * S1);
    results.forEach((r, i) => orders.forEach((ord, j) => curves.set(r.evaluation[ord]!.curves, (i * orders.length + j) * n * S1)));
    staged.add(path.join(o.out, 'curves.npy'), writeNpy(curves, [results.length, orders.length, n, S1]));
    const report = {
      command: 'evaluate',
      model: o.model,
      name: model.name,
      inputs: o.inputs,
      ...evaluationJson(results),
      orders,
      curves: { file: 'curves.npy', shape: [results.length, orders.length, n, S1], axes: ['method', 'order', 'sample', 'step'] },
      sanity: sanity ? sanityJson(sanity, m) : null,
    };
    staged.add(path.join(o.out, 'results.json'), new TextEncoder().encode(`${JSON.stringify(report, null, 1)}\n`));
    await staged.commit();

    if (o.json) io.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      const t = aopcTable(results);
      io.stdout.write(`${ctx.displayName}: ${n} samples, ${e0.patch[0]}x${e0.patch[1]} patches (${e0.regions} regions), ${e0.steps} steps, ${e0.replacement} replacement, ${e0.score}, seed ${e0.seed}\n`);
      io.stdout.write(`${table(t.header, t.rows)}\n`);
      if (sanity) {
        const st = sanityTable(sanity);
        io.stdout.write(`\nsanity check (${m} samples): Spearman / SSIM to the trained model's explanation, with the layers from the output down to → randomised\n`);
        io.stdout.write(`${table(st.header, st.rows)}\n`);
      }
      io.stdout.write(`wrote results.json, curves.npy and ${sanity ? 'curves, aopc, sanity' : 'curves, aopc'} (.svg, .png) to ${display(o.out)}\n`);
    }
    return 0;
  } finally {
    ctx.model.dispose();
  }
}
