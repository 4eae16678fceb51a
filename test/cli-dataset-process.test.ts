// lrp explain over a dataset as a process (the compiled CLI, dist/, built by `npm test`): worker
// threads give the same outputs as one thread, and SIGINT / SIGTERM in the middle of a run leave
// only whole chunks (no temporary or partial file), which --resume completes to the outputs of an
// uninterrupted run.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listFiles, tempDir } from './cli/helpers.js';

const CLI = path.resolve('dist/cli/main.js');
const MODEL = 'models/fashion-mnist/tfjs/model.json';
const SAMPLES = 'models/fashion-mnist/samples';

/** `copies` × the 16 samples in one folder. */
function images(copies: number): string {
  const dir = tempDir('lrp-dsp-');
  const pngs = readdirSync(SAMPLES).filter((f) => f.endsWith('.png'));
  for (let k = 0; k < copies; k++) for (const f of pngs) copyFileSync(path.join(SAMPLES, f), path.join(dir, `${k}-${f}`));
  return dir;
}

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'explain', MODEL, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Results lines without the timing, and every other file's bytes. */
function snapshot(out: string, results = 'results.jsonl') {
  const lines = readFileSync(path.join(out, results), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => ({ ...JSON.parse(l), ms: 0 }));
  const files = new Map<string, string>();
  for (const f of listFiles(out)) if (!f.startsWith('results')) files.set(f, readFileSync(path.join(out, f)).toString('base64'));
  return { lines, files };
}

describe('lrp explain over a dataset, as a process', () => {
  it('--workers 2 writes exactly what --workers 1 writes', () => {
    expect(existsSync(CLI), 'run npm run build first (npm test does)').toBe(true);
    const data = images(2);
    const one = tempDir();
    const two = tempDir();
    const a = run([data, '--chunk', '5', '--out', one]);
    expect(a.code, a.stderr).toBe(0);
    const b = run([data, '--chunk', '5', '--workers', '2', '--out', two]);
    expect(b.code, b.stderr).toBe(0);
    expect(snapshot(two)).toEqual(snapshot(one));
    expect(snapshot(one).lines).toHaveLength(32);
  });

  // 128 inputs, 64 chunks (about 2.5 s): a signal sent after the first chunk lands mid-run even
  // when this test's worker is starved by the other test files; the uninterrupted run's outputs
  const INPUTS = 128;
  let shared: { args: string[]; want: ReturnType<typeof snapshot> } | null = null;
  const uninterrupted = () => {
    if (shared) return shared;
    const args = [images(INPUTS / 16), '--chunk', '2', '--overlay'];
    const full = tempDir();
    expect(run([...args, '--out', full]).code).toBe(0);
    return (shared = { args, want: snapshot(full) });
  };

  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    it(`${signal} mid-run leaves whole chunks only, and --resume completes the run`, async () => {
      const { args, want } = uninterrupted();

      const out = tempDir();
      const child = spawn(process.execPath, [CLI, 'explain', MODEL, ...args, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      const results = path.join(out, 'results.jsonl');
      // wait for the first committed chunk, then interrupt
      const t0 = Date.now();
      while (!(existsSync(results) && readFileSync(results, 'utf8').split('\n').length > 2) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 5));
      expect(child.exitCode, 'the run ended before the signal was sent').toBe(null);
      child.kill(signal);
      const exit = await new Promise<{ code: number | null; sig: string | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
      // killed by the signal, or exited with 128 + its number by the commit's handler
      expect(exit.sig === signal || exit.code === 128 + (signal === 'SIGINT' ? 2 : 15), JSON.stringify(exit)).toBe(true);

      const files = listFiles(out);
      expect(files.filter((f) => /lrp-tmp/.test(f))).toEqual([]);
      const part = snapshot(out);
      expect(part.lines.length).toBeGreaterThan(0);
      expect(part.lines.length).toBeLessThan(INPUTS);
      expect(part.lines.length % 2).toBe(0); // whole chunks of 2
      // every file on disk belongs to a committed line, and is the uninterrupted run's file
      const named = new Set(part.lines.flatMap((l) => [l.npy, l.png]));
      expect(files.filter((f) => !f.startsWith('results') && !named.has(f))).toEqual([]);
      for (const [f, bytes] of part.files) expect(bytes === want.files.get(f), f).toBe(true);

      const r = run([...args, '--out', out, '--resume']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`explained ${INPUTS - part.lines.length}, skipped ${part.lines.length} already done`));
      expect(snapshot(out)).toEqual(want);
    });
});
