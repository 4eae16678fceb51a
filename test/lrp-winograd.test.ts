// The Zennit vectors of every conv fixture with Winograd on wherever it applies (the 'auto' rule would skip
// most of these small layers), per-layer relevance included, on every kernel build and on the TypeScript twin.
import { expect, it } from 'vitest';
import { loadModel, rules } from '../src/index.js';
import { COMPOSITE_NAMES } from '../src/composites.js';
import { canonicalize } from '../src/graph/canonicalize.js';
import { importOnnx } from '../src/import/onnx.js';
import { Model } from '../src/model.js';
import { createWasmBackend } from '../src/wasm/index.js';
import { archInputs, archOnnx } from './helpers/arch.js';
import { bitDiffs, relDiff } from './helpers/oracle.js';
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
  // forward and the transposed product, and U of W for W's own forward (the epsilon dense layers at the end
  // receive relevance proportional to what they divide by, see src/engine/rounding.ts): 36 floats per
  // channel pair each, the rows of each plane (O forward, C transposed) padded to the GEMM's panels of 4
  const forward = 8 * 1 + 16 * 8, transposed = 4 * 8 + 8 * 16; // conv1's single input channel: one panel
  expect(bytes.on - bytes.off).toBe((2 * forward + transposed) * 36 * 4);
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
  // predict computes every eligible layer's own output with Winograd (measured: 9.2e-7 vgg16, 2.9e-6 resnet18)
  expect(relDiff(on.predict(x), off.predict(x))).toBeLessThan(1e-5);
  for (const composite of COMPOSITE_NAMES) {
    const a = on.explain(x, { composite, low: 0, high: 1 }).relevance;
    const b = off.explain(x, { composite, low: 0, high: 1 }).relevance;
    expect(relDiff(a, b), composite).toBeLessThan(1e-5);
  }
  on.dispose();
  off.dispose();
});

it("W's own forward runs Winograd in predict, and in explain only where no rule divides by a value it rounded", async () => {
  const x = new Float32Array(2 * 28 * 28).map((_, i) => ((i * 37) % 11) / 11);
  const on = await loadModel(`${modelDir('cnn')}/model.json`, { winograd: 'on' });
  const off = await loadModel(`${modelDir('cnn')}/model.json`, { winograd: 'off' });
  const direct = off.predict(x);
  const rounded = on.predict(x);
  // the two paths round differently, and only by Winograd's error
  expect(bitDiffs(rounded, direct)).toBeGreaterThan(0);
  expect(relDiff(rounded, direct)).toBeLessThan(1e-5);
  // z⁺ on every linear layer: nothing divides by a value that may cancel, every conv rounds as in predict,
  // with the average pooling under the gradient or under its default norm rule (it divides by the window
  // sums, but the relevance it gets is those sums times a factor: z⁺ dense layers multiply their input)
  expect(bitDiffs(on.explain(x, { composite: { conv: rules.zPlus(), dense: rules.zPlus(), pool: rules.gradient() } }).logits, rounded)).toBe(0);
  expect(bitDiffs(on.explain(x, { composite: { conv: rules.zPlus(), dense: rules.zPlus() } }).logits, rounded)).toBe(0);
  // epsilon-plus from the logit: the epsilon dense layers divide by what they pass on, which scales with the
  // relevance they get; both convs round. From 'onehot' the output layer's relevance does not scale with
  // its logit: neither does.
  expect(bitDiffs(on.explain(x, { composite: 'epsilon-plus' }).logits, rounded)).toBe(0);
  expect(bitDiffs(on.explain(x, { composite: 'epsilon-plus', start: 'onehot' }).logits, direct)).toBe(0);
  // a flat output layer: the epsilon layer before it gets relevance that does not scale with its output
  expect(bitDiffs(on.explain(x, { composite: { conv: rules.zPlus(), dense: rules.epsilon(), byIndex: { 9: rules.flat() } } }).logits, direct)).toBe(0);
  // epsilon everywhere (the convs read their own z), or a gradient through the ReLU masks: no layer rounds
  expect(bitDiffs(on.explain(x, { rule: 'epsilon' }).logits, direct)).toBe(0);
  expect(bitDiffs(on.attribute(x, { method: 'gradient' }).logits, direct)).toBe(0);
  expect(bitDiffs(on.explain(x, { composite: { conv: rules.zPlus(), activation: rules.gradient() } }).logits, direct)).toBe(0);
  on.dispose();
  off.dispose();
});
