// A 10,000-image dataset through `lrp explain --recursive` (dataset runs, issue 11): copies of the
// bundled Fashion-MNIST samples in 10 folders, explained by the compiled CLI as a child process whose
// resident memory is sampled from /proc/PID/status (VmRSS, and the peak VmHWM) while results.jsonl
// grows. Memory is flat when the RSS after 10k inputs is that after 1k; images/s is over the whole run
// (model load included). Linux only (/proc).
//
//   npm run bench:dataset                  # → bench/RESULTS-dataset.md
//   node bench/dataset.mjs [--count 10000] [--runs png,png-workers2,no-png] [--out F] [--no-write]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { argv, HERE, opt, ROOT } from './args.mjs';
const count = Number(opt('count', '10000'));
const RUNS = {
  png: { label: 'heatmap PNGs, 1 thread', args: [] },
  'png-workers2': { label: 'heatmap PNGs, --workers 2', args: ['--workers', '2'] },
  'no-png': { label: '--no-png, 1 thread', args: ['--no-png'] },
};
const runs = opt('runs', 'png,png-workers2,no-png').split(',');
const out = argv.includes('--no-write') ? null : path.resolve(opt('out', path.join(HERE, 'RESULTS-dataset.md')));
const CLI = path.join(ROOT, 'dist/cli/main.js');
const MODEL = path.join(ROOT, 'models/fashion-mnist/tfjs/model.json');
const samples = path.join(ROOT, 'models/fashion-mnist/samples');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lrp-dataset-bench-'));
const data = path.join(tmp, 'data');
const pngs = fs.readdirSync(samples).filter((f) => f.endsWith('.png'));
for (let i = 0; i < count; i++) {
  const dir = path.join(data, `part-${i % 10}`);
  if (i < 10) fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(samples, pngs[i % pngs.length]), path.join(dir, `${String(i).padStart(6, '0')}.png`));
}

const status = (pid) => {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
};
const lines = (file) => {
  try {
    const b = fs.readFileSync(file);
    let n = 0;
    for (const c of b) if (c === 10) n++;
    return n;
  } catch {
    return 0;
  }
};

const results = [];
for (const name of runs) {
  const run = RUNS[name];
  const outDir = path.join(tmp, `out-${name}`);
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'explain', MODEL, data, '--recursive', '--out', outDir, ...run.args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const samplesSeen = [];
  const timer = setInterval(() => {
    const st = status(child.pid);
    if (st && Number.isFinite(st.rss)) samplesSeen.push({ n: lines(path.join(outDir, 'results.jsonl')), ...st });
  }, 100);
  const code = await new Promise((resolve) => child.on('exit', resolve));
  clearInterval(timer);
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`${name}: lrp exited with ${code}`);
  const done = lines(path.join(outDir, 'results.jsonl'));
  const at = (k) => samplesSeen.find((s) => s.n >= k) ?? null;
  const last = samplesSeen[samplesSeen.length - 1];
  const r = { name, label: run.label, inputs: done, seconds, perSecond: done / seconds, at1k: at(1000), at10k: at(Math.min(count, 10000)) ?? last, last };
  results.push(r);
  console.log(`${run.label}: ${done} inputs in ${seconds.toFixed(1)} s (${r.perSecond.toFixed(1)}/s); RSS at 1k ${r.at1k?.rss.toFixed(0)} MiB, at ${r.at10k.n} ${r.at10k.rss.toFixed(0)} MiB (peak ${last.hwm.toFixed(0)} MiB)`);
  fs.rmSync(outDir, { recursive: true, force: true });
}
fs.rmSync(tmp, { recursive: true, force: true });

const mb = (v) => (v == null || Number.isNaN(v) ? 'n/a' : v.toFixed(0));
const base = results.find((r) => r.name === 'png');
const md = `# Dataset runs: ${count} images through \`lrp explain --recursive\`

\`npm run bench:dataset\` (bench/dataset.mjs), ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism?.() ?? os.cpus().length}.
Copies of the 16 bundled Fashion-MNIST samples in 10 folders; the fashion-mnist TF.js model, epsilon-plus, --chunk 64
(default), heatmaps at the default --size 224. RSS of the CLI process (all its threads) from /proc/PID/status, sampled
every 100 ms while results.jsonl grows: "RSS at 1k" is the first sample with ≥ 1,000 result lines, "at 10k" the first
with all of them (or the last sample before exit), "peak" VmHWM over the run. Images/s over the whole run, model load
and folder listing included; one run each (a 10k-image run takes minutes; the figures are a level, not a fine ratio).

| run | inputs | s | images/s | vs 1 thread | RSS at 1k (MiB) | RSS at 10k (MiB) | 10k / 1k | peak (MiB) |
|---|---|---|---|---|---|---|---|---|
${results
  .map(
    (r) =>
      `| ${r.label} | ${r.inputs} | ${r.seconds.toFixed(1)} | ${r.perSecond.toFixed(1)} | ${base ? (r.perSecond / base.perSecond).toFixed(2) : 'n/a'} | ${mb(r.at1k?.rss)} | ${mb(r.at10k?.rss)} (at ${r.at10k?.n}) | ${r.at1k ? (r.at10k.rss / r.at1k.rss).toFixed(2) : 'n/a'} | ${mb(r.last?.hwm)} |`,
  )
  .join('\n')}
`;
if (out) {
  fs.writeFileSync(out, md);
  console.log(`wrote ${path.relative(ROOT, out)}`);
} else console.log(md);
