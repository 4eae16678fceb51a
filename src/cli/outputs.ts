/**
 * Outputs: files are staged in memory and written all at once at the end (each to a temporary
 * name, then renamed), so that a failed run leaves no partial file behind; plus text tables.
 */
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CliError } from './errors.js';

export class StagedFiles {
  private readonly files = new Map<string, Uint8Array>();

  add(file: string, bytes: Uint8Array): void {
    this.files.set(path.resolve(file), bytes);
  }

  get size(): number {
    return this.files.size;
  }

  /** Paths as given to add(), resolved. */
  paths(): string[] {
    return [...this.files.keys()];
  }

  /**
   * Writes every file to `<dir>/.<name>.lrp-tmp-<pid>`, then renames them all into place. On an
   * error the temporary files are removed and nothing is renamed.
   */
  commit(): void {
    const temps: Array<[string, string]> = [];
    try {
      for (const [file, bytes] of this.files) {
        mkdirSync(path.dirname(file), { recursive: true });
        const tmp = path.join(path.dirname(file), `.${path.basename(file)}.lrp-tmp-${process.pid}`);
        temps.push([tmp, file]);
        writeFileSync(tmp, bytes);
      }
    } catch (e) {
      for (const [tmp] of temps) rmSync(tmp, { force: true });
      throw new CliError(`cannot write output: ${(e as Error).message}`);
    }
    for (const [tmp, file] of temps) {
      try {
        renameSync(tmp, file);
      } catch (e) {
        for (const [t] of temps) rmSync(t, { force: true });
        throw new CliError(`cannot write ${file}: ${(e as Error).message}`);
      }
    }
  }
}

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
