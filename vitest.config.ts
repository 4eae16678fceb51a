import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vitest/config';

const SRC = fileURLToPath(new URL('./src/', import.meta.url));

// package.json "imports" points #platform at dist/ (what the compiled package uses); the sources
// under test import the Node platform module from src/
const platformFromSources: Plugin = {
  name: 'lrp-platform-from-sources',
  enforce: 'pre',
  resolveId(id, importer) {
    if (id === '#platform' && importer?.startsWith(SRC)) return `${SRC}platform/node.ts`;
    return null;
  },
};

export default defineConfig({
  plugins: [platformFromSources],
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
