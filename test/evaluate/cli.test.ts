// `lrp evaluate` on the bundled Fashion-MNIST model's sample PNGs: files, table, reproducible digits, usage errors.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { splitMethods } from '../../src/cli/evaluate-args.js';
import { decodePNG, readNpy } from '../../src/index.js';
import { lrp, tempDir } from '../cli/helpers.js';

const ROOT = fileURLToPath(new URL('../../models/fashion-mnist/', import.meta.url));
const MODEL = path.join(ROOT, 'tfjs', 'model.json');
const SAMPLES = readdirSync(path.join(ROOT, 'samples'))
  .filter((f) => f.endsWith('.png'))
  .sort()
  .map((f) => path.join(ROOT, 'samples', f));

describe('lrp evaluate', () => {
  const args = (out: string, ...more: string[]) => ['evaluate', MODEL, ...SAMPLES, '--methods', 'epsilon-plus,gradient,alphabeta:2,1,random', '--patch', '4', '--steps', '20', '--sanity', '4', '--out', out, ...more];

  it('writes results.json, curves.npy and the plots, and prints the AOPC table of results.json', async () => {
    const out = tempDir();
    const run = await lrp(args(out));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const files = readdirSync(out).sort();
    expect(files).toEqual(['aopc.png', 'aopc.svg', 'curves.npy', 'curves.png', 'curves.svg', 'results.json', 'sanity.png', 'sanity.svg']);
    for (const f of files.filter((f) => f.endsWith('.png'))) expect(decodePNG(new Uint8Array(readFileSync(path.join(out, f)))).width).toBeGreaterThan(300);
    for (const f of files.filter((f) => f.endsWith('.svg'))) expect(readFileSync(path.join(out, f), 'utf8')).toMatch(/^<svg [^]*<\/svg>\n$/);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(results.methods.map((m: { label: string }) => m.label)).toEqual(['epsilon-plus', 'gradient', 'alphabeta(2,1)', 'random']);
    expect(results).toMatchObject({ n: 16, regions: 49, steps: 20, patch: [4, 4], orders: ['morf', 'lerf'] });
    expect(results.sanity.steps.map((s: { layer: string }) => s.layer)).toEqual(['dense2', 'dense1', 'conv2', 'conv1']);
    expect(Object.keys(results.sanity.steps[0].methods)).toEqual(['epsilon-plus', 'gradient', 'alphabeta(2,1)']);
    for (const m of results.methods) {
      const line = run.stdout.split('\n').find((l) => l.startsWith(`${m.label} `))!;
      expect(line).toContain(`${m.morf.aopc.mean.toFixed(3)} ± ${m.morf.aopc.stderr.toFixed(3)}`);
      expect(line).toContain(`${m.lerf.aopc.mean.toFixed(3)} ± ${m.lerf.aopc.stderr.toFixed(3)}`);
      expect(m.morf.perSample).toHaveLength(16);
    }
    // every real method beats the random baseline on MoRF - LeRF
    const area = (label: string) => results.methods.find((m: { label: string }) => m.label === label).morfMinusLerf.mean;
    for (const label of ['epsilon-plus', 'gradient', 'alphabeta(2,1)']) expect(area(label)).toBeGreaterThan(area('random') + 1);
    const curves = readNpy(new Uint8Array(readFileSync(path.join(out, 'curves.npy'))));
    expect(curves.shape).toEqual([4, 2, 16, 21]);
    // the first point of every curve is the clean score, the same for every method and order
    for (let k = 1; k < 8; k++) expect(curves.data[k * 16 * 21]).toBe(curves.data[0]);
  });

  it('prints the same digits on every run with the same seed', async () => {
    const opts = ['--replacement', 'uniform', '--order', 'morf,lerf,random', '--sanity', '0'];
    const a = await lrp(args(tempDir(), ...opts));
    const b = await lrp(args(tempDir(), ...opts));
    expect(a.code).toBe(0);
    expect(b.stdout.replace(/to \S+\n$/, '')).toBe(a.stdout.replace(/to \S+\n$/, ''));
    const c = await lrp(args(tempDir(), ...opts, '--seed', '2'));
    expect(c.stdout.split('\n')[5]).not.toBe(a.stdout.split('\n')[5]); // the random row
  });

  it('shows a progress bar on a terminal', async () => {
    const run = await lrp(args(tempDir(), '--methods', 'gradient', '--sanity', '0'), { tty: true });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('evaluating');
  });

  const bad: Array<[string[], number, RegExp]> = [
    [['--methods', 'epsilon-plus,magic'], 2, /--methods: unknown method 'magic' \(known: epsilon-plus/],
    [['--methods', 'gradient,gradient'], 2, /--methods lists 'gradient' twice/],
    [['--patch', '0'], 2, /--patch must be a positive integer P or HxW/],
    [['--steps', '0'], 2, /--steps must be an integer >= 1, got '0'/],
    [['--order', 'morf,up'], 2, /--order: unknown order 'up'/],
    [['--replacement', 'zero'], 2, /--replacement must be one of constant, mean, blur, uniform/],
    [['--range', '1,0'], 2, /--range must be LO,HI/],
    [['--patch', '40'], 1, /patch 40x40 is larger than the 28x28 input/],
    [['--steps', '50'], 1, /steps 50 is more than the 49 regions of 4x4 patches in a 28x28 input/],
    [['--composite', 'epsilon-plus'], 2, /--composite does not apply to 'lrp evaluate'/],
  ];
  for (const [extra, code, message] of bad)
    it(`rejects ${extra.join(' ')}`, async () => {
      const out = tempDir();
      const run = await lrp([...args(out), ...extra]);
      expect(run.code).toBe(code);
      expect(run.stderr).toMatch(message);
      expect(readdirSync(out)).toEqual([]);
    });

  it('splits --methods on commas but keeps rule arguments together', () => {
    expect(splitMethods('epsilon-plus,alphabeta:2,1,zbox:0,1,gradient')).toEqual(['epsilon-plus', 'alphabeta:2,1', 'zbox:0,1', 'gradient']);
    expect(splitMethods('gamma:0.25/zbox:-1,1,random')).toEqual(['gamma:0.25/zbox:-1,1', 'random']);
  });
});
