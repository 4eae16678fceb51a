// The commit's signal handler outlives the commit. It used to be removed when a commit ended, and a
// signal that arrived during the commit but had not reached its listener yet was then dropped by Node:
// a dataset run went on to the end after SIGTERM (about once in six tries, test/cli-dataset-process).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { StagedFiles } from '../../src/cli/staged-files.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

describe('StagedFiles and signals', () => {
  const before = new Map(SIGNALS.map((s) => [s, process.listeners(s)]));
  afterEach(() => {
    // leave the test process's signals as they were
    for (const s of SIGNALS) for (const l of process.listeners(s)) if (!before.get(s)!.includes(l)) process.off(s, l);
    vi.restoreAllMocks();
  });

  test('a signal after a commit ended still exits with 128 + its number; one handler however many commits', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lrp-staged-'));
    try {
      for (const name of ['a.txt', 'b.txt']) {
        const staged = new StagedFiles();
        staged.add(path.join(dir, name), new TextEncoder().encode(name));
        await staged.commit();
      }
      expect(readFileSync(path.join(dir, 'b.txt'), 'utf8')).toBe('b.txt');
      for (const s of SIGNALS) expect(process.listeners(s).length, s).toBe(before.get(s)!.length + 1);

      const exits: number[] = [];
      vi.spyOn(process, 'exit').mockImplementation(((code: number) => {
        exits.push(code);
        return undefined as never;
      }) as typeof process.exit);
      const errors: string[] = [];
      vi.spyOn(process.stderr, 'write').mockImplementation(((s: string) => {
        errors.push(s);
        return true;
      }) as typeof process.stderr.write);
      process.emit('SIGTERM', 'SIGTERM');
      process.emit('SIGHUP', 'SIGHUP');
      expect(exits).toEqual([143, 129]);
      expect(errors).toEqual(['lrp: interrupted by SIGTERM\n', 'lrp: interrupted by SIGHUP\n']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
