// The WASM engine against the float64 reference on the ops the engine had before the transformer ops:
// conv, dense, relu, GELU, residual add, squeeze-excitation gate, transpose, slice, concat, global average
// pooling, input preprocessing. Checks the reference's Zennit rules and its walk (forks, concat, gates)
// against the engine, under the rules the engine resolves for each composite.
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends.js';
import { composites, type Composite } from '../../src/composites.js';
import { mulberry32, normal } from '../../src/evaluate/random.js';
import { canonicalize } from '../../src/graph/canonicalize.js';
import { MODEL_INPUT, type Graph, type GraphNode } from '../../src/graph/ir.js';
import { Model } from '../../src/model.js';
import { referenceExplain } from '../../src/reference/attnlrp.js';
import { rules } from '../../src/rules.js';
import { relErr } from './helpers.js';

function convNet(seed: number): Graph {
  const g = normal(mulberry32(seed));
  const rand = (n: number, s: number) => Float32Array.from({ length: n }, () => g() * s);
  const conv = (name: string, input: string, C: number, O: number): GraphNode => ({
    op: 'conv2d', name, inputs: [input], inChannels: C, outChannels: O, kernel: [3, 3], stride: [1, 1], padding: [1, 1, 1, 1],
    dilation: [1, 1], groups: 1, weight: rand(O * C * 9, 1 / Math.sqrt(C * 9)), bias: rand(O, 0.1),
  });
  const nodes: GraphNode[] = [
    { op: 'affine', name: 'pre', inputs: [MODEL_INPUT], scale: Float32Array.of(2, 0.5), shift: Float32Array.of(-1, 0.25) },
    conv('c1', 'pre', 2, 4),
    { op: 'relu', name: 'r1', inputs: ['c1'] },
    conv('c2', 'r1', 4, 4),
    { op: 'add', name: 'res', inputs: ['r1', 'c2'] },
    { op: 'activation', name: 'act', inputs: ['res'], fn: 'gelu' },
    { op: 'globalavgpool', name: 'se_pool', inputs: ['act'] },
    { op: 'flatten', name: 'se_flat', inputs: ['se_pool'] },
    { op: 'dense', name: 'se_fc', inputs: ['se_flat'], inFeatures: 4, outFeatures: 4, weight: rand(16, 0.5), bias: rand(4, 0.1) },
    { op: 'activation', name: 'se_gate', inputs: ['se_fc'], fn: 'sigmoid' },
    { op: 'reshape', name: 'se_shape', inputs: ['se_gate'], shape: [4, 1, 1] },
    { op: 'mul', name: 'se', inputs: ['act', 'se_shape'], pattern: 'squeeze-excitation' },
    { op: 'transpose', name: 'swap', inputs: ['se'], perm: [0, 2, 1] },
    { op: 'slice', name: 'left', inputs: ['swap'], axis: 2, start: 0, end: 3, step: 1 },
    { op: 'slice', name: 'right', inputs: ['swap'], axis: 2, start: 3, end: 6, step: 1 },
    { op: 'concat', name: 'halves', inputs: ['left', 'right'], axis: 0 },
    conv('c3', 'halves', 8, 3),
    { op: 'globalavgpool', name: 'pool', inputs: ['c3'] },
    { op: 'flatten', name: 'flat', inputs: ['pool'] },
    { op: 'dense', name: 'fc', inputs: ['flat'], inFeatures: 3, outFeatures: 5, weight: rand(15, 0.7), bias: rand(5, 0.1) },
  ];
  return { name: 'conv-net', inputShape: [2, 6, 6], inputLayout: 'NCHW', nodes, output: 'fc', notes: [], format: 'lrp-json' };
}

const COMPOSITES: Array<[string, Composite]> = [
  ['epsilon-plus', composites.epsilonPlus()],
  ['epsilon-alpha2-beta1', composites.epsilonAlpha2Beta1()],
  ['gamma (custom)', composites.custom({ conv: rules.gamma(0.25), dense: rules.epsilon(0.01) })],
  [
    'every rule gradient',
    composites.custom({ conv: rules.gradient(), dense: rules.gradient(), add: rules.gradient(), activation: rules.gradient(), pool: rules.gradient(), affine: rules.gradient(), mul: rules.gradient() }),
  ],
];

describe('WASM engine vs the float64 reference on the pre-transformer ops', () => {
  const graph = canonicalize(convNet(5));
  for (const n of [1, 3])
    for (const [label, composite] of COMPOSITES)
      it(`${label}, batch ${n}: relevance within 1e-4 relative per sample`, async () => {
        const model = new Model(graph, await createBackend('wasm'));
        const u = mulberry32(11);
        const x = Float32Array.from({ length: n * 72 }, () => u());
        const targets = Array.from({ length: n }, (_, s) => (s * 2) % 5);
        const got = model.explain(x, { composite, target: targets, checkRange: false });
        const ref = referenceExplain(graph, x, n, { rules: composite, targets });
        for (let s = 0; s < n; s++) expect(relErr(got.relevance.subarray(s * 72, (s + 1) * 72), ref.relevance.subarray(s * 72, (s + 1) * 72))).toBeLessThan(1e-4);
        expect(relErr(got.logits, ref.logits)).toBeLessThan(1e-5);
        model.dispose();
      });
});
