/**
 * compareMethods(): the same region perturbation for several methods on the same inputs. Each
 * method explains its own target (argmax unless a target is given) and is evaluated on it; the
 * perturbations (random orders, noise) are the same for every method, so differences between
 * methods come from their rankings alone.
 */
import type { Model } from '../model.js';
import type { Bound } from '../rules.js';
import { attributionsFor, parseMethod, type Method } from './methods.js';
import { evaluate, type EvaluateOptions, type Evaluation } from './perturbation.js';

/** Options of {@link compareMethods}: those of {@link evaluate} plus zbox bounds. */
export interface CompareOptions extends Omit<EvaluateOptions, 'onProgress'> {
  /** zbox bounds for the methods that need them (default: the model's input range). */
  low?: Bound;
  /** Upper zbox bound (default: the model's input range). */
  high?: Bound;
  /** Called as samples are evaluated: (samples done over all methods, total = methods x n, current method). */
  onProgress?: (done: number, total: number, method: string) => void;
}

/** One method's result in {@link compareMethods}. */
export interface MethodEvaluation {
  /** The method's label. */
  label: string;
  /** Its region perturbation results. */
  evaluation: Evaluation;
  /** Milliseconds spent computing the attributions. */
  attributionMs: number;
}

/** Evaluates each method by region perturbation of x (see the file comment); one result per method, in the given order. */
export function compareMethods(model: Model, x: Float32Array, methods: ReadonlyArray<string | Method>, options: CompareOptions = {}): MethodEvaluation[] {
  const parsed = methods.map((m) => (typeof m === 'string' ? parseMethod(m) : m));
  const { low, high, onProgress, ...evalOptions } = options;
  const n = x.length / model.inputSize;
  const total = parsed.length * n;
  return parsed.map((method, k) => {
    const t = globalThis.performance.now();
    const { attributions, targets } = attributionsFor(model, x, method, { target: options.target, low, high, seed: options.seed, batch: options.batch });
    const attributionMs = globalThis.performance.now() - t;
    const evaluation = evaluate(model, x, attributions, {
      ...evalOptions,
      target: targets,
      onProgress: onProgress && ((done) => onProgress(k * n + done, total, method.label)),
    });
    return { label: method.label, evaluation, attributionMs };
  });
}
