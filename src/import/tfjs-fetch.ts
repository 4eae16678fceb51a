/**
 * Reads a TF.js LayersModel folder: model.json and its weight shards (paths relative to
 * model.json, in manifest order). Node paths use node:fs (imported on demand, so browsers never
 * load it); http(s) URLs use fetch.
 */
import { ModelFormatError } from '../errors.js';
import { isFetchUrl, readBytes } from './read-bytes.js';

export interface TfjsFiles {
  modelJson: object;
  weights: Uint8Array[];
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

/**
 * `pathOrUrl`: a model.json file, or the folder holding it (a path, a file: URL, or an http(s)
 * URL).
 */
export async function readTfjsFolder(pathOrUrl: string): Promise<TfjsFiles> {
  if (isFetchUrl(pathOrUrl)) {
    const modelUrl = /\.json([?#].*)?$/i.test(pathOrUrl)
      ? pathOrUrl
      : `${pathOrUrl.replace(/\/?$/, '/')}model.json`;
    const modelJson = parse(new TextDecoder().decode(await readBytes(modelUrl)), modelUrl);
    const weights = await Promise.all(shardPaths(modelJson, modelUrl).map((p) => readBytes(new URL(p, modelUrl).href)));
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
  const modelJson = parse(new TextDecoder().decode(await readBytes(file, 'TF.js model')), file);
  const dir = path.dirname(file);
  const weights = await Promise.all(shardPaths(modelJson, file).map((p) => readBytes(path.join(dir, decodeURIComponent(p)), 'TF.js weight shard')));
  return { modelJson, weights };
}
