// What `npm pack` (and so a registry or git install) ships: the compiled package with every file the
// exports/imports maps name, a prepare script that builds it, and source maps that carry their
// sources (src/ is not shipped). Runs against dist/ (npm test builds it first).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/browser-app.js';

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));

/** Every file target in an exports/imports map (nested conditions included). */
function targets(map: unknown): string[] {
  if (typeof map === 'string') return [map];
  if (map && typeof map === 'object') return Object.values(map).flatMap(targets);
  return [];
}

describe('the packed package', () => {
  const packed: string[] = (
    JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' })) as Array<{ files: Array<{ path: string }> }>
  )[0].files.map((f) => f.path);

  it('holds every file the exports and imports maps name, and the bin', () => {
    const named = [...targets(pkg.exports), ...targets(pkg.imports), pkg.main, pkg.types, ...Object.values(pkg.bin as Record<string, string>)];
    for (const t of named) expect(packed, t).toContain(t.replace(/^\.\//, ''));
    expect(packed).toContain('dist/platform/browser.js');
    expect(packed).toContain('dist/platform/node.js');
    expect(packed.filter((p) => p.startsWith('test/') || p.startsWith('src/'))).toEqual([]);
  });

  it('builds on prepare, so that a git install (no dist/ in git) gets the compiled files', () => {
    expect(pkg.scripts.prepare).toBe('npm run build');
    expect(pkg.scripts.build).toMatch(/build:wasm.*build:ts/);
  });

  it('ships source maps that carry the TypeScript they map to', () => {
    const maps = packed.filter((p) => p.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(50);
    for (const m of maps) {
      expect(packed, m).toContain(m.replace(/\.map$/, ''));
      const map = JSON.parse(readFileSync(join(REPO, m), 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
      expect(map.sourcesContent?.length, m).toBe(map.sources.length);
      map.sources.forEach((s, i) => {
        const source = resolve(dirname(join(REPO, m)), s);
        // the embedded text is the source file itself (where the checkout has it)
        if (existsSync(source)) expect(map.sourcesContent![i], `${m}: ${s}`).toBe(readFileSync(source, 'utf8'));
        else expect(map.sourcesContent![i], `${m}: ${s}`).toMatch(/\S/);
      });
    }
  });

  it('has no browser-reachable file that imports node: modules', () => {
    // the files a browser bundle can reach: everything but the Node platform module and the CLI
    const browserSide = packed.filter((p) => p.endsWith('.js') && p.startsWith('dist/') && !p.startsWith('dist/cli/') && p !== 'dist/platform/node.js');
    for (const f of browserSide) expect(readFileSync(join(REPO, f), 'utf8'), f).not.toMatch(/["']node:[a-z_/]+["']/);
  });
});
