#!/usr/bin/env node
/**
 * npm run fuzz -- [--cases N] [--seed S] [--start K] [--jobs J] [--timeout MS] [--fresh]
 *                 [--keep DIR] [--json FILE] [--verbose]
 *
 * Mutates the repository's models (ONNX, lrp JSON, TF.js) and runs each case in a child process
 * with a timeout against the built library (run `npm run build` first), then prints the outcome
 * table. Exit code 1 if any case ends in something other than a typed LrpError or a finite,
 * right-length result. See scripts/fuzz/*.mjs.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { formatReport, runCampaign } from './fuzz/campaign.mjs';

const { values: v } = parseArgs({
  options: {
    cases: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    start: { type: 'string', default: '0' },
    jobs: { type: 'string', default: String(Math.min(2, os.availableParallelism?.() ?? os.cpus().length)) },
    timeout: { type: 'string', default: '600000' },
    fresh: { type: 'boolean', default: false },
    keep: { type: 'string' },
    json: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});
const int = (name) => {
  const n = Number(v[name]);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`fuzz: --${name} must be a non-negative integer, got '${v[name]}'`);
    process.exit(2);
  }
  return n;
};

const cases = int('cases');
let last = Date.now();
const report = await runCampaign({
  seed: int('seed'),
  cases,
  start: int('start'),
  jobs: Math.max(1, int('jobs')),
  timeoutMs: int('timeout'),
  fresh: v.fresh,
  keepDir: v.keep ?? null,
  onResult: (r, done) => {
    if (v.verbose) console.log(JSON.stringify(r));
    else if (Date.now() - last > 10_000 || done === cases) {
      last = Date.now();
      process.stderr.write(`fuzz: ${done}/${cases} cases\n`);
    }
  },
});
console.log(formatReport(report));
if (v.json) writeFileSync(v.json, JSON.stringify({ ...report, results: undefined, failures: report.failures }, null, 2));
process.exitCode = report.failures.length ? 1 : 0;
