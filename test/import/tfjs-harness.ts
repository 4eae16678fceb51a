/**
 * Shared checks for TF.js layers built in memory with @tensorflow/tfjs (dev dependency): save
 * through an in-memory handler, import, and compare with TF.js itself. `checkTfjs` runs the three
 * oracles every new layer must pass: our predict equals TF.js's (≤ 1e-5 relative), explain with
 * every composite gives finite relevance of the input's length, and on the bias-free variant
 * (every bias, batch-norm shift and constant offset zeroed) epsilon(1e-9) conserves relevance.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { createBackend } from '../../src/backends.js';
import { COMPOSITE_NAMES } from '../../src/composites.js';
import { canonicalize } from '../../src/graph/canonicalize.js';
import type { Graph } from '../../src/graph/ir.js';
import { importTfjs } from '../../src/import/tfjs.js';
import { Model } from '../../src/model.js';
import { rules } from '../../src/rules.js';
import { relDiff, uniform, zeroBiases } from '../helpers/oracle.js';
import { rand } from './onnx-builder.js';

/** A TF.js model.json (parsed) and its weights, as loadModel({ modelJson, weights }) takes them. */
export interface TfjsFiles {
  modelJson: any;
  weights: Uint8Array;
}

/** Random weights (BN variances positive, PReLU slopes in (−0.5, 0.5)), so nothing is at its initial value. */
export function randomize(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    layer.setWeights(
      ws.map((w, i) => {
        const name = layer.weights[i].name;
        const scale = name.includes('alpha') ? 0.5 : 0.7;
        const v = rand(w.size, s++).map((x) => (name.includes('variance') ? 0.5 + Math.abs(x) : name.includes('gamma') ? 1 + 0.5 * x : x * scale));
        return tf.tensor(v, w.shape, 'float32');
      }),
    );
  }
}

/** The model as TF.js saves it, round-tripped through JSON text as a file would be. */
export async function save(model: tf.LayersModel): Promise<TfjsFiles> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = artifacts!;
  const modelJson = {
    format: a.format,
    generatedBy: a.generatedBy,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: a.weightSpecs }],
  };
  return { modelJson: JSON.parse(JSON.stringify(modelJson)), weights: new Uint8Array(a.weightData as ArrayBuffer) };
}

/** The config entry of layer `name` in a saved model.json. */
export function layerJson(files: TfjsFiles, name: string): any {
  const layers = files.modelJson.modelTopology.config.layers ?? files.modelJson.modelTopology.config;
  const l = layers.find((e: any) => (e.config?.name ?? e.name) === name);
  if (!l) throw new Error(`test: no layer ${name}`);
  return l;
}

/** A model on the WASM backend from an imported graph (optionally bias-free). */
export async function modelOf(graph: Graph, biasFree = false): Promise<Model> {
  let g = canonicalize(graph);
  if (biasFree) g = zeroBiases(g);
  return new Model(g, await createBackend('wasm'));
}

/** TF.js predict on x [n, ...inShape] (NHWC). */
export function tfPredict(model: tf.LayersModel, x: Float32Array, inShape: number[]): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor(x, [x.length / inShape.reduce((a, b) => a * b, 1), ...inShape])) as tf.Tensor).dataSync() as Float32Array);
}

/**
 * What a Sequential model computes when layer `name` is replaced by `fn` (tf ops): the reference
 * for Keras configs TF.js cannot build itself (edited into the saved JSON).
 */
export function predictReplacing(model: tf.Sequential, name: string, fn: (x: tf.Tensor) => tf.Tensor, x: Float32Array, inShape: number[]): Float32Array {
  return tf.tidy(() => {
    let t: tf.Tensor = tf.tensor(x, [x.length / inShape.reduce((a, b) => a * b, 1), ...inShape]);
    for (const layer of model.layers) t = layer.name === name ? fn(t) : (layer.apply(t) as tf.Tensor);
    return t.dataSync() as Float32Array;
  });
}

export interface CheckOptions {
  /** Per-sample input shape, Keras order [H, W, C] or [F]. */
  inShape: number[];
  /** Expected logits for the inputs (default: TF.js predict of `model`). */
  want?: (x: Float32Array) => Float32Array;
  /** Files to import instead of the model's own (an edited JSON). */
  files?: TfjsFiles;
  /** Text describe() must show. */
  shows?: RegExp;
  n?: number;
  /** The n samples to check (default: uniform in [0, 1)); token ids for an Embedding. */
  input?: (n: number) => Float32Array;
}

/** Predict against TF.js, explain with every composite, conservation on the bias-free variant. */
export async function checkTfjs(model: tf.LayersModel, opts: CheckOptions): Promise<Graph> {
  const n = opts.n ?? 3;
  const files = opts.files ?? (await save(model));
  const graph = importTfjs(files.modelJson, files.weights);
  const x = opts.input ? opts.input(n) : uniform(n * opts.inShape.reduce((a, b) => a * b, 1), 7);
  const want = opts.want ? opts.want(x) : tfPredict(model, x, opts.inShape);

  const m = await modelOf(graph);
  try {
    const got = m.predict(x);
    expect(got.length).toBe(want.length);
    expect(relDiff(got, want), 'logits vs TF.js').toBeLessThan(1e-5);
    for (const composite of COMPOSITE_NAMES) {
      const r = m.explain(x, { composite, low: 0, high: 1 });
      expect(r.relevance.length).toBe(x.length);
      expect(r.relevance.every(Number.isFinite), composite).toBe(true);
    }
    if (opts.shows) expect(m.describe()).toMatch(opts.shows);
  } finally {
    m.dispose();
  }

  const free = await modelOf(graph, true);
  try {
    const r = free.explain(x, { rule: rules.epsilon(1e-9) });
    for (let s = 0; s < n; s++) {
      const err = Math.abs(r.sums.input[s] - r.sums.start[s]);
      expect(err, `conservation, sample ${s}: ${r.sums.input[s]} vs ${r.sums.start[s]}`).toBeLessThanOrEqual(1e-4 * Math.abs(r.sums.start[s]));
    }
  } finally {
    free.dispose();
  }
  return graph;
}
