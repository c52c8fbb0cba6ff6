/**
 * SVG output of the plotting helpers: the {@link SvgImage} value (shown inline by
 * Jupyter, writable to a file) and the small string builders the charts share.
 *
 * @module
 */
import { escapeHtml, type MimeBundle } from "../display.ts";

/**
 * An SVG picture: its text, shown as `image/svg+xml` by Deno's Jupyter kernel, and
 * writable to a file with {@link SvgImage.save} or {@link plotToFile}.
 *
 * @example
 * ```ts
 * import { SvgImage, toMimeBundle } from "../../mod.ts";
 * const img = new SvgImage('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>');
 * console.log(img.width, Object.keys(toMimeBundle(img))); // 10 ["image/svg+xml", "text/plain"]
 * ```
 */
export class SvgImage {
  /** The SVG document. */
  readonly svg: string;
  /** Width in pixels from the root element (NaN when it has none). */
  readonly width: number;
  /** Height in pixels from the root element (NaN when it has none). */
  readonly height: number;
  /** Title of the picture (from its `<title>` element), or "". */
  readonly title: string;

  /** Wrap SVG text; it must be one `<svg ...>...</svg>` element. */
  constructor(svg: string) {
    if (typeof svg !== "string" || !/^\s*(<\?xml[^>]*\?>\s*)?<svg[\s>]/.test(svg)) {
      throw new TypeError("Cannot make an SvgImage: the text must start with an <svg> element");
    }
    if (!/<\/svg>\s*$/.test(svg)) {
      throw new TypeError("Cannot make an SvgImage: the text must end with </svg>");
    }
    this.svg = svg;
    const root = /<svg[^>]*>/.exec(svg)![0];
    const attr = (name: string) => Number(new RegExp(`\\s${name}="([\\d.]+)"`).exec(root)?.[1]);
    this.width = attr("width");
    this.height = attr("height");
    this.title = unescape(/<title>([^<]*)<\/title>/.exec(svg)?.[1] ?? "");
  }

  /**
   * Write the SVG to a file (needs `--allow-write`); see {@link plotToFile}.
   *
   * @example
   * ```ts
   * import { lineChart } from "../../mod.ts";
   * const chart = lineChart({ y: [3, 2, 1] });
   * // await chart.save("loss.svg"); // writes the file (needs --allow-write)
   * await chart.save("loss.png").catch((e) => console.log(e.name)); // TypeError: only .svg
   * ```
   */
  save(path: string): Promise<void> {
    return plotToFile(this, path);
  }

  /** The SVG text. */
  toString(): string {
    return this.svg;
  }

  /**
   * The Jupyter display protocol: `image/svg+xml`, and a line of `text/plain`.
   *
   * @example
   * ```ts
   * import { lineChart, toMimeBundle } from "../../mod.ts";
   * const bundle = toMimeBundle(lineChart({ y: [1, 2] })); // calls this method, as the kernel does
   * console.log(bundle["image/svg+xml"].startsWith("<svg")); // true
   * ```
   */
  [Symbol.for("Jupyter.display")](): MimeBundle {
    const size = `${this.width}x${this.height}`;
    return {
      "image/svg+xml": this.svg,
      "text/plain": `SvgImage ${size}${this.title ? `: ${this.title}` : ""}`,
    };
  }
}

/**
 * Write a plot (an {@link SvgImage} or SVG text) to `path`, which must end in
 * `.svg`. Needs `--allow-write`. For scripts: `--plot out.svg`.
 *
 * @example
 * ```ts
 * import { lineChart, plotToFile } from "../../mod.ts";
 * const chart = lineChart({ name: "loss", y: [1, 0.5, 0.25] });
 * // await plotToFile(chart, "loss.svg"); // writes the file (needs --allow-write)
 * const err = await plotToFile(chart, "loss.png").catch((e) => e);
 * console.log(err.message); // Cannot write a plot to "loss.png": only SVG is written, ...
 * ```
 */
export async function plotToFile(plot: SvgImage | string, path: string): Promise<void> {
  const image = typeof plot === "string" ? new SvgImage(plot) : plot;
  if (!(image instanceof SvgImage)) {
    throw new TypeError("Cannot write a plot: expected an SvgImage or SVG text");
  }
  if (typeof path !== "string" || !/\.svg$/i.test(path)) {
    throw new TypeError(
      `Cannot write a plot to ${JSON.stringify(path)}: only SVG is written, use a .svg file name`,
    );
  }
  await Deno.writeTextFile(path, image.svg.endsWith("\n") ? image.svg : `${image.svg}\n`);
}

function unescape(text: string): string {
  return text.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_, e: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[e]!,
  );
}

/** Escape text for SVG content and attributes. */
export const esc: (text: string) => string = escapeHtml;

/** A coordinate with at most 2 decimals. */
export function fmt(x: number): string {
  return String(Math.round(x * 100) / 100);
}

/** One element; attribute values are escaped, numbers rounded, undefined ones left out. */
export function el(
  tag: string,
  attrs: Record<string, string | number | undefined>,
  content?: string,
): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === "number" ? fmt(v) : esc(v!)}"`)
    .join("");
  return content === undefined ? `<${tag}${a}/>` : `<${tag}${a}>${content}</${tag}>`;
}

/** The root element around `body`, with a white background and a `<title>`. */
export function svgDoc(width: number, height: number, title: string, body: string): SvgImage {
  return new SvgImage(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">` +
      el("title", {}, esc(title)) +
      el("rect", { width, height, fill: "white" }) + body + "</svg>",
  );
}
