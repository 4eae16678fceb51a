/**
 * `lrp explain` over a dataset: the inputs (folders, globs, files; src/cli/dataset-inputs.ts) are
 * cut into chunks of --chunk inputs over the whole sorted list; this process explains its shard's
 * chunks (every N-th, from K), skips the done ones with --resume, and commits each chunk on its
 * own, in order: its PNGs and relevance .npy are staged to temporary names and renamed into place,
 * then its results lines appended, synchronously (src/cli/staged-files.ts). Memory holds a few
 * chunks at a time, whatever the size of the dataset.
 *
 * Chunks, not single inputs, are the unit of shards and resumes because the engine's float
 * rounding depends on how many samples run together: a chunk is always the same inputs, so every
 * input's relevance is the same bits whether the run is sharded, resumed or uses workers.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeNpy } from '../index.js';
import type { CliOptions } from './args.js';
import { cliMessage, compositeName, display, explainOptions, progressFor, resolveTargets, type CliIO } from './commands.js';
import type { ModelContext } from './context.js';
import { resolveShard } from './dataset-args.js';
import type { ChunkResult, ChunkSettings } from './dataset-chunk.js';
import { itemsOf, listDataset } from './dataset-inputs.js';
import { inlineRunner, workerRunner, type ChunkRunner } from './dataset-pool.js';
import { appendResults, chunkRange, readDone, relevanceName, resultsName } from './dataset-results.js';
import { CliError, usageError } from './errors.js';
import { hasGlobMagic } from './glob.js';
import { layoutShape } from './inputs.js';
import { jnum } from './outputs.js';
import { makeFolders, StagedFiles } from './staged-files.js';

/** A dataset run: any dataset option, or an INPUT that is a folder or a glob pattern. */
export function isDatasetRun(o: CliOptions): boolean {
  if (o.dataset?.requested) return true;
  return o.inputs.some((a) => {
    try {
      return statSync(a).isDirectory();
    } catch {
      return hasGlobMagic(a);
    }
  });
}

/** Options that need the whole batch at once. */
function refuseBatchOptions(o: CliOptions): void {
  if (o.npy) throw usageError('--npy writes the whole batch as one array; a dataset run writes relevance-<chunk>.npy per chunk into --out instead');
  if (o.sharedScale) throw usageError('--shared-scale needs the whole batch at once; a dataset run draws each heatmap on its own scale');
  if (o.target.kind === 'list' && o.target.items.length > 1) throw usageError('--target with one class per sample needs an explicit list of inputs; a dataset run takes argmax or one class for all');
}

export async function explainDataset(o: CliOptions, ctx: ModelContext, io: CliIO): Promise<number> {
  const ds = o.dataset!;
  refuseBatchOptions(o);
  if (ctx.model.inputKind === 'tokens') throw new CliError(`a dataset run takes images or .npy arrays; text model '${ctx.model.name}' takes --text and text files`);
  const shard = resolveShard(ds.shard, process.env);
  const list = listDataset(o.inputs, ds.recursive, ctx, o.out);
  if (!o.json)
    for (const src of list.sources) for (const note of src.notes) io.stderr.write(`lrp: note: ${src.file}: ${note}\n`);

  const chunks = Math.ceil(list.total / ds.chunk);
  const mine: number[] = [];
  for (let c = shard ? shard.k : 0; c < chunks; c += shard ? shard.n : 1) mine.push(c);
  const resultsFile = resultsName(shard);
  const resultsPath = path.join(o.out, resultsFile);
  if (!ds.resume && existsSync(resultsPath)) throw new CliError(`${display(resultsPath)} exists from an earlier run: pass --resume to continue it, or use another --out`);
  makeFolders(path.resolve(o.out), [], `cannot write to ${o.out}`);
  const { done, dropped } = ds.resume ? readDone(o.out, resultsFile, list, ds.chunk) : { done: new Set<number>(), dropped: 0 };
  if (dropped > 0) io.stderr.write(`lrp: note: ${display(resultsPath)}: dropped ${dropped} line${dropped === 1 ? '' : 's'} of chunks left incomplete by a hard kill; they are explained again\n`);
  const todo = mine.filter((c) => !done.has(c));
  const todoInputs = todo.reduce((s, c) => s + (chunkRange(c, ds.chunk, list.total)[1] - chunkRange(c, ds.chunk, list.total)[0]), 0);

  const target = resolveTargets(o.target, 1, ctx);
  const explain: ChunkSettings['explain'] = explainOptions(o, ctx, list.hasImages);
  const settings: ChunkSettings = {
    explain,
    target: target === 'argmax' ? 'argmax' : target[0],
    batch: o.batch,
    png: ds.png ? { cmap: o.cmap, normalize: o.normalize, size: o.size, overlay: o.overlay } : null,
  };

  const t0 = performance.now();
  const shape = layoutShape(ctx);
  const bar = progressFor(io, todoInputs);
  bar.start(todoInputs, 'explaining');
  let explained = 0;
  let runner: ChunkRunner | null = null;
  try {
    if (todo.length > 0)
      runner =
        ds.workers > 1
          ? await workerRunner(Math.min(ds.workers, todo.length), { model: o.model, backend: o.backend, metadata: o.metadata, scale: o.scale, mean: o.mean, std: o.std, low: o.low, high: o.high }, settings)
          : inlineRunner(ctx, settings);
    // a few chunks in flight, committed in order: results lines follow the input order
    const inFlight = new Map<number, Promise<ChunkResult>>();
    let next = 0;
    for (let j = 0; j < todo.length; j++) {
      while (next < todo.length && next < j + 2 * runner!.slots) {
        const c = todo[next++];
        const p = runner!.run(c, itemsOf(list, ...chunkRange(c, ds.chunk, list.total)));
        p.catch(() => {}); // awaited in order below; a failure meanwhile must not be unhandled
        inFlight.set(c, p);
      }
      const c = todo[j];
      const result = await inFlight.get(c)!;
      inFlight.delete(c);
      const npy = relevanceName(c);
      const staged = new StagedFiles(`chunk ${c} was not written; the chunks before it are kept (continue with --resume)`);
      for (const p of result.pngs) staged.add(path.join(o.out, p.path), p.bytes);
      staged.add(path.join(o.out, npy), writeNpy(result.relevance, [result.rows.length, ...shape]));
      await staged.commit(() => appendResults(resultsPath, result.rows.map((r, row) => ({ ...r, chunk: c, npy, row }))));
      explained += result.rows.length;
      bar.update(explained);
    }
  } catch (e) {
    throw cliMessage(e);
  } finally {
    bar.stop();
    await runner?.close();
  }

  const seconds = (performance.now() - t0) / 1000;
  const skipped = mine.filter((c) => done.has(c)).reduce((s, c) => s + chunkRange(c, ds.chunk, list.total)[1] - chunkRange(c, ds.chunk, list.total)[0], 0);
  const rate = explained > 0 && seconds > 0 ? explained / seconds : 0;
  if (o.json) {
    const summary = {
      command: 'explain',
      dataset: true,
      model: o.model,
      name: ctx.displayName,
      composite: compositeName(o),
      start: o.start,
      bounds: { low: jbound(explain.low), high: jbound(explain.high) },
      inputs: list.total,
      chunk: ds.chunk,
      chunks,
      shard: shard ?? null,
      shardChunks: mine.length,
      explained,
      skipped,
      workers: ds.workers,
      seconds: Number(seconds.toFixed(3)),
      inputsPerSecond: Number(rate.toFixed(2)),
      out: display(o.out),
      results: display(resultsPath),
    };
    io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    const part = shard ? `shard ${shard.k}/${shard.n}: ${mine.length} of ${chunks} chunks` : `${chunks} chunk${chunks === 1 ? '' : 's'}`;
    io.stdout.write(
      `${ctx.displayName}, ${compositeName(o)}: ${list.total} input${list.total === 1 ? '' : 's'} (${part} of ${ds.chunk}); explained ${explained}` +
        `${skipped > 0 ? `, skipped ${skipped} already done` : ''} in ${seconds.toFixed(1)} s (${rate.toFixed(1)} inputs/s); results in ${display(resultsPath)}\n`,
    );
  }
  return 0;
}

const jbound = (b: ChunkSettings['explain']['low']) => (b === undefined ? null : typeof b === 'number' ? jnum(b) : Array.from(b, jnum));
