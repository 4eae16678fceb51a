// Memory of ImageNet-size explanations (memory issue): model.memoryPlan(batch) by part, and the WebAssembly memory a
// fresh model reaches after one explain, with and without a batch option (without one, calls run the largest chunk
// that fits in loadModel's memoryLimit, 2 GiB by default).
//
//   npm run bench:memory                     # ResNet50 and VGG16 (torchvision, 224×224) → bench/RESULTS-memory.md
//   node bench/memory.mjs [--dir D] [--models a,b] [--batches 1,8] [--composites epsilon-plus,epsilon-gamma-box] [--out F] [--no-write]
//
// The ONNX files come from `scripts/export-architectures.py --full DIR` (exported first when DIR lacks them).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportedOnnx } from './models.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const dir = path.resolve(opt('dir', path.join(os.tmpdir(), 'lrp-arch-full')));
const models = opt('models', 'resnet50,vgg16').split(',');
const batches = opt('batches', '1,8').split(',').map(Number);
const composites = opt('composites', 'epsilon-plus').split(',');
const out = argv.includes('--no-write') ? null : path.resolve(opt('out', path.join(HERE, 'RESULTS-memory.md')));
const mib = (b) => (b / 2 ** 20).toFixed(0);

const { loadModel } = await import(path.join(ROOT, 'dist/index.js'));
const plans = [];
const runs = [];
for (const name of models) {
  const bytes = new Uint8Array(fs.readFileSync(exportedOnnx(name, { dir, script: 'export-architectures.py', only: true })));
  const probe = await loadModel(bytes);
  for (const b of [1, 8, 32]) plans.push({ name, ...probe.memoryPlan(b) });
  probe.dispose();
  for (const composite of composites)
    for (const n of batches)
      for (const withBatch of [true, false]) {
        const model = await loadModel(bytes);
        const x = new Float32Array(n * model.inputSize).map((_, i) => ((i * 2654435761) % 1000) / 1000);
        const t = performance.now();
        model.explain(x, withBatch ? { composite, batch: n } : { composite });
        const row = { name, composite, n, withBatch, ms: performance.now() - t, memory: model.memoryBytes, plan: model.memoryPlan(n) };
        runs.push(row);
        console.log(`${name} ${composite} n=${n}${withBatch ? ` batch ${n}` : ' (no batch option)'}: WASM memory ${mib(row.memory)} MiB, ${row.ms.toFixed(0)} ms`);
        model.dispose();
      }
}
if (out) {
  const lines = [
    '# Memory: lrp-wasm at ImageNet size',
    '',
    `Written by \`npm run bench:memory\` (bench/memory.mjs) on ${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}.`,
    'torchvision models with random weights, 224×224 (scripts/export-architectures.py --full). MiB = 2^20 bytes.',
    '',
    '## model.memoryPlan(batch) (before any explain: modified-parameter caches not yet made)',
    '',
    '| model | batch | parameters | activations | relevance (shared by liveness) | relevance without sharing | scratch (upper bound) | total | per sample (activations + relevance) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...plans.map((p) => `| ${p.name} | ${p.batch} | ${mib(p.parameters)} | ${mib(p.activations)} | ${mib(p.relevance)} | ${mib(p.relevanceUnshared)} | ${mib(p.scratch)} | ${mib(p.total)} | ${((p.activations + p.relevance) / p.batch / 2 ** 20).toFixed(1)} |`),
    '',
    '## WebAssembly memory after one explain on a fresh model',
    '',
    '| model | composite | samples | batch option | WASM memory (MiB) | modified parameters cached (MiB) | time (ms, indicative) |',
    '|---|---|---:|---|---:|---:|---:|',
    ...runs.map((r) => `| ${r.name} | ${r.composite} | ${r.n} | ${r.withBatch ? r.n : 'none (largest chunk in 2 GiB)'} | ${mib(r.memory)} | ${mib(r.plan.modifiedParameters)} | ${r.ms.toFixed(0)} |`),
    '',
  ];
  fs.writeFileSync(out, lines.join('\n'));
  console.log(`wrote ${path.relative(ROOT, out)}`);
}
