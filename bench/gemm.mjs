// GEMM micro-benchmark: times the WASM kernels at M=N=K=256 (default) and prints GFLOP/s.
// Usage: node bench/gemm.mjs [size] [--variant simd|relaxed|scalar] [--runs 30]
// Needs `npm run build:wasm` (reads build/lrp-<variant>.wasm directly).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const size = Number(args.find((a, i) => /^\d+$/.test(a) && !args[i - 1]?.startsWith('--')) ?? 256);
const variant = opt('variant', 'simd');
const runs = Math.max(20, Number(opt('runs', 30)));

const file = fileURLToPath(new URL(`../build/lrp-${variant}.wasm`, import.meta.url));
let mod;
try {
  mod = new WebAssembly.Module(readFileSync(file));
} catch (e) {
  console.error(`cannot load ${file}: ${e.message}`);
  process.exit(1);
}
const inst = new WebAssembly.Instance(mod, {});
const ex = inst.exports;
const mem = ex.memory;

let top = ex.lrp_heap_base();
function alloc(bytes) {
  const p = (top + 15) & ~15;
  top = p + bytes;
  const need = top - mem.buffer.byteLength;
  if (need > 0) mem.grow(Math.ceil(need / 65536));
  return p;
}

function rand(ptr, len, seed) {
  const f = new Float32Array(mem.buffer, ptr, len);
  let s = seed >>> 0;
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    f[i] = s / 4294967296 - 0.5;
  }
}

function time(fn, flops) {
  // warm-up: at least 10 runs and 300 ms, so V8 has tiered the kernels up to TurboFan
  const w0 = performance.now();
  for (let i = 0; i < 10 || performance.now() - w0 < 300; i++) fn();
  const t = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  t.sort((a, b) => a - b);
  const med = t[t.length >> 1];
  return { ms: med * 1e3, gflops: flops / med / 1e9, best: flops / t[0] / 1e9 };
}

const M = size, N = size, K = size;
const a = alloc(M * K * 4), b = alloc(K * N * 4), c = alloc(M * N * 4);
rand(a, M * K, 1); rand(b, K * N, 2);

// correctness spot check against a float64 dot product
ex.gemm_f32(M, N, K, a, K, 1, b, N, 1, c, N, 0);
{
  const A = new Float32Array(mem.buffer, a, M * K), B = new Float32Array(mem.buffer, b, K * N);
  const C = new Float32Array(mem.buffer, c, M * N);
  let maxErr = 0;
  for (let t = 0; t < 64; t++) {
    const i = (t * 37) % M, j = (t * 53) % N;
    let s = 0;
    for (let k = 0; k < K; k++) s += A[i * K + k] * B[k * N + j];
    maxErr = Math.max(maxErr, Math.abs(s - C[i * N + j]));
  }
  if (maxErr > 1e-3) { console.error(`GEMM result wrong: max err ${maxErr}`); process.exit(1); }
}

const flops = 2 * M * N * K;
const rows = [
  ['gemm NN  C=A·B      ', () => ex.gemm_f32(M, N, K, a, K, 1, b, N, 1, c, N, 0)],
  ['gemm NT  C=A·Bᵀ     ', () => ex.gemm_f32(M, N, K, a, K, 1, b, 1, K, c, N, 0)],
  ['gemm TN  C=Aᵀ·B     ', () => ex.gemm_f32(M, N, K, a, 1, M, b, N, 1, c, N, 0)],
  ['dense_forward (x·Wᵀ)', () => ex.dense_forward_f32(a, b, 0, c, M, K, N, 0, 1)],
  ['dense_transpose     ', () => ex.dense_transpose_f32(a, b, c, M, N, K, 0, 0, 1)],
];
console.log(`variant=${variant}  M=N=K=${size}  median of ${runs} runs after >= 300 ms of warm-up`);
for (const [name, fn] of rows) {
  const r = time(fn, flops);
  console.log(`${name}  ${r.ms.toFixed(3)} ms  ${r.gflops.toFixed(1)} GFLOP/s (best ${r.best.toFixed(1)})`);
}

// conv2d via im2col + GEMM: 64 -> 64 channels, 3x3, 56x56, pad 1
{
  const C = 64, H = 56, W = 56, O = 64, KH = 3, KW = 3;
  const desc = alloc(64);
  const d = new Int32Array(mem.buffer, desc, 16);
  d.set([C, H, W, O, KH, KW, 1, 1, 1, 1, 1, 1, 1, H, W]);
  const x = alloc(C * H * W * 4), w = alloc(O * C * KH * KW * 4), y = alloc(O * H * W * 4);
  const scratch = alloc(ex.conv2d_scratch_bytes(desc));
  rand(x, C * H * W, 3); rand(w, O * C * KH * KW, 4);
  const cf = 2 * O * H * W * C * KH * KW;
  const r1 = time(() => ex.conv2d_forward_f32(desc, x, w, 0, y, scratch, 1, 0, 1), cf);
  console.log(`conv2d_forward 64x56x56 k3   ${r1.ms.toFixed(3)} ms  ${r1.gflops.toFixed(1)} GFLOP/s`);
  const r2 = time(() => ex.conv2d_transpose_f32(desc, y, w, x, scratch, 1, 0, 0, 1), cf);
  console.log(`conv2d_transpose 64x56x56 k3 ${r2.ms.toFixed(3)} ms  ${r2.gflops.toFixed(1)} GFLOP/s`);
}

// small-batch dense (GEMV-like, memory bound) and a depthwise conv, for reference
{
  const I = 784, O = 300;
  const x = alloc(16 * I * 4), w = alloc(O * I * 4), y = alloc(16 * O * 4), g = alloc(16 * O * 4), out = alloc(16 * I * 4);
  rand(x, 16 * I, 5); rand(w, O * I, 6); rand(g, 16 * O, 7);
  for (const n of [1, 4, 16]) {
    const r = time(() => ex.dense_forward_f32(x, w, 0, y, n, I, O, 0, 1), 2 * n * I * O);
    const t = time(() => ex.dense_transpose_f32(g, w, out, n, I, O, 0, 0, 1), 2 * n * I * O);
    console.log(`dense 784->300 n=${String(n).padEnd(2)} forward ${r.gflops.toFixed(1)} GFLOP/s, transpose ${t.gflops.toFixed(1)} GFLOP/s`);
  }
}
{
  const C = 32, H = 56, W = 56;
  const desc = alloc(64);
  new Int32Array(mem.buffer, desc, 16).set([C, H, W, C, 3, 3, 1, 1, 1, 1, 1, 1, C, H, W]);
  const x = alloc(C * H * W * 4), w = alloc(C * 9 * 4), y = alloc(C * H * W * 4);
  const scratch = alloc(ex.conv2d_scratch_bytes(desc));
  rand(x, C * H * W, 8); rand(w, C * 9, 9);
  const r = time(() => ex.conv2d_forward_f32(desc, x, w, 0, y, scratch, 1, 0, 1), 2 * C * H * W * 9);
  const t = time(() => ex.conv2d_transpose_f32(desc, y, w, x, scratch, 1, 0, 0, 1), 2 * C * H * W * 9);
  console.log(`depthwise 3x3 32x56x56      forward ${r.ms.toFixed(3)} ms (${r.gflops.toFixed(1)} GFLOP/s), transpose ${t.ms.toFixed(3)} ms (${t.gflops.toFixed(1)} GFLOP/s)`);
}

// a few conv shapes (forward / transpose GFLOP/s): first layer, middle, late small-spatial with batch
for (const [C, H, O, n] of [[3, 112, 32, 1], [128, 28, 128, 1], [256, 7, 256, 4]]) {
  const desc = alloc(64);
  new Int32Array(mem.buffer, desc, 16).set([C, H, H, O, 3, 3, 1, 1, 1, 1, 1, 1, 1, H, H]);
  const x = alloc(n * C * H * H * 4), w = alloc(O * C * 9 * 4), y = alloc(n * O * H * H * 4);
  const scratch = alloc(ex.conv2d_scratch_bytes(desc));
  rand(x, n * C * H * H, 10); rand(w, O * C * 9, 11);
  const fl = 2 * n * O * H * H * C * 9;
  const r = time(() => ex.conv2d_forward_f32(desc, x, w, 0, y, scratch, n, 0, 1), fl);
  const t = time(() => ex.conv2d_transpose_f32(desc, y, w, x, scratch, n, 0, 0, 1), fl);
  console.log(`conv3x3 ${C}->${O} ${H}x${H} n=${n}`.padEnd(30) + `forward ${r.gflops.toFixed(1)} GFLOP/s, transpose ${t.gflops.toFixed(1)} GFLOP/s`);
}
