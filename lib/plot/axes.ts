/**
 * What the x-y charts share: options, input checks, the layout, and the frame
 * (title, grid, axes, tick labels, axis labels, legend).
 *
 * @module
 */
import { el, esc } from "./svg.ts";
import type { Scale } from "./scale.ts";

/** Options every chart takes. */
export interface ChartOptions {
  /** Title above the plot. */
  title?: string;
  /** Label of the x axis. */
  xLabel?: string;
  /** Label of the y axis. */
  yLabel?: string;
  /** Width in pixels (default 640). */
  width?: number;
  /** Height in pixels (default 400). */
  height?: number;
}

/** Colours of successive series (matplotlib's tab10). */
export const PALETTE: readonly string[] = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

/** The plot area inside the margins, in pixels. */
export interface Layout {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** The layout for `opts`, after checking its sizes and labels. */
export function layout(action: string, opts: ChartOptions, extraRight = 0): Layout {
  for (const key of ["title", "xLabel", "yLabel"] as const) {
    if (opts[key] !== undefined && typeof opts[key] !== "string") {
      throw new TypeError(`Cannot ${action}: ${key} must be a string, got ${typeof opts[key]}`);
    }
  }
  const size = (key: "width" | "height", dflt: number) => {
    const v = opts[key] ?? dflt;
    if (!Number.isSafeInteger(v) || v < 120 || v > 10000) {
      throw new RangeError(
        `Cannot ${action}: ${key} must be an integer from 120 to 10000 pixels, got ${v}`,
      );
    }
    return v;
  };
  const width = size("width", 640), height = size("height", 400);
  return {
    width,
    height,
    left: 64,
    right: width - 16 - extraRight,
    top: opts.title ? 36 : 14,
    bottom: height - 46,
  };
}

/**
 * The values of `data` as numbers, checked: at least one, all finite, and all
 * positive when `positive` (for a log axis). `what` names them in errors.
 */
export function finiteValues(
  action: string,
  what: string,
  data: ArrayLike<number>,
  positive = false,
): number[] {
  if (data === null || typeof data !== "object" || typeof data.length !== "number") {
    throw new TypeError(`Cannot ${action}: ${what} must be an array of numbers`);
  }
  if (data.length === 0) throw new RangeError(`Cannot ${action}: ${what} is empty`);
  const out = Array.from(data);
  out.forEach((v, i) => {
    if (typeof v !== "number") {
      throw new TypeError(`Cannot ${action}: ${what}[${i}] is ${typeof v}, not a number`);
    }
    if (!Number.isFinite(v)) throw new RangeError(`Cannot ${action}: ${what}[${i}] is ${v}`);
    if (positive && v <= 0) {
      throw new RangeError(
        `Cannot ${action}: ${what}[${i}] is ${v}, and a log scale shows only values > 0 ` +
          `(use logY: false)`,
      );
    }
  });
  return out;
}

/** Title, grid, axes with tick labels, and axis labels around the plot area. */
export function frame(L: Layout, x: Scale, y: Scale, opts: ChartOptions, xTicks = true): string {
  const parts: string[] = [];
  if (opts.title) {
    parts.push(
      el(
        "text",
        { x: (L.left + L.right) / 2, y: 22, "text-anchor": "middle", "font-size": 14 },
        esc(opts.title),
      ),
    );
  }
  const grid = y.ticks.map((t) =>
    el("line", { x1: L.left, x2: L.right, y1: y.map(t), y2: y.map(t) })
  ).join("");
  parts.push(el("g", { stroke: "#e5e5e5", "stroke-width": 1 }, grid));
  const yLabels = y.ticks.map((t) =>
    el("text", { x: L.left - 6, y: y.map(t) + 4, "text-anchor": "end" }, y.label(t))
  );
  const xLabels = xTicks
    ? x.ticks.map((t) =>
      el("text", { x: x.map(t), y: L.bottom + 16, "text-anchor": "middle" }, x.label(t))
    )
    : [];
  parts.push(el("g", { class: "ticks", fill: "#333" }, [...yLabels, ...xLabels].join("")));
  parts.push(
    el("path", {
      d: `M${L.left},${L.top}V${L.bottom}H${L.right}`,
      fill: "none",
      stroke: "#333",
    }),
  );
  if (opts.xLabel) {
    parts.push(el(
      "text",
      { x: (L.left + L.right) / 2, y: L.height - 10, "text-anchor": "middle", class: "x-label" },
      esc(opts.xLabel),
    ));
  }
  if (opts.yLabel) {
    const cy = (L.top + L.bottom) / 2;
    parts.push(el(
      "text",
      {
        x: 16,
        y: cy,
        "text-anchor": "middle",
        transform: `rotate(-90 16 ${cy})`,
        class: "y-label",
      },
      esc(opts.yLabel),
    ));
  }
  return parts.join("");
}

/** A legend box in the top right corner of the plot area. */
export function legend(L: Layout, entries: readonly { name: string; color: string }[]): string {
  if (entries.length === 0) return "";
  const w = 28 + 7 * Math.max(...entries.map((e) => e.name.length));
  const x = L.right - w - 8, y = L.top + 8;
  const rows = entries.map((e, i) =>
    el("line", {
      x1: x + 6,
      x2: x + 22,
      y1: y + 12 + 16 * i,
      y2: y + 12 + 16 * i,
      stroke: e.color,
      "stroke-width": 2,
    }) + el("text", { x: x + 26, y: y + 16 + 16 * i }, esc(e.name))
  );
  return el(
    "g",
    { class: "legend" },
    el("rect", {
      x,
      y,
      width: w,
      height: 8 + 16 * entries.length,
      fill: "white",
      "fill-opacity": 0.85,
      stroke: "#ccc",
    }) + rows.join(""),
  );
}
