// A linear model f(x) = W x + b on a 1x8x8 input (flatten, dense): the exact contribution of input
// i to class t is W[t, i] x[i], so the best most-relevant-first order is known.
import { createBackend } from '../../src/backends.js';
import { canonicalize, Model, type Graph } from '../../src/index.js';

/** Deterministic values in [-1, 1) from an index (no shared RNG with the code under test). */
export const wave = (n: number, phase: number, scale = 1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 2.399 + phase) * scale);

export async function linearModel(classes = 3, side = 8): Promise<{ model: Model; weight: Float32Array; bias: Float32Array }> {
  const features = side * side;
  const weight = wave(classes * features, 0.7);
  const bias = wave(classes, 1.3, 0.5);
  const graph: Graph = {
    name: 'linear',
    inputShape: [1, side, side],
    inputLayout: 'NCHW',
    inputRange: [0, 1],
    nodes: [
      { name: 'flat', op: 'flatten', inputs: ['input'] },
      { name: 'fc', op: 'dense', inputs: ['flat'], inFeatures: features, outFeatures: classes, weight, bias },
    ],
    output: 'fc',
    notes: [],
    format: 'lrp-json',
  };
  return { model: new Model(canonicalize(graph), await createBackend('wasm')), weight, bias };
}

/** W[t, i] x[i] for one sample. */
export function contributions(weight: Float32Array, x: Float32Array, t: number): Float64Array {
  return Float64Array.from(x, (v, i) => weight[t * x.length + i] * v);
}
