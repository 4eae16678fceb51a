/**
 * lrp-wasm: Layer-wise Relevance Propagation in WebAssembly SIMD, for Node and browsers.
 */
export {
  loadModel,
  loadTfjsModel,
  loadOnnxModel,
  importGraph,
  nameFromLocation,
  type LoadOptions,
  type ModelSource,
  type ModelFormat,
  type ResponseLike,
  type BlobLike,
  type TfjsModelArtifacts,
  type TfjsLayersModelLike,
  type TfjsInMemory,
  type TfjsSaveResult,
} from './load.js';
export { Model, ATTRIBUTION_METHODS, MAX_ATTRIBUTION_SAMPLES, type ModelInput, type ExplainOptions, type Explanation, type Target, type Start, type AttributeOptions, type AttributionMethod } from './model.js';
export type { ExplainImageOptions, ImageExplanation, LayerMap } from './image/explain-image.js';
export type { MemoryPlan } from './engine/engine.js';
export type { ThreadInfo } from './wasm/thread-info.js';
export type { PreprocessInfo, Rect } from './image/preprocess.js';
export type { ImageInput, ImageDataLike, RawImage, TensorLike, DrawableImage, EncodedImage, FitMode, DomClass } from './image/types.js';
export { parseMetadata, loadMetadata, type ModelMetadata } from './image/metadata.js';
export { imageGeometry, type ImageGeometry } from './image/geometry.js';
export { toImageData, scaleNearest } from './image/image-data.js';
export { rules, parseRule, formatRule, validateRule, RULE_NAMES, type Rule, type RuleName, type Bound } from './rules.js';
export { composites, canonicalCompositeName, COMPOSITE_NAMES, type Composite, type CompositeName, type CompositeAlias } from './composites.js';
export { LrpError, InputError, RuleError, ModelFormatError, UnsupportedError, ShapeError, NumericError, DisposedError, WorkerError } from './errors.js';
export { canonicalize, type CanonicalizeOptions } from './graph/canonicalize.js';
export type { Graph, GraphNode, Shape } from './graph/ir.js';
export { BACKEND_CHOICES, WINOGRAD_MODES, type BackendChoice } from './backends.js';
export type { WinogradMode } from './kernels/abi.js';
export * from './heatmap/index.js';
export { readNpy, writeNpy, type NpyArray } from './io/npy.js';
export { loadModelParallel, ParallelModel, type ParallelOptions, type ModelInfo } from './parallel.js';
export { createExplainer, Explainer, type ExplainerOptions, type CallOptions, type Progress } from './explainer.js';
export type { WorkerFactory, WebWorkerLike } from './platform/types.js';
export * from './evaluate/index.js';
export * from './text/index.js';
