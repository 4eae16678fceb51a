/**
 * Shape inference and validation for the IR. Every check names the node, so a bad model gets
 * a ShapeError that says where it is wrong.
 */
import { ShapeError } from '../errors.js';
import { MODEL_INPUT, VIEW_OPS, type Graph, type GraphNode, type Pads4, type Pair, type Shape } from './ir.js';

export const size = (s: Shape): number => s.reduce((a, b) => a * b, 1);

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

function where(node: GraphNode): string {
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

function positive(v: number[], what: string, node: GraphNode): void {
  for (const x of v)
    if (!Number.isInteger(x) || x < 1 || x > MAX_INT32)
      throw new ShapeError(`${where(node)}: ${what} must be positive integers up to 2^31-1, got [${v.join(', ')}]`);
}

function nonNegative(v: number[], what: string, node: GraphNode): void {
  for (const x of v)
    if (!Number.isInteger(x) || x < 0 || x > MAX_INT32)
      throw new ShapeError(`${where(node)}: ${what} must be non-negative integers up to 2^31-1, got [${v.join(', ')}]`);
}

function spatial(node: GraphNode, inp: Shape): [number, number, number] {
  if (inp.length !== 3) throw new ShapeError(`${where(node)} needs a [C, H, W] input, got [${inp.join(', ')}]`);
  return [inp[0], inp[1], inp[2]];
}

function sweep(node: GraphNode, H: number, W: number, k: Pair, s: Pair, p: Pads4, d: Pair, ceil: boolean): [number, number] {
  positive(k, 'kernel size', node);
  positive(s, 'strides', node);
  positive(d, 'dilations', node);
  nonNegative(p, 'pads', node);
  // the kernels compute input positions of the padded input in 32-bit integers
  if (H + p[0] + p[2] > MAX_INT32 || W + p[1] + p[3] > MAX_INT32)
    throw new ShapeError(`${where(node)}: pads [${p.join(', ')}] make the padded ${H}x${W} input larger than 2^31-1`);
  const oh = windowOutput(H, k[0], s[0], p[0], p[2], d[0], ceil);
  const ow = windowOutput(W, k[1], s[1], p[1], p[3], d[1], ceil);
  if (oh < 1 || ow < 1)
    throw new ShapeError(`${where(node)}: kernel ${k.join('x')} (dilation ${d.join('x')}) does not fit the padded ${H}x${W} input`);
  return [oh, ow];
}

/** Output shape of one node given its input shapes. */
export function outputShape(node: GraphNode, ins: Shape[]): Shape {
  const one = (): Shape => {
    if (ins.length !== 1) throw new ShapeError(`${where(node)} takes 1 input, got ${ins.length}`);
    return ins[0];
  };
  switch (node.op) {
    case 'dense': {
      const inp = one();
      if (inp.length !== 1 || inp[0] !== node.inFeatures)
        throw new ShapeError(`${where(node)} expects ${node.inFeatures} input features, got shape [${inp.join(', ')}]`);
      if (node.weight.length !== node.inFeatures * node.outFeatures)
        throw new ShapeError(`${where(node)}: weight has ${node.weight.length} values, expected ${node.outFeatures}x${node.inFeatures}`);
      if (node.bias && node.bias.length !== node.outFeatures)
        throw new ShapeError(`${where(node)}: bias has ${node.bias.length} values, expected ${node.outFeatures}`);
      return [node.outFeatures];
    }
    case 'conv2d': {
      const [C, H, W] = spatial(node, one());
      if (C !== node.inChannels) throw new ShapeError(`${where(node)} expects ${node.inChannels} input channels, got ${C}`);
      if (!Number.isInteger(node.groups) || node.groups < 1 || C % node.groups || node.outChannels % node.groups)
        throw new ShapeError(`${where(node)}: groups=${node.groups} must divide in_channels=${C} and out_channels=${node.outChannels}`);
      const wantW = node.outChannels * (C / node.groups) * node.kernel[0] * node.kernel[1];
      if (node.weight.length !== wantW)
        throw new ShapeError(
          `${where(node)}: weight has ${node.weight.length} values, expected [${node.outChannels}, ${C / node.groups}, ${node.kernel.join(', ')}]`,
        );
      if (node.bias && node.bias.length !== node.outChannels)
        throw new ShapeError(`${where(node)}: bias has ${node.bias.length} values, expected ${node.outChannels}`);
      const [oh, ow] = sweep(node, H, W, node.kernel, node.stride, node.padding, node.dilation, false);
      return [node.outChannels, oh, ow];
    }
    case 'maxpool2d': {
      const [C, H, W] = spatial(node, one());
      for (let a = 0; a < 2; a++)
        if (node.padding[a] * 2 > node.kernel[a] || node.padding[a + 2] * 2 > node.kernel[a])
          throw new ShapeError(`${where(node)}: padding must be at most half the kernel size`);
      const [oh, ow] = sweep(node, H, W, node.kernel, node.stride, node.padding, node.dilation, node.ceilMode);
      return [C, oh, ow];
    }
    case 'avgpool2d': {
      const [C, H, W] = spatial(node, one());
      if (node.divisorOverride !== null && (!Number.isFinite(node.divisorOverride) || node.divisorOverride === 0))
        throw new ShapeError(`${where(node)}: divisor_override must be non-zero`);
      const [oh, ow] = sweep(node, H, W, node.kernel, node.stride, node.padding, [1, 1], node.ceilMode);
      return [C, oh, ow];
    }
    case 'globalavgpool': {
      const [C] = spatial(node, one());
      return [C, 1, 1];
    }
    case 'batchnorm': {
      const inp = one();
      if (inp[0] !== node.numFeatures)
        throw new ShapeError(`${where(node)} has ${node.numFeatures} features but its input has ${inp[0]} channels`);
      for (const [k, v] of [['weight', node.weight], ['bias', node.bias], ['running_mean', node.runningMean], ['running_var', node.runningVar]] as const)
        if (v.length !== node.numFeatures) throw new ShapeError(`${where(node)}: ${k} has ${v.length} values, expected ${node.numFeatures}`);
      return inp;
    }
    case 'relu':
    case 'identity':
    case 'dropout':
    case 'softmax':
      return one();
    case 'flatten':
      return [size(one())];
    case 'reshape': {
      const inp = one();
      if (size(node.shape) !== size(inp))
        throw new ShapeError(`${where(node)}: cannot reshape [${inp.join(', ')}] to [${node.shape.join(', ')}]`);
      return node.shape.slice();
    }
    case 'add': {
      if (ins.length < 2) throw new ShapeError(`${where(node)} takes at least 2 inputs, got ${ins.length}`);
      for (const s of ins)
        if (s.join(',') !== ins[0].join(','))
          throw new ShapeError(`${where(node)}: inputs have different shapes [${ins[0].join(', ')}] and [${s.join(', ')}]`);
      return ins[0].slice();
    }
    case 'concat': {
      if (ins.length < 1) throw new ShapeError(`${where(node)} takes at least 1 input`);
      const ax = node.axis;
      if (!Number.isInteger(ax) || ax < 0 || ax >= ins[0].length)
        throw new ShapeError(`${where(node)}: axis ${ax} out of range for [${ins[0].join(', ')}]`);
      const out = ins[0].slice();
      out[ax] = 0;
      for (const s of ins) {
        if (s.length !== out.length || s.some((v, i) => i !== ax && v !== out[i]))
          throw new ShapeError(`${where(node)}: inputs [${ins.map((x) => x.join('x')).join('], [')}] differ outside axis ${ax}`);
        out[ax] += s[ax];
      }
      return out;
    }
  }
}

/** Shapes of every tensor (the model input and each node output), validating the whole graph. */
export function inferShapes(graph: Graph): Map<string, Shape> {
  const shapes = new Map<string, Shape>([[MODEL_INPUT, graph.inputShape.slice()]]);
  positive(graph.inputShape, 'input shape', { op: 'identity', name: MODEL_INPUT, inputs: [] });
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
    if (!VIEW_OPS.has(node.op)) total += size(shape);
    shapes.set(node.name, shape);
  }
  if (!shapes.has(graph.output)) throw new ShapeError(`the model output '${graph.output}' is not a node of the graph`);
  checkSampleSize([total], 'all layer outputs of the model together');
  return shapes;
}
