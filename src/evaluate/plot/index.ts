export { toSVG } from './svg.js';
export { rasterize } from './raster.js';
export { lineChart, barChart, seriesColor, type LineChart, type LinePanel, type Series, type BarGroup } from './charts.js';
export { curvesChart, aopcChart, sanityChart } from './evaluation-charts.js';
export type { Scene, SceneShape, Color } from './scene.js';
