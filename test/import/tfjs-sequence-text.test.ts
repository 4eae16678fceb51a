/**
 * TF.js text models: token ids [N, L] through Embedding (then Dense over [L, C]), against TF.js
 * predict, explained with every composite and conserving on the bias-free variant; the Embedding → Conv1D → GlobalMaxPooling1D → Dense
 * classifier explained per token ([N, L]) and checked against a float64 per-token computation of
 * the epsilon and z+ rules; bad ids and shapes give typed errors naming the layer.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { InputError, ShapeError, UnsupportedError } from '../../src/errors.js';
import { importTfjs } from '../../src/import/tfjs.js';
import { rules } from '../../src/rules.js';
import { relDiff } from '../helpers/oracle.js';
import { checkTfjs, layerJson, modelOf, randomize, save, tfPredict } from './tfjs-harness.js';

const L = 9;
const VOCAB = 13;

/** n samples of L token ids in [0, VOCAB), from a small LCG (every id, 0 included, occurs). */
function tokenIds(n: number, seed = 5): Float32Array {
  const x = new Float32Array(n * L);
  let s = seed;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    x[i] = Math.floor((s / 2147483648) * VOCAB);
  }
  return x;
}

type Build = (x: tf.SymbolicTensor) => tf.SymbolicTensor;
const seq = (...ls: tf.layers.Layer[]): Build => (x) => ls.reduce((t, l) => l.apply(t) as tf.SymbolicTensor, x);

/** ids [N, 9] → Embedding(13, dim) → body → Dense(3). */
function textModel(body: Build, seed: number, opts: { dim?: number; maskZero?: boolean; bias?: boolean } = {}): tf.LayersModel {
  const inp = tf.input({ shape: [L], name: 'ids' });
  const e = tf.layers.embedding({ name: 'emb', inputDim: VOCAB, outputDim: opts.dim ?? 6, maskZero: opts.maskZero }).apply(inp) as tf.SymbolicTensor;
  const y = tf.layers.dense({ name: 'fc', units: 3, useBias: opts.bias ?? true }).apply(body(e)) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: y });
  randomize(model, seed);
  return model;
}

const ops = (g: { nodes: Array<{ name: string; op: string }> }) => g.nodes.map((n) => `${n.name}:${n.op}`);
const textCheck = (model: tf.LayersModel, shows?: RegExp) => checkTfjs(model, { inShape: [L], input: (n) => tokenIds(n), shows });

describe('Embedding', () => {
  it('token ids [N, L] → [L, dim]; relevance per token', async () => {
    const model = textModel(seq(tf.layers.conv1d({ filters: 4, kernelSize: 3, activation: 'relu' }), tf.layers.globalMaxPooling1d({})), 1);
    const g = await textCheck(model, /emb\s+embedding\s+\[N, 9, 6\]/);
    expect(g.inputShape).toEqual([L]);
    expect(ops(g)[0]).toBe('emb:embedding');
    expect(g.nodes[0]).toMatchObject({ vocab: VOCAB, dim: 6 });
  });

  it('mask_zero: the layers after it ignore the mask as TF.js does (a note says so)', async () => {
    const model = textModel(seq(tf.layers.globalAveragePooling1d({})), 2, { maskZero: true });
    const g = await textCheck(model);
    expect(g.notes.join('\n')).toMatch(/Embedding 'emb' has mask_zero: the layers after it ignore the mask/);
  });

  it('input_length from a Sequential without an input shape; a disagreeing input_length is a ShapeError', async () => {
    const model = tf.sequential({
      layers: [tf.layers.embedding({ name: 'emb', inputDim: VOCAB, outputDim: 4, inputLength: L }), tf.layers.flatten({}), tf.layers.dense({ units: 2 })],
    });
    randomize(model, 3);
    const files = await save(model);
    delete layerJson(files, 'emb').config.batch_input_shape;
    const g = await checkTfjs(model, { inShape: [L], files, input: (n) => tokenIds(n) });
    expect(g.inputShape).toEqual([L]);
    layerJson(files, 'emb').config.batch_input_shape = [null, L + 1];
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(ShapeError);
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(/TF.js layer 'emb' \(Embedding\): input_length 9 disagrees with the model input of 10 steps/);
  });

  it('an id that is not an integer in [0, vocab) is an InputError naming the sample and position', async () => {
    const files = await save(textModel(seq(tf.layers.globalAveragePooling1d({})), 4));
    const m = await modelOf(importTfjs(files.modelJson, files.weights));
    try {
      for (const bad of [VOCAB, -1, 2.5, NaN]) {
        const x = tokenIds(2);
        x[L + 4] = bad;
        expect(() => m.predict(x)).toThrow(InputError);
        expect(() => m.explain(x)).toThrow(/sample 1, (position|index) 4/);
      }
    } finally {
      m.dispose();
    }
  });

  it('refused: an Embedding that does not read the model input, ids of rank 2', async () => {
    const inp = tf.input({ shape: [L] });
    const d = tf.layers.dense({ units: L }).apply(inp) as tf.SymbolicTensor;
    const e = tf.layers.embedding({ name: 'emb', inputDim: VOCAB, outputDim: 2 }).apply(d) as tf.SymbolicTensor;
    const files = await save(tf.model({ inputs: inp, outputs: tf.layers.flatten().apply(e) as tf.SymbolicTensor }));
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(UnsupportedError);
    expect(() => importTfjs(files.modelJson, files.weights)).toThrow(/TF.js layer 'emb' \(Embedding\) reads '.*'; an Embedding must read the model input/);

    const grid = tf.input({ shape: [3, 4] });
    const e2 = tf.layers.embedding({ name: 'emb2', inputDim: VOCAB, outputDim: 2 }).apply(grid) as tf.SymbolicTensor;
    const files2 = await save(tf.model({ inputs: grid, outputs: tf.layers.flatten().apply(e2) as tf.SymbolicTensor }));
    expect(() => importTfjs(files2.modelJson, files2.weights)).toThrow(ShapeError);
    expect(() => importTfjs(files2.modelJson, files2.weights)).toThrow(/TF.js layer 'emb2' \(Embedding\): expects token ids of shape \[N, steps\], got per-sample shape \[3, 4\]/);
  });
});

describe('Dense over [L, C] after an Embedding', () => {
  it('one row per step', async () => {
    const g = await textCheck(textModel(seq(tf.layers.dense({ name: 'tok', units: 5, activation: 'relu' }), tf.layers.globalMaxPooling1d({})), 6), /tok\s+dense\s+\[N, 9, 5\]/);
    expect(g.nodes.find((n) => n.name === 'tok')).toMatchObject({ inFeatures: 6, outFeatures: 5 });
  });
});

// ---- the text CNN, explained per token ---------------------------------------------------------

const K = 3;
const DIM = 4;
const FILTERS = 5;

/** Embedding(13, 4) → Conv1D(5, k 3, relu) → GlobalMaxPooling1D → Dense(3), all bias-free. */
function textCnn(seed: number): tf.LayersModel {
  return textModel(
    seq(tf.layers.conv1d({ name: 'conv', filters: FILTERS, kernelSize: K, activation: 'relu', useBias: false }), tf.layers.globalMaxPooling1d({ name: 'gmp' })),
    seed,
    { dim: DIM, bias: false },
  );
}

/** sign-aware stabiliser, z + eps·sign(z) with sign(0) = 1 (Zennit's). */
const stab = (z: number, eps: number) => z + (z >= 0 ? eps : -eps);

/**
 * The epsilon or z+ rule of the text CNN in float64, written out per token: the Dense's and the
 * conv's rule, winner-takes-all through the max pooling, the relu passes, each token gets the sum
 * over its embedding vector. Start: the target logit.
 */
function tokenRelevance(model: tf.LayersModel, ids: Float32Array, rule: 'epsilon' | 'zplus', eps: number): { logits: number[]; target: number; r: number[] } {
  const table = model.getLayer('emb').getWeights()[0].arraySync() as number[][];
  const kern = model.getLayer('conv').getWeights()[0].arraySync() as number[][][]; // [k, C, F]
  const W = model.getLayer('fc').getWeights()[0].arraySync() as number[][]; // [F, 3]
  const e = Array.from(ids, (id) => table[id]);
  const P = L - K + 1;
  const z: number[][] = []; // [P][F]
  for (let p = 0; p < P; p++) {
    z.push([]);
    for (let o = 0; o < FILTERS; o++) {
      let s = 0;
      for (let j = 0; j < K; j++) for (let c = 0; c < DIM; c++) s += e[p + j][c] * kern[j][c][o];
      z[p].push(s);
    }
  }
  const m: number[] = [];
  const win: number[] = [];
  for (let o = 0; o < FILTERS; o++) {
    let best = 0;
    for (let p = 1; p < P; p++) if (Math.max(z[p][o], 0) > Math.max(z[best][o], 0)) best = p;
    m.push(Math.max(z[best][o], 0));
    win.push(best);
  }
  const logits = [0, 1, 2].map((t) => m.reduce((s, v, o) => s + v * W[o][t], 0));
  const target = logits.indexOf(Math.max(...logits));
  const R = logits[target];
  // a linear layer's rule: contributions x_i·w_i of one output (bias-free), the output's relevance
  const split = (xs: number[], ws: number[], r: number): number[] => {
    if (rule === 'epsilon') {
      const out = xs.reduce((s, x, i) => s + x * ws[i], 0);
      return xs.map((x, i) => (x * ws[i] * r) / stab(out, eps));
    }
    const pos = xs.map((x, i) => Math.max(x * ws[i], 0)); // x+w+ + x−w−
    const zp = pos.reduce((a, b) => a + b, 0);
    return pos.map((v) => (v * r) / stab(zp, 1e-6));
  };
  const rm = split(m, W.map((row) => row[target]), R);
  const re = e.map((v) => v.map(() => 0));
  for (let o = 0; o < FILTERS; o++) {
    const p = win[o];
    const xs: number[] = [];
    const ws: number[] = [];
    for (let j = 0; j < K; j++) for (let c = 0; c < DIM; c++) (xs.push(e[p + j][c]), ws.push(kern[j][c][o]));
    split(xs, ws, rm[o]).forEach((v, i) => (re[p + Math.floor(i / DIM)][i % DIM] += v));
  }
  return { logits, target, r: re.map((v) => v.reduce((a, b) => a + b, 0)) };
}

describe('Embedding → Conv1D → GlobalMaxPooling1D → Dense, explained per token', () => {
  const N = 4;

  it('relevance has the shape [N, L] and sums to the target logit (epsilon and z+, bias-free)', async () => {
    const model = textCnn(21);
    const files = await save(model);
    const m = await modelOf(importTfjs(files.modelJson, files.weights));
    try {
      const x = tokenIds(N, 9);
      expect(relDiff(m.predict(x), tfPredict(model, x, [L]))).toBeLessThan(1e-5);
      for (const rule of [rules.epsilon(1e-6), rules.zPlus()]) {
        const r = m.explain(x, { rule });
        expect(r.relevance.length).toBe(N * L);
        for (let s = 0; s < N; s++) {
          let sum = 0;
          for (let t = 0; t < L; t++) sum += r.relevance[s * L + t];
          expect(Math.abs(sum - r.sums.start[s]), `${rule.name}, sample ${s}`).toBeLessThanOrEqual(1e-4 * Math.abs(r.sums.start[s]));
          expect(r.sums.input[s]).toBeCloseTo(sum, 5);
        }
      }
    } finally {
      m.dispose();
    }
  });

  it('equals a float64 per-token computation of the epsilon and z+ rules', async () => {
    for (const seed of [22, 23]) {
      const model = textCnn(seed);
      const files = await save(model);
      const m = await modelOf(importTfjs(files.modelJson, files.weights));
      try {
        const x = tokenIds(N, seed);
        for (const [rule, name] of [[rules.epsilon(0.01), 'epsilon'], [rules.zPlus(), 'zplus']] as const) {
          const r = m.explain(x, { rule });
          for (let s = 0; s < N; s++) {
            const want = tokenRelevance(model, x.subarray(s * L, (s + 1) * L), name, 0.01);
            expect(r.targets[s]).toBe(want.target);
            const got = r.relevance.subarray(s * L, (s + 1) * L);
            expect(relDiff(got, want.r), `${name}, seed ${seed}, sample ${s}`).toBeLessThan(1e-4);
          }
        }
      } finally {
        m.dispose();
      }
    }
  });
});
