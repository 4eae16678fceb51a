/**
 * The library's native model format: `model.json` (format_version 1: a sequential layer list;
 * 2: a graph with named nodes and inputs) plus raw little-endian float32 parameter files in
 * PyTorch layouts. Documented in docs/model-format.md.
 */
import { ModelFormatError, UnsupportedError } from '../errors.js';
import { MODEL_INPUT, type Graph, type GraphNode, type Pads4, type Pair } from '../graph/ir.js';

export type ReadBytes = (relativePath: string) => Promise<Uint8Array>;

interface ParamRef {
  file: string;
  shape: number[];
  dtype?: string;
}

type Json = Record<string, unknown>;

export function isLrpJson(json: unknown): boolean {
  return !!json && typeof json === 'object' && Array.isArray((json as Json).layers) && 'format_version' in (json as Json);
}

export async function importLrpJson(json: unknown, readBytes: ReadBytes, fileName = 'model.json'): Promise<Graph> {
  if (!isLrpJson(json)) throw new ModelFormatError(`${fileName}: not an lrp model.json (needs "format_version" and a "layers" list)`);
  const m = json as Json;
  const version = m.format_version;
  if (version !== 1 && version !== 2) throw new ModelFormatError(`${fileName}: unsupported format_version ${String(version)} (supported: 1, 2)`);
  if (m.dtype !== undefined && m.dtype !== 'float32') throw new UnsupportedError(`${fileName}: dtype '${String(m.dtype)}' is not supported (float32 only)`);
  const inputShape = intArray(m.input_shape, `${fileName}: input_shape`);
  const layers = m.layers as Json[];
  if (layers.length === 0) throw new ModelFormatError(`${fileName}: "layers" is empty`);

  const nodes: GraphNode[] = [];
  let previous = MODEL_INPUT;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    if (!layer || typeof layer !== 'object') throw new ModelFormatError(`${fileName}: layers[${i}] is not an object`);
    const name = version === 2 ? str(layer.name, `${fileName}: layers[${i}].name`) : String(layer.index ?? i);
    const inputs = version === 2 ? strArray(layer.inputs, `${fileName}: layer '${name}' inputs`) : [previous];
    const where = `${fileName}: layer '${name}' (${String(layer.type)})`;
    const param = async (key: string, required: boolean): Promise<Float32Array | null> => {
      const ref = layer[key] as ParamRef | null | undefined;
      if (ref === null || ref === undefined) {
        if (required) throw new ModelFormatError(`${where}: missing parameter '${key}'`);
        return null;
      }
      return readParam(ref, readBytes, `${where}.${key}`);
    };
    const base = { name, inputs, source: name };
    let node: GraphNode;
    switch (layer.type) {
      case 'linear':
        node = {
          ...base,
          op: 'dense',
          inFeatures: int(layer.in_features, `${where}: in_features`),
          outFeatures: int(layer.out_features, `${where}: out_features`),
          weight: (await param('weight', true))!,
          bias: await param('bias', false),
        };
        break;
      case 'conv2d': {
        if (layer.padding_mode !== undefined && layer.padding_mode !== 'zeros')
          throw new UnsupportedError(`${where}: padding_mode '${String(layer.padding_mode)}' is not supported (zeros only)`);
        node = {
          ...base,
          op: 'conv2d',
          inChannels: int(layer.in_channels, `${where}: in_channels`),
          outChannels: int(layer.out_channels, `${where}: out_channels`),
          kernel: pair(layer.kernel_size, `${where}: kernel_size`),
          stride: pair(layer.stride ?? 1, `${where}: stride`),
          padding: pads(layer.padding ?? 0, `${where}: padding`),
          dilation: pair(layer.dilation ?? 1, `${where}: dilation`),
          groups: int(layer.groups ?? 1, `${where}: groups`),
          weight: (await param('weight', true))!,
          bias: await param('bias', false),
        };
        break;
      }
      case 'relu':
        node = { ...base, op: 'relu' };
        break;
      case 'maxpool2d': {
        const kernel = pair(layer.kernel_size, `${where}: kernel_size`);
        node = {
          ...base,
          op: 'maxpool2d',
          kernel,
          stride: pair(layer.stride ?? kernel, `${where}: stride`),
          padding: pads(layer.padding ?? 0, `${where}: padding`),
          dilation: pair(layer.dilation ?? 1, `${where}: dilation`),
          ceilMode: !!layer.ceil_mode,
        };
        break;
      }
      case 'avgpool2d': {
        const kernel = pair(layer.kernel_size, `${where}: kernel_size`);
        node = {
          ...base,
          op: 'avgpool2d',
          kernel,
          stride: pair(layer.stride ?? kernel, `${where}: stride`),
          padding: pads(layer.padding ?? 0, `${where}: padding`),
          ceilMode: !!layer.ceil_mode,
          countIncludePad: layer.count_include_pad === undefined ? true : !!layer.count_include_pad,
          divisorOverride: layer.divisor_override === null || layer.divisor_override === undefined ? null : int(layer.divisor_override, `${where}: divisor_override`),
        };
        break;
      }
      case 'adaptiveavgpool2d': {
        const os = pair(layer.output_size ?? 1, `${where}: output_size`);
        if (os[0] !== 1 || os[1] !== 1) throw new UnsupportedError(`${where}: adaptive average pooling to ${os.join('x')} is not supported (only 1x1)`);
        node = { ...base, op: 'globalavgpool' };
        break;
      }
      case 'flatten': {
        const start = layer.start_dim ?? 1;
        const end = layer.end_dim ?? -1;
        if (start !== 1 || end !== -1) throw new UnsupportedError(`${where}: flatten(start_dim=${String(start)}, end_dim=${String(end)}) is not supported (1, -1 only)`);
        node = { ...base, op: 'flatten' };
        break;
      }
      case 'batchnorm2d':
      case 'batchnorm1d':
        node = {
          ...base,
          op: 'batchnorm',
          numFeatures: int(layer.num_features, `${where}: num_features`),
          eps: num(layer.eps ?? 1e-5, `${where}: eps`),
          weight: (await param('weight', true))!,
          bias: (await param('bias', true))!,
          runningMean: (await param('running_mean', true))!,
          runningVar: (await param('running_var', true))!,
        };
        break;
      case 'add':
        node = { ...base, op: 'add' };
        break;
      case 'concat': {
        const axis = int(layer.axis ?? layer.dim ?? 1, `${where}: axis`);
        if (axis < 1) throw new UnsupportedError(`${where}: concat along axis ${axis} (the batch axis) is not supported`);
        node = { ...base, op: 'concat', axis: axis - 1 };
        break;
      }
      case 'dropout':
      case 'identity':
      case 'softmax':
        node = { ...base, op: layer.type };
        break;
      default:
        throw new UnsupportedError(`${fileName}: unsupported layer type '${String(layer.type)}' at layer '${name}'`);
    }
    nodes.push(node);
    previous = name;
  }
  const output = version === 2 ? str(m.output ?? previous, `${fileName}: output`) : previous;
  const range = m.input_range as unknown;
  return {
    name: typeof m.name === 'string' ? m.name : 'model',
    inputShape,
    inputLayout: 'NCHW',
    inputRange: Array.isArray(range) && range.length === 2 && range.every((v) => typeof v === 'number') ? [range[0], range[1]] : undefined,
    nodes,
    output,
    notes: [],
    format: 'lrp-json',
  };
}

async function readParam(ref: ParamRef, readBytes: ReadBytes, where: string): Promise<Float32Array> {
  if (!ref || typeof ref !== 'object' || typeof ref.file !== 'string') throw new ModelFormatError(`${where}: expected {"file", "shape"}`);
  if (ref.dtype !== undefined && ref.dtype !== 'float32') throw new UnsupportedError(`${where}: dtype '${ref.dtype}' is not supported (float32 only)`);
  const shape = intArray(ref.shape, `${where}.shape`);
  const count = shape.reduce((a, b) => a * b, 1);
  let bytes: Uint8Array;
  try {
    bytes = await readBytes(ref.file);
  } catch (e) {
    throw new ModelFormatError(`${where}: cannot read parameter file '${ref.file}': ${(e as Error).message}`);
  }
  if (bytes.byteLength !== count * 4)
    throw new ModelFormatError(`${where}: parameter file '${ref.file}' has ${bytes.byteLength} bytes, expected ${count * 4} for shape [${shape.join(', ')}]`);
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(bytes);
  for (let i = 0; i < count; i++)
    if (!Number.isFinite(out[i])) throw new ModelFormatError(`${where}: parameter file '${ref.file}' holds a non-finite value at index ${i}`);
  return out;
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelFormatError(`${what} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ModelFormatError(`${what} must be an integer, got ${JSON.stringify(v)}`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new ModelFormatError(`${what} must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function strArray(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length === 0) throw new ModelFormatError(`${what} must be a non-empty list of names`);
  return v.map((x, i) => str(x, `${what}[${i}]`));
}

function intArray(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length === 0) throw new ModelFormatError(`${what} must be a non-empty list of integers, got ${JSON.stringify(v)}`);
  return v.map((x, i) => int(x, `${what}[${i}]`));
}

function pair(v: unknown, what: string): Pair {
  if (typeof v === 'number') return [int(v, what), v];
  const a = intArray(v, what);
  if (a.length !== 2) throw new ModelFormatError(`${what} must have 2 values, got ${a.length}`);
  return [a[0], a[1]];
}

function pads(v: unknown, what: string): Pads4 {
  if (typeof v === 'number') {
    const p = int(v, what);
    return [p, p, p, p];
  }
  const a = intArray(v, what);
  if (a.length === 2) return [a[0], a[1], a[0], a[1]];
  if (a.length === 4) return [a[0], a[1], a[2], a[3]];
  throw new ModelFormatError(`${what} must have 2 ([h, w]) or 4 ([top, left, bottom, right]) values`);
}
