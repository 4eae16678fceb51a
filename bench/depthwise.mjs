// Micro-benchmark of the depthwise conv kernels (conv2dForward / conv2dTranspose with C = G) on the depthwise
// layers of MobileNetV2 and EfficientNet-B0 at 224x224, batch 1. Per layer: the median CPU time of many runs,
// the candidates timed round-robin so that load from elsewhere hits them alike. With --baseline DIR (the dist/
// of an earlier build, e.g. one copied before a kernel change) the same calls run on that build too, in the same
// run, and the table gives the ratio baseline / this build.
//   node bench/depthwise.mjs [--baseline DIR] [--variant auto|simd|relaxed|scalar] [--runs 31]
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createWasmBackend } from '../dist/wasm/index.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Math.max(11, Number(opt('runs', 31)));
const variant = opt('variant', 'auto');
const baselineDir = opt('baseline', null);

// [name, C, H (= W), K, stride]; padding K/2, multiplier 1 (torchvision's layers)
const LAYERS = [
  ['mnv2 32x112 k3 s1', 32, 112, 3, 1],
  ['mnv2 96x112 k3 s2', 96, 112, 3, 2],
  ['mnv2 144x56 k3 s1', 144, 56, 3, 1],
  ['mnv2 192x28 k3 s1', 192, 28, 3, 1],
  ['mnv2 576x14 k3 s1', 576, 14, 3, 1],
  ['mnv2 960x7 k3 s1', 960, 7, 3, 1],
  ['effb0 144x56 k5 s2', 144, 56, 5, 2],
  ['effb0 240x28 k5 s1', 240, 28, 5, 1],
  ['effb0 480x14 k3 s1', 480, 14, 3, 1],
  ['effb0 672x14 k5 s1', 672, 14, 5, 1],
  ['effb0 672x14 k5 s2', 672, 14, 5, 2],
  ['effb0 1152x7 k5 s1', 1152, 7, 5, 1],
];

function setup(be, [, C, H, K, S]) {
  const P = K >> 1, OH = Math.floor((H + 2 * P - K) / S) + 1;
  const desc = new Int32Array(16);
  desc.set([C, H, H, C, K, K, S, S, P, P, 1, 1, C, OH, OH]);
  const m = be.memory;
  const ptr = (floats) => m.alloc(Math.max(16, floats * 4));
  const d = ptr(16), x = ptr(C * H * H), w = ptr(C * K * K), b = ptr(C), y = ptr(C * OH * OH), out = ptr(C * H * H);
  const scratch = ptr(be.kernels.convScratchBytes(desc) / 4);
  m.i32().set(desc, d >> 2);
  const f = m.f32();
  for (const [p, n] of [[x, C * H * H], [w, C * K * K], [b, C], [y, C * OH * OH]])
    for (let i = 0; i < n; i++) f[(p >> 2) + i] = Math.sin(i * 0.37 + p);
  const k = be.kernels;
  return {
    forward: () => k.conv2dForward(d, x, w, b, y, scratch, 1),
    transpose: () => k.conv2dTranspose(d, y, w, out, scratch, 1, 0),
  };
}

function cpuMs(fn) {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}
const median = (a) => a.slice().sort((p, q) => p - q)[a.length >> 1];

async function backendsToRun() {
  const list = [{ name: 'this build', be: createWasmBackend({ variant }) }];
  if (baselineDir) {
    const mod = await import(pathToFileURL(path.resolve(baselineDir, 'wasm/index.js')).href);
    list.push({ name: 'baseline', be: mod.createWasmBackend({ variant }) });
  }
  return list;
}

const bes = await backendsToRun();
const rows = [];
let totNew = { forward: 0, transpose: 0 }, totOld = { forward: 0, transpose: 0 };
for (const layer of LAYERS) {
  const calls = bes.map((b) => setup(b.be, layer));
  const row = { layer: layer[0] };
  for (const kind of ['forward', 'transpose']) {
    const fns = calls.map((c) => c[kind]);
    for (const fn of fns) for (let i = 0; i < 3; i++) fn(); // warm-up
    const times = fns.map(() => []);
    for (let r = 0; r < RUNS; r++) fns.forEach((fn, j) => times[j].push(cpuMs(fn)));
    const med = times.map(median);
    row[kind] = med;
    totNew[kind] += med[0];
    if (med.length > 1) totOld[kind] += med[1];
  }
  rows.push(row);
}

const fmt = (v) => v.toFixed(3);
console.log(`depthwise conv kernels, batch 1, variant ${bes[0].be.variant ?? variant}, median CPU ms of ${RUNS} runs`);
const head = baselineDir ? '| layer | fwd ms | fwd baseline | ratio | T ms | T baseline | ratio |' : '| layer | fwd ms | T ms |';
console.log(head);
console.log(head.replace(/[^|]+/g, '---'));
for (const r of rows) {
  if (baselineDir) {
    console.log(`| ${r.layer} | ${fmt(r.forward[0])} | ${fmt(r.forward[1])} | ${(r.forward[1] / r.forward[0]).toFixed(2)}x | ${fmt(r.transpose[0])} | ${fmt(r.transpose[1])} | ${(r.transpose[1] / r.transpose[0]).toFixed(2)}x |`);
  } else {
    console.log(`| ${r.layer} | ${fmt(r.forward[0])} | ${fmt(r.transpose[0])} |`);
  }
}
if (baselineDir) {
  console.log(`| sum | ${fmt(totNew.forward)} | ${fmt(totOld.forward)} | ${(totOld.forward / totNew.forward).toFixed(2)}x | ${fmt(totNew.transpose)} | ${fmt(totOld.transpose)} | ${(totOld.transpose / totNew.transpose).toFixed(2)}x |`);
}
