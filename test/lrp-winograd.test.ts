// The Zennit vectors of every conv fixture with Winograd on wherever it applies (the 'auto' rule would skip
// most of these small layers), per-layer relevance included, on every kernel build and on the TypeScript twin.
import { expect, it } from 'vitest';
import { loadModel } from '../src/index.js';
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
  // cnn's 3×3 stride-1 convs (1→8, 8→16 channels) run z⁺ (x ≥ 0): U of W⁺ for the forward and the
  // transposed product, 16 floats per channel pair each
  expect(bytes.on - bytes.off).toBe(2 * (8 * 1 + 16 * 8) * 16 * 4);
});
