/**
 * A dense or conv2d node on a backend: its parameters in linear memory, the modified parameter
 * sets the rules need (computed once and cached), and the two primitive maps every rule is built
 * from: the affine forward f(x; W, b) and the transposed product J^T(g; W).
 */
import type { Backend } from '../kernels/abi.js';
import { ConvDesc, DESC_INTS } from '../kernels/abi.js';
import type { Conv2dNode, DenseNode, Shape } from '../graph/ir.js';
import { size } from '../graph/shapes.js';

export type ParamKind = 'w' | 'b';

/**
 * Whether a modified parameter set of `bytes` may stay cached (the engine answers from the memory
 * limit: what linear memory holds plus the set must stay within it). A set that may not is
 * computed for the rule step that needs it and freed after it (`releaseTransient`).
 */
export type CacheBudget = (bytes: number) => boolean;

export class LinearLayer {
  readonly inSize: number;
  readonly outSize: number;
  /** Dense: rows of inFeatures values per sample (1 for a vector input; T for [T, D]). Conv: 1. */
  readonly rows: number;
  /** Conv descriptor pointer (0 for dense). */
  readonly desc: number;
  readonly descInts: Int32Array | null;
  private readonly cache = new Map<string, number>();
  /** Bytes of the modified parameter sets cached so far (W⁺, W⁻, W+γW⁺, …; not the parameters themselves). */
  modifiedBytes = 0;
  /** Blocks computed for the current rule step only, because caching them would exceed the budget. */
  private readonly transient: number[] = [];
  /** Bytes of modified sets computed without caching in the engine's last relevance call (it resets this). */
  recomputedBytes = 0;
  /** Set by the engine; without one every set is cached. */
  budget: CacheBudget = () => true;

  constructor(
    private readonly backend: Backend,
    readonly node: DenseNode | Conv2dNode,
    inShape: Shape,
    outShape: Shape,
  ) {
    this.inSize = size(inShape);
    this.outSize = size(outShape);
    this.rows = node.op === 'dense' ? this.inSize / node.inFeatures : 1;
    if (node.op === 'conv2d') {
      const d = new Int32Array(DESC_INTS);
      d[ConvDesc.C] = inShape[0];
      d[ConvDesc.H] = inShape[1];
      d[ConvDesc.W] = inShape[2];
      d[ConvDesc.O] = node.outChannels;
      d[ConvDesc.KH] = node.kernel[0];
      d[ConvDesc.KW] = node.kernel[1];
      d[ConvDesc.SH] = node.stride[0];
      d[ConvDesc.SW] = node.stride[1];
      d[ConvDesc.PT] = node.padding[0];
      d[ConvDesc.PL] = node.padding[1];
      d[ConvDesc.DH] = node.dilation[0];
      d[ConvDesc.DW] = node.dilation[1];
      d[ConvDesc.G] = node.groups;
      d[ConvDesc.OH] = outShape[1];
      d[ConvDesc.OW] = outShape[2];
      this.descInts = d;
      this.desc = backend.memory.alloc(DESC_INTS * 4);
      backend.memory.i32().set(d, this.desc >>> 2);
    } else {
      this.descInts = null;
      this.desc = 0;
    }
  }

  get weightLength(): number {
    return this.node.weight.length;
  }

  convScratchBytes(): number {
    return this.descInts ? this.backend.kernels.convScratchBytes(this.descInts) : 0;
  }

  /**
   * A parameter array in linear memory, derived from the node's weight or bias by `transform`
   * (float32 arithmetic), computed on first use and cached under `key` while the budget allows;
   * otherwise computed for this rule step only (freed by `releaseTransient`). The parameters
   * themselves ('id') are always kept. Returns 0 for a bias the layer does not have.
   */
  param(kind: ParamKind, key: string, transform: (v: number) => number): number {
    const cacheKey = `${kind}:${key}`;
    const cachedPtr = this.cache.get(cacheKey);
    if (cachedPtr !== undefined) return cachedPtr;
    const src = kind === 'w' ? this.node.weight : this.node.bias;
    if (!src) return 0;
    const values = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) values[i] = transform(src[i]);
    const bytes = values.length * 4;
    const keep = key === 'id' || this.budget(bytes);
    const p = this.backend.memory.alloc(bytes);
    this.backend.memory.f32().set(values, p >>> 2);
    if (!keep) {
      this.transient.push(p);
      this.recomputedBytes += bytes;
      return p;
    }
    this.cache.set(cacheKey, p);
    if (key !== 'id') this.modifiedBytes += bytes;
    return p;
  }

  /** Frees the sets computed for the rule step that just ended (see `param`). */
  releaseTransient(): void {
    for (const p of this.transient) this.backend.memory.free(p);
    this.transient.length = 0;
  }

  /** Frees every cached modified set (the parameters stay); they are recomputed when next needed. */
  evictModified(): void {
    for (const [key, p] of this.cache)
      if (!key.endsWith(':id')) {
        this.backend.memory.free(p);
        this.cache.delete(key);
      }
    this.modifiedBytes = 0;
  }

  weight(): number {
    return this.param('w', 'id', (v) => v);
  }

  bias(): number {
    return this.param('b', 'id', (v) => v);
  }

  /** y = f(x; W, b) for n samples (bPtr 0: no bias). */
  forward(x: number, w: number, b: number, y: number, n: number, convScratch: number): void {
    const k = this.backend.kernels;
    if (this.node.op === 'dense') k.denseForward(x, w, b, y, n * this.rows, this.node.inFeatures, this.node.outFeatures);
    else k.conv2dForward(this.desc, x, w, b, y, convScratch, n);
  }

  /** out (+)= J^T(g; W) for n samples. */
  transpose(g: number, w: number, out: number, n: number, accumulate: boolean, convScratch: number): void {
    const k = this.backend.kernels;
    if (this.node.op === 'dense') k.denseTranspose(g, w, out, n * this.rows, this.node.inFeatures, this.node.outFeatures, accumulate ? 1 : 0);
    else k.conv2dTranspose(this.desc, g, w, out, convScratch, n, accumulate ? 1 : 0);
  }

  dispose(): void {
    this.releaseTransient();
    for (const p of this.cache.values()) this.backend.memory.free(p);
    this.cache.clear();
    this.modifiedBytes = 0;
    if (this.desc) this.backend.memory.free(this.desc);
  }
}

const f = Math.fround;
export const pos = (v: number) => (v > 0 ? v : 0);
export const neg = (v: number) => (v < 0 ? v : 0);
/** w + g·w⁺ in float32 */
export const gammaUp = (g: number) => (v: number) => f(v + f(g * pos(v)));
/** w + g·w⁻ in float32 */
export const gammaDown = (g: number) => (v: number) => f(v + f(g * neg(v)));
export const square = (v: number) => f(v * v);
export const one = () => 1;
