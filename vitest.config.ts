import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // 2-core machines: one worker per core
    maxWorkers: 2,
    // Node 20 validates relaxed SIMD only behind this flag (current browsers have it): with it the
    // default 'wasm' backend runs the relaxed-SIMD kernels, and test/lrp-variants.test.ts runs the
    // plain SIMD and scalar builds explicitly, so every kernel build is tested.
    execArgv: ['--experimental-wasm-relaxed-simd'],
  },
});
