/**
 * Spectrum charts: singular values (or eigenvalues) against their index, as
 * stems or bars, on a log scale by default.
 *
 * @module
 */
import type { Matrix } from "../matrix.ts";
import { el, svgDoc, type SvgImage } from "./svg.ts";
import { linearScale, logScale } from "./scale.ts";
import { type ChartOptions, finiteValues, frame, layout, PALETTE } from "./axes.ts";

/** Options of {@link spectrumChart}. */
export interface SpectrumOptions extends ChartOptions {
  /** A base-10 log scale for the values (default true; they must then be > 0). */
  logY?: boolean;
  /** `"stem"` (default: a line and a dot per value) or `"bar"`. */
  style?: "stem" | "bar";
  /** Colour (default the first of tab10). */
  color?: string;
}

const ACTION = "draw a spectrum";

/**
 * A chart of values against their index 1..k, such as the singular values
 * `svd(A).s` (a k x 1 matrix) or an array of numbers. Values must be finite, and
 * > 0 on the default log scale (pass `logY: false` for spectra with zeros).
 *
 * @example
 * ```ts
 * import { Random, spectrumChart, svd } from "../../mod.ts";
 * const { s } = svd(new Random(0).normal(50, 8));
 * const chart = spectrumChart(s, { title: "Singular values of a 50x8 Gaussian matrix" });
 * console.log(chart.svg.match(/<circle/g)?.length); // 8
 * ```
 */
export function spectrumChart(
  values: ArrayLike<number> | Matrix,
  opts: SpectrumOptions = {},
): SvgImage {
  const logY = opts.logY ?? true;
  const style = opts.style ?? "stem";
  if (style !== "stem" && style !== "bar") {
    throw new TypeError(`Cannot ${ACTION}: style must be "stem" or "bar", got ${style}`);
  }
  let data: ArrayLike<number> = values as ArrayLike<number>;
  if (values !== null && typeof (values as Matrix).toTypedArray === "function") {
    const m = values as Matrix;
    if (m.rows !== 1 && m.cols !== 1) {
      throw new TypeError(
        `Cannot ${ACTION} of a ${m.rows}x${m.cols} matrix: pass a vector, such as svd(A).s`,
      );
    }
    data = m.toTypedArray();
  }
  const v = finiteValues(ACTION, "values", data, logY);
  const o: ChartOptions = {
    ...opts,
    xLabel: opts.xLabel ?? "index i",
    yLabel: opts.yLabel ?? (logY ? "value (log scale)" : "value"),
  };
  const L = layout(ACTION, o);
  const k = v.length;
  const xs = linearScale(0.5, k + 0.5, [L.left, L.right], Math.min(k, 8), true);
  xs.ticks = xs.ticks.filter((t) => t >= 1 && Number.isInteger(t));
  if (xs.ticks.length === 0) xs.ticks = [1];
  const lo = Math.min(...v), hi = Math.max(...v);
  const ys = logY
    ? logScale(lo, hi, [L.bottom, L.top])
    : linearScale(Math.min(0, lo), Math.max(0, hi), [L.bottom, L.top]);
  const base = logY ? L.bottom : ys.map(0);
  const color = opts.color ?? PALETTE[0];
  const w = Math.max(1, ((L.right - L.left) / k) * 0.8);
  const marks = v.map((s, i) => {
    const x = xs.map(i + 1), y = ys.map(s);
    if (style === "bar") {
      return el("rect", {
        x: x - w / 2,
        y: Math.min(y, base),
        width: w,
        height: Math.abs(base - y),
      });
    }
    const dot = k <= 100 ? el("circle", { cx: x, cy: y, r: 3 }) : "";
    return el("line", { x1: x, x2: x, y1: base, y2: y, stroke: color }) + dot;
  });
  const body = frame(L, xs, ys, o) + el("g", { class: "marks", fill: color }, marks.join(""));
  return svgDoc(L.width, L.height, opts.title ?? "spectrum", body);
}
