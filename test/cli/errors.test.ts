// Every bad input: a non-zero exit code, exactly one line on stderr ("lrp: error: ..."), and no
// output file written (the --out folder keeps only what was there before).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodePNG, writeNpy } from '../../src/index.js';
import { inputsNpy, listFiles, lrp, modelPath, tempDir } from './helpers.js';

let dir: string;
const f = (name: string) => path.join(dir, name);
let cnn: string;
let npy: string;

beforeAll(() => {
  dir = tempDir();
  cnn = modelPath('cnn');
  npy = inputsNpy('cnn', dir).file;
  writeFileSync(f('garbage.png'), 'this is not an image\n');
  const png = encodePNG(new Uint8Array(28 * 28 * 4).fill(200), 28, 28);
  writeFileSync(f('good.png'), png);
  writeFileSync(f('truncated.png'), png.subarray(0, 40));
  writeFileSync(f('wrong.npy'), writeNpy(new Float32Array(2 * 3 * 28 * 28), [2, 3, 28, 28]));
  writeFileSync(f('nosamples.npy'), writeNpy(new Float32Array(0), [0, 1, 28, 28]));
  writeFileSync(f('onesample.npy'), writeNpy(new Float32Array(784), [28, 28]));
  const nan = new Float32Array(2 * 784);
  nan[900] = NaN;
  writeFileSync(f('nan.npy'), writeNpy(nan, [2, 1, 28, 28]));
  copyFileSync(new URL('../io/fixtures/bad_i4.npy', import.meta.url), f('int.npy'));
  writeFileSync(f('nchw-residual.npy'), writeNpy(new Float32Array(2 * 3 * 16 * 16), [2, 3, 16, 16]));
  writeFileSync(f('corrupt.onnx'), readFileSync(path.join(path.dirname(cnn), 'model.onnx')).subarray(0, 500));
  writeFileSync(f('afile'), 'x');
});

interface Case {
  name: string;
  argv: () => string[];
  message: RegExp;
  /** Exit code (2: usage errors); default: any non-zero. */
  code?: number;
}

const CASES: Case[] = [
  // inputs
  { name: 'missing input file', argv: () => ['explain', cnn, f('nope.png')], message: /input not found: .*nope\.png$/ },
  { name: 'a folder as input to predict', argv: () => ['predict', cnn, dir], message: /is a folder/ },
  // explain streams a folder (docs/datasets.md), which writes no single --npy
  { name: 'a folder as input to explain, with --npy', argv: () => ['explain', cnn, dir], message: /--npy writes the whole batch as one array/, code: 2 },
  { name: 'unreadable image', argv: () => ['explain', cnn, f('good.png'), f('garbage.png')], message: /garbage\.png: unrecognised image format/ },
  { name: 'truncated PNG', argv: () => ['explain', cnn, f('truncated.png')], message: /truncated\.png/ },
  {
    name: 'wrong .npy shape (names both shapes)',
    argv: () => ['explain', cnn, npy, f('wrong.npy')],
    message: /wrong\.npy: shape \[2, 3, 28, 28\] does not fit model 'cnn', which takes \[N, 1, 28, 28\]/,
  },
  { name: '.npy without a batch axis', argv: () => ['explain', cnn, f('onesample.npy')], message: /onesample\.npy: shape \[28, 28\].*add a batch axis/ },
  { name: '.npy with no samples', argv: () => ['explain', cnn, f('nosamples.npy')], message: /nosamples\.npy: shape \[0, 1, 28, 28\] holds no samples/ },
  { name: '.npy with NaN', argv: () => ['explain', cnn, f('nan.npy')], message: /nan\.npy: sample 1 holds NaN/ },
  { name: 'integer .npy', argv: () => ['predict', cnn, f('int.npy')], message: /int\.npy/ },
  {
    name: 'NCHW .npy for an NHWC model',
    argv: () => ['explain', modelPath('tfjs_residual', 'tfjs/model.json'), f('nchw-residual.npy')],
    message: /nchw-residual\.npy: shape \[2, 3, 16, 16\] is NCHW, but model '.*' takes \[N, 16, 16, 3\] \(NHWC/,
  },
  // model
  { name: 'missing model', argv: () => ['explain', f('nope.onnx'), npy], message: /model not found: .*nope\.onnx/ },
  { name: 'corrupt model', argv: () => ['explain', f('corrupt.onnx'), npy], message: /corrupt\.onnx/ },
  { name: 'an image as the model', argv: () => ['predict', f('good.png'), npy], message: /good\.png/ },
  // rules and composites
  { name: 'unknown composite', argv: () => ['explain', cnn, npy, '--composite', 'epsilon-minus'], message: /unknown composite 'epsilon-minus' \(known: epsilon-plus/, code: 2 },
  { name: 'unknown rule', argv: () => ['explain', cnn, npy, '--rule', 'bogus'], message: /--rule: unknown rule 'bogus'/, code: 2 },
  { name: 'rule with a bad number', argv: () => ['explain', cnn, npy, '--rule', 'epsilon:abc'], message: /--rule: .*'abc' is not a number/, code: 2 },
  { name: 'alphabeta that does not conserve', argv: () => ['explain', cnn, npy, '--rule', 'alphabeta:3,1'], message: /alpha - beta must equal 1/, code: 2 },
  { name: 'bad --first', argv: () => ['explain', cnn, npy, '--rule', 'zplus', '--first', 'zbox:1'], message: /--first: .*zbox takes LOW,HIGH/, code: 2 },
  { name: '--composite with --rule', argv: () => ['explain', cnn, npy, '--composite', 'epsilon-plus', '--rule', 'zplus'], message: /either --composite or --rule/, code: 2 },
  { name: '--composite with --first', argv: () => ['explain', cnn, npy, '--composite', 'epsilon-plus', '--first', 'flat'], message: /either --composite or --rule/, code: 2 },
  { name: '--first without --rule', argv: () => ['explain', cnn, npy, '--first', 'flat'], message: /--first needs --rule/, code: 2 },
  { name: 'a rule that does not apply', argv: () => ['explain', cnn, npy, '--rule', 'pass'], message: /rule 'pass' does not apply to conv2d node '0' \(it accepts: epsilon, / },
  {
    name: 'zbox without bounds on a model without an input range',
    argv: () => {
      // the .onnx alone: no lrp model.json beside it to take the range from
      const alone = path.join(tempDir(), 'model.onnx');
      copyFileSync(path.join(path.dirname(cnn), 'model.onnx'), alone);
      return ['explain', alone, npy, '--composite', 'epsilon-gamma-box'];
    },
    message: /needs input bounds: pass --low and --high/,
  },
  { name: '--low with the wrong channel count', argv: () => ['explain', cnn, npy, '--low', '0,0,0'], message: /--low has 3 values, but the model has 1 input channel/ },
  { name: 'info with an inapplicable rule', argv: () => ['info', cnn, '--rule', 'norm'], message: /rule 'norm' does not apply to conv2d node '0' \(it accepts: / },
  // targets
  { name: '--target not a number', argv: () => ['explain', cnn, npy, '--target', 'abc'], message: /--target 'abc' is not a class index/ },
  { name: '--target fraction', argv: () => ['explain', cnn, npy, '--target', '1.5'], message: /--target: '1\.5' is not a whole class index/, code: 2 },
  { name: '--target negative', argv: () => ['explain', cnn, npy, '--target', '-1'], message: /--target: class index -1 is negative/, code: 2 },
  { name: '--target empty item', argv: () => ['explain', cnn, npy, '--target', '1,,2'], message: /--target must be argmax/, code: 2 },
  { name: '--target wrong count', argv: () => ['explain', cnn, npy, '--target', '1,2,3'], message: /--target has 3 entries but the inputs hold 4 samples/ },
  { name: '--target out of range', argv: () => ['explain', cnn, npy, '--target', '0,1,2,10'], message: /--target 10 is out of range: model 'cnn' has 10 outputs/ },
  // options and arguments
  { name: 'no command', argv: () => [], message: /no command given/, code: 2 },
  { name: 'unknown command', argv: () => ['explian', cnn, npy], message: /unknown command 'explian'/, code: 2 },
  { name: 'unknown option', argv: () => ['explain', cnn, npy, '--colormap', 'bwr'], message: /unknown option '--colormap'/, code: 2 },
  { name: 'option without its value', argv: () => ['explain', cnn, npy, '--composite'], message: /--composite/, code: 2 },
  { name: 'option of another command', argv: () => ['predict', cnn, npy, '--composite', 'epsilon-plus'], message: /--composite does not apply to 'lrp predict'/, code: 2 },
  { name: 'missing INPUT', argv: () => ['explain', cnn], message: /needs at least one INPUT/, code: 2 },
  { name: 'missing MODEL', argv: () => ['info'], message: /needs a MODEL/, code: 2 },
  { name: 'bad --start', argv: () => ['explain', cnn, npy, '--start', 'softmax'], message: /--start must be logit or onehot/, code: 2 },
  { name: 'bad --cmap', argv: () => ['explain', cnn, npy, '--cmap', 'viridis'], message: /--cmap: .*viridis/, code: 2 },
  { name: 'bad --normalize', argv: () => ['explain', cnn, npy, '--normalize', 'max'], message: /--normalize must be/, code: 2 },
  { name: 'bad --batch', argv: () => ['explain', cnn, npy, '--batch', '2.5'], message: /--batch must be a positive integer/, code: 2 },
  { name: 'bad --backend', argv: () => ['explain', cnn, npy, '--backend', 'gpu'], message: /--backend must be one of/, code: 2 },
  { name: 'bad --scale', argv: () => ['explain', cnn, npy, '--scale', '1,1'], message: /--scale: LO and HI must differ/, code: 2 },
  { name: 'zero --std', argv: () => ['explain', cnn, npy, '--std', '0'], message: /--std must not contain 0/, code: 2 },
  { name: 'bad --low', argv: () => ['explain', cnn, npy, '--low', 'x'], message: /--low must be a number/, code: 2 },
  // output locations
  { name: '--out is a file', argv: () => ['explain', cnn, npy, '--out', f('afile')], message: /--out .*afile exists and is not a folder/ },
  { name: '--npy is a folder', argv: () => ['explain', cnn, npy, '--npy', dir], message: /--npy .* is a folder/ },
  { name: '--npy inside a file (fails while writing)', argv: () => ['explain', cnn, npy, '--npy', path.join(f('afile'), 'sub', 'r.npy')], message: /cannot write/ },
];

describe('lrp errors', () => {
  CASES.forEach((c, k) => {
    it(`${c.name}: non-zero exit, one line, no output files`, async () => {
      const out = path.join(dir, `out-${k}`);
      mkdirSync(out);
      writeFileSync(path.join(out, 'keep.txt'), 'from before');
      let argv = c.argv();
      // every explain run writes into `out` (and its --npy there too, unless the case sets one)
      if (argv[0] === 'explain' && !argv.includes('--out')) argv = [...argv, '--out', out];
      if ((argv[0] === 'explain' || argv[0] === 'predict') && !argv.includes('--npy')) argv = [...argv, '--npy', path.join(out, 'r.npy')];
      const run = await lrp(argv);
      expect(run.code).not.toBe(0);
      if (c.code !== undefined) expect(run.code).toBe(c.code);
      const lines = run.stderr.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^lrp: error: \S/);
      expect(lines[0]).toMatch(c.message);
      expect(listFiles(out)).toEqual(['keep.txt']);
      expect(listFiles(dir).filter((p) => p.includes('lrp-tmp'))).toEqual([]);
    });
  });
});
