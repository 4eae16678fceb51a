/**
 * TF.js LayersModel → IR. Reads the Keras topology (Sequential or functional) and the weights
 * (matched by name), and translates every layer once into the IR's PyTorch layouts (see
 * tfjs-layers.ts). The graph is NCHW; `inputLayout` tells callers that the model's own inputs
 * are NHWC (4-D inputs) so the model API transposes at its boundary. Sequence inputs ([N, L, C]
 * feature vectors, [N, L] token ids) are already in the graph's sequence layout ([L, C] tokens ×
 * features) and keep it: their `inputLayout` is 'NCHW' (no translation; tfjs-sequence.ts).
 */
import { ModelFormatError, ShapeError, UnsupportedError } from '../errors.js';
import { MODEL_INPUT, type Graph, type Shape } from '../graph/ir.js';
import { checkSampleSize, MAX_INT32 } from '../graph/shapes.js';
import { GraphBuilder } from './builder.js';
import { shapeStr } from './geometry.js';
import { checkPadReader, TFJS_LAYERS, type TValue } from './tfjs-layers.js';
import { parseTopology, type KerasTopology } from './tfjs-topology.js';
import { TfjsWeights, type WeightData } from './tfjs-weights.js';

export interface TfjsImportOptions {
  /** Graph name (default: the Keras model's name). */
  name?: string;
  /** Per-sample input shape in NCHW order (e.g. [1, 28, 28]), for inputs with unknown dimensions. */
  inputShape?: number[];
}

/** Per-sample IR input shape ([C, H, W], [L, C] or [F]) and the layout of the model's own inputs. */
function inputOf(topo: KerasTopology, override: number[] | undefined): { shape: Shape; layout: 'NCHW' | 'NHWC' } {
  const bis = topo.batchInputShape;
  if (override && (override.length < 1 || override.some((d) => !Number.isInteger(d) || d < 1 || d > MAX_INT32))) {
    throw new ShapeError(`inputShape ${shapeStr(override)} must be positive integers (per sample, NCHW, no batch axis)`);
  }
  if (!bis) {
    if (!override) {
      throw new ModelFormatError('the TF.js model does not declare its input shape (batch_input_shape); pass inputShape');
    }
    if (override.length < 1 || override.length > 3) {
      throw new UnsupportedError(`inputShape ${shapeStr(override)}: only [features], [steps, channels] or [C, H, W] inputs are supported`);
    }
    return { shape: override.slice(), layout: override.length === 3 ? 'NHWC' : 'NCHW' };
  }
  const keras = bis.slice(1);
  let ir: Array<number | null>;
  if (keras.length === 3) ir = [keras[2], keras[0], keras[1]];
  else if (keras.length === 1 || keras.length === 2) ir = keras;
  else {
    throw new UnsupportedError(
      `the TF.js model input has shape ${shapeStr(bis.map((d) => d ?? -1))}; only [N, features], [N, steps, channels] or [N, H, W, C] inputs are supported`,
    );
  }
  const fileStr = `[${bis.map((d) => (d === null ? 'null' : d)).join(', ')}]`;
  if (override) {
    if (override.length !== ir.length || ir.some((d, i) => d !== null && d !== override[i])) {
      const layouts = ir.length === 3 ? [' (NCHW)', ' (NHWC)'] : ['', ''];
      throw new ShapeError(`inputShape ${shapeStr(override)}${layouts[0]} disagrees with the TF.js input ${fileStr}${layouts[1]}`);
    }
    ir = override;
  }
  if (ir.some((d) => d === null || !(d > 0))) {
    throw new ModelFormatError(`the TF.js input ${fileStr} has unknown dimensions besides the batch; pass inputShape`);
  }
  if (ir.some((d) => !Number.isInteger(d) || d! > MAX_INT32)) {
    throw new ModelFormatError(`the TF.js input ${fileStr} must have integer dimensions up to 2^31-1`);
  }
  checkSampleSize(ir as number[], `the TF.js input ${fileStr}`);
  return { shape: ir as number[], layout: ir.length === 3 ? 'NHWC' : 'NCHW' };
}

/**
 * Imports a TF.js LayersModel: `modelJson` is the parsed model.json (modelTopology +
 * weightsManifest), `weights` the shard(s) in manifest path order (or all of them concatenated).
 */
export function importTfjs(modelJson: object, weights: WeightData, opts: TfjsImportOptions = {}): Graph {
  const topo = parseTopology(modelJson);
  const store = new TfjsWeights((modelJson as { weightsManifest?: unknown }).weightsManifest, weights);
  const input = inputOf(topo, opts.inputShape);

  const b = new GraphBuilder();
  const notes: string[] = [];
  const values = new Map<string, TValue>([[topo.input, { node: MODEL_INPUT, shape: input.shape.slice(), perm: null }]]);
  const readers = new Map<string, number>();
  for (const layer of topo.layers) for (const i of layer.inbound) readers.set(i, (readers.get(i) ?? 0) + 1);
  for (const layer of topo.layers) {
    const handler = Object.prototype.hasOwnProperty.call(TFJS_LAYERS, layer.className)
      ? TFJS_LAYERS[layer.className]
      : undefined;
    if (!handler) {
      const nested = layer.className === 'Sequential' || layer.className === 'Model' || layer.className === 'Functional';
      throw new UnsupportedError(
        `unsupported TF.js layer class '${layer.className}' at layer '${layer.name}'${nested ? ' (nested models are not supported)' : ''}`,
      );
    }
    const dtype = layer.config.dtype;
    if (dtype !== undefined && dtype !== null && dtype !== 'float32') {
      throw new UnsupportedError(`TF.js layer '${layer.name}' has dtype ${String(dtype)}; only float32 is supported`);
    }
    const inputs = layer.inbound.map((name) => {
      const v = values.get(name);
      if (!v) throw new ModelFormatError(`TF.js layer '${layer.name}' reads '${name}', which is not computed before it`);
      return v;
    });
    checkPadReader(layer, inputs);
    const ctx = { b, weights: store, notes, isOutput: layer.name === topo.output, consumers: readers.get(layer.name) ?? 0 };
    values.set(layer.name, handler(layer, inputs, ctx));
  }
  const out = values.get(topo.output)!;
  if (out.node === MODEL_INPUT) throw new ModelFormatError('the TF.js model has no layers between input and output');
  if (out.perm) {
    throw new UnsupportedError(
      `the TF.js model output ('${topo.output}') is a flattened spatial tensor, whose order differs between Keras (H, W, C) and the graph (C, H, W)`,
    );
  }
  return {
    name: opts.name ?? topo.name ?? 'tfjs-model',
    inputShape: input.shape,
    inputLayout: input.layout,
    nodes: b.nodes,
    output: out.node,
    notes,
    format: 'tfjs',
  };
}
