/**
 * The evaluation calls a worker answers (see worker-calls.ts): compareMethods and sanityCheck of
 * src/evaluate/, run one method at a time so that a cancel gets in between two methods. Each
 * method's results do not depend on the other methods (same seeds, same perturbations, the
 * targets of the trained model), so running them one by one gives the numbers of one call.
 */
import { InputError } from './errors.js';
import { compareMethods, type CompareOptions, type MethodEvaluation } from './evaluate/compare.js';
import { parseMethod, type Method } from './evaluate/methods.js';
import { randomisationOrder, sanityCheck, type SanityOptions, type SanityResult } from './evaluate/sanity.js';
import type { Model } from './model.js';

/** Progress of an evaluation call: units done of total, and the method at work. */
export interface EvaluationProgress {
  done: number;
  total: number;
  method: string;
}

/** Reports progress to the caller. */
type Report = (p: EvaluationProgress) => void;
/** Lets queued messages in and throws if the call was cancelled meanwhile. */
type Checkpoint = () => Promise<void>;

/** The methods as Method objects, every name checked before any work starts. */
function methodsOf(methods: unknown): Method[] {
  if (!Array.isArray(methods) || methods.length === 0) throw new InputError(`methods must be a non-empty list of method names or Method objects`, 'E_METHOD');
  return methods.map((m) => (typeof m === 'string' ? parseMethod(m) : (m as Method)));
}

/** Samples in x, or null when x is not a whole number of them (the library then names the problem). */
function samplesOf(model: Model, x: ArrayLike<number>): number | null {
  const n = x && typeof x.length === 'number' ? x.length / model.inputSize : NaN;
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** compareMethods(model, x, methods, options), method by method; progress in samples over all methods. */
export async function compareCall(model: Model, args: unknown[], report: Report, checkpoint: Checkpoint): Promise<MethodEvaluation[]> {
  const x = args[0] as Float32Array;
  const methods = methodsOf(args[1]);
  const options = (args[2] ?? {}) as CompareOptions;
  const n = samplesOf(model, x) ?? 0;
  const total = methods.length * n;
  const results: MethodEvaluation[] = [];
  for (const [k, method] of methods.entries()) {
    if (k > 0) await checkpoint();
    report({ done: k * n, total, method: method.label });
    const onProgress = (done: number) => report({ done: k * n + done, total, method: method.label });
    results.push(...compareMethods(model, x, [method], { ...options, onProgress }));
  }
  return results;
}

/** sanityCheck(model, x, methods, options), method by method; progress in randomised layers over all methods. */
export async function sanityCall(model: Model, args: unknown[], report: Report, checkpoint: Checkpoint): Promise<SanityResult> {
  const x = args[0] as Float32Array;
  const methods = methodsOf(args[1]);
  const options = (args[2] ?? {}) as SanityOptions;
  // refused by sanityCheck too, but here before the other methods have run
  for (const m of methods) if (m.random) throw new InputError(`method '${m.label}' does not depend on the model: the sanity check needs methods that explain it`, 'E_METHOD');
  const layers = randomisationOrder(model.graph).length;
  const total = methods.length * layers;
  let merged: SanityResult | null = null;
  for (const [k, method] of methods.entries()) {
    if (k > 0) await checkpoint();
    report({ done: k * layers, total, method: method.label });
    const onProgress = (done: number) => report({ done: k * layers + done, total, method: method.label });
    const r = await sanityCheck(model, x, [method], { ...options, onProgress });
    if (!merged) merged = r;
    else r.steps.forEach((step, i) => Object.assign(merged!.steps[i].methods, step.methods));
  }
  return merged!;
}
