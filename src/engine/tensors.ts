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
}

/** Rounded like Arena blocks: at least 16 bytes, a multiple of 16. */
const block = (floats: number) => Math.ceil((Math.max(floats, 4) * 4) / 16) * 16;

/**
 * Bytes a workspace for `capacity` samples takes (what the constructor allocates), so that the
 * engine can refuse a batch that cannot fit before growing the memory.
 */
export function workspaceBytes(graph: Graph, shapes: Map<string, Shape>, capacity: number, convScratchBytes: number): number {
  let bytes = 2 * block(size(shapes.get(MODEL_INPUT)!) * capacity);
  let maxIn = 1;
  let maxOut = 1;
  let maxAny = size(shapes.get(MODEL_INPUT)!);
  for (const node of graph.nodes) {
    const s = size(shapes.get(node.name)!);
    if (!specOf(node).view) bytes += 2 * block(s * capacity);
    maxIn = Math.max(maxIn, ...node.inputs.map((i) => size(shapes.get(i)!)));
    maxOut = Math.max(maxOut, s);
    maxAny = Math.max(maxAny, s);
  }
  return bytes + 3 * block(maxIn * capacity) + 4 * block(maxOut * capacity) + block(maxAny * capacity) + convScratchBytes;
}

export class Workspace {
  readonly tensors = new Map<string, TensorBuf>();
  /** Scratch sized like the largest layer input (x+, x−, transposed product). */
  readonly scratchIn: number[] = [];
  /** Scratch sized like the largest layer output (z+, z−, g+, g−). */
  readonly scratchOut: number[] = [];
  /** All ones, as large as the largest tensor (flat rule, relu gradient mask). */
  readonly ones: number;
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
      const add = (name: string, shape: Shape, aliasOf?: TensorBuf) => {
        const s = size(shape);
        this.tensors.set(
          name,
          aliasOf
            ? { name, shape, size: s, act: aliasOf.act, rel: aliasOf.rel, view: true }
            : { name, shape, size: s, act: alloc(s * capacity), rel: alloc(s * capacity), view: false },
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
      for (let i = 0; i < 3; i++) this.scratchIn.push(alloc(maxIn * capacity));
      for (let i = 0; i < 4; i++) this.scratchOut.push(alloc(maxOut * capacity));
      this.ones = alloc(maxAny * capacity);
      backend.kernels.fill(this.ones, maxAny * capacity, 1);
      this.convScratch = convScratchBytes > 0 ? mem.alloc(convScratchBytes) : 0;
      if (this.convScratch) this.owned.push(this.convScratch);
    } catch (e) {
      this.dispose(); // a workspace that could not be completed gives its blocks back
      throw e;
    }
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
