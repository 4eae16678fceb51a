/**
 * Reads a TF.js LayersModel folder: model.json and its weight shards (paths relative to
 * model.json, in manifest order). Node paths use node:fs (imported on demand, so browsers never
 * load it); http(s) URLs use fetch.
 */
import { ModelFormatError } from '../errors.js';

export interface TfjsFiles {
  modelJson: object;
  weights: Uint8Array[];
}

function isUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s) && !/^file:/i.test(s);
}

function shardPaths(modelJson: unknown, where: string): string[] {
  const manifest = (modelJson as { weightsManifest?: unknown }).weightsManifest;
  if (!Array.isArray(manifest)) throw new ModelFormatError(`${where} has no weightsManifest (not a TF.js LayersModel)`);
  return manifest.flatMap((g: { paths?: unknown }) => (Array.isArray(g?.paths) ? g.paths.map(String) : []));
}

function parse(text: string, where: string): object {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(`${where} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelFormatError(`${where} is not a JSON object`);
  }
  return json;
}

async function fetchOk(url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new ModelFormatError(`cannot fetch ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new ModelFormatError(`cannot fetch ${url}: HTTP ${res.status}`);
  return res;
}

/**
 * `pathOrUrl`: a model.json file, or the folder holding it (a path, a file: URL, or an http(s)
 * URL).
 */
export async function readTfjsFolder(pathOrUrl: string): Promise<TfjsFiles> {
  if (isUrl(pathOrUrl)) {
    const modelUrl = /\.json([?#].*)?$/i.test(pathOrUrl)
      ? pathOrUrl
      : `${pathOrUrl.replace(/\/?$/, '/')}model.json`;
    const modelJson = parse(await (await fetchOk(modelUrl)).text(), modelUrl);
    const weights = await Promise.all(
      shardPaths(modelJson, modelUrl).map(async (p) => {
        const res = await fetchOk(new URL(p, modelUrl).href);
        return new Uint8Array(await res.arrayBuffer());
      }),
    );
    return { modelJson, weights };
  }
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  let file = /^file:/i.test(pathOrUrl) ? fileURLToPath(pathOrUrl) : pathOrUrl;
  let info;
  try {
    info = await fs.stat(file);
  } catch {
    throw new ModelFormatError(`TF.js model not found: ${file}`);
  }
  if (info.isDirectory()) file = path.join(file, 'model.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new ModelFormatError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const modelJson = parse(text, file);
  const dir = path.dirname(file);
  const weights = await Promise.all(
    shardPaths(modelJson, file).map(async (p) => {
      const shard = path.join(dir, decodeURIComponent(p));
      try {
        const buf = await fs.readFile(shard);
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (e) {
        throw new ModelFormatError(`cannot read the TF.js weight shard ${shard}: ${(e as Error).message}`);
      }
    }),
  );
  return { modelJson, weights };
}
