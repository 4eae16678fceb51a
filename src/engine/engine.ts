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
import { LinearLayer } from './linear.js';
import { roundingLayers } from './rounding.js';
import { Workspace, workspaceParts, type TensorBuf, type WorkspaceBytes } from './tensors.js';

interface Prepared {
  node: GraphNode;
  spec: OpSpec<GraphNode, unknown>;
  state: unknown;
}

/**
 * Bytes of linear memory by purpose for one batch size (Model.memoryPlan). The workspace parts
 * (activations, relevance, scratch) are what a workspace for `batch` samples allocates; scratch
 * is an upper bound (its buffers are allocated when a rule first uses them).
 */
export interface MemoryPlan {
  /** The batch size the workspace parts are for. */
  batch: number;
  /** Weights and biases of the dense and conv layers. */
  parameters: number;
  /** Modified parameter sets (W⁺, W⁻, W+γW⁺, W², …) cached so far, by the rules that have run. */
  modifiedParameters: number;
  /**
   * Modified parameter sets the last explain computed per layer step and freed again, because
   * caching them would have taken linear memory above the model's `memoryLimit` (0: all cached).
   */
  recomputedParameters: number;
  /** Other constants of the ops (descriptors, per-channel scales, tables). */
  constants: number;
  /** Every node's output for `batch` samples (kept for the relevance pass). */
  activations: number;
  /** The relevance buffers, shared by liveness. */
  relevance: number;
  /** What the relevance buffers would take without sharing. */
  relevanceUnshared: number;
  /** Rule scratch and im2col buffers (an upper bound). */
  scratch: number;
  /** parameters + modifiedParameters + constants + activations + relevance + scratch. */
  total: number;
  /** The linear memory's current size (it only grows; freed blocks are reused). */
  linearMemory: number;
}

export class Engine {
  readonly shapes: Map<string, Shape>;
  readonly inputSize: number;
  readonly outputSize: number;
  private readonly prepared: Prepared[];
  private readonly owned: number[] = [];
  private ownedBytes = 0;
  private readonly partsByCapacity = new Map<number, WorkspaceBytes>();
  private ws: Workspace | null = null;
  private readonly linear: LinearLayer[] = [];
  /** Forward passes so far: the clock of the cached transforms of W (LinearLayer.ownTransform: least recently used first). */
  private calls = 0;
  /** roundingLayers by rule assignment (the model caches those per composite), started from the logit or not. */
  private readonly rounding = new WeakMap<Map<string, Assigned>, [Set<string>?, Set<string>?]>();
  /**
   * Bytes of linear memory the model aims to stay within (Model.memoryLimit): modified parameter
   * sets are cached while they fit under it, a workspace that would not fit evicts them first.
   */
  memoryLimit = Infinity;

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
    for (const p of this.prepared)
      if (p.state instanceof LinearLayer) {
        p.state.budget = (bytes, own) => this.fits(bytes, own);
        p.state.clock = () => this.calls;
        this.linear.push(p.state);
      }
  }

  private env(node: GraphNode): PrepareEnv {
    const mem = this.backend.memory;
    const put = (values: ArrayLike<number>, view: () => Float32Array | Int32Array): number => {
      const p = mem.alloc(Math.max(values.length, 4) * 4);
      view().set(values, p >>> 2);
      this.owned.push(p);
      this.ownedBytes += Math.max(values.length, 4) * 4;
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

  /** What linear memory holds or will hold for a batch of `batch` samples; see Model.memoryPlan. */
  memoryPlan(batch: number): MemoryPlan {
    let parameters = 0;
    let modifiedParameters = 0;
    let recomputedParameters = 0;
    for (const layer of this.linear) {
      parameters += (layer.node.weight.length + (layer.node.bias?.length ?? 0)) * 4;
      modifiedParameters += layer.modifiedBytes;
      recomputedParameters += layer.recomputedBytes;
    }
    const ws = this.workspaceParts(batch);
    return {
      batch,
      parameters,
      modifiedParameters,
      recomputedParameters,
      constants: this.ownedBytes,
      activations: ws.activations,
      relevance: ws.relevance,
      relevanceUnshared: ws.relevanceUnshared,
      scratch: ws.scratch,
      total: parameters + modifiedParameters + this.ownedBytes + ws.activations + ws.relevance + ws.scratch,
      linearMemory: this.backend.memory.byteLength(),
    };
  }

  /**
   * The largest batch ≤ max whose workspace fits in `limit` bytes next to the parameters, the
   * constants and one modified copy of the parameters (what most rules cache); at least 1.
   */
  fitBatch(max: number, limit: number): number {
    const plan = this.memoryPlan(1);
    const fixed = plan.parameters + plan.constants + Math.max(plan.modifiedParameters, plan.parameters);
    for (let b = max; b > 1; b--) if (fixed + this.workspaceParts(b).total <= limit) return b;
    return 1;
  }

  /**
   * Bytes of a workspace for `capacity` samples by part, computed once per capacity (calls without
   * a batch option ask for several on every call; the relevance plan is not free).
   */
  private workspaceParts(capacity: number): WorkspaceBytes {
    let parts = this.partsByCapacity.get(capacity);
    if (!parts) this.partsByCapacity.set(capacity, (parts = workspaceParts(this.graph, this.shapes, capacity, this.convScratchBytes())));
    return parts;
  }

  /** The im2col / col2im scratch the largest op needs (the workspace holds one, shared). */
  private convScratchBytes(): number {
    let bytes = 0;
    for (const p of this.prepared) bytes = Math.max(bytes, p.spec.scratchBytes?.(p.state, this.backend) ?? 0);
    return bytes;
  }

  /** Make sure buffers exist for at least n samples (reallocates only when n grows). */
  workspace(n: number): Workspace {
    if (!this.ws || this.ws.capacity < n) {
      this.ws?.dispose();
      this.ws = null;
      const convBytes = this.convScratchBytes();
      // check first: a batch that cannot fit fails now, not after growing the memory to its limit
      const need = this.workspaceParts(n).total;
      const mem = this.backend.memory;
      // the workspace comes before cached modified parameters: they are recomputed per step if need be
      if (mem.used() + need > this.memoryLimit || need > mem.available()) for (const layer of this.linear) layer.evictModified();
      const free = mem.available();
      if (need > free) {
        const mib = (b: number) => `${Math.ceil(b / 2 ** 20)} MiB`;
        const perSample = this.workspaceParts(1).total;
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

  /**
   * Run the forward pass over n samples; firstSample (their index in the caller's batch) is for messages.
   * `assigned`: the rules of the relevance pass that follows (none: predict); `fromLogit`: that pass starts
   * from the logit. They decide which conv layers may compute their own output on Winograd (rounding.ts).
   */
  forward(n: number, firstSample = 0, assigned?: Map<string, Assigned>, fromLogit = false): void {
    const ws = this.ws!;
    const k = this.backend.kernels;
    this.calls++;
    const rounding = assigned && this.roundingLayers(assigned, fromLogit);
    for (const layer of this.linear) layer.ownForwardWinograd = !rounding || rounding.has(layer.node.name);
    for (const { node, spec, state } of this.prepared) {
      spec.forward({ node, state, k, ws, n, firstSample, ins: node.inputs.map((i) => ws.tensor(i)), out: ws.tensor(node.name) });
    }
  }

  /**
   * Whether a modified set of `bytes` may be cached within the memory limit. If not, and the set is a
   * rule's, the Winograd transforms of W for the layers' own forward are freed, least recently used first,
   * until it fits (LinearLayer.ownTransform), even those this call's forward used (it has run): without
   * them W's own forward takes im2col + GEMM, while a rule's product without its set would take the
   * uncached im2col path in every call. A transform of W (`own`) frees nothing: it is cached only where
   * there is room, so calls that alternate cannot evict each other's sets in turn.
   */
  private fits(bytes: number, own = false): boolean {
    const mem = this.backend.memory;
    const room = () => mem.used() + bytes <= this.memoryLimit;
    if (room() || own) return room();
    const stale = this.linear.map((layer) => layer.ownTransform()).filter((t) => t !== null).sort((a, b) => a[0] - b[0]);
    const freeable = stale.reduce((sum, [, b]) => sum + b, 0);
    if (mem.used() - freeable + bytes > this.memoryLimit) return false; // would not fit anyway: keep them
    for (const [, , free] of stale) {
      if (room()) break;
      free();
    }
    return room();
  }

  private roundingLayers(assigned: Map<string, Assigned>, fromLogit: boolean): Set<string> {
    let both = this.rounding.get(assigned);
    if (!both) this.rounding.set(assigned, (both = []));
    const i = fromLogit ? 0 : 1;
    return (both[i] ??= roundingLayers(this.graph, assigned, fromLogit));
  }

  /** Pointer to the output (logits) of the last forward. */
  outputPtr(): number {
    return this.ws!.tensor(this.graph.output).act;
  }

  /**
   * Walk the graph backwards from the relevance already written at the output tensor's `rel`
   * buffer. A tensor read by several nodes gets the sum of what they send back: the first of its
   * consumers (in the backward walk) writes its relevance buffer, the others add to it, so no
   * buffer needs zeroing first. Relevance buffers are shared by liveness (tensors.ts,
   * planRelevance): a tensor's relevance is only complete, and only valid, when its producer is
   * reached; `onFinal` sees each tensor (and each view of it) at that moment, the input last.
   */
  relevance(n: number, assigned: Map<string, Assigned>, onFinal?: (t: TensorBuf) => void): void {
    const ws = this.ws!;
    const k = this.backend.kernels;
    const written = new Set<string>([ws.tensor(this.graph.output).root]);
    const first = (t: TensorBuf): boolean => {
      const isFirst = !written.has(t.root);
      written.add(t.root);
      return isFirst;
    };
    for (const layer of this.linear) layer.recomputedBytes = 0;
    const put = (t: TensorBuf, src: number) => (first(t) ? k.copy(src, t.rel, n * t.size) : k.add(t.rel, src, t.rel, n * t.size));
    const target = (t: TensorBuf, scratch: number) => (written.has(t.root) ? scratch : t.rel);
    const commit = (t: TensorBuf, buf: number) => (buf !== t.rel ? put(t, buf) : void first(t));
    const finalize = (name: string) => {
      const t = ws.tensor(name);
      // a tensor no node sent relevance to (a gate branch, an unused output) holds zeros, not another tensor's values
      if (!written.has(t.root)) {
        k.fill(t.rel, n * t.size, 0);
        written.add(t.root);
      }
      if (onFinal) for (const v of ws.byRoot.get(name)!) onFinal(v);
    };
    for (let i = this.prepared.length - 1; i >= 0; i--) {
      const { node, spec, state } = this.prepared[i];
      if (!spec.view) finalize(node.name);
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
      if (state instanceof LinearLayer) state.releaseTransient();
    }
    finalize(MODEL_INPUT);
  }

  dispose(): void {
    this.ws?.dispose();
    this.ws = null;
    for (const p of this.prepared) p.spec.disposeState?.(p.state, this.backend);
    for (const p of this.owned) this.backend.memory.free(p);
    this.owned.length = 0;
  }
}
