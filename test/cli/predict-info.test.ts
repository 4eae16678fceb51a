// lrp predict and lrp info, metadata.json, --help/--version, and the progress bar.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, readNpy, type Model } from '../../src/index.js';
import { modelDir } from '../helpers/fixtures.js';
import { inputsNpy, listFiles, lrp, maxDiff, modelPath, tempDir } from './helpers.js';

for (const { fixture, file } of [
  { fixture: 'cnn', file: 'model.json' },
  { fixture: 'mlp', file: 'model.json' },
  { fixture: 'tfjs_cnn', file: 'tfjs/model.json' },
]) {
  describe(`lrp predict / info on ${fixture}/${file}`, () => {
    let model: Model;
    let dir: string;
    let input: ReturnType<typeof inputsNpy>;
    const mpath = modelPath(fixture, file);
    beforeAll(async () => {
      model = await loadModel(mpath);
      dir = tempDir();
      input = inputsNpy(fixture, dir);
    });
    afterAll(() => model?.dispose());

    it('predict --npy writes exactly model.predict, [N, outputSize]', async () => {
      const npy = path.join(dir, 'logits.npy');
      const run = await lrp(['predict', mpath, input.file, '--npy', npy]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const got = readNpy(new Uint8Array(readFileSync(npy)));
      const want = model.predict(input.x);
      expect(got.shape).toEqual([4, model.outputSize]);
      expect(maxDiff(got.data, want)).toBe(0);
      const lines = run.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^file\s+class\s+logit\s+prob$/);
      for (let i = 0; i < 4; i++) {
        const row = want.subarray(i * 10, (i + 1) * 10);
        const k = row.indexOf(Math.max(...row));
        expect(lines[1 + i]).toMatch(new RegExp(`^${fixture}_inputs\\.npy\\[${i}\\]\\s+${k}\\s`));
      }
    });

    it('predict --json --batch 3 gives class, logit, probability and all logits', async () => {
      const run = await lrp(['predict', mpath, input.file, '--json', '--batch', '3']);
      expect(run.code).toBe(0);
      const s = JSON.parse(run.stdout);
      const want = model.predict(input.x);
      expect(s.samples).toHaveLength(4);
      s.samples.forEach((smp: { predicted: number; logit: number; probability: number; logits: number[] }, i: number) => {
        const row = Array.from(want.subarray(i * 10, (i + 1) * 10));
        expect(smp.predicted).toBe(row.indexOf(Math.max(...row)));
        expect(smp.logits).toEqual(row.map((v) => Number(v.toPrecision(9))));
        const z = row.reduce((a, v) => a + Math.exp(v - smp.logit), 0);
        expect(smp.probability).toBeCloseTo(1 / z, 6);
      });
    });

    it('info prints the describe() table', async () => {
      const run = await lrp(['info', mpath, '--composite', 'epsilon-alpha2-beta1']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const opts = { composite: 'epsilon-alpha2-beta1', low: 0, high: 1 };
      expect(run.stdout).toContain(model.describe(opts));
      expect(run.stdout).toMatch(/input range: \[0, 1\]/);
    });

    it('info --rule --first shows the rules, --json has the shapes', async () => {
      const run = await lrp(['info', mpath, '--rule', 'gamma:0.5', '--first', 'flat', '--json']);
      expect(run.code).toBe(0);
      const s = JSON.parse(run.stdout);
      expect(s.outputSize).toBe(10);
      expect(s.inputLayout).toBe(model.inputLayout);
      expect(s.describe).toContain('gamma(0.5)');
      expect(s.describe).toContain('flat');
    });
  });
}

describe('metadata.json next to the model', () => {
  let dir: string;
  let onnx: string;
  let input: ReturnType<typeof inputsNpy>;
  const classes = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
  beforeAll(() => {
    dir = tempDir();
    mkdirSync(path.join(dir, 'm'));
    onnx = path.join(dir, 'm', 'model.onnx');
    copyFileSync(path.join(modelDir('cnn'), 'model.onnx'), onnx);
    writeFileSync(path.join(dir, 'm', 'metadata.json'), JSON.stringify({ name: 'digits', classes, input: { range: [0, 1] } }));
    input = inputsNpy('cnn', dir);
  });

  it('gives class names (table, --json, --target by name) and the input range for zbox', async () => {
    const out = path.join(dir, 'out');
    const run = await lrp(['explain', onnx, input.file, '--out', out, '--json', '--target', 'three', '--composite', 'epsilon-gamma-box']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const s = JSON.parse(run.stdout);
    for (const smp of s.samples) {
      expect(smp.target).toBe(3);
      expect(smp.className).toBe('three');
      expect(smp.predictedClassName).toBe(classes[smp.predicted]);
    }
    const table = await lrp(['predict', onnx, input.file]);
    expect(table.stdout).toMatch(/cnn_inputs\.npy\[0\]\s+\d \(\w+\)/);
    const info = await lrp(['info', onnx]);
    expect(info.stdout).toMatch(/input range: \[0, 1\] \(from metadata.json\)/);
    expect(info.stdout).toContain('classes: 0 zero, 1 one');
  });

  it('--scale and --mean/--std set the zbox bounds: (range - mean) / std', async () => {
    const model = await loadModel(onnx);
    try {
      const npy = path.join(dir, 'r.npy');
      const run = await lrp(['explain', onnx, input.file, '--out', path.join(dir, 'o2'), '--npy', npy, '--composite', 'epsilon-gamma-box', '--mean', '0.5', '--std', '0.25']);
      expect(run.code).toBe(0);
      const want = model.explain(input.x, { composite: 'epsilon-gamma-box', low: -2, high: 2 });
      expect(maxDiff(readNpy(new Uint8Array(readFileSync(npy))).data, want.relevance)).toBe(0);
      const run2 = await lrp(['explain', onnx, input.file, '--out', path.join(dir, 'o3'), '--npy', npy, '--composite', 'epsilon-gamma-box', '--scale', '-1,1']);
      expect(run2.code).toBe(0);
      const want2 = model.explain(input.x, { composite: 'epsilon-gamma-box', low: -1, high: 1 });
      expect(maxDiff(readNpy(new Uint8Array(readFileSync(npy))).data, want2.relevance)).toBe(0);
    } finally {
      model.dispose();
    }
  });

  it('warns (one line) and ignores class names that do not match the outputs', async () => {
    const d = path.join(dir, 'bad');
    mkdirSync(d);
    copyFileSync(onnx, path.join(d, 'model.onnx'));
    writeFileSync(path.join(d, 'metadata.json'), JSON.stringify({ classes: ['a', 'b'] }));
    const run = await lrp(['predict', path.join(d, 'model.onnx'), input.file, '--json']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^lrp: warning: .*2 class names for 10 outputs/);
    expect(JSON.parse(run.stdout).samples[0].className).toBeUndefined();
  });

  it('--metadata FILE overrides; a broken one is an error', async () => {
    const f = path.join(dir, 'broken.json');
    writeFileSync(f, '{ not json');
    const run = await lrp(['predict', onnx, input.file, '--metadata', f]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^lrp: error: .*broken\.json: cannot read metadata/);
  });
});

describe('help, version, progress', () => {
  it('-h and --help print the usage on stdout', async () => {
    for (const flag of ['-h', '--help']) {
      const run = await lrp([flag]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^usage:\n {2}lrp explain MODEL INPUT\.\.\. \[--composite NAME \| --rule SPEC \[--first SPEC\]\]/);
      expect(run.stdout).toContain('lrp predict MODEL INPUT... [--npy FILE]');
      expect(run.stdout).toContain('lrp info MODEL');
    }
    expect((await lrp(['explain', '--help'])).code).toBe(0);
  });

  it('--version prints the package version', async () => {
    const run = await lrp(['--version']);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(`lrp-wasm ${pkg.version}`);
  });

  it('shows a progress bar on a TTY for many samples, nothing otherwise', async () => {
    const dir = tempDir();
    const input = inputsNpy('mlp', dir);
    const many = Array.from({ length: 3 }, () => input.file); // 12 samples
    const tty = await lrp(['explain', modelPath('mlp'), ...many, '--out', path.join(dir, 'a'), '--batch', '2'], { tty: true });
    expect(tty.code).toBe(0);
    expect(tty.stderr).toMatch(/explaining/);
    const plain = await lrp(['explain', modelPath('mlp'), ...many, '--out', path.join(dir, 'b'), '--batch', '2']);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toBe('');
    // the same input three times: unique heatmap names
    expect(listFiles(path.join(dir, 'b'))).toHaveLength(13);
    const few = await lrp(['explain', modelPath('mlp'), input.file, '--out', path.join(dir, 'c')], { tty: true });
    expect(few.stderr).toBe('');
  });
});
