/**
 * Rich display in Jupyter notebooks (Deno's kernel): the MIME bundle a matrix
 * shows (plain text, an HTML table, LaTeX for small matrices). The progress display
 * that updates one output in place is in progress.ts.
 *
 * @module
 */
import type { DType } from "./kernel.ts";
import { formatMatrix, formatNumber } from "./format.ts";

/**
 * A Jupyter MIME bundle: MIME type to content, as returned by a
 * `[Symbol.for("Jupyter.display")]()` method.
 */
export type MimeBundle = Record<string, string>;

/** What {@link matrixMimeBundle} needs to know of a matrix besides its values. */
export interface MatrixHeader {
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
  /** Element type. */
  readonly dtype: DType;
  /** The kernel holding the data (only its name is shown). */
  readonly kernel: { readonly name: string };
}

/** Options of {@link matrixMimeBundle}. */
export interface MatrixDisplayOptions {
  /** Rows the HTML table shows before it truncates, half from each end (default 20). */
  maxRows?: number;
  /** Columns the HTML table shows before it truncates (default 12). */
  maxCols?: number;
  /** Largest number of rows and of columns that gets `text/latex` (default 10). */
  latexMax?: number;
}

/**
 * Escape text for HTML element content and attribute values.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./display.ts";
 * console.log(escapeHtml(`a < b & "c"`)); // a &lt; b &amp; &quot;c&quot;
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Indices shown along an axis of n: all, or the head and tail with null for the gap. */
function shown(n: number, max: number): (number | null)[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const head = Math.ceil(max / 2), tail = Math.max(1, max - head);
  return [
    ...Array.from({ length: head }, (_, i) => i),
    null,
    ...Array.from({ length: tail }, (_, i) => n - tail + i),
  ];
}

function limit(name: string, value: number | undefined, dflt: number): number {
  if (value === undefined) return dflt;
  if (!Number.isSafeInteger(value) || value < 2) {
    throw new RangeError(
      `Cannot display a matrix: ${name} must be an integer of at least 2, got ${value}`,
    );
  }
  return value;
}

/** A number in LaTeX: 1.5e-7 as 1.5 \times 10^{-7}, NaN and infinities as words and symbols. */
function latexNumber(x: number): string {
  if (Number.isNaN(x)) return "\\text{NaN}";
  if (!Number.isFinite(x)) return x > 0 ? "\\infty" : "-\\infty";
  const s = formatNumber(x);
  const m = /^(-?[\d.]+)e([+-]\d+)$/.exec(s);
  return m ? `${Number(m[1])} \\times 10^{${Number(m[2])}}` : s;
}

/**
 * The MIME bundle of a matrix, as `m[Symbol.for("Jupyter.display")]()` returns it:
 * `text/plain` (what `toString()` gives), `text/html` (a table with the shape and
 * dtype in its caption, showing the corners of a big matrix), and `text/latex` (a
 * `bmatrix`) only for matrices of at most `latexMax` rows and columns. Pass `null`
 * as `data` for values that are on a device: the bundle then says to
 * `await m.read()`.
 *
 * @example
 * ```ts
 * import { Matrix, matrixMimeBundle } from "../mod.ts";
 * const A = Matrix.from([[1, 2], [3, 4]]);
 * const bundle = matrixMimeBundle(A, A.toTypedArray());
 * console.log(bundle["text/latex"]); // $$\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}$$
 * console.log(bundle["text/html"].includes("<caption>Matrix 2x2 float64</caption>")); // true
 * ```
 */
export function matrixMimeBundle(
  m: MatrixHeader,
  data: ArrayLike<number> | null,
  opts: MatrixDisplayOptions = {},
): MimeBundle {
  const maxRows = limit("maxRows", opts.maxRows, 20);
  const maxCols = limit("maxCols", opts.maxCols, 12);
  const latexMax = limit("latexMax", opts.latexMax, 10);
  const { rows, cols } = m;
  const head = `Matrix ${rows}x${cols} ${m.dtype}`;
  const style = "font-family: monospace; text-align: right";
  if (data === null) {
    const note = `on ${m.kernel.name} (await m.read() to see the values)`;
    return {
      "text/plain": `${head} ${note}`,
      "text/html": `<div style="font-family: monospace"><b>${escapeHtml(head)}</b> ${
        escapeHtml(note).replace("await m.read()", "<code>await m.read()</code>")
      }</div>`,
    };
  }
  if (data.length !== rows * cols) {
    throw new TypeError(
      `Cannot display a ${rows}x${cols} matrix: data has ${data.length} elements, expected ${
        rows * cols
      }`,
    );
  }
  const ri = shown(rows, maxRows), ci = shown(cols, maxCols);
  const nr = ri.filter((i) => i !== null).length, nc = ci.filter((j) => j !== null).length;
  const caption = escapeHtml(head) +
    (nr < rows || nc < cols ? ` (showing ${nr} of ${rows} rows, ${nc} of ${cols} columns)` : "");
  const cell = (r: number | null, c: number | null) => {
    const v = r === null ? (c === null ? "⋱" : "⋮") : c === null ? "⋯" : formatNumber(
      data[r * cols + c],
    );
    return `<td>${escapeHtml(v)}</td>`;
  };
  const body = ri.map((r) => `<tr>${ci.map((c) => cell(r, c)).join("")}</tr>`).join("");
  const bundle: MimeBundle = {
    "text/plain": `${head}\n${formatMatrix(Float64Array.from(data), rows, cols)}`,
    "text/html": `<table style="${style}"><caption>${caption}</caption><tbody>${body}</tbody>` +
      `</table>`,
  };
  if (rows >= 1 && cols >= 1 && rows <= latexMax && cols <= latexMax) {
    const lines = Array.from(
      { length: rows },
      (_, r) => Array.from({ length: cols }, (_, c) => latexNumber(data[r * cols + c])).join(" & "),
    );
    bundle["text/latex"] = `$$\\begin{bmatrix} ${lines.join(" \\\\ ")} \\end{bmatrix}$$`;
  }
  return bundle;
}

const DISPLAY = Symbol.for("Jupyter.display");

/**
 * The MIME bundle of displayable content: a string becomes `text/plain` (and an
 * HTML `<pre>`); an object with a `[Symbol.for("Jupyter.display")]()` method (a
 * Matrix, an SvgImage) gives its own bundle; a plain object of strings is taken
 * as a bundle.
 *
 * @example
 * ```ts
 * import { Matrix, toMimeBundle } from "../mod.ts";
 * console.log(toMimeBundle("hi")["text/plain"]); // hi
 * console.log(Object.keys(toMimeBundle(Matrix.eye(2)))); // ["text/plain", "text/html", "text/latex"]
 * ```
 */
export function toMimeBundle(content: string | object): MimeBundle {
  if (typeof content === "string") {
    return { "text/plain": content, "text/html": `<pre>${escapeHtml(content)}</pre>` };
  }
  const show = (content as Record<symbol, unknown>)[DISPLAY];
  const bundle = typeof show === "function" ? show.call(content) : content;
  if (
    bundle === null || typeof bundle !== "object" || Array.isArray(bundle) ||
    Object.values(bundle).some((v) => typeof v !== "string")
  ) {
    throw new TypeError(
      "Cannot display content: expected a string, a MIME bundle of strings, or an object " +
        'with a [Symbol.for("Jupyter.display")]() method returning one',
    );
  }
  return bundle as MimeBundle;
}
