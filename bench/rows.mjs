// Micro-benchmark of the row kernels (layer norm and softmax over the last axis, float64 row sums): the median CPU
// time (user + system of this process) of many runs, in ns per element, on BERT-base-like shapes:
//   * layer norm on [512, 768] (4 sequences of 128 tokens),
//   * softmax on [4·12·128, 128] (attention weights of 12 heads),
// reported as ratios to peers measured in the same run: the module's scalar build (what SIMD buys), relu_f32
// (the memory-bound floor) and, for the forwards, TF.js on its WASM backend (SIMD, one thread).
// Usage (after `npm run build`): node bench/rows.mjs [--runs 41] [--out FILE]
import { writeFileSync } from 'node:fs';
import { createWasmBackend } from '../dist/wasm/index.js';
import { initTfjs } from './peers.mjs';
import { cpuMedianPerElement } from './timing.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Math.max(11, Number(opt('runs', 41)));
const { tf, info } = await initTfjs();

const median = (fn, len) => cpuMedianPerElement(fn, RUNS, len);

function setup(variant, rows, F) {
  const be = createWasmBackend({ variant });
  const mem = be.memory, len = rows * F;
  const buf = (lo, hi, seed) => {
    const p = mem.alloc(len * 4), f = mem.f32();
    let s = seed;
    for (let i = 0; i < len; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      f[(p >>> 2) + i] = lo + ((hi - lo) * s) / 4294967296;
    }
    return p;
  };
  const w = mem.alloc(F * 4), b = mem.alloc(F * 4);
  mem.f32().fill(1.1, w >>> 2, (w >>> 2) + F);
  mem.f32().fill(0.1, b >>> 2, (b >>> 2) + F);
  return { k: be.kernels, x: buf(-3, 3, 1), y: buf(0, 1, 2), r: buf(-1, 1, 3), o: buf(0, 1, 4), w, b, len };
}

const cases = [
  { name: 'layer norm [512, 768]', rows: 512, F: 768 },
  { name: 'softmax [6144, 128]', rows: 4 * 12 * 128, F: 128 },
];
const lines = [];
for (const { name, rows, F } of cases) {
  const simd = setup('simd', rows, F), scalar = setup('scalar', rows, F);
  const ln = name.startsWith('layer');
  const kernels = ln
    ? {
        forward: (s) => () => s.k.layerNormForward(s.x, s.w, s.b, s.y, rows, F, 1e-5),
        attnlrp: (s) => () => s.k.layerNormAttnLrp(s.x, s.y, s.w, s.r, s.o, rows, F, 1e-5, 1e-6),
        gradient: (s) => () => s.k.layerNormGradient(s.x, s.w, s.r, s.o, rows, F, 1e-5),
      }
    : {
        forward: (s) => () => s.k.softmaxForward(s.x, s.y, rows, F),
        attnlrp: (s) => () => s.k.softmaxAttnLrp(s.x, s.y, s.r, s.o, rows, F),
        gradient: (s) => () => s.k.softmaxGradient(s.y, s.r, s.o, rows, F),
      };
  const relu = median(() => simd.k.relu(simd.x, simd.o, simd.len), simd.len);
  const xt = tf.randomUniform([rows, F], -3, 3);
  const tfLayerNorm = () => {
    const { mean, variance } = tf.moments(xt, -1, true);
    return xt.sub(mean).mul(tf.rsqrt(variance.add(1e-5)));
  };
  const tfForward = () => tf.tidy(ln ? tfLayerNorm : () => tf.softmax(xt)).dispose();
  const tfNs = median(tfForward, simd.len);
  for (const [kname, make] of Object.entries(kernels)) {
    const a = median(make(simd), simd.len), s = median(make(scalar), simd.len);
    const peer = kname === 'forward' ? ` | ${(tfNs / a).toFixed(2)}× TF.js ${ln ? 'layer norm from ops (moments, sub, rsqrt, mul)' : 'softmax'}` : ' | —';
    lines.push(`| ${name} ${kname} | ${a.toFixed(2)} | ${(s / a).toFixed(2)}× scalar | ${(a / relu).toFixed(1)}× relu${peer} |`);
  }
  xt.dispose();
}
const report = [
  '# Row kernels (layer norm, softmax)',
  '',
  `\`node bench/rows.mjs\`, median CPU time of ${RUNS} runs; TF.js ${info.version} (${info.backend}, SIMD ${info.simd}, ${info.threads} thread). "N× scalar": how many times faster the SIMD build`,
  'is than the scalar build of the same module; "× relu": cost relative to relu_f32 on the same data; "× TF.js": how many',
  'times faster than TF.js (wasm, one thread) on the closest op it has.',
  '',
  '| kernel | ns / element (SIMD) | vs scalar | vs relu | vs TF.js |',
  '| --- | --- | --- | --- | --- |',
  ...lines,
  '',
].join('\n');
console.log(report);
const out = opt('out', null);
if (out) writeFileSync(out, report);
