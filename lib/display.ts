/**
 * Rich display in Jupyter notebooks (Deno's kernel): the MIME bundle a matrix
 * shows (plain text, an HTML table, LaTeX for small matrices) and a progress
 * display that updates one output in place. Nothing here touches `Deno.jupyter`
 * at import time; outside the kernel the progress display falls back to stderr.
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

/** The part of `Deno.jupyter` that {@link progressDisplay} uses. */
export interface JupyterBroadcaster {
  /** Send a message on the kernel's IOPub channel (Deno 2.9.6 returns undefined). */
  broadcast(msgType: string, content: Record<string, unknown>): Promise<void> | void;
}

/**
 * `Deno.jupyter` when this code runs inside Deno's Jupyter kernel, else null.
 * Looks lazily and never throws (`Deno.jupyter` throws outside the kernel).
 *
 * @example
 * ```ts
 * import { jupyterKernel } from "../mod.ts";
 * console.log(jupyterKernel() === null); // true outside a notebook
 * ```
 */
export function jupyterKernel(): JupyterBroadcaster | null {
  try {
    const j = (globalThis as { Deno?: { jupyter?: JupyterBroadcaster } }).Deno?.jupyter;
    return j && typeof j.broadcast === "function" ? j : null;
  } catch {
    return null;
  }
}

/** Options of {@link progressDisplay}. */
export interface ProgressOptions {
  /** Least milliseconds between two updates that are shown (default 100); `done` always shows. */
  minIntervalMs?: number;
  /**
   * Outside the kernel: `"stderr"` (default) redraws one line in place on a
   * terminal and writes the final text at `done`; `"none"` writes nothing.
   */
  fallback?: "stderr" | "none";
  /** Where to send the display (default: {@link jupyterKernel}); null forces the fallback. */
  jupyter?: JupyterBroadcaster | null;
}

/** A display that updates in place; see {@link progressDisplay}. */
export interface ProgressDisplay {
  /** The Jupyter display id, or null outside the kernel. */
  readonly displayId: string | null;
  /**
   * Show `content` (text, a MIME bundle, or a displayable object such as an
   * SvgImage) in place of what was shown. With `fraction` (0 to 1) a text gets a
   * progress bar. Updates closer together than `minIntervalMs` are skipped, but
   * the latest is kept for `done`. Returns at once; the message is sent in the background.
   */
  update(content: string | object, fraction?: number): void;
  /** Show `content` (default: the latest update) as the final state and wait until it is sent. */
  done(content?: string | object): Promise<void>;
}

/**
 * A display that updates one output in place, for long loops in notebooks:
 * inside Deno's Jupyter kernel it sends `display_data` once and then
 * `update_display_data` with the same display id; elsewhere it draws one line on
 * stderr (see {@link ProgressOptions}).
 *
 * @example
 * ```ts
 * import { progressDisplay } from "../mod.ts";
 * const progress = progressDisplay({ fallback: "none" });
 * for (let step = 1; step <= 100; step++) {
 *   progress.update(`step ${step}/100`, step / 100);
 * }
 * await progress.done("finished 100 steps");
 * ```
 */
export function progressDisplay(opts: ProgressOptions = {}): ProgressDisplay {
  const minInterval = opts.minIntervalMs ?? 100;
  if (typeof minInterval !== "number" || !(minInterval >= 0)) {
    throw new RangeError(
      `Cannot make a progress display: minIntervalMs must be a number >= 0, got ${minInterval}`,
    );
  }
  const fallback = opts.fallback ?? "stderr";
  if (fallback !== "stderr" && fallback !== "none") {
    throw new TypeError(
      `Cannot make a progress display: fallback must be "stderr" or "none", got ${fallback}`,
    );
  }
  const jupyter = opts.jupyter === undefined ? jupyterKernel() : opts.jupyter;
  return jupyter ? new KernelProgress(jupyter, minInterval) : new StreamProgress(
    fallback === "stderr" ? (globalThis as { Deno?: typeof Deno }).Deno?.stderr : undefined,
    minInterval,
  );
}

function withBar(content: string | object, fraction: number | undefined): MimeBundle {
  if (fraction === undefined) return toMimeBundle(content);
  if (typeof fraction !== "number" || !(fraction >= 0 && fraction <= 1)) {
    throw new RangeError(
      `Cannot update a progress display: fraction must be in [0, 1], got ${fraction}`,
    );
  }
  if (typeof content !== "string") return toMimeBundle(content);
  const width = 20, filled = Math.round(width * fraction);
  return {
    "text/plain": `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${content}`,
    "text/html": `<div style="font-family: monospace"><progress value="${fraction}" max="1" ` +
      `style="width: 12em; vertical-align: middle"></progress> ${escapeHtml(content)}</div>`,
  };
}

abstract class BaseProgress implements ProgressDisplay {
  abstract readonly displayId: string | null;
  #minInterval: number;
  #last = -Infinity;
  #latest: MimeBundle | null = null;
  #done = false;

  constructor(minInterval: number) {
    this.#minInterval = minInterval;
  }

  update(content: string | object, fraction?: number): void {
    if (this.#done) throw new Error("Cannot update a progress display after done()");
    this.#latest = withBar(content, fraction);
    const now = performance.now();
    if (now - this.#last < this.#minInterval) return;
    this.#last = now;
    this.show(this.#latest, false);
  }

  async done(content?: string | object): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    const bundle = content === undefined ? this.#latest : toMimeBundle(content);
    if (bundle) this.show(bundle, true);
    await this.flush();
  }

  protected abstract show(bundle: MimeBundle, final: boolean): void;
  protected abstract flush(): Promise<void>;
}

class KernelProgress extends BaseProgress {
  readonly displayId: string = `matcalc-progress-${crypto.randomUUID()}`;
  #jupyter: JupyterBroadcaster;
  #shown = false;
  #sent: Promise<void> = Promise.resolve();
  #error: unknown = null;

  constructor(jupyter: JupyterBroadcaster, minInterval: number) {
    super(minInterval);
    this.#jupyter = jupyter;
  }

  protected show(data: MimeBundle): void {
    // Called synchronously: Deno sends each broadcast at once, in call order, even
    // while a loop keeps the event loop busy. Deno 2.9.6 returns undefined, not the
    // promise its types declare; failures, sync or async, are kept for done().
    const type = this.#shown ? "update_display_data" : "display_data";
    this.#shown = true;
    const keep = (e: unknown) => {
      this.#error ??= e;
    };
    try {
      const sent = Promise.resolve(
        this.#jupyter.broadcast(type, {
          data,
          metadata: {},
          transient: { display_id: this.displayId },
        }),
      ).catch(keep);
      this.#sent = Promise.all([this.#sent, sent]).then(() => {});
    } catch (e) {
      keep(e);
    }
  }

  protected async flush(): Promise<void> {
    await this.#sent;
    if (this.#error !== null) throw this.#error;
  }
}

/** What the fallback writes to: Deno.stderr or a stand-in. */
interface Stream {
  writeSync(p: Uint8Array): number;
  isTerminal(): boolean;
}

class StreamProgress extends BaseProgress {
  readonly displayId: null = null;
  #stream: Stream | undefined;
  #tty: boolean;
  #drawn = false;

  constructor(stream: Stream | undefined, minInterval: number) {
    super(minInterval);
    this.#stream = stream;
    this.#tty = stream?.isTerminal() ?? false;
  }

  protected show(bundle: MimeBundle, final: boolean): void {
    if (!this.#stream || (!this.#tty && !final)) return;
    const text = (bundle["text/plain"] ?? "").split("\n")[0];
    const line = this.#tty ? `\r\x1b[K${text}${final ? "\n" : ""}` : `${text}\n`;
    this.#drawn = this.#tty && !final;
    writeAll(this.#stream, new TextEncoder().encode(line));
  }

  protected flush(): Promise<void> {
    if (this.#drawn && this.#stream) writeAll(this.#stream, new TextEncoder().encode("\n"));
    this.#drawn = false;
    return Promise.resolve();
  }
}

function writeAll(stream: Stream, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += stream.writeSync(bytes.subarray(off));
}
