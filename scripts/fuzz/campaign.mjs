/**
 * A fuzzing campaign: cases [start, start + cases) of a seed, run in child processes (`jobs` at a
 * time) with a timeout per case (default 10 minutes: a mutated input size can make one explain
 * legitimately take a minute or two on a loaded machine, e.g. resnet_mini on a 32x65536 image). A child runs up to `recycle` cases (1 with `fresh`: a new process
 * per case) and is replaced after any hang or crash, so one case cannot take the others down.
 * Model files are written to a folder under os.tmpdir() and removed after each case.
 *
 * Outcomes: 'typed-error' and 'finite' are the accepted ones; 'untyped-error', 'non-finite',
 * 'wrong-length', 'input-modified', 'hang' (timeout) and 'crash' (the child exited, e.g. out of
 * memory) are defects.
 */
import { fork } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCase } from './cases.mjs';
import { loadSeeds } from './seeds.mjs';

const RUNNER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'case-runner.mjs');
export const ACCEPTED = ['typed-error', 'finite'];
export const OUTCOMES = ['typed-error', 'finite', 'untyped-error', 'non-finite', 'wrong-length', 'input-modified', 'hang', 'crash'];

/** One child process and the case it is running. */
class Child {
  constructor() {
    this.stderr = '';
    this.served = 0;
    this.proc = fork(RUNNER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: ['--max-old-space-size=2048'] });
    this.proc.stderr.on('data', (d) => {
      this.stderr = (this.stderr + d).slice(-2000);
    });
    this.ready = new Promise((resolve, reject) => {
      this.proc.once('message', (m) => (m?.ready ? resolve() : reject(new Error('fuzz child: unexpected first message'))));
      this.proc.once('exit', (code, signal) => reject(new Error(`fuzz child exited at start (${signal ?? code}): ${this.stderr}`)));
    });
  }

  /** Runs one case; resolves with the child's answer, or a hang / crash outcome. */
  run(c, timeoutMs) {
    this.served++;
    return new Promise((resolve) => {
      const done = (result) => {
        clearTimeout(timer);
        this.proc.off('message', onMessage);
        this.proc.off('exit', onExit);
        resolve(result);
      };
      const onMessage = (m) => m?.id === c.id && done(m);
      const onExit = (code, signal) => {
        this.dead = true;
        done({ outcome: 'crash', detail: `child exited (${signal ?? `code ${code}`}): ${this.stderr.trim().split('\n').slice(-3).join(' | ')}` });
      };
      const timer = setTimeout(() => {
        this.kill();
        done({ outcome: 'hang', detail: `no answer after ${timeoutMs} ms` });
      }, timeoutMs);
      this.proc.on('message', onMessage);
      this.proc.once('exit', onExit);
      this.proc.send(c);
    });
  }

  kill() {
    this.dead = true;
    this.proc.kill('SIGKILL');
  }
}

/**
 * Runs the campaign; `onResult(result, done, total)` is called after every case. Returns
 * { results, counts, byCode, failures, ms }.
 */
export async function runCampaign({ seed = 1, cases = 1000, start = 0, jobs = 2, timeoutMs = 600_000, fresh = false, recycle = 100, keepDir = null, onResult = null } = {}) {
  const seeds = loadSeeds();
  const root = mkdtempSync(path.join(os.tmpdir(), 'lrp-fuzz-'));
  const results = [];
  let next = start;
  const end = start + cases;
  const t0 = Date.now();
  const worker = async () => {
    let child = null;
    try {
      while (next < end) {
        const index = next++;
        const c = makeCase(seeds, seed, index);
        const dir = path.join(root, `case-${index}`);
        for (const [rel, bytes] of c.files) {
          mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
          writeFileSync(path.join(dir, rel), bytes);
        }
        if (!child || child.dead || child.served >= (fresh ? 1 : recycle)) {
          child?.kill();
          child = new Child();
          await child.ready;
        }
        const started = Date.now();
        const answer = await child.run({ id: index, dir, entry: c.entry, run: c.run }, timeoutMs);
        const result = { index, seed: c.seed, format: c.format, mutations: c.description, run: c.run, ...answer, ms: Date.now() - started };
        delete result.id;
        if (keepDir && !ACCEPTED.includes(result.outcome)) cpSync(dir, path.join(keepDir, `case-${index}`), { recursive: true });
        rmSync(dir, { recursive: true, force: true });
        results.push(result);
        onResult?.(result, results.length, cases);
      }
    } finally {
      child?.kill();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, cases)) }, worker));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  results.sort((a, b) => a.index - b.index);
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0]));
  const byCode = {};
  const byFormat = {};
  for (const r of results) {
    counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
    if (r.code) byCode[r.code] = (byCode[r.code] ?? 0) + 1;
    const f = (byFormat[r.format] ??= Object.fromEntries(OUTCOMES.map((o) => [o, 0])));
    f[r.outcome]++;
  }
  return { seed, start, cases, results, counts, byCode, byFormat, failures: results.filter((r) => !ACCEPTED.includes(r.outcome)), ms: Date.now() - t0 };
}

/** The outcome table as text. */
export function formatReport(report) {
  const { counts, byCode, byFormat, failures, cases, seed, start, ms } = report;
  const pct = (k, total = cases) => ((100 * k) / Math.max(total, 1)).toFixed(1).padStart(5);
  const lines = [`fuzz: seed ${seed}, cases ${start}..${start + cases - 1} (${cases}), ${(ms / 1000).toFixed(0)} s`, '', 'outcome            cases      %'];
  for (const o of OUTCOMES) lines.push(`${o.padEnd(16)} ${String(counts[o]).padStart(7)}  ${pct(counts[o])}${ACCEPTED.includes(o) ? '' : '   (defect)'}`);
  lines.push('', 'per format          ' + OUTCOMES.map((o) => o.slice(0, 11).padStart(12)).join(''));
  for (const [f, c] of Object.entries(byFormat).sort()) lines.push(`${f.padEnd(20)}${OUTCOMES.map((o) => String(c[o]).padStart(12)).join('')}`);
  lines.push('', 'typed error codes: ' + Object.entries(byCode).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', '));
  const slowest = [...report.results].sort((a, b) => b.ms - a.ms).slice(0, 3);
  lines.push('slowest cases: ' + slowest.map((r) => `${r.index} (${r.seed}, ${r.outcome}) ${(r.ms / 1000).toFixed(1)} s`).join('; '));
  if (failures.length) {
    lines.push('', `${failures.length} defect(s):`);
    for (const f of failures.slice(0, 50))
      lines.push(`  case ${f.index} [${f.seed}] ${f.outcome} at ${f.stage ?? '?'}: ${String(f.detail).split('\n')[0]}`, `    mutations: ${f.mutations.join('; ')}`, `    repeat: npm run fuzz -- --seed ${seed} --start ${f.index} --cases 1 --verbose`);
  }
  return lines.join('\n');
}
