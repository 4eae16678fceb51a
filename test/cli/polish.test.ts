// The command line's heatmap PNGs (size, colour bar, overlay, one shared scale, absolute scale for
// sequential maps), what --json reports (bounds, logits, notes), Zennit's composite spellings, model
// names, TF.js shapes in the caller's layout, and the inputs it refuses (an image as the model,
// .npy shapes that fit neither layout).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePNG, getColormap, heatmap, loadModel, relevanceOverlay, writeNpy } from '../../src/index.js';
import { enlargement, renderSample, shortNumber } from '../../src/cli/sample-image.js';
import { listFiles, lrp, tempDir } from './helpers.js';

const FM = path.join(import.meta.dirname, '..', '..', 'models', 'fashion-mnist');
const TFJS = path.join(FM, 'tfjs', 'model.json');
const SAMPLES = ['0000_ankle_boot.png', '0002_trouser.png'].map((f) => path.join(FM, 'samples', f));
const png = (file: string) => decodePNG(new Uint8Array(readFileSync(file)));

describe('lrp explain: heatmap PNGs', () => {
  it('--size enlarges by a whole factor (default 224 px), with a colour bar of the map below', async () => {
    const dir = tempDir();
    for (const [size, width] of [[undefined, 224], ['100', 84], ['0', 28]] as const) {
      const out = path.join(dir, `out-${size}`);
      const run = await lrp(['explain', TFJS, SAMPLES[0], '--out', out, ...(size === undefined ? [] : ['--size', size])]);
      expect(run.code, run.stderr).toBe(0);
      const p = png(path.join(out, '0000_ankle_boot.png'));
      expect(p.width).toBe(width);
      // the bar: the palette from its left end to its right end, just below the heatmap
      const pal = getColormap('bwr').palette(1);
      const barRow = width + 3 + 1;
      const at = (x: number) => Array.from(p.data.subarray(4 * (barRow * p.width + x), 4 * (barRow * p.width + x) + 3));
      expect(at(0)).toEqual([pal[0], pal[1], pal[2]]);
      expect(at(p.width - 1)).toEqual([pal[765], pal[766], pal[767]]);
    }
    expect(enlargement(28, 28, 224)).toBe(8);
    expect(enlargement(300, 200, 224)).toBe(1);
    expect(shortNumber(0.012345)).toBe('0.0123');
    expect(shortNumber(-1.2345e-6)).toBe('-1.23E-6');
  });

  it('--overlay draws the heatmap over the input; --shared-scale puts every sample on one scale', async () => {
    const dir = tempDir();
    const npy = path.join(dir, 'r.npy');
    const base = ['explain', TFJS, ...SAMPLES, '--npy', npy, '--size', '0'];
    expect((await lrp([...base, '--out', path.join(dir, 'a'), '--overlay'])).code).toBe(0);
    expect((await lrp([...base, '--out', path.join(dir, 'b'), '--shared-scale'])).code).toBe(0);
    const relevance = new Float32Array(readFileSync(npy).buffer.slice(128));
    const r = [relevance.subarray(0, 784), relevance.subarray(784)];
    const model = await loadModel(TFJS);
    const inputs = await Promise.all(SAMPLES.map(async (f) => (await model.explainImage(readFileSync(f))).image.data));
    model.dispose();
    const drawn = { width: 28, height: 28, channels: 1, layout: 'HWC' as const };
    const topOf = (p: ReturnType<typeof png>) => Array.from(p.data.subarray(0, 28 * 28 * 4));
    expect(topOf(png(path.join(dir, 'a', '0000_ankle_boot.png')))).toEqual(Array.from(relevanceOverlay(r[0], inputs[0], drawn)));
    const max = Math.max(...r.map((x) => Math.max(...Array.from(x, Math.abs))));
    for (const [i, f] of ['0000_ankle_boot.png', '0002_trouser.png'].entries())
      expect(topOf(png(path.join(dir, 'b', f)))).toEqual(Array.from(heatmap(r[i], { ...drawn, max })));
    // one of the two reaches the ends of the scale, the other stays paler
    const own = renderSample(r[1], { ...drawn, cmap: 'bwr', normalize: 'symmetric', size: 0 });
    expect(Array.from(own.rgba.subarray(0, 3136))).toEqual(Array.from(heatmap(r[1], drawn)));
  });

  it('sequential colour maps default to absolute normalisation; --json gives bounds, logits, notes', async () => {
    const dir = tempDir();
    const run = await lrp(['explain', TFJS, SAMPLES[0], '--out', path.join(dir, 'o'), '--cmap', 'hot', '--composite', 'EpsilonGammaBox', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const s = JSON.parse(run.stdout);
    expect(s.heatmaps).toEqual({ size: 224, overlay: false, normalize: 'absolute', sharedScale: null });
    expect(s.composite).toBe('epsilon-gamma-box');
    expect(s.bounds).toEqual({ low: 0, high: 1 });
    expect(s.name).toBe('fashion-mnist-cnn'); // metadata.json's name
    expect(s.samples[0].logits).toHaveLength(10);
    expect(s.samples[0].logits[9]).toBe(s.samples[0].logit);
    expect(s.samples[0].notes).toEqual([]);
    const snake = await lrp(['explain', TFJS, SAMPLES[0], '--out', path.join(dir, 'p'), '--composite', 'epsilon_plus_flat', '--json']);
    expect(JSON.parse(snake.stdout).composite).toBe('epsilon-plus-flat');
    const bad = await lrp(['explain', TFJS, SAMPLES[0], '--composite', 'EpsilonGamaBox']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown composite 'EpsilonGamaBox'.*Zennit's spellings/);
  });
});

describe('lrp info / explain: models and inputs', () => {
  it('shows TF.js inputs in their own layout, names models after their folder', async () => {
    const run = await lrp(['info', TFJS, '--metadata', path.join(tempDir(), 'none.json')]);
    expect(run.code).toBe(1); // a metadata file that is not there is an error
    const dir = tempDir();
    const meta = path.join(dir, 'meta.json');
    writeFileSync(meta, '{}');
    const info = await lrp(['info', TFJS, '--metadata', meta, '--json']);
    const s = JSON.parse(info.stdout);
    expect(s.name).toBe('fashion-mnist');
    expect(s.describe.split('\n')[0]).toMatch(/^model 'fashion-mnist' \(tfjs\), input \[N, 28, 28, 1\] NHWC, 10 outputs, .*\(shapes below: NCHW\)/);
  });

  it('an image passed as the model is named as one', async () => {
    const run = await lrp(['info', SAMPLES[0]]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/0000_ankle_boot\.png is a PNG image, not a model/);
  });

  it('.npy of the other layout: a note with one channel, an error for shapes that fit neither', async () => {
    const dir = tempDir();
    const x = new Float32Array(2 * 784).map((_, i) => (i % 255) / 255);
    const nchw = path.join(dir, 'nchw.npy');
    writeFileSync(nchw, writeNpy(x, [2, 1, 28, 28]));
    const ok = await lrp(['explain', TFJS, nchw, '--out', path.join(dir, 'o')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toBe(`lrp: note: ${nchw}: shape [2, 1, 28, 28] is NCHW; with one channel its values are in the model's NHWC order\n`);
    const odd = path.join(dir, 'odd.npy');
    writeFileSync(odd, writeNpy(x, [2, 28, 1, 28]));
    const bad = await lrp(['explain', TFJS, odd, '--out', path.join(dir, 'p')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/odd\.npy: shape \[2, 28, 1, 28\] is neither the model's NHWC \[N, 28, 28, 1\] nor NCHW \[N, 1, 28, 28\]/);
    expect(listFiles(path.join(dir))).not.toContain('p');
  });
});
