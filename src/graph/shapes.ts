/**
 * Shape inference and validation for the IR. Each op module infers its own output shape; this
 * file walks the graph, checks wiring and arity, and holds the checks op modules share. Every
 * check names the node, so a bad model gets a ShapeError that says where it is wrong.
 */
import { ShapeError } from '../errors.js';
import { specOf } from '../ops/registry.js';
import { MODEL_INPUT, type Graph, type GraphNode, type Pads4, type Pair, type Shape } from './ir.js';

export const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Kernels index with 32-bit signed integers: every dimension and hyper-parameter must fit. */
export const MAX_INT32 = 2 ** 31 - 1;
/** A wasm32 linear memory holds at most 4 GiB. */
export const WASM_MAX_BYTES = 2 ** 32;
/** Bytes one value of a tensor takes in the workspace: its activation and its relevance (float32 each). */
const BYTES_PER_VALUE = 8;

/**
 * Throws if one sample of `shape` cannot fit in WebAssembly memory (its activation and relevance),
 * so that an absurd shape is refused when the model is loaded, in our words.
 */
export function checkSampleSize(shape: readonly number[], what: string): void {
  const values = shape.reduce((a, b) => a * b, 1);
  if (values * BYTES_PER_VALUE > WASM_MAX_BYTES)
    throw new ShapeError(
      `${what} has ${values.toExponential(3)} values per sample ([${shape.join(', ')}]): one sample needs ${gib(values * BYTES_PER_VALUE)} for its values and relevance, more than the 4 GiB WebAssembly memory holds`,
      'E_TOO_LARGE',
    );
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toPrecision(3)} GiB`;
}

/** "conv2d node 'conv1' (layer1.conv)": how messages name a node. */
export function where(node: { op: string; name: string; source?: string }): string {
  return `${node.op} node '${node.name}'${node.source && node.source !== node.name ? ` (${node.source})` : ''}`;
}

/** Spatial output size of a conv or pool window sweep (PyTorch's formula, asymmetric pads allowed). */
export function windowOutput(inSize: number, k: number, s: number, padA: number, padB: number, d: number, ceil: boolean): number {
  const span = inSize + padA + padB - d * (k - 1) - 1;
  if (span < 0) return 0;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // PyTorch: with ceil_mode the last window must start inside the input or the left padding
  if (ceil && (out - 1) * s >= inSize + padA) out--;
  return out;
}

export function positive(v: number[], what: string, at: string): void {
  for (const x of v)
    if (!Number.isInteger(x) || x < 1 || x > MAX_INT32)
      throw new ShapeError(`${at}: ${what} must be positive integers up to 2^31-1, got [${v.join(', ')}]`);
}

export function nonNegative(v: number[], what: string, at: string): void {
  for (const x of v)
    if (!Number.isInteger(x) || x < 0 || x > MAX_INT32)
      throw new ShapeError(`${at}: ${what} must be non-negative integers up to 2^31-1, got [${v.join(', ')}]`);
}

/** A [C, H, W] input, or a ShapeError naming the node. */
export function spatial(at: string, inp: Shape): [number, number, number] {
  if (inp.length !== 3) throw new ShapeError(`${at} needs a [C, H, W] input, got [${inp.join(', ')}]`);
  return [inp[0], inp[1], inp[2]];
}

/** Output size of a window sweep over H×W, validating the hyper-parameters. */
export function sweep(at: string, H: number, W: number, k: Pair, s: Pair, p: Pads4, d: Pair, ceil: boolean): [number, number] {
  positive(k, 'kernel size', at);
  positive(s, 'strides', at);
  positive(d, 'dilations', at);
  nonNegative(p, 'pads', at);
  // the kernels compute input positions of the padded input in 32-bit integers
  if (H + p[0] + p[2] > MAX_INT32 || W + p[1] + p[3] > MAX_INT32)
    throw new ShapeError(`${at}: pads [${p.join(', ')}] make the padded ${H}x${W} input larger than 2^31-1`);
  const oh = windowOutput(H, k[0], s[0], p[0], p[2], d[0], ceil);
  const ow = windowOutput(W, k[1], s[1], p[1], p[3], d[1], ceil);
  if (oh < 1 || ow < 1)
    throw new ShapeError(`${at}: kernel ${k.join('x')} (dilation ${d.join('x')}) does not fit the padded ${H}x${W} input`);
  return [oh, ow];
}

/** Weight and bias lengths of a linear layer. */
export function checkParams(at: string, weight: Float32Array, want: number, wantStr: string, bias: Float32Array | null, outputs: number): void {
  if (weight.length !== want) throw new ShapeError(`${at}: weight has ${weight.length} values, expected ${wantStr}`);
  if (bias && bias.length !== outputs) throw new ShapeError(`${at}: bias has ${bias.length} values, expected ${outputs}`);
}

/** Output shape of one node given its input shapes. */
export function outputShape(node: GraphNode, ins: Shape[]): Shape {
  const spec = specOf(node);
  const at = where(node);
  const [lo, hi] = typeof spec.arity === 'number' ? [spec.arity, spec.arity] : spec.arity;
  if (ins.length < lo || ins.length > hi)
    throw new ShapeError(
      `${at} takes ${lo === hi ? lo : hi === Infinity ? `at least ${lo}` : `${lo} to ${hi}`} input${hi === 1 ? '' : 's'}, got ${ins.length}`,
    );
  const out = spec.shape(node, ins, at);
  positive(out, 'output dimensions', at);
  return out;
}

/** Shapes of every tensor (the model input and each node output), validating the whole graph. */
export function inferShapes(graph: Graph): Map<string, Shape> {
  const shapes = new Map<string, Shape>([[MODEL_INPUT, graph.inputShape.slice()]]);
  positive(graph.inputShape, 'input shape', 'the model input');
  checkSampleSize(graph.inputShape, 'the model input');
  let total = size(graph.inputShape);
  for (const node of graph.nodes) {
    if (shapes.has(node.name)) throw new ShapeError(`duplicate node name '${node.name}'`);
    const ins = node.inputs.map((i) => {
      const s = shapes.get(i);
      if (!s) throw new ShapeError(`${where(node)} reads '${i}', which is not produced by an earlier node`);
      return s;
    });
    const shape = outputShape(node, ins);
    checkSampleSize(shape, `the output of ${where(node)}`);
    if (!specOf(node).view) total += size(shape);
    shapes.set(node.name, shape);
  }
  if (!shapes.has(graph.output)) throw new ShapeError(`the model output '${graph.output}' is not a node of the graph`);
  checkSampleSize([total], 'all layer outputs of the model together');
  return shapes;
}
