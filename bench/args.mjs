// What every bench script starts with: where the repository is, and its command-line options.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** bench/ and the repository root. */
export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..');

/** The script's arguments. */
export const argv = process.argv.slice(2);

/** The value after `--name`, or `dflt` when the option is absent. */
export const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
