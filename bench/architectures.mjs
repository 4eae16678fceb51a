// Bench of the deployed architectures: lrp-wasm predict and explain against onnxruntime-web's forward pass on the
// same ONNX file, same batch, in one run, single-threaded. Medians of interleaved runs.
//
//   npm run bench:arch          # MobileNetV2, EfficientNet-B0 (224×224), epsilon-plus → bench/RESULTS-architectures.md
//   npm run bench:transformers  # the bundled Fashion-MNIST ViT and vit_b_16 (224×224), attnlrp → bench/RESULTS-transformers.md
//   node bench/architectures.mjs [--set cnn|transformers] [--dir D] [--models a,b] [--batches 1,8] [--composite C]
//                                [--quick] [--no-write]
//
// The torchvision ONNX files come from `scripts/export-architectures.py --full DIR` (CNNs) or
// `scripts/export-transformers.py --full DIR` (vit_b_16, convnext_tiny), with Debian's python3-torch and
// python3-torchvision; when DIR lacks a model and /usr/bin/python3 has torch, the script exports it first. A model
// name that is a folder of models/ (e.g. fashion-mnist-vit) is read from there.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportedOnnx } from './models.mjs';
import { initOrt, ortSession } from './peers.mjs';
import { measureInterleaved } from './timing.mjs';

import { argv, HERE, opt, ROOT } from './args.mjs';
const quick = argv.includes('--quick');
const SETS = {
  cnn: { models: 'mobilenet_v2,efficientnet_b0', composite: 'epsilon-plus', script: 'export-architectures.py', only: true, dir: 'lrp-arch-full', results: 'RESULTS-architectures.md', title: 'Deployed architectures' },
  transformers: { models: 'fashion-mnist-vit,vit_b_16', composite: 'attnlrp', script: 'export-transformers.py', dir: 'lrp-transformers-full', results: 'RESULTS-transformers.md', title: 'Transformers' },
};
const set = SETS[opt('set', 'cnn')];
if (!set) {
  console.error(`bench: --set is one of ${Object.keys(SETS).join(', ')}`);
  process.exit(2);
}
const dir = path.resolve(opt('dir', path.join(os.tmpdir(), set.dir)));
const models = opt('models', set.models).split(',');
const batches = opt('batches', '1,8').split(',').map(Number);
const composite = opt('composite', set.composite);
const cfg = { warmup: quick ? 1 : 2, minRuns: quick ? 3 : 20, floorRuns: quick ? 3 : 20, maxRuns: quick ? 5 : 100, minTime: quick ? 0.1 : 1, maxTime: quick ? 2 : 30 };
const out = argv.includes('--no-write') ? null : path.join(HERE, set.results);

const ms = (s) => (s.median * 1000).toFixed(s.median < 0.1 ? 1 : 0);

async function main() {
  const { loadModel } = await import(path.join(ROOT, 'dist/index.js'));
  const ort = await initOrt();
  const rows = [];
  for (const name of models) {
    const bytes = new Uint8Array(fs.readFileSync(exportedOnnx(name, { dir, script: set.script, only: set.only })));
    const model = await loadModel(bytes);
    const session = await ortSession(ort, bytes);
    const per = model.inputSize;
    for (const n of batches) {
      const x = new Float32Array(n * per);
      for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 1000) / 1000;
      const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x, [n, ...model.inputShape]) };
      // same answer first
      const want = (await session.run(feeds))[session.outputNames[0]].data;
      const got = model.predict(x);
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < got.length; i++) {
        diff = Math.max(diff, Math.abs(got[i] - want[i]));
        scale = Math.max(scale, Math.abs(want[i]));
      }
      const cands = [
        { name: 'ort', fn: () => session.run(feeds) },
        { name: 'predict', fn: () => model.predict(x) },
        { name: 'explain', fn: () => model.explain(x, { composite }) },
      ];
      await measureInterleaved(cands, cfg);
      const [o, p, e] = cands.map((c) => c.stats);
      const row = { name, n, ort: o, predict: p, explain: e, rel: diff / scale, memory: model.memoryBytes };
      rows.push(row);
      console.log(`${name} batch ${n}: ort ${ms(o)} ms, predict ${ms(p)} ms (${(p.median / o.median).toFixed(2)}×), explain ${ms(e)} ms (${(e.median / o.median).toFixed(2)}×), logits within ${row.rel.toExponential(1)}, runs ${o.runs}/${p.runs}/${e.runs}`);
    }
    await session.release();
    model.dispose();
  }
  if (!out) return;
  const lines = [
    `# ${set.title}: lrp-wasm vs onnxruntime-web`,
    '',
    `Written by \`node bench/architectures.mjs --set ${opt('set', 'cnn')}\` on ${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}.`,
    `Models: ${models.join(', ')}; torchvision ones with random weights at 224×224, 1000 classes (scripts/${set.script} --full); bundled ones from models/.`,
    'Single-threaded: onnxruntime-web wasm EP (1 thread, all graph optimisations), lrp-wasm default backend.',
    'Times are medians of interleaved runs; the ratios are against onnxruntime-web\'s forward in the same run.',
    ...(quick ? ['Written with `--quick`: 3 to 5 runs per figure, indicative only.'] : []),
    '',
    `| model | batch | onnxruntime-web fwd (ms) | lrp predict (ms) | predict / ort | lrp explain ${composite} (ms) | explain / ort | logits vs ort | WASM memory (MiB) |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) =>
      `| ${r.name} | ${r.n} | ${ms(r.ort)} | ${ms(r.predict)} | ${(r.predict.median / r.ort.median).toFixed(2)} | ${ms(r.explain)} | ${(r.explain.median / r.ort.median).toFixed(2)} | ${r.rel.toExponential(1)} | ${(r.memory / 2 ** 20).toFixed(0)} |`,
    ),
    '',
  ];
  fs.writeFileSync(out, lines.join('\n'));
  console.log(`wrote ${path.relative(ROOT, out)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
