// The torchvision fixtures (64×64 VGG16 and ResNet18, random weights) explained by the engine against the
// float64 reference (src/reference/attnlrp.ts: plain loops, max and average pooling included), with
// Winograd off (im2col + GEMM everywhere) and on (F(4,3)/F(2,3) wherever it applies, W's own forward where
// src/engine/rounding.ts allows it: every conv of VGG16, ResNet18's after its last add). Largest error
// measured over both samples, of the largest relevance: VGG16 im2col 7e-7, Winograd 4.8e-6; ResNet18 2.5e-5
// on both paths (float32 itself). Bound: the Zennit vectors' 1e-4.
import { describe, expect, it } from 'vitest';
import { composites } from '../src/composites.js';
import { canonicalize } from '../src/graph/canonicalize.js';
import { importOnnx } from '../src/import/onnx.js';
import { Model } from '../src/model.js';
import { referenceExplain } from '../src/reference/attnlrp.js';
import { createWasmBackend } from '../src/wasm/index.js';
import { archInputs, archOnnx } from './helpers/arch.js';
import { relDiff } from './helpers/oracle.js';

const PER = 3 * 64 * 64;

describe.each(['vgg16', 'resnet18'])('%s against the float64 reference', (name) => {
  const graph = canonicalize(importOnnx(archOnnx(name)));
  for (const composite of ['epsilon-plus', 'epsilon-alpha2-beta1'] as const)
    it.each(['off', 'on'] as const)(`${composite}, winograd %s: relevance within 1e-4 of its largest value`, { timeout: 120_000 }, (winograd) => {
      const model = new Model(graph, createWasmBackend({ winograd }));
      for (let s = 0; s < 2; s++) {
        const x = archInputs().subarray(s * PER, (s + 1) * PER);
        const got = model.explain(x, { composite });
        const ref = referenceExplain(graph, x, 1, { rules: composites.byName(composite), targets: [got.targets[0]] });
        expect(relDiff(got.relevance, ref.relevance), `sample ${s}`).toBeLessThan(1e-4);
        expect(relDiff(got.logits, ref.logits), `sample ${s}`).toBeLessThan(1e-5);
      }
      model.dispose();
    });
});
