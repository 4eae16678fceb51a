// The fuzzer's seeded slice (scripts/fuzz.mjs; `npm run fuzz -- --cases 20000` runs the long
// campaign): 1,000 mutated models in the three formats, each case in a child process with a
// timeout, against the built library (dist/, made by `npm test`). Any outcome other than a typed
// LrpError or a finite, right-length result fails the test and lists the cases.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatReport, runCampaign } from '../../scripts/fuzz/campaign.mjs';
import { ROOT } from './helpers.js';

const SEED = 20_240_614;
const CASES = 1000;

describe('fuzzer (seeded slice)', () => {
  it(`${CASES} mutated models end in a typed error or a finite result`, { timeout: 600_000 }, async () => {
    expect(existsSync(path.join(ROOT, 'dist', 'index.js')), 'run npm run build first (npm test does)').toBe(true);
    const report = await runCampaign({ seed: SEED, cases: CASES, jobs: 2, timeoutMs: 60_000 });
    console.log(formatReport(report));
    expect(report.results).toHaveLength(CASES);
    expect(report.failures.map((f: { index: number; outcome: string; detail: string }) => `case ${f.index}: ${f.outcome}: ${f.detail}`)).toEqual([]);
    // the slice exercises both accepted outcomes and the load-time checks of every format
    expect(report.counts['typed-error']).toBeGreaterThan(CASES / 4);
    expect(report.counts.finite).toBeGreaterThan(CASES / 10);
    expect(Object.keys(report.byFormat).sort()).toEqual(['lrp-json', 'onnx', 'tfjs']);
  });
});
