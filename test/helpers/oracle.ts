/**
 * Oracles for new-op tests: onnxruntime-web (single-threaded wasm EP) for ONNX forward passes, and
 * the bias-free variant of a model (every bias and constant shift zeroed in the canonical graph),
 * on which LRP with epsilon(1e-9) or z⁺ everywhere must conserve relevance exactly up to rounding.
 */
import { canonicalize } from '../../src/graph/canonicalize.js';
import type { Graph, GraphNode } from '../../src/graph/ir.js';
import { createBackend } from '../../src/backends.js';
import { composites } from '../../src/composites.js';
import { rules } from '../../src/rules.js';
import { importOnnx } from '../../src/import/onnx.js';
import { Model } from '../../src/model.js';

let ortModule: Promise<typeof import('onnxruntime-web')> | null = null;

/** onnxruntime-web on its wasm backend, one thread, no proxy worker (as in bench/peers.mjs). */
export async function ort(): Promise<typeof import('onnxruntime-web')> {
  ortModule ??= import('onnxruntime-web').then((m) => {
    m.env.wasm.numThreads = 1;
    m.env.wasm.proxy = false;
    m.env.logLevel = 'error';
    return m;
  });
  return ortModule;
}

/** Runs an ONNX model with onnxruntime-web on x [n, ...shape]; returns the first output. */
export async function ortRun(bytes: Uint8Array, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const o = await ort();
  const session = await o.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'disabled' });
  try {
    const feeds = { [session.inputNames[0]]: new o.Tensor('float32', x, shape) };
    const out = await session.run(feeds);
    return Float32Array.from(out[session.outputNames[0]].data as Float32Array);
  } finally {
    await session.release();
  }
}

/** The canonical graph with every bias, batch-norm shift, layer-norm shift and constant shift set to zero. */
export function zeroBiases(graph: Graph): Graph {
  const nodes = graph.nodes.map((n): GraphNode => {
    switch (n.op) {
      case 'dense':
      case 'conv2d':
        return { ...n, bias: n.bias ? new Float32Array(n.bias.length) : null };
      case 'batchnorm':
        return { ...n, bias: new Float32Array(n.numFeatures), runningMean: new Float32Array(n.numFeatures) };
      case 'affine':
        return { ...n, shift: new Float32Array(n.shift.length) };
      case 'layernorm':
        return { ...n, bias: null };
      default:
        return n;
    }
  });
  return { ...graph, nodes };
}

/** A model from ONNX bytes, optionally bias-free, on the default WASM backend. */
export async function onnxModel(bytes: Uint8Array, opts: { biasFree?: boolean; backend?: Parameters<typeof createBackend>[0] } = {}): Promise<Model> {
  let graph = canonicalize(importOnnx(bytes));
  if (opts.biasFree) graph = zeroBiases(graph);
  return new Model(graph, await createBackend(opts.backend ?? 'wasm'));
}

/** max |a − b| / max(|b|) */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / (den || 1);
}

/** How many elements of a and b differ bit for bit (-0 and 0 differ, NaN equals NaN). */
export function bitDiffs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let count = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) count++;
  return count;
}

/** Deterministic inputs in [lo, hi). */
export function uniform(count: number, seed = 1, lo = 0, hi = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (s / 2 ** 32) * (hi - lo);
  }
  return out;
}

/**
 * "epsilon(1e-9) everywhere": every dense/conv gets epsilon(1e-9) and every proportional split
 * (average pooling, residual add) the norm rule with the same 1e-9 stabiliser, so that on a
 * bias-free net the input relevance must sum to the start relevance up to float32 rounding.
 */
export const CONSERVING = composites.custom({
  name: 'epsilon(1e-9) everywhere',
  dense: rules.epsilon(1e-9),
  conv: rules.epsilon(1e-9),
  pool: rules.norm(1e-9),
  add: rules.norm(1e-9),
});

/** Checks |Σ R_in − R_start| ≤ tol·|R_start| per sample, and that the check is not vacuous. */
export function conservationErrors(sums: { start: Float32Array; input: Float32Array }): number[] {
  return Array.from(sums.start, (start, s) => {
    if (start === 0) throw new Error(`sample ${s}: the start relevance is 0 (the bias-free model outputs 0): nothing to conserve`);
    return Math.abs(sums.input[s] - start) / Math.abs(start);
  });
}
