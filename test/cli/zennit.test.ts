// The command line as the held-out check runs it: .npy in, --npy out, compared with Zennit's vectors.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../src/index.js';
import { expectClose, expectedRelevance, loadCases } from '../helpers/fixtures.js';
import { inputsNpy, lrp, modelPath, tempDir } from './helpers.js';

const RUNS: Array<{ model: string; file: string; caseName: string; args: string[] }> = [
  { model: 'cnn', file: 'model.onnx', caseName: 'composite_epsilon_gamma_box__logit', args: ['--composite', 'epsilon-gamma-box'] },
  { model: 'cnn_bn', file: 'model.json', caseName: 'zbox_first_epsilon_rest__logit', args: ['--rule', 'epsilon:1e-6', '--first', 'zbox:0,1'] },
  { model: 'resnet_mini', file: 'model.onnx', caseName: 'lrp_alpha2_beta1__logit', args: ['--rule', 'alphabeta:2,1'] },
  { model: 'tfjs_residual', file: 'tfjs/model.json', caseName: 'composite_epsilon_plus_flat__logit', args: ['--composite', 'epsilon-plus-flat'] },
  { model: 'mlp', file: 'model.json', caseName: 'lrp_gamma_0.25__onehot', args: ['--rule', 'gamma:0.25', '--start', 'onehot'] },
];

describe('lrp explain against Zennit', () => {
  for (const r of RUNS) {
    it(`${r.model}/${r.file} ${r.args.join(' ')}`, async () => {
      const dir = tempDir();
      const input = inputsNpy(r.model, dir);
      const c = loadCases(r.model).cases.find((x) => x.name === r.caseName)!;
      const npy = path.join(dir, 'r.npy');
      const run = await lrp(['explain', modelPath(r.model, r.file), input.file, ...r.args, '--target', c.targets.join(','), '--out', path.join(dir, 'out'), '--npy', npy]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const got = readNpy(new Uint8Array(readFileSync(npy)));
      expect(got.shape).toEqual(input.shape);
      const want = expectedRelevance(r.model, r.caseName)!;
      expectClose(got.data, want.data, input.shape[0], 1e-4, `lrp explain ${r.model} ${r.caseName}`);
    });
  }
});
