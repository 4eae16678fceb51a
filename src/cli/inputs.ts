/**
 * INPUT files → one batch in the model's layout: PNG/JPEG images (converted to the model's
 * channels, size and range) and .npy arrays (first axis = batch). Every file is read and checked
 * before anything runs, and each error names the file.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { chwToRGBA } from '../heatmap/index.js';
import { isPNG } from '../heatmap/index.js';
import { prepareImage } from '../image/preprocess.js';
import { decodeImage, readNpy } from '../io/index.js';
import { CliError } from './errors.js';
import type { Geometry, ModelContext } from './context.js';

export interface Sample {
  /** The INPUT argument it came from. */
  file: string;
  /** Index within a .npy batch; null for an image. */
  index: number | null;
  /** Short name for tables and the overview: the file's name, plus [i] for .npy. */
  label: string;
  /** The same without the extension, for the overview. */
  short: string;
  /** Heatmap file name (unique within the batch): <stem>.png or <stem>_<i>.png. */
  outName: string;
  /** The sample as the user would see it, RGBA H·W·4 at the model's input size. */
  display: Uint8ClampedArray;
  /** What was done to an image to fit the model (resized, stretched, converted to gray); empty for .npy. */
  notes: string[];
}

export interface InputBatch {
  /** n samples in the model's layout (NCHW or NHWC). */
  x: Float32Array;
  n: number;
  samples: Sample[];
  /** Whether any sample came from an image (so its zbox bounds are the CLI's own range). */
  hasImages: boolean;
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
export const isNpy = (b: Uint8Array) => NPY_MAGIC.every((v, i) => b[i] === v);
const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

export function readInput(file: string): Uint8Array {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new CliError(`input not found: ${file}`);
  }
  if (st.isDirectory()) throw new CliError(`input ${file} is a folder, expected an image or .npy file`);
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new CliError(`cannot read input ${file}: ${(e as Error).message}`);
  }
}

/** The model's per-sample shape in its caller layout (NHWC for TF.js image models). */
export function layoutShape(ctx: ModelContext): number[] {
  const s = ctx.model.inputShape;
  return ctx.model.inputLayout === 'NHWC' && s.length === 3 ? [s[1], s[2], s[0]] : s.slice();
}

/** One sample (caller layout) as RGBA for viewing: 1 or 3 channels directly, others averaged to gray. */
export function sampleToRGBA(sample: Float32Array, g: Geometry, nhwc: boolean, range?: readonly [number, number]): Uint8ClampedArray {
  const hw = g.H * g.W;
  let chw = sample;
  if (nhwc && g.C > 1) {
    chw = new Float32Array(sample.length);
    for (let p = 0; p < hw; p++) for (let c = 0; c < g.C; c++) chw[c * hw + p] = sample[p * g.C + c];
  }
  let channels = g.C;
  if (g.C !== 1 && g.C !== 3) {
    const gray = new Float32Array(hw);
    for (let c = 0; c < g.C; c++) for (let p = 0; p < hw; p++) gray[p] += chw[c * hw + p] / g.C;
    chw = gray;
    channels = 1;
  }
  let r = range;
  if (r) {
    const [lo, hi] = [Math.min(...r), Math.max(...r)];
    if (!chw.every((v) => v >= lo - 1e-6 && v <= hi + 1e-6)) r = undefined; // outside the range: use the data's own
  }
  return chwToRGBA(chw, channels, g.W, g.H, r as [number, number] | undefined);
}

function uniqueName(stem: string, taken: Set<string>): string {
  let name = `${stem}.png`;
  for (let k = 2; taken.has(name.toLowerCase()); k++) name = `${stem}-${k}.png`;
  taken.add(name.toLowerCase());
  return name;
}

export function loadImage(file: string, bytes: Uint8Array, ctx: ModelContext): { x: Float32Array; display: Uint8ClampedArray; notes: string[] } {
  const g = ctx.geometry;
  if (!g.image)
    throw new CliError(
      `${file}: model '${ctx.model.name}' takes ${fmt(ctx.model.inputShape)}, which is not an image (1 or 3 channels of H x W); give its inputs as .npy`,
    );
  const img = decodeImage(bytes, file);
  // the library's image pipeline (as model.explainImage), which also says what it did
  const kind = isPNG(bytes) ? 'PNG' : 'JPEG';
  const { x, display, info } = prepareImage(
    { data: img.data, width: img.width, height: img.height, channels: 4, range: [0, 255], kind },
    { channels: g.C, height: g.H, width: g.W, layout: ctx.model.inputLayout, inputRange: ctx.range, mean: ctx.mean, std: ctx.std },
  );
  return { x, display, notes: info.notes };
}

/**
 * Checks an .npy array's shape against the model (first axis = samples, the rest one sample in
 * the model's layout); returns what was noted about it.
 */
export function checkNpyShape(file: string, shape: number[], ctx: ModelContext): string[] {
  const want = layoutShape(ctx);
  const per = ctx.model.inputSize;
  const layout = ctx.model.inputLayout;
  const wantStr = `[N, ${want.join(', ')}] (${layout}, ${per} values per sample)`;
  if (shape.length < 1 || shape[0] === 0) throw new CliError(`${file}: shape ${fmt(shape)} holds no samples; model '${ctx.model.name}' takes ${wantStr}`);
  const rest = shape.slice(1);
  const restSize = rest.reduce((a, b) => a * b, 1);
  if (restSize !== per || rest.length === 0) {
    const hint = shape.reduce((a, b) => a * b, 1) === per ? ' (one sample? add a batch axis of 1)' : '';
    throw new CliError(`${file}: shape ${fmt(shape)} does not fit model '${ctx.model.name}', which takes ${wantStr}${hint}`);
  }
  // same size, another image shape: the other layout is an error with several channels (they
  // would mix up) and the same values with one (noted); any other shape is an error
  const s = ctx.model.inputShape;
  const notes: string[] = [];
  if (s.length === 3 && rest.length === 3 && !rest.every((d, i) => d === want[i])) {
    const other = layout === 'NHWC' ? s : [s[1], s[2], s[0]];
    const otherName = layout === 'NHWC' ? 'NCHW' : 'NHWC';
    const isOther = rest.every((d, i) => d === other[i]);
    if (isOther && s[0] > 1) throw new CliError(`${file}: shape ${fmt(shape)} is ${otherName}, but model '${ctx.model.name}' takes ${wantStr}`);
    if (!isOther)
      throw new CliError(`${file}: shape ${fmt(shape)} is neither the model's ${layout} ${fmt(['N', ...want] as never)} nor ${otherName} ${fmt(['N', ...other] as never)}`);
    notes.push(`shape ${fmt(shape)} is ${otherName}; with one channel its values are in the model's ${layout} order`);
  }
  return notes;
}

/** Inputs must be finite: names the file, the sample and the index of the first value that is not. */
export function checkFinite(sample: Float32Array, file: string, i: number): void {
  for (let j = 0; j < sample.length; j++)
    if (!Number.isFinite(sample[j])) throw new CliError(`${file}: sample ${i} holds ${sample[j]} at index ${j}; inputs must be finite`);
}

function loadNpy(file: string, bytes: Uint8Array, ctx: ModelContext): { samples: Float32Array[]; notes: string[] } {
  const { data, shape } = readNpy(bytes, file);
  const notes = checkNpyShape(file, shape, ctx);
  const per = ctx.model.inputSize;
  const n = shape[0];
  const out: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const sample = data.subarray(i * per, (i + 1) * per);
    checkFinite(sample, file, i);
    out.push(sample);
  }
  return { samples: out, notes };
}

/** Reads every INPUT into one batch. Throws (naming the file) on the first bad one. */
export function loadInputs(files: string[], ctx: ModelContext, onFile?: (done: number) => void): InputBatch {
  const per = ctx.model.inputSize;
  const parts: Float32Array[] = [];
  const samples: Sample[] = [];
  const taken = new Set<string>(['overview.png']);
  let hasImages = false;
  const nhwc = ctx.model.inputLayout === 'NHWC';
  files.forEach((file, k) => {
    const bytes = readInput(file);
    const base = path.basename(file);
    const stem = base.replace(/\.[^.]*$/, '') || 'input';
    if (isNpy(bytes)) {
      const { samples: npySamples, notes: npyNotes } = loadNpy(file, bytes, ctx);
      npySamples.forEach((sample, i) => {
        parts.push(sample);
        samples.push({
          file,
          index: i,
          label: `${base}[${i}]`,
          short: `${stem}[${i}]`,
          outName: uniqueName(`${stem}_${i}`, taken),
          display: sampleToRGBA(sample, ctx.geometry, nhwc, ctx.mean || ctx.std ? undefined : ctx.range),
          notes: npyNotes,
        });
      });
    } else {
      const { x, display, notes } = loadImage(file, bytes, ctx);
      hasImages = true;
      parts.push(x);
      samples.push({ file, index: null, label: base, short: stem, outName: uniqueName(stem, taken), display, notes });
    }
    onFile?.(k + 1);
  });
  const x = new Float32Array(parts.length * per);
  parts.forEach((p, i) => x.set(p, i * per));
  return { x, n: parts.length, samples, hasImages };
}
