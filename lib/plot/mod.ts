/**
 * Small SVG plots for matrix calculus work, with no DOM and no dependencies:
 * training curves ({@link lineChart}), singular value spectra
 * ({@link spectrumChart}) and heat maps of matrices ({@link heatmap}). Each
 * returns an {@link SvgImage}, which Deno's Jupyter kernel shows inline and
 * {@link plotToFile} writes to a file.
 *
 * @module
 */
export { plotToFile, SvgImage } from "./svg.ts";
export type { ChartOptions } from "./axes.ts";
export { lineChart, type LineChartOptions, type Series } from "./line.ts";
export { spectrumChart, type SpectrumOptions } from "./spectrum.ts";
export { heatmap, type HeatmapOptions } from "./heatmap.ts";
