// Every kernel build runs the Zennit cases: the default tests use 'wasm' (relaxed SIMD under the
// test runner's flag); here the plain SIMD and scalar builds run a conv net and a residual graph.
import { expect, it } from 'vitest';
import { wasmFeatures } from '../src/wasm/index.js';
import { describeModelCases } from './helpers/run-cases.js';

it('the test runner validates relaxed SIMD, so the default backend runs the relaxed build', () => {
  expect(wasmFeatures().relaxedSimd).toBe(true);
});

for (const backend of ['wasm-simd', 'wasm-scalar'] as const) {
  describeModelCases('cnn_bn', { backend, layers: true });
  describeModelCases('resnet_mini', { backend });
  describeModelCases('mlp', { backend });
}
