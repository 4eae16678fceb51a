/**
 * The results file of a dataset run: one JSON line per input, appended when its chunk commits
 * (after the chunk's PNGs and relevance .npy are renamed into place, in the same synchronous step).
 * An input's outputs "exist" when its line is in this shard's results file AND the files the line
 * names exist; a chunk is done when every one of its inputs' outputs exists. --resume reads that
 * back, and drops what a hard kill (SIGKILL, power loss) can leave: a torn last line, or the lines
 * of a chunk whose files are missing.
 */
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CliError } from './errors.js';
import { itemsOf, type DatasetList } from './dataset-inputs.js';
import type { ResultFields } from './dataset-chunk.js';

/** A results line: the input's results, and where its relevance is (file below --out, and row). */
export interface ResultLine extends ResultFields {
  chunk: number;
  npy: string;
  row: number;
}

/** results.jsonl, or results-K-of-N.jsonl for a shard (shards never write the same file). */
export const resultsName = (shard: { k: number; n: number } | null): string => (shard ? `results-${shard.k}-of-${shard.n}.jsonl` : 'results.jsonl');

/** The relevance file of chunk c (chunks are numbered over the whole input list, so shards never collide). */
export const relevanceName = (c: number): string => `relevance-${String(c).padStart(6, '0')}.npy`;

/** The inputs of chunk c: [c·size, min((c+1)·size, total)). */
export const chunkRange = (c: number, size: number, total: number): [number, number] => [c * size, Math.min((c + 1) * size, total)];

export function appendResults(file: string, lines: ResultLine[]): void {
  // one write: a signal is handled before or after it
  appendFileSync(file, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
}

function parseLine(text: string): ResultLine | null {
  try {
    const v = JSON.parse(text) as ResultLine;
    const ok =
      Number.isSafeInteger(v.i) && typeof v.file === 'string' && Number.isSafeInteger(v.chunk) && typeof v.npy === 'string' && Number.isSafeInteger(v.row) && (v.png === null || typeof v.png === 'string');
    return ok ? v : null;
  } catch {
    return null;
  }
}

/**
 * The chunks already done in `out` by this shard's results file (for --resume). Checks that the
 * file was written for the same inputs and --chunk (else a CliError), and rewrites it without the
 * lines of chunks that are not complete. Returns the done chunks and how many lines were dropped.
 */
export function readDone(out: string, resultsFile: string, list: DatasetList, chunk: number): { done: Set<number>; dropped: number } {
  const file = path.join(out, resultsFile);
  if (!existsSync(file)) return { done: new Set(), dropped: 0 };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file} to resume: ${(e as Error).message}`);
  }
  const raw = text.split('\n');
  if (raw[raw.length - 1] === '') raw.pop();
  const lines: Array<{ text: string; line: ResultLine | null }> = raw.map((t) => ({ text: t, line: parseLine(t) }));
  const byChunk = new Map<number, ResultLine[]>();
  lines.forEach(({ line }, n) => {
    if (!line) return;
    const [it] = line.i < list.total ? itemsOf(list, line.i, line.i + 1) : [];
    if (!it || it.file !== line.file || it.index !== (line.index ?? null))
      throw new CliError(
        `${file} line ${n + 1}: input ${line.i} was ${line.file}${line.index === null ? '' : `[${line.index}]`}, but the INPUTs now give ${it ? `${it.file}${it.index === null ? '' : `[${it.index}]`}` : `only ${list.total} inputs`}; --resume needs the same INPUTs (or use another --out)`,
      );
    if (line.chunk !== Math.floor(line.i / chunk))
      throw new CliError(`${file} line ${n + 1}: input ${line.i} is in chunk ${line.chunk}, which means another --chunk than ${chunk}; resume with the --chunk of that run`);
    const list_ = byChunk.get(line.chunk) ?? [];
    list_.push(line);
    byChunk.set(line.chunk, list_);
  });
  const done = new Set<number>();
  for (const [c, ls] of byChunk) {
    const [s, e] = chunkRange(c, chunk, list.total);
    const have = new Set(ls.map((l) => l.i));
    let complete = have.size === e - s && ls.length === e - s;
    if (complete) complete = ls.every((l) => existsSync(path.join(out, l.npy)) && (l.png === null || existsSync(path.join(out, l.png))));
    if (complete) done.add(c);
  }
  const keep = lines.filter(({ line }) => line && done.has(line.chunk));
  const dropped = lines.length - keep.length;
  if (dropped > 0 || (text.length > 0 && !text.endsWith('\n'))) {
    // rewritten through a temporary name: a kill now leaves the old file or the new one
    const tmp = path.join(out, `.${resultsFile}.lrp-tmp-${process.pid}`);
    writeFileSync(tmp, keep.map((l) => `${l.text}\n`).join(''));
    renameSync(tmp, file);
  }
  return { done, dropped };
}
