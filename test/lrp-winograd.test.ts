// The Zennit vectors of every conv fixture with Winograd on wherever it applies (the 'auto' rule would skip
// these small layers), per-layer relevance included; and the bad option is a typed error.
import { expect, it } from 'vitest';
import { loadModel } from '../src/index.js';
import { modelDir } from './helpers/fixtures.js';
import { describeModelCases } from './helpers/run-cases.js';

for (const m of ['cnn', 'cnn_bn', 'cnn_strided', 'resnet_mini', 'concat_net']) describeModelCases(m, { layers: true, winograd: 'on' });
describeModelCases('cnn_bn', { backend: 'wasm-scalar', winograd: 'on' });
describeModelCases('cnn_bn', { backend: 'reference', winograd: 'on' });

it('an unknown winograd mode is an InputError', async () => {
  await expect(loadModel(`${modelDir('cnn')}/model.json`, { winograd: 'fast' as 'on' })).rejects.toMatchObject({ code: 'E_OPTION' });
});

it('the runs above do use Winograd: its filter transforms are cached (and counted) only when it is on', async () => {
  const x = new Float32Array(28 * 28).map((_, i) => (i % 7) / 7);
  const bytes: Record<string, number> = {};
  for (const winograd of ['on', 'off'] as const) {
    const model = await loadModel(`${modelDir('cnn')}/model.json`, { winograd });
    model.predict(x);
    bytes[winograd] = model.memoryPlan(1).modifiedParameters;
    model.dispose();
  }
  expect(bytes.off).toBe(0);
  // cnn's 3×3 stride-1 convs: 1→8 and 8→16 channels; U = 16 floats per channel pair
  expect(bytes.on).toBe((8 * 1 + 16 * 8) * 16 * 4);
});
