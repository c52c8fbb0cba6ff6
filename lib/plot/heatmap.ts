/**
 * Heat maps of a matrix (a Jacobian, a weight matrix) with a colour bar: a
 * diverging colormap centred on zero by default, or a sequential one.
 *
 * @module
 */
import type { Matrix } from "../matrix.ts";
import { el, esc, svgDoc, type SvgImage } from "./svg.ts";
import { linearScale } from "./scale.ts";
import { type ChartOptions, layout } from "./axes.ts";

/** Options of {@link heatmap}. */
export interface HeatmapOptions extends ChartOptions {
  /**
   * `"diverging"` (default: blue to white to red over +-max|x|, so white is zero)
   * or `"sequential"` (viridis from the least to the largest value).
   */
  colormap?: "diverging" | "sequential";
  /** The values at the ends of the colour bar (default as the colormap says); values beyond are clamped. */
  range?: [number, number];
  /** Most cells along each side; bigger matrices are shown as block means (default 64). */
  maxCells?: number;
}

/** ColorBrewer RdBu, blue to red. */
const DIVERGING = [
  "#053061",
  "#2166ac",
  "#4393c3",
  "#92c5de",
  "#d1e5f0",
  "#f7f7f7",
  "#fddbc7",
  "#f4a582",
  "#d6604d",
  "#b2182b",
  "#67001f",
];
/** viridis. */
const SEQUENTIAL = [
  "#440154",
  "#472d7b",
  "#3b528b",
  "#2c728e",
  "#21918c",
  "#28ae80",
  "#5ec962",
  "#addc30",
  "#fde725",
];

const ACTION = "draw a heat map";

/** The colour at t in [0, 1] along the anchors, as #rrggbb. */
function colorAt(anchors: readonly string[], t: number): string {
  const u = Math.min(1, Math.max(0, t)) * (anchors.length - 1);
  const i = Math.min(anchors.length - 2, Math.floor(u)), f = u - i;
  const rgb = (h: string, k: number) => parseInt(h.slice(1 + 2 * k, 3 + 2 * k), 16);
  let out = "#";
  for (let k = 0; k < 3; k++) {
    const c = Math.round(rgb(anchors[i], k) * (1 - f) + rgb(anchors[i + 1], k) * f);
    out += c.toString(16).padStart(2, "0");
  }
  return out;
}

/** The entries as rows, with the shape (kept for 0 x n matrices). */
function rowsOf(m: Matrix | readonly (readonly number[])[]): [number[][], number, number] {
  if (Array.isArray(m)) {
    const cols = m.length ? (m[0] as readonly number[])?.length : 0;
    const data = m.map((row, i) => {
      if (!Array.isArray(row) || row.length !== cols) {
        throw new TypeError(`Cannot ${ACTION}: row ${i} is not an array of ${cols} numbers`);
      }
      return [...row];
    });
    return [data, m.length, cols];
  }
  if (m === null || typeof (m as Matrix).toArray !== "function") {
    throw new TypeError(`Cannot ${ACTION}: expected a Matrix or an array of rows`);
  }
  const M = m as Matrix;
  return [M.toArray(), M.rows, M.cols];
}

/** The colour bar's default limits: +-max|x| (diverging) or [min, max] (sequential). */
function extent(cells: number[][], colormap: string): [number, number] {
  let lo = Infinity, hi = -Infinity, big = 0;
  for (const row of cells) {
    for (const v of row) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      big = Math.max(big, Math.abs(v));
    }
  }
  return colormap === "diverging" ? [-big, big] : [lo, hi];
}

/**
 * A heat map of a matrix, row 0 at the top, with a colour bar. Values must be
 * finite. Matrices with more than `maxCells` rows or columns are shown as means
 * over blocks (the title says so). For data on a device, pass `await m.read()`.
 *
 * @example
 * ```ts
 * import { heatmap, jacobian, Matrix, tanh } from "../../mod.ts";
 * const J = jacobian(tanh)(Matrix.from([[0.1, -2], [0.5, 1]]));
 * const chart = heatmap(J, { title: "d vec tanh(X) / d (vec X)^T" });
 * console.log(chart.svg.includes("linearGradient")); // true
 * ```
 */
export function heatmap(
  m: Matrix | readonly (readonly number[])[],
  opts: HeatmapOptions = {},
): SvgImage {
  const colormap = opts.colormap ?? "diverging";
  if (colormap !== "diverging" && colormap !== "sequential") {
    throw new TypeError(
      `Cannot ${ACTION}: colormap must be "diverging" or "sequential", got ${colormap}`,
    );
  }
  const maxCells = opts.maxCells ?? 64;
  if (!Number.isSafeInteger(maxCells) || maxCells < 1) {
    throw new RangeError(`Cannot ${ACTION}: maxCells must be a positive integer, got ${maxCells}`);
  }
  const [data, rows, cols] = rowsOf(m);
  if (rows === 0 || cols === 0) {
    throw new RangeError(`Cannot ${ACTION}: the matrix is ${rows}x${cols}`);
  }
  data.forEach((row, i) =>
    row.forEach((v, j) => {
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new RangeError(`Cannot ${ACTION}: entry (${i}, ${j}) is ${v}, not a finite number`);
      }
    })
  );
  // Block means when the matrix is bigger than maxCells along a side.
  const br = Math.ceil(rows / maxCells), bc = Math.ceil(cols / maxCells);
  const nr = Math.ceil(rows / br), nc = Math.ceil(cols / bc);
  const cells = Array.from({ length: nr }, (_, i) =>
    Array.from({ length: nc }, (_, j) => {
      let s = 0, n = 0;
      for (let r = i * br; r < Math.min(rows, (i + 1) * br); r++) {
        for (let c = j * bc; c < Math.min(cols, (j + 1) * bc); c++, n++) s += data[r][c];
      }
      return s / n;
    }));
  const range = opts.range ?? extent(cells, colormap);
  if (!Array.isArray(range) || range.length !== 2 || !range.every(Number.isFinite)) {
    throw new RangeError(`Cannot ${ACTION}: range must be two finite numbers [low, high]`);
  }
  let [lo, hi] = range;
  if (lo > hi) throw new RangeError(`Cannot ${ACTION}: range [${lo}, ${hi}] has low > high`);
  if (lo === hi) [lo, hi] = lo === 0 ? [-1, 1] : [lo - Math.abs(lo), hi + Math.abs(hi)];
  const anchors = colormap === "diverging" ? DIVERGING : SEQUENTIAL;

  // Square cells in the plot area left of the colour bar.
  const title = (opts.title ?? "") +
    (br > 1 || bc > 1
      ? `${opts.title ? " " : ""}(${rows}x${cols}, block means of ${br}x${bc})`
      : "");
  const L = layout(ACTION, { ...opts, title }, 74);
  const side = Math.min((L.right - L.left) / nc, (L.bottom - L.top) / nr);
  // The grid and its colour bar (74 px with labels) are centred across the width.
  const x0 = L.left + Math.max(0, (L.right - L.left - nc * side) / 2), y0 = L.top;
  const rects: string[] = [];
  for (let i = 0; i < nr; i++) {
    // Runs of equal colour in a row become one rectangle.
    let j = 0;
    while (j < nc) {
      const fill = colorAt(anchors, (cells[i][j] - lo) / (hi - lo));
      let k = j + 1;
      while (k < nc && colorAt(anchors, (cells[i][k] - lo) / (hi - lo)) === fill) k++;
      rects.push(
        el("rect", {
          x: x0 + j * side,
          y: y0 + i * side,
          width: (k - j) * side,
          height: side,
          fill,
        }),
      );
      j = k;
    }
  }
  const gridW = nc * side, gridH = nr * side;
  // Row indices on the left, column indices below: integer ticks at their cells' centres.
  const indexTicks = (n: number, block: number) =>
    linearScale(0, n - 1, [0, 1], 5, true).ticks.filter((t) =>
      Number.isInteger(t) && t >= 0 && t < n
    )
      .map((t) => ({ t, at: (Math.floor(t / block) + 0.5) * side }));
  const rowTicks = indexTicks(rows, br).map(({ t, at }) =>
    el("text", { x: x0 - 6, y: y0 + at + 4, "text-anchor": "end" }, String(t))
  );
  const colTicks = indexTicks(cols, bc).map(({ t, at }) =>
    el("text", { x: x0 + at, y: y0 + gridH + 16, "text-anchor": "middle" }, String(t))
  );
  // Colour bar with its own ticks.
  const barX = x0 + gridW + 20, barW = 14;
  const bs = linearScale(lo, hi, [y0 + gridH, y0], 5, true);
  const stops = anchors.map((c, i) =>
    el("stop", { offset: i / (anchors.length - 1), "stop-color": c })
  ).join("");
  const barTicks = bs.ticks.map((t) =>
    el("line", {
      x1: barX + barW,
      x2: barX + barW + 4,
      y1: bs.map(t),
      y2: bs.map(t),
      stroke: "#333",
    }) +
    el("text", { x: barX + barW + 7, y: bs.map(t) + 4 }, bs.label(t))
  );
  const parts = [
    title
      ? el(
        "text",
        { x: x0 + gridW / 2, y: 22, "text-anchor": "middle", "font-size": 14 },
        esc(title),
      )
      : "",
    el("g", { class: "cells", "shape-rendering": "crispEdges" }, rects.join("")),
    el("rect", { x: x0, y: y0, width: gridW, height: gridH, fill: "none", stroke: "#333" }),
    el("g", { class: "ticks", fill: "#333" }, [...rowTicks, ...colTicks].join("")),
    el(
      "defs",
      {},
      el("linearGradient", { id: `matcalc-${colormap}`, x1: 0, y1: 1, x2: 0, y2: 0 }, stops),
    ),
    el("rect", {
      x: barX,
      y: y0,
      width: barW,
      height: gridH,
      fill: `url(#matcalc-${colormap})`,
      stroke: "#333",
      class: "colorbar",
    }),
    el("g", { class: "colorbar-ticks", fill: "#333" }, barTicks.join("")),
    el(
      "text",
      { x: x0 + gridW / 2, y: y0 + gridH + 34, "text-anchor": "middle", class: "x-label" },
      esc(opts.xLabel ?? "column j"),
    ),
    el("text", {
      x: x0 - 44,
      y: y0 + gridH / 2,
      "text-anchor": "middle",
      transform: `rotate(-90 ${x0 - 44} ${y0 + gridH / 2})`,
      class: "y-label",
    }, esc(opts.yLabel ?? "row i")),
  ];
  return svgDoc(L.width, L.height, title || "heat map", parts.join(""));
}
