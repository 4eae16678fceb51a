// D13: a PNG with a valid signature and garbage after it gave "Offset is outside the bounds of
// the DataView"; --out on a read-only file system said "ENOENT ... mkdir"; a run that failed on a
// full disk left behind the empty --out folder it had created.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { StagedFiles } from '../../src/cli/staged-files.js';
import { decodePNG, encodePNG, InputError } from '../../src/index.js';
import { lrp } from '../cli/helpers.js';
import { FASHION, ROOT, tempDir, thrown } from './helpers.js';

// A read-only file system without root or mounts: mkdir under this path fails as the kernel does.
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const mkdirSync = ((p: string, o?: unknown) => {
    if (String(p).startsWith('/lrp-read-only-test')) throw Object.assign(new Error(`EROFS: read-only file system, mkdir '${p}'`), { code: 'EROFS' });
    return fs.mkdirSync(p, o as never);
  }) as typeof fs.mkdirSync;
  return { ...fs, mkdirSync, default: { ...fs, mkdirSync } };
});

const SAMPLE = path.join(FASHION, 'samples', '0000_ankle_boot.png');

describe('D13: corrupt PNG inputs', () => {
  const png = encodePNG(new Uint8Array(16 * 4).fill(3), 4, 4);
  const signature = png.subarray(0, 8);
  const garbage = Uint8Array.from({ length: 200 }, (_, i) => (i * 37 + 11) & 255);
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['signature + garbage', Uint8Array.from([...signature, ...garbage]), /chunk 1 at byte 8 has an invalid type|the first chunk must be a 13-byte IHDR|needs \d+ bytes, but only \d+ remain/],
    ['signature only', signature, /no chunks after the signature/],
    ['IHDR claiming 4 GB', Uint8Array.from([...signature, 0xff, 0xff, 0xff, 0xf0, ...png.subarray(12, 40)]), /the first chunk must be a 13-byte IHDR, got 'IHDR' of 4294967280 bytes/],
    ['cut inside IDAT', png.subarray(0, png.length - 20), /chunk 2 \('IDAT'\) at byte 33 needs \d+ bytes, but only \d+ remain/],
    ['no IEND', png.subarray(0, png.length - 12), /the file ends after chunk 2 without an IEND chunk/],
  ];
  for (const [name, bytes, message] of cases)
    it(`${name}: an InputError about the chunks, not the decoder's internals`, () => {
      const e = thrown(() => decodePNG(bytes, 'x.png'));
      expect(e).toBeInstanceOf(InputError);
      expect(e.code).toBe('E_IMAGE');
      expect(e.message).toMatch(/^x\.png: corrupt or unsupported PNG: /);
      expect(e.message).toMatch(message);
      expect(e.message).not.toMatch(/DataView|Offset|offset/);
    });

  it('the CLI names the file and the problem (exit 1)', async () => {
    const file = path.join(tempDir(), 'broken.png');
    writeFileSync(file, Uint8Array.from([...signature, ...garbage]));
    const run = await lrp(['predict', `${FASHION}/tfjs/model.json`, file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^lrp: error: .*broken\.png: corrupt or unsupported PNG: /);
    expect(run.stderr).not.toMatch(/DataView/);
  });
});

describe('D13: --out that cannot be written', () => {
  it('a read-only file system is named as such (EROFS), not as ENOENT', async () => {
    const staged = new StagedFiles();
    staged.add('/lrp-read-only-test/out/a.png', new Uint8Array(4));
    const e = await staged.commit().catch((err) => err);
    expect(e.message).toBe('cannot write /lrp-read-only-test/out/a.png: cannot create the folder /lrp-read-only-test: the file system is read-only (EROFS)');
    const run = await lrp(['explain', `${FASHION}/tfjs/model.json`, SAMPLE, '--out', '/lrp-read-only-test/out']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^lrp: error: cannot write \/lrp-read-only-test\/out\/0000_ankle_boot\.png: cannot create the folder \/lrp-read-only-test: the file system is read-only \(EROFS\)\n$/);
  });

  it('a write that fails (file size limit, as on a full disk) removes its temporary files and the folders it created', async () => {
    const parent = tempDir();
    const out = path.join(parent, 'a', 'b');
    // ulimit -f 64: files stop at 32 KB (EFBIG); the overview and the relevance .npy are larger
    const cmd = `ulimit -f 64; exec "${process.execPath}" "${path.join(ROOT, 'dist', 'cli', 'main.js')}" explain "${FASHION}/tfjs/model.json" "${FASHION}/samples"/*.png --out "${out}" --npy "${out}/r.npy"`;
    const child = spawn('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^lrp: error: cannot write .*(overview\.png|r\.npy): the file is larger than allowed \(file size limit\) \(EFBIG\)\n$/);
    expect(existsSync(path.join(parent, 'a'))).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
  });
});
