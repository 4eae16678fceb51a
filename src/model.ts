/**
 * The public Model: predict, explain, describe, dispose over one Engine. Validates every input,
 * never modifies the caller's arrays, and converts between the caller's layout (NHWC for TF.js
 * models) and the graph's NCHW at the boundary.
 */
import { composites, ruleComposite, type Composite, type CompositeAlias, type CompositeName } from './composites.js';
import { assignRules, type Assigned } from './engine/assign.js';
import { Engine, type MemoryPlan } from './engine/engine.js';
import { DisposedError, InputError, RuleError } from './errors.js';
import { MODEL_INPUT, type Graph, type Shape } from './graph/ir.js';
import type { TensorBuf } from './engine/tensors.js';
import { size } from './graph/shapes.js';
import type { Backend } from './kernels/abi.js';
import type { ThreadInfo } from './wasm/thread-info.js';
import { MemoryLimitError, WASM32_MAX_BYTES } from './kernels/arena.js';
import { checkFinite, checkForward, checkParameters, relevanceWatch } from './numeric-checks.js';
import { formatRule, rules, type Bound, type Rule } from './rules.js';
import { specOf } from './ops/registry.js';
import type { ExplainImageOptions, ImageExplanation } from './image/explain-image.js';
import type { ModelMetadata } from './image/metadata.js';
import type { ImageInput } from './image/types.js';
import { checkInputTraps, withMetadataBounds } from './input-checks.js';
import { inputEmbeddings, tokenIdsToInput, tokenInputOf } from './text/token-input.js';

/**
 * What predict/explain/attribute take: a whole number of samples as one flat array (Float32Array,
 * number[], and for token models Int32Array ids), or for token models one array of ids per sample.
 */
export type ModelInput = ArrayLike<number> | ArrayLike<ArrayLike<number>>;

/** Which class to explain: `'argmax'` (the predicted one), one index for every sample, or one per sample. */
export type Target = 'argmax' | number | ArrayLike<number>;
/**
 * The relevance the output layer starts with: `'logit'` (the target's logit, Zennit's default
 * `output * onehot`), `'onehot'` (1 at the target), or your own [n, outputs] values.
 */
export type Start = 'logit' | 'onehot' | Float32Array;

/** Options of {@link Model.explain}. */
export interface ExplainOptions {
  /**
   * A preset by name (default `'epsilon-plus'`; Zennit's spellings such as `'EpsilonGammaBox'`
   * work too) or a {@link Composite} from `composites.custom({...})`.
   */
  composite?: CompositeName | CompositeAlias | Composite;
  /** Instead of a composite: one rule on every dense/conv layer, as an object or a spec such as `'epsilon:0.25'` ({@link parseRule}). */
  rule?: Rule | string;
  /** With `rule`: another rule for the first dense/conv layer(s), the ones that read the input. */
  firstRule?: Rule | string;
  /** Lower input bound for the zbox rule: a scalar, one per channel, or one per input value (default: the model's input range). */
  low?: Bound;
  /** Upper input bound for the zbox rule (see `low`). */
  high?: Bound;
  /** The class to explain (default `'argmax'`). */
  target?: Target;
  /** The output relevance to start from (default `'logit'`). */
  start?: Start;
  /** Samples per engine run (default: all, at most 32). Larger runs are faster per sample and use more memory. */
  batch?: number;
  /** Also return the relevance at every node's output, in `layers`. */
  layers?: boolean;
  /**
   * Check x against the input range the model declares (model file or metadata): values more
   * than one range width outside it are an InputError (default true). See {@link Model.explain}.
   */
  checkRange?: boolean;
}

/** The gradient-based methods of {@link Model.attribute}. */
export type AttributionMethod = 'gradient' | 'gradient-x-input' | 'smoothgrad' | 'integrated-gradients';
/** Every {@link AttributionMethod}. */
export const ATTRIBUTION_METHODS: readonly AttributionMethod[] = ['gradient', 'gradient-x-input', 'smoothgrad', 'integrated-gradients'];

/** Options of {@link Model.attribute}. */
export interface AttributeOptions {
  /** The method to run. */
  method: AttributionMethod;
  /** The class to explain (default `'argmax'`). */
  target?: Target;
  /** gradient, gradient-x-input: as in explain(); the others always start from onehot. */
  start?: Start;
  /** Samples per engine run (default: all, at most 32). */
  batch?: number;
  /** SmoothGrad noisy copies (default 16) or Integrated Gradients steps (default 32). */
  samples?: number;
  /** SmoothGrad noise std as a fraction of the input range (default 0.1). */
  noise?: number;
  /** Integrated Gradients baseline: a value, or one sample in the caller's layout (default 0). */
  baseline?: number | ArrayLike<number>;
  /** PRNG seed for SmoothGrad (default 1): results are reproducible. */
  seed?: number;
}

/** What {@link Model.explain} and {@link Model.attribute} return. */
export interface Explanation {
  /**
   * Input relevance, same length and layout as x: [n, ...inputShape] in the caller's layout;
   * for token models [n, T], one value per token (the relevance of its embedding vector, summed).
   */
  relevance: Float32Array<ArrayBuffer>;
  /** The layout of `relevance`: the model's input layout, or 'tokens' ([n, T], one value per token). */
  layout: 'NCHW' | 'NHWC' | 'tokens';
  /** [n, outputSize] logits of the forward pass. */
  logits: Float32Array<ArrayBuffer>;
  /** The explained class of each sample. */
  targets: Int32Array<ArrayBuffer>;
  /** Per node (by name): relevance at the node's output, [n, ...shape] in the caller's layout. */
  layers?: Record<string, Float32Array<ArrayBuffer>>;
  /** Per sample: the start relevance and the sum of the input relevance (close to each other for conservative rules). */
  sums: {
    /** Per sample: the relevance the output started with. */
    start: Float32Array<ArrayBuffer>;
    /** Per sample: the sum of the input relevance. */
    input: Float32Array<ArrayBuffer>;
  };
}

const DEFAULT_BATCH = 32;
/** The memory budget of a model unless loadModel is given one: half of what wasm32 can address. */
export const DEFAULT_MEMORY_LIMIT = 2 ** 31;

/** A memoryLimit option or assignment: undefined → the default; else bytes in [16 MiB, 4 GiB]. */
export function checkMemoryLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_MEMORY_LIMIT;
  if (typeof limit !== 'number' || !Number.isFinite(limit) || limit < 16 * 2 ** 20 || limit > WASM32_MAX_BYTES)
    throw new InputError(`memoryLimit must be a number of bytes between 16 MiB and 4 GiB (${WASM32_MAX_BYTES}), got ${String(limit)}`, 'E_OPTION');
  return limit;
}
/** The longest Float32Array V8 allocates (the relevance has as many values as x). */
const MAX_INPUT_VALUES = 2 ** 32 - 1;
/** SmoothGrad copies / Integrated Gradients steps per sample: beyond this it is a mistake, not a setting. */
export const MAX_ATTRIBUTION_SAMPLES = 100_000;

/**
 * A loaded model ({@link loadModel}): `predict`, `explain`, `explainImage`, `attribute`,
 * `describe` on the WASM kernels, synchronously on the calling thread ({@link createExplainer}
 * runs one in a worker). Call `dispose()` to free its memory.
 */
export class Model {
  /** Per-sample input shape, NCHW order (e.g. [1, 28, 28] or [784]). */
  readonly inputShape: Shape;
  /** Layout of the arrays passed to predict/explain and returned: 'NCHW' or 'NHWC' (TF.js). */
  readonly inputLayout: 'NCHW' | 'NHWC';
  /**
   * What the input holds: 'values' (pixels, features), or 'tokens': token ids into an embedding,
   * inputShape [T]. Token models take Int32Array / number[] / number[][] ids (or a Float32Array
   * holding them) and explain one relevance value per token. Text → ids: {@link tokenize}.
   */
  readonly inputKind: 'values' | 'tokens';
  /** For token models, the number of ids the embedding takes (valid ids 0..vocabSize-1); else null. */
  readonly vocabSize: number | null;
  /** Number of outputs (classes). */
  readonly outputSize: number;
  /** From the file name or its folder (see {@link nameFromLocation}), else the model's own name. */
  readonly name: string;
  /** The file format it was loaded from. */
  readonly format: Graph['format'];
  /** Class names, input range and mean/std from `loadModel(src, { metadata })`, or null. */
  metadata: ModelMetadata | null = null;
  private engine: Engine | null;
  private limit = DEFAULT_MEMORY_LIMIT;
  /** For token models: the embedding whose vocabulary the ids are checked against. */
  private readonly tokenInput: ReturnType<typeof tokenInputOf>;
  private readonly assignCache = new Map<string, Map<string, Assigned>>();

  /** @internal Use {@link loadModel}. */
  constructor(
    /** The canonicalized graph the engine runs. */
    readonly graph: Graph,
    backend: Backend,
  ) {
    checkParameters(graph);
    this.engine = new Engine(graph, backend);
    this.engine.memoryLimit = this.limit;
    this.inputShape = graph.inputShape.slice();
    this.inputLayout = graph.inputLayout === 'NHWC' && graph.inputShape.length === 3 ? 'NHWC' : 'NCHW';
    this.outputSize = this.engine.outputSize;
    this.tokenInput = tokenInputOf(graph);
    this.inputKind = this.tokenInput ? 'tokens' : 'values';
    this.vocabSize = this.tokenInput?.vocab ?? null;
    this.name = graph.name;
    this.format = graph.format;
  }

  /**
   * Bytes of WebAssembly memory the model plans for (`loadModel(src, { memoryLimit })`, default 2 GiB):
   * calls without a `batch` take the largest chunk that fits, and modified parameter sets (W⁺, …)
   * stay cached only while they fit, else they are recomputed per call (`memoryPlan().recomputedParameters`).
   */
  get memoryLimit(): number {
    return this.limit;
  }

  /** Set the limit for later calls (bytes, 16 MiB to 4 GiB; InputError E_OPTION otherwise). */
  set memoryLimit(bytes: number) {
    this.limit = checkMemoryLimit(bytes);
    if (this.engine) this.engine.memoryLimit = bytes;
  }

  /** Input values per sample. */
  get inputSize(): number {
    return size(this.inputShape);
  }

  /** The kernels in use, e.g. 'wasm-relaxed', 'wasm-simd', 'reference'. */
  get backendName(): string {
    return this.live().backend.name;
  }

  /**
   * Bytes of linear memory by purpose for explaining `batch` samples at a time: parameters,
   * the modified parameter sets the rules have cached so far, activations, relevance (buffers
   * shared by liveness; `relevanceUnshared` is what they would take without), scratch.
   */
  memoryPlan(batch = 1): MemoryPlan {
    if (!Number.isInteger(batch) || batch < 1) throw new InputError(`memoryPlan: batch must be a positive integer, got ${batch}`);
    return this.live().memoryPlan(batch);
  }

  /**
   * Threads one call runs on (`loadModel(src, { threads })`), the calling thread included, and why
   * not more (no cross-origin isolation, a browser main thread, one core, …) or null.
   */
  get threads(): ThreadInfo {
    return this.live().backend.threads ?? { count: 1, reason: null };
  }

  /** Size of the backend's linear memory in bytes (diagnostics). */
  get memoryBytes(): number {
    return this.live().backend.memory.byteLength();
  }

  private live(): Engine {
    if (!this.engine) throw new DisposedError(`model '${this.name}' has been disposed`);
    return this.engine;
  }

  /**
   * Logits for every sample of x (a whole number of samples, caller's layout); [n, outputSize].
   * These are the pre-softmax values even where the model file ends in a softmax (TF.js's
   * `predict` returns probabilities for such models).
   */
  predict(x: ModelInput, opts: { batch?: number; checkRange?: boolean } = {}): Float32Array<ArrayBuffer> {
    const engine = this.live();
    opts = options(opts, 'predict');
    checkInputTraps(this, x, opts.checkRange);
    const { data, n } = this.checkInput(x);
    const batch = this.checkBatch(opts.batch, n);
    const logits = new Float32Array(n * this.outputSize);
    for (let s = 0; s < n; s += batch) {
      const m = Math.min(batch, n - s);
      checkForward(engine, this.runForward(engine, data, s, m, batch), s, m);
      logits.set(engine.backend.memory.f32().subarray(engine.outputPtr() >>> 2, (engine.outputPtr() >>> 2) + m * this.outputSize), s * this.outputSize);
    }
    return logits;
  }

  /**
   * LRP relevance of every input value for the target class of each sample.
   * @param x a whole number of samples in the model's layout ({@link Model.inputLayout}), values
   *   in its input range. Pixel bytes (ImageData.data, a Uint8ClampedArray) are rejected (E_PIXELS):
   *   use {@link Model.explainImage}. Values more than one range width outside the range the model
   *   declares are rejected (E_INPUT_RANGE) unless `checkRange: false`; where it declares none,
   *   whole numbers in 0..255 above 1 give a console warning (once per model).
   * @returns relevance in x's layout, logits, targets, per-sample sums (and per-layer relevance with `layers`).
   * @throws {@link InputError}, {@link RuleError}, {@link DisposedError}.
   */
  explain(x: ModelInput, opts: ExplainOptions = {}): Explanation {
    this.live();
    opts = options(opts, 'explain');
    checkInputTraps(this, x, opts.checkRange);
    opts = withMetadataBounds(this, opts);
    const { data, n } = this.checkInput(x);
    const batch = this.checkBatch(opts.batch, n);
    const assigned = this.assignment(opts);
    const startMode = this.checkStart(opts.start, n);
    const targetsIn = this.checkTargets(opts.target ?? 'argmax', n);
    return this.propagate(data, n, assigned, targetsIn, startMode, batch, !!opts.layers);
  }

  /**
   * Gradient-based baselines on the same engine, for comparison with LRP:
   * 'gradient' (start · d logit_t / dx), 'gradient-x-input', 'smoothgrad' (mean gradient over
   * `samples` noisy copies, noise std = `noise` × the input range) and 'integrated-gradients'
   * (midpoint Riemann sum over `samples` steps from `baseline`, times x − baseline).
   * SmoothGrad and Integrated Gradients explain the clean input's target and start from onehot.
   */
  attribute(x: ModelInput, opts: AttributeOptions): Explanation {
    this.live();
    opts = options(opts, 'attribute') as AttributeOptions;
    const method = opts.method;
    if (!ATTRIBUTION_METHODS.includes(method)) throw new InputError(`unknown attribution method '${String(method)}' (known: ${ATTRIBUTION_METHODS.join(', ')})`);
    const { data, n } = this.checkInput(x);
    const batch = this.checkBatch(opts.batch, n);
    const gradient = new Map<string, Assigned>(this.live().graph.nodes.map((node) => [node.name, { rule: rules.gradient() }]));
    const targetsIn = this.checkTargets(opts.target ?? 'argmax', n);
    if (method === 'gradient-x-input' && this.inputKind === 'tokens') return this.tokenGradientTimesInput(data, n, gradient, targetsIn, this.checkStart(opts.start, n), batch);
    if (this.inputKind === 'tokens' && method !== 'gradient')
      throw new InputError(`${method} varies the input continuously, which token ids are not: for token models use 'gradient' or 'gradient-x-input' (taken in the embedding space)`);
    if (method === 'gradient' || method === 'gradient-x-input') {
      const r = this.propagate(data, n, gradient, targetsIn, this.checkStart(opts.start, n), batch, false);
      if (method === 'gradient-x-input') {
        const xs = this.fromGraphLayout(data, n);
        for (let i = 0; i < r.relevance.length; i++) r.relevance[i] *= xs[i];
        for (let s = 0; s < n; s++) r.sums.input[s] = r.relevance.subarray(s * this.inputSize, (s + 1) * this.inputSize).reduce((a, v) => a + v, 0);
        checkFinite(r.relevance, this.inputSize, 'gradient × input');
        checkFinite(r.sums.input, 1, 'the sum of gradient × input');
      }
      return r;
    }
    if (opts.start !== undefined && opts.start !== 'onehot') throw new InputError(`${method} starts from 'onehot' (the gradient of the target logit)`);
    const m = opts.samples ?? (method === 'smoothgrad' ? 16 : 32);
    if (!Number.isInteger(m) || m < 1 || m > MAX_ATTRIBUTION_SAMPLES)
      throw new InputError(`samples must be an integer from 1 to ${MAX_ATTRIBUTION_SAMPLES}, got ${m}`);
    let baseline: Float32Array | null = null;
    if (method === 'integrated-gradients') baseline = this.checkBaseline(opts.baseline, n);
    const range = this.graph.inputRange ?? [0, 1];
    const sigma = (opts.noise ?? 0.1) * (range[1] - range[0]);
    if (!Number.isFinite(sigma) || sigma < 0) throw new InputError(`noise must be a non-negative number, got ${opts.noise}`);
    const clean = this.propagate(data, n, gradient, targetsIn, 'onehot', batch, false);
    const per = this.inputSize;
    const acc = new Float32Array(n * per);
    // the m copies of one sample run as batches of at least DEFAULT_BATCH (they are many, small
    // jobs), and only one batch of copies exists at a time: memory does not grow with m
    const chunk = Math.min(Math.max(batch, DEFAULT_BATCH), m);
    const expanded = new Float32Array(chunk * per);
    const targets = new Int32Array(chunk);
    const rand = gaussian(opts.seed ?? 1);
    for (let s = 0; s < n; s++) {
      const xs = data.subarray(s * per, (s + 1) * per);
      const b = baseline?.subarray(s * per, (s + 1) * per);
      const dst = acc.subarray(s * per, (s + 1) * per);
      targets.fill(clean.targets[s]);
      for (let k0 = 0; k0 < m; k0 += chunk) {
        const c = Math.min(chunk, m - k0);
        for (let k = 0; k < c; k++) {
          const row = expanded.subarray(k * per, (k + 1) * per);
          if (b) {
            const alpha = (k0 + k + 0.5) / m;
            for (let i = 0; i < per; i++) row[i] = b[i] + alpha * (xs[i] - b[i]);
          } else for (let i = 0; i < per; i++) row[i] = xs[i] + sigma * rand();
        }
        const r = this.propagate(expanded.subarray(0, c * per), c, gradient, targets.subarray(0, c), 'onehot', c, false);
        for (let k = 0; k < c; k++) for (let i = 0; i < per; i++) dst[i] += r.relevance[k * per + i] / m;
      }
    }
    if (baseline) {
      const diff = this.fromGraphLayout(data.map((v, i) => v - baseline![i]), n);
      for (let i = 0; i < acc.length; i++) acc[i] *= diff[i];
    }
    const inputSums = new Float32Array(n);
    for (let s = 0; s < n; s++) inputSums[s] = acc.subarray(s * per, (s + 1) * per).reduce((a, v) => a + v, 0);
    checkFinite(acc, per, `the ${method} attribution`);
    checkFinite(inputSums, 1, `the sum of the ${method} attribution`);
    return { relevance: acc, layout: clean.layout, logits: clean.logits, targets: clean.targets, sums: { start: clean.sums.start, input: inputSums } };
  }

  /**
   * Gradient × input of a token model, where the input is the embedded vectors: per token
   * Σ_d e_{t,d} · ∂f/∂e_{t,d}, the gradient taken at every embedding's output (summed over the
   * embeddings that read the ids).
   */
  private tokenGradientTimesInput(data: Float32Array, n: number, gradient: Map<string, Assigned>, targetsIn: 'argmax' | Int32Array, start: Start, batch: number): Explanation {
    const r = this.propagate(data, n, gradient, targetsIn, start, batch, true);
    const T = this.inputSize;
    const relevance = new Float32Array(n * T);
    for (const table of inputEmbeddings(this.live().graph)) {
      const g = r.layers![table.name];
      const D = table.dim;
      for (let s = 0; s < n; s++)
        for (let t = 0; t < T; t++) {
          const row = data[s * T + t] * D;
          const at = (s * T + t) * D;
          let sum = 0;
          for (let d = 0; d < D; d++) sum += table.table[row + d] * g[at + d];
          relevance[s * T + t] += sum;
        }
    }
    const inputSums = new Float32Array(n);
    for (let s = 0; s < n; s++) inputSums[s] = relevance.subarray(s * T, (s + 1) * T).reduce((a, v) => a + v, 0);
    checkFinite(relevance, T, 'gradient × input');
    checkFinite(inputSums, 1, 'the sum of gradient × input');
    return { relevance, layout: 'tokens', logits: r.logits, targets: r.targets, sums: { start: r.sums.start, input: inputSums } };
  }

  private propagate(
    data: Float32Array,
    n: number,
    assigned: Map<string, Assigned>,
    targetsIn: 'argmax' | Int32Array,
    startMode: Start,
    batch: number,
    withLayers: boolean,
  ): Explanation {
    const engine = this.live();
    const O = this.outputSize;
    const relevance = new Float32Array(n * this.inputSize);
    const logits = new Float32Array(n * O);
    const targets = new Int32Array(n);
    const startSums = new Float32Array(n);
    const inputSums = new Float32Array(n);
    const layers: Record<string, Float32Array<ArrayBuffer>> | undefined = withLayers ? {} : undefined;
    const startBuf = new Float32Array(batch * O);

    for (let s = 0; s < n; s += batch) {
      const m = Math.min(batch, n - s);
      const ws = this.runForward(engine, data, s, m, batch, assigned, startMode === 'logit');
      checkForward(engine, ws, s, m);
      const mem = engine.backend.memory;
      const out = engine.outputPtr() >>> 2;
      const chunkLogits = mem.f32().slice(out, out + m * O);
      logits.set(chunkLogits, s * O);
      startBuf.fill(0);
      for (let i = 0; i < m; i++) {
        const row = chunkLogits.subarray(i * O, (i + 1) * O);
        const t = targetsIn === 'argmax' ? argmax(row) : targetsIn[s + i];
        targets[s + i] = t;
        if (startMode instanceof Float32Array) {
          const src = startMode.subarray((s + i) * O, (s + i + 1) * O);
          for (let j = 0; j < O; j++) if (!Number.isFinite(src[j])) throw new InputError(`start has a non-finite value at sample ${s + i}, index ${j}`);
          startBuf.set(src, i * O);
        } else startBuf[i * O + t] = startMode === 'logit' ? row[t] : 1;
        let sum = 0;
        for (let j = 0; j < O; j++) sum += startBuf[i * O + j];
        startSums[s + i] = sum;
      }
      mem.f32().set(startBuf.subarray(0, m * O), ws.tensor(engine.graph.output).rel >>> 2);
      const watch = relevanceWatch(engine, m);
      // relevance buffers are shared by liveness: each layer's is copied out when the walk completes it
      const onFinal = (t: TensorBuf) => {
        watch.onFinal(t);
        if (!layers || t.name === MODEL_INPUT) return;
        const dst = (layers[t.name] ??= new Float32Array(n * t.size));
        const view = mem.f32().subarray(t.rel >>> 2, (t.rel >>> 2) + m * t.size);
        this.toCallerLayout(view, t.shape, m, dst, s * t.size);
      };
      memoryLimit(() => engine.relevance(m, assigned, onFinal));
      watch.check(assigned, s);

      const inRel = ws.tensor(MODEL_INPUT).rel >>> 2;
      const chunk = mem.f32().subarray(inRel, inRel + m * this.inputSize);
      this.toCallerLayout(chunk, this.inputShape, m, relevance, s * this.inputSize);
      const per = this.inputSize;
      for (let i = 0; i < m; i++) {
        let sum = 0;
        for (let j = 0; j < per; j++) sum += chunk[i * per + j];
        inputSums[s + i] = sum;
      }
    }
    checkFinite(startSums, 1, 'the sum of the start relevance');
    checkFinite(inputSums, 1, 'the sum of the input relevance');
    const layout = this.inputKind === 'tokens' ? 'tokens' : this.inputLayout;
    return { relevance, layout, logits, targets, layers, sums: { start: startSums, input: inputSums } };
  }

  /** A table of the nodes, their output shapes and the rule each gets under `composite`. */
  describe(composite?: string | Composite | ExplainOptions): string {
    const engine = this.live();
    if (composite !== undefined && composite !== null && typeof composite !== 'string' && typeof composite !== 'object')
      throw new RuleError(`describe() takes a composite name, a Composite or explain() options, got ${typeof composite}`);
    const opts: ExplainOptions = typeof composite === 'string' || (composite && 'name' in composite && !('composite' in composite)) ? { composite: composite as ExplainOptions['composite'] } : ((composite as ExplainOptions) ?? {});
    let assigned: Map<string, Assigned> | null = null;
    let ruleNote = '';
    try {
      assigned = this.assignment(opts);
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      ruleNote = `rules: ${(e as Error).message}`;
    }
    const rows = [['#', 'node', 'op', 'output', 'detail', 'rule']];
    rows.push(['', 'input', 'input', shapeStr([-1, ...this.inputShape]), '', '']);
    const ruleNotes = new Map<string, string>();
    engine.graph.nodes.forEach((node, i) => {
      const a = assigned?.get(node.name);
      const spec = specOf(node);
      if (spec.ruleNote) ruleNotes.set(node.op, spec.ruleNote);
      rows.push([String(i), node.name, node.op, shapeStr([-1, ...engine.shapes.get(node.name)!]), spec.detail?.(node, node.inputs.map((input) => engine.shapes.get(input)!)) ?? '', a ? formatRule(a.rule) : '']);
    });
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const lines = [
      // the input as callers give it ([N, 28, 28, 1] NHWC for TF.js); the rows are the graph's NCHW
      `model '${this.name}' (${this.format}), input ${shapeStr([-1, ...(this.inputLayout === 'NHWC' ? [this.inputShape[1], this.inputShape[2], this.inputShape[0]] : this.inputShape)])} ${this.inputKind === 'tokens' ? `token ids (vocabulary ${this.vocabSize ?? 'unknown'})` : this.inputLayout}, ${this.outputSize} outputs, composite: ${this.compositeName(opts)}${this.inputLayout === 'NHWC' ? ' (shapes below: NCHW)' : ''}`,
      ...rows.map((r) => r.map((v, c) => v.padEnd(widths[c])).join('  ').trimEnd()),
    ];
    for (const note of engine.graph.notes) lines.push(`note: ${note}`);
    for (const [op, note] of ruleNotes) lines.push(`default rule for ${op}: ${note}`);
    if (ruleNote) lines.push(ruleNote);
    return lines.join('\n');
  }

  /**
   * Explains one image as you hold it (ImageData, `<img>`, `<canvas>`, ImageBitmap,
   * OffscreenCanvas, a tf.Tensor, `{ data, width, height, channels }`, or PNG/JPEG bytes): it is
   * converted to the model's channels, fitted to its input size (`fit`), scaled to its input range
   * (metadata), explained, and drawn as a heatmap and an overlay.
   * @throws {@link InputError} (codes E_IMAGE, E_PIXEL_RANGE) for unreadable images or pixel values outside `pixelRange`.
   */
  async explainImage(image: ImageInput, opts: ExplainImageOptions = {}): Promise<ImageExplanation> {
    this.live();
    // loaded on demand: apps that never explain images do not load the image decoders up front
    const { explainImage } = await import('./image/explain-image.js');
    return explainImage(this, image, opts);
  }

  /**
   * Runs one explain at batch size `batch` on a dummy input, so that the first real call at that
   * size does not pay for setting up: the workspace for the batch (allocated once per size, see
   * ARCHITECTURE.md) and the modified weights of the composite's rules (cached per layer). The
   * first explain at a new batch size otherwise costs several times a later one.
   */
  warmup(batch = 1, opts: ExplainOptions = {}): void {
    if (!Number.isInteger(batch) || batch < 1) throw new InputError(`warmup: batch must be a positive integer, got ${batch}`);
    const range = this.metadata?.inputRange ?? this.graph.inputRange ?? [0, 1];
    // token models: id 0, valid for every vocabulary
    const x = new Float32Array(batch * this.inputSize).fill(this.inputKind === 'tokens' ? 0 : (range[0] + range[1]) / 2);
    this.explain(x, { low: Math.min(...range), high: Math.max(...range), ...opts, batch, target: 0, checkRange: false });
  }

  /** Frees the model's WASM memory; later calls throw DisposedError. */
  dispose(): void {
    this.engine?.dispose();
    this.engine?.backend.dispose?.();
    this.engine = null;
  }

  // ---- helpers -------------------------------------------------------------------------

  private compositeName(opts: ExplainOptions): string {
    if (opts.rule) return ruleComposite(opts.rule, opts.firstRule).name;
    if (typeof opts.composite === 'string') return opts.composite;
    return opts.composite?.name ?? 'epsilon-plus (default)';
  }

  private assignment(opts: ExplainOptions): Map<string, Assigned> {
    const engine = this.live();
    if (opts.composite !== undefined && (opts.rule !== undefined || opts.firstRule !== undefined))
      throw new RuleError('give either composite or rule/firstRule, not both');
    if (opts.firstRule !== undefined && opts.rule === undefined) throw new RuleError('firstRule needs rule (the rule for the other layers)');
    const key = cacheKey(opts);
    const hit = key ? this.assignCache.get(key) : undefined;
    if (hit) return hit;
    let composite: Composite;
    if (opts.rule !== undefined) composite = ruleComposite(opts.rule, opts.firstRule);
    else if (typeof opts.composite === 'string') composite = composites.byName(opts.composite, { low: opts.low, high: opts.high });
    else if (opts.composite !== undefined) {
      if (typeof opts.composite !== 'object' || opts.composite === null) throw new RuleError(`composite must be a name or a Composite object`);
      composite = composites.custom(opts.composite);
    } else composite = composites.epsilonPlus();
    checkByIndex(composite, engine.graph);
    const assigned = assignRules(engine.graph, engine.shapes, composite, { low: opts.low, high: opts.high });
    if (key) {
      if (this.assignCache.size > 32) this.assignCache.clear();
      this.assignCache.set(key, assigned);
    }
    return assigned;
  }

  private checkInput(x: ModelInput): { data: Float32Array; n: number } {
    if (this.tokenInput) return tokenIdsToInput(x, this.inputShape, this.tokenInput);
    if (!x || typeof x !== 'object' || typeof (x as ArrayLike<number>).length !== 'number' || x instanceof BigInt64Array || x instanceof BigUint64Array)
      throw new InputError(`x must be a Float32Array (or an array of numbers), got ${describeValue(x)}`);
    if (!ArrayBuffer.isView(x) && x.length > 0 && typeof x[0] === 'object' && x[0] !== null)
      throw new InputError(`x must be one flat array of samples (a Float32Array or number[]): arrays per sample are for token-id models, and model '${this.name}' takes values`);
    x = x as ArrayLike<number>;
    const len = x.length;
    const per = this.inputSize;
    if (!Number.isSafeInteger(len) || len < 0 || len > MAX_INPUT_VALUES)
      throw new InputError(`x has length ${len}: it must be a whole number of values, at most ${MAX_INPUT_VALUES} (the most a Float32Array can hold)`);
    if (len === 0 || len % per !== 0)
      throw new InputError(
        `input length ${len} is not a whole number of samples of shape [${this.inputShape.join(', ')}] (${per} values each${this.inputLayout === 'NHWC' ? ', NHWC' : ''})`,
      );
    const n = len / per;
    // read-only from here on: a Float32Array in NCHW is used as it is, anything else is copied
    if (this.inputLayout === 'NCHW' && x instanceof Float32Array) return { data: x, n };
    const data = new Float32Array(len);
    if (this.inputLayout === 'NHWC') {
      const [C, H, W] = this.inputShape;
      for (let s = 0; s < n; s++)
        for (let h = 0; h < H; h++)
          for (let w = 0; w < W; w++)
            for (let c = 0; c < C; c++) data[s * per + (c * H + h) * W + w] = x[s * per + (h * W + w) * C + c];
    } else data.set(x);
    return { data, n };
  }

  private checkStart(start: Start | undefined, n: number): Start {
    const mode = start ?? 'logit';
    if (typeof mode === 'string') {
      if (mode !== 'logit' && mode !== 'onehot')
        throw new InputError(`start must be 'logit', 'onehot' or a Float32Array of n*${this.outputSize} values, got '${mode}'`);
      return mode;
    }
    if (!(mode instanceof Float32Array)) throw new InputError(`start must be 'logit', 'onehot' or a Float32Array`);
    if (mode.length !== n * this.outputSize)
      throw new InputError(`start has ${mode.length} values, expected ${n}x${this.outputSize} = ${n * this.outputSize}`);
    return mode;
  }

  /** Integrated Gradients baseline in graph (NCHW) layout, one per sample. */
  private checkBaseline(b: number | ArrayLike<number> | undefined, n: number): Float32Array {
    if (b === undefined || typeof b === 'number') {
      const v = b ?? 0;
      if (!Number.isFinite(v)) throw new InputError(`baseline must be finite, got ${v}`);
      return new Float32Array(n * this.inputSize).fill(v);
    }
    if (b.length !== this.inputSize) throw new InputError(`baseline has ${b.length} values, expected one sample of ${this.inputSize}`);
    const one = this.checkInput(b).data;
    const out = new Float32Array(n * this.inputSize);
    for (let s = 0; s < n; s++) out.set(one, s * this.inputSize);
    return out;
  }

  /** Graph-layout (NCHW) samples back to the caller's layout. */
  private fromGraphLayout(data: Float32Array, n: number): Float32Array {
    const out = new Float32Array(data.length);
    this.toCallerLayout(data, this.inputShape, n, out, 0);
    return out;
  }

  private checkBatch(batch: number | undefined, n: number): number {
    // without a batch: the largest chunk (up to 32) whose buffers fit in the memory limit
    if (batch === undefined) return this.live().fitBatch(Math.min(n, DEFAULT_BATCH), this.memoryLimit);
    if (!Number.isInteger(batch) || batch < 1) throw new InputError(`batch must be a positive integer, got ${batch}`);
    return Math.min(batch, n);
  }

  private checkTargets(target: Target, n: number): 'argmax' | Int32Array {
    if (target === 'argmax') return 'argmax';
    const list = typeof target === 'number' ? new Array(n).fill(target) : target;
    if (typeof list !== 'object' || typeof (list as ArrayLike<number>).length !== 'number')
      throw new InputError(`target must be 'argmax', a class index or one index per sample`);
    if (list.length !== n) throw new InputError(`target has ${list.length} entries but the input has ${n} samples`);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const t = list[i];
      if (!Number.isInteger(t) || t < 0 || t >= this.outputSize)
        throw new InputError(`target ${t} (sample ${i}) is out of range: the model has ${this.outputSize} outputs (0..${this.outputSize - 1})`);
      out[i] = t;
    }
    return out;
  }

  /** Copy samples [s, s+m) into the engine and run the forward pass; checks for NaN/Infinity. */
  private runForward(engine: Engine, data: Float32Array, s: number, m: number, capacity: number, assigned?: Map<string, Assigned>, fromLogit = false) {
    const per = this.inputSize;
    const ws = engine.workspace(capacity);
    engine.setInput(data.subarray(s * per, (s + m) * per), m);
    if (engine.inputHasNonFinite(m)) {
      for (let i = s * per; i < (s + m) * per; i++)
        if (!Number.isFinite(data[i])) {
          const sample = Math.floor(i / per);
          throw new InputError(`input holds ${data[i]} at sample ${sample}, index ${i - sample * per}: inputs must be finite`);
        }
    }
    memoryLimit(() => engine.forward(m, s, assigned, fromLogit));
    return ws;
  }

  /** Copy m samples of an NCHW tensor into dst (at offset), transposing to NHWC for TF.js models. */
  private toCallerLayout(src: Float32Array, shape: Shape, m: number, dst: Float32Array, offset: number): void {
    if (this.inputLayout !== 'NHWC' || shape.length !== 3) {
      dst.set(src.subarray(0, m * size(shape)), offset);
      return;
    }
    const [C, H, W] = shape;
    const per = C * H * W;
    for (let s = 0; s < m; s++)
      for (let c = 0; c < C; c++)
        for (let h = 0; h < H; h++)
          for (let w = 0; w < W; w++) dst[offset + s * per + (h * W + w) * C + c] = src[s * per + (c * H + h) * W + w];
  }
}

/** A composite's byIndex keys must each match a node (assignRules looks them up and would skip the others). */
function checkByIndex(composite: Composite, graph: Graph): void {
  if (!composite.byIndex) return;
  const indices = new Set(graph.nodes.map((node) => node.index));
  for (const key of Object.keys(composite.byIndex))
    if (!indices.has(Number(key)))
      throw new RuleError(
        `composite.byIndex[${key}] matches no node of the model (nodes removed at load, e.g. batch norm folded into a layer, get no rule; see describe())`,
      );
}

/**
 * Runs an engine step that may allocate (layer parameters and rule constants are placed in
 * linear memory on first use): a memory that cannot grow any more is the caller's problem to
 * solve with a smaller batch or model, so it becomes a typed error.
 */
function memoryLimit(step: () => void): void {
  try {
    step();
  } catch (e) {
    if (!(e instanceof MemoryLimitError)) throw e;
    throw new InputError(`this model and batch need more memory than WebAssembly can address (${e.message}); pass a smaller { batch }`, 'E_MEMORY');
  }
}

/** The options object of a call: undefined means none; anything but a plain object is an error. */
function options<T extends object>(opts: T | undefined | null, call: string): T {
  if (opts === undefined) return {} as T;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new InputError(`${call}() options must be an object, got ${describeValue(opts)}`);
  return opts;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}

/** Standard normal samples from a seeded xorshift generator (Box-Muller). */
function gaussian(seed: number): () => number {
  let state = (seed >>> 0) || 1;
  const uniform = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
  return best;
}

function shapeStr(s: Shape): string {
  return `[${s.map((v) => (v < 0 ? 'N' : String(v))).join(', ')}]`;
}

function cacheKey(opts: ExplainOptions): string | null {
  try {
    return JSON.stringify([opts.composite, opts.rule, opts.firstRule, bound(opts.low), bound(opts.high)]);
  } catch {
    return null;
  }
}

function bound(b: Bound | undefined): unknown {
  return b === undefined || typeof b === 'number' ? b : Array.from(b);
}
