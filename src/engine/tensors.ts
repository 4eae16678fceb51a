/**
 * Buffers of one engine for a given batch capacity: the activation and the relevance of every
 * tensor (views alias their source), shared scratch, and per-capacity constants. Everything is
 * allocated once per capacity and reused by every call (no allocation per call).
 */
import type { Backend } from '../kernels/abi.js';
import { MODEL_INPUT, type Graph, type Shape } from '../graph/ir.js';
import { specOf } from '../ops/registry.js';
import { size } from '../graph/shapes.js';

export interface TensorBuf {
  name: string;
  shape: Shape;
  /** floats per sample */
  size: number;
  act: number;
  rel: number;
  /** true when this tensor aliases another (flatten/reshape) */
  view: boolean;
  /** The tensor whose buffers this one shares (itself unless a view). */
  root: string;
}

/** Rounded like Arena blocks: at least 16 bytes, a multiple of 16. */
const block = (floats: number) => Math.ceil((Math.max(floats, 4) * 4) / 16) * 16;

/** Rule scratch buffers sized like the largest layer input (x⁺, x⁻, two transposed products) and output (z⁺, z⁻, the quotient). */
const SCRATCH_IN_BUFFERS = 4;
const SCRATCH_OUT_BUFFERS = 3;

/** The tensor whose buffers each tensor shares: itself, or a view's source (followed through views). */
export function aliasRoots(graph: Graph): Map<string, string> {
  const roots = new Map<string, string>([[MODEL_INPUT, MODEL_INPUT]]);
  for (const node of graph.nodes) roots.set(node.name, specOf(node).view ? roots.get(node.inputs[0])! : node.name);
  return roots;
}

/**
 * Where every relevance buffer lives in one slab, reused by liveness. The backward walk goes from
 * the last node to the first; a tensor's relevance is first written by its last reader (in graph
 * order) and last read by its producer, so it is live over the node indices [producer, last
 * reader] (the model output from the start, the input until the end). Buffers whose intervals do
 * not overlap share bytes: placed largest first at the lowest offset that collides with no
 * placed buffer live at the same time (the greedy-by-size plan of TFLite's arena planner).
 */
export interface RelevancePlan {
  /** Byte offset of each root tensor's relevance in the slab. */
  offsets: Map<string, number>;
  slabBytes: number;
  /** What the buffers would take without reuse (for memoryPlan()). */
  unsharedBytes: number;
}

export function planRelevance(graph: Graph, shapes: Map<string, Shape>, capacity: number): RelevancePlan {
  const roots = aliasRoots(graph);
  const index = new Map<string, number>([[MODEL_INPUT, -1]]);
  graph.nodes.forEach((node, i) => index.set(node.name, i));
  const live = new Map<string, { from: number; to: number; bytes: number }>();
  for (const [name, root] of roots)
    if (name === root) live.set(root, { from: index.get(root)!, to: index.get(root)!, bytes: block(size(shapes.get(root)!) * capacity) });
  graph.nodes.forEach((node, i) => {
    for (const input of node.inputs) {
      const l = live.get(roots.get(input)!)!;
      l.to = Math.max(l.to, i);
    }
  });
  live.get(roots.get(graph.output)!)!.to = graph.nodes.length;
  const order = [...live.entries()].sort((a, b) => b[1].bytes - a[1].bytes || a[1].from - b[1].from);
  const placed: Array<{ from: number; to: number; at: number; end: number }> = [];
  const offsets = new Map<string, number>();
  let slabBytes = 0;
  let unsharedBytes = 0;
  for (const [name, l] of order) {
    unsharedBytes += l.bytes;
    const clashes = placed.filter((p) => p.from <= l.to && l.from <= p.to).sort((a, b) => a.at - b.at);
    let at = 0;
    for (const p of clashes) {
      if (at + l.bytes <= p.at) break;
      at = Math.max(at, p.end);
    }
    placed.push({ from: l.from, to: l.to, at, end: at + l.bytes });
    offsets.set(name, at);
    slabBytes = Math.max(slabBytes, at + l.bytes);
  }
  return { offsets, slabBytes, unsharedBytes };
}

/** Bytes of the workspace's parts for `capacity` samples (what the constructor allocates). */
export interface WorkspaceBytes {
  activations: number;
  relevance: number;
  /** What the relevance buffers would take without sharing. */
  relevanceUnshared: number;
  scratch: number;
  /** activations + relevance + scratch */
  total: number;
}

export function workspaceParts(graph: Graph, shapes: Map<string, Shape>, capacity: number, convScratchBytes: number): WorkspaceBytes {
  let activations = block(size(shapes.get(MODEL_INPUT)!) * capacity);
  let maxIn = 1;
  let maxOut = 1;
  let maxAny = size(shapes.get(MODEL_INPUT)!);
  for (const node of graph.nodes) {
    const s = size(shapes.get(node.name)!);
    if (!specOf(node).view) activations += block(s * capacity);
    maxIn = Math.max(maxIn, ...node.inputs.map((i) => size(shapes.get(i)!)));
    maxOut = Math.max(maxOut, s);
    maxAny = Math.max(maxAny, s);
  }
  const scratch = SCRATCH_IN_BUFFERS * block(maxIn * capacity) + SCRATCH_OUT_BUFFERS * block(maxOut * capacity) + block(maxAny * capacity) + convScratchBytes;
  const plan = planRelevance(graph, shapes, capacity);
  return { activations, relevance: plan.slabBytes, relevanceUnshared: plan.unsharedBytes, scratch, total: activations + plan.slabBytes + scratch };
}

/**
 * `count` scratch buffers of up to `max` floats, each allocated when first used. `list[i]` is buffer i
 * at its full size; `sized(i, floats)` is buffer i with room for at least `floats`: a buffer first asked
 * for less is allocated at that size, and moves to the full size (once) when a larger request comes.
 * Epsilon-plus on ResNet50 asks for x⁺ and x⁻ only at the first conv, whose input (3 channels) is about a
 * fifth of the largest layer input: at batch 8 that keeps 40 MiB free.
 */
function lazyBuffers(count: number, max: number, alloc: (floats: number) => number, free: (ptr: number) => void): { list: readonly number[]; sized(i: number, floats: number): number } {
  const held: Array<{ ptr: number; floats: number } | undefined> = [];
  const sized = (i: number, floats: number): number => {
    const had = held[i];
    if (had && had.floats >= floats) return had.ptr;
    if (had) {
      free(had.ptr);
      held[i] = undefined; // nothing dangling if the allocation below fails
    }
    const size = had ? max : Math.min(max, floats);
    const ptr = alloc(size);
    held[i] = { ptr, floats: size };
    return ptr;
  };
  const list: number[] = [];
  for (let i = 0; i < count; i++) Object.defineProperty(list, i, { enumerable: true, get: () => sized(i, max) });
  return { list, sized };
}

export class Workspace {
  readonly tensors = new Map<string, TensorBuf>();
  /** Each root tensor with the views that share its buffers (root first). */
  readonly byRoot = new Map<string, TensorBuf[]>();
  /**
   * Scratch sized like the largest layer input (x+, x−, the transposed products). Each buffer is
   * allocated the first time a rule reads its pointer and kept (epsilon-plus on non-negative
   * inputs never touches most of them).
   */
  readonly scratchIn: readonly number[];
  /** scratchIn[i] with room for at least `floats` (see lazyBuffers): for buffers often much smaller than the largest input. */
  readonly scratchInSized: (i: number, floats: number) => number;
  /** Scratch sized like the largest layer output (z+, z−, the quotient), allocated on first use. */
  readonly scratchOut: readonly number[];
  private onesPtr = 0;
  /** Conv im2col / col2im scratch. */
  readonly convScratch: number;
  /** Per-capacity constants (flat/wsquare denominators, zbox offsets), keyed by node and rule. */
  readonly constants = new Map<string, number>();
  private readonly owned: number[] = [];

  constructor(
    readonly backend: Backend,
    graph: Graph,
    shapes: Map<string, Shape>,
    readonly capacity: number,
    convScratchBytes: number,
  ) {
    try {
      const mem = backend.memory;
      const alloc = (floats: number) => {
        const p = mem.alloc(Math.max(floats, 4) * 4);
        this.owned.push(p);
        return p;
      };
      const plan = planRelevance(graph, shapes, capacity);
      const slab = mem.alloc(Math.max(plan.slabBytes, 16));
      this.owned.push(slab);
      const add = (name: string, shape: Shape, aliasOf?: TensorBuf) => {
        const s = size(shape);
        this.tensors.set(
          name,
          aliasOf
            ? { name, shape, size: s, act: aliasOf.act, rel: aliasOf.rel, view: true, root: aliasOf.root }
            : { name, shape, size: s, act: alloc(s * capacity), rel: slab + plan.offsets.get(name)!, view: false, root: name },
        );
      };
      add(MODEL_INPUT, shapes.get(MODEL_INPUT)!);
      let maxIn = 1;
      let maxOut = 1;
      let maxAny = size(shapes.get(MODEL_INPUT)!);
      for (const node of graph.nodes) {
        const shape = shapes.get(node.name)!;
        const src = this.tensors.get(node.inputs[0])!;
        add(node.name, shape, specOf(node).view ? src : undefined);
        maxIn = Math.max(maxIn, ...node.inputs.map((i) => this.tensors.get(i)!.size));
        maxOut = Math.max(maxOut, size(shape));
        maxAny = Math.max(maxAny, size(shape));
      }
      for (const t of this.tensors.values()) {
        const group = this.byRoot.get(t.root);
        if (group) group.push(t);
        else this.byRoot.set(t.root, [t]);
      }
      const release = (p: number) => {
        mem.free(p);
        const at = this.owned.indexOf(p);
        if (at >= 0) this.owned.splice(at, 1);
      };
      const scratchIn = lazyBuffers(SCRATCH_IN_BUFFERS, maxIn * capacity, alloc, release);
      this.scratchIn = scratchIn.list;
      this.scratchInSized = scratchIn.sized;
      this.scratchOut = lazyBuffers(SCRATCH_OUT_BUFFERS, maxOut * capacity, alloc, release).list;
      this.onesFloats = maxAny * capacity;
      this.convScratch = convScratchBytes > 0 ? mem.alloc(convScratchBytes) : 0;
      if (this.convScratch) this.owned.push(this.convScratch);
    } catch (e) {
      this.dispose(); // a workspace that could not be completed gives its blocks back
      throw e;
    }
  }

  private readonly onesFloats: number;

  /** All ones, as large as the largest tensor (flat rule, relu gradient mask); allocated on first use. */
  get ones(): number {
    if (!this.onesPtr) {
      this.onesPtr = this.backend.memory.alloc(this.onesFloats * 4);
      this.owned.push(this.onesPtr);
      this.backend.kernels.fill(this.onesPtr, this.onesFloats, 1);
    }
    return this.onesPtr;
  }

  tensor(name: string): TensorBuf {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`internal: no tensor '${name}'`);
    return t;
  }

  /** Allocate a per-capacity constant once; `init` fills it the first time. */
  constant(key: string, floats: number, init: (ptr: number) => void): number {
    let p = this.constants.get(key);
    if (p === undefined) {
      p = this.backend.memory.alloc(Math.max(floats, 4) * 4);
      this.owned.push(p);
      this.constants.set(key, p);
      init(p);
    }
    return p;
  }

  dispose(): void {
    for (const p of this.owned) this.backend.memory.free(p);
    this.owned.length = 0;
    this.constants.clear();
  }
}
