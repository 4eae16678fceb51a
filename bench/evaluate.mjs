// Region perturbation speed: `evaluate` on Fashion-MNIST test images (the bundled TF.js model), several methods,
// MoRF and LeRF; images/s, the share of time in model.predict vs bookkeeping (ranking, perturbed copies, scores),
// and, as the peer in the same run, model.predict alone on the same number of copies at the same batch size.
//
//   npm run bench:evaluate                    # build, then this script; writes bench/EVALUATE.md
//   node bench/evaluate.mjs [options]         # after `npm run build`
//
// Options: --images 1000  --steps 50  --patch 2  --methods epsilon-plus,epsilon-gamma-box,gradient,random
//          --batch 32  --chunk 100  --data-dir /usr/share/datasets/fashion-mnist  --out bench/EVALUATE.md | --no-write
// Each method's images are evaluated in chunks of --chunk images (one evaluate() call each), every chunk followed by
// the peer on the same number of copies; ratios and shares are medians over the chunks.
// The images come from Debian's dataset-fashion-mnist (apt-get install -y dataset-fashion-mnist).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readIdx } from '../scripts/fashion-mnist/idx.mjs';
import { attributionsFor, evaluate, loadModel, parseMethod } from '../dist/index.js';

import { argv, HERE, opt, ROOT } from './args.mjs';
const cfg = {
  images: Number(opt('images', 1000)),
  steps: Number(opt('steps', 50)),
  patch: Number(opt('patch', 2)),
  methods: opt('methods', 'epsilon-plus,epsilon-gamma-box,gradient,random').split(','),
  batch: Number(opt('batch', 32)),
  chunk: Number(opt('chunk', 100)),
  dataDir: opt('data-dir', '/usr/share/datasets/fashion-mnist'),
  out: argv.includes('--no-write') ? null : path.resolve(opt('out', path.join(HERE, 'EVALUATE.md'))),
};

const images = readIdx(path.join(cfg.dataDir, 't10k-images-idx3-ubyte.gz'));
const x = Float32Array.from(images.data.subarray(0, cfg.images * 784), (v) => v / 255);
const model = await loadModel(path.join(ROOT, 'models/fashion-mnist/tfjs/model.json'));
const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const now = () => performance.now();

// attributions once per method (not timed here: that is explain's and attribute's own bench)
const methods = cfg.methods.map((m) => {
  const method = parseMethod(m);
  const { attributions, targets } = attributionsFor(model, x, method, { low: 0, high: 1 });
  return { label: method.label, attributions, targets };
});
const evalOpts = { patch: cfg.patch, steps: cfg.steps, order: ['morf', 'lerf'], batch: cfg.batch };
const copies = cfg.images * 2 * (cfg.steps + 1);
const chunkImages = Math.min(cfg.chunk, cfg.images);

// the peer: predict alone over the same number of copies (a buffer of perturbed-like copies, reused)
const chunkCopies = 2 * (cfg.steps + 1) * 16;
const chunk = new Float32Array(chunkCopies * 784);
for (let i = 0; i < chunk.length; i++) chunk[i] = x[i % x.length];
function predictOnly(images) {
  const total = images * 2 * (cfg.steps + 1);
  const t = now();
  for (let done = 0; done < total; done += chunkCopies) model.predict(chunk.subarray(0, Math.min(chunkCopies, total - done) * 784), { batch: cfg.batch });
  return now() - t;
}

const loadBefore = os.loadavg()[0];
const rows = [];
console.log(`evaluate: ${cfg.images} images x ${cfg.steps} steps x MoRF+LeRF (${copies} forward passes per method), patch ${cfg.patch}, batch ${cfg.batch}, chunks of ${chunkImages}`);
evaluate(model, x.subarray(0, 8 * 784), methods[0].attributions.subarray(0, 8 * 784), evalOpts); // warm-up
for (const m of methods) {
  // interleaved: each chunk's evaluate and a predict-only pass of the same size alternate, so load changes hit both alike
  for (let s0 = 0; s0 < cfg.images; s0 += chunkImages) {
    const k = Math.min(chunkImages, cfg.images - s0);
    const r = evaluate(model, x.subarray(s0 * 784, (s0 + k) * 784), m.attributions.subarray(s0 * 784, (s0 + k) * 784), { ...evalOpts, target: m.targets.subarray(s0, s0 + k) });
    const peer = predictOnly(k);
    rows.push({ method: m.label, images: k, totalMs: r.timing.totalMs, predictMs: r.timing.predictMs, peerMs: peer });
  }
  const r = rows.filter((row) => row.method === m.label);
  const total = r.reduce((a, row) => a + row.totalMs, 0);
  console.log(`  ${m.label.padEnd(20)} ${(cfg.images / (total / 1000)).toFixed(1)} images/s`);
}

const lines = [
  '# Region perturbation speed (`bench/evaluate.mjs`)',
  '',
  `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} (${os.cpus().length} cores, one thread used), backend ${model.backendName};`,
  `load average ${loadBefore.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end (other processes slow down both evaluate and its peer).`,
  `Workload: the first ${cfg.images} Fashion-MNIST test images, bundled TF.js CNN, ${cfg.patch}x${cfg.patch} patches (${Math.ceil(28 / cfg.patch) ** 2} regions), ${cfg.steps} steps, MoRF and LeRF, constant 0 replacement,`,
  `batch ${cfg.batch}: ${copies} forward passes per method, evaluated in chunks of ${chunkImages} images; attributions computed once beforehand, not timed.`,
  `"predict-only" is the peer measured in the same run, interleaved chunk by chunk: model.predict over the same number of copies at the same`,
  `batch size. images/s is over the whole method; the shares and the ratio are medians over the chunks.`,
  '',
  '| method | images/s | evaluate s | in predict | bookkeeping | evaluate / predict-only |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
];
for (const m of methods) {
  const r = rows.filter((row) => row.method === m.label);
  const total = r.reduce((a, row) => a + row.totalMs, 0);
  const share = median(r.map((row) => row.predictMs / row.totalMs));
  const ratio = median(r.map((row) => row.totalMs / row.peerMs));
  lines.push(`| ${m.label} | ${(cfg.images / (total / 1000)).toFixed(1)} | ${(total / 1000).toFixed(1)} | ${(100 * share).toFixed(1)} % | ${(100 * (1 - share)).toFixed(1)} % | ${ratio.toFixed(3)} |`);
}
const all = rows.map((row) => (row.totalMs - row.predictMs) / row.totalMs);
lines.push('', `Bookkeeping share over all chunks of all methods: median ${(100 * median(all)).toFixed(1)} %, max ${(100 * Math.max(...all)).toFixed(1)} %.`, '');
const report = lines.join('\n');
console.log(`\n${report}`);
if (cfg.out) fs.writeFileSync(cfg.out, report);
model.dispose();
