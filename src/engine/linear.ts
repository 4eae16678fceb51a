/**
 * A dense or conv2d node on a backend: its parameters in linear memory, the modified parameter
 * sets the rules need (computed once and cached), and the two primitive maps every rule is built
 * from: the affine forward f(x; W, b) and the transposed product J^T(g; W).
 */
import type { Backend } from '../kernels/abi.js';
import { ConvDesc, DESC_INTS } from '../kernels/abi.js';
import type { Conv2dNode, DenseNode, Shape } from '../graph/ir.js';
import { size } from '../graph/shapes.js';
import { winogradFilterFloats, type WinogradTile } from '../kernels/winograd.js';
import { winogradTile } from './winograd.js';

export type ParamKind = 'w' | 'b';

/**
 * Whether a modified parameter set of `bytes` may stay cached (the engine answers from the memory
 * limit: what linear memory holds plus the set must stay within it). A set that may not is
 * computed for the rule step that needs it and freed after it (`releaseTransient`). `own`: the set is
 * the Winograd transform of W for its own forward, which may not make room by freeing others.
 */
export type CacheBudget = (bytes: number, own?: boolean) => boolean;

export class LinearLayer {
  readonly inSize: number;
  readonly outSize: number;
  /** Dense: rows of inFeatures values per sample (1 for a vector input; T for [T, D]). Conv: 1. */
  readonly rows: number;
  /** Conv descriptor pointer (0 for dense). */
  readonly desc: number;
  readonly descInts: Int32Array | null;
  private readonly cache = new Map<string, number>();
  /** Conv only: the Winograd tile this layer runs with (0: im2col + GEMM); see engine/winograd.ts. */
  readonly winograd: 0 | WinogradTile;
  /** Winograd filter transforms of cached weight sets, by `${weight pointer}:${transposed}`. */
  private readonly winogradFilters = new Map<string, number>();
  /** Cached weight sets without mixed signs (W⁺, W⁻, W², ones): their forward sums cannot cancel. */
  private readonly signDefinite = new Set<number>();
  /**
   * Bytes of the modified parameter sets cached so far (W⁺, W⁻, W+γW⁺, …, and the Winograd transforms
   * of any weight set, W's included; not the parameters themselves).
   */
  modifiedBytes = 0;
  /** Blocks computed for the current rule step only, because caching them would exceed the budget. */
  private readonly transient: number[] = [];
  /** Bytes of modified sets computed without caching in the engine's last relevance call (it resets this). */
  recomputedBytes = 0;
  /** Set by the engine; without one every set is cached. */
  budget: CacheBudget = () => true;
  /** The engine's call counter (set by it), for ownTransform. */
  clock: () => number = () => 0;
  /** When the Winograd transform of W for its own forward was last used (clock). */
  private ownTransformUse = -1;
  /**
   * Whether W's own forward (the layer's output z) may run on Winograd in the current pass: set by the
   * engine per forward pass from the rules that follow (Engine.forward, engine/rounding.ts).
   */
  ownForwardWinograd = false;

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
      this.winograd = winogradTile(d, backend.winograd ?? 'off');
    } else {
      this.descInts = null;
      this.desc = 0;
      this.winograd = 0;
    }
  }

  get weightLength(): number {
    return this.node.weight.length;
  }

  convScratchBytes(): number {
    if (!this.descInts) return 0;
    const k = this.backend.kernels;
    // the direct kernels' too: they run for a weight set the layer did not cache (see winogradFilter)
    const direct = k.convScratchBytes(this.descInts);
    return this.winograd ? Math.max(direct, k.winogradScratchBytes(this.descInts, this.winograd)) : direct;
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
    if (kind === 'w' && (values.every((v) => v >= 0) || values.every((v) => v <= 0))) this.signDefinite.add(p);
    if (key !== 'id') this.modifiedBytes += bytes;
    return p;
  }

  /** Frees the sets computed for the rule step that just ended (see `param`). */
  releaseTransient(): void {
    for (const p of this.transient) this.backend.memory.free(p);
    this.transient.length = 0;
  }

  private ownTransformKey(): string {
    return `${this.cache.get('w:id')}:0`;
  }

  /**
   * The Winograd transform of W for its own forward, if cached: [last use, bytes, free it]. Only these give
   * way to other sets (Engine.fits): without them W's own forward runs im2col + GEMM. The rules' sets give
   * way to nothing (first come, first cached), so calls with different composites cannot evict each
   * other's sets in turn, recomputing them every call.
   */
  ownTransform(): [number, number, () => void] | null {
    const key = this.ownTransformKey();
    const u = this.winogradFilters.get(key);
    if (u === undefined) return null;
    const bytes = winogradFilterFloats(this.descInts!, this.winograd as WinogradTile, false) * 4;
    return [this.ownTransformUse, bytes, () => {
      this.backend.memory.free(u);
      this.winogradFilters.delete(key);
      this.modifiedBytes -= bytes;
    }];
  }

  /** Frees every cached modified set (the parameters stay); they are recomputed when next needed. */
  evictModified(): void {
    for (const u of this.winogradFilters.values()) this.backend.memory.free(u);
    this.winogradFilters.clear();
    for (const [key, p] of this.cache)
      if (!key.endsWith(':id')) {
        this.backend.memory.free(p);
        this.cache.delete(key);
        // the address may come back for another set: it must not keep this one's sign or transform
        this.signDefinite.delete(p);
      }
    this.modifiedBytes = 0;
  }

  weight(): number {
    return this.param('w', 'id', (v) => v);
  }

  bias(): number {
    return this.param('b', 'id', (v) => v);
  }

  /**
   * The Winograd transform of a weight set this layer cached (transposed: the transposed product's),
   * computed on first use and cached next to it; 0 when the layer does not run Winograd or `w` is not
   * one of its cached sets (then the direct kernels run).
   */
  private winogradFilter(w: number, transposed: boolean): number {
    if (!this.winograd || !this.descInts) return 0;
    const key = `${w}:${transposed ? 1 : 0}`;
    const own = key === this.ownTransformKey();
    let u = this.winogradFilters.get(key);
    if (u !== undefined) {
      if (own) this.ownTransformUse = this.clock();
      return u;
    }
    if (!this.isCachedWeight(w)) return 0;
    const bytes = winogradFilterFloats(this.descInts, this.winograd, transposed) * 4;
    if (!this.budget(bytes, own)) return 0; // over the memory limit: the direct kernels need no transform
    u = this.backend.memory.alloc(bytes);
    this.backend.kernels.winogradFilter(this.desc, w, u, this.winograd, transposed ? 1 : 0);
    this.winogradFilters.set(key, u);
    this.modifiedBytes += bytes;
    if (own) this.ownTransformUse = this.clock();
    return u;
  }

  private isCachedWeight(w: number): boolean {
    for (const [key, p] of this.cache) if (p === w && key.startsWith('w:')) return true;
    return false;
  }

  /**
   * y = f(x; W, b) for n samples (bPtr 0: no bias). exactZeros: an output whose terms are all zero
   * must come out exactly 0 (im2col + GEMM; Winograd's transforms leave rounding noise there).
   * Winograd's rounding error is relative to the sum of |terms|, so weight sets of one sign use it
   * (W⁺, W⁻, …: the rules' denominators), and W's own forward only where the engine allows it
   * (`ownForwardWinograd`: no later rule divides by what it rounded, unless the relevance divided scales
   * with it; engine/rounding.ts).
   */
  forward(x: number, w: number, b: number, y: number, n: number, convScratch: number, exactZeros = false): void {
    const k = this.backend.kernels;
    if (this.node.op === 'dense') return k.denseForward(x, w, b, y, n * this.rows, this.node.inFeatures, this.node.outFeatures);
    const mayRound = this.signDefinite.has(w) || (this.ownForwardWinograd && w === this.cache.get('w:id'));
    const u = exactZeros || !mayRound ? 0 : this.winogradFilter(w, false);
    if (u) {
      k.winogradForward(this.desc, x, u, b, y, convScratch, n, this.winograd, 0, 1);
      if (!k.hasNonFinite(y, n * this.outSize)) return;
      // Winograd's transform-domain sums overflow below FLT_MAX and spread a NaN or ±Inf over whole
      // tiles: such outputs are recomputed directly, so they are exactly as before
    }
    k.conv2dForward(this.desc, x, w, b, y, convScratch, n);
  }

  /**
   * out (+)= J^T(g; W) for n samples; exactZeros: an element whose terms are all zero gets exactly 0 (see
   * forward). Winograd computes the overwriting calls (those are the rules' hot path).
   */
  transpose(g: number, w: number, out: number, n: number, accumulate: boolean, convScratch: number, exactZeros = false): void {
    const k = this.backend.kernels;
    const acc = accumulate ? 1 : 0;
    if (this.node.op === 'dense') return k.denseTranspose(g, w, out, n * this.rows, this.node.inFeatures, this.node.outFeatures, acc);
    // accumulating calls stay direct: a Winograd result that must be recomputed (see forward) could not be
    // taken back out of `out`
    const u = exactZeros || accumulate ? 0 : this.winogradFilter(w, true);
    if (u) {
      k.winogradTranspose(this.desc, g, u, out, convScratch, n, this.winograd, 0, 0, 1);
      if (!k.hasNonFinite(out, n * this.inSize)) return;
    }
    k.conv2dTranspose(this.desc, g, w, out, convScratch, n, acc);
  }

  /**
   * outA = J^T(g; wa) and outB = J^T(g; wb), overwriting: the same numbers as two `transpose` calls. Where
   * both take the direct kernels (a conv without Winograd), one pair call runs them side by side on a
   * threaded backend: a first layer's transpose splits by its 3 input channels, too few for two threads.
   */
  transposePair(g: number, wa: number, outA: number, wb: number, outB: number, n: number, convScratch: number, exactZeros = false): void {
    if (this.node.op === 'conv2d' && (exactZeros || !this.winograd)) {
      this.backend.kernels.conv2dTransposePair(this.desc, g, wa, outA, wb, outB, convScratch, n);
      return;
    }
    this.transpose(g, wa, outA, n, false, convScratch, exactZeros);
    this.transpose(g, wb, outB, n, false, convScratch, exactZeros);
  }

  dispose(): void {
    this.releaseTransient();
    for (const p of this.cache.values()) this.backend.memory.free(p);
    this.cache.clear();
    for (const p of this.winogradFilters.values()) this.backend.memory.free(p);
    this.winogradFilters.clear();
    this.signDefinite.clear();
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
