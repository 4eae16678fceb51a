/**
 * Small hand-built IR graphs for op tests: a graph from its nodes, a Model over it (canonicalized,
 * on the WASM or the reference backend), and float64 helpers the tests compute their formulas with.
 */
import { createBackend, type BackendChoice } from '../../src/backends.js';
import { canonicalize } from '../../src/graph/canonicalize.js';
import type { Graph, GraphNode, Shape } from '../../src/graph/ir.js';
import { Model } from '../../src/model.js';
import { relDiff, uniform } from '../helpers/oracle.js';

export function graphOf(inputShape: Shape, nodes: GraphNode[], output = nodes[nodes.length - 1].name): Graph {
  return { name: 'ir-test', inputShape, inputLayout: 'NCHW', nodes, output, notes: [], format: 'lrp-json' };
}

export async function irModel(graph: Graph, backend: BackendChoice = 'wasm'): Promise<Model> {
  return new Model(canonicalize(graph), await createBackend(backend));
}

/** The backends every op test runs on. */
export const BACKENDS: BackendChoice[] = ['wasm', 'reference'];

/** max |a − b| / max |b| (oracle.ts relDiff), after checking the lengths agree. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  return relDiff(a, b);
}

/** Deterministic values in [lo, hi) (oracle.ts uniform, centred on 0 by default). */
export const values = (count: number, seed: number, lo = -1, hi = 1): Float32Array => uniform(count, seed, lo, hi);

export const sum = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
};
