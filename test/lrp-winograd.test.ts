// The Zennit vectors of every conv fixture with Winograd on wherever it applies (the 'auto' rule would skip
// most of these small layers), per-layer relevance included, on every kernel build and on the TypeScript twin.
import { expect, it } from 'vitest';
import { loadModel } from '../src/index.js';
import { COMPOSITE_NAMES } from '../src/composites.js';
import { canonicalize } from '../src/graph/canonicalize.js';
import { importOnnx } from '../src/import/onnx.js';
import { Model } from '../src/model.js';
import { createWasmBackend } from '../src/wasm/index.js';
import { archInputs, archOnnx } from './helpers/arch.js';
import { relDiff } from './helpers/oracle.js';
import { modelDir } from './helpers/fixtures.js';
import { describeModelCases } from './helpers/run-cases.js';

for (const backend of ['wasm', 'wasm-simd', 'wasm-scalar'] as const)
  for (const m of ['cnn', 'cnn_bn', 'cnn_strided', 'resnet_mini', 'concat_net']) describeModelCases(m, { backend, layers: true, winograd: 'on' });
describeModelCases('cnn_bn', { backend: 'reference', winograd: 'on' });

it('an unknown winograd mode is an InputError', async () => {
  await expect(loadModel(`${modelDir('cnn')}/model.json`, { winograd: 'fast' as 'on' })).rejects.toMatchObject({ code: 'E_OPTION' });
});

it('the runs above do use Winograd: its filter transforms are cached (and counted) only when it is on', async () => {
  const x = new Float32Array(28 * 28).map((_, i) => (i % 7) / 7);
  const bytes: Record<string, number> = {};
  for (const winograd of ['on', 'off'] as const) {
    const model = await loadModel(`${modelDir('cnn')}/model.json`, { winograd });
    model.explain(x, { composite: 'epsilon-plus' });
    bytes[winograd] = model.memoryPlan(1).modifiedParameters;
    model.dispose();
  }
  // cnn's 3×3 stride-1 convs (1→8 on 28×28, 8→16 on 14×14: both F(4,3)) run z⁺ (x ≥ 0): U of W⁺ for the
  // forward and the transposed product, 36 floats per channel pair each (W's own forward stays im2col)
  expect(bytes.on - bytes.off).toBe(2 * (8 * 1 + 16 * 8) * 36 * 4);
});

// The torchvision fixtures (64×64 inputs) reach 8×8 and 4×4 planes, where 'on' picks F(2,3): every composite's
// relevance with Winograd against im2col + GEMM. Bound: the largest difference measured (3.3e-6, vgg16
// epsilon-alpha2-beta1), ×3.
it.each(['vgg16', 'resnet18'])('%s: relevance with Winograd on (F(4,3) and F(2,3) layers) equals im2col + GEMM to 1e-5', async (name) => {
  const bytes = archOnnx(name);
  const x = archInputs();
  const graph = canonicalize(importOnnx(bytes));
  const on = new Model(graph, createWasmBackend({ winograd: 'on' }));
  const off = new Model(graph, createWasmBackend({ winograd: 'off' }));
  for (const composite of COMPOSITE_NAMES) {
    const a = on.explain(x, { composite, low: 0, high: 1 }).relevance;
    const b = off.explain(x, { composite, low: 0, high: 1 }).relevance;
    expect(relDiff(a, b), composite).toBeLessThan(1e-5);
  }
  on.dispose();
  off.dispose();
});
