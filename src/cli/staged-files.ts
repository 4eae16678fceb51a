/**
 * The command line's outputs are staged in memory and committed at the end, so that a failed or
 * interrupted run leaves nothing behind: every file is written to `<dir>/.<name>.lrp-tmp-<pid>`
 * and renamed into place only when all of them are written. Folders the commit had to create are
 * removed again if it fails. SIGINT, SIGTERM and SIGHUP during the commit remove the temporary
 * files and folders and exit with 128 + the signal number, as a shell expects; from the first commit
 * on, they do so between commits too.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmdirSync, rmSync, write } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { CliError } from './errors.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** What a signal does during the commit in progress (its cleanup and message), or null between commits. */
let onCommitSignal: ((signal: NodeJS.Signals) => void) | null = null;

/**
 * The handler stays installed from the first commit on. Removing it after each commit could drop a
 * signal that arrived during the commit but had not reached its listener yet: Node discards a pending
 * signal whose last listener is gone, and the run went on to finish (a dataset run ignored SIGTERM that
 * way about once in six tries). Between commits a signal exits at once with 128 + its number, as it
 * would with no handler (a shell reads both the same way).
 */
function installSignalHandler(): void {
  if (SIGNALS.some((s) => process.listeners(s).includes(handleSignal))) return;
  for (const s of SIGNALS) process.on(s, handleSignal);
}

function handleSignal(signal: NodeJS.Signals): void {
  if (onCommitSignal) onCommitSignal(signal);
  else process.stderr.write(`lrp: interrupted by ${signal}\n`);
  process.exit(128 + constants.signals[signal]);
}

export class StagedFiles {
  private readonly files = new Map<string, Uint8Array>();

  /** `interrupted`: what a signal during the commit leaves, for its message. */
  constructor(private readonly interrupted = 'no output was written') {}

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
   * Writes every file to its temporary name, then renames them all into place. On an error (or a
   * signal) the temporary files and the folders this commit created are removed and nothing is
   * renamed. `afterRename` runs synchronously right after the renames (a signal cannot come
   * between them): a dataset run appends its results lines there.
   */
  async commit(afterRename?: () => void): Promise<void> {
    const created: string[] = [];
    const temps: Array<[string, string]> = [];
    let committed = false;
    const cleanup = () => {
      for (const [tmp] of temps) rmSync(tmp, { force: true });
      for (const dir of created.reverse()) {
        try {
          rmdirSync(dir);
        } catch {
          // not empty: someone else put a file there meanwhile; leave it
        }
      }
    };
    installSignalHandler();
    onCommitSignal = (signal) => {
      cleanup();
      process.stderr.write(`lrp: interrupted by ${signal}${committed ? ' after writing the outputs' : `; ${this.interrupted}`}\n`);
    };
    try {
      for (const [file, bytes] of this.files) {
        makeFolders(path.dirname(file), created, `cannot write ${file}`);
        const tmp = path.join(path.dirname(file), `.${path.basename(file)}.lrp-tmp-${process.pid}`);
        // opened synchronously, so a signal handler always knows every temporary file that exists
        let fd: number;
        try {
          fd = openSync(tmp, 'w');
        } catch (e) {
          throw new CliError(fsFailure(e, `cannot write ${file}`));
        }
        temps.push([tmp, file]);
        try {
          await writeAll(fd, bytes);
        } catch (e) {
          throw new CliError(fsFailure(e, `cannot write ${file}`));
        } finally {
          closeSync(fd);
        }
      }
      // synchronous: a signal is handled before or after all the renames, never between two
      for (let i = 0; i < temps.length; i++) {
        try {
          renameSync(temps[i][0], temps[i][1]);
        } catch (e) {
          temps.splice(0, i); // those are in place
          throw new CliError(fsFailure(e, `cannot write ${temps[0][1]}`));
        }
      }
      temps.length = 0;
      created.length = 0;
      committed = true;
      afterRename?.();
    } catch (e) {
      cleanup();
      throw e;
    } finally {
      // a signal that arrived during the renames is delivered on a later turn of the event loop: still
      // as one during this commit (its outputs are written, the message says so)
      await new Promise((resolve) => setImmediate(resolve));
      onCommitSignal = null;
    }
  }
}

function writeAll(fd: number, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const next = (at: number) => {
      if (at >= bytes.byteLength) return resolve();
      write(fd, bytes, at, bytes.byteLength - at, null, (err, n) => (err ? reject(err) : next(at + n)));
    };
    next(0);
  });
}

/**
 * mkdir -p that records the folders it creates (to remove them on failure) and names the real
 * cause: Node's recursive mkdir reports ENOENT on a read-only filesystem, and can loop on /proc.
 */
export function makeFolders(dir: string, created: string[], what: string): void {
  const missing: string[] = [];
  let p = dir;
  while (!existsSync(p)) {
    missing.push(p);
    const parent = path.dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      // made meanwhile by another process (shards writing into one folder): not ours to remove
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && existsSync(d)) continue;
      throw new CliError(fsFailure(e, `${what}: cannot create the folder ${d}`));
    }
    created.push(d);
  }
}

/** `what`: the cause of a file system error in words, with its code. */
export function fsFailure(e: unknown, what: string): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const causes: Record<string, string> = {
    EROFS: 'the file system is read-only',
    ENOSPC: 'no space left on the device (disk full)',
    EDQUOT: 'the disk quota is exceeded',
    EFBIG: 'the file is larger than allowed (file size limit)',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOTDIR: 'a part of the path is a file, not a folder',
    EISDIR: 'it is a folder',
    ENOENT: 'a part of the path does not exist',
    EIO: 'input/output error of the device',
  };
  const cause = code && causes[code] ? `${causes[code]} (${code})` : ((e as Error)?.message ?? String(e));
  return `${what}: ${cause}`;
}
