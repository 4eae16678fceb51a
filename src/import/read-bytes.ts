/**
 * Reads the bytes of a model file from where it is: an http(s), data or blob URL (fetch), or a
 * path or file: URL in Node (node:fs, imported on demand so browser bundles never load it).
 */
import { ModelFormatError } from '../errors.js';

/** A location fetch reads (everything but plain paths and file: URLs). */
export const isFetchUrl = (s: string): boolean => /^(https?|data|blob):/i.test(s);

/** `what` names the file in the not-found message, e.g. "TF.js model not found: …". */
export async function readBytes(location: string, what = 'file'): Promise<Uint8Array> {
  if (isFetchUrl(location)) {
    let res: Response;
    try {
      res = await fetch(location);
    } catch (e) {
      throw new ModelFormatError(`cannot fetch ${location}: ${(e as Error).message}`);
    }
    if (!res.ok) throw new ModelFormatError(`cannot fetch ${location}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  }
  const fs = await import('node:fs/promises');
  const { fileURLToPath } = await import('node:url');
  const p = /^file:/i.test(location) ? fileURLToPath(location) : location;
  try {
    const buf = await fs.readFile(p);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelFormatError(code === 'ENOENT' ? `${what} not found: ${p}` : `cannot read ${p}: ${(e as Error).message}`);
  }
}
