// Every kind of model source gives the same model: paths, file: URLs, folders, Responses, Blobs and
// Files, TF.js ModelArtifacts and a live tf.LayersModel; and the mistakes people make (an image or
// an HTML page instead of the model, a Response without a URL) are named.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadModel, loadOnnxModel, loadTfjsModel, ModelFormatError, nameFromLocation, UnsupportedError, type ModelSource } from '../src/index.js';

const DIR = join(import.meta.dirname, '..', 'models', 'fashion-mnist');
const TFJS = join(DIR, 'tfjs');
const x = Float32Array.from({ length: 2 * 784 }, (_, i) => ((i * 37) % 255) / 255);

async function logitsOf(source: ModelSource, load = loadModel): Promise<Float32Array> {
  const m = await load(source);
  try {
    return m.predict(x);
  } finally {
    m.dispose();
  }
}

describe('model sources', () => {
  it('paths, relative paths, folders and file: URLs in Node', async () => {
    const want = await logitsOf(join(TFJS, 'model.json'));
    expect(await logitsOf(relative(process.cwd(), join(TFJS, 'model.json')))).toEqual(want);
    expect(await logitsOf(TFJS)).toEqual(want);
    expect(await logitsOf(pathToFileURL(join(TFJS, 'model.json')))).toEqual(want);
    expect(await logitsOf(pathToFileURL(join(TFJS, 'model.json')).href)).toEqual(want);
  });

  it('Blobs, Files and file lists (as picked or dropped), a fetched Response', async () => {
    const want = await logitsOf(join(TFJS, 'model.json'));
    const json = new File([readFileSync(join(TFJS, 'model.json'))], 'model.json');
    const shard = new File([readFileSync(join(TFJS, 'group1-shard1of1.bin'))], 'group1-shard1of1.bin');
    expect(await logitsOf([shard, json])).toEqual(want);
    const onnx = await logitsOf(new Blob([readFileSync(join(DIR, 'model.onnx'))]));
    for (let i = 0; i < want.length; i++) expect(onnx[i]).toBeCloseTo(want[i], 4);
    await expect(loadModel(json)).rejects.toThrow(/names the TF.js weight shard 'group1-shard1of1.bin'.*together with its files/);
    await expect(loadModel([json])).rejects.toThrow(/'group1-shard1of1.bin' named in model.json is not among the files given \(model.json\)/);
    await expect(loadModel([shard, new File(['{}'], 'a.json'), new File(['{}'], 'b.json')])).rejects.toThrow(/cannot tell which of the 3 files is the model/);

    const server = createServer((req, res) => {
      try {
        res.end(readFileSync(join(TFJS, decodeURIComponent(req.url!.replace(/^\/m\//, '')))));
      } catch {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/m/`;
      expect(await logitsOf(await fetch(`${base}model.json`))).toEqual(want);
      expect(await logitsOf(`${base}`)).toEqual(want);
      const noUrl = new Response(readFileSync(join(TFJS, 'model.json')));
      await expect(loadModel(noUrl)).rejects.toThrow(/a Response without a url/);
      await expect(loadModel(await fetch(`${base}nope.json`))).rejects.toThrow(/HTTP 404/);
    } finally {
      server.close();
    }
  });

  it('a tf.LayersModel (through its save handler) and TF.js ModelArtifacts', async () => {
    const net = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [6], units: 5, activation: 'relu' }), tf.layers.dense({ units: 3 })],
    });
    const input = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i));
    const tfOut = (net.predict(tf.tensor2d(input, [2, 6])) as tf.Tensor).dataSync();
    const fromModel = await loadModel(net);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await net.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const fromArtifacts = await loadModel(artifacts!);
    try {
      for (const m of [fromModel, fromArtifacts]) {
        const ours = m.predict(input);
        for (let i = 0; i < 6; i++) expect(ours[i]).toBeCloseTo(tfOut[i], 5);
      }
    } finally {
      fromModel.dispose();
      fromArtifacts.dispose();
    }
  });

  it('loadTfjsModel / loadOnnxModel read their format and name the other', async () => {
    await expect(loadTfjsModel(join(DIR, 'model.onnx'))).rejects.toThrow(UnsupportedError);
    await expect(loadOnnxModel(join(TFJS, 'model.json'))).rejects.toThrow(/this is a TF.js model.*use loadModel\(\)/);
    expect((await logitsOf(join(TFJS, 'model.json'), loadTfjsModel)).length).toBe(20);
  });

  it('names an image, an HTML page, or an empty file passed as the model', async () => {
    await expect(loadModel(join(DIR, 'samples', '0000_ankle_boot.png'))).rejects.toThrow(/0000_ankle_boot.png is a PNG image, not a model/);
    await expect(loadModel(new TextEncoder().encode('<!DOCTYPE html><html></html>'))).rejects.toThrow(ModelFormatError);
    await expect(loadModel(new TextEncoder().encode('  <!doctype html>'))).rejects.toThrow(/an HTML page \(a web server answering a wrong or missing URL/);
    await expect(loadModel(new Uint8Array(0))).rejects.toThrow(/is empty, not a model/);
    await expect(loadModel(join(DIR, 'nope.onnx'))).rejects.toThrow(/model file not found/);
    await expect(loadModel(42 as never)).rejects.toThrow(/a model source cannot be number/);
  });

  it('model names come from the file or its folder, never a storage folder', () => {
    expect(nameFromLocation('models/fashion-mnist/tfjs/model.json')).toBe('fashion-mnist');
    expect(nameFromLocation('models/fashion-mnist/model.onnx')).toBe('fashion-mnist');
    expect(nameFromLocation('C:\\nets\\resnet18.onnx')).toBe('resnet18');
    expect(nameFromLocation('https://example.org/m/my%20net/web_model/model.json?v=2')).toBe('my net');
    expect(nameFromLocation('blob:https://example.org/1234-5678')).toBe('model');
    expect(nameFromLocation('model.onnx')).toBe('model');
  });
});
