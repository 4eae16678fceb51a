/**
 * Where a model file is, as the runtime understands it: a URL (fetched) or, in Node, a local path.
 * Strings with a scheme (`https:`, `blob:`, `data:`, `file:` ...) are URLs; other strings are file
 * paths in Node and URLs relative to the page (`document.baseURI`) or the worker script
 * (`self.location`) in browsers, as `fetch` and `tf.loadLayersModel` treat them.
 */
import { platform } from '#platform';
import { InputError, ModelFormatError } from '../errors.js';

export type ModelLocation = { kind: 'url'; href: string } | { kind: 'file'; path: string };

/** A scheme of two or more letters, so that a Windows drive (`C:\models`) stays a path. */
const SCHEME = /^[a-z][a-z0-9+.-]+:/i;

export function locate(source: string | URL): ModelLocation {
  const s = typeof source === 'string' ? source : source.href;
  if (SCHEME.test(s)) {
    if (/^file:/i.test(s) && platform.kind === 'node') return { kind: 'file', path: platform.fileUrlToPath(s) };
    return { kind: 'url', href: s };
  }
  if (platform.kind === 'node') return { kind: 'file', path: s };
  const base = platform.baseUrl();
  if (!base) throw new ModelFormatError(`'${s}' is a relative URL and this runtime has no document or worker location to resolve it against: pass an absolute URL`);
  return { kind: 'url', href: new URL(s, base).href };
}

/** The location as it appears in messages. */
export const where = (loc: ModelLocation): string => (loc.kind === 'url' ? loc.href : loc.path);

/** A file a model file refers to by a relative, URL-encoded path (TF.js shards, lrp parameter files). */
export function sibling(loc: ModelLocation, rel: string): ModelLocation {
  if (SCHEME.test(rel)) return locate(rel);
  if (loc.kind === 'url') return { kind: 'url', href: new URL(rel, loc.href).href };
  return { kind: 'file', path: platform.siblingPath(loc.path, rel) };
}

/** A folder holding model.json: Node paths that are folders, and URLs ending in '/'. */
export async function folderToModelJson(loc: ModelLocation): Promise<ModelLocation> {
  if (loc.kind === 'url') return /\/([?#].*)?$/.test(loc.href) ? sibling(loc, 'model.json') : loc;
  return (await platform.isDirectory(loc.path)) ? { kind: 'file', path: platform.joinPath(loc.path, 'model.json') } : loc;
}

/** `what` names the file in the not-found message, e.g. "TF.js weight shard not found: …". */
export async function readLocation(loc: ModelLocation, what = 'file'): Promise<Uint8Array> {
  if (loc.kind === 'file') return platform.readFile(loc.path, what);
  let res: Response;
  try {
    res = await fetch(loc.href);
  } catch (e) {
    throw new ModelFormatError(`cannot fetch ${what} ${loc.href}: ${(e as Error).message}`);
  }
  return readResponse(res, what, loc.href);
}

/**
 * Reads and parses a JSON side file (metadata.json) given as a URL or path; invalid JSON is an
 * InputError with `code`. Returns the value and where it came from, for the caller's messages.
 */
export async function readJsonFile(source: string | URL, what: string, code: string): Promise<{ json: unknown; from: string }> {
  const loc = locate(source);
  const text = new TextDecoder().decode(await readLocation(loc, what));
  try {
    return { json: JSON.parse(text), from: where(loc) };
  } catch (e) {
    throw new InputError(`${where(loc)}: not valid JSON: ${(e as Error).message}`, code);
  }
}

/** The body of a fetch Response; an HTTP error status is a ModelFormatError naming the URL. */
export async function readResponse(res: Response, what: string, url = res.url || 'the Response'): Promise<Uint8Array> {
  if (!res.ok) throw new ModelFormatError(`cannot fetch ${what} ${url}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  try {
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new ModelFormatError(`cannot read ${what} ${url}: ${(e as Error).message}`);
  }
}
