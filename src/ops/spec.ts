/**
 * The shape of an op module. Every op of the IR lives in one file under src/ops/ that exports an
 * OpSpec: its node type, shape inference, the engine state it prepares once, its forward kernel
 * sequence, the relevance rules it accepts and the rule every preset gives it. The registry
 * (registry.ts) is the one table the engine, the shape checker, rule assignment and describe()
 * read. See ARCHITECTURE.md, "How to add an op".
 */
import type { Composite } from '../composites.js';
import type { BoxBounds } from '../engine/linear-rules.js';
import type { TensorBuf, Workspace } from '../engine/tensors.js';
import type { NodeBase, Shape } from '../graph/ir.js';
import type { Backend, Kernels } from '../kernels/abi.js';
import type { Rule, RuleName } from '../rules.js';

/** What prepare() gets: the backend and a way to put constants into linear memory (owned by the engine). */
export interface PrepareEnv {
  readonly backend: Backend;
  readonly inShapes: Shape[];
  readonly outShape: Shape;
  /** Copies values into linear memory; the engine frees the block on dispose. Returns a byte pointer. */
  floats(values: ArrayLike<number>): number;
  ints(values: ArrayLike<number>): number;
}

export interface ForwardStep<N, S> {
  readonly node: N;
  readonly state: S;
  readonly k: Kernels;
  readonly ws: Workspace;
  /** Samples in this run. */
  readonly n: number;
  /** Index of this run's first sample in the caller's batch, for messages (forward only; 0 when not given). */
  readonly firstSample?: number;
  readonly ins: TensorBuf[];
  readonly out: TensorBuf;
}

/**
 * One node of the backward walk. A tensor read by several nodes gets the sum of what they send
 * back: the first write into its relevance buffer overwrites, later ones add.
 */
export interface RelevanceStep<N, S> extends ForwardStep<N, S> {
  readonly rule: Rule;
  readonly box?: BoxBounds;
  /** True the first time t's relevance is written (then the caller writes, otherwise adds). */
  first(t: TensorBuf): boolean;
  /** t.rel = src on the first write, t.rel += src after. */
  put(t: TensorBuf, src: number): void;
  /**
   * Where to write a full contribution for t: t.rel itself when nothing was written there yet,
   * otherwise `scratch` (then call `commit`, which adds it).
   */
  target(t: TensorBuf, scratch: number): number;
  commit(t: TensorBuf, target: number): void;
}

export type RuleFn<N, S> = (step: RelevanceStep<N, S>) => void;

export interface OpSpec<N extends NodeBase = NodeBase, S = undefined> {
  readonly op: string;
  /** Output shape from the input shapes; throws ShapeError naming `where` (the node). */
  shape(node: N, ins: Shape[], where: string): Shape;
  /** Number of inputs: exact, or [min, max]. */
  readonly arity: number | [number, number];
  /** The output aliases input 0 (same buffers): flatten, reshape. */
  readonly view?: boolean;
  /** Removed by canonicalize (identity, dropout); never reaches the engine. */
  readonly removed?: boolean;
  prepare?(node: N, env: PrepareEnv): S;
  /** Bytes of the workspace's conv scratch this node needs. */
  scratchBytes?(state: S, backend: Backend): number;
  forward(step: ForwardStep<N, S>): void;
  /** The relevance rules this op accepts. */
  readonly rules: Partial<Record<RuleName, RuleFn<N, S>>>;
  /** The rule a composite gives this node (before first/byIndex/byName overrides). */
  defaultRule(node: N, composite: Composite): Rule;
  /** Why this op gets its default rule, for describe() and docs (e.g. "pass: element-wise activation, as Zennit"). */
  readonly ruleNote?: string;
  /** The output is ≥ 0 whenever the inputs marked true are. */
  nonNegative?(node: N, inputsNonNegative: boolean[]): boolean;
  /** Hyper-parameters for describe(), e.g. "3x3 s1 p1" (inShapes: the node's input shapes, per sample). */
  detail?(node: N, inShapes: Shape[]): string;
  disposeState?(state: S, backend: Backend): void;
}
