/**
 * model.explainImage: an image as the user holds it → the model's input (converted, fitted, scaled
 * as metadata.json says) → explain → the relevance plus ready-to-draw images: the heatmap, the
 * heatmap over the image (alpha following |R|), and the fitted image itself; with the class names.
 */
import { InputError } from '../errors.js';
import { relevanceOverlay } from '../heatmap/relevance-overlay.js';
import type { HeatmapOptions } from '../heatmap/heatmap.js';
import type { Bound } from '../rules.js';
import type { ExplainOptions, Model } from '../model.js';
import { inferShapes } from '../graph/shapes.js';
import { imageGeometry } from './geometry.js';
import { toImageData } from './image-data.js';
import { heatmap } from '../heatmap/heatmap.js';
import { parseMetadata, type ModelMetadata } from './metadata.js';
import { readPixels } from './pixels.js';
import { prepareImage, type PreprocessInfo } from './preprocess.js';
import type { FitMode, ImageDataLike, ImageInput } from './types.js';

/** Options of {@link Model.explainImage}: explain's, plus how the image becomes the model's input and how it is drawn. */
export interface ExplainImageOptions extends ExplainOptions {
  /** Class names, input range, mean/std (default: the model's, from `loadModel(src, { metadata })`). */
  metadata?: ModelMetadata;
  /** Pixel intensities map to this range (default: metadata's, else the model file's, else [0, 1]). */
  inputRange?: [number, number];
  /** Per channel, subtracted after scaling (default: metadata's). */
  mean?: number[];
  /** Per channel, divides after subtracting mean (default: metadata's). */
  std?: number[];
  /**
   * How the image is fitted to the model's input size (default 'stretch'): 'stretch' scales each
   * axis to fit (distorting other aspect ratios), 'center-crop' cuts the longer side to the
   * model's aspect ratio first, 'pad' keeps the whole image and adds black bands.
   */
  fit?: FitMode;
  /**
   * What the values of raw pixel arrays and tensors span (default: [0, 255] for integer arrays and
   * int32 tensors, [0, 1] for floating-point ones). Values more than 1% outside it are an error.
   */
  pixelRange?: [number, number];
  /** Composite translucent pixels over this background (a gray level or [r, g, b], 0..255) instead of dropping alpha. */
  background?: number | [number, number, number];
  /** How the heatmap is drawn: colour map (default 'bwr'), normalisation, contrast. */
  heatmap?: Pick<HeatmapOptions, 'cmap' | 'normalize' | 'level' | 'reduce'>;
  /** Opacity of the heatmap over the image where |R| is largest (default 0.8). */
  overlayAlpha?: number;
}

/** What {@link Model.explainImage} returns. */
export interface ImageExplanation {
  /** Input relevance in the model's layout (one sample: C·H·W values, NHWC for TF.js models). */
  relevance: Float32Array<ArrayBuffer>;
  /** The model input the image became. */
  input: Float32Array<ArrayBuffer>;
  /** The model's logits for it. */
  logits: Float32Array<ArrayBuffer>;
  /** softmax(logits). */
  probabilities: Float32Array<ArrayBuffer>;
  /** The explained class. */
  target: number;
  /** The predicted class (argmax of the logits). */
  predicted: number;
  /** One name per output, from metadata (when it has one per output). */
  classNames?: string[];
  /** The explained class's name. */
  targetName?: string;
  /** The predicted class's name. */
  predictedName?: string;
  /** The start relevance and the sum of the input relevance. */
  sums: {
    /** The relevance the output started with. */
    start: number;
    /** The sum of the input relevance (close to start for conservative rules). */
    input: number;
  };
  /** With `layers: true`: the relevance at every node's output. */
  layers?: Record<string, Float32Array<ArrayBuffer>>;
  /** With `layers: true`: every node whose output is an image ([C, H, W], H and W > 1) as a heatmap, in graph order. */
  layerMaps?: LayerMap[];
  /** The relevance as a heatmap, at the model's input size. */
  heatmap: ImageDataLike;
  /** The heatmap over the fitted image, alpha following |R|. */
  overlay: ImageDataLike;
  /** The image as the model saw it (converted and fitted, before scaling), at the model's input size. */
  image: ImageDataLike;
  /** What was done to the image (resize, crop, stretch, channel conversion, scaling). */
  preprocessing: PreprocessInfo;
}

/** One node's output relevance drawn as a heatmap (channels summed). */
export interface LayerMap {
  /** The node's name. */
  name: string;
  /** Its operation, e.g. 'conv2d', 'maxpool2d'. */
  op: string;
  /** Its output shape per sample, [C, H, W]. */
  shape: number[];
  /** The relevance at its output, channels summed, H × W. */
  heatmap: ImageDataLike;
}

/** Every node with an image-shaped output, its relevance drawn. */
function layerMaps(model: Model, layers: Record<string, Float32Array>, heatOpts: ExplainImageOptions['heatmap']): LayerMap[] {
  const shapes = inferShapes(model.graph);
  const out: LayerMap[] = [];
  for (const node of model.graph.nodes) {
    const shape = shapes.get(node.name);
    const r = layers[node.name];
    if (!shape || !r || shape.length !== 3 || shape[1] < 2 || shape[2] < 2) continue;
    const [C, H, W] = shape;
    const rgba = heatmap(r, { width: W, height: H, channels: C, layout: model.inputLayout === 'NHWC' ? 'HWC' : 'CHW', ...heatOpts });
    out.push({ name: node.name, op: node.op, shape: shape.slice(), heatmap: toImageData(rgba, W, H) });
  }
  return out;
}

/** The zbox bounds images get: the input range after mean/std, per channel where they differ. */
function imageBounds(range: [number, number], C: number, mean?: number[], std?: number[]): { low: Bound; high: Bound } {
  const at = (v: number, c: number) => (v - (mean ? mean[mean.length === 1 ? 0 : c] : 0)) / (std ? std[std.length === 1 ? 0 : c] : 1);
  const low = Array.from({ length: C }, (_, c) => Math.min(at(range[0], c), at(range[1], c)));
  const high = Array.from({ length: C }, (_, c) => Math.max(at(range[0], c), at(range[1], c)));
  const one = (b: number[]) => (b.every((v) => v === b[0]) ? b[0] : b);
  return { low: one(low), high: one(high) };
}

function softmax(logits: Float32Array): Float32Array<ArrayBuffer> {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

export async function explainImage(model: Model, img: ImageInput, opts: ExplainImageOptions = {}): Promise<ImageExplanation> {
  const { metadata, inputRange, mean, std, fit, pixelRange, background, heatmap: heatOpts, overlayAlpha, ...explainOpts } = opts;
  const meta = metadata === undefined ? model.metadata : parseMetadata(metadata, 'metadata');
  const g = imageGeometry(model.inputShape);
  if (!g.image)
    throw new InputError(`model '${model.name}' takes [${model.inputShape.join(', ')}], which is not an image (1 or 3 channels of H × W): pass its input to explain()`, 'E_IMAGE');
  const range = inputRange ?? meta?.inputRange ?? model.graph.inputRange ?? [0, 1];
  const m = mean ?? meta?.mean;
  const s = std ?? meta?.std;
  const pixels = await readPixels(img, pixelRange);
  const prepared = prepareImage(pixels, { channels: g.C, height: g.H, width: g.W, layout: model.inputLayout, inputRange: [range[0], range[1]], mean: m, std: s, fit, background });
  const bounds = imageBounds([range[0], range[1]], g.C, m, s);
  const r = model.explain(prepared.x, { low: bounds.low, high: bounds.high, ...explainOpts });
  const channelsLast = model.inputLayout === 'NHWC';
  const drawn = { width: g.W, height: g.H, channels: g.C, layout: channelsLast ? ('HWC' as const) : ('CHW' as const), ...heatOpts };
  const heat = heatmap(r.relevance, drawn);
  const overlay = relevanceOverlay(r.relevance, prepared.display, { ...drawn, maxAlpha: overlayAlpha });
  const target = r.targets[0];
  let predicted = 0;
  for (let j = 1; j < r.logits.length; j++) if (r.logits[j] > r.logits[predicted]) predicted = j;
  const classNames = meta?.classNames && meta.classNames.length === model.outputSize ? meta.classNames.slice() : undefined;
  return {
    relevance: r.relevance,
    input: prepared.x,
    logits: r.logits,
    probabilities: softmax(r.logits),
    target,
    predicted,
    ...(classNames ? { classNames, targetName: classNames[target], predictedName: classNames[predicted] } : {}),
    sums: { start: r.sums.start[0], input: r.sums.input[0] },
    ...(r.layers ? { layers: r.layers, layerMaps: layerMaps(model, r.layers, heatOpts) } : {}),
    heatmap: toImageData(heat, g.W, g.H),
    overlay: toImageData(overlay, g.W, g.H),
    image: toImageData(prepared.display, g.W, g.H),
    preprocessing: prepared.info,
  };
}
