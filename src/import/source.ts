/**
 * Every kind of model source a caller may hold, opened to one of two shapes: a model file's bytes
 * with a way to read the files it names (TF.js shards, lrp parameter files), or a TF.js model
 * already in memory. Browser-safe: files on disk go through the platform module.
 */
import { ModelFormatError } from '../errors.js';
import { concatBytes } from './bytes.js';
import { folderToModelJson, locate, readLocation, readResponse, sibling, where } from './location.js';

/** What `fetch()` resolves to (structural, so the types need neither the DOM lib nor Node's). */
export interface ResponseLike {
  /** Whether the status is 2xx. */
  readonly ok: boolean;
  /** The HTTP status. */
  readonly status: number;
  /** The HTTP status text. */
  readonly statusText?: string;
  /** Where it came from; TF.js shards and lrp parameter files are fetched relative to it. */
  readonly url: string;
  /** The body. */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A `Blob`, or a `File` (from `<input type="file">` or a drop), which adds `name`. */
export interface BlobLike {
  /** Bytes. */
  readonly size: number;
  /** MIME type. */
  readonly type: string;
  /** A File's name: matched against the file names model.json refers to. */
  readonly name?: string;
  /** The content. */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** The in-memory form of a TF.js model that `tf.io` handlers pass around. */
export interface TfjsModelArtifacts {
  /** The Keras topology (model.json's `modelTopology`). */
  modelTopology?: object | ArrayBuffer;
  /** The weights' names, shapes and dtypes, in the order of `weightData`. */
  weightSpecs?: unknown[];
  /** All weights, concatenated (or in parts, as newer TF.js versions give them). */
  weightData?: ArrayBuffer | ArrayBuffer[];
}

/** What a TF.js save handler answers (TF.js's `SaveResult`). */
export interface TfjsSaveResult {
  /** When and how the model was saved. */
  modelArtifactsInfo: {
    /** When. */
    dateSaved: Date;
    /** How the topology was stored. */
    modelTopologyType: 'JSON' | 'GraphDef';
  };
}

/** A `tf.LayersModel` (or anything with TF.js's `save(handler)`): saved through a handler, no files. */
export interface TfjsLayersModelLike {
  /** TF.js's `LayersModel.save`, called with a handler that keeps the artifacts. */
  save(handler: { save(artifacts: TfjsModelArtifacts): Promise<TfjsSaveResult> }): Promise<unknown>;
}

/** A TF.js model.json already parsed, with its weight shards (in manifest path order) or all weights concatenated. */
export interface TfjsInMemory {
  /** The parsed model.json (modelTopology and weightsManifest). */
  modelJson: unknown;
  /** The weight shards in manifest path order, or all weights concatenated. */
  weights: ArrayBuffer | Uint8Array | Array<ArrayBuffer | Uint8Array>;
}

/**
 * A model, wherever it is:
 * - a string: a URL (`https:`, `blob:`, `data:`, `file:`), or a path in Node; in browsers a relative
 *   string resolves against `document.baseURI` (or a worker's `self.location`), as fetch does.
 *   A Node folder or a URL ending in `/` means the `model.json` inside.
 * - a `URL`, or a fetch `Response` (files it names are fetched relative to `response.url`);
 * - ONNX bytes (`Uint8Array` or `ArrayBuffer`), e.g. what you gave `ort.InferenceSession.create`;
 * - a `File`/`Blob` (an ONNX file), or several Files (a `FileList` or an array: a `model.json` with
 *   its weight or parameter files, as picked or dropped together);
 * - a TF.js model in memory: a `tf.LayersModel`, its `ModelArtifacts`, or `{ modelJson, weights }`.
 */
export type ModelSource =
  | string
  | URL
  | Uint8Array
  | ArrayBuffer
  | ResponseLike
  | BlobLike
  | ArrayLike<BlobLike>
  | TfjsInMemory
  | TfjsModelArtifacts
  | TfjsLayersModelLike;

/** A model file's bytes and the files it names. */
export interface OpenedFile {
  kind: 'file';
  /** For messages: the path, URL or file name. */
  name: string;
  bytes: Uint8Array;
  /** Bytes of a file named in the model file by a relative, URL-encoded path. */
  sibling(rel: string, what: string): Promise<Uint8Array>;
}

export type Opened = OpenedFile | ({ kind: 'tfjs'; name?: string } & TfjsInMemory);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isResponse = (v: unknown): v is ResponseLike => isObject(v) && typeof v.arrayBuffer === 'function' && typeof v.ok === 'boolean' && typeof v.status === 'number';
const isBlob = (v: unknown): v is BlobLike => isObject(v) && typeof v.arrayBuffer === 'function' && typeof v.size === 'number' && typeof v.type === 'string';
const baseName = (p: string) => p.split(/[\\/]/).pop() ?? p;

const noSiblings = (name: string, hint: string) => (rel: string, what: string) =>
  Promise.reject(new ModelFormatError(`${name} names the ${what} '${rel}', which cannot be read from here: ${hint}`));

async function blobBytes(b: BlobLike): Promise<Uint8Array> {
  return new Uint8Array(await b.arrayBuffer());
}

/** A model.json with its files, or one model file, from a FileList or array of Files. */
async function openFiles(list: ArrayLike<BlobLike>): Promise<OpenedFile> {
  const files = Array.from(list);
  if (files.length === 0) throw new ModelFormatError('no files given');
  if (!files.every(isBlob)) throw new ModelFormatError('a list of model files must hold File or Blob objects');
  const names = files.map((f, i) => f.name ?? `file ${i}`);
  const json = files.filter((f) => /\.json$/i.test(f.name ?? ''));
  const main = files.length === 1 ? files[0] : (json.find((f) => baseName(f.name!) === 'model.json') ?? (json.length === 1 ? json[0] : undefined));
  if (!main)
    throw new ModelFormatError(`cannot tell which of the ${files.length} files is the model: give one model.json (with its weight files) or one .onnx file (got ${names.join(', ')})`);
  const byName = new Map(files.map((f, i) => [baseName(names[i]), f]));
  return {
    kind: 'file',
    name: main.name ?? 'model file',
    bytes: await blobBytes(main),
    async sibling(rel, what) {
      const f = byName.get(baseName(decodeURIComponent(rel)));
      if (!f) throw new ModelFormatError(`the ${what} '${rel}' named in ${main.name ?? 'the model file'} is not among the files given (${names.join(', ')})`);
      return blobBytes(f);
    },
  };
}

/** TF.js ModelArtifacts as a model.json (one weights group) and its weights. */
function fromArtifacts(a: TfjsModelArtifacts): Opened {
  if (!isObject(a.modelTopology) || a.modelTopology instanceof ArrayBuffer)
    throw new ModelFormatError('TF.js model artifacts without a JSON modelTopology (a graph model or a binary topology) are not supported');
  const parts = a.weightData === undefined ? [] : Array.isArray(a.weightData) ? a.weightData : [a.weightData];
  return {
    kind: 'tfjs',
    modelJson: { modelTopology: a.modelTopology, weightsManifest: [{ paths: [], weights: a.weightSpecs ?? [] }] },
    weights: concatBytes(parts.map((p) => new Uint8Array(p))),
  };
}

/** A tf.LayersModel through a save handler that keeps the artifacts in memory. */
async function fromLayersModel(m: TfjsLayersModelLike): Promise<Opened> {
  let artifacts: TfjsModelArtifacts | undefined;
  await m.save({
    save(a) {
      artifacts = a;
      return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } });
    },
  });
  if (!artifacts) throw new ModelFormatError("the model's save() did not hand over its artifacts");
  return fromArtifacts(artifacts);
}

export async function openSource(source: ModelSource): Promise<Opened> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
    return { kind: 'file', name: 'model bytes', bytes, sibling: noSiblings('the model', 'pass its URL or path, or the model.json together with its files') };
  }
  if (typeof source === 'string' || source instanceof URL) {
    const loc = await folderToModelJson(locate(source));
    const name = where(loc);
    const bytes = await readLocation(loc, 'model file');
    return { kind: 'file', name, bytes, sibling: (rel, what) => readLocation(sibling(loc, rel), what) };
  }
  if (!isObject(source)) throw new ModelFormatError(`a model source cannot be ${source === null ? 'null' : typeof source}`);
  const obj = source as Record<string, unknown>;
  if (isResponse(source)) {
    const name = source.url || 'the Response';
    const bytes = await readResponse(source as unknown as Response, 'model', name);
    const sib = source.url
      ? (rel: string, what: string) => readLocation(sibling({ kind: 'url', href: source.url }, rel), what)
      : noSiblings(name, 'a Response without a url cannot locate them; pass the URL instead');
    return { kind: 'file', name, bytes, sibling: sib };
  }
  if (isBlob(source)) {
    const name = source.name ?? 'the Blob';
    return { kind: 'file', name, bytes: await blobBytes(source), sibling: noSiblings(name, 'pass the model.json together with its files (a FileList or an array of Files)') };
  }
  if ('modelJson' in obj) return { kind: 'tfjs', modelJson: obj.modelJson, weights: (obj as unknown as TfjsInMemory).weights };
  if ('modelTopology' in obj) return fromArtifacts(obj as TfjsModelArtifacts);
  if (typeof obj.save === 'function') return fromLayersModel(obj as unknown as TfjsLayersModelLike);
  if (typeof obj.length === 'number') return openFiles(obj as unknown as ArrayLike<BlobLike>);
  throw new ModelFormatError(
    'unknown model source: expected a path or URL, a Response, ONNX bytes, a File or FileList, a tf.LayersModel, TF.js ModelArtifacts, or { modelJson, weights }',
  );
}
