/**
 * Reads a TF.js LayersModel folder: model.json and its weight shards (paths relative to
 * model.json, in manifest order), from a path (Node), a file: URL or a fetched URL.
 */
import { ModelFormatError } from '../errors.js';
import { folderToModelJson, locate, readLocation, sibling, where, type ModelLocation } from './location.js';

export interface TfjsFiles {
  modelJson: object;
  weights: Uint8Array[];
}

/** The shard paths of a model.json's weightsManifest, in order. */
export function shardPaths(modelJson: unknown, name: string): string[] {
  const manifest = (modelJson as { weightsManifest?: unknown }).weightsManifest;
  if (!Array.isArray(manifest)) throw new ModelFormatError(`${name} has no weightsManifest (not a TF.js LayersModel)`);
  return manifest.flatMap((g: { paths?: unknown }) => (Array.isArray(g?.paths) ? g.paths.map(String) : []));
}

function parse(text: string, name: string): object {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(`${name} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelFormatError(`${name} is not a JSON object`);
  }
  return json;
}

/** The shards of a parsed model.json found at `loc`. */
export function readShards(modelJson: object, loc: ModelLocation): Promise<Uint8Array[]> {
  return Promise.all(shardPaths(modelJson, where(loc)).map((p) => readLocation(sibling(loc, p), 'TF.js weight shard')));
}

/**
 * `pathOrUrl`: a model.json file, or the folder holding it (a path, a file: URL, or an http(s)
 * URL; relative strings as `locate` resolves them).
 */
export async function readTfjsFolder(pathOrUrl: string | URL): Promise<TfjsFiles> {
  let loc = await folderToModelJson(locate(pathOrUrl));
  if (loc.kind === 'url' && !/\.json([?#].*)?$/i.test(loc.href)) loc = sibling({ kind: 'url', href: `${loc.href}/` }, 'model.json');
  const modelJson = parse(new TextDecoder().decode(await readLocation(loc, 'TF.js model')), where(loc));
  return { modelJson, weights: await readShards(modelJson, loc) };
}
