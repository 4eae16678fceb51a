// The package's declarations (dist/*.d.ts) as a consumer's compiler sees them: tsc --strict, with
// skipLibCheck off, for a page (lib DOM, no Node types) and for Node (Node types, no DOM lib).
import { execFileSync } from 'node:child_process';
import { cpSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeApp, REPO } from './helpers/browser-app.js';

function compile(file: string, compilerOptions: object): string {
  const app = makeApp({});
  try {
    for (const dep of ['@types', '@tensorflow', '@webgpu']) symlinkSync(join(REPO, 'node_modules', dep), join(app.dir, 'node_modules', dep), 'dir');
    cpSync(join(import.meta.dirname, 'types', file), join(app.dir, file));
    writeFileSync(join(app.dir, 'package.json'), '{ "type": "module" }');
    const tsconfig = { compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, ...compilerOptions }, files: [file] };
    writeFileSync(join(app.dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    try {
      return execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app.dir], { encoding: 'utf8' });
    } catch (e) {
      return (e as { stdout: string }).stdout;
    }
  } finally {
    app.remove();
  }
}

describe('the declarations under tsc --strict', () => {
  it('a page: lib DOM, no Node types', () => {
    const out = compile('dom-app.ts', { lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [] });
    // TF.js's own declarations (used by the page) fail strict checks on their own: not ours to test
    const errors = out.split('\n').filter((l) => l.includes('error') && !l.startsWith('node_modules/@tensorflow/'));
    expect(errors).toEqual([]);
  });

  it('Node: Node types, no DOM lib', () => {
    const out = compile('node-app.ts', { lib: ['ES2022'], types: ['node'] });
    expect(out.split('\n').filter((l) => l.includes('error'))).toEqual([]);
  });
});
