// The WASM engine against the float64 reference on layer norm, softmax inside the graph and dense over
// [T, D] (no attention products): a pre-norm MLP block on a [T, D] input with a softmax gate over features.
// Composite 'attnlrp' and every rule `gradient` (then also against central differences of the float64
// forward), batch 1 and 3.
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends.js';
import { composites } from '../../src/composites.js';
import { mulberry32, normal } from '../../src/evaluate/random.js';
import { canonicalize } from '../../src/graph/canonicalize.js';
import { MODEL_INPUT, type Graph, type GraphNode } from '../../src/graph/ir.js';
import { Model } from '../../src/model.js';
import { referenceExplain } from '../../src/reference/attnlrp.js';
import { forwardF64 } from '../../src/reference/forward-f64.js';
import { rules } from '../../src/rules.js';
import { centralDiff, relErr } from './helpers.js';

const T = 5, D = 6, F = 10, CLASSES = 4;

function normNet(seed: number): Graph {
  const g = normal(mulberry32(seed));
  const rand = (n: number, s: number) => Float32Array.from({ length: n }, () => g() * s);
  const dense = (name: string, input: string, inF: number, outF: number): GraphNode => ({
    op: 'dense', name, inputs: [input], inFeatures: inF, outFeatures: outF, weight: rand(outF * inF, 1 / Math.sqrt(inF)), bias: rand(outF, 0.1),
  });
  const nodes: GraphNode[] = [
    { op: 'layernorm', name: 'ln1', inputs: [MODEL_INPUT], features: D, epsilon: 1e-5, weight: Float32Array.from(rand(D, 0.2), (v) => 1 + v), bias: rand(D, 0.1) },
    dense('scores', 'ln1', D, D),
    { op: 'softmax', name: 'mix', inputs: ['scores'] },
    dense('up', 'mix', D, F),
    { op: 'activation', name: 'act', inputs: ['up'], fn: 'gelu' },
    dense('down', 'act', F, D),
    { op: 'add', name: 'res', inputs: [MODEL_INPUT, 'down'] },
    { op: 'layernorm', name: 'ln2', inputs: ['res'], features: D, epsilon: 1e-5, weight: null, bias: null },
    { op: 'slice', name: 'first', inputs: ['ln2'], axis: 0, start: 0, end: 1, step: 1 },
    { op: 'flatten', name: 'flat', inputs: ['first'] },
    dense('head', 'flat', D, CLASSES),
  ];
  return { name: 'norm-net', inputShape: [T, D], inputLayout: 'NCHW', nodes, output: 'head', notes: [], format: 'lrp-json' };
}

const G = rules.gradient();
const EVERY_GRADIENT = composites.custom({ dense: G, add: G, activation: G, layerNorm: G, softmax: G });

describe('WASM engine vs the float64 reference: layer norm, softmax, dense over [T, D]', () => {
  const graph = canonicalize(normNet(3));
  for (const n of [1, 3]) {
    const u = mulberry32(40 + n);
    const x = Float32Array.from({ length: n * T * D }, () => 2 * u() - 1);
    const targets = Array.from({ length: n }, (_, s) => (s + 1) % CLASSES);
    const per = T * D;

    it(`attnlrp, batch ${n}: relevance within 1e-4 relative per sample`, async () => {
      const model = new Model(graph, await createBackend('wasm'));
      const got = model.explain(x, { composite: 'attnlrp', target: targets, checkRange: false });
      const ref = referenceExplain(graph, x, n, { rules: composites.byName('attnlrp'), targets });
      expect(relErr(got.logits, ref.logits)).toBeLessThan(1e-5);
      for (let s = 0; s < n; s++) expect(relErr(got.relevance.subarray(s * per, (s + 1) * per), ref.relevance.subarray(s * per, (s + 1) * per))).toBeLessThan(1e-4);
      model.dispose();
    });

    it(`every rule gradient, batch ${n}: relevance = the reference's = central differences of the float64 forward`, async () => {
      const model = new Model(graph, await createBackend('wasm'));
      const got = model.explain(x, { composite: EVERY_GRADIENT, target: targets, start: 'onehot', checkRange: false });
      const ref = referenceExplain(graph, x, n, { rules: EVERY_GRADIENT, targets, start: 'onehot' });
      for (let s = 0; s < n; s++) {
        const mine = got.relevance.subarray(s * per, (s + 1) * per);
        expect(relErr(mine, ref.relevance.subarray(s * per, (s + 1) * per))).toBeLessThan(1e-4);
        const fd = centralDiff((v) => forwardF64(graph, v).get(graph.output)!.data[targets[s]], Float64Array.from(x.subarray(s * per, (s + 1) * per)));
        expect(relErr(mine, fd)).toBeLessThan(1e-3);
      }
      model.dispose();
    });
  }
});
