// D3: SIGINT, SIGTERM or SIGHUP while the CLI commits its outputs used to leave
// `.NAME.png.lrp-tmp-PID` files behind. Now the commit removes its temporary files and the folder
// it created, and the CLI exits with 128 + the signal number. The test spawns the built CLI
// (dist/, made by `npm test`), freezes it with SIGSTOP as soon as a temporary file appears,
// sends the signal and lets it continue.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeNpy } from '../../src/index.js';
import { ROOT, tempDir } from './helpers.js';

const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const SAMPLES = 1500;

/** A tiny lrp JSON model (1x4x4 → conv → relu → flatten → linear 3) and SAMPLES inputs. */
function tinyModel(dir: string): { model: string; npy: string } {
  mkdirSync(path.join(dir, 'params'), { recursive: true });
  const f32 = (n: number, s: number) => new Uint8Array(Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + s) * 0.5).buffer);
  writeFileSync(path.join(dir, 'params', 'w.f32'), f32(18, 1));
  writeFileSync(path.join(dir, 'params', 'fw.f32'), f32(24, 3));
  const model = {
    name: 'tiny', format_version: 1, input_shape: [1, 4, 4], input_range: [0, 1],
    layers: [
      { index: 0, type: 'conv2d', in_channels: 1, out_channels: 2, kernel_size: [3, 3], weight: { file: 'params/w.f32', shape: [2, 1, 3, 3] } },
      { index: 1, type: 'relu' },
      { index: 2, type: 'flatten' },
      { index: 3, type: 'linear', in_features: 8, out_features: 3, weight: { file: 'params/fw.f32', shape: [3, 8] } },
    ],
  };
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(model));
  const x = Float32Array.from({ length: SAMPLES * 16 }, (_, i) => ((i * 7919) % 1000) / 1000);
  writeFileSync(path.join(dir, 'x.npy'), writeNpy(x, [SAMPLES, 1, 4, 4]));
  return { model: path.join(dir, 'model.json'), npy: path.join(dir, 'x.npy') };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const temps = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.includes('.lrp-tmp-')) : []);

/**
 * Runs the CLI and interrupts it with `signal` while its commit has temporary files on disk.
 * Returns null if the commit finished before it could be caught (the caller tries again).
 */
async function interruptCommit(model: string, npy: string, out: string, signal: NodeJS.Signals) {
  const child = spawn(process.execPath, [CLI, 'explain', model, npy, '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null }>((resolve) => child.on('exit', (code) => resolve({ code })));
  let running = true;
  void exited.then(() => (running = false));
  while (running && temps(out).length === 0) await sleep(1);
  if (!running) return null;
  child.kill('SIGSTOP');
  const caught = temps(out).length > 0;
  child.kill(signal);
  child.kill('SIGCONT');
  const { code } = await exited;
  return caught ? { code, stderr } : null;
}

describe('D3: the CLI interrupted while it writes its outputs', () => {
  const { model, npy } = tinyModel(tempDir());
  for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]] as const) {
    it(`${signal}: exit code ${128 + number}, no temporary file, no output, no folder left`, async () => {
      const parent = tempDir();
      const out = path.join(parent, 'out', 'heatmaps'); // two folders the run creates
      let run = null;
      for (let attempt = 0; attempt < 4 && !run; attempt++) run = await interruptCommit(model, npy, out, signal);
      expect(run, 'the commit was never caught with temporary files on disk').not.toBeNull();
      expect(run!.code).toBe(128 + number);
      expect(run!.stderr).toContain(`lrp: interrupted by ${signal}; no output was written`);
      expect(readdirSync(parent)).toEqual([]);
    });
  }
});
