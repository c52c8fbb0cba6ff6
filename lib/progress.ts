/**
 * A progress display for long loops: in Deno's Jupyter kernel it shows one output
 * and updates it in place (display_data, then update_display_data with the same
 * display id); elsewhere it redraws one line on a terminal's stderr. Nothing here
 * touches `Deno.jupyter` at import time.
 *
 * @module
 */
import { escapeHtml, type MimeBundle, toMimeBundle } from "./display.ts";

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
