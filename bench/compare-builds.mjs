// This build against another one (an earlier commit) on the ImageNet-size models: predict and explain
// timed round-robin in one process, so that load from elsewhere on the machine hits both builds alike; the
// ratio baseline / this build is the figure to quote (absolute times are this machine's of the moment).
//
//   git worktree add /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules && (cd /tmp/base && npm run build)
//   node bench/compare-builds.mjs --baseline /tmp/base [--dir /work/arch-full] [--models vgg16,resnet50]
//        [--calls predict,epsilon-plus] [--threads 1] [--winograd auto] [--rounds 7]
//
// --baseline is the other build's repository root (its dist/ and package.json); the models are the ONNX files
// of scripts/export-architectures.py --full in --dir (exported first when missing).
//
//   node bench/compare-builds.mjs --backends wasm-simd,wasm [--models …] [--calls …] [--threads 1]
//
// compares two kernel builds of this checkout instead (loadModel's `backend`, the first one as the baseline):
// wasm-simd against wasm (relaxed SIMD, the default where the runtime has it, Node 20 included) measures what
// relaxed SIMD's fused multiply-add gives.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { exportedOnnx } from './models.mjs';
import { argv, opt, ROOT } from './args.mjs';

const baseline = opt('baseline', null);
const backends = opt('backends', null)?.split(',');
if (!baseline === !backends || (backends && backends.length !== 2)) {
  console.error('usage: node bench/compare-builds.mjs (--baseline DIR | --backends BASE,OTHER) [--models …] [--calls …] (see the comment at the top)');
  process.exit(2);
}
const dir = path.resolve(opt('dir', path.join(os.tmpdir(), 'lrp-arch-full')));
const models = opt('models', 'vgg16,resnet50').split(',');
const calls = opt('calls', 'predict,epsilon-plus').split(',');
const threads = Number(opt('threads', '1'));
const winograd = opt('winograd', 'auto');
const rounds = Number(opt('rounds', '7'));
const builds = backends
  ? [
      { name: backends[1], root: ROOT, backend: backends[1] },
      { name: backends[0], root: ROOT, backend: backends[0] },
    ]
  : [
      { name: 'this build', root: ROOT },
      { name: 'baseline', root: path.resolve(baseline) },
    ];
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];

for (const b of builds) b.lib = await import(pathToFileURL(path.join(b.root, 'dist/index.js')).href);
console.log(`threads ${threads}, winograd ${winograd}, ${rounds} interleaved rounds after one warm-up call; medians in ms; ${argv.join(' ')}`);
console.log(`| model | call | ${builds[0].name} | ${builds[1].name} | ${builds[1].name} / ${builds[0].name} |`);
console.log('|---|---|---:|---:|---:|');
for (const name of models) {
  const bytes = new Uint8Array(fs.readFileSync(exportedOnnx(name, { dir, script: 'export-architectures.py', only: true })));
  const loaded = [];
  for (const b of builds) loaded.push(await b.lib.loadModel(bytes, { threads, winograd, backend: b.backend }));
  if (backends) console.log(`(kernels: ${loaded.map((m) => m.backendName).join(', ')})`);
  const x = new Float32Array(loaded[0].inputSize);
  for (let i = 0; i < x.length; i++) x[i] = (((i * 2654435761) % 1000) / 1000) * 4.4 - 2.1;
  for (const call of calls) {
    const run = (m) => (call === 'predict' ? m.predict(x, { batch: 1 }) : m.explain(x, { composite: call, batch: 1, low: -3, high: 3 }));
    for (const m of loaded) run(m);
    const times = loaded.map(() => []);
    for (let r = 0; r < rounds; r++)
      loaded.forEach((m, i) => {
        const t0 = performance.now();
        run(m);
        times[i].push(performance.now() - t0);
      });
    const [mine, base] = times.map(median);
    console.log(`| ${name} | ${call} | ${mine.toFixed(0)} | ${base.toFixed(0)} | ${(base / mine).toFixed(2)} |`);
  }
  for (const m of loaded) m.dispose();
}
