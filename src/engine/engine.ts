/**
 * The engine runs a canonical graph on one backend: forward keeps every node's output, relevance
 * walks the nodes backwards. Each node's work is its op module's (src/ops/): the engine only
 * prepares state once, hands each module its buffers, and keeps the "first write / then add"
 * bookkeeping of the relevance walk. Buffers live in a Workspace sized for a batch capacity;
 * nothing is allocated per call once it exists.
 */
import type { Backend } from '../kernels/abi.js';
import { MODEL_INPUT, type Graph, type GraphNode, type Shape } from '../graph/ir.js';
import { inferShapes, size } from '../graph/shapes.js';
import { InputError } from '../errors.js';
import { specOf } from '../ops/registry.js';
import type { OpSpec, PrepareEnv, RelevanceStep } from '../ops/spec.js';
import type { Assigned } from './assign.js';
import { Workspace, workspaceBytes, type TensorBuf } from './tensors.js';

interface Prepared {
  node: GraphNode;
  spec: OpSpec<GraphNode, unknown>;
  state: unknown;
}

export class Engine {
  readonly shapes: Map<string, Shape>;
  readonly inputSize: number;
  readonly outputSize: number;
  private readonly prepared: Prepared[];
  private readonly owned: number[] = [];
  private ws: Workspace | null = null;

  constructor(
    readonly graph: Graph,
    readonly backend: Backend,
  ) {
    this.shapes = inferShapes(graph);
    this.inputSize = size(graph.inputShape);
    this.outputSize = size(this.shapes.get(graph.output)!);
    this.prepared = graph.nodes.map((node) => {
      const spec = specOf(node);
      if (spec.removed) throw new Error(`internal: ${node.op} node '${node.name}' must be removed by canonicalize`);
      return { node, spec, state: spec.prepare?.(node, this.env(node)) };
    });
  }

  private env(node: GraphNode): PrepareEnv {
    const mem = this.backend.memory;
    const put = (values: ArrayLike<number>, view: () => Float32Array | Int32Array): number => {
      const p = mem.alloc(Math.max(values.length, 4) * 4);
      view().set(values, p >>> 2);
      this.owned.push(p);
      return p;
    };
    return {
      backend: this.backend,
      inShapes: node.inputs.map((i) => this.shapes.get(i)!),
      outShape: this.shapes.get(node.name)!,
      floats: (values) => put(values, () => mem.f32()),
      ints: (values) => put(values, () => mem.i32()),
    };
  }

  /** Make sure buffers exist for at least n samples (reallocates only when n grows). */
  workspace(n: number): Workspace {
    if (!this.ws || this.ws.capacity < n) {
      this.ws?.dispose();
      this.ws = null;
      let convBytes = 0;
      for (const p of this.prepared) convBytes = Math.max(convBytes, p.spec.scratchBytes?.(p.state, this.backend) ?? 0);
      // check first: a batch that cannot fit fails now, not after growing the memory to its limit
      const need = workspaceBytes(this.graph, this.shapes, n, convBytes);
      const free = this.backend.memory.available();
      if (need > free) {
        const mib = (b: number) => `${Math.ceil(b / 2 ** 20)} MiB`;
        const perSample = workspaceBytes(this.graph, this.shapes, 1, convBytes);
        throw new InputError(
          `a batch of ${n} sample(s) of this model needs ${mib(need)} of workspace (about ${mib(perSample)} per sample), ` +
            `but only ${mib(free)} of WebAssembly's 4 GiB are left; pass a smaller { batch } (at most about ${Math.max(1, Math.floor(free / perSample))})`,
          'E_MEMORY',
        );
      }
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

  /** Run the forward pass over n samples; firstSample (their index in the caller's batch) is for messages. */
  forward(n: number, firstSample = 0): void {
    const ws = this.ws!;
    const k = this.backend.kernels;
    for (const { node, spec, state } of this.prepared) {
      spec.forward({ node, state, k, ws, n, firstSample, ins: node.inputs.map((i) => ws.tensor(i)), out: ws.tensor(node.name) });
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
    const written = new Set<number>([ws.tensor(this.graph.output).rel]);
    const first = (t: TensorBuf): boolean => {
      const isFirst = !written.has(t.rel);
      written.add(t.rel);
      return isFirst;
    };
    const put = (t: TensorBuf, src: number) => (first(t) ? k.copy(src, t.rel, n * t.size) : k.add(t.rel, src, t.rel, n * t.size));
    const target = (t: TensorBuf, scratch: number) => (written.has(t.rel) ? scratch : t.rel);
    const commit = (t: TensorBuf, buf: number) => (buf !== t.rel ? put(t, buf) : void first(t));
    for (let i = this.prepared.length - 1; i >= 0; i--) {
      const { node, spec, state } = this.prepared[i];
      const a = assigned.get(node.name)!;
      const fn = spec.rules[a.rule.name];
      if (!fn) throw new Error(`internal: rule '${a.rule.name}' reached ${node.op} node '${node.name}'`);
      const step: RelevanceStep<GraphNode, unknown> = {
        node, state, k, ws, n, rule: a.rule, box: a.box,
        ins: node.inputs.map((name) => ws.tensor(name)),
        out: ws.tensor(node.name),
        first, put, target, commit,
      };
      fn(step);
    }
    // tensors no node sent relevance to (a gate branch, an unused input) hold zeros, not stale values
    for (const t of ws.tensors.values()) if (!t.view && !written.has(t.rel)) k.fill(t.rel, n * t.size, 0);
  }

  dispose(): void {
    this.ws?.dispose();
    this.ws = null;
    for (const p of this.prepared) p.spec.disposeState?.(p.state, this.backend);
    for (const p of this.owned) this.backend.memory.free(p);
    this.owned.length = 0;
  }
}
