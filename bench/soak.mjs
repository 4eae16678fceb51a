// Soak test: does memory stay flat under long use? Three phases on the bundled Fashion-MNIST model:
//
//   1. 10,000 explain() calls at mixed batch sizes (1 to 32) and composites, on one model;
//   2. 1,000 load / explain / dispose cycles, rotating ONNX, TF.js and lrp JSON, after 1,000
//      warm-up cycles (RSS climbs to a plateau over the first ~1,250 cycles while V8 and the
//      allocator reach their working size; the warm-up rows are printed and written too);
//   3. parallel models: 500 explain() calls over 2 worker threads, then 50 load / dispose
//      cycles of a 2-worker model (the worker threads must exit after dispose()).
//
// Prints RSS, JS heap and WebAssembly memory every 500 iterations (every 100 in phases 2 and 3,
// which have fewer), each after a forced GC and a pause (array buffers are freed by a background
// sweeper), the growth from the first row to the last, and writes the figures into the notes
// section of bench/RESULTS.md (between <!-- soak --> markers, kept by run.mjs).
//
//   npm run soak                                   # build, then node --expose-gc bench/soak.mjs
//   node --expose-gc bench/soak.mjs --explains 2000 --cycles 200 --parallel 100 --no-write
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSeeds } from '../scripts/fuzz/seeds.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const lib = await import(path.join(ROOT, 'dist', 'index.js'));

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const EXPLAINS = opt('explains', 10_000);
const CYCLES = opt('cycles', 1_000);
const WARM_UP = opt('warm-up', 1_000);
const PARALLEL = opt('parallel', 500);
const PARALLEL_CYCLES = opt('parallel-cycles', 50);
const WRITE = !args.includes('--no-write');
const gc = globalThis.gc ?? (() => {});
if (!globalThis.gc) console.warn('soak: run with node --expose-gc for steadier figures');

const MiB = (b) => b / 2 ** 20;
const threads = () => {
  try {
    return Number(/^Threads:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
};
async function sample(phase, i, wasmBytes) {
  for (let k = 0; k < 3; k++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  const m = process.memoryUsage();
  return { phase, i, rss: MiB(m.rss), heap: MiB(m.heapUsed), external: MiB(m.external + m.arrayBuffers), wasm: wasmBytes === null ? null : MiB(wasmBytes), threads: threads() };
}
const rows = [];
const print = (r) => {
  rows.push(r);
  console.log(`${r.phase.padEnd(9)} ${String(r.i).padStart(6)}  rss ${r.rss.toFixed(1).padStart(7)} MiB  heap ${r.heap.toFixed(1).padStart(6)} MiB  buffers ${r.external.toFixed(1).padStart(7)} MiB  wasm ${r.wasm === null ? '      -' : r.wasm.toFixed(1).padStart(7)} MiB  threads ${r.threads}`);
};

const FASHION = path.join(ROOT, 'models', 'fashion-mnist');
const BATCHES = [1, 2, 3, 4, 8, 16, 32, 5, 12, 24];
const COMPOSITES = [
  { composite: 'epsilon-plus' },
  { composite: 'epsilon-gamma-box', low: 0, high: 1 },
  { composite: 'epsilon-alpha2-beta1' },
  { composite: 'epsilon-plus-flat' },
];
const x = new Float32Array(784 * 32);
for (let i = 0; i < x.length; i++) x[i] = ((i * 7919) % 1000) / 1000;
const t0 = Date.now();

// ---- 1. explains on one model ----------------------------------------------------------------
const model = await lib.loadModel(path.join(FASHION, 'model.onnx'));
for (let i = 0; i < 20; i++) model.explain(x, COMPOSITES[i % 4]); // warm-up: the largest workspace exists
for (let i = 0; i <= EXPLAINS; i++) {
  if (i % 500 === 0 || i === EXPLAINS) print(await sample('explain', i, model.memoryBytes));
  if (i === EXPLAINS) break;
  const n = BATCHES[i % BATCHES.length];
  const r = model.explain(x.subarray(0, n * 784), COMPOSITES[i % COMPOSITES.length]);
  if (r.relevance.length !== n * 784) throw new Error('soak: wrong relevance length');
}
model.dispose();

// ---- 2. load / explain / dispose cycles -------------------------------------------------------
const lrpSeed = loadSeeds().find((s) => s.format === 'lrp-json' && s.name.startsWith('cnn_bn'));
const lrpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lrp-soak-'));
for (const [rel, bytes] of lrpSeed.files) {
  fs.mkdirSync(path.dirname(path.join(lrpDir, rel)), { recursive: true });
  fs.writeFileSync(path.join(lrpDir, rel), bytes);
}
const sources = [path.join(FASHION, 'model.onnx'), path.join(FASHION, 'tfjs', 'model.json'), path.join(lrpDir, 'model.json')];
let lastWasm = null;
async function cycles(phase, count, every) {
  for (let i = 0; i <= count; i++) {
    if (i % every === 0 || i === count) print(await sample(phase, i, lastWasm));
    if (i === count) break;
    const m = await lib.loadModel(sources[i % sources.length]);
    m.explain(x.subarray(0, 2 * 784), COMPOSITES[i % COMPOSITES.length]);
    lastWasm = m.memoryBytes;
    m.dispose();
  }
}
await cycles('warm-up', WARM_UP, 250);
await cycles('load', CYCLES, 100);
fs.rmSync(lrpDir, { recursive: true, force: true });

// ---- 3. parallel models -------------------------------------------------------------------------
const baseThreads = threads();
const pm = await lib.loadModelParallel(path.join(FASHION, 'model.onnx'), { workers: 2 });
for (let i = 0; i < 10; i++) await pm.explain(x, COMPOSITES[i % 4]); // warm-up: each worker's largest workspace exists
for (let i = 0; i <= PARALLEL; i++) {
  if (i % 100 === 0 || i === PARALLEL) print(await sample('parallel', i, null));
  if (i === PARALLEL) break;
  const n = Math.max(2, BATCHES[i % BATCHES.length]);
  const r = await pm.explain(x.subarray(0, n * 784), COMPOSITES[i % COMPOSITES.length]);
  if (r.relevance.length !== n * 784) throw new Error('soak: wrong relevance length (parallel)');
}
await pm.dispose();
for (let i = 0; i <= PARALLEL_CYCLES; i++) {
  if (i % 10 === 0 || i === PARALLEL_CYCLES) {
    await new Promise((r) => setTimeout(r, 200)); // let terminated threads finish exiting
    print(await sample('par-load', i, null));
  }
  if (i === PARALLEL_CYCLES) break;
  const p = await lib.loadModelParallel(path.join(FASHION, 'model.onnx'), { workers: 2 });
  await p.explain(x.subarray(0, 4 * 784));
  await p.dispose();
}
const seconds = (Date.now() - t0) / 1000;

// ---- summary --------------------------------------------------------------------------------------
const phases = ['explain', 'warm-up', 'load', 'parallel', 'par-load'].filter((p) => rows.some((r) => r.phase === p));
const growth = phases.map((p) => {
  const rs = rows.filter((r) => r.phase === p);
  const first = rs[0];
  const last = rs[rs.length - 1];
  const second = rs[Math.min(1, rs.length - 1)];
  return { phase: p, iterations: last.i, rss: last.rss - first.rss, rssAfterFirstStep: last.rss - second.rss, from: second.i, heap: last.heap - first.heap, wasm: first.wasm === null ? null : last.wasm - first.wasm, threads: `${first.threads} → ${last.threads}` };
});
console.log(`\nsoak: ${seconds.toFixed(0)} s; growth from the first row to the last of each phase (and from the second row):`);
for (const g of growth) console.log(`  ${g.phase.padEnd(9)} ${String(g.iterations).padStart(6)} iterations: rss ${sign(g.rss)} MiB (${sign(g.rssAfterFirstStep)} MiB from iteration ${g.from}), heap ${sign(g.heap)} MiB${g.wasm === null ? '' : `, wasm ${sign(g.wasm)} MiB`}, threads ${g.threads}`);
console.log(`  threads before the parallel phase: ${baseThreads}, after the last dispose(): ${rows[rows.length - 1].threads}`);

function sign(v) {
  return `${v >= 0 ? '+' : ''}${v.toFixed(1)}`;
}

if (WRITE) writeResults();

function writeResults() {
  const file = path.join(HERE, 'RESULTS.md');
  const md = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# lrp-wasm benchmark results\n\n## Notes\n\n<!-- notes -->\n';
  const table = (phase) => {
    const rs = rows.filter((r) => r.phase === phase);
    return [
      '| iteration | RSS MiB | JS heap MiB | array buffers MiB | WASM memory MiB | threads |',
      '|---:|---:|---:|---:|---:|---:|',
      ...rs.map((r) => `| ${r.i} | ${r.rss.toFixed(1)} | ${r.heap.toFixed(1)} | ${r.external.toFixed(1)} | ${r.wasm === null ? '–' : r.wasm.toFixed(1)} | ${r.threads} |`),
    ].join('\n');
  };
  const section = [
    '<!-- soak -->',
    '### Soak (`npm run soak`)',
    '',
    `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${seconds.toFixed(0)} s. ` +
      'Memory after a forced GC at each row. Growth from the first row to the last: ' +
      growth.map((g) => `${g.phase} ${sign(g.rss)} MiB RSS (${sign(g.rssAfterFirstStep)} from iteration ${g.from})${g.wasm === null ? '' : `, WASM ${sign(g.wasm)} MiB`}`).join('; ') +
      `; threads ${baseThreads} before the parallel models, ${rows[rows.length - 1].threads} after the last dispose().`,
    '',
    `${EXPLAINS} explain() calls on one model, batch sizes ${BATCHES.join(', ')}, four composites:`,
    '',
    table('explain'),
    '',
    `${WARM_UP} warm-up load / explain / dispose cycles, then ${CYCLES} more (ONNX, TF.js, lrp JSON in turn; WASM memory of the last model):`,
    '',
    table('warm-up'),
    '',
    table('load'),
    '',
    `${PARALLEL} explain() calls on a 2-worker parallel model, then ${PARALLEL_CYCLES} load / explain / dispose cycles of one (RSS includes the workers):`,
    '',
    table('parallel'),
    '',
    table('par-load'),
    '<!-- /soak -->',
  ].join('\n');
  const start = md.indexOf('<!-- soak -->');
  const end = md.indexOf('<!-- /soak -->');
  const out = start >= 0 && end > start ? md.slice(0, start) + section + md.slice(end + '<!-- /soak -->'.length) : `${md.replace(/\s*$/, '')}\n\n${section}\n`;
  fs.writeFileSync(file, out);
  console.log(`soak: figures written to ${path.relative(process.cwd(), file)}`);
}
