/** importTfjs / readTfjsFolder: topology forms, weight handling, and every error path. */
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, ShapeError, UnsupportedError } from '../../src/errors.js';
import { importTfjs } from '../../src/import/tfjs.js';
import { readTfjsFolder } from '../../src/import/tfjs-fetch.js';
import type { Graph } from '../../src/graph/ir.js';
import { modelDir, readBytes, readJson } from './testdata.js';

function load(model: string): { json: any; shard: Uint8Array } {
  const dir = join(modelDir(model), 'tfjs');
  return { json: readJson(join(dir, 'model.json')), shard: readBytes(join(dir, 'group1-shard1of1.bin')) };
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

function layerCfg(json: any, name: string): any {
  return json.modelTopology.config.layers.find((l: any) => (l.config?.name ?? l.name) === name);
}

/** Everything but the typed arrays, for comparing two imports. */
function summary(g: Graph) {
  return g.nodes.map((n) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(n)) o[k] = v instanceof Float32Array ? Array.from(v) : v;
    return o;
  });
}

/** Rebuilds the shard for a manifest whose entries were reordered / renamed (by original name). */
function relayout(json: any, shard: Uint8Array, entries: Array<{ from: string; entry: any }>): Uint8Array {
  const offsets = new Map<string, [number, number]>();
  let at = 0;
  for (const w of json.weightsManifest[0].weights) {
    const size = w.shape.reduce((a: number, b: number) => a * b, 1) * 4;
    offsets.set(w.name, [at, size]);
    at += size;
  }
  const parts = entries.map(({ from }) => {
    const [o, s] = offsets.get(from)!;
    return shard.subarray(o, o + s);
  });
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

describe('importTfjs: weights', () => {
  const { json, shard } = load('tfjs_cnn');
  const base = importTfjs(json, shard);

  it('matches weights by name, whatever the manifest order', () => {
    const j = clone(json);
    const reversed = [...j.weightsManifest[0].weights].reverse();
    const bytes = relayout(json, shard, reversed.map((e: any) => ({ from: e.name, entry: e })));
    j.weightsManifest[0].weights = reversed;
    expect(summary(importTfjs(j, bytes))).toEqual(summary(base));
  });

  it('accepts ArrayBuffers and several shards in manifest path order', () => {
    expect(summary(importTfjs(json, shard.slice().buffer))).toEqual(summary(base));
    const j = clone(json);
    j.weightsManifest[0].paths = ['a.bin', 'b.bin', 'c.bin'];
    const cut1 = 1001, cut2 = 50003; // shards split anywhere, even inside a weight
    expect(summary(importTfjs(j, [shard.subarray(0, cut1), shard.subarray(cut1, cut2).slice().buffer, shard.subarray(cut2)]))).toEqual(summary(base));
    expect(() => importTfjs(j, [shard.subarray(0, cut1), shard.subarray(cut1)])).toThrow(/got 2 weight shards but the weights manifest lists 3 paths/);
  });

  it('rejects short or long shards', () => {
    expect(() => importTfjs(json, shard.subarray(0, shard.length - 4))).toThrow(ModelFormatError);
    expect(() => importTfjs(json, shard.subarray(0, shard.length - 4))).toThrow(
      /TF.js weights are truncated: the manifest needs 107048 bytes, the shards \(group1-shard1of1.bin\) hold 107044/,
    );
    const long = new Uint8Array(shard.length + 4);
    long.set(shard);
    expect(() => importTfjs(json, long)).toThrow(/hold 107052 bytes, but the manifest describes 107048/);
  });

  it('names a missing weight', () => {
    const j = clone(json);
    j.weightsManifest[0].weights.find((w: any) => w.name === 'fc1/kernel').name = 'fc1/kernel_renamed';
    expect(() => importTfjs(j, shard)).toThrow(ModelFormatError);
    expect(() => importTfjs(j, shard)).toThrow("TF.js weight 'fc1/kernel' of TF.js layer 'fc1' (Dense) is missing from the weights manifest");
  });

  it('rejects non-float32 and quantized weights, naming them', () => {
    const j = clone(json);
    j.weightsManifest[0].weights.find((w: any) => w.name === 'conv1/bias').dtype = 'int32';
    expect(() => importTfjs(j, shard)).toThrow(UnsupportedError);
    expect(() => importTfjs(j, shard)).toThrow("TF.js weight 'conv1/bias' has dtype int32; only float32 weights are supported");
    const q = clone(json);
    q.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', scale: 1, min: 0 };
    expect(() => importTfjs(q, shard)).toThrow(/'conv1\/kernel' is quantized \(uint8\)/);
  });

  it('checks weight shapes against the layer', () => {
    const j = clone(json);
    layerCfg(j, 'fc2').config.units = 11;
    expect(() => importTfjs(j, shard)).toThrow(ShapeError);
    expect(() => importTfjs(j, shard)).toThrow(/layer 'fc2' \(Dense\): weight 'fc2\/kernel' has shape \[32, 10\], expected \[32, 11\]/);
  });
});

describe('importTfjs: layers and activations', () => {
  const { json, shard } = load('tfjs_cnn');

  it('names an unknown layer class', () => {
    const j = clone(json);
    layerCfg(j, 'flatten').class_name = 'Conv3D';
    expect(() => importTfjs(j, shard)).toThrow(UnsupportedError);
    expect(() => importTfjs(j, shard)).toThrow("unsupported TF.js layer class 'Conv3D' at layer 'flatten'");
  });

  it('rejects unsupported activations, naming layer and activation', () => {
    const j = clone(json);
    layerCfg(j, 'fc1').config.activation = 'mish';
    expect(() => importTfjs(j, shard)).toThrow(UnsupportedError);
    expect(() => importTfjs(j, shard)).toThrow(/TF.js layer 'fc1' \(Dense\) has activation 'mish', which is not supported/);
    const a = clone(json);
    layerCfg(a, 'relu2').config.activation = 'softsign';
    expect(() => importTfjs(a, shard)).toThrow(/layer 'relu2' \(Activation\) has activation 'softsign'/);
  });

  it('allows softmax only on the output layer', () => {
    const j = clone(json);
    layerCfg(j, 'fc1').config.activation = 'softmax';
    expect(() => importTfjs(j, shard)).toThrow(/layer 'fc1' \(Dense\): softmax is only supported on the output layer/);
    const lin = clone(json);
    layerCfg(lin, 'fc2').config.activation = 'linear';
    const g = importTfjs(lin, shard);
    expect(g.nodes[g.nodes.length - 1].op).toBe('dense');
    expect(g.output).toBe('fc2');
  });

  it('maps Activation(linear) to identity and the ReLU layer to relu', () => {
    const j = clone(json);
    layerCfg(j, 'relu2').config.activation = 'linear';
    expect(importTfjs(j, shard).nodes.find((n) => n.name === 'relu2')!.op).toBe('identity');
    const r = clone(json);
    const l = layerCfg(r, 'relu2');
    l.class_name = 'ReLU';
    l.config = { name: 'relu2', max_value: null, negative_slope: 0, threshold: 0 };
    expect(importTfjs(r, shard).nodes.find((n) => n.name === 'relu2')!.op).toBe('relu');
    l.config.max_value = 6;
    expect(importTfjs(r, shard).nodes.find((n) => n.name === 'relu2')).toMatchObject({ op: 'activation', fn: 'clip', params: [0, 6] });
    l.config.max_value = -1;
    expect(() => importTfjs(r, shard)).toThrow(/layer 'relu2' \(ReLU\): max_value, negative_slope and threshold must be ≥ 0/);
  });

  it('rejects channels_first and unsupported padding', () => {
    const j = clone(json);
    layerCfg(j, 'conv1').config.data_format = 'channels_first';
    expect(() => importTfjs(j, shard)).toThrow(/layer 'conv1' \(Conv2D\): data_format 'channels_first' is not supported/);
    const p = clone(json);
    layerCfg(p, 'conv1').config.padding = 'causal';
    expect(() => importTfjs(p, shard)).toThrow(/padding 'causal'/);
  });

  it('rejects graph models and files that are not LayersModels', () => {
    expect(() => importTfjs({ ...clone(json), format: 'graph-model' }, shard)).toThrow(/format 'graph-model' is not supported/);
    expect(() => importTfjs({ weightsManifest: json.weightsManifest }, shard)).toThrow(/no modelTopology/);
    const { weightsManifest: _, ...noManifest } = json;
    expect(() => importTfjs(noManifest, shard)).toThrow(/no weightsManifest/);
  });

  it('needs an input shape, from the file or the caller', () => {
    const j = clone(json);
    delete layerCfg(j, 'conv1').config.batch_input_shape;
    expect(() => importTfjs(j, shard)).toThrow(/does not declare its input shape/);
    const g = importTfjs(j, shard, { inputShape: [1, 28, 28] });
    expect([g.inputShape, g.inputLayout]).toEqual([[1, 28, 28], 'NHWC']);
    expect(() => importTfjs(json, shard, { inputShape: [28, 28, 1] })).toThrow(/disagrees with the TF.js input \[null, 28, 28, 1\]/);
    const n = clone(json);
    layerCfg(n, 'conv1').config.batch_input_shape = [null, null, null, 1];
    expect(importTfjs(n, shard, { inputShape: [1, 28, 28] }).inputShape).toEqual([1, 28, 28]);
    expect(() => importTfjs(n, shard)).toThrow(/unknown dimensions besides the batch; pass inputShape/);
  });

  it('accepts a Sequential that starts with an InputLayer, and the Keras converter wrapper', () => {
    const base = importTfjs(json, shard);
    const j = clone(json);
    const first = layerCfg(j, 'conv1');
    const bis = first.config.batch_input_shape;
    delete first.config.batch_input_shape;
    j.modelTopology.config.layers.unshift({ class_name: 'InputLayer', config: { batch_input_shape: bis, dtype: 'float32', name: 'in' } });
    expect(summary(importTfjs(j, shard))).toEqual(summary(base));
    const wrapped = { ...clone(json), modelTopology: { keras_version: '2.15', backend: 'tensorflow', model_config: clone(json.modelTopology) } };
    expect(summary(importTfjs(wrapped, shard))).toEqual(summary(base));
  });
});

describe('importTfjs: functional models', () => {
  const { json, shard } = load('tfjs_residual');
  const base = importTfjs(json, shard);

  it('reads Keras 3 style inbound_nodes', () => {
    const j = clone(json);
    const kt = (name: string) => ({ class_name: '__keras_tensor__', config: { shape: [], dtype: 'float32', keras_history: [name, 0, 0] } });
    for (const l of j.modelTopology.config.layers) {
      if (l.inbound_nodes.length === 0) continue;
      const refs = l.inbound_nodes[0].map((r: any[]) => kt(r[0]));
      l.inbound_nodes = [{ args: refs.length === 1 ? refs : [refs], kwargs: {} }];
    }
    j.modelTopology.class_name = 'Functional';
    expect(summary(importTfjs(j, shard))).toEqual(summary(base));
  });

  it('orders layers topologically even when the file does not', () => {
    const j = clone(json);
    j.modelTopology.config.layers.reverse();
    expect(summary(importTfjs(j, shard))).toEqual(summary(base));
  });

  it('rejects shared layers, several inputs/outputs and multi-output references', () => {
    const j = clone(json);
    layerCfg(j, 'conv2').inbound_nodes.push([['conv1', 0, 0, {}]]);
    expect(() => importTfjs(j, shard)).toThrow(/layer 'conv2' \(Conv2D\) is called 2 times \(shared layers are not supported\)/);
    const two = clone(json);
    two.modelTopology.config.output_layers.push(['conv2', 0, 0]);
    expect(() => importTfjs(two, shard)).toThrow(/2 output_layers; exactly one/);
    const multi = clone(json);
    layerCfg(multi, 'add').inbound_nodes[0][1][2] = 1;
    expect(() => importTfjs(multi, shard)).toThrow(/reads output 0\/1 of 'conv2'/);
  });

  it('rejects adding tensors of different shapes', () => {
    const j = clone(json);
    layerCfg(j, 'add').inbound_nodes[0][1][0] = 'input';
    expect(() => importTfjs(j, shard)).toThrow(ShapeError);
    expect(() => importTfjs(j, shard)).toThrow(/layer 'add' \(Add\): cannot add shapes \[16, 16, 8\] and \[16, 16, 3\]/);
  });
});

describe('readTfjsFolder', () => {
  const folder = join(modelDir('tfjs_residual'), 'tfjs');
  const expected = importTfjs(readJson(join(folder, 'model.json')), readBytes(join(folder, 'group1-shard1of1.bin')));

  it('reads a folder, a model.json path and a file: URL', async () => {
    for (const p of [folder, join(folder, 'model.json'), pathToFileURL(join(folder, 'model.json')).href]) {
      const { modelJson, weights } = await readTfjsFolder(p);
      expect(weights).toHaveLength(1);
      expect(summary(importTfjs(modelJson, weights))).toEqual(summary(expected));
    }
    await expect(readTfjsFolder(join(folder, 'nope.json'))).rejects.toThrow(/TF.js model not found/);
  });

  it('fetches over http, shards relative to model.json', async () => {
    const server = createServer(async (req, res) => {
      const name = (req.url ?? '').replace(/^\/models\/res\//, '');
      try {
        res.end(await readFile(join(folder, name)));
      } catch {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      for (const url of [`http://127.0.0.1:${port}/models/res/model.json`, `http://127.0.0.1:${port}/models/res/`]) {
        const { modelJson, weights } = await readTfjsFolder(url);
        expect(summary(importTfjs(modelJson, weights))).toEqual(summary(expected));
      }
      await expect(readTfjsFolder(`http://127.0.0.1:${port}/other/model.json`)).rejects.toThrow(/HTTP 404/);
    } finally {
      server.close();
    }
  });
});
