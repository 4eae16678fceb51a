// D1: NaN or infinite weights are refused at load in every format, naming the tensor and the
// first bad index (they used to load from ONNX and TF.js and give NaN relevance).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, ModelFormatError } from '../../src/index.js';
import { attr, buildModel, node, rand, tensor } from '../import/onnx-builder.js';
import { fashionTfjs, lrpCopy, rejected } from './helpers.js';

/** A 1x4x4 → conv 2x3x3 → flatten → gemm 3 model whose conv weight is `w`. */
function convOnnx(w: number[], raw: boolean): Uint8Array {
  return buildModel({
    inputShape: [1, 4, 4],
    nodes: [
      node('Conv', ['x', 'w', 'b'], ['c'], [attr.ints('kernel_shape', [3, 3])]),
      node('Relu', ['c'], ['r']),
      node('Flatten', ['r'], ['f']),
      node('Gemm', ['f', 'fw', 'fb'], ['y'], [attr.i('transB', 1)]),
    ],
    initializers: [
      tensor('w', [2, 1, 3, 3], w, { raw }),
      tensor('b', [2], [0.1, -0.1], { raw }),
      tensor('fw', [3, 8], rand(24, 3), { raw }),
      tensor('fb', [3], [0, 0, 0], { raw }),
    ],
  });
}

describe('D1: non-finite weights', () => {
  it('ONNX: a conv weight holding NaN and -Infinity is refused, naming the tensor and index', async () => {
    for (const raw of [true, false]) {
      const w = rand(18, 1);
      w[5] = NaN;
      w[9] = -Infinity;
      const e = await rejected(loadModel(convOnnx(w, raw)));
      expect(e).toBeInstanceOf(ModelFormatError);
      expect(e.code).toBe('E_MODEL');
      expect(e.message).toMatch(/^ONNX tensor 'w' \(weight of ONNX Conv node 'c'\) holds NaN at index 5: weights must be finite$/);
    }
    // the same model with finite weights loads and explains
    const ok = await loadModel(convOnnx(rand(18, 1), true));
    expect(ok.explain(new Float32Array(16).fill(0.5), { composite: 'epsilon-gamma-box', low: 0, high: 1 }).relevance.every(Number.isFinite)).toBe(true);
    ok.dispose();
  });

  it('ONNX: an infinite bias is refused', async () => {
    const bytes = buildModel({
      inputShape: [4],
      nodes: [node('Gemm', ['x', 'w', 'b'], ['y'], [attr.i('transB', 1)])],
      initializers: [tensor('w', [2, 4], rand(8, 2), { raw: true }), tensor('b', [2], [0, Infinity], { raw: true })],
    });
    expect((await rejected(loadModel(bytes))).message).toMatch(/^ONNX tensor 'b' \(C of ONNX Gemm node 'y'\) holds Infinity at index 1/);
  });

  it('TF.js: a kernel holding NaN is refused, naming the weight, its layer and the index', async () => {
    const m = fashionTfjs();
    const f32 = new Float32Array(m.weights.buffer);
    f32[3] = NaN; // conv1/kernel comes first in the shard
    f32[7] = -Infinity;
    const e = await rejected(loadModel(m));
    expect(e).toBeInstanceOf(ModelFormatError);
    expect(e.message).toBe("TF.js weight 'conv1/kernel' of layer 'conv1' holds NaN at index 3: weights must be finite");
  });

  it('lrp JSON: a batch norm whose running_var + eps is not positive is refused (folded or kept)', async () => {
    const file = lrpCopy('cnn_bn');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    const bn = json.layers.find((l: any) => l.type === 'batchnorm2d');
    const varFile = path.join(path.dirname(file), bn.running_var.file);
    const v = new Float32Array(new Uint8Array(readFileSync(varFile)).buffer);
    v[2] = -1;
    writeFileSync(varFile, new Uint8Array(v.buffer));
    for (const canonize of [true, false]) {
      const e = await rejected(loadModel(file, { canonize }));
      expect(e).toBeInstanceOf(ModelFormatError);
      expect(e.message).toMatch(canonize ? /after folding batch norm into it \(running_var \+ eps must be positive\)/ : /running_var \+ eps is -0\.99999 for channel 2; it must be positive/);
    }
  });

});
