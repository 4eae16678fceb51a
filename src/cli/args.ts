/**
 * Command line arguments: the usage text, util.parseArgs (strict), and validation of every
 * option value into a typed CliOptions, before anything is loaded or written.
 */
import { parseArgs } from 'node:util';
import { canonicalCompositeName, COMPOSITE_NAMES, parseRule, type CompositeName, type Rule } from '../index.js';
import { BACKEND_CHOICES, type BackendChoice } from '../backends.js';
import { colormapNames, getColormap, SEQUENTIAL_COLORMAPS, type HeatmapNormalize } from '../heatmap/index.js';
import { usageError } from './errors.js';
import { EVALUATE_OPTIONS, EVALUATE_USAGE, parseEvaluateOptions, type EvaluateCliOptions } from './evaluate-args.js';
import { DATASET_OPTIONS, DATASET_USAGE, parseDatasetOptions, type DatasetCliOptions } from './dataset-args.js';

export const COMMANDS = ['explain', 'predict', 'info', 'evaluate'] as const;
export type Command = (typeof COMMANDS)[number];

export const USAGE = `usage:
  lrp explain MODEL INPUT... [--composite NAME | --rule SPEC [--first SPEC]] [--low L] [--high H]
              [--target argmax|N|N,N,...] [--start logit|onehot] [--cmap NAME] [--out DIR] [--npy FILE]
${DATASET_USAGE.synopsis}
  lrp explain TEXT-MODEL [--text "a sentence"]... [TEXT-FILE...] [--composite NAME] [--out DIR]
  lrp predict MODEL INPUT... [--npy FILE]
  lrp predict TEXT-MODEL [--text "a sentence"]... [TEXT-FILE...]
  lrp info MODEL [--composite NAME | --rule SPEC [--first SPEC]]
${EVALUATE_USAGE.synopsis}

MODEL   an .onnx file, a TF.js model.json or an lrp model.json (format sniffed). A metadata.json
        next to it (or one folder up) gives class names, the input range and mean/std.
INPUT   PNG/JPEG images (converted to the model's channels, size and input range), or .npy float32/
        float64 arrays whose first axis is the batch, in the model's layout. All inputs form one batch,
        except in a dataset run: a folder (its .png/.jpg/.jpeg/.npy files), a quoted glob ('data/**/*.png')
        or any dataset option streams them in chunks instead.
TEXT-MODEL  a model whose input is token ids (an embedding reads it), with a metadata.json holding
        its vocabulary ("tokens", "pad", "unknown", "maxLength", "tokenizer"; see docs/text.md).
        Its inputs: --text strings and text files (one sample per line; blank lines skipped), or
        .npy float arrays of ids [N, T]. explain prints each sample's tokens coloured by relevance
        (24-bit colours on a terminal; token(+value) when NO_COLOR is set or stdout is not one),
        with the predicted class; --out DIR writes text.html, relevance.npy [N, T] and relevance.json.

explain: one heatmap PNG per sample in --out (<stem>.png, <stem>_<i>.png for .npy), and overview.png.
${DATASET_USAGE.summary}
predict: a table of the top-1 class per sample.
info:    the model's layers, shapes and the rule each gets.
${EVALUATE_USAGE.summary}

options:
  --composite NAME     ${COMPOSITE_NAMES.join(', ')} (default epsilon-plus)
  --rule SPEC          one rule on every dense/conv layer: epsilon:0.25, gamma:0.25, alphabeta:2,1,
                       zplus, zbox:LOW,HIGH, wsquare, flat, pass
  --first SPEC         rule for the first layer (with --rule)
  --low L, --high H    input bounds for zbox (a number, or one per channel: 0,0,0); default: the
                       input range after --mean/--std
  --target T           argmax (default), a class index or name for all samples, or one per sample: 1,2,3
  --start S            logit (default: start from the target's logit) or onehot (start from 1)
  --cmap NAME          heatmap colour map: ${colormapNames().join(', ')} (default bwr),
                       or a cmsl source such as '00f,80:fff,f00'
  --normalize MODE     heatmap normalisation: symmetric, absolute, unaligned (default: symmetric;
                       absolute for the sequential maps ${SEQUENTIAL_COLORMAPS.join(', ')})
  --size PX            enlarge each heatmap by a whole factor to about PX pixels (default 224; 0: the
                       model's input size); a colour bar with the relevance at its ends is drawn below
  --overlay            draw each heatmap over its input, opacity following |R|
  --shared-scale       one colour scale for every sample (the largest |R| of the batch), instead of one each
  --out DIR            where explain writes its PNGs (default out/); text models: only with --out
  --text "..."         a text to explain or predict (text models; repeat for several)
  --npy FILE           also write the relevance (explain) or logits (predict) as float32 .npy
  --scale LO,HI        image bytes 0..255 map to LO..HI (or --scale HI for 0..HI); default: the
                       model's or metadata.json's input range, else 0,1
  --mean M, --std S    normalise images per channel after scaling: (x - M) / S (one value or one per channel)
  --metadata FILE      metadata.json to use instead of the one next to the model
  --batch N            samples per engine run (default 32)
  --backend B          ${BACKEND_CHOICES.join(', ')} (default wasm)
  --json               print a machine-readable summary on stdout instead of the table
${DATASET_USAGE.options}
${EVALUATE_USAGE.options}
  -h, --help           this text
  --version            the version of lrp-wasm

Negative numbers work as --low -1 or --low=-1. Exit code 0 on success, 2 for a usage error,
1 for any other error, with one line on stderr.`;

const OPTIONS = {
  composite: { type: 'string' },
  rule: { type: 'string' },
  first: { type: 'string' },
  low: { type: 'string' },
  high: { type: 'string' },
  target: { type: 'string' },
  start: { type: 'string' },
  cmap: { type: 'string' },
  normalize: { type: 'string' },
  size: { type: 'string' },
  overlay: { type: 'boolean' },
  'shared-scale': { type: 'boolean' },
  out: { type: 'string' },
  text: { type: 'string', multiple: true },
  npy: { type: 'string' },
  scale: { type: 'string' },
  mean: { type: 'string' },
  std: { type: 'string' },
  metadata: { type: 'string' },
  batch: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  ...EVALUATE_OPTIONS,
  ...DATASET_OPTIONS,
} as const;

type OptionName = keyof typeof OPTIONS;

const COMMON: OptionName[] = ['backend', 'json', 'metadata', 'help', 'version'];
const PREPROCESS: OptionName[] = ['scale', 'mean', 'std', 'batch'];
const RULES: OptionName[] = ['composite', 'rule', 'first', 'low', 'high'];
const ALLOWED: Record<Command, ReadonlySet<OptionName>> = {
  explain: new Set([...COMMON, ...PREPROCESS, ...RULES, 'target', 'start', 'cmap', 'normalize', 'size', 'overlay', 'shared-scale', 'out', 'npy', 'text', ...(Object.keys(DATASET_OPTIONS) as OptionName[])]),
  predict: new Set([...COMMON, ...PREPROCESS, 'npy', 'text']),
  info: new Set([...COMMON, ...RULES]),
  evaluate: new Set([...COMMON, ...PREPROCESS, 'low', 'high', 'target', 'out', ...(Object.keys(EVALUATE_OPTIONS) as OptionName[])]),
};

/** Options whose values may be negative numbers, so that `--low -1` works despite strict parsing. */
const NUMERIC: OptionName[] = ['low', 'high', 'scale', 'mean', 'std', 'target', 'value', 'range'];

export type TargetSpec = { kind: 'argmax' } | { kind: 'list'; items: Array<number | string> };

export interface CliOptions {
  command: Command;
  model: string;
  inputs: string[];
  composite?: CompositeName;
  rule?: Rule;
  firstRule?: Rule;
  low?: number | number[];
  high?: number | number[];
  target: TargetSpec;
  start: 'logit' | 'onehot';
  cmap: string;
  normalize: HeatmapNormalize;
  /** Longer side of the per-sample PNGs (0: the model's size). */
  size: number;
  /** Heatmaps over their inputs. */
  overlay: boolean;
  /** One colour scale for the whole batch. */
  sharedScale: boolean;
  out: string;
  /** Whether --out was given (text models write files only then). */
  outGiven: boolean;
  /** --text values (text models). */
  texts: string[];
  /** The options given on the command line (by name), to refuse those that do not apply to a model. */
  given: ReadonlySet<string>;
  npy?: string;
  scale?: [number, number];
  mean?: number[];
  std?: number[];
  metadata?: string;
  batch?: number;
  backend: BackendChoice;
  json: boolean;
  /** lrp evaluate's own options. */
  evaluate?: EvaluateCliOptions;
  /** lrp explain's dataset options (folders, chunks, workers, resume, shards). */
  dataset?: DatasetCliOptions;
}

export type Parsed = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: CliOptions };

/** Joins `--low -1` into `--low=-1` for the numeric options (parseArgs rejects a value starting with '-'). */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (a.startsWith('--') && !a.includes('=') && NUMERIC.includes(a.slice(2) as OptionName) && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

function numberList(value: string, option: string): number[] {
  const parts = value.split(',');
  const nums = parts.map((p) => Number(p.trim()));
  if (parts.some((p) => p.trim() === '') || nums.some((v) => !Number.isFinite(v)))
    throw usageError(`--${option} must be a number or a comma-separated list of numbers, got '${value}'`);
  return nums;
}

function bound(value: string | undefined, option: string): number | number[] | undefined {
  if (value === undefined) return undefined;
  const nums = numberList(value, option);
  return nums.length === 1 ? nums[0] : nums;
}

function parseTarget(value: string | undefined): TargetSpec {
  if (value === undefined || value.trim().toLowerCase() === 'argmax') return { kind: 'argmax' };
  const parts = value.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw usageError(`--target must be argmax, a class index or a comma-separated list of them, got '${value}'`);
  const items = parts.map((p) => {
    if (/^[+-]?\d+$/.test(p)) {
      const v = Number(p);
      if (v < 0) throw usageError(`--target: class index ${p} is negative`);
      return v;
    }
    if (/^[+-]?[\d.eE]+$/.test(p)) throw usageError(`--target: '${p}' is not a whole class index`);
    return p; // a class name, resolved against metadata.json's classes later
  });
  return { kind: 'list', items };
}

function rule(spec: string | undefined, option: string): Rule | undefined {
  if (spec === undefined) return undefined;
  try {
    return parseRule(spec);
  } catch (e) {
    throw usageError(`--${option}: ${(e as Error).message}`);
  }
}

/** Parses argv (without node and the script) into what to do. Throws a usage CliError. */
export function parseCli(argv: string[]): Parsed {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    const unknown = err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && /^Unknown option '([^']*)'/.exec(err.message);
    const msg = unknown ? `unknown option '${unknown[1]}'` : err.message.split('\n')[0];
    throw usageError(`${msg} (see lrp --help)`);
  }
  const { values: v, positionals } = parsed;
  if (v.help) return { kind: 'help' };
  if (v.version) return { kind: 'version' };
  const [command, ...rest] = positionals;
  if (command === undefined) throw usageError(`no command given: use lrp explain|predict|info MODEL ... (see lrp --help)`);
  if (!(COMMANDS as readonly string[]).includes(command))
    throw usageError(`unknown command '${command}' (known: ${COMMANDS.join(', ')}; see lrp --help)`);
  const cmd = command as Command;
  for (const name of Object.keys(v) as OptionName[])
    if (v[name] !== undefined && !ALLOWED[cmd].has(name)) throw usageError(`option --${name} does not apply to 'lrp ${cmd}' (see lrp --help)`);

  const [model, ...inputs] = rest;
  if (model === undefined) throw usageError(`lrp ${cmd} needs a MODEL (see lrp --help)`);
  if (cmd === 'info' && inputs.length > 0) throw usageError(`lrp info takes one MODEL, got extra argument '${inputs[0]}'`);
  const texts = v.text ?? [];
  if (cmd !== 'info' && inputs.length === 0 && texts.length === 0)
    throw usageError(`lrp ${cmd} needs at least one INPUT after the MODEL (or --text "..." for a text model; see lrp --help)`);

  if (v.composite !== undefined && (v.rule !== undefined || v.first !== undefined))
    throw usageError(`give either --composite or --rule (with --first), not both`);
  if (v.first !== undefined && v.rule === undefined) throw usageError(`--first needs --rule (the rule for the other layers)`);
  const composite = v.composite === undefined ? undefined : canonicalCompositeName(v.composite);
  if (v.composite !== undefined && !composite)
    throw usageError(`unknown composite '${v.composite}' (known: ${COMPOSITE_NAMES.join(', ')}; Zennit's spellings such as EpsilonGammaBox also work)`);

  const start = v.start ?? 'logit';
  if (start !== 'logit' && start !== 'onehot') throw usageError(`--start must be logit or onehot, got '${start}'`);

  const cmap = v.cmap ?? 'bwr';
  try {
    getColormap(cmap);
  } catch (e) {
    throw usageError(`--cmap: ${(e as Error).message}`);
  }
  const normalize = v.normalize ?? (SEQUENTIAL_COLORMAPS.includes(cmap) ? 'absolute' : 'symmetric');
  if (!['symmetric', 'absolute', 'unaligned'].includes(normalize))
    throw usageError(`--normalize must be symmetric, absolute or unaligned, got '${normalize}'`);

  const size = v.size === undefined ? 224 : Number(v.size);
  if (v.size !== undefined && (!/^\s*\d+\s*$/.test(v.size) || !Number.isSafeInteger(size) || size > 8192)) throw usageError(`--size must be a whole number of pixels (0..8192), got '${v.size}'`);
  if (v['shared-scale'] && normalize === 'unaligned') throw usageError('--shared-scale needs --normalize symmetric or absolute');

  let batch: number | undefined;
  if (v.batch !== undefined) {
    batch = Number(v.batch);
    if (!/^\s*\d+\s*$/.test(v.batch) || !Number.isSafeInteger(batch) || batch < 1) throw usageError(`--batch must be a positive integer, got '${v.batch}'`);
  }
  const backend = (v.backend ?? 'wasm') as BackendChoice;
  if (!BACKEND_CHOICES.includes(backend)) throw usageError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}, got '${v.backend}'`);

  let scale: [number, number] | undefined;
  if (v.scale !== undefined) {
    const s = numberList(v.scale, 'scale');
    if (s.length > 2) throw usageError(`--scale takes LO,HI or HI, got '${v.scale}'`);
    scale = s.length === 1 ? [0, s[0]] : [s[0], s[1]];
    if (scale[0] === scale[1]) throw usageError(`--scale: LO and HI must differ, got '${v.scale}'`);
  }
  const mean = v.mean === undefined ? undefined : numberList(v.mean, 'mean');
  const std = v.std === undefined ? undefined : numberList(v.std, 'std');
  if (std?.some((s) => s === 0)) throw usageError(`--std must not contain 0, got '${v.std}'`);

  const low = bound(v.low, 'low');
  const high = bound(v.high, 'high');
  if (low !== undefined && high !== undefined) {
    const lo = typeof low === 'number' ? [low] : low;
    const hi = typeof high === 'number' ? [high] : high;
    const at = (a: number[], i: number) => a[a.length === 1 ? 0 : i];
    if (lo.length === hi.length || lo.length === 1 || hi.length === 1)
      for (let i = 0; i < Math.max(lo.length, hi.length); i++)
        if (!(at(lo, i) < at(hi, i))) throw usageError(`--low must be below --high (for every channel), got --low ${v.low} --high ${v.high}`);
  }

  for (const [name, value] of [['out', v.out], ['npy', v.npy], ['metadata', v.metadata]] as const)
    if (value !== undefined && value.trim() === '') throw usageError(`--${name} needs a path`);

  return {
    kind: 'run',
    options: {
      command: cmd,
      model,
      inputs,
      composite: composite ?? undefined,
      rule: rule(v.rule, 'rule'),
      firstRule: rule(v.first, 'first'),
      low,
      high,
      target: parseTarget(v.target),
      start,
      cmap,
      normalize: normalize as HeatmapNormalize,
      size,
      overlay: v.overlay ?? false,
      sharedScale: v['shared-scale'] ?? false,
      out: v.out ?? 'out',
      outGiven: v.out !== undefined,
      texts,
      given: new Set(Object.keys(v).filter((k) => v[k as OptionName] !== undefined)),
      npy: v.npy,
      scale,
      mean,
      std,
      metadata: v.metadata,
      batch,
      backend,
      json: v.json ?? false,
      evaluate: cmd === 'evaluate' ? parseEvaluateOptions(v) : undefined,
      dataset: cmd === 'explain' ? parseDatasetOptions(v) : undefined,
    },
  };
}
