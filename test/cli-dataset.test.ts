// lrp explain over a dataset: folders and globs in a fixed order, chunks committed with their
// results lines, shards that add up to exactly one unsharded run, --resume, --shard auto's
// environment, and .npy files read in parts equal to reading them whole.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, readNpy, writeNpy } from '../src/index.js';
import { resolveShard } from '../src/cli/dataset-args.js';
import { NpyFile } from '../src/cli/npy-file.js';
import { listFiles, lrp, tempDir } from './cli/helpers.js';

const MODEL = 'models/fashion-mnist/tfjs/model.json';
const SAMPLES = 'models/fashion-mnist/samples';

/** 20 images (the 16 samples, 4 of them again in a subfolder) and an .npy of 7 samples. */
function dataset(): string {
  const dir = tempDir('lrp-ds-');
  const pngs = readdirSync(SAMPLES).filter((f) => f.endsWith('.png')).sort();
  for (const f of pngs) copyFileSync(path.join(SAMPLES, f), path.join(dir, f));
  mkdirSync(path.join(dir, 'more'));
  for (const f of pngs.slice(0, 4)) copyFileSync(path.join(SAMPLES, f), path.join(dir, 'more', `again-${f}`));
  const x = new Float32Array(7 * 784);
  for (let i = 0; i < x.length; i++) x[i] = (Math.sin(i * 0.37) + 1) / 2;
  writeFileSync(path.join(dir, 'more', 'batch.npy'), writeNpy(x, [7, 28, 28, 1]));
  writeFileSync(path.join(dir, 'labels.json'), '{}'); // not an input
  return dir;
}

interface Line {
  i: number;
  file: string;
  index: number | null;
  ms: number;
  npy: string;
  row: number;
  png: string | null;
  [k: string]: unknown;
}

const readLines = (file: string): Line[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);

/** Everything but the timing. */
const withoutMs = (l: Line) => ({ ...l, ms: 0 });

/** The relevance row of a results line, from its .npy. */
function relevanceOf(out: string, l: Line): Float32Array {
  const { data, shape } = readNpy(readFileSync(path.join(out, l.npy)));
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  return data.slice(l.row * per, (l.row + 1) * per);
}

/** Every output file of a run (results files aside) and its bytes. */
function outputs(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of listFiles(out)) if (!f.startsWith('results')) m.set(f, readFileSync(path.join(out, f)).toString('base64'));
  return m;
}

describe('lrp explain over a dataset', () => {
  const data = dataset();
  const whole = tempDir('lrp-ds-out-');

  it('streams a folder tree in sorted chunks: a results line per input, heatmaps, relevance per chunk', async () => {
    const r = await lrp(['explain', MODEL, data, '--recursive', '--chunk', '6', '--out', whole]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/27 inputs \(5 chunks of 6\); explained 27/);
    const lines = readLines(path.join(whole, 'results.jsonl'));
    expect(lines.map((l) => l.i)).toEqual([...Array(27).keys()]);
    const files = lines.map((l) => path.relative(data, l.file));
    expect(files.slice(0, 16)).toEqual(readdirSync(SAMPLES).filter((f) => f.endsWith('.png')).sort());
    expect(files.slice(16, 20)).toEqual(readdirSync(path.join(data, 'more')).filter((f) => f.startsWith('again-')).sort().map((f) => `more/${f}`));
    expect(lines.slice(20).map((l) => [path.relative(data, l.file), l.index, l.png])).toEqual([...Array(7).keys()].map((k) => ['more/batch.npy', k, `heatmaps/more/batch.npy/${k}.png`]));
    expect(lines[0]).toMatchObject({ index: null, png: 'heatmaps/0000_ankle_boot.png.png', chunk: 0, npy: 'relevance-000000.npy', row: 0, predictedClassName: 'Ankle boot' });
    expect(lines[26]).toMatchObject({ chunk: 4, npy: 'relevance-000004.npy', row: 2 });
    expect(listFiles(whole).filter((f) => f.endsWith('.npy'))).toEqual([0, 1, 2, 3, 4].map((c) => `relevance-00000${c}.npy`));
    for (const l of lines) expect(existsSync(path.join(whole, l.png!)), l.png!).toBe(true);

    // the numbers are the library's for the same chunk of inputs
    const model = await loadModel(MODEL);
    try {
      const npy = readNpy(readFileSync(path.join(data, 'more', 'batch.npy')));
      const chunk4 = npy.data.subarray(784 * 4); // inputs 24..26 = rows 4..6, chunk 4 on its own
      const want = model.explain(chunk4, { low: 0, high: 1 });
      for (let k = 0; k < 3; k++) {
        const l = lines[24 + k];
        expect(relevanceOf(whole, l)).toEqual(want.relevance.slice(k * 784, (k + 1) * 784));
        expect(l.start).toBe(Number(Math.fround(want.sums.start[k]).toPrecision(9)));
        expect(l.input).toBe(Number(Math.fround(want.sums.input[k]).toPrecision(9)));
        expect(l.target).toBe(want.targets[k]);
      }
    } finally {
      model.dispose();
    }
  });

  it('--shard 0/2 and 1/2 into one folder give exactly the outputs of the unsharded run', async () => {
    const out = tempDir('lrp-ds-shards-');
    for (const k of [0, 1]) {
      const r = await lrp(['explain', MODEL, data, '--recursive', '--chunk', '6', '--shard', `${k}/2`, '--out', out]);
      expect(r.code, r.stderr).toBe(0);
    }
    const merged = [...readLines(path.join(out, 'results-0-of-2.jsonl')), ...readLines(path.join(out, 'results-1-of-2.jsonl'))].sort((a, b) => a.i - b.i);
    expect(merged.map(withoutMs)).toEqual(readLines(path.join(whole, 'results.jsonl')).map(withoutMs));
    expect(readLines(path.join(out, 'results-1-of-2.jsonl')).map((l) => l.chunk)).toEqual([1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3]);
    expect(outputs(out)).toEqual(outputs(whole)); // same PNGs and relevance files, byte for byte
  });

  it('--resume skips the committed chunks and redoes a chunk a hard kill left incomplete', async () => {
    const out = tempDir('lrp-ds-resume-');
    const args = ['explain', MODEL, data, '--recursive', '--chunk', '6', '--out', out];
    expect((await lrp(args)).code).toBe(0);
    const again = await lrp(args);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/results\.jsonl exists from an earlier run: pass --resume/);
    // a kill in the middle of appending chunk 3's lines: a torn line, and chunk 4 never written
    const file = path.join(out, 'results.jsonl');
    const text = readFileSync(file, 'utf8');
    const cut = text.split('\n').slice(0, 20).join('\n').length + 1 + 15;
    truncateSync(file, cut);
    const r = await lrp([...args, '--resume']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/dropped 3 lines of chunks left incomplete/);
    expect(r.stdout).toMatch(/explained 9, skipped 18 already done/);
    expect(readLines(file).map(withoutMs)).toEqual(readLines(path.join(whole, 'results.jsonl')).map(withoutMs));
    expect(outputs(out)).toEqual(outputs(whole));
    const done = await lrp([...args, '--resume']);
    expect(done.stdout).toMatch(/explained 0, skipped 27 already done/);
    // a missing heatmap makes its chunk not done
    const lines = readLines(file);
    const { rmSync } = await import('node:fs');
    rmSync(path.join(out, lines[7].png!));
    const redo = await lrp([...args, '--resume']);
    expect(redo.stdout).toMatch(/explained 6, skipped 21/);
    expect(outputs(out)).toEqual(outputs(whole));
  });

  it('--resume refuses another --chunk or other inputs', async () => {
    const out = tempDir('lrp-ds-resume2-');
    expect((await lrp(['explain', MODEL, data, '--chunk', '4', '--out', out])).code).toBe(0);
    const chunk = await lrp(['explain', MODEL, data, '--chunk', '5', '--out', out, '--resume']);
    expect(chunk.code).toBe(1);
    expect(chunk.stderr).toMatch(/another --chunk than 5/);
    const inputs = await lrp(['explain', MODEL, path.join(data, 'more'), '--chunk', '4', '--out', out, '--resume']);
    expect(inputs.stderr).toMatch(/--resume needs the same INPUTs/);
  });

  it('a folder without --recursive holds its own files; globs; --out inside the inputs is left out; --no-png', async () => {
    const flat = path.join(data, 'out-inside');
    const r = await lrp(['explain', MODEL, data, '--no-png', '--out', flat]);
    expect(r.code, r.stderr).toBe(0);
    expect(readLines(path.join(flat, 'results.jsonl')).map((l) => l.png)).toEqual(new Array(16).fill(null));
    expect(listFiles(flat)).toEqual(['relevance-000000.npy', 'results.jsonl']);
    const g = await lrp(['explain', MODEL, path.join(data, '**', 'again-*.png'), '--no-png', '--out', tempDir()]);
    expect(g.stdout).toMatch(/: 4 inputs /);
    // the tree again into the same --out: its relevance-000000.npy is not an input; the first run's
    // chunk 0 (16 inputs) is not this run's chunk 0 (27 inputs), so it is explained again
    const rec = await lrp(['explain', MODEL, data, '-r', '--no-png', '--out', flat, '--resume']);
    expect(rec.stdout).toMatch(/: 27 inputs .*explained 27 in/);
    expect(rec.stderr).toMatch(/dropped 16 lines/);
    expect(readLines(path.join(flat, 'results.jsonl')).map((l) => l.i)).toEqual([...Array(27).keys()]);
  });

  it('refuses what needs the whole batch, and says what is wrong', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--npy', 'x.npy'], /--npy writes the whole batch/],
      [['--shared-scale'], /--shared-scale needs the whole batch/],
      [['--target', '1,2'], /one class per sample/],
      [['--shard', '2/2'], /K must be below N/],
      [['--shard', 'x'], /--shard must be K\/N/],
      [['--shards', '3'], /--shards N goes with --shard auto/],
      [['--chunk', '0'], /--chunk must be a whole number/],
      [['--workers', 'two'], /--workers must be a whole number/],
    ];
    for (const [extra, msg] of cases) {
      const r = await lrp(['explain', MODEL, data, '--out', tempDir(), ...extra]);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
    const none = await lrp(['explain', MODEL, path.join(data, 'nothing-*.png'), '--out', tempDir()]);
    expect(none.stderr).toMatch(/no \.png, \.jpg, \.jpeg or \.npy files/);
  });
});

describe('--shard auto', () => {
  const auto = (env: NodeJS.ProcessEnv, shards?: number) => resolveShard({ kind: 'auto', shards }, env);
  it('reads the Kubernetes completion index or the Slurm array task', () => {
    expect(auto({ JOB_COMPLETION_INDEX: '3' }, 8)).toEqual({ k: 3, n: 8 });
    expect(auto({ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '5' })).toEqual({ k: 4, n: 5 });
    expect(auto({ SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '10' })).toEqual({ k: 6, n: 10 });
    expect(auto({ SLURM_ARRAY_TASK_ID: '20', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_STEP: '5', SLURM_ARRAY_TASK_COUNT: '3' })).toEqual({ k: 2, n: 3 });
    expect(auto({ SLURM_ARRAY_TASK_ID: '2' }, 4)).toEqual({ k: 2, n: 4 });
  });
  it('names the variable that is missing or wrong', () => {
    expect(() => auto({})).toThrow(/neither JOB_COMPLETION_INDEX .* nor SLURM_ARRAY_TASK_ID/);
    expect(() => auto({ JOB_COMPLETION_INDEX: '1' })).toThrow(/pass --shards N/);
    expect(() => auto({ JOB_COMPLETION_INDEX: 'x' }, 2)).toThrow(/JOB_COMPLETION_INDEX='x' is not a whole number/);
    expect(() => auto({ JOB_COMPLETION_INDEX: '4' }, 4)).toThrow(/shard 4 \(from JOB_COMPLETION_INDEX\) is not below the number of shards 4/);
    expect(() => auto({ SLURM_ARRAY_TASK_ID: '1' })).toThrow(/SLURM_ARRAY_TASK_COUNT is not set/);
    expect(() => auto({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '-2' })).toThrow(/SLURM_ARRAY_TASK_COUNT='-2'/);
  });
});

describe('.npy read in parts', () => {
  it('rows read in chunks equal the file read whole (float32, float64, a long version-2 header)', () => {
    const dir = tempDir('lrp-npy-');
    const x = new Float32Array(11 * 6);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin(i) * 1e3;
    const f4 = path.join(dir, 'a.npy');
    writeFileSync(f4, writeNpy(x, [11, 2, 3]));
    // float64, hand-written header version 2.0 padded beyond the first read
    const header = `{'descr': '<f8', 'fortran_order': False, 'shape': (11, 6), }`.padEnd(5000 - 12 - 1, ' ') + '\n';
    const f8bytes = new Uint8Array(12 + header.length + x.length * 8);
    f8bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
    new DataView(f8bytes.buffer).setUint32(8, header.length, true);
    for (let i = 0; i < header.length; i++) f8bytes[12 + i] = header.charCodeAt(i);
    const view = new DataView(f8bytes.buffer, 12 + header.length);
    x.forEach((v, i) => view.setFloat64(8 * i, v, true));
    const f8 = path.join(dir, 'b.npy');
    writeFileSync(f8, f8bytes);
    for (const file of [f4, f8]) {
      const whole = readNpy(readFileSync(file)).data;
      const npy = NpyFile.open(file);
      try {
        expect([npy.rows, npy.rowSize]).toEqual([11, 6]);
        const parts: number[] = [];
        for (let s = 0; s < 11; s += 4) parts.push(...npy.readRows(s, Math.min(4, 11 - s)));
        expect(new Float32Array(parts)).toEqual(whole);
        expect(() => npy.readRows(10, 2)).toThrow(/outside its 11 rows/);
      } finally {
        npy.close();
      }
    }
    writeFileSync(path.join(dir, 'short.npy'), writeNpy(x, [11, 6]).subarray(0, 200));
    expect(() => NpyFile.open(path.join(dir, 'short.npy'))).toThrow(/truncated data/);
  });
});
