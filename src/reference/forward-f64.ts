/**
 * The forward pass of an IR graph in float64, one sample at a time: plain loops, one function per op,
 * each computing its own output shape (independent of the op modules' shape inference). The parameters
 * are the graph's float32 values, read exactly; every intermediate is float64. This is the forward the
 * float64 relevance reference (attnlrp.ts) walks back over, and the function the finite-difference
 * gradient checks differentiate.
 */
import { InputError, ShapeError, UnsupportedError } from '../errors.js';
import { MODEL_INPUT } from '../graph/ir.js';
import { ACTIVATIONS } from '../ops/activation.js';
import { activationRef } from './activations.js';
import { size, windowOutput } from '../graph/shapes.js';
import { rowMajorStrides } from '../ops/strided.js';
import { convMap, convOutShape, denseMap } from './linear-f64.js';
import { type GraphF64, type NodeF64, type Tensor64 } from './nodes-f64.js';

type Node<K extends NodeF64['op']> = Extract<NodeF64, { op: K }>;

const where = (node: NodeF64) => `${node.op} node '${node.name}'`;

/**
 * Every node's output for one sample (and the input under MODEL_INPUT). `replace` substitutes node
 * outputs (by name) for what the graph computes, e.g. a perturbed embedding output for finite differences.
 */
export function forwardF64(graph: GraphF64, x: ArrayLike<number>, sample = 0, replace?: ReadonlyMap<string, Tensor64>): Map<string, Tensor64> {
  const inSize = size(graph.inputShape);
  if (x.length !== inSize) throw new InputError(`reference forward: one sample has ${inSize} values, got ${x.length}`);
  const acts = new Map<string, Tensor64>([[MODEL_INPUT, { shape: graph.inputShape.slice(), data: Float64Array.from(x) }]]);
  for (const node of graph.nodes) {
    const ins = node.inputs.map((name) => {
      const t = acts.get(name);
      if (!t) throw new ShapeError(`${where(node)} reads '${name}', which no earlier node computes`);
      return t;
    });
    const out = replace?.get(node.name) ?? forwardNode(node, ins, sample);
    acts.set(node.name, out);
  }
  if (!acts.has(graph.output)) throw new ShapeError(`the graph's output '${graph.output}' is not a node`);
  return acts;
}

/** One node's output from its inputs' values. */
export function forwardNode(node: NodeF64, ins: Tensor64[], sample = 0): Tensor64 {
  switch (node.op) {
    case 'dense':
      return denseF64(node, ins[0]);
    case 'conv2d':
      return conv2dF64(node, ins[0]);
    case 'relu':
      return map(ins[0], (v) => (v > 0 ? v : 0));
    case 'activation':
      return activationF64(node, ins[0]);
    case 'add':
      return addF64(node, ins);
    case 'mul':
      return mulF64(node, ins[0], ins[1]);
    case 'affine':
      return affineF64(node, ins[0]);
    case 'flatten':
      return { shape: [ins[0].data.length], data: ins[0].data.slice() };
    case 'reshape':
      return reshapeF64(node, ins[0]);
    case 'transpose':
      return transposeF64(node, ins[0]);
    case 'slice':
      return sliceF64(node, ins[0]);
    case 'concat':
      return concatF64(node, ins);
    case 'globalavgpool':
      return avgPoolF64(globalWindow(node, ins[0]), ins[0]);
    case 'maxpool2d':
      return maxPoolF64(node, ins[0]).y;
    case 'avgpool2d':
      return avgPoolF64(node, ins[0]);
    case 'layernorm':
      return layerNormF64(node, ins[0]).y;
    case 'softmax':
      return softmaxF64(ins[0]);
    case 'matmul':
      return matmulF64(node, ins[0], ins[1]);
    case 'embedding':
      return embeddingF64(node, ins[0], sample);
    case 'constant':
      return constantF64(node);
    default:
      throw new UnsupportedError(`the float64 reference does not cover ${where(node)}`);
  }
}

function map(t: Tensor64, f: (v: number) => number): Tensor64 {
  return { shape: t.shape.slice(), data: t.data.map(f) };
}

/** y[r, o] = b[o] + Σ_i x[r, i]·W[o, i] over the rows of the last axis (nn.Linear on any rank ≥ 1). */
function denseF64(node: Node<'dense'>, x: Tensor64): Tensor64 {
  const { inFeatures: inF, outFeatures: outF } = node;
  if (x.shape[x.shape.length - 1] !== inF) throw new ShapeError(`${where(node)} expects ${inF} features on the last axis, got [${x.shape.join(', ')}]`);
  const m = denseMap(node, x.shape);
  return { shape: [...x.shape.slice(0, -1), outF], data: m.apply(x.data, m.weight, m.bias) };
}

/** Cross-correlation with zero padding, stride, dilation and groups, [C, H, W] → [O, OH, OW]. */
function conv2dF64(node: Node<'conv2d'>, x: Tensor64): Tensor64 {
  if (x.shape.length !== 3 || x.shape[0] !== node.inChannels) throw new ShapeError(`${where(node)} expects [${node.inChannels}, H, W], got [${x.shape.join(', ')}]`);
  const m = convMap(node, x.shape);
  return { shape: [node.outChannels, ...convOutShape(node, x.shape)], data: m.apply(x.data, m.weight, m.bias) };
}

/** The activation's parameters a, b, c as the kernels see them (float32). */
export function activationParams(node: Node<'activation'>): [number, number, number] {
  const d = ACTIVATIONS[node.fn].defaults;
  const p = node.params ?? [];
  return [Math.fround(p[0] ?? d[0]), Math.fround(p[1] ?? d[1]), Math.fround(p[2] ?? d[2])];
}

function activationF64(node: Node<'activation'>, x: Tensor64): Tensor64 {
  const kind = ACTIVATIONS[node.fn].kind;
  const [a, b, c] = activationParams(node);
  return map(x, (v) => activationRef(kind, v, a, b, c));
}

function addF64(node: Node<'add'>, ins: Tensor64[]): Tensor64 {
  const y = new Float64Array(ins[0].data.length);
  for (const t of ins) {
    if (t.data.length !== y.length) throw new ShapeError(`${where(node)}: inputs of different sizes`);
    for (let i = 0; i < y.length; i++) y[i] += t.data[i];
  }
  return { shape: ins[0].shape.slice(), data: y };
}

/** The gate index of element i: the same element, or its channel (axis 0) for a per-channel gate. */
export function gateIndex(x: Tensor64, gate: Tensor64): (i: number) => number {
  if (gate.data.length === x.data.length) return (i) => i;
  const inner = x.data.length / x.shape[0];
  return (i) => Math.floor(i / inner);
}

function mulF64(node: Node<'mul'>, x: Tensor64, gate: Tensor64): Tensor64 {
  if (gate.data.length !== x.data.length && gate.data.length !== x.shape[0])
    throw new ShapeError(`${where(node)}: gate of ${gate.data.length} values for a signal of shape [${x.shape.join(', ')}]`);
  const gi = gateIndex(x, gate);
  const y = new Float64Array(x.data.length);
  for (let i = 0; i < y.length; i++) y[i] = x.data[i] * gate.data[gi(i)];
  return { shape: x.shape.slice(), data: y };
}

/** The affine node's (or unfolded batch norm's) scale per element index. */
export function channelOf(x: Tensor64, perChannel: boolean): (i: number) => number {
  const inner = x.data.length / x.shape[0];
  return perChannel ? (i) => Math.floor(i / inner) : () => 0;
}

function affineF64(node: Node<'affine'>, x: Tensor64): Tensor64 {
  const cs = channelOf(x, node.scale.length > 1);
  const ct = channelOf(x, node.shift.length > 1);
  const y = new Float64Array(x.data.length);
  for (let i = 0; i < y.length; i++) y[i] = x.data[i] * node.scale[cs(i)] + node.shift[ct(i)];
  return { shape: x.shape.slice(), data: y };
}

function reshapeF64(node: Node<'reshape'>, x: Tensor64): Tensor64 {
  if (size(node.shape) !== x.data.length) throw new ShapeError(`${where(node)}: cannot reshape [${x.shape.join(', ')}] to [${node.shape.join(', ')}]`);
  return { shape: node.shape.slice(), data: x.data.slice() };
}

/** For every output element of a transpose, the input element it reads. */
export function transposeSources(perm: readonly number[], inShape: readonly number[]): { shape: number[]; source: Int32Array } {
  const shape = perm.map((a) => inShape[a]);
  const inStrides = rowMajorStrides(inShape);
  const total = size(inShape);
  const source = new Int32Array(total);
  const idx = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < total; o++) {
    let src = 0;
    for (let d = 0; d < shape.length; d++) src += idx[d] * inStrides[perm[d]];
    source[o] = src;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return { shape, source };
}

function transposeF64(node: Node<'transpose'>, x: Tensor64): Tensor64 {
  const perm = node.perm;
  if (perm.length !== x.shape.length || [...perm].sort((a, b) => a - b).some((v, i) => v !== i))
    throw new ShapeError(`${where(node)}: perm [${perm.join(', ')}] does not permute the axes of [${x.shape.join(', ')}]`);
  const { shape, source } = transposeSources(perm, x.shape);
  const y = new Float64Array(source.length);
  for (let o = 0; o < y.length; o++) y[o] = x.data[source[o]];
  return { shape, data: y };
}

/** For every output element of a slice, the input element it reads. */
export function sliceSources(node: Node<'slice'>, inShape: readonly number[]): { shape: number[]; source: Int32Array } {
  const { axis, start, end, step } = node;
  const shape = inShape.slice();
  shape[axis] = Math.ceil((end - start) / step);
  const outer = size(inShape.slice(0, axis));
  const inner = size(inShape.slice(axis + 1));
  const source = new Int32Array(size(shape));
  let o = 0;
  for (let a = 0; a < outer; a++)
    for (let k = 0; k < shape[axis]; k++)
      for (let i = 0; i < inner; i++) source[o++] = (a * inShape[axis] + start + k * step) * inner + i;
  return { shape, source };
}

function sliceF64(node: Node<'slice'>, x: Tensor64): Tensor64 {
  const { axis, start, end, step } = node;
  if (!(axis >= 0 && axis < x.shape.length && step >= 1 && start >= 0 && end <= x.shape[axis] && start < end))
    throw new ShapeError(`${where(node)}: ${start}:${end}:${step} on axis ${axis} does not fit [${x.shape.join(', ')}]`);
  const { shape, source } = sliceSources(node, x.shape);
  const y = new Float64Array(source.length);
  for (let o = 0; o < y.length; o++) y[o] = x.data[source[o]];
  return { shape, data: y };
}

/** For every output element of a concat: which input and which of its elements. */
export function concatSources(axis: number, inShapes: readonly number[][]): { shape: number[]; input: Int32Array; source: Int32Array } {
  const shape = inShapes[0].slice();
  shape[axis] = inShapes.reduce((s, t) => s + t[axis], 0);
  const outer = size(shape.slice(0, axis));
  const inner = size(shape.slice(axis + 1));
  const input = new Int32Array(size(shape));
  const source = new Int32Array(size(shape));
  let o = 0;
  for (let a = 0; a < outer; a++)
    for (let t = 0; t < inShapes.length; t++)
      for (let k = 0; k < inShapes[t][axis] * inner; k++) {
        input[o] = t;
        source[o++] = a * inShapes[t][axis] * inner + k;
      }
  return { shape, input, source };
}

function concatF64(node: Node<'concat'>, ins: Tensor64[]): Tensor64 {
  const ax = node.axis;
  if (ins.some((t) => t.shape.length !== ins[0].shape.length || t.shape.some((d, i) => i !== ax && d !== ins[0].shape[i])))
    throw new ShapeError(`${where(node)}: inputs [${ins.map((t) => t.shape.join('x')).join('], [')}] differ outside axis ${ax}`);
  const { shape, input, source } = concatSources(node.axis, ins.map((t) => t.shape));
  const y = new Float64Array(input.length);
  for (let o = 0; o < y.length; o++) y[o] = ins[input[o]].data[source[o]];
  return { shape, data: y };
}

/** Global average pooling as the average pool whose one window is the whole [C, H, W] plane. */
export function globalWindow(node: Node<'globalavgpool'>, x: Tensor64): Node<'avgpool2d'> {
  if (x.shape.length !== 3) throw new ShapeError(`${where(node)} expects [C, H, W], got [${x.shape.join(', ')}]`);
  return { ...node, op: 'avgpool2d', kernel: [x.shape[1], x.shape[2]], stride: [1, 1], padding: [0, 0, 0, 0], ceilMode: false, countIncludePad: false, divisorOverride: null };
}

/**
 * Max pooling over [C, H, W] (padding and the windows ceil mode adds reach past the input count as −∞), and
 * per output the flat input index of its maximum: the first in row-major window order on ties, as the kernel.
 */
export function maxPoolF64(node: Node<'maxpool2d'>, x: Tensor64): { y: Tensor64; argmax: Int32Array } {
  if (x.shape.length !== 3) throw new ShapeError(`${where(node)} expects [C, H, W], got [${x.shape.join(', ')}]`);
  const [C, H, W] = x.shape;
  const [kh, kw] = node.kernel;
  const [sh, sw] = node.stride;
  const [dh, dw] = node.dilation;
  const [pt, pl] = node.padding;
  const OH = windowOutput(H, kh, sh, pt, node.padding[2], dh, node.ceilMode);
  const OW = windowOutput(W, kw, sw, pl, node.padding[3], dw, node.ceilMode);
  const y = new Float64Array(C * OH * OW);
  const argmax = new Int32Array(y.length);
  for (let c = 0; c < C; c++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        let best = -Infinity;
        let at = -1;
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const h = oh * sh - pt + i * dh;
            const w = ow * sw - pl + j * dw;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            const v = x.data[(c * H + h) * W + w];
            if (at < 0 || v > best) [best, at] = [v, (c * H + h) * W + w];
          }
        const o = (c * OH + oh) * OW + ow;
        y[o] = best;
        argmax[o] = at;
      }
  return { y: { shape: [C, OH, OW], data: y }, argmax };
}

/**
 * The windows of an average pool over an H×W plane, as PyTorch's avg_pool2d: per output position the
 * clipped window [h0, h1) × [w0, w1) and its divisor (divisor_override, else the window size, padding
 * counted only when count_include_pad and never past the padded input's end).
 */
export function avgPoolWindows(node: Node<'avgpool2d'>, H: number, W: number): { OH: number; OW: number; windows: Array<{ h0: number; h1: number; w0: number; w1: number; div: number }> } {
  const [kh, kw] = node.kernel;
  const [sh, sw] = node.stride;
  const [pt, pl, pb, pr] = node.padding;
  const OH = windowOutput(H, kh, sh, pt, pb, 1, node.ceilMode);
  const OW = windowOutput(W, kw, sw, pl, pr, 1, node.ceilMode);
  const windows = [];
  for (let oh = 0; oh < OH; oh++)
    for (let ow = 0; ow < OW; ow++) {
      const hs = oh * sh - pt;
      const ws = ow * sw - pl;
      const he = Math.min(hs + kh, H + pb);
      const we = Math.min(ws + kw, W + pr);
      const [h0, h1, w0, w1] = [Math.max(hs, 0), Math.min(he, H), Math.max(ws, 0), Math.min(we, W)];
      const div = node.divisorOverride ?? (node.countIncludePad ? (he - hs) * (we - ws) : (h1 - h0) * (w1 - w0));
      windows.push({ h0, h1, w0, w1, div });
    }
  return { OH, OW, windows };
}

function avgPoolF64(node: Node<'avgpool2d'>, x: Tensor64): Tensor64 {
  if (x.shape.length !== 3) throw new ShapeError(`${where(node)} expects [C, H, W], got [${x.shape.join(', ')}]`);
  const [C, H, W] = x.shape;
  const { OH, OW, windows } = avgPoolWindows(node, H, W);
  const y = new Float64Array(C * windows.length);
  for (let c = 0; c < C; c++)
    windows.forEach(({ h0, h1, w0, w1, div }, o) => {
      let acc = 0;
      for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) acc += x.data[(c * H + h) * W + w];
      y[c * windows.length + o] = acc / div;
    });
  return { shape: [C, OH, OW], data: y };
}

/** y = (x − mean)/std · w + b per row of the last axis, std = sqrt(var + epsilon); also returns each row's std. */
export function layerNormF64(node: Node<'layernorm'>, x: Tensor64): { y: Tensor64; std: Float64Array } {
  const D = node.features;
  if (x.shape[x.shape.length - 1] !== D) throw new ShapeError(`${where(node)} normalises ${D} features, got [${x.shape.join(', ')}]`);
  const rows = x.data.length / D;
  const y = new Float64Array(x.data.length);
  const std = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < D; i++) mean += x.data[r * D + i];
    mean /= D;
    let v = 0;
    for (let i = 0; i < D; i++) v += (x.data[r * D + i] - mean) ** 2;
    std[r] = Math.sqrt(v / D + node.epsilon);
    for (let i = 0; i < D; i++) {
      const w = node.weight ? node.weight[i] : 1;
      const b = node.bias ? node.bias[i] : 0;
      y[r * D + i] = ((x.data[r * D + i] - mean) / std[r]) * w + b;
    }
  }
  return { y: { shape: x.shape.slice(), data: y }, std };
}

/** Softmax over the last axis, max-subtracted. */
function softmaxF64(x: Tensor64): Tensor64 {
  const D = x.shape[x.shape.length - 1];
  const y = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / D; r++) {
    let max = -Infinity;
    for (let i = 0; i < D; i++) max = Math.max(max, x.data[r * D + i]);
    let sum = 0;
    for (let i = 0; i < D; i++) sum += y[r * D + i] = Math.exp(x.data[r * D + i] - max);
    for (let i = 0; i < D; i++) y[r * D + i] /= sum;
  }
  return { shape: x.shape.slice(), data: y };
}

/** Leading count, M, K, N of a matmul [...lead, M, K] · [...lead, K, N]. */
export function matmulDims(node: NodeF64, a: readonly number[], b: readonly number[]): { lead: number; M: number; K: number; N: number } {
  const r = a.length;
  if (r < 2 || b.length !== r || a.slice(0, -2).some((d, i) => d !== b[i]) || a[r - 1] !== b[r - 2])
    throw new ShapeError(`${where(node)}: cannot multiply [${a.join(', ')}] by [${b.join(', ')}]`);
  return { lead: size(a.slice(0, -2)), M: a[r - 2], K: a[r - 1], N: b[r - 1] };
}

function matmulF64(node: Node<'matmul'>, a: Tensor64, b: Tensor64): Tensor64 {
  const { lead, M, K, N } = matmulDims(node, a.shape, b.shape);
  const y = new Float64Array(lead * M * N);
  for (let l = 0; l < lead; l++)
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += a.data[(l * M + m) * K + k] * b.data[(l * K + k) * N + n];
        y[(l * M + m) * N + n] = acc;
      }
  return { shape: [...a.shape.slice(0, -1), N], data: y };
}

function embeddingF64(node: Node<'embedding'>, ids: Tensor64, sample: number): Tensor64 {
  if (ids.shape.length !== 1) throw new ShapeError(`${where(node)} expects token ids [T], got [${ids.shape.join(', ')}]`);
  const T = ids.shape[0], D = node.dim;
  const y = new Float64Array(T * D);
  for (let t = 0; t < T; t++) {
    const id = ids.data[t];
    if (!Number.isInteger(id) || id < 0 || id >= node.vocab)
      throw new InputError(`${where(node)}: sample ${sample}, position ${t} holds ${id}, not a token id in [0, ${node.vocab})`);
    for (let i = 0; i < D; i++) y[t * D + i] = node.table[id * D + i];
  }
  return { shape: [T, D], data: y };
}

function constantF64(node: Node<'constant'>): Tensor64 {
  if (node.value.length !== size(node.shape)) throw new ShapeError(`${where(node)} has ${node.value.length} values for shape [${node.shape.join(', ')}]`);
  return { shape: node.shape.slice(), data: Float64Array.from(node.value) };
}
