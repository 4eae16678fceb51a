// ImageNet-size speed (the speed issue): VGG16 and ResNet50 at 224×224, batch 1 and 8. lrp-wasm predict and explain
// (epsilon-plus, epsilon-gamma-box) on one thread and on every thread the machine offers, against onnxruntime-web's
// forward pass at the same thread counts (one process, sessions with intraOpNumThreads 1 and 2, interleaved runs),
// and, when Debian's python3-torch is installed, PyTorch's own forward and input gradient (bench/torch-anchor.py,
// run after the WebAssembly candidates in the same invocation). The targets of the issue are checked in a table.
//
//   npm run bench:imagenet                # → bench/RESULTS-imagenet.md
//   node bench/imagenet.mjs [--dir D] [--models vgg16,resnet50] [--batches 1,8] [--quick] [--no-torch] [--no-write]
//
// The ONNX files come from `scripts/export-architectures.py --full DIR` (exported first when DIR lacks them).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { exportedOnnx } from './models.mjs';
import { measureInterleaved } from './timing.mjs';

import { argv, HERE, opt, ROOT } from './args.mjs';
const quick = argv.includes('--quick');
const dir = path.resolve(opt('dir', path.join(os.tmpdir(), 'lrp-arch-full')));
const models = opt('models', 'vgg16,resnet50').split(',');
const batches = opt('batches', '1,8').split(',').map(Number);
const out = argv.includes('--no-write') ? null : path.join(HERE, 'RESULTS-imagenet.md');
const cfg = { warmup: 1, minRuns: quick ? 3 : 7, floorRuns: 3, maxRuns: quick ? 5 : 30, minTime: quick ? 0.5 : 3, maxTime: quick ? 8 : 40 };
const BOUNDS = { low: -3, high: 3 }; // zbox on ImageNet-normalised pixels
const ms = (s) => (s ? (s.median * 1000).toFixed(0) : 'n/a');

async function main() {
  const { loadModel } = await import(path.join(ROOT, 'dist/index.js'));
  const ort = await import('onnxruntime-web');
  const cores = Math.max(1, Math.min(2, os.availableParallelism?.() ?? os.cpus().length));
  ort.env.wasm.numThreads = cores;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  const load0 = os.loadavg();
  const t0 = Date.now();
  const rows = [];
  let threadsInfo = 'one thread only (this build has no threads option)';
  for (const name of models) {
    const bytes = new Uint8Array(fs.readFileSync(exportedOnnx(name, { dir, script: 'export-architectures.py', only: true })));
    const threadCounts = [...new Set([1, cores])];
    const lrp = {};
    for (const t of threadCounts) {
      const m = await loadModel(bytes, { threads: t });
      if (t > 1 && m.threads?.count !== t) {
        console.log(`lrp-wasm: ${t} threads asked, ${m.threads?.count ?? 1} given (${m.threads?.reason ?? 'no threads option'})`);
        m.dispose();
      } else lrp[t] = m;
    }
    threadsInfo = `lrp-wasm kernel threads: ${Object.keys(lrp).join(' and ')}`;
    const sessions = {};
    for (const t of threadCounts)
      sessions[t] = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', executionMode: 'sequential', intraOpNumThreads: t, interOpNumThreads: 1 });
    const per = lrp[1].inputSize;
    for (const n of batches) {
      const x = new Float32Array(n * per);
      for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 1000) / 1000 * 4.4 - 2.1;
      const cands = [];
      for (const t of threadCounts) {
        const s = sessions[t];
        const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', x, [n, ...lrp[1].inputShape]) };
        cands.push({ name: `ort:${t}`, fn: () => s.run(feeds) });
        const m = lrp[t];
        if (!m) continue;
        cands.push({ name: `predict:${t}`, fn: () => m.predict(x, { batch: n }) });
        cands.push({ name: `explain:${t}`, fn: () => m.explain(x, { composite: 'epsilon-plus', batch: n }) });
        cands.push({ name: `egb:${t}`, fn: () => m.explain(x, { composite: 'epsilon-gamma-box', batch: n, ...BOUNDS }) });
      }
      await measureInterleaved(cands, cfg);
      const stats = Object.fromEntries(cands.map((c) => [c.name, c.stats]));
      for (const c of cands) if (c.error) console.error(`${name} batch ${n} ${c.name}: ${c.error.message}`);
      const row = { name, n, stats, threads: threadCounts.filter((t) => lrp[t]) };
      rows.push(row);
      console.log(`${name} batch ${n}: ${cands.map((c) => `${c.name} ${ms(c.stats)} ms`).join(', ')}`);
    }
    for (const m of Object.values(lrp)) m.dispose();
    for (const s of Object.values(sessions)) await s.release();
  }
  const t1 = Date.now();
  const load1 = os.loadavg();

  // the native anchor, when torch is there
  let torch = null;
  if (!argv.includes('--no-torch')) {
    const r = spawnSync('/usr/bin/python3', [path.join(HERE, 'torch-anchor.py'), '--models', models.join(','), '--batches', batches.join(','), '--threads', [...new Set([1, cores])].join(','), '--runs', quick ? '3' : '7'], { encoding: 'utf8' });
    if (r.status === 0) torch = JSON.parse(r.stdout.trim().split('\n').pop());
    else console.log(`no PyTorch anchor (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`);
  }
  const torchOf = (name, n, t) => torch?.results.find((e) => e.model === name && e.batch === n && e.threads === t) ?? null;

  for (const r of rows) console.log(JSON.stringify({ name: r.name, n: r.n, medians: Object.fromEntries(Object.entries(r.stats).map(([k, s]) => [k, s?.median])) }));
  if (!out) return;

  const div = (a, b) => (a && b ? a.median / b.median : null);
  const ratio = (a, b) => div(a, b)?.toFixed(2) ?? 'n/a';
  const lines = [
    '# ImageNet-size speed: lrp-wasm vs onnxruntime-web (and PyTorch)',
    '',
    `Written by \`npm run bench:imagenet\` (bench/imagenet.mjs) on ${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}${quick ? ', with `--quick` (3 to 5 runs per figure, indicative only)' : ''}.`,
    `torchvision models with random weights, 224×224 (scripts/export-architectures.py --full). Inputs uniform in [-2.1, 2.3].`,
    `onnxruntime-web wasm EP, all graph optimisations, sessions with intraOpNumThreads 1 and ${cores}. ${threadsInfo}.`,
    `Medians of interleaved runs (ms). Load average (1 min) ${load0[0].toFixed(2)} at start, ${load1[0].toFixed(2)} at end; ${((t1 - t0) / 1000).toFixed(0)} s.`,
    '',
    '| model | batch | threads | ort fwd | lrp predict | predict / ort | explain epsilon-plus | explain / ort | explain / predict | epsilon-gamma-box | egb / eps-plus | torch fwd | torch fwd+grad | explain / torch fwd+grad |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows)
    for (const t of [...new Set([1, cores])]) {
      const s = (k) => r.stats[`${k}:${t}`] ?? null;
      const tt = torchOf(r.name, r.n, t);
      const g = tt ? { median: tt.gradient_s } : null;
      lines.push(
        `| ${r.name} | ${r.n} | ${t} | ${ms(s('ort'))} | ${ms(s('predict'))} | ${ratio(s('predict'), s('ort'))} | ${ms(s('explain'))} | ${ratio(s('explain'), s('ort'))} | ${ratio(s('explain'), s('predict'))} | ${ms(s('egb'))} | ${ratio(s('egb'), s('explain'))} | ${tt ? (tt.forward_s * 1000).toFixed(0) : 'n/a'} | ${tt ? (tt.gradient_s * 1000).toFixed(0) : 'n/a'} | ${ratio(s('explain'), g)} |`,
      );
    }
  // the issue's targets, as far as this run measured them
  const at = (name, n, key, t) => rows.find((r) => r.name === name && r.n === n)?.stats[`${key}:${t}`] ?? null;
  const check = (label, v, limit, unit) => `| ${label} | ${v === null || Number.isNaN(v) ? 'n/a' : unit === 's' ? `${v.toFixed(2)} s` : v.toFixed(2)} | ≤ ${limit}${unit === 's' ? ' s' : ''} | ${v === null || Number.isNaN(v) ? 'not measured' : v <= limit ? 'met' : 'NOT met'} |`;
  const sec = (s) => (s ? s.median : null);
  lines.push('', '## Targets', '', '| target | measured | limit | |', '|---|---:|---:|---|');
  if (models.includes('vgg16') && batches.includes(1)) {
    lines.push(check(`VGG16 b1 explain epsilon-plus, ${cores} threads`, sec(at('vgg16', 1, 'explain', cores)), 1.0, 's'));
    lines.push(check('VGG16 b1 explain epsilon-plus, 1 thread', sec(at('vgg16', 1, 'explain', 1)), 1.8, 's'));
    for (const t of [...new Set([1, cores])]) lines.push(check(`VGG16 b1 explain / ort fwd, ${t} thread(s)`, div(at('vgg16', 1, 'explain', t), at('vgg16', 1, 'ort', t)), 2.0, ''));
  }
  if (models.includes('resnet50') && batches.includes(1)) {
    lines.push(check(`ResNet50 b1 explain epsilon-plus, ${cores} threads`, sec(at('resnet50', 1, 'explain', cores)), 0.4, 's'));
    for (const t of [...new Set([1, cores])]) lines.push(check(`ResNet50 b1 explain / ort fwd, ${t} thread(s)`, div(at('resnet50', 1, 'explain', t), at('resnet50', 1, 'ort', t)), 2.0, ''));
  }
  for (const r of rows) for (const t of [...new Set([1, cores])]) lines.push(check(`${r.name} b${r.n} epsilon-gamma-box / epsilon-plus, ${t} thread(s)`, div(r.stats[`egb:${t}`], r.stats[`explain:${t}`]), 1.15, ''));
  lines.push('', '"explain / predict": an epsilon-plus explain runs, per conv layer, the forward, the z⁺ forward (W⁺) and the transposed product, each as large as the forward: three products where `predict` runs one. explain / ort = (explain / predict) × (predict / ort), so where `predict` is about as fast as onnxruntime-web (ResNet50 on one thread: its 1×1 convolutions are plain GEMMs at the kernel\'s peak, with no fast algorithm) explain / ort stays near this ratio.');
  lines.push('', torch ? `PyTorch ${torch.torch} (bench/torch-anchor.py): medians of its own runs, after the WebAssembly candidates, torch.set_num_threads(1 and ${cores}); "fwd+grad" is the input gradient by autograd (a forward and a backward pass), the floor of what Zennit costs (its rules are backward hooks on the same passes).` : 'No PyTorch anchor in this run (/usr/bin/python3 without torch, or --no-torch).', '');
  fs.writeFileSync(out, lines.join('\n'));
  console.log(`wrote ${path.relative(ROOT, out)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
