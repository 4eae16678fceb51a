/**
 * The dataset options of `lrp explain` (folders and globs streamed in chunks, worker threads,
 * resume, shards): their parseArgs spec, their usage lines, their validation, and `--shard auto`
 * resolved from the scheduler's environment (Kubernetes Indexed Jobs, Slurm job arrays).
 */
import { usageError } from './errors.js';

export const DATASET_OPTIONS = {
  recursive: { type: 'boolean', short: 'r' },
  chunk: { type: 'string' },
  workers: { type: 'string' },
  resume: { type: 'boolean' },
  shard: { type: 'string' },
  shards: { type: 'string' },
  'no-png': { type: 'boolean' },
} as const;

export const DATASET_USAGE = {
  synopsis: `  lrp explain MODEL DIR|GLOB|FILE... [--recursive] [--chunk N] [--workers N] [--resume]
              [--shard K/N | --shard auto [--shards N]] [--no-png] [--out DIR] [rule and heatmap options]`,
  summary: `explain of a folder or glob (or with any dataset option): streams the inputs in chunks with bounded
         memory; writes heatmaps/<path>.png, relevance-<chunk>.npy per chunk and one results.jsonl line per
         input (see docs/datasets.md).`,
  options: `datasets (lrp explain; see docs/datasets.md):
  -r, --recursive      a folder INPUT means its whole tree (default: the files directly in it)
  --chunk N            inputs read, explained and written at a time (default 64); a chunk's files are
                       committed together, and shards and --resume work in whole chunks
  --workers N          worker threads, each with its own model, explaining chunks in parallel (default 1)
  --resume             skip the chunks whose outputs exist in --out (results lines and files)
  --shard K/N          explain every N-th chunk starting at chunk K (0-based); several machines can
                       write into one --out (results-K-of-N.jsonl each)
  --shard auto         K from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID
                       (Slurm array); N from --shards N, else SLURM_ARRAY_TASK_COUNT
  --no-png             no heatmap PNGs (relevance .npy and results.jsonl only)`,
};

export const DEFAULT_CHUNK = 64;

export type ShardSpec = { kind: 'none' } | { kind: 'fixed'; k: number; n: number } | { kind: 'auto'; shards?: number };

export interface DatasetCliOptions {
  /** Whether any dataset option was given (a dataset run even for a list of files). */
  requested: boolean;
  recursive: boolean;
  chunk: number;
  workers: number;
  resume: boolean;
  shard: ShardSpec;
  /** Whether to write a heatmap PNG per input. */
  png: boolean;
}

type Values = { [K in keyof typeof DATASET_OPTIONS]?: (typeof DATASET_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

function positive(value: string | undefined, option: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > max) throw usageError(`--${option} must be a whole number from 1 to ${max}, got '${value}'`);
  return n;
}

/** Validates the dataset options (usage errors name the option). */
export function parseDatasetOptions(v: Values): DatasetCliOptions {
  const requested = (Object.keys(DATASET_OPTIONS) as Array<keyof Values>).some((k) => v[k] !== undefined);
  let shard: ShardSpec = { kind: 'none' };
  if (v.shard !== undefined) {
    const spec = v.shard.trim();
    const m = /^(\d+)\s*\/\s*(\d+)$/.exec(spec);
    if (spec.toLowerCase() === 'auto') shard = { kind: 'auto', shards: v.shards === undefined ? undefined : positive(v.shards, 'shards', 1) };
    else if (m) {
      const [k, n] = [Number(m[1]), Number(m[2])];
      if (!Number.isSafeInteger(n) || n < 1) throw usageError(`--shard ${v.shard}: N must be at least 1`);
      if (k >= n) throw usageError(`--shard ${v.shard}: K must be below N (shards are numbered 0..${n - 1})`);
      shard = { kind: 'fixed', k, n };
    } else throw usageError(`--shard must be K/N (e.g. 0/4) or auto, got '${v.shard}'`);
  }
  if (v.shards !== undefined && shard.kind !== 'auto') throw usageError(`--shards N goes with --shard auto (with --shard K/N, N is given already)`);
  return {
    requested,
    recursive: v.recursive ?? false,
    chunk: positive(v.chunk, 'chunk', DEFAULT_CHUNK, 1 << 20),
    workers: positive(v.workers, 'workers', 1, 256),
    resume: v.resume ?? false,
    shard,
    png: !(v['no-png'] ?? false),
  };
}

/** A whole number >= 0 from an environment variable, or a usage error naming it. */
function envIndex(env: NodeJS.ProcessEnv, name: string, what: string): number {
  const raw = env[name]!;
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n)) throw usageError(`--shard auto: ${name}='${raw}' is not a whole number (${what})`);
  return n;
}

/**
 * This process's shard: K and N from --shard K/N, or from the scheduler's environment for
 * --shard auto; null when the run is not sharded.
 */
export function resolveShard(spec: ShardSpec, env: NodeJS.ProcessEnv): { k: number; n: number } | null {
  if (spec.kind === 'none') return null;
  if (spec.kind === 'fixed') return { k: spec.k, n: spec.n };
  let k: number;
  let n: number;
  let source: string;
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    source = 'JOB_COMPLETION_INDEX';
    k = envIndex(env, source, 'the Kubernetes Indexed Job completion index');
    if (spec.shards === undefined)
      throw usageError(`--shard auto: a Kubernetes Indexed Job (JOB_COMPLETION_INDEX=${k}) does not tell the pod how many shards there are; pass --shards N (the Job's completions)`);
    n = spec.shards;
  } else if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    source = 'SLURM_ARRAY_TASK_ID';
    const id = envIndex(env, source, 'the Slurm array task id');
    const min = env.SLURM_ARRAY_TASK_MIN === undefined ? 0 : envIndex(env, 'SLURM_ARRAY_TASK_MIN', 'the lowest task id of the Slurm array');
    const step = env.SLURM_ARRAY_TASK_STEP === undefined ? 1 : envIndex(env, 'SLURM_ARRAY_TASK_STEP', 'the step of the Slurm array');
    if (id < min || step < 1 || (id - min) % step !== 0)
      throw usageError(`--shard auto: SLURM_ARRAY_TASK_ID=${id} is not in the array ${min}+${step}·k (SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_STEP)`);
    k = (id - min) / step;
    if (spec.shards !== undefined) n = spec.shards;
    else if (env.SLURM_ARRAY_TASK_COUNT !== undefined) n = envIndex(env, 'SLURM_ARRAY_TASK_COUNT', 'the number of tasks of the Slurm array');
    else throw usageError(`--shard auto: SLURM_ARRAY_TASK_COUNT is not set; pass --shards N (the number of array tasks)`);
  } else
    throw usageError(
      `--shard auto: neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (Slurm job array) is set; run it under one of them or give --shard K/N`,
    );
  if (n < 1) throw usageError(`--shard auto: the number of shards must be at least 1, got ${n}`);
  if (k >= n) throw usageError(`--shard auto: shard ${k} (from ${source}) is not below the number of shards ${n}`);
  return { k, n };
}
