/**
 * One chunk of a dataset run, start to finish in memory: read its inputs (images decoded, .npy
 * rows read at their offsets), explain them in one call, render each heatmap PNG, and build each
 * input's results line. The same function runs in the main thread (--workers 1) and in every
 * worker thread, so the outputs do not depend on the number of workers.
 */
import { performance } from 'node:perf_hooks';
import { encodePNG, type ExplainOptions } from '../index.js';
import type { HeatmapNormalize } from '../heatmap/index.js';
import type { ModelContext } from './context.js';
import type { DatasetItem } from './dataset-inputs.js';
import { checkFinite, loadImage, readInput, sampleToRGBA } from './inputs.js';
import { NpyFile } from './npy-file.js';
import { jnum } from './outputs.js';
import { renderSample } from './sample-image.js';

/** What every chunk of a run is explained and drawn with (plain data: sent to worker threads). */
export interface ChunkSettings {
  explain: Pick<ExplainOptions, 'composite' | 'rule' | 'firstRule' | 'low' | 'high' | 'start'>;
  /** argmax, or one class for every input. */
  target: 'argmax' | number;
  /** The model's batch (--batch); undefined: the largest that fits the memory limit. */
  batch?: number;
  /** Heatmap PNGs, or null (--no-png). */
  png: { cmap: string; normalize: HeatmapNormalize; size: number; overlay: boolean } | null;
}

/** An input's line of results.jsonl, without where its relevance went (the committer adds that). */
export interface ResultFields {
  i: number;
  file: string;
  index: number | null;
  predicted: number;
  predictedClassName?: string;
  target: number;
  className?: string;
  logit: number | null;
  start: number | null;
  input: number | null;
  /** The chunk's explain time per input, in milliseconds. */
  ms: number;
  /** Heatmap path below the --out folder, or null with --no-png. */
  png: string | null;
}

export interface ChunkResult {
  c: number;
  /** The chunk's relevance, [inputs, ...sample shape] in the model's layout. */
  relevance: Float32Array;
  rows: ResultFields[];
  /** Heatmap PNGs: path below --out and bytes. */
  pngs: Array<{ path: string; bytes: Uint8Array }>;
}

/** The chunk's inputs in the model's layout, and each as RGBA for --overlay (null without it). */
function readChunk(ctx: ModelContext, items: DatasetItem[], displays: boolean): { x: Float32Array; shown: Array<Uint8ClampedArray | null> } {
  const per = ctx.model.inputSize;
  const x = new Float32Array(items.length * per);
  const shown: Array<Uint8ClampedArray | null> = [];
  const nhwc = ctx.model.inputLayout === 'NHWC';
  for (let k = 0; k < items.length; ) {
    const it = items[k];
    if (it.index === null) {
      const img = loadImage(it.file, readInput(it.file), ctx);
      x.set(img.x, k * per);
      shown.push(displays ? img.display : null);
      k++;
      continue;
    }
    // consecutive rows of one .npy: one read
    let m = 1;
    while (k + m < items.length && items[k + m].file === it.file && items[k + m].index === it.index + m) m++;
    const npy = NpyFile.open(it.file);
    try {
      x.set(npy.readRows(it.index, m), k * per);
    } finally {
      npy.close();
    }
    for (let j = 0; j < m; j++) {
      const sample = x.subarray((k + j) * per, (k + j + 1) * per);
      checkFinite(sample, it.file, it.index + j);
      shown.push(displays ? sampleToRGBA(sample, ctx.geometry, nhwc, ctx.mean || ctx.std ? undefined : ctx.range) : null);
    }
    k += m;
  }
  return { x, shown };
}

function argmaxOf(row: Float32Array): number {
  let k = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[k]) k = j;
  return k;
}

/** Reads, explains and renders chunk `c` (its inputs `items`). */
export function explainChunk(ctx: ModelContext, settings: ChunkSettings, c: number, items: DatasetItem[]): ChunkResult {
  const { model } = ctx;
  const per = model.inputSize;
  const O = model.outputSize;
  const m = items.length;
  const { x, shown } = readChunk(ctx, items, settings.png?.overlay ?? false);
  const t0 = performance.now();
  const r = model.explain(x, {
    ...settings.explain,
    target: settings.target === 'argmax' ? 'argmax' : new Array<number>(m).fill(settings.target),
    ...(settings.batch === undefined ? {} : { batch: settings.batch }),
  });
  const ms = (performance.now() - t0) / m;
  const g = ctx.geometry;
  const pngs: ChunkResult['pngs'] = [];
  const rows: ResultFields[] = items.map((it, k) => {
    const predicted = argmaxOf(r.logits.subarray(k * O, (k + 1) * O));
    const target = r.targets[k];
    let png: string | null = null;
    if (settings.png) {
      const rel = r.relevance.subarray(k * per, (k + 1) * per);
      const drawn = { width: g.W, height: g.H, channels: g.C, layout: model.inputLayout === 'NHWC' ? ('HWC' as const) : ('CHW' as const), ...settings.png };
      const img = renderSample(rel, { ...drawn, overlay: settings.png.overlay ? shown[k]! : undefined });
      png = `heatmaps/${it.png}`;
      pngs.push({ path: png, bytes: encodePNG(img.rgba, img.width, img.height) });
    }
    return {
      i: it.i,
      file: it.file,
      index: it.index,
      predicted,
      ...(ctx.classes ? { predictedClassName: ctx.classes[predicted] } : {}),
      target,
      ...(ctx.classes ? { className: ctx.classes[target] } : {}),
      logit: jnum(r.logits[k * O + target]),
      start: jnum(r.sums.start[k]),
      input: jnum(r.sums.input[k]),
      ms: Number(ms.toFixed(3)),
      png,
    };
  });
  return { c, relevance: r.relevance, rows, pngs };
}
