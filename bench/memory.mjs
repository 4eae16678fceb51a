// Memory of ImageNet-size explanations (memory issue): model.memoryPlan(batch) by part, and the WebAssembly memory a
// fresh model reaches after one explain, with and without a batch option (without one, calls run the largest chunk
// that fits in loadModel's memoryLimit, 2 GiB by default).
//
//   npm run bench:memory                     # ResNet50 and VGG16 (torchvision, 224×224) → bench/RESULTS-memory.md
//   node bench/memory.mjs [--dir D] [--models a,b] [--batches 1,8] [--composites epsilon-plus,epsilon-gamma-box]
//                         [--sweep 1,8,32] [--sweep-composites all|a,b] [--out F] [--no-write]
//
// The sweep explains 1, 8 and 32 samples without a batch option with every composite, one fresh model per composite
// (calls in that order, so the memory reported after 32 is the composite's peak).
//
// The ONNX files come from `scripts/export-architectures.py --full DIR` (exported first when DIR lacks them).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportedOnnx } from './models.mjs';

import { argv, HERE, opt, ROOT } from './args.mjs';
const dir = path.resolve(opt('dir', path.join(os.tmpdir(), 'lrp-arch-full')));
const models = opt('models', 'resnet50,vgg16').split(',');
const batches = opt('batches', '1,8').split(',').map(Number);
const composites = opt('composites', 'epsilon-plus').split(',');
const sweepSizes = opt('sweep', '1,8,32').split(',').filter(Boolean).map(Number);
const out = argv.includes('--no-write') ? null : path.resolve(opt('out', path.join(HERE, 'RESULTS-memory.md')));
const mib = (b) => (b / 2 ** 20).toFixed(0);

const { loadModel, COMPOSITE_NAMES } = await import(path.join(ROOT, 'dist/index.js'));
const sweepComposites = opt('sweep-composites', 'all') === 'all' ? COMPOSITE_NAMES : opt('sweep-composites').split(',');
// ImageNet-normalised pixels lie in about [-2.2, 2.7]: the bounds zbox needs (the ONNX files declare none)
const BOUNDS = { low: -3, high: 3 };
// inputs like those: uniform in [-2.1, 2.3]. They have negatives, so the first conv splits its input into x⁺ and x⁻
// (inputs in [0, 1) never did, and left that path's buffers out of the figures)
const pixels = (len) => new Float32Array(len).map((_, i) => ((i * 2654435761) % 1000) / 1000 * 4.4 - 2.1);
const plans = [];
const runs = [];
const sweep = [];
for (const name of models) {
  const bytes = new Uint8Array(fs.readFileSync(exportedOnnx(name, { dir, script: 'export-architectures.py', only: true })));
  const probe = await loadModel(bytes);
  for (const b of [1, 8, 32]) plans.push({ name, ...probe.memoryPlan(b) });
  probe.dispose();
  for (const composite of composites)
    for (const n of batches)
      for (const withBatch of [true, false]) {
        const model = await loadModel(bytes);
        const x = pixels(n * model.inputSize);
        const t = performance.now();
        model.explain(x, withBatch ? { composite, batch: n, ...BOUNDS } : { composite, ...BOUNDS });
        const row = { name, composite, n, withBatch, ms: performance.now() - t, memory: model.memoryBytes, plan: model.memoryPlan(n) };
        runs.push(row);
        console.log(`${name} ${composite} n=${n}${withBatch ? ` batch ${n}` : ' (no batch option)'}: WASM memory ${mib(row.memory)} MiB, ${row.ms.toFixed(0)} ms`);
        model.dispose();
      }
  for (const composite of sweepComposites) {
    const model = await loadModel(bytes);
    for (const n of sweepSizes) {
      const x = pixels(n * model.inputSize);
      const chunk = model.live().fitBatch(Math.min(n, 32), model.memoryLimit); // what a call without `batch` runs
      const t = performance.now();
      const e = model.explain(x, { composite, ...BOUNDS });
      const ms = performance.now() - t;
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(e.sums.input[i] - e.sums.start[i]) / Math.max(1e-12, Math.abs(e.sums.start[i])));
      const row = { name, composite, n, chunk, ms, memory: model.memoryBytes, plan: model.memoryPlan(chunk), finite: e.relevance.every(Number.isFinite), worst };
      sweep.push(row);
      console.log(`${name} ${composite} n=${n} (chunk ${chunk}): WASM memory ${mib(row.memory)} MiB, cached ${mib(row.plan.modifiedParameters)} MiB, recomputed ${mib(row.plan.recomputedParameters)} MiB, ${ms.toFixed(0)} ms`);
    }
    model.dispose();
  }
}
if (out) {
  const lines = [
    '# Memory: lrp-wasm at ImageNet size',
    '',
    `Written by \`npm run bench:memory\` (bench/memory.mjs) on ${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}.`,
    'torchvision models with random weights, 224×224 (scripts/export-architectures.py --full). MiB = 2^20 bytes.',
    'Inputs uniform in [-2.1, 2.3], like ImageNet-normalised pixels (with negatives: the first conv splits its input into x⁺ and x⁻).',
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
    '## Every composite without a batch option (memoryLimit 2 GiB, the default)',
    '',
    'One fresh model per composite, explaining 1, then 8, then 32 samples with no `batch` option: each call runs the largest',
    'chunk whose workspace fits in the memory limit next to the parameters and one modified copy. Linear memory only grows, so',
    'the figure after 32 samples is the peak. "bytes/sample" is the workspace (activations + relevance + scratch) per sample of',
    'the chunk. "recomputed": modified parameter sets computed per rule step and freed, because caching them would have',
    'passed the limit. "conservation": worst |input sum − start sum| / |start sum| over the samples (ReLU nets with biases do',
    'not conserve exactly; the figure shows the numbers are sane, not a test).',
    '',
    '| model | composite | samples | chunk | WASM memory (MiB) | cached modified (MiB) | recomputed (MiB) | bytes/sample (MiB) | finite | conservation | ms/sample (indicative) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|',
    ...sweep.map((r) => `| ${r.name} | ${r.composite} | ${r.n} | ${r.chunk} | ${mib(r.memory)} | ${mib(r.plan.modifiedParameters)} | ${mib(r.plan.recomputedParameters)} | ${((r.plan.activations + r.plan.relevance + r.plan.scratch) / r.chunk / 2 ** 20).toFixed(1)} | ${r.finite ? 'yes' : 'NO'} | ${r.worst.toExponential(1)} | ${(r.ms / r.n).toFixed(0)} |`),
    '',
  ];
  fs.writeFileSync(out, lines.join('\n'));
  console.log(`wrote ${path.relative(ROOT, out)}`);
}
