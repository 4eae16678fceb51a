// Edge cases of the graph path: in-memory TF.js models, a batch norm that follows no linear layer,
// and conv/pool hyper-parameters that do not fit, each with a typed error that names the layer.
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, loadModel, ShapeError } from '../src/index.js';
import { modelDir, readF32 } from './helpers/fixtures.js';

/** Write an lrp model.json (format 2) with its parameter files into a temp dir. */
function writeModel(layers: object[], params: Record<string, Float32Array>, inputShape: number[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'lrp-edge-'));
  mkdirSync(join(dir, 'params'));
  for (const [name, v] of Object.entries(params)) writeFileSync(join(dir, 'params', `${name}.f32`), new Uint8Array(v.buffer));
  const ref = (name: string, shape: number[]) => ({ file: `params/${name}.f32`, shape, dtype: 'float32' });
  const resolved = layers.map((l) => {
    const o: Record<string, unknown> = { ...l };
    for (const [k, v] of Object.entries(o)) if (Array.isArray(v) && v[0] === '@') o[k] = ref(v[1] as string, v[2] as number[]);
    return o;
  });
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ format_version: 2, name: 'edge', input_shape: inputShape, output: resolved.at(-1)!.name, layers: resolved }));
  return join(dir, 'model.json');
}

const seq = (n: number, scale = 0.1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + 0.3) * scale);

describe('graph edge cases', () => {
  it('loads a TF.js model from memory ({ modelJson, weights })', async () => {
    const dir = `${modelDir('tfjs_mlp')}/tfjs`;
    const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const weights = new Uint8Array(readFileSync(join(dir, 'group1-shard1of1.bin')));
    const fromMemory = await loadModel({ modelJson, weights });
    const fromPath = await loadModel(join(dir, 'model.json'));
    const x = readF32('tfjs_mlp', 'inputs.f32');
    expect(fromMemory.predict(x)).toEqual(fromPath.predict(x));
    fromMemory.dispose();
    fromPath.dispose();
  });

  it('keeps a batch norm that follows no linear layer, gives it the pass rule and says so', async () => {
    const path = writeModel(
      [
        { name: 'fc1', type: 'linear', inputs: ['input'], in_features: 6, out_features: 5, weight: ['@', 'fc1.w', [5, 6]], bias: ['@', 'fc1.b', [5]] },
        { name: 'act', type: 'relu', inputs: ['fc1'] },
        { name: 'bn', type: 'batchnorm1d', inputs: ['act'], num_features: 5, eps: 1e-5, weight: ['@', 'bn.w', [5]], bias: ['@', 'bn.b', [5]], running_mean: ['@', 'bn.m', [5]], running_var: ['@', 'bn.v', [5]] },
        { name: 'fc2', type: 'linear', inputs: ['bn'], in_features: 5, out_features: 3, weight: ['@', 'fc2.w', [3, 5]], bias: ['@', 'fc2.b', [3]] },
      ],
      { 'fc1.w': seq(30, 0.5), 'fc1.b': seq(5), 'bn.w': seq(5).map((v) => 1 + v), 'bn.b': seq(5), 'bn.m': seq(5), 'bn.v': seq(5).map((v) => 1 + Math.abs(v)), 'fc2.w': seq(15, 0.5), 'fc2.b': seq(3) },
      [6],
    );
    const model = await loadModel(path);
    const text = model.describe('epsilon-plus');
    expect(text).toMatch(/bn\s+batchnorm\s+\[N, 5\]\s+pass/);
    expect(text).toMatch(/batch norm 'bn' is kept unfolded \(it follows a relu node/);
    const x = Float32Array.from({ length: 12 }, (_, i) => (i % 5) / 4);
    const r = model.explain(x, { rule: { name: 'epsilon', epsilon: 1e-6 }, layers: true });
    // pass: the relevance at the BN input equals the relevance at its output
    expect(r.layers!.act).toEqual(r.layers!.bn);
    expect(r.relevance.every(Number.isFinite)).toBe(true);
    model.dispose();
  });

  it('names the layer whose conv or pool hyper-parameters do not fit', async () => {
    const conv = (extra: object) =>
      writeModel(
        [{ name: 'conv_a', type: 'conv2d', inputs: ['input'], in_channels: 4, out_channels: 6, kernel_size: [3, 3], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1, weight: ['@', 'w', [6, 4, 3, 3]], bias: null, ...extra }],
        { w: seq(6 * 4 * 9), w7: seq(6 * 4 * 49) },
        [4, 5, 5],
      );
    await expect(loadModel(conv({ groups: 3 }))).rejects.toThrow(/conv2d node 'conv_a'.*groups=3/);
    await expect(loadModel(conv({ kernel_size: [7, 7], weight: ['@', 'w7', [6, 4, 7, 7]] }))).rejects.toThrow(ShapeError);
    await expect(loadModel(conv({ stride: [0, 1] }))).rejects.toThrow(/'conv_a'.*strides must be positive/);
    await expect(loadModel(conv({ in_channels: 3 }))).rejects.toThrow(/'conv_a' expects 3 input channels, got 4/);
    const pool = writeModel([{ name: 'pool_b', type: 'maxpool2d', inputs: ['input'], kernel_size: [2, 2], stride: [2, 2], padding: [2, 2] }], {}, [1, 4, 4]);
    await expect(loadModel(pool)).rejects.toThrow(/maxpool2d node 'pool_b'.*padding/);
  });
});

describe('memory limits', () => {
  it('a batch too large for WebAssembly memory is a typed error, and the model still works after it', async () => {
    // 1 x 512 x 512 input, 64 output channels: about 450 MB of buffers per sample, so 16 samples
    // need more than the 4 GiB a WebAssembly memory can hold
    const path = writeModel(
      [
        { name: 'wide', type: 'conv2d', inputs: ['input'], in_channels: 1, out_channels: 64, kernel_size: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1, weight: ['@', 'w', [64, 1, 1, 1]], bias: null },
        { name: 'gap', type: 'adaptiveavgpool2d', inputs: ['wide'], output_size: [1, 1] },
        { name: 'flat', type: 'flatten', inputs: ['gap'] },
      ],
      { w: seq(64, 1) },
      [1, 512, 512],
    );
    const model = await loadModel(path);
    const x = new Float32Array(16 * 512 * 512).fill(0.5);
    const before = model.memoryBytes;
    expect(() => model.explain(x, { batch: 16 })).toThrow(/a batch of 16 sample\(s\) of this model needs \d+ MiB of workspace \(about \d+ MiB per sample\), but only \d+ MiB of WebAssembly's 4 GiB are left; pass a smaller \{ batch \} \(at most about \d+\)/);
    try {
      model.explain(x, { batch: 16 });
    } catch (e) {
      expect((e as InputError).code).toBe('E_MEMORY');
    }
    // checked before allocating: the memory did not grow towards 4 GiB first
    expect(model.memoryBytes).toBe(before);
    const one = model.predict(x.subarray(0, 512 * 512));
    expect(one.length).toBe(64);
    expect(one[3]).toBeCloseTo(seq(64, 1)[3] * 0.5, 5);
    model.dispose();
  });
});
