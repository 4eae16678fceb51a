/**
 * Quoted glob patterns for dataset runs (a shell would expand 100,000 files into an argument list
 * that is too long): '*' and '?' within a name, '[abc]' / '[!abc]' classes, '**' for any number
 * of folders. Names starting with '.' match only a pattern part that starts with '.'; symbolic
 * links to folders are not followed by '**' (no cycles).
 */
import { readdirSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';

/** Whether an argument is a pattern rather than a path. */
export const hasGlobMagic = (s: string): boolean => /[*?[]/.test(s);

function partRegex(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = part.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let cls = part.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        re += `[${cls}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return []; // unreadable or vanished: nothing matches there
  }
}

function kindOf(dir: string, e: Dirent): 'file' | 'dir' | 'link-dir' | null {
  if (e.isFile()) return 'file';
  if (e.isDirectory()) return 'dir';
  if (e.isSymbolicLink()) {
    try {
      const st = statSync(path.join(dir, e.name));
      return st.isFile() ? 'file' : st.isDirectory() ? 'link-dir' : null;
    } catch {
      return null; // a dangling link
    }
  }
  return null;
}

/**
 * The files matching `pattern` (paths as the pattern spells them) and the folder its fixed
 * leading part names (where the matches are looked for).
 */
export function expandGlob(pattern: string): { root: string; files: string[] } {
  const parts = pattern.split(/[\\/]+/);
  const fixed: string[] = [];
  while (fixed.length < parts.length - 1 && !hasGlobMagic(parts[fixed.length])) fixed.push(parts[fixed.length]);
  const root = fixed.length === 0 ? '.' : fixed.join('/') || '/';
  const rest = parts.slice(fixed.length).map((p) => (p === '**' ? p : partRegex(p)));
  const restNames = parts.slice(fixed.length);
  const found = new Set<string>();
  const walk = (dir: string, shown: string, i: number): void => {
    const part = rest[i];
    const last = i === rest.length - 1;
    if (part === '**') {
      if (last) {
        // a trailing ** matches every file below
        for (const e of entries(dir)) {
          if (e.name.startsWith('.')) continue;
          const k = kindOf(dir, e);
          if (k === 'file') found.add(join(shown, e.name));
          else if (k === 'dir') walk(path.join(dir, e.name), join(shown, e.name), i);
        }
        return;
      }
      walk(dir, shown, i + 1); // no folder
      for (const e of entries(dir)) if (!e.name.startsWith('.') && kindOf(dir, e) === 'dir') walk(path.join(dir, e.name), join(shown, e.name), i);
      return;
    }
    const dotOk = restNames[i].startsWith('.');
    for (const e of entries(dir)) {
      if ((e.name.startsWith('.') && !dotOk) || !part.test(e.name)) continue;
      const k = kindOf(dir, e);
      if (last && k === 'file') found.add(join(shown, e.name));
      else if (!last && (k === 'dir' || k === 'link-dir')) walk(path.join(dir, e.name), join(shown, e.name), i + 1);
    }
  };
  walk(root, fixed.length === 0 ? '' : root, 0);
  return { root, files: [...found] };
}

const join = (a: string, b: string) => (a === '' ? b : a.endsWith('/') ? `${a}${b}` : `${a}/${b}`);
