/**
 * The three commands: explain (heatmaps, overview, optional relevance .npy), predict (a table,
 * optional logits .npy) and info (the model's layers and rules). Each validates everything and
 * computes everything before it writes a single file.
 */
import path from 'node:path';
import { encodePNG, formatRule, heatmap, reduceRelevance, writeNpy, type ExplainOptions } from '../index.js';
import { renderSample } from './sample-image.js';
import { CliError } from './errors.js';
import type { CliOptions, TargetSpec } from './args.js';
import { classLabel, openModel, type ModelContext } from './context.js';
import { layoutShape, loadInputs, type InputBatch } from './inputs.js';
import { checkOutDir, checkOutFile, jnum, num, table } from './outputs.js';
import { StagedFiles } from './staged-files.js';
import { renderOverview } from './overview.js';
import { createProgress, type Progress } from './progress.js';
import { checkTextModel, explainText, predictText, textModelInfo } from './text.js';
import { explainDataset, isDatasetRun } from './dataset.js';

export interface CliIO {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** Whether stderr is a terminal (progress bars). */
  isTTY?: boolean;
  /** Whether stdout is a terminal (coloured text heatmaps). */
  stdoutIsTTY?: boolean;
}

const DEFAULT_BATCH = 32;

export function open(o: CliOptions, io: CliIO): Promise<ModelContext> {
  return openModel({ model: o.model, backend: o.backend, metadata: o.metadata, scale: o.scale, mean: o.mean, std: o.std, low: o.low, high: o.high }).then((ctx) => {
    for (const w of ctx.warnings) io.stderr.write(`lrp: warning: ${w}\n`);
    return ctx;
  });
}

export function progressFor(io: CliIO, n: number): Progress {
  return createProgress(io.stderr as NodeJS.WritableStream, io.isTTY ?? false, n);
}

/** Reads the inputs with a progress bar when there are many files; says what was done to fit them (not with --json, which lists it). */
export function readBatch(o: CliOptions, ctx: ModelContext, io: CliIO): InputBatch {
  const bar = progressFor(io, o.inputs.length);
  bar.start(o.inputs.length, 'reading');
  let batch: InputBatch;
  try {
    batch = loadInputs(o.inputs, ctx, (k) => bar.update(k));
  } finally {
    bar.stop();
  }
  if (!o.json) {
    const said = new Set<string>();
    for (const smp of batch.samples)
      for (const note of smp.notes) {
        const line = `lrp: note: ${smp.index === null ? smp.label : smp.file}: ${note}\n`;
        if (!said.has(line)) io.stderr.write(line);
        said.add(line);
      }
  }
  return batch;
}

/**
 * The rule options of an explain run: composite or rule, and the zbox bounds (--low/--high, else the
 * image range of metadata.json when the inputs are images); options not given are left out.
 */
export function explainOptions(o: CliOptions, ctx: ModelContext, hasImages: boolean): Pick<ExplainOptions, 'composite' | 'rule' | 'firstRule' | 'low' | 'high' | 'start'> {
  const opts: Pick<ExplainOptions, 'composite' | 'rule' | 'firstRule' | 'low' | 'high' | 'start'> = {
    composite: o.composite,
    rule: o.rule,
    firstRule: o.firstRule,
    low: ctx.low ?? (hasImages ? ctx.imageLow : undefined),
    high: ctx.high ?? (hasImages ? ctx.imageHigh : undefined),
    start: o.start,
  };
  for (const k of Object.keys(opts) as Array<keyof typeof opts>) if (opts[k] === undefined) delete opts[k];
  return opts;
}

/** --target → 'argmax' or one class per sample; names are looked up in metadata.json's classes. */
export function resolveTargets(spec: TargetSpec, n: number, ctx: ModelContext): 'argmax' | number[] {
  if (spec.kind === 'argmax') return 'argmax';
  const O = ctx.model.outputSize;
  const ids = spec.items.map((item) => {
    if (typeof item === 'number') {
      if (item >= O) throw new CliError(`--target ${item} is out of range: model '${ctx.model.name}' has ${O} outputs (0..${O - 1})`);
      return item;
    }
    const k = ctx.classes?.findIndex((c) => c.toLowerCase() === item.toLowerCase()) ?? -1;
    if (k < 0)
      throw new CliError(
        ctx.classes
          ? `--target '${item}' is not a class of the model (classes: ${ctx.classes.join(', ')})`
          : `--target '${item}' is not a class index (and there is no metadata.json with class names)`,
      );
    return k;
  });
  if (ids.length === 1) return new Array<number>(n).fill(ids[0]);
  if (ids.length !== n) throw new CliError(`--target has ${ids.length} entries but the inputs hold ${n} sample${n === 1 ? '' : 's'}`);
  return ids;
}

export function compositeName(o: CliOptions): string {
  if (o.rule) return o.firstRule ? `${formatRule(o.rule)}, first ${formatRule(o.firstRule)}` : formatRule(o.rule);
  return o.composite ?? 'epsilon-plus';
}

/** Rewords the library's hint for zbox without bounds in command line terms. */
export function cliMessage(e: unknown): unknown {
  if (e instanceof Error && e.message.includes('pass { low, high } to explain()')) {
    e.message = e.message.replace('pass { low, high } to explain()', 'pass --low and --high (or --scale, or a metadata.json with the input range)');
  }
  return e;
}

function softmaxTop(row: Float32Array): { k: number; p: number } {
  let k = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[k]) k = j;
  let s = 0;
  for (let j = 0; j < row.length; j++) s += Math.exp(row[j] - row[k]);
  return { k, p: 1 / s };
}

function argmaxOf(row: Float32Array): number {
  let k = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[k]) k = j;
  return k;
}

export const display = (p: string) => (path.isAbsolute(p) ? p : p.split(path.sep).join('/'));

const jbound = (b: ExplainOptions['low']) => (b === undefined ? null : typeof b === 'number' ? jnum(b) : Array.from(b, jnum));

/** The largest per-pixel |R| of the batch (channels reduced as the heatmaps do): one colour scale for every sample. */
function sharedScale(relevance: Float32Array, n: number, per: number, drawn: Parameters<typeof reduceRelevance>[1]): number | undefined {
  let m = 0;
  for (let i = 0; i < n; i++) for (const v of reduceRelevance(relevance.subarray(i * per, (i + 1) * per), drawn)) m = Math.max(m, Math.abs(v));
  return m > 0 ? m : undefined;
}

// ---------------------------------------------------------------------------------------------

export async function explainCommand(o: CliOptions, io: CliIO): Promise<number> {
  checkOutDir(o.out);
  if (o.npy) checkOutFile(o.npy, '--npy');
  const ctx = await open(o, io);
  try {
    checkTextModel(o, ctx);
    if (isDatasetRun(o)) return await explainDataset(o, ctx, io);
    if (ctx.model.inputKind === 'tokens') return await explainText(o, ctx, io);
    const { model } = ctx;
    const batch = readBatch(o, ctx, io);
    const { n, x } = batch;
    const targets = resolveTargets(o.target, n, ctx);
    const per = model.inputSize;
    const O = model.outputSize;
    const opts: ExplainOptions = explainOptions(o, ctx, batch.hasImages);

    // explain in chunks of --batch samples (the library's own chunking, so the numbers are the same)
    const chunk = o.batch ?? DEFAULT_BATCH;
    const relevance = new Float32Array(n * per);
    const logits = new Float32Array(n * O);
    const explained = new Int32Array(n);
    const startSums = new Float32Array(n);
    const inputSums = new Float32Array(n);
    const bar = progressFor(io, n);
    bar.start(n, 'explaining');
    try {
      for (let s = 0; s < n; s += chunk) {
        const m = Math.min(chunk, n - s);
        const r = model.explain(x.subarray(s * per, (s + m) * per), {
          ...opts,
          target: targets === 'argmax' ? 'argmax' : targets.slice(s, s + m),
          batch: chunk,
        });
        relevance.set(r.relevance, s * per);
        logits.set(r.logits, s * O);
        explained.set(r.targets, s);
        startSums.set(r.sums.start, s);
        inputSums.set(r.sums.input, s);
        bar.update(s + m);
      }
    } catch (e) {
      throw cliMessage(e);
    } finally {
      bar.stop();
    }

    // render everything in memory
    const g = ctx.geometry;
    const staged = new StagedFiles();
    const cells = [];
    const heatBar = progressFor(io, n);
    heatBar.start(n, 'heatmaps');
    const predicted: number[] = [];
    const drawn = { width: g.W, height: g.H, channels: g.C, layout: model.inputLayout === 'NHWC' ? ('HWC' as const) : ('CHW' as const), cmap: o.cmap, normalize: o.normalize };
    const max = o.sharedScale ? sharedScale(relevance, n, per, drawn) : undefined;
    try {
      for (let i = 0; i < n; i++) {
        const r = relevance.subarray(i * per, (i + 1) * per);
        const heat = heatmap(r, { ...drawn, max });
        const png = renderSample(r, { ...drawn, max, size: o.size, overlay: o.overlay ? batch.samples[i].display : undefined });
        staged.add(path.join(o.out, batch.samples[i].outName), encodePNG(png.rgba, png.width, png.height));
        const pred = argmaxOf(logits.subarray(i * O, (i + 1) * O));
        predicted.push(pred);
        const name = (k: number) => (ctx.classes ? ctx.classes[k] : `class ${k}`);
        const lines = [batch.samples[i].short, `pred: ${name(pred)}`];
        if (explained[i] !== pred) lines.push(`expl: ${name(explained[i])}`);
        cells.push({ image: batch.samples[i].display, heat, lines });
        heatBar.update(i + 1);
      }
    } finally {
      heatBar.stop();
    }
    const ov = renderOverview(cells, { width: g.W, height: g.H, title: `${ctx.displayName}: ${compositeName(o)}`, cmap: o.cmap });
    const overviewPath = path.join(o.out, 'overview.png');
    staged.add(overviewPath, encodePNG(ov.rgba, ov.width, ov.height));
    const npyShape = [n, ...layoutShape(ctx)];
    if (o.npy) staged.add(o.npy, writeNpy(relevance, npyShape));
    await staged.commit();

    if (o.json) {
      const summary = {
        command: 'explain',
        model: o.model,
        name: ctx.displayName,
        format: model.format,
        inputShape: layoutShape(ctx),
        inputLayout: model.inputLayout,
        composite: compositeName(o),
        start: o.start,
        // the zbox bounds passed to explain (null: the library's default, the model file's input range)
        bounds: { low: jbound(opts.low), high: jbound(opts.high) },
        heatmaps: { size: o.size, overlay: o.overlay, normalize: o.normalize, sharedScale: max === undefined ? null : jnum(max) },
        out: display(o.out),
        overview: display(overviewPath),
        npy: o.npy ? { file: display(o.npy), shape: npyShape } : null,
        samples: batch.samples.map((smp, i) => ({
          file: smp.file,
          index: smp.index,
          label: smp.label,
          target: explained[i],
          ...(ctx.classes ? { className: ctx.classes[explained[i]] } : {}),
          predicted: predicted[i],
          ...(ctx.classes ? { predictedClassName: ctx.classes[predicted[i]] } : {}),
          logit: jnum(logits[i * O + explained[i]]),
          logits: Array.from(logits.subarray(i * O, (i + 1) * O), jnum),
          startRelevance: jnum(startSums[i]),
          relevanceSum: jnum(inputSums[i]),
          heatmap: display(path.join(o.out, smp.outName)),
          notes: smp.notes,
        })),
      };
      io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    } else {
      const rows = batch.samples.map((smp, i) => [
        smp.label,
        classLabel(ctx, predicted[i]),
        classLabel(ctx, explained[i]),
        num(logits[i * O + explained[i]]),
        num(startSums[i]),
        num(inputSums[i]),
        smp.outName,
      ]);
      io.stdout.write(`${table(['file', 'predicted', 'explained', 'logit', 'R start', 'R input', 'heatmap'], rows)}\n`);
      io.stdout.write(`${ctx.displayName}, ${compositeName(o)}: wrote ${n} heatmap${n === 1 ? '' : 's'} and overview.png to ${display(o.out)}${o.npy ? `, relevance [${npyShape.join(', ')}] to ${display(o.npy)}` : ''}\n`);
    }
    return 0;
  } finally {
    ctx.model.dispose();
  }
}

// ---------------------------------------------------------------------------------------------

export async function predictCommand(o: CliOptions, io: CliIO): Promise<number> {
  if (o.npy) checkOutFile(o.npy, '--npy');
  const ctx = await open(o, io);
  try {
    checkTextModel(o, ctx);
    if (ctx.model.inputKind === 'tokens') return await predictText(o, ctx, io);
    const { model } = ctx;
    const batch = readBatch(o, ctx, io);
    const { n, x } = batch;
    const per = model.inputSize;
    const O = model.outputSize;
    const chunk = o.batch ?? DEFAULT_BATCH;
    const logits = new Float32Array(n * O);
    const bar = progressFor(io, n);
    bar.start(n, 'predicting');
    try {
      for (let s = 0; s < n; s += chunk) {
        const m = Math.min(chunk, n - s);
        logits.set(model.predict(x.subarray(s * per, (s + m) * per), { batch: chunk }), s * O);
        bar.update(s + m);
      }
    } finally {
      bar.stop();
    }
    if (o.npy) {
      const staged = new StagedFiles();
      staged.add(o.npy, writeNpy(logits, [n, O]));
      await staged.commit();
    }
    const tops = batch.samples.map((_, i) => softmaxTop(logits.subarray(i * O, (i + 1) * O)));
    if (o.json) {
      const summary = {
        command: 'predict',
        model: o.model,
        name: ctx.displayName,
        format: model.format,
        npy: o.npy ? { file: display(o.npy), shape: [n, O] } : null,
        samples: batch.samples.map((smp, i) => ({
          file: smp.file,
          index: smp.index,
          label: smp.label,
          predicted: tops[i].k,
          ...(ctx.classes ? { className: ctx.classes[tops[i].k] } : {}),
          logit: jnum(logits[i * O + tops[i].k]),
          probability: jnum(tops[i].p),
          logits: Array.from(logits.subarray(i * O, (i + 1) * O), jnum),
          notes: smp.notes,
        })),
      };
      io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    } else {
      const rows = batch.samples.map((smp, i) => [smp.label, classLabel(ctx, tops[i].k), num(logits[i * O + tops[i].k]), tops[i].p.toFixed(4)]);
      io.stdout.write(`${table(['file', 'class', 'logit', 'prob'], rows)}\n`);
      if (o.npy) io.stdout.write(`wrote logits [${n}, ${O}] to ${display(o.npy)}\n`);
    }
    return 0;
  } finally {
    ctx.model.dispose();
  }
}

// ---------------------------------------------------------------------------------------------

export async function infoCommand(o: CliOptions, io: CliIO): Promise<number> {
  const ctx = await open(o, io);
  try {
    const { model } = ctx;
    const opts: ExplainOptions = {};
    if (o.composite) opts.composite = o.composite;
    if (o.rule) opts.rule = o.rule;
    if (o.firstRule) opts.firstRule = o.firstRule;
    // the bounds explain uses for images (the CLI's input range), so that zbox shows them
    opts.low = ctx.low ?? ctx.imageLow;
    opts.high = ctx.high ?? ctx.imageHigh;
    const text = model.describe(opts);
    const ruleProblem = text.split('\n').find((l) => l.startsWith('rules: '));
    const range = `[${ctx.range.join(', ')}]`;
    const extra =
      model.inputKind === 'tokens'
        ? [textModelInfo(ctx)]
        : [
            `input range: ${range} (${ctx.rangeSource === 'default' ? 'not given by the model; the default' : `from ${ctx.rangeSource}`})` +
              (ctx.mean || ctx.std ? `, then (x - [${(ctx.mean ?? [0]).join(', ')}]) / [${(ctx.std ?? [1]).join(', ')}]` : ''),
          ];
    if (ctx.meta) extra.push(`metadata: ${display(ctx.meta.file)}`);
    if (ctx.classes) extra.push(`classes: ${ctx.classes.map((c, i) => `${i} ${c}`).join(', ')}`);
    if (o.json) {
      io.stdout.write(
        `${JSON.stringify(
          {
            command: 'info',
            model: o.model,
            name: ctx.displayName,
            format: model.format,
            inputShape: model.inputShape,
            inputLayout: model.inputLayout,
            layoutShape: layoutShape(ctx),
            outputSize: model.outputSize,
            inputRange: ctx.range,
            inputRangeSource: ctx.rangeSource,
            mean: ctx.mean ?? null,
            std: ctx.std ?? null,
            classes: ctx.classes ?? null,
            metadata: ctx.meta ? display(ctx.meta.file) : null,
            composite: compositeName(o),
            describe: text,
          },
          null,
          2,
        )}\n`,
      );
    } else io.stdout.write(`${text}\n${extra.join('\n')}\n`);
    if (ruleProblem) throw cliMessage(new CliError(ruleProblem.slice('rules: '.length)));
    return 0;
  } finally {
    ctx.model.dispose();
  }
}
