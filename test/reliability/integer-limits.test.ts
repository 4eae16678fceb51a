// D2: integer hyper-parameters of 2^31 and more used to wrap to 32 bits (a TF.js stride of 2^32
// became 0: divide by zero in WASM; a dilation of 2^32+1 became 1: silently wrong logits).
// D11: absurd input shapes used to load, or fail with JS-internal text; now they are refused
// with a message about what WebAssembly memory can hold.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadModel, LrpError, ModelFormatError, ShapeError } from '../../src/index.js';
import { attr, buildModel, node, rand, tensor } from '../import/onnx-builder.js';
import { conv1Config, fashionTfjs, lrpCopy, rejected } from './helpers.js';

const editLrp = (model: string, edit: (json: any) => void): string => {
  const file = lrpCopy(model);
  const json = JSON.parse(readFileSync(file, 'utf8'));
  edit(json);
  writeFileSync(file, JSON.stringify(json));
  return file;
};

function convOnnx(attrs: ReturnType<typeof attr.ints>[], inputShape = [1, 8, 8]): Uint8Array {
  return buildModel({
    inputShape,
    nodes: [node('Conv', ['x', 'w'], ['c'], [attr.ints('kernel_shape', [3, 3]), ...attrs]), node('GlobalAveragePool', ['c'], ['g']), node('Flatten', ['g'], ['y'])],
    initializers: [tensor('w', [2, 1, 3, 3], rand(18, 1), { raw: true })],
  });
}

describe('D2: integer hyper-parameters beyond 32 bits', () => {
  it('TF.js: strides [1, 2^32] and dilation_rate [2^32+1, 1] are refused, naming the layer and key', async () => {
    for (const [key, value] of [['strides', [1, 2 ** 32]], ['dilation_rate', [2 ** 32 + 1, 1]], ['kernel_size', [2 ** 31, 3]]] as const) {
      const m = fashionTfjs();
      conv1Config(m)[key] = value;
      const e = await rejected(loadModel(m));
      expect(e).toBeInstanceOf(ModelFormatError);
      expect(e.message).toBe(`TF.js layer 'conv1' (Conv2D): '${key}' must be one or two positive integers up to 2^31-1, got ${JSON.stringify(value)}`);
    }
    const m = fashionTfjs();
    m.modelJson.modelTopology.config.layers[5].config.units = 2 ** 32 + 64;
    expect((await rejected(loadModel(m))).message).toMatch(/'units' must be a positive integer up to 2\^31-1, got 4294967360/);
  });

  it('ONNX: strides, dilations and pads of 2^31 and more are refused, naming the node', async () => {
    const cases: Array<[string, number[], RegExp]> = [
      ['strides', [1, 2 ** 32], /^conv2d node 'c': strides must be positive integers up to 2\^31-1, got \[1, 4294967296\]$/],
      ['strides', [2 ** 31, 1], /^conv2d node 'c': strides must be positive integers up to 2\^31-1, got \[2147483648, 1\]$/],
      ['pads', [0, 0, 2 ** 32, 0], /^conv2d node 'c': pads must be non-negative integers up to 2\^31-1, got \[0, 0, 4294967296, 0\]$/],
      // the importer's own window check sees this one first
      ['dilations', [2 ** 32 + 1, 1], /^ONNX Conv node 'c': window of extent 8589934595 does not fit the padded input of size 8$/],
    ];
    for (const [name, v, message] of cases) {
      const e = await rejected(loadModel(convOnnx([attr.ints(name, v)])));
      expect(e).toBeInstanceOf(ShapeError);
      expect(e.message).toMatch(message);
    }
    // pads that fit 32 bits one by one, but not added to the input size
    const e = await rejected(loadModel(convOnnx([attr.ints('pads', [2 ** 30, 0, 2 ** 30, 0])])));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(/pads \[1073741824, 0, 1073741824, 0\] make the padded 8x8 input larger than 2\^31-1/);
  });

  it('lrp JSON: a stride of 2^32 is refused', async () => {
    const file = editLrp('cnn_bn', (j) => {
      j.layers[0].stride = [1, 2 ** 32];
    });
    const e = await rejected(loadModel(file));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(/conv2d node '0'.*strides must be positive integers up to 2\^31-1, got \[1, 4294967296\]/);
  });
});

describe('D11: input shapes too large for WebAssembly memory', () => {
  it('TF.js batch_input_shape [null, 28, 1e9, 1] is refused in our words', async () => {
    const m = fashionTfjs();
    conv1Config(m).batch_input_shape[2] = 1e9;
    const e = await rejected(loadModel(m));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.code).toBe('E_TOO_LARGE');
    expect(e.message).toBe(
      'the TF.js input [null, 28, 1000000000, 1] has 2.800e+10 values per sample ([1, 28, 1000000000]): one sample needs 209 GiB for its values and relevance, more than the 4 GiB WebAssembly memory holds',
    );
    expect(e.message).not.toMatch(/typed array/i);
  });

  it('TF.js: a shape that only a later layer makes too large is refused at that layer', async () => {
    const m = fashionTfjs();
    conv1Config(m).batch_input_shape = [null, 28, 19_000_000, 1]; // 5.3e8 values fit; conv2's 32 channels do not
    const e = await rejected(loadModel(m));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.code).toBe('E_TOO_LARGE');
    expect(e.message).toMatch(/^TF\.js layer 'flatten' \(Flatten\) has 1\.064e\+9 values per sample/);
  });

  it('lrp JSON input_shape [1, 28, 2^32] and [1, 28, 2e8] are refused', async () => {
    const wrap = await rejected(loadModel(editLrp('cnn_bn', (j) => (j.input_shape = [1, 28, 2 ** 32]))));
    expect(wrap).toBeInstanceOf(ShapeError);
    expect(wrap.message).toMatch(/input shape must be positive integers up to 2\^31-1, got \[1, 28, 4294967296\]/);
    const big = await rejected(loadModel(editLrp('cnn_bn', (j) => (j.input_shape = [1, 28, 2e8]))));
    expect(big).toBeInstanceOf(ShapeError);
    expect(big.code).toBe('E_TOO_LARGE');
    expect(big.message).toMatch(/^the model input has 5\.600e\+9 values per sample/);
  });

  it('ONNX: an input dim of 2^31 is refused', async () => {
    const e = await rejected(loadModel(convOnnx([], [1, 8, 2 ** 31])));
    expect(e).toBeInstanceOf(LrpError);
    expect(e.message).toMatch(/2\^31-1|4 GiB/);
  });
});
