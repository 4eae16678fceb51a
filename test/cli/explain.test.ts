// lrp explain: the relevance it writes is exactly the library's, heatmaps and overview are
// real PNGs of the right size, and the summary says what was explained.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePNG, encodePNG, loadModel, parseRule, readNpy, type ExplainOptions, type Model } from '../../src/index.js';
import jpeg from 'jpeg-js';
import { decodeImage, imageToTensor } from '../../src/io/index.js';
import { inputsNpy, listFiles, lrp, maxDiff, modelPath, tempDir } from './helpers.js';

interface Variant {
  name: string;
  args: string[];
  opts: ExplainOptions;
}

const VARIANTS: Variant[] = [
  { name: 'default (epsilon-plus)', args: [], opts: {} },
  { name: '--composite epsilon-gamma-box', args: ['--composite', 'epsilon-gamma-box'], opts: { composite: 'epsilon-gamma-box' } },
  { name: '--composite epsilon-alpha2-beta1-flat', args: ['--composite', 'epsilon-alpha2-beta1-flat'], opts: { composite: 'epsilon-alpha2-beta1-flat' } },
  { name: '--target 1,2,3,4', args: ['--target', '1,2,3,4'], opts: { target: [1, 2, 3, 4] } },
  { name: '--target 4', args: ['--target', '4'], opts: { target: 4 } },
  { name: '--start onehot', args: ['--start', 'onehot'], opts: { start: 'onehot' } },
  {
    name: '--rule alphabeta:2,1 --first zbox:0,1',
    args: ['--rule', 'alphabeta:2,1', '--first', 'zbox:0,1'],
    opts: { rule: parseRule('alphabeta:2,1'), firstRule: parseRule('zbox:0,1') },
  },
  { name: '--rule epsilon:0.25 --batch 3', args: ['--rule', 'epsilon:0.25', '--batch', '3'], opts: { rule: parseRule('epsilon:0.25'), batch: 3 } },
  {
    name: '--composite epsilon-gamma-box --low -1 --high 2 --target 0',
    args: ['--composite', 'epsilon-gamma-box', '--low', '-1', '--high', '2', '--target', '0'],
    opts: { composite: 'epsilon-gamma-box', low: -1, high: 2, target: 0 },
  },
];

const MODELS: Array<{ fixture: string; file: string; hw: [number, number] }> = [
  { fixture: 'cnn', file: 'model.json', hw: [28, 28] },
  { fixture: 'mlp', file: 'model.json', hw: [28, 28] }, // [784] is drawn as 28 x 28
  { fixture: 'cnn', file: 'model.onnx', hw: [28, 28] },
  { fixture: 'tfjs_cnn', file: 'tfjs/model.json', hw: [28, 28] }, // NHWC
  { fixture: 'resnet_mini', file: 'model.json', hw: [32, 32] }, // 3 channels, residual adds
  { fixture: 'tfjs_residual', file: 'tfjs/model.json', hw: [16, 16] }, // NHWC, 3 channels
];

for (const { fixture, file, hw } of MODELS) {
  describe(`lrp explain on ${fixture}/${file}`, () => {
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

    for (const v of VARIANTS) {
      it(`${v.name}: --npy equals model.explain exactly`, async () => {
        // ONNX and TF.js files declare no input range: zbox on .npy inputs needs explicit bounds there,
        // unless the same model in our format (an lrp model.json with input_range) sits beside the .onnx
        const sibling = file.endsWith('.onnx') ? (JSON.parse(readFileSync(path.join(path.dirname(mpath), 'model.json'), 'utf8')).input_range as [number, number]) : null;
        const zbox = v.opts.composite === 'epsilon-gamma-box' && v.opts.low === undefined;
        const needsBounds = !model.graph.inputRange && zbox && !sibling;
        const out = path.join(dir, `out-${VARIANTS.indexOf(v)}`);
        const npy = path.join(dir, `r-${VARIANTS.indexOf(v)}.npy`);
        const run = await lrp(['explain', mpath, input.file, '--out', out, '--npy', npy, ...v.args]);
        if (needsBounds) {
          expect(run.code).toBe(1);
          expect(run.stderr).toMatch(/^lrp: error: .*needs input bounds: pass --low and --high/);
          expect(listFiles(out)).toEqual([]);
          return;
        }
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        const got = readNpy(new Uint8Array(readFileSync(npy)));
        expect(got.shape).toEqual(input.shape);
        const want = model.explain(input.x, zbox && sibling ? { ...v.opts, low: sibling[0], high: sibling[1] } : v.opts);
        expect(maxDiff(got.data, want.relevance)).toBe(0);
        expect(Buffer.from(got.data.buffer).equals(Buffer.from(want.relevance.buffer))).toBe(true);
        // heatmaps: one per sample, named <stem>_<i>.png, plus the overview
        const names = ['overview.png', ...[0, 1, 2, 3].map((i) => `${fixture}_inputs_${i}.png`)].sort();
        expect(listFiles(out)).toEqual(names);
        for (const name of names.filter((n) => n !== 'overview.png')) {
          const png = decodePNG(new Uint8Array(readFileSync(path.join(out, name))));
          // enlarged by a whole factor to about 224 px, a colour bar below
          const k = Math.floor(224 / Math.max(...hw));
          expect(png.width).toBe(hw[1] * k);
          expect(png.height).toBeGreaterThan(hw[0] * k);
        }
        const ov = decodePNG(new Uint8Array(readFileSync(path.join(out, 'overview.png'))));
        expect(ov.width).toBeGreaterThan(4 * hw[1]);
        expect(ov.height).toBeGreaterThan(2 * hw[0]);
        // the table: one row per sample with the explained class
        const lines = run.stdout.trim().split('\n');
        expect(lines[0]).toMatch(/^file\s+predicted\s+explained\s+logit/);
        expect(lines).toHaveLength(6);
        want.targets.forEach((t, i) => expect(lines[1 + i]).toMatch(new RegExp(`^${fixture}_inputs\\.npy\\[${i}\\]\\s+\\d+\\s+${t}\\s`)));
      });
    }

    it('--json gives target, logit and relevance sum per sample', async () => {
      const out = path.join(dir, 'out-json');
      const run = await lrp(['explain', mpath, input.file, '--out', out, '--json', '--target', '3,1,4,1']);
      expect(run.code).toBe(0);
      const summary = JSON.parse(run.stdout);
      const want = model.explain(input.x, { target: [3, 1, 4, 1] });
      expect(summary.command).toBe('explain');
      expect(summary.samples).toHaveLength(4);
      summary.samples.forEach((s: Record<string, unknown>, i: number) => {
        expect(s.file).toBe(input.file);
        expect(s.index).toBe(i);
        expect(s.target).toBe([3, 1, 4, 1][i]);
        expect(s.className).toBeUndefined(); // no metadata.json
        expect(s.logit).toBeCloseTo(want.logits[i * model.outputSize + [3, 1, 4, 1][i]], 5);
        expect(s.relevanceSum).toBeCloseTo(want.sums.input[i], 5);
        expect(s.heatmap).toBe(path.join(out, `${input.file.replace(/.*\//, '').replace('.npy', '')}_${i}.png`));
      });
    });
  });
}

describe('lrp explain on images', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
    // a 40x36 RGB ring (not the model's size, not gray): resized and converted by the CLI
    const w = 40;
    const h = 36;
    const rgba = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const r = Math.hypot(x - w / 2, y - h / 2);
        const o = 4 * (y * w + x);
        rgba.set([r > 7 && r < 13 ? 250 : 10, r < 13 ? 120 : 0, x * 6, 255], o);
      }
    writeFileSync(path.join(dir, 'ring.png'), encodePNG(rgba, w, h));
  });

  for (const { fixture, file } of [
    { fixture: 'cnn', file: 'model.json' },
    { fixture: 'tfjs_cnn', file: 'tfjs/model.json' },
    { fixture: 'mlp', file: 'model.json' },
  ]) {
    it(`${fixture}/${file}: a PNG is converted as imageToTensor does, and explained exactly as the library does`, async () => {
      const mpath = modelPath(fixture, file);
      const model = await loadModel(mpath);
      try {
        const out = path.join(dir, `out-${fixture}`);
        const npy = path.join(dir, `${fixture}.npy`);
        const png = path.join(dir, 'ring.png');
        const run = await lrp(['explain', mpath, png, png, '--out', out, '--npy', npy, '--composite', 'epsilon-gamma-box']);
        // said once for the file given twice
        expect(run.stderr).toBe(
          'lrp: note: ring.png: resized 40×36 → 28×28, stretched (aspect 1.11 → 1)\nlrp: note: ring.png: converted RGB to gray (0.299 R + 0.587 G + 0.114 B)\n',
        );
        expect(run.code).toBe(0);
        const x1 = imageToTensor(decodeImage(new Uint8Array(readFileSync(png))), {
          channels: 1,
          height: 28,
          width: 28,
          range: [0, 1],
          layout: model.inputLayout,
        });
        const x = new Float32Array(2 * x1.length);
        x.set(x1, 0);
        x.set(x1, x1.length);
        const want = model.explain(x, { composite: 'epsilon-gamma-box', low: 0, high: 1 });
        const got = readNpy(new Uint8Array(readFileSync(npy)));
        expect(got.shape).toEqual([2, ...(model.inputLayout === 'NHWC' ? [28, 28, 1] : model.inputShape)]);
        expect(maxDiff(got.data, want.relevance)).toBe(0);
        // the same name twice: the second heatmap gets a suffix
        expect(listFiles(out)).toEqual(['overview.png', 'ring-2.png', 'ring.png']);
      } finally {
        model.dispose();
      }
    });
  }

  it('reads JPEG (3 channels for resnet_mini: resized to 32 x 32, scaled to the model range [-1, 1]) and predicts as the library does', async () => {
    const w = 50;
    const h = 40;
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set([(i * 7) % 256, (i * 3) % 256, 255 - ((i * 5) % 256), 255], 4 * i);
    const file = path.join(dir, 'photo.jpg');
    writeFileSync(file, jpeg.encode({ data: rgba, width: w, height: h }, 90).data);
    const mpath = modelPath('resnet_mini');
    const model = await loadModel(mpath);
    try {
      const npy = path.join(dir, 'photo-logits.npy');
      const run = await lrp(['predict', mpath, file, '--npy', npy]);
      expect(run.code).toBe(0);
      expect(model.graph.inputRange).toEqual([-1, 1]);
      const x = imageToTensor(decodeImage(new Uint8Array(readFileSync(file))), { channels: 3, height: 32, width: 32, range: model.graph.inputRange ?? [0, 1], layout: 'NCHW' });
      expect(maxDiff(readNpy(new Uint8Array(readFileSync(npy))).data, model.predict(x))).toBe(0);
      expect(run.stdout).toMatch(/^photo\.jpg\s+\d+\s/m);
    } finally {
      model.dispose();
    }
  });

  it('mixes images and .npy in one batch, in argument order', async () => {
    const mpath = modelPath('cnn');
    const input = inputsNpy('cnn', dir);
    const out = path.join(dir, 'out-mixed');
    const run = await lrp(['explain', mpath, path.join(dir, 'ring.png'), input.file, '--out', out, '--json']);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.samples.map((s: { label: string }) => s.label)).toEqual(['ring.png', 'cnn_inputs.npy[0]', 'cnn_inputs.npy[1]', 'cnn_inputs.npy[2]', 'cnn_inputs.npy[3]']);
    expect(listFiles(out)).toEqual(['cnn_inputs_0.png', 'cnn_inputs_1.png', 'cnn_inputs_2.png', 'cnn_inputs_3.png', 'overview.png', 'ring.png']);
  });

  it('--cmap and --normalize change the heatmap colours', async () => {
    const mpath = modelPath('cnn');
    const input = inputsNpy('cnn', dir);
    const a = path.join(dir, 'cmap-a');
    const b = path.join(dir, 'cmap-b');
    expect((await lrp(['explain', mpath, input.file, '--out', a])).code).toBe(0);
    expect((await lrp(['explain', mpath, input.file, '--out', b, '--cmap', 'gray', '--normalize', 'absolute'])).code).toBe(0);
    const pa = decodePNG(new Uint8Array(readFileSync(path.join(a, 'cnn_inputs_0.png'))));
    const pb = decodePNG(new Uint8Array(readFileSync(path.join(b, 'cnn_inputs_0.png'))));
    expect(Buffer.from(pa.data).equals(Buffer.from(pb.data))).toBe(false);
    // gray: R = G = B everywhere
    for (let i = 0; i < pb.data.length; i += pb.channels) expect(pb.data[i]).toBe(pb.data[i + 1]);
  });
});
