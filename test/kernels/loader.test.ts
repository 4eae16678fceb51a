import { describe, test, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWasmBackend, selectVariant, wasmFeatures, wasmModule, initWasm } from '../../src/wasm/index.js';

describe('WASM loader', () => {
  test('auto picks relaxed SIMD only when the runtime supports it', () => {
    const f = wasmFeatures();
    expect(f.simd).toBe(true); // Node 20 has SIMD
    expect(selectVariant('auto')).toBe(f.relaxedSimd ? 'relaxed' : 'simd');
    const be = createWasmBackend();
    expect(be.name).toBe(f.relaxedSimd ? 'wasm-relaxed-simd' : 'wasm-simd');
    if (!f.relaxedSimd) expect(() => createWasmBackend({ variant: 'relaxed' })).toThrow(/relaxed SIMD/);
  });

  // Node 20 validates relaxed SIMD only behind a V8 flag (the test workers run with it: vitest.config.ts).
  // A plain process: 'auto' turns the flag on itself and runs the relaxed kernels, on every thread;
  // 'wasm-simd' leaves the runtime as it is.
  test('a process started without the flag: auto turns relaxed SIMD on, wasm-simd does not', () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
    const probe = 'WebAssembly.validate(new Uint8Array([0,97,115,109,1,0,0,0,1,5,1,96,0,1,123,3,2,1,0,10,19,1,17,0,65,0,253,17,65,0,253,17,65,0,253,17,253,133,2,11]))';
    const run = (backend: string) => {
      const script = `import { loadModel } from ${JSON.stringify(path.join(root, 'dist/index.js'))};
        const before = ${probe};
        const m = await loadModel(${JSON.stringify(path.join(root, 'models/fashion-mnist/tfjs/model.json'))}, { threads: 2, backend: '${backend}' });
        const e = m.explain(new Float32Array(784).fill(0.5), { composite: 'epsilon-plus' });
        console.log(JSON.stringify({ before, after: ${probe}, name: m.backendName, threads: m.threads.count, sum: e.relevance.reduce((a, b) => a + b, 0) }));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout) as { before: boolean; after: boolean; name: string; threads: number; sum: number };
    };
    const simd = run('wasm-simd');
    expect(simd.name).toBe('wasm-simd');
    expect(simd.after).toBe(simd.before);
    const auto = run('wasm');
    expect(auto).toMatchObject({ after: true, name: 'wasm-relaxed-simd', threads: 2 });
    expect(Math.abs(auto.sum - simd.sum)).toBeLessThan(1e-4 * Math.abs(simd.sum) + 1e-6);
  });

  test('module compiled once, one instance (and memory) per backend', async () => {
    expect(wasmModule('simd')).toBe(wasmModule('simd'));
    expect(await initWasm('simd')).toBe('simd');
    const a = createWasmBackend({ variant: 'simd' }), b = createWasmBackend({ variant: 'simd' });
    const pa = a.memory.alloc(64), pb = b.memory.alloc(64);
    a.memory.f32()[pa >> 2] = 1;
    expect(b.memory.f32()[pb >> 2]).toBe(0);
    expect(a.exports.memory).not.toBe(b.exports.memory);
  });

  test('the Arena starts above the static region and grows the WASM memory', () => {
    const be = createWasmBackend({ variant: 'simd' });
    const base = be.exports.lrp_heap_base();
    const p = be.memory.alloc(16);
    expect(p).toBeGreaterThanOrEqual(base);
    expect(p % 16).toBe(0);
    const before = be.memory.byteLength();
    const big = be.memory.alloc(before * 2);
    expect(be.memory.byteLength()).toBeGreaterThanOrEqual(big + before * 2);
    expect(be.memory.byteLength()).toBe(be.exports.memory.buffer.byteLength);
    // kernels see the grown memory through fresh views
    const x = be.memory.alloc(40);
    be.memory.f32().set([1, -2, 3, -4, 5, -6, 7, -8, 9, -10], x >> 2);
    be.kernels.relu(x, x, 10);
    expect(Array.from(be.memory.f32().subarray(x >> 2, (x >> 2) + 10))).toEqual([1, 0, 3, 0, 5, 0, 7, 0, 9, 0]);
    be.memory.free(big);
  });

  test('debug build (assertions on) computes the same GEMM', () => {
    const file = new URL('../../build/lrp-debug.wasm', import.meta.url);
    if (!existsSync(file)) return; // only present after `npm run build:wasm`
    const ex = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), {}).exports as unknown as {
      memory: WebAssembly.Memory; lrp_heap_base(): number;
      gemm_f32(...a: number[]): void;
    };
    const base = ex.lrp_heap_base();
    ex.memory.grow(4);
    const M = 7, N = 13, K = 300;
    const f = new Float32Array(ex.memory.buffer);
    const a = base, b = a + M * K * 4, c = b + K * N * 4;
    for (let i = 0; i < M * K + K * N; i++) f[(a >> 2) + i] = Math.sin(i);
    ex.gemm_f32(M, N, K, a, K, 1, b, N, 1, c, N, 0);
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += f[(a >> 2) + i * K + k] * f[(b >> 2) + k * N + j];
        expect(f[(c >> 2) + i * N + j]).toBeCloseTo(s, 3);
      }
  });
});
