// Both cores inside one call (issue 12): VGG16 and ResNet50 at 3×224×224, batch 1 and 8, predict and explain
// (epsilon-plus) on 1 and 2 kernel threads (loadModel's { threads }), with onnxruntime-web's forward on 1 and 2
// threads (its numThreads) as the anchor, medians of interleaved runs, all in one run.
//
//   npm run bench:threads                       # models from /work/arch-full/*.onnx if there, else generated
//   node bench/threads.mjs --dir DIR            # DIR/vgg16.onnx, DIR/resnet50.onnx
//   node bench/threads.mjs --generate           # always the generated models (bench/imagenet-models.mjs)
//   node bench/threads.mjs --batches 1 --runs 3 --out -    # quicker, print only
//
// onnxruntime-web fixes its thread count when its WASM module starts, so each thread count runs in a child
// process of this script (--ort-child). The machine's load average is recorded with the results: the ratios of
// one run are what to read, the absolute times are this machine's at that moment.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { measureInterleaved } from './timing.mjs';
import { uniform } from './models.mjs';
import { makeResnet50Onnx, makeVgg16Onnx } from './imagenet-models.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};

const MODELS = { vgg16: makeVgg16Onnx, resnet50: makeResnet50Onnx };
const SIZE = 224;
const INPUT = 3 * SIZE * SIZE;

if (args[0] === '--ort-child') await ortChild();
else await main();

/** Child: onnxruntime-web forward on `threads` threads; prints { batch: seconds (median) } as JSON. */
async function ortChild() {
  const [, file, threads, batches, runs] = args;
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = Number(threads);
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(fs.readFileSync(file), {
    executionProviders: ['wasm'], graphOptimizationLevel: 'all', executionMode: 'sequential', intraOpNumThreads: Number(threads),
  });
  const out = {};
  const cands = batches.split(',').map(Number).map((n) => {
    const x = new ort.Tensor('float32', uniform(n * INPUT, 7 + n), [n, 3, SIZE, SIZE]);
    return { n, fn: () => session.run({ [session.inputNames[0]]: x }) };
  });
  await measureInterleaved(cands, { warmup: 1, minRuns: Number(runs), maxRuns: Number(runs), floorRuns: Number(runs), minTime: 0, maxTime: 0 });
  for (const c of cands) out[c.n] = c.stats?.median ?? null;
  console.log(JSON.stringify(out));
  process.exit(0); // ORT's worker threads would keep the child alive
}

async function main() {
  const dir = opt('dir', '/work/arch-full');
  const generate = args.includes('--generate');
  const batches = opt('batches', '1,8').split(',').map(Number);
  const runs = Number(opt('runs', '5'));
  const outFile = opt('out', path.join(ROOT, 'bench/RESULTS-threads.md'));
  const names = opt('models', 'vgg16,resnet50').split(',');
  const { loadModel } = await import(path.join(ROOT, 'dist/index.js'));

  const load0 = os.loadavg();
  const rows = [];
  const notes = [];
  for (const name of names) {
    const file = path.join(dir, `${name}.onnx`);
    const exported = !generate && fs.existsSync(file);
    const bytes = exported ? new Uint8Array(fs.readFileSync(file)) : MODELS[name]();
    const source = exported ? file : `generated (bench/imagenet-models.mjs, ${(bytes.length / 2 ** 20).toFixed(0)} MiB)`;
    const onnxFile = exported ? file : path.join(os.tmpdir(), `lrp-bench-${name}-${process.pid}.onnx`);
    if (!exported) fs.writeFileSync(onnxFile, bytes);
    console.log(`${name}: ${source}`);

    // onnxruntime-web first (its own processes), then ours
    const ort = {};
    for (const t of [1, 2]) {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--ort-child', onnxFile, String(t), batches.join(','), String(runs)], { encoding: 'utf8', maxBuffer: 1 << 20 });
      ort[t] = r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()) : null;
      if (!ort[t]) notes.push(`onnxruntime-web on ${t} thread(s) failed for ${name}: ${r.stderr.split('\n').slice(0, 3).join(' ')}`);
    }
    if (!exported) fs.rmSync(onnxFile, { force: true });

    const m1 = await loadModel(bytes, { threads: 1 });
    const m2 = await loadModel(bytes, { threads: 2 });
    if (m2.threads.count !== 2) notes.push(`${name}: threads 2 not available (${m2.threads.reason})`);
    for (const n of batches) {
      const x = uniform(n * INPUT, 11 + n);
      const eOpts = { composite: 'epsilon-plus', batch: n, checkRange: false };
      const pOpts = { batch: n, checkRange: false };
      // the two thread counts must agree bit for bit (checked once per batch, outside the timing)
      const r1 = m1.explain(x, eOpts).relevance, r2 = m2.explain(x, eOpts).relevance;
      const same = r1.length === r2.length && Buffer.compare(Buffer.from(r1.buffer, r1.byteOffset, r1.byteLength), Buffer.from(r2.buffer, r2.byteOffset, r2.byteLength)) === 0;
      if (!same) notes.push(`${name} batch ${n}: relevance on 2 threads differs from 1 thread`);
      const cands = [
        { key: 'p1', fn: () => m1.predict(x, pOpts) },
        { key: 'p2', fn: () => m2.predict(x, pOpts) },
        { key: 'e1', fn: () => m1.explain(x, eOpts) },
        { key: 'e2', fn: () => m2.explain(x, eOpts) },
      ];
      await measureInterleaved(cands, { warmup: 1, minRuns: runs, maxRuns: runs, floorRuns: runs, minTime: 0, maxTime: 0 });
      const t = Object.fromEntries(cands.map((c) => [c.key, c.stats.median]));
      rows.push({ name, n, ...t, o1: ort[1]?.[n] ?? null, o2: ort[2]?.[n] ?? null, same });
      console.log(`  batch ${n}: predict ${t.p1.toFixed(3)} / ${t.p2.toFixed(3)} s, explain ${t.e1.toFixed(3)} / ${t.e2.toFixed(3)} s (1 / 2 threads); ORT ${ort[1]?.[n]?.toFixed(3)} / ${ort[2]?.[n]?.toFixed(3)} s; bitwise equal: ${same}`);
    }
    m1.dispose();
    m2.dispose();
  }
  const load1 = os.loadavg();
  const md = report(rows, notes, { load0, load1, runs, backend: 'wasm' });
  if (outFile === '-') console.log(md);
  else {
    fs.writeFileSync(outFile, md);
    console.log(`wrote ${path.relative(ROOT, outFile)}`);
  }
}

function report(rows, notes, { load0, load1, runs }) {
  const s = (v) => (v == null ? '–' : `${v.toFixed(3)} s`);
  const x = (a, b) => (a == null || b == null ? '–' : `${(a / b).toFixed(2)}×`);
  const lines = [
    '# Threads: both cores inside one call',
    '',
    `\`npm run bench:threads\` (bench/threads.mjs), ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}).`,
    `Median of ${runs} interleaved runs per cell; epsilon-plus; inputs uniform in [0, 1). onnxruntime-web: wasm EP, \`numThreads\` 1 and 2, in child processes of the same run.`,
    `Load average at start ${load0.map((v) => v.toFixed(1)).join(' / ')}, at end ${load1.map((v) => v.toFixed(1)).join(' / ')} (1/5/15 min; 2 cores: other builds and tests were running, so read the ratios, not the absolute times).`,
    '',
    '| model | batch | predict 1 thr | predict 2 thr | speed-up | explain 1 thr | explain 2 thr | speed-up | ORT fwd 1 thr | ORT fwd 2 thr | explain / ORT fwd (1 thr) | explain / ORT fwd (2 thr) | 2 thr = 1 thr bitwise |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.n} | ${s(r.p1)} | ${s(r.p2)} | ${x(r.p1, r.p2)} | ${s(r.e1)} | ${s(r.e2)} | ${x(r.e1, r.e2)} | ${s(r.o1)} | ${s(r.o2)} | ${x(r.e1, r.o1)} | ${x(r.e2, r.o2)} | ${r.same ? 'yes' : 'NO'} |`),
    '',
    '## Issue 12 targets (batch 1)',
    '',
  ];
  const at = (name, n) => rows.find((r) => r.name === name && r.n === n);
  const check = (label, ok, detail) => lines.push(`- ${label}: ${ok == null ? 'not measured' : ok ? 'met' : 'NOT met'} (${detail})`);
  const v = at('vgg16', 1), r = at('resnet50', 1);
  if (v) {
    check('VGG16 explain ≤ 1.0 s on both cores', v.e2 <= 1.0, `${s(v.e2)}`);
    check('VGG16 explain ≤ 1.8 s on one core', v.e1 <= 1.8, `${s(v.e1)}`);
    check('VGG16 explain / ORT forward ≤ 2.0 (same threads)', v.o2 != null ? v.e2 / v.o2 <= 2 : null, `1 thread ${x(v.e1, v.o1)}, 2 threads ${x(v.e2, v.o2)}`);
  }
  if (r) {
    check('ResNet50 explain ≤ 0.4 s on both cores', r.e2 <= 0.4, `${s(r.e2)}`);
    check('ResNet50 explain / ORT forward ≤ 2.0 (same threads)', r.o2 != null ? r.e2 / r.o2 <= 2 : null, `1 thread ${x(r.e1, r.o1)}, 2 threads ${x(r.e2, r.o2)}`);
  }
  lines.push('', 'The absolute-time targets were set on an idle machine; under the load recorded above they are not a fair test, the speed-up columns are.');
  if (notes.length) lines.push('', '## Notes', '', ...notes.map((n) => `- ${n}`));
  return lines.join('\n') + '\n';
}
