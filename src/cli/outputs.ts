/**
 * Output checks made before any work (the files themselves are written by staged-files.ts), and
 * the text tables.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { CliError } from './errors.js';

/** Fails early (before any work) if `dir` exists and is not a folder. */
export function checkOutDir(dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) throw new CliError(`--out ${dir} exists and is not a folder`);
  } catch (e) {
    if (e instanceof CliError) throw e;
  }
}

/** Fails early if `file` is an existing folder or its parent is an existing file. */
export function checkOutFile(file: string, option: string): void {
  const check = (p: string, dirWanted: boolean) => {
    try {
      const st = statSync(p);
      if (dirWanted !== st.isDirectory()) throw new CliError(`${option} ${file}: ${p} ${dirWanted ? 'is not a folder' : 'is a folder'}`);
    } catch (e) {
      if (e instanceof CliError) throw e;
    }
  };
  check(file, false);
  check(path.dirname(path.resolve(file)), true);
}

/** A plain text table with aligned columns; numbers (and their headers) right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => /^-?[\d.e+-]*$/i.test(r[c] ?? '')));
  return all
    .map((r) =>
      r
        .map((v, c) => (numeric[c] ? (v ?? '').padStart(widths[c]) : (v ?? '').padEnd(widths[c])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A number for humans: 4 significant digits, exponent only when needed. */
export function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

/** A JSON-safe number (float32 values printed as the shortest double that round-trips them). */
export const jnum = (v: number): number | null => (Number.isFinite(v) ? Number(Math.fround(v).toPrecision(9)) : null);
