/**
 * The inputs of a dataset run, in a fixed order: every INPUT (a folder, a quoted glob or a file)
 * expanded to files, sorted by path, each an image (one input) or an .npy array (one input per
 * row, its header read here, the data later in chunks). Input i is the i-th of that list, the
 * same for every shard and every resume. Only the list of files is held, not one object per input.
 */
import { closeSync, openSync, readdirSync, readSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { CliError } from './errors.js';
import type { ModelContext } from './context.js';
import { expandGlob, hasGlobMagic } from './glob.js';
import { checkNpyShape, isNpy } from './inputs.js';
import { NpyFile } from './npy-file.js';

/** Extensions taken from folders and globs (an explicit file is taken whatever its name). */
const EXTENSIONS = /\.(png|jpe?g|npy)$/i;

export interface DatasetSource {
  /** The path as found (the INPUT joined with the path below it). */
  file: string;
  /** Its path below the common folder of all INPUTs, '/'-separated: names its heatmaps. */
  rel: string;
  kind: 'image' | 'npy';
  /** Inputs it holds: 1 for an image, the first axis for an .npy. */
  rows: number;
  /** Index of its first input in the whole list. */
  first: number;
  /** What was noted about it (an .npy in the other layout). */
  notes: string[];
}

export interface DatasetList {
  sources: DatasetSource[];
  /** Number of inputs. */
  total: number;
  /** Whether any input is an image (zbox bounds are then the CLI's image range, for every input). */
  hasImages: boolean;
}

/** One input: its index in the list, its file, its row in an .npy (null for an image), its heatmap's path below heatmaps/. */
export interface DatasetItem {
  i: number;
  file: string;
  index: number | null;
  png: string;
}

function listFolder(dir: string, recursive: boolean, out: string[]): void {
  let list: Dirent[];
  try {
    list = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new CliError(`cannot read the folder ${dir}: ${(e as Error).message}`);
  }
  for (const e of list) {
    if (e.name.startsWith('.')) continue; // hidden files, and the temporaries of a run writing here
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive) listFolder(p, recursive, out);
    } else if (EXTENSIONS.test(e.name) && (e.isFile() || (e.isSymbolicLink() && isFile(p)))) out.push(p);
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function sniffNpy(file: string): boolean {
  const head = new Uint8Array(6);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    readSync(fd, head, 0, 6, 0);
  } catch (e) {
    throw new CliError(`cannot read input ${file}: ${(e as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return isNpy(head);
}

/** The deepest folder holding all of `dirs` (absolute paths). */
function commonFolder(dirs: string[]): string {
  let common = dirs[0];
  for (const d of dirs.slice(1)) while (common !== path.dirname(common) && !(d === common || d.startsWith(common.endsWith(path.sep) ? common : common + path.sep))) common = path.dirname(common);
  return common;
}

/**
 * Expands INPUT arguments into the sorted list of inputs; checks every .npy header against the
 * model. Files below `outDir` (the run's own outputs, when --out is inside an input folder) are
 * left out, unless named explicitly.
 */
export function listDataset(args: string[], recursive: boolean, ctx: ModelContext, outDir: string): DatasetList {
  const out = path.resolve(outDir) + path.sep;
  const found: Array<{ file: string; root: string; explicit: boolean }> = [];
  for (const arg of args) {
    let st;
    try {
      st = statSync(arg);
    } catch {
      st = null;
    }
    if (st?.isDirectory()) {
      const files: string[] = [];
      listFolder(arg, recursive, files);
      for (const f of files) found.push({ file: f, root: arg, explicit: false });
    } else if (st) found.push({ file: arg, root: path.dirname(arg), explicit: true });
    else if (hasGlobMagic(arg)) {
      const { root, files } = expandGlob(arg);
      for (const f of files) if (EXTENSIONS.test(f)) found.push({ file: f, root, explicit: false });
    } else throw new CliError(`input not found: ${arg}`);
  }

  // one entry per real file, sorted by path: the order of inputs (and so chunks and shards)
  const byPath = new Map<string, (typeof found)[number]>();
  for (const f of found) {
    const abs = path.resolve(f.file);
    if (!byPath.has(abs) && (f.explicit || !abs.startsWith(out))) byPath.set(abs, f);
  }
  const unique = [...byPath.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  if (unique.length === 0) throw new CliError(`no .png, .jpg, .jpeg or .npy files in ${args.join(', ')}${recursive ? '' : ' (folders are read without their subfolders unless --recursive)'}`);
  const common = commonFolder([...new Set(unique.map((f) => path.resolve(f.root)))]);

  const sources: DatasetSource[] = [];
  let total = 0;
  let hasImages = false;
  for (const f of unique) {
    const rel = path.relative(common, path.resolve(f.file)).split(path.sep).join('/');
    const npy = f.explicit ? sniffNpy(f.file) : /\.npy$/i.test(f.file);
    if (npy) {
      const arr = NpyFile.open(f.file);
      let notes: string[];
      try {
        notes = checkNpyShape(f.file, arr.header.shape, ctx);
      } finally {
        arr.close();
      }
      sources.push({ file: f.file, rel, kind: 'npy', rows: arr.rows, first: total, notes });
      total += arr.rows;
    } else {
      if (!ctx.geometry.image)
        throw new CliError(`${f.file}: model '${ctx.model.name}' does not take images (its input is [${ctx.model.inputShape.join(', ')}]); give its inputs as .npy`);
      sources.push({ file: f.file, rel, kind: 'image', rows: 1, first: total, notes: [] });
      total += 1;
      hasImages = true;
    }
  }
  return { sources, total, hasImages };
}

/** Inputs [start, end) of the list. */
export function itemsOf(list: DatasetList, start: number, end: number): DatasetItem[] {
  const { sources } = list;
  // the source holding input `start`: binary search over the first indices
  let lo = 0;
  let hi = sources.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (sources[mid].first <= start) lo = mid;
    else hi = mid - 1;
  }
  const out: DatasetItem[] = [];
  for (let s = lo, i = start; i < end && s < sources.length; s++) {
    const src = sources[s];
    for (; i < end && i < src.first + src.rows; i++) {
      const row = i - src.first;
      out.push(src.kind === 'image' ? { i, file: src.file, index: null, png: `${src.rel}.png` } : { i, file: src.file, index: row, png: `${src.rel}/${row}.png` });
    }
  }
  return out;
}
