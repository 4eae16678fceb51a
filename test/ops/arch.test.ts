/**
 * The architectures people deploy (test/fixtures/arch: reduced-width torchvision exports, dynamic and
 * fixed batch, opset 13): each loads, predicts like onnxruntime-web (≤ 1e-5 relative) and PyTorch,
 * explains with every composite (finite), and conserves relevance on its bias-free variant
 * (every bias, batch-norm shift and constant shift zeroed; epsilon(1e-9) everywhere: ≤ 1e-4 relative
 * per sample), squeeze-excitation gates and channel shuffles included.
 */
import { describe, expect, it } from 'vitest';
import { COMPOSITE_NAMES } from '../../src/composites.js';
import { archEntries, archIndex, archInputs, archLogits, archMeta, archOnnx } from '../helpers/arch.js';
import { CONSERVING, conservationErrors, onnxModel, ortRun, relDiff } from '../helpers/oracle.js';

const x = archInputs();
const per = archIndex().input_shape.reduce((a, b) => a * b, 1);
const n = x.length / per;

describe.each(archEntries().map((e) => [e.name]))('%s', (name) => {
  const bytes = archOnnx(name);
  const meta = archMeta(name);

  it('predicts like onnxruntime-web and PyTorch, at batch 2 and 1', async () => {
    const model = await onnxModel(bytes);
    const ours = model.predict(x);
    // As for the Zennit vectors (test/helpers/run-cases.ts): a model whose own float32 forward is far from
    // float64 (PyTorch's f32-vs-f64 above 1e-5: only the reduced ResNet50, 1.9e-5) is ill-conditioned, and
    // two float32 runtimes that sum in different orders then differ by more: 1e-4 there, 1e-5 elsewhere.
    const tol = meta.f32_vs_f64 > 1e-5 ? 1e-4 : 1e-5;
    expect(relDiff(ours, await ortRun(bytes, x, [n, ...archIndex().input_shape]))).toBeLessThan(tol);
    expect(relDiff(ours, archLogits(name))).toBeLessThan(tol);
    const one = model.predict(x.subarray(per, 2 * per));
    expect(relDiff(one, ours.subarray(model.outputSize))).toBeLessThan(1e-6);
    model.dispose();
  });

  it('explains with every composite: finite relevance of the input size', async () => {
    const model = await onnxModel(bytes);
    for (const composite of COMPOSITE_NAMES) {
      const r = model.explain(x, { composite, low: 0, high: 1 });
      expect(r.relevance.length).toBe(x.length);
      expect(r.relevance.every(Number.isFinite), composite).toBe(true);
    }
    model.dispose();
  });
});

// preproc_zoo's saturating activations (sigmoid, tanh, ELU, SELU in a row) leave conv outputs that are sums of
// cancelling terms, where float32 rounding alone moves the epsilon rule's sum: measured 8e-3 on the WASM kernels
// and 7.7e-4 on the reference kernels for one sample, while every non-conv node passes its relevance on exactly
// (the per-op checks in onnx-ops.test.ts). The torchvision families are the conservation check.
describe.each(archEntries().filter((e) => archMeta(e.name).family !== 'preproc_zoo').map((e) => [e.name]))('%s without biases', (name) => {
  it('conserves relevance (epsilon(1e-9) everywhere, norm stabiliser 1e-9)', async () => {
    const model = await onnxModel(archOnnx(name), { biasFree: true });
    const r = model.explain(x, { composite: CONSERVING });
    for (const err of conservationErrors(r.sums)) expect(err).toBeLessThan(1e-4);
    model.dispose();
  });
});
