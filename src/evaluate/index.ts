/**
 * Measuring explanations: region perturbation (MoRF / LeRF / random, AOPC), comparisons of every
 * method against a random baseline, and the cascading randomisation sanity check. Browser-safe.
 */
export { evaluate, ORDERS, type EvaluateOptions, type Evaluation, type OrderResult, type PerturbationOrder, type Score } from './perturbation.js';
export { REPLACEMENTS, type Replacement } from './replacement.js';
export { compareMethods, type CompareOptions, type MethodEvaluation } from './compare.js';
export { ALL_METHODS, parseMethod, compositeMethod, attributionsFor, type Method, type AttributionOptions } from './methods.js';
export { sanityCheck, randomisationOrder, type SanityOptions, type SanityResult, type SanityStep, type Similarity } from './sanity.js';
export { meanStdErr, spearman, ssim, type MeanStdErr } from './stats.js';
export * from './plot/index.js';
export {
  evaluationJson,
  sanityJson,
  aopcTable,
  sanityTable,
  formatMeanStdErr,
  type EvaluationJson,
  type MethodJson,
  type OrderJson,
  type SanityJson,
  type TextTable,
} from './report.js';
