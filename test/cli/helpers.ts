// In-process runs of the command line with captured streams, and temp folders.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { writeNpy } from '../../src/index.js';
import { loadCases, modelDir, readF32 } from '../helpers/fixtures.js';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `lrp ...argv` in-process; stderr is a TTY only if `tty` (then it also has isTTY/columns for cli-progress). */
export async function lrp(argv: string[], opts: { tty?: boolean } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const err = {
    isTTY: opts.tty ?? false,
    columns: 100,
    write(s: string | Uint8Array) {
      stderr += typeof s === 'string' ? s : Buffer.from(s).toString();
      return true;
    },
    on() {
      return this;
    },
    once() {
      return this;
    },
    removeListener() {
      return this;
    },
  };
  const code = await runCli(argv, {
    stdout: {
      write(s: string) {
        stdout += s;
        return true;
      },
    },
    stderr: err,
    isTTY: opts.tty ?? false,
  });
  return { code, stdout, stderr };
}

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A fresh temp folder, removed after the test file. */
export function tempDir(prefix = 'lrp-cli-'): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  roots.push(d);
  return d;
}

/** Files in a folder (recursive, relative paths, sorted); [] if it does not exist. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)))
    .sort();
}

/** A fixture model's four test inputs as a float32 .npy (shape from cases.json, in the model's layout). */
export function inputsNpy(model: string, dir: string): { file: string; x: Float32Array; shape: number[] } {
  const x = readF32(model, 'inputs.f32');
  const shape = loadCases(model).input.shape;
  const file = path.join(dir, `${model}_inputs.npy`);
  writeFileSync(file, writeNpy(x, shape));
  return { file, x, shape };
}

/** The path of a fixture model file: 'model.json' (lrp JSON), 'model.onnx', or 'tfjs/model.json'. */
export function modelPath(model: string, file = 'model.json'): string {
  return path.join(modelDir(model), file);
}

/** Max |a - b| (Infinity on a length mismatch). */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
