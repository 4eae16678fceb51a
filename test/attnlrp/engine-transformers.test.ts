// The WASM engine against the float64 reference (src/reference/attnlrp.ts) on a 1-block ViT and a 1-block
// text transformer built by hand (tiny-transformers.ts): AttnLRP and epsilon-plus agree to 1e-4 relative per
// sample at batch 1 and 3; and with every rule `gradient` the engine's relevance is the gradient of the
// float64 forward by central differences (the input gradient for the ViT; for the token model the gradient
// with respect to the embedding output, read from the engine's per-layer relevance, `layers: true`).
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends.js';
import { composites, type Composite } from '../../src/composites.js';
import { canonicalize } from '../../src/graph/canonicalize.js';
import type { Graph } from '../../src/graph/ir.js';
import { Model } from '../../src/model.js';
import { referenceExplain } from '../../src/reference/attnlrp.js';
import { forwardF64 } from '../../src/reference/forward-f64.js';
import { rules } from '../../src/rules.js';
import { centralDiff, relErr } from './helpers.js';
import { TEXT, tinyInputs, tinyText, tinyVit, type TinyGraph } from './tiny-transformers.js';

const MODELS: Array<[string, () => TinyGraph, 'vit' | 'text']> = [
  ['1-block ViT', () => tinyVit(), 'vit'],
  ['1-block text transformer', () => tinyText(), 'text'],
];

const COMPOSITES: Array<[string, Composite]> = [
  ['attnlrp', composites.byName('attnlrp')],
  ['epsilon-plus', composites.byName('epsilon-plus')],
];

const G = rules.gradient();
const EVERY_GRADIENT = composites.custom({
  name: 'every rule gradient',
  dense: G, conv: G, add: G, activation: G, pool: G, affine: G, mul: G, layerNorm: G, softmax: G, matmul: G,
});

/** The graph as loadModel would hand it to the engine (canonicalized), and a model on it. */
async function load(built: TinyGraph): Promise<{ graph: Graph; model: Model }> {
  const graph = canonicalize(built);
  return { graph, model: new Model(graph, await createBackend('wasm')) };
}

describe('WASM engine vs the float64 reference on tiny transformers', () => {
  for (const [label, build, kind] of MODELS)
    for (const [name, composite] of COMPOSITES)
      for (const n of [1, 3])
        it(`${label}, ${name}, batch ${n}: relevance within 1e-4 relative per sample`, async () => {
          const { graph, model } = await load(build());
          const x = tinyInputs(kind, n);
          const per = x.length / n;
          const targets = Array.from({ length: n }, (_, s) => (s + 1) % model.outputSize);
          const got = model.explain(x, { composite: name as 'attnlrp', target: targets, checkRange: false });
          const ref = referenceExplain(graph, x, n, { rules: composite, targets });
          expect(relErr(got.logits, ref.logits)).toBeLessThan(1e-5);
          for (let s = 0; s < n; s++) expect(relErr(got.relevance.subarray(s * per, (s + 1) * per), ref.relevance.subarray(s * per, (s + 1) * per))).toBeLessThan(1e-4);
          model.dispose();
        });
});

describe('identity check: every rule gradient gives the gradient of the float64 forward (central differences)', () => {
  it('1-block ViT: relevance = d logit / d input, batch 3', async () => {
    const { graph, model } = await load(tinyVit({ gelu: 'gelu-tanh' }));
    const n = 3;
    const x = tinyInputs('vit', n, 21);
    const per = x.length / n;
    const targets = [2, 0, 4];
    const got = model.explain(x, { composite: EVERY_GRADIENT, target: targets, start: 'onehot', checkRange: false });
    for (let s = 0; s < n; s++) {
      const xs = Float64Array.from(x.subarray(s * per, (s + 1) * per));
      const fd = centralDiff((v) => forwardF64(graph, v).get(graph.output)!.data[targets[s]], xs);
      expect(relErr(got.relevance.subarray(s * per, (s + 1) * per), fd)).toBeLessThan(1e-3);
    }
    model.dispose();
  });

  it('1-block text transformer: relevance at the embedding output = d logit / d embedding, batch 3', async () => {
    const { graph, model } = await load(tinyText());
    const n = 3;
    const ids = tinyInputs('text', n, 22);
    const targets = [1, 2, 0];
    const got = model.explain(ids, { composite: EVERY_GRADIENT, target: targets, start: 'onehot', layers: true, checkRange: false });
    const size = TEXT.T * TEXT.D;
    for (let s = 0; s < n; s++) {
      const tokens = ids.subarray(s * TEXT.T, (s + 1) * TEXT.T);
      const e0 = forwardF64(graph, tokens).get('embed')!;
      const fd = centralDiff((v) => forwardF64(graph, tokens, s, new Map([['embed', { shape: e0.shape, data: v }]])).get(graph.output)!.data[targets[s]], e0.data);
      expect(relErr(got.layers!.embed.subarray(s * size, (s + 1) * size), fd)).toBeLessThan(1e-3);
    }
    model.dispose();
  });
});
