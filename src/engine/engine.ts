/**
 * The engine runs a canonical graph on one backend: forward keeps every node's output, relevance
 * walks the nodes backwards calling one kernel sequence per node and rule. Buffers live in a
 * Workspace sized for a batch capacity; nothing is allocated per call once it exists.
 */
import type { Backend } from '../kernels/abi.js';
import { DESC_INTS, PoolDesc } from '../kernels/abi.js';
import { MODEL_INPUT, type AvgPool2dNode, type Graph, type GraphNode, type MaxPool2dNode, type Shape } from '../graph/ir.js';
import { inferShapes, size } from '../graph/shapes.js';
import { InputError } from '../errors.js';
import { STABILIZER } from '../rules.js';
import type { Assigned } from './assign.js';
import { LinearLayer } from './linear.js';
import { linearRelevance } from './linear-rules.js';
import { Workspace, type TensorBuf } from './tensors.js';

interface PoolInfo {
  desc: number;
  /** avg pooling: 1/divisor per output position */
  invDiv: number;
}

interface BatchNormInfo {
  scale: number;
  shift: number;
}

export class Engine {
  readonly shapes: Map<string, Shape>;
  readonly inputSize: number;
  readonly outputSize: number;
  private readonly linear = new Map<string, LinearLayer>();
  private readonly pools = new Map<string, PoolInfo>();
  private readonly norms = new Map<string, BatchNormInfo>();
  private readonly owned: number[] = [];
  private ws: Workspace | null = null;

  constructor(
    readonly graph: Graph,
    readonly backend: Backend,
  ) {
    this.shapes = inferShapes(graph);
    this.inputSize = size(graph.inputShape);
    this.outputSize = size(this.shapes.get(graph.output)!);
    for (const node of graph.nodes) this.prepare(node);
  }

  private allocFloats(values: ArrayLike<number>): number {
    const p = this.backend.memory.alloc(Math.max(values.length, 4) * 4);
    this.backend.memory.f32().set(values as ArrayLike<number>, p >>> 2);
    this.owned.push(p);
    return p;
  }

  private prepare(node: GraphNode): void {
    const inShape = this.shapes.get(node.inputs[0])!;
    const outShape = this.shapes.get(node.name)!;
    switch (node.op) {
      case 'dense':
      case 'conv2d':
        this.linear.set(node.name, new LinearLayer(this.backend, node, inShape, outShape));
        return;
      case 'maxpool2d':
      case 'avgpool2d':
      case 'globalavgpool': {
        const p: MaxPool2dNode | AvgPool2dNode =
          node.op === 'globalavgpool'
            ? { op: 'avgpool2d', name: node.name, inputs: node.inputs, kernel: [inShape[1], inShape[2]], stride: [1, 1], padding: [0, 0, 0, 0], ceilMode: false, countIncludePad: false, divisorOverride: null }
            : node;
        const d = new Int32Array(DESC_INTS);
        d[PoolDesc.C] = inShape[0];
        d[PoolDesc.H] = inShape[1];
        d[PoolDesc.W] = inShape[2];
        d[PoolDesc.KH] = p.kernel[0];
        d[PoolDesc.KW] = p.kernel[1];
        d[PoolDesc.SH] = p.stride[0];
        d[PoolDesc.SW] = p.stride[1];
        d[PoolDesc.PT] = p.padding[0];
        d[PoolDesc.PL] = p.padding[1];
        d[PoolDesc.DH] = p.op === 'maxpool2d' ? p.dilation[0] : 1;
        d[PoolDesc.DW] = p.op === 'maxpool2d' ? p.dilation[1] : 1;
        d[PoolDesc.OH] = outShape[1];
        d[PoolDesc.OW] = outShape[2];
        const desc = this.backend.memory.alloc(DESC_INTS * 4);
        this.owned.push(desc);
        this.backend.memory.i32().set(d, desc >>> 2);
        const invDiv = p.op === 'avgpool2d' ? this.allocFloats(avgPoolInverseDivisors(p, inShape[1], inShape[2], outShape[1], outShape[2])) : 0;
        this.pools.set(node.name, { desc, invDiv });
        return;
      }
      case 'batchnorm': {
        const scale = new Float32Array(node.numFeatures);
        const shift = new Float32Array(node.numFeatures);
        for (let c = 0; c < node.numFeatures; c++) {
          scale[c] = node.weight[c] / Math.sqrt(node.runningVar[c] + node.eps);
          shift[c] = node.bias[c] - node.runningMean[c] * scale[c];
        }
        this.norms.set(node.name, { scale: this.allocFloats(scale), shift: this.allocFloats(shift) });
        return;
      }
      default:
        return;
    }
  }

  /** Make sure buffers exist for at least n samples (reallocates only when n grows). */
  workspace(n: number): Workspace {
    if (!this.ws || this.ws.capacity < n) {
      this.ws?.dispose();
      this.ws = null;
      let convBytes = 0;
      for (const l of this.linear.values()) convBytes = Math.max(convBytes, l.convScratchBytes());
      try {
        this.ws = new Workspace(this.backend, this.graph, this.shapes, n, convBytes);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        throw new InputError(`a batch of ${n} sample(s) of this model needs more memory than WebAssembly can address (${e.message}); pass a smaller { batch }`, 'E_MEMORY');
      }
    }
    return this.ws;
  }

  /** Write n samples (NCHW, per-sample order) into the input buffer. */
  setInput(x: Float32Array, n: number): Workspace {
    const ws = this.workspace(n);
    this.backend.memory.f32().set(x.subarray(0, n * this.inputSize), ws.tensor(MODEL_INPUT).act >>> 2);
    return ws;
  }

  /** 1 if the current input buffer holds NaN or Infinity. */
  inputHasNonFinite(n: number): boolean {
    return this.backend.kernels.hasNonFinite(this.ws!.tensor(MODEL_INPUT).act, n * this.inputSize) !== 0;
  }

  forward(n: number): void {
    const ws = this.ws!;
    const k = this.backend.kernels;
    for (const node of this.graph.nodes) {
      const out = ws.tensor(node.name);
      const ins = node.inputs.map((i) => ws.tensor(i));
      const x = ins[0];
      switch (node.op) {
        case 'dense':
        case 'conv2d': {
          const l = this.linear.get(node.name)!;
          l.forward(x.act, l.weight(), l.bias(), out.act, n, ws.convScratch);
          break;
        }
        case 'relu':
          k.relu(x.act, out.act, n * out.size);
          break;
        case 'maxpool2d':
          k.maxpool2dForward(this.pools.get(node.name)!.desc, x.act, out.act, this.argmax(ws, node.name, out.size), n);
          break;
        case 'avgpool2d':
        case 'globalavgpool': {
          const p = this.pools.get(node.name)!;
          k.avgpool2dForward(p.desc, x.act, p.invDiv, out.act, n);
          break;
        }
        case 'batchnorm': {
          const b = this.norms.get(node.name)!;
          k.channelAffine(x.act, b.scale, b.shift, out.act, n, x.shape[0], x.size / x.shape[0]);
          break;
        }
        case 'add':
          k.add(ins[0].act, ins[1].act, out.act, n * out.size);
          for (const extra of ins.slice(2)) k.add(out.act, extra.act, out.act, n * out.size);
          break;
        case 'concat':
          this.concatSlices(node.axis, ins, out, n, 'act');
          break;
        case 'flatten':
        case 'reshape':
        case 'identity':
        case 'dropout':
          break; // views
        case 'softmax':
          throw new Error('internal: softmax must be removed by canonicalize');
      }
    }
  }

  private argmax(ws: Workspace, name: string, outSize: number): number {
    return ws.constant(`${name}|argmax`, ws.capacity * outSize, () => {});
  }

  /**
   * Concat forward (copy each input into its slice of the output) or backward (each input's
   * relevance is its slice of the output relevance, added to what its other consumers sent):
   * blocks of outer×(slice) floats.
   */
  private concatSlices(axis: number, ins: TensorBuf[], out: TensorBuf, n: number, which: 'act' | 'rel', first?: (t: TensorBuf) => boolean): void {
    const k = this.backend.kernels;
    const inner = out.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const outer = out.shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const outLen = out.shape[axis] * inner;
    let offset = 0;
    for (const t of ins) {
      const len = t.shape[axis] * inner;
      if (which === 'act') k.copyBlocks(t.act, out.act + offset * 4, n * outer, len, len, outLen);
      else if (first!(t)) k.copyBlocks(out.rel + offset * 4, t.rel, n * outer, len, outLen, len);
      else k.addBlocks(out.rel + offset * 4, t.rel, n * outer, len, outLen, len);
      offset += len;
    }
  }

  /** Pointer to the output (logits) of the last forward. */
  outputPtr(): number {
    return this.ws!.tensor(this.graph.output).act;
  }

  /**
   * Walk the graph backwards from the relevance already written at the output tensor's `rel`
   * buffer. A tensor read by several nodes gets the sum of what they send back: the first of its
   * consumers (in the backward walk) writes its relevance buffer, the others add to it, so no
   * buffer needs zeroing first.
   */
  relevance(n: number, assigned: Map<string, Assigned>): void {
    const ws = this.ws!;
    const k = this.backend.kernels;
    const output = ws.tensor(this.graph.output);
    const written = new Set<number>([output.rel]);
    /** true for the first write into t's relevance (views share their source's buffer) */
    const first = (t: TensorBuf): boolean => {
      const isFirst = !written.has(t.rel);
      written.add(t.rel);
      return isFirst;
    };
    /** dst = src on the first write, dst += src after (src: a temporary) */
    const put = (t: TensorBuf, src: number) => (first(t) ? k.copy(src, t.rel, n * t.size) : k.add(t.rel, src, t.rel, n * t.size));
    for (let i = this.graph.nodes.length - 1; i >= 0; i--) {
      const node = this.graph.nodes[i];
      const a = assigned.get(node.name)!;
      const out = ws.tensor(node.name);
      const ins = node.inputs.map((name) => ws.tensor(name));
      const x = ins[0];
      const len = n * x.size;
      switch (node.op) {
        case 'dense':
        case 'conv2d':
          if (first(x)) k.fill(x.rel, len, 0); // the rules accumulate term by term
          linearRelevance({ layer: this.linear.get(node.name)!, ws, n, x: x.act, z: out.act, r: out.rel, relIn: x.rel }, a.rule, a.box);
          break;
        case 'relu':
        case 'batchnorm':
          if (a.rule.name === 'pass') put(x, out.rel);
          else {
            // gradient: ReLU passes R where its output is positive (derivative 0 at 0); BN scales it
            const target = written.has(x.rel) ? ws.scratchOut[0] : x.rel;
            if (node.op === 'relu') k.stabDivideMasked(out.rel, ws.ones, out.act, target, len, 0, 1);
            else k.channelScale(out.rel, this.norms.get(node.name)!.scale, target, n, x.shape[0], x.size / x.shape[0]);
            if (target !== x.rel) put(x, target);
            else first(x);
          }
          break;
        case 'maxpool2d': {
          const target = written.has(x.rel) ? ws.scratchIn[2] : x.rel;
          k.maxpool2dBackward(this.pools.get(node.name)!.desc, out.rel, this.argmax(ws, node.name, out.size), target, n);
          if (target !== x.rel) put(x, target);
          else first(x);
          break;
        }
        case 'avgpool2d':
        case 'globalavgpool': {
          const p = this.pools.get(node.name)!;
          const target = written.has(x.rel) ? ws.scratchIn[2] : x.rel;
          if (a.rule.name === 'norm') {
            const g = ws.scratchOut[0];
            k.stabDivide(out.rel, out.act, g, n * out.size, STABILIZER);
            k.avgpool2dTranspose(p.desc, g, p.invDiv, target, n);
            if (target === x.rel) k.mul(x.act, x.rel, x.rel, len);
            else k.mulAcc(x.act, target, x.rel, len, 1);
            first(x);
          } else {
            k.avgpool2dTranspose(p.desc, out.rel, p.invDiv, target, n);
            if (target !== x.rel) put(x, target);
            else first(x);
          }
          break;
        }
        case 'add':
          if (a.rule.name === 'norm') {
            const g = ws.scratchOut[0];
            k.stabDivide(out.rel, out.act, g, n * out.size, STABILIZER);
            for (const t of ins) {
              if (first(t)) k.mul(t.act, g, t.rel, n * t.size);
              else k.mulAcc(t.act, g, t.rel, n * t.size, 1);
            }
          } else for (const t of ins) put(t, out.rel);
          break;
        case 'concat':
          this.concatSlices(node.axis, ins, out, n, 'rel', first);
          break;
        default:
          break; // views share the relevance buffer of their source
      }
    }
    // tensors no node sent relevance to (none in an imported graph) hold zeros, not stale values
    for (const t of ws.tensors.values()) if (!t.view && !written.has(t.rel)) k.fill(t.rel, n * t.size, 0);
  }

  dispose(): void {
    this.ws?.dispose();
    this.ws = null;
    for (const l of this.linear.values()) l.dispose();
    for (const p of this.owned) this.backend.memory.free(p);
    this.owned.length = 0;
  }
}

/** 1/divisor for every output position of an average pool (PyTorch's avg_pool2d semantics). */
export function avgPoolInverseDivisors(p: AvgPool2dNode, H: number, W: number, OH: number, OW: number): Float32Array {
  const out = new Float32Array(OH * OW);
  for (let oh = 0; oh < OH; oh++)
    for (let ow = 0; ow < OW; ow++) {
      let hs = oh * p.stride[0] - p.padding[0];
      let ws = ow * p.stride[1] - p.padding[1];
      let he = Math.min(hs + p.kernel[0], H + p.padding[2]);
      let we = Math.min(ws + p.kernel[1], W + p.padding[3]);
      const poolSize = (he - hs) * (we - ws);
      hs = Math.max(hs, 0);
      ws = Math.max(ws, 0);
      he = Math.min(he, H);
      we = Math.min(we, W);
      const div = p.divisorOverride ?? (p.countIncludePad ? poolSize : (he - hs) * (we - ws));
      out[oh * OW + ow] = 1 / div;
    }
  return out;
}
