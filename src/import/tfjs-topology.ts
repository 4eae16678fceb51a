/**
 * The Keras topology in a TF.js model.json: Sequential or functional (`Model` / `Functional`),
 * reduced to a list of layer calls in topological order, each naming the layers it reads.
 * Both the Keras 2 `inbound_nodes` form written by tfjs ([[["conv1", 0, 0, {}], …]]) and the
 * Keras 3 form ([{args: [keras tensors], kwargs}]) are read.
 */
import { ModelFormatError, UnsupportedError } from '../errors.js';

export type Config = Record<string, unknown>;

export interface KerasLayer {
  name: string;
  className: string;
  config: Config;
  /** Names of the layers whose outputs this layer reads (the model input is `KerasTopology.input`). */
  inbound: string[];
}

export interface KerasTopology {
  name: string | undefined;
  /** The name that stands for the model input in `inbound`. */
  input: string;
  /** [null, H, W, C] or [null, F] as in the file (null = unknown). */
  batchInputShape: Array<number | null> | undefined;
  /** Layers other than the InputLayer, in topological order. */
  layers: KerasLayer[];
  /** The layer whose output is the model output. */
  output: string;
}

/** Stands for the model input of a Sequential without an InputLayer (cannot clash with a layer name). */
const SEQUENTIAL_INPUT = '\u0000input';

function isRecord(v: unknown): v is Config {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A config value under its snake_case key, or the camelCase one hand-written files use. */
export function cfg(config: Config, key: string): unknown {
  if (key in config) return config[key];
  const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return config[camel];
}

function batchShapeOf(config: Config): Array<number | null> | undefined {
  const b = cfg(config, 'batch_input_shape') ?? cfg(config, 'batch_shape');
  if (Array.isArray(b)) return b.map((d) => (d === null || d === undefined ? null : Number(d)));
  const s = cfg(config, 'input_shape');
  if (Array.isArray(s)) return [null, ...s.map((d) => (d === null || d === undefined ? null : Number(d)))];
  return undefined;
}

/** A leading Embedding without an input shape reads [N, input_length] token ids (hand-written files). */
function embeddingInput(e: { className: string; config: Config }): Array<number | null> | undefined {
  const len = e.className === 'Embedding' ? cfg(e.config, 'input_length') : undefined;
  const n = Array.isArray(len) && len.length === 1 ? len[0] : len;
  return typeof n === 'number' ? [null, n] : undefined;
}

function layerEntry(raw: unknown, i: number): { name: string; className: string; config: Config; rawInbound: unknown } {
  if (!isRecord(raw) || typeof raw.class_name !== 'string') {
    throw new ModelFormatError(`modelTopology layer ${i} has no class_name`);
  }
  const config = isRecord(raw.config) ? raw.config : {};
  const name = typeof config.name === 'string' ? config.name : typeof raw.name === 'string' ? raw.name : '';
  if (!name) throw new ModelFormatError(`modelTopology layer ${i} (${raw.class_name}) has no name`);
  return { name, className: raw.class_name, config, rawInbound: raw.inbound_nodes };
}

function sequential(config: unknown, name: string | undefined): KerasTopology {
  const list = Array.isArray(config) ? config : isRecord(config) ? config.layers : undefined;
  if (!Array.isArray(list) || list.length === 0) throw new ModelFormatError('the Sequential model has no layers');
  const entries = list.map(layerEntry);
  let input = SEQUENTIAL_INPUT;
  let batchInputShape: Array<number | null> | undefined;
  let start = 0;
  if (entries[0].className === 'InputLayer') {
    input = entries[0].name;
    batchInputShape = batchShapeOf(entries[0].config);
    start = 1;
  } else {
    batchInputShape = batchShapeOf(entries[0].config) ?? embeddingInput(entries[0]);
  }
  const layers: KerasLayer[] = [];
  let prev = input;
  for (const e of entries.slice(start)) {
    if (e.className === 'InputLayer') throw new UnsupportedError(`InputLayer '${e.name}' in the middle of a Sequential model`);
    layers.push({ name: e.name, className: e.className, config: e.config, inbound: [prev] });
    prev = e.name;
  }
  if (layers.length === 0) throw new ModelFormatError('the Sequential model has no layers besides its InputLayer');
  return { name, input, batchInputShape, layers, output: prev };
}

/** Layer names referenced by one call of a layer, for both inbound_nodes forms. */
function parseCall(call: unknown, where: string): string[] {
  const refs: string[] = [];
  const checkRef = (layer: unknown, node: unknown, tensor: unknown) => {
    if (typeof layer !== 'string') throw new ModelFormatError(`${where}: bad inbound reference`);
    if (Number(node ?? 0) !== 0 || Number(tensor ?? 0) !== 0) {
      throw new UnsupportedError(`${where}: reads output ${String(node)}/${String(tensor)} of '${layer}' (shared or multi-output layers are not supported)`);
    }
    refs.push(layer);
  };
  if (Array.isArray(call)) {
    // Keras 2: [[layer, nodeIndex, tensorIndex, kwargs], ...]
    for (const r of call) {
      if (!Array.isArray(r)) throw new ModelFormatError(`${where}: bad inbound reference`);
      checkRef(r[0], r[1], r[2]);
    }
    return refs;
  }
  if (isRecord(call) && 'args' in call) {
    // Keras 3: {args: [tensor | [tensors]], kwargs}
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (isRecord(v) && v.class_name === '__keras_tensor__' && isRecord(v.config)) {
        const h = v.config.keras_history;
        if (!Array.isArray(h)) throw new ModelFormatError(`${where}: keras tensor without keras_history`);
        checkRef(h[0], h[1], h[2]);
      }
    };
    walk(call.args);
    return refs;
  }
  throw new ModelFormatError(`${where}: unrecognised inbound_nodes entry`);
}

function single(list: unknown, what: string): string {
  // [["input", 0, 0]] (Keras 2) or ["input", 0, 0] (one tensor)
  if (!Array.isArray(list)) throw new ModelFormatError(`the functional model has no ${what}`);
  const items = list.length > 0 && typeof list[0] === 'string' ? [list] : list;
  if (items.length !== 1) throw new UnsupportedError(`the model has ${items.length} ${what}; exactly one is supported`);
  const ref = items[0];
  if (!Array.isArray(ref) || typeof ref[0] !== 'string') throw new ModelFormatError(`bad entry in ${what}`);
  if (Number(ref[1] ?? 0) !== 0 || Number(ref[2] ?? 0) !== 0) {
    throw new UnsupportedError(`${what} refers to output ${ref[1]}/${ref[2]} of '${ref[0]}'; only the first is supported`);
  }
  return ref[0];
}

function functional(config: unknown, name: string | undefined): KerasTopology {
  if (!isRecord(config) || !Array.isArray(config.layers)) throw new ModelFormatError('the functional model has no layers');
  const entries = config.layers.map(layerEntry);
  const byName = new Map<string, KerasLayer>();
  let inputLayer: { name: string; config: Config } | undefined;
  const input = single(config.input_layers, 'input_layers');
  const output = single(config.output_layers, 'output_layers');
  for (const e of entries) {
    if (byName.has(e.name)) throw new ModelFormatError(`two layers are named '${e.name}'`);
    const where = `TF.js layer '${e.name}' (${e.className})`;
    const calls = Array.isArray(e.rawInbound) ? e.rawInbound : [];
    if (e.className === 'InputLayer') {
      if (e.name === input) inputLayer = { name: e.name, config: e.config };
      byName.set(e.name, { name: e.name, className: e.className, config: e.config, inbound: [] });
      continue;
    }
    if (calls.length > 1) throw new UnsupportedError(`${where} is called ${calls.length} times (shared layers are not supported)`);
    const inbound = calls.length === 1 ? parseCall(calls[0], where) : [];
    byName.set(e.name, { name: e.name, className: e.className, config: e.config, inbound });
  }
  if (!inputLayer) throw new ModelFormatError(`input_layers names '${input}', which is not an InputLayer of the model`);
  if (!byName.has(output)) throw new ModelFormatError(`output_layers names '${output}', which is not a layer of the model`);

  // Depth-first from the output: only layers that feed the output, in an order where every
  // layer comes after the layers it reads.
  const order: KerasLayer[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (layerName: string, from: string) => {
    if (layerName === input) return;
    const layer = byName.get(layerName);
    if (!layer) throw new ModelFormatError(`layer '${from}' reads '${layerName}', which is not in the model`);
    if (layer.className === 'InputLayer') throw new UnsupportedError(`layer '${from}' reads a second input '${layerName}'`);
    const s = state.get(layerName);
    if (s === 'done') return;
    if (s === 'visiting') throw new ModelFormatError(`the layer graph has a cycle through '${layerName}'`);
    state.set(layerName, 'visiting');
    if (layer.inbound.length === 0) throw new ModelFormatError(`layer '${layerName}' has no inbound nodes`);
    for (const i of layer.inbound) visit(i, layerName);
    state.set(layerName, 'done');
    order.push(layer);
  };
  visit(output, output);
  if (order.length === 0) throw new ModelFormatError('the model has no layers between input and output');
  // Keep the file's layer order when it is already topological (it normally is): node order
  // then follows the model summary.
  const reachable = new Set(order.map((l) => l.name));
  const fileOrder = entries.filter((e) => reachable.has(e.name)).map((e) => byName.get(e.name)!);
  const seen = new Set<string>([input]);
  const fileOrderOk = fileOrder.every((l) => {
    const ok = l.inbound.every((i) => seen.has(i));
    seen.add(l.name);
    return ok;
  });
  return { name, input, batchInputShape: batchShapeOf(inputLayer.config), layers: fileOrderOk ? fileOrder : order, output };
}

export function parseTopology(modelJson: unknown): KerasTopology {
  if (!isRecord(modelJson)) throw new ModelFormatError('model.json is not a JSON object');
  const format = modelJson.format;
  if (format !== undefined && format !== 'layers-model') {
    throw new UnsupportedError(
      `TF.js model format '${String(format)}' is not supported; only LayersModel ('layers-model', from tf.LayersModel.save or the Keras converter)`,
    );
  }
  let topo = modelJson.modelTopology;
  if (!isRecord(topo)) throw new ModelFormatError('model.json has no modelTopology (not a TF.js LayersModel)');
  if (isRecord(topo.model_config)) topo = topo.model_config;
  const t = topo as Config;
  const className = t.class_name;
  const config = t.config;
  const name = isRecord(config) && typeof config.name === 'string' ? config.name : undefined;
  if (className === 'Sequential') return sequential(config, name);
  if (className === 'Model' || className === 'Functional') return functional(config, name);
  throw new UnsupportedError(`TF.js model class '${String(className)}' is not supported (Sequential, Model or Functional)`);
}
