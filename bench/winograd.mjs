// Winograd F(2×2,3×3) and F(4×4,3×3) against im2col + GEMM (issue 12's Winograd lever).
//   1. Per layer: the 3×3 stride-1 convs of VGG16 and ResNet50 at 224×224 (shapes only, random weights) and a few
//      small shapes behind the 'auto' rule (src/engine/winograd.ts): median CPU time of the forward and the
//      transposed product, batch 1, the candidates timed round-robin.
//   2. Whole model: VGG16 and ResNet50 (bench/imagenet-models.mjs, built in memory), batch 1, predict and explain
//      epsilon-plus with loadModel({ winograd: 'off' }) vs 'auto', runs interleaved, median.
//   npm run bench:winograd          → bench/RESULTS-winograd.md
//   node bench/winograd.mjs [--runs 11] [--model-runs 5] [--models vgg16,resnet50] [--no-layers] [--no-write]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWasmBackend } from '../dist/wasm/index.js';
import { loadModel } from '../dist/index.js';
import { winogradFilterFloats } from '../dist/kernels/winograd.js';
import { resnet50Onnx, vgg16Onnx } from './imagenet-models.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const RUNS = Math.max(5, Number(opt('runs', 11)));
const MODEL_RUNS = Math.max(3, Number(opt('model-runs', 5)));
const MODELS = opt('models', 'vgg16,resnet50').split(',').filter(Boolean);

// [label, C, H (= W, = output size: padding 1), O]
const LAYERS = [
  ['VGG16 conv1_2', 64, 224, 64],
  ['VGG16 conv2_1', 64, 112, 128],
  ['VGG16 conv2_2', 128, 112, 128],
  ['VGG16 conv3_1', 128, 56, 256],
  ['VGG16 conv3_2/3', 256, 56, 256],
  ['VGG16 conv4_1', 256, 28, 512],
  ['VGG16 conv4_2/3', 512, 28, 512],
  ['VGG16 conv5_x', 512, 14, 512],
  ['ResNet50 layer1 3×3', 64, 56, 64],
  ['ResNet50 layer2 3×3', 128, 28, 128],
  ['ResNet50 layer3 3×3', 256, 14, 256],
  ['ResNet50 layer4 3×3', 512, 7, 512],
  ['VGG16 conv1_1 (C=3)', 3, 224, 64],
  ['small: C=4', 4, 56, 64],
  ['small: C=8', 8, 56, 64],
  ['small: C=16', 16, 56, 64],
  ['small: O=4', 64, 56, 4],
  ['small: O=8', 64, 56, 8],
  ['small: 8×8', 64, 8, 64],
  ['small: 4×4', 64, 4, 64],
  ['small: 4×4, 256 ch', 256, 4, 256],
];

function cpuMs(fn) {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}
const median = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];

/** Round-robin timing of named candidates: warm-up, then RUNS rounds; median CPU ms of each. */
function timeRoundRobin(cands, runs) {
  for (const c of Object.values(cands)) for (let i = 0; i < 2; i++) c();
  const t = Object.fromEntries(Object.keys(cands).map((k) => [k, []]));
  for (let r = 0; r < runs; r++) for (const [k, c] of Object.entries(cands)) t[k].push(cpuMs(c));
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
}

function layerRow(be, [label, C, H, O]) {
  const k = be.kernels, m = be.memory;
  const desc = new Int32Array(16);
  desc.set([C, H, H, O, 3, 3, 1, 1, 1, 1, 1, 1, 1, H, H]);
  const owned = [];
  const ptr = (floats) => {
    const p = m.alloc(Math.max(16, floats * 4));
    owned.push(p);
    return p;
  };
  const d = ptr(16);
  m.i32().set(desc, d >> 2);
  const x = ptr(C * H * H), w = ptr(O * C * 9), b = ptr(O), y = ptr(O * H * H), out = ptr(C * H * H);
  const f = m.f32();
  for (let i = 0; i < C * H * H; i++) f[(x >> 2) + i] = Math.max(0, Math.sin(i * 0.37));
  for (let i = 0; i < O * C * 9; i++) f[(w >> 2) + i] = Math.sin(i * 0.11) / Math.sqrt(C * 9);
  for (let i = 0; i < O * H * H; i++) f[(y >> 2) + i] = Math.cos(i * 0.13);
  const scratch = ptr(Math.max(k.convScratchBytes(desc), k.winogradScratchBytes(desc, 2), k.winogradScratchBytes(desc, 4)) / 4);
  const u = {};
  const filterMs = {};
  for (const t of [2, 4])
    for (const tr of [0, 1]) {
      u[`${t}${tr}`] = ptr(winogradFilterFloats(desc, t, tr === 1));
      const ms = cpuMs(() => k.winogradFilter(d, w, u[`${t}${tr}`], t, tr));
      if (!tr) filterMs[t] = ms;
    }
  const runs = Math.max(RUNS, Math.min(101, Math.round((RUNS * 2e8) / (C * O * H * H * 9))));
  const r = timeRoundRobin(
    {
      direct: () => k.conv2dForward(d, x, w, b, y, scratch, 1),
      f2: () => k.winogradForward(d, x, u['20'], b, y, scratch, 1, 2, 0, 1),
      f4: () => k.winogradForward(d, x, u['40'], b, y, scratch, 1, 4, 0, 1),
      directT: () => k.conv2dTranspose(d, y, w, out, scratch, 1, 0),
      f2T: () => k.winogradTranspose(d, y, u['21'], out, scratch, 1, 2, 0, 0, 1),
      f4T: () => k.winogradTranspose(d, y, u['41'], out, scratch, 1, 4, 0, 0, 1),
    },
    runs,
  );
  for (const p of owned) m.free(p);
  return { label, C, H, O, runs, ...r, filter2: filterMs[2], filter4: filterMs[4] };
}

async function modelRows(name) {
  const bytes = name === 'vgg16' ? vgg16Onnx() : resnet50Onnx();
  const models = {};
  for (const mode of ['off', 'auto']) models[mode] = await loadModel(bytes, { winograd: mode });
  const x = new Float32Array(models.off.inputSize).map((_, i) => ((i * 2654435761) % 1000) / 1000);
  const first = {};
  const results = {};
  for (const mode of ['off', 'auto']) {
    const t0 = performance.now();
    results[mode] = models[mode].explain(x, { composite: 'epsilon-plus', batch: 1 }).relevance;
    first[mode] = performance.now() - t0; // includes the modified-weight (and Winograd filter) caches
  }
  let diff = 0, scale = 0;
  for (let i = 0; i < results.off.length; i++) {
    diff = Math.max(diff, Math.abs(results.off[i] - results.auto[i]));
    scale = Math.max(scale, Math.abs(results.off[i]));
  }
  const times = { predict: { off: [], auto: [] }, explain: { off: [], auto: [] } };
  for (let r = 0; r < MODEL_RUNS; r++)
    for (const mode of ['off', 'auto']) {
      let t0 = performance.now();
      models[mode].predict(x, { batch: 1 });
      times.predict[mode].push(performance.now() - t0);
      t0 = performance.now();
      models[mode].explain(x, { composite: 'epsilon-plus', batch: 1 });
      times.explain[mode].push(performance.now() - t0);
    }
  const row = {
    name,
    predictOff: median(times.predict.off), predictAuto: median(times.predict.auto),
    explainOff: median(times.explain.off), explainAuto: median(times.explain.auto),
    firstOff: first.off, firstAuto: first.auto,
    cachedOff: models.off.memoryPlan(1).modifiedParameters, cachedAuto: models.auto.memoryPlan(1).modifiedParameters,
    memoryOff: models.off.memoryBytes, memoryAuto: models.auto.memoryBytes,
    relDiff: diff / scale,
  };
  for (const m of Object.values(models)) m.dispose();
  return row;
}

const f1 = (v) => v.toFixed(1);
const f2 = (v) => v.toFixed(2);
const mib = (b) => (b / 2 ** 20).toFixed(0);
const load0 = os.loadavg()[0];

const be = createWasmBackend();
const layers = [];
if (!argv.includes('--no-layers'))
  for (const l of LAYERS) {
    const r = layerRow(be, l);
    layers.push(r);
    console.log(`${r.label} ${r.C}→${r.O} ${r.H}×${r.H}: fwd direct ${f2(r.direct)} F2 ${f2(r.f2)} F4 ${f2(r.f4)} | T direct ${f2(r.directT)} F2 ${f2(r.f2T)} F4 ${f2(r.f4T)} ms`);
  }
const models = [];
for (const name of MODELS) {
  const r = await modelRows(name);
  models.push(r);
  console.log(`${name}: predict off ${r.predictOff.toFixed(0)} auto ${r.predictAuto.toFixed(0)} | explain off ${r.explainOff.toFixed(0)} auto ${r.explainAuto.toFixed(0)} ms | rel diff ${r.relDiff.toExponential(1)}`);
}
const load1 = os.loadavg()[0];

const lines = [
  '# Winograd convolutions vs im2col + GEMM',
  '',
  `Written by \`npm run bench:winograd\` (bench/winograd.mjs) on ${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), Node ${process.version}, backend ${be.name}.`,
  `The machine was busy (other engineers building and testing in parallel: load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end, on 2 cores), so`,
  'absolute times are inflated and noisy; the ratios compare candidates measured round-robin in the same run.',
  '',
  '## Per layer (batch 1, median CPU ms; ratio = im2col time / Winograd time, > 1: Winograd faster)',
  '',
  '| layer | C→O | H×W | forward im2col | F(2,3) | F(4,3) | ratio F2 | ratio F4 | transposed im2col | F(2,3) | F(4,3) | ratio F2 | ratio F4 | filter transform F2 / F4 (ms, once per weight set) |',
  '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...layers.map((r) => `| ${r.label} | ${r.C}→${r.O} | ${r.H}×${r.H} | ${f2(r.direct)} | ${f2(r.f2)} | ${f2(r.f4)} | ${f2(r.direct / r.f2)} | ${f2(r.direct / r.f4)} | ${f2(r.directT)} | ${f2(r.f2T)} | ${f2(r.f4T)} | ${f2(r.directT / r.f2T)} | ${f2(r.directT / r.f4T)} | ${f1(r.filter2)} / ${f1(r.filter4)} |`),
  '',
  `Runs per layer: ${RUNS} or more (more for the small layers).`,
  '',
  '## Whole models, batch 1, epsilon-plus (median of ' + MODEL_RUNS + ' interleaved runs after a first call; wall ms)',
  '',
  "| model | predict off | predict auto | off / auto | explain off | explain auto | off / auto | first explain off / auto (builds caches) | modified parameters cached off / auto (MiB) | WASM memory off / auto (MiB) | relevance max\\|off−auto\\| / max\\|off\\| |",
  '|---|---:|---:|---:|---:|---:|---:|---|---|---|---:|',
  ...models.map((r) => `| ${r.name} | ${r.predictOff.toFixed(0)} | ${r.predictAuto.toFixed(0)} | ${f2(r.predictOff / r.predictAuto)} | ${r.explainOff.toFixed(0)} | ${r.explainAuto.toFixed(0)} | ${f2(r.explainOff / r.explainAuto)} | ${r.firstOff.toFixed(0)} / ${r.firstAuto.toFixed(0)} | ${mib(r.cachedOff)} / ${mib(r.cachedAuto)} | ${mib(r.memoryOff)} / ${mib(r.memoryAuto)} | ${r.relDiff.toExponential(1)} |`),
  '',
  'Models: bench/imagenet-models.mjs (torchvision shapes, seeded random weights, no batch norm). "auto" runs Winograd',
  '(F(4,3), or F(2,3) on planes of 8×8 and less) on the 3×3 stride-1 convs the rule of src/engine/winograd.ts admits: the',
  "transposed products, the forwards of one-signed weight sets (z⁺), and W's own forward in predict and where",
  'src/engine/rounding.ts allows it in explain (every conv of VGG16 under epsilon-plus; no conv of ResNet50, all before its last add).',
  "The relevance column is the difference that rounding makes (VGG16), not an error: both are within 1e-4 of a",
  'float64 reference on the 64×64 fixtures (test/lrp-f64-arch.test.ts).',
  '',
];
if (!argv.includes('--no-write')) {
  fs.writeFileSync(path.join(HERE, 'RESULTS-winograd.md'), lines.join('\n'));
  console.log('wrote bench/RESULTS-winograd.md');
}
