/**
 * Small hand-built IR graphs for op tests: a graph from its nodes, a Model over it (canonicalized,
 * on the WASM or the reference backend), and float64 helpers the tests compute their formulas with.
 */
import { createBackend, type BackendChoice } from '../../src/backends.js';
import { canonicalize } from '../../src/graph/canonicalize.js';
import type { Graph, GraphNode, Shape } from '../../src/graph/ir.js';
import { Model } from '../../src/model.js';

export function graphOf(inputShape: Shape, nodes: GraphNode[], output = nodes[nodes.length - 1].name): Graph {
  return { name: 'ir-test', inputShape, inputLayout: 'NCHW', nodes, output, notes: [], format: 'lrp-json' };
}

export async function irModel(graph: Graph, backend: BackendChoice = 'wasm'): Promise<Model> {
  return new Model(canonicalize(graph), await createBackend(backend));
}

/** The backends every op test runs on. */
export const BACKENDS: BackendChoice[] = ['wasm', 'reference'];

/** max |a − b| / max |b| (0 when b is all zeros and a equals it). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den > 0 ? num / den : num;
}

/** Deterministic values in [lo, hi). */
export function values(count: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (s / 2 ** 32) * (hi - lo);
  }
  return out;
}

export const sum = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
};
