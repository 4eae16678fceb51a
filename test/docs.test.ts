// Every public function, class, option and field carries a doc comment: TypeDoc (typedoc.json,
// validation.notDocumented) builds the API reference of docs/api/ with warnings treated as errors.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/browser-app.js';

describe('API reference', () => {
  it('builds with every export documented and every link resolved', () => {
    let out = '';
    let failed = false;
    try {
      out = execFileSync(process.execPath, [join(REPO, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--emit', 'none', '--treatWarningsAsErrors'], { cwd: REPO, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      failed = true;
      out = `${(e as { stdout: string }).stdout}\n${(e as { stderr: string }).stderr}`;
    }
    expect(failed ? out : '').toBe('');
    expect(out).not.toMatch(/warning|error/i);
  });
});
