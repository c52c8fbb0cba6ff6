/**
 * Line charts: training curves (loss, accuracy) with one or more series and an
 * optional log-scale y axis.
 *
 * @module
 */
import { el, fmt, svgDoc, type SvgImage } from "./svg.ts";
import { linearScale, logScale } from "./scale.ts";
import { type ChartOptions, finiteValues, frame, layout, legend, PALETTE } from "./axes.ts";

/** One line of a {@link lineChart}. */
export interface Series {
  /** Name shown in the legend (series without names get none). */
  name?: string;
  /** The values. */
  y: ArrayLike<number>;
  /** Their x positions, ascending (default 1, 2, ..., like epochs). */
  x?: ArrayLike<number>;
  /** Colour (default: the next of matplotlib's tab10). */
  color?: string;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions extends ChartOptions {
  /** A base-10 log scale for y (all values must then be > 0). Default false. */
  logY?: boolean;
  /** Draw a dot at every point (default: on series of at most 40 points). */
  markers?: boolean;
}

const ACTION = "draw a line chart";

/**
 * A line chart of one or more series, as an {@link SvgImage}. Every value must be
 * finite (a NaN loss is an error here, not a gap), and > 0 with `logY`.
 *
 * @example
 * ```ts
 * import { lineChart } from "../../mod.ts";
 * const chart = lineChart(
 *   [{ name: "train", y: [2.3, 0.9, 0.5, 0.4] }, { name: "test", y: [2.1, 1.0, 0.7, 0.6] }],
 *   { title: "Loss", xLabel: "epoch", yLabel: "cross-entropy", logY: true },
 * );
 * console.log(chart.svg.includes("<polyline")); // true
 * ```
 */
export function lineChart(
  series: Series | readonly Series[],
  opts: LineChartOptions = {},
): SvgImage {
  const list = Array.isArray(series) ? series : [series as Series];
  if (list.length === 0) throw new RangeError(`Cannot ${ACTION}: no series given`);
  const L = layout(ACTION, opts);
  const logY = opts.logY ?? false;
  const data = list.map((s, i) => {
    if (s === null || typeof s !== "object" || !("y" in s)) {
      throw new TypeError(`Cannot ${ACTION}: series ${i} must be an object with y values`);
    }
    const label = s.name === undefined ? `series ${i}` : `series "${s.name}"`;
    const y = finiteValues(ACTION, `${label} y`, s.y, logY);
    const x = s.x === undefined ? y.map((_, j) => j + 1) : finiteValues(ACTION, `${label} x`, s.x);
    if (x.some((v, j) => j > 0 && v < x[j - 1])) {
      throw new RangeError(`Cannot ${ACTION}: ${label} x values must be in ascending order`);
    }
    if (x.length !== y.length) {
      throw new TypeError(
        `Cannot ${ACTION}: ${label} has ${x.length} x values and ${y.length} y values`,
      );
    }
    return { x, y, name: s.name, color: s.color ?? PALETTE[i % PALETTE.length] };
  });
  const all = (k: "x" | "y") => data.flatMap((d) => d[k]);
  const [x0, x1] = extent(all("x")), [y0, y1] = extent(all("y"));
  const xs = linearScale(x0, x1, [L.left, L.right], 6, x0 !== x1);
  const ys = logY ? logScale(y0, y1, [L.bottom, L.top]) : linearScale(y0, y1, [L.bottom, L.top]);
  const lines = data.map((d) => {
    const pts = thin(d.x.map(xs.map), d.y.map(ys.map), L.right - L.left);
    const line = el("polyline", {
      points: pts.map(([px, py]) => `${fmt(px)},${fmt(py)}`).join(" "),
      fill: "none",
      stroke: d.color,
      "stroke-width": 1.8,
      "stroke-linejoin": "round",
    });
    const dots = (opts.markers ?? d.y.length <= 40)
      ? d.x.map((x, j) => el("circle", { cx: xs.map(x), cy: ys.map(d.y[j]), r: 2.5 })).join("")
      : "";
    return el("g", { class: "series", fill: d.color }, line + dots);
  });
  const named = data.filter((d) => d.name !== undefined) as { name: string; color: string }[];
  const body = frame(L, xs, ys, opts) + lines.join("") + legend(L, named);
  return svgDoc(L.width, L.height, opts.title ?? "line chart", body);
}

function extent(v: number[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const x of v) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}

/**
 * Long lines are thinned to the first, lowest, highest and last point of each
 * pixel column (the drawn shape is unchanged); short ones are kept whole.
 */
function thin(px: number[], py: number[], width: number): [number, number][] {
  const pts = px.map((x, i) => [x, py[i]] as [number, number]);
  if (pts.length <= 4 * width) return pts;
  const out: [number, number][] = [];
  let i = 0;
  while (i < pts.length) {
    const col = Math.floor(pts[i][0]);
    let j = i, lo = i, hi = i;
    while (j < pts.length && Math.floor(pts[j][0]) === col) {
      if (pts[j][1] < pts[lo][1]) lo = j;
      if (pts[j][1] > pts[hi][1]) hi = j;
      j++;
    }
    for (const k of [...new Set([i, lo, hi, j - 1])].sort((a, b) => a - b)) out.push(pts[k]);
    i = j;
  }
  return out;
}
