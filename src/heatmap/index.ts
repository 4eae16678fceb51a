export {
  CMAP_SOURCES,
  SEQUENTIAL_COLORMAPS,
  colormapNames,
  getColormap,
  parseColormap,
  type BuiltinColormap,
  type Colormap,
  type RGB,
} from './colormaps.js';
export {
  heatmap,
  overlay,
  chwToRGBA,
  grayToRGBA,
  reduceRelevance,
  normalizeRelevance,
  type HeatmapOptions,
  type HeatmapNormalize,
  type HeatmapReduce,
} from './heatmap.js';
export { encodePNG, decodePNG, isPNG, type DecodedImage8 } from './png.js';
export { relevanceOverlay, type RelevanceOverlayOptions } from './relevance-overlay.js';
export {
  textHeatmap,
  tokenColors,
  escapeHtml,
  formatRelevance,
  type TextHeatmapOptions,
  type TextHeatmapFormat,
  type TokenList,
  type TokenSequence,
  type TokenColor,
} from './text.js';
