import assert from "node:assert/strict";
import {
  heatmap,
  lineChart,
  Matrix,
  plotToFile,
  Random,
  spectrumChart,
  svd,
  SvgImage,
  toMimeBundle,
} from "../mod.ts";

/**
 * A small XML well-formedness check: tags nest and close, attributes are quoted,
 * and text holds no raw `<` or stray `&`. Returns the element names in order.
 */
function wellFormed(svg: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null, end = 0;
  while ((m = token.exec(svg)) !== null) {
    end = token.lastIndex;
    const [, close, name, , selfClose, text, bad] = m;
    if (bad) throw new Error(`malformed tag at ${m.index}: ${svg.slice(m.index, m.index + 40)}`);
    if (text !== undefined) {
      if (/&(?!(amp|lt|gt|quot|#\d+);)/.test(text)) throw new Error(`stray & in ${text}`);
      if (stack.length === 0 && text.trim()) throw new Error(`text outside the root: ${text}`);
      continue;
    }
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else {
      if (stack.length === 0 && names.length > 0) throw new Error("more than one root element");
      names.push(name);
      if (!selfClose) stack.push(name);
    }
  }
  assert.equal(end, svg.length, "the whole text was read");
  assert.deepEqual(stack, [], "every element is closed");
  assert.equal(names[0], "svg");
  return names;
}

const countOf = (names: string[], name: string) => names.filter((n) => n === name).length;
const texts = (svg: string) =>
  [...svg.matchAll(/<text[^>]*>(.*?)<\/text>/g)].map((m) => m[1].replace(/<[^>]+>/g, ""));

Deno.test("lineChart: one polyline per series, legend, title and axis labels", () => {
  const chart = lineChart(
    [{ name: "train", y: [2.3, 1.1, 0.7, 0.5] }, { name: "test", y: [2.2, 1.3, 0.9, 0.8] }],
    { title: "Loss <per> epoch", xLabel: "epoch", yLabel: "cross-entropy" },
  );
  assert.ok(chart instanceof SvgImage);
  const names = wellFormed(chart.svg);
  assert.equal(countOf(names, "polyline"), 2);
  assert.equal(countOf(names, "circle"), 8); // markers on short series
  const t = texts(chart.svg);
  for (const s of ["Loss &lt;per&gt; epoch", "epoch", "cross-entropy", "train", "test"]) {
    assert.ok(t.includes(s), `${s} in ${t}`);
  }
  assert.equal(chart.title, "Loss <per> epoch");
  assert.equal(chart.width, 640);
  assert.equal(chart.height, 400);
  assert.match(chart.svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="640" height="400"/);
  // Same input, same picture.
  assert.equal(
    chart.svg,
    lineChart(
      [{ name: "train", y: [2.3, 1.1, 0.7, 0.5] }, { name: "test", y: [2.2, 1.3, 0.9, 0.8] }],
      { title: "Loss <per> epoch", xLabel: "epoch", yLabel: "cross-entropy" },
    ).svg,
  );
});

Deno.test("lineChart: x values, log y ticks at decades, and no legend for unnamed series", () => {
  const y = Array.from({ length: 50 }, (_, i) => 10 ** (-i / 10));
  const chart = lineChart({ y, x: y.map((_, i) => 2 * i) }, { logY: true });
  const names = wellFormed(chart.svg);
  assert.equal(countOf(names, "polyline"), 1);
  assert.equal(countOf(names, "circle"), 0); // more than 40 points: no markers
  assert.ok(!chart.svg.includes('class="legend"'));
  const t = texts(chart.svg);
  for (const s of ["1", "0.1", "0.01", "10\u22123", "10\u22124", "10\u22125"]) {
    assert.ok(t.includes(s), `tick ${s} in ${t}`);
  }
  assert.ok(t.includes("0") && t.includes("80"), `${t}`); // x ticks
});

Deno.test("lineChart: markers on short series only", () => {
  const long = Array.from({ length: 50 }, (_, i) => i + 1);
  const names = wellFormed(lineChart([{ y: long }, { y: [1, 2, 3], x: [10, 20, 30] }]).svg);
  assert.equal(countOf(names, "circle"), 3);
  assert.equal(countOf(wellFormed(lineChart({ y: long }, { markers: true }).svg), "circle"), 50);
  assert.equal(countOf(wellFormed(lineChart({ y: [1, 2] }, { markers: false }).svg), "circle"), 0);
});

Deno.test("lineChart: long series are thinned to a few points per pixel column", () => {
  const rng = new Random(0);
  const y = Array.from({ length: 100_000 }, () => 1 + rng.next());
  const chart = lineChart({ y });
  const points = /points="([^"]*)"/.exec(chart.svg)![1].split(" ");
  assert.ok(points.length <= 4 * 560, `${points.length} points`);
  assert.ok(chart.svg.length < 100_000, `${chart.svg.length} characters`);
});

Deno.test("lineChart: bad input gets clear errors", () => {
  assert.throws(() => lineChart([]), { name: "RangeError", message: /no series given/ });
  assert.throws(() => lineChart({ name: "loss", y: [] }), {
    name: "RangeError",
    message: 'Cannot draw a line chart: series "loss" y is empty',
  });
  assert.throws(() => lineChart({ name: "loss", y: [1, NaN, 3] }), {
    name: "RangeError",
    message: 'Cannot draw a line chart: series "loss" y[1] is NaN',
  });
  assert.throws(() => lineChart([{ y: [1] }, { y: [1, Infinity] }]), /series 1 y\[1\] is Infinity/);
  assert.throws(() => lineChart({ y: [1, 0, 2] }, { logY: true }), {
    name: "RangeError",
    message: /y\[1\] is 0, and a log scale shows only values > 0 \(use logY: false\)/,
  });
  assert.throws(() => lineChart({ y: [1, 2], x: [1] }), {
    name: "TypeError",
    message: /1 x values and 2 y/,
  });
  assert.throws(() => lineChart({ y: [1, 2], x: [2, 1] }), /ascending/);
  // @ts-expect-error: strings are not numbers
  assert.throws(() => lineChart({ y: [1, "2"] }), {
    name: "TypeError",
    message: /y\[1\] is string/,
  });
  assert.throws(() => lineChart({ y: [1] }, { width: 50 }), RangeError);
  // @ts-expect-error: a series needs y
  assert.throws(() => lineChart([{ x: [1] }]), TypeError);
  // One point and constant series still draw.
  wellFormed(lineChart({ y: [3] }).svg);
  wellFormed(lineChart({ y: [0, 0, 0] }).svg);
  wellFormed(lineChart({ y: [5, 5] }, { logY: true }).svg);
});

Deno.test("spectrumChart: stems or bars for a vector of singular values", () => {
  const { s } = svd(new Random(1).normal(40, 6));
  const stems = wellFormed(spectrumChart(s, { title: "spectrum" }).svg);
  assert.equal(countOf(stems, "circle"), 6);
  const marks = /<g class="marks"[^>]*>(.*?)<\/g>/.exec(spectrumChart(s).svg)![1];
  assert.equal(marks.match(/<line/g)!.length, 6);
  const t = texts(spectrumChart(s).svg);
  assert.ok(t.includes("index i") && t.includes("value (log scale)"), `${t}`);
  const bars = spectrumChart([3, 2, 0, 1], { style: "bar", logY: false, yLabel: "σ" });
  const names = wellFormed(bars.svg);
  assert.equal(countOf(names, "rect"), 1 + 4); // background and bars
  assert.ok(texts(bars.svg).includes("σ"));
  assert.deepEqual(
    spectrumChart(Float64Array.from(s.toTypedArray())).svg,
    spectrumChart(s).svg,
  );
});

Deno.test("spectrumChart: bad input gets clear errors", () => {
  assert.throws(() => spectrumChart(Matrix.eye(3)), {
    name: "TypeError",
    message: "Cannot draw a spectrum of a 3x3 matrix: pass a vector, such as svd(A).s",
  });
  assert.throws(() => spectrumChart([2, 1, 0]), /values\[2\] is 0, and a log scale/);
  assert.throws(() => spectrumChart([]), { name: "RangeError", message: /values is empty/ });
  assert.throws(() => spectrumChart([1, NaN]), /values\[1\] is NaN/);
  // @ts-expect-error: not a style
  assert.throws(() => spectrumChart([1], { style: "pie" }), TypeError);
});

Deno.test("heatmap: one cell per entry, a colour bar, and a diverging colormap centred on 0", () => {
  const A = Matrix.from([[-2, -1, 0, 1], [2, 0.5, -0.5, 1.5], [0.25, -0.25, 0.75, -1.5]]);
  const chart = heatmap(A, { title: "A & B" });
  const names = wellFormed(chart.svg);
  const cells = /<g class="cells"[^>]*>(.*?)<\/g>/.exec(chart.svg)![1];
  assert.equal(cells.match(/<rect/g)!.length, 12);
  assert.ok(cells.includes('fill="#053061"')); // -2: the blue end
  assert.ok(cells.includes('fill="#f7f7f7"')); // 0: white
  assert.ok(cells.includes('fill="#67001f"')); // 2: the red end
  assert.equal(countOf(names, "linearGradient"), 1);
  assert.equal(countOf(names, "stop"), 11);
  const t = texts(chart.svg);
  for (const s of ["A &amp; B", "row i", "column j", "0", "2", "3", "-2", "2.0"]) {
    assert.ok(t.includes(s) || t.includes(s.replace(".0", "")), `${s} in ${t}`);
  }
  // Equal neighbours merge into one rectangle; nested arrays work too.
  const flat = heatmap([[1, 1, 1], [1, 1, 1]], { colormap: "sequential" });
  assert.equal(/<g class="cells"[^>]*>(.*?)<\/g>/.exec(flat.svg)![1].match(/<rect/g)!.length, 2);
});

Deno.test("heatmap: big matrices become block means", () => {
  const W = new Random(0).normal(300, 200);
  const chart = heatmap(W, { title: "W1" });
  wellFormed(chart.svg);
  assert.equal(chart.title, "W1 (300x200, block means of 5x4)");
  const cells = /<g class="cells"[^>]*>(.*?)<\/g>/.exec(chart.svg)![1];
  assert.ok(cells.match(/<rect/g)!.length <= 60 * 50);
  assert.ok(heatmap(W, { maxCells: 10 }).svg.length < chart.svg.length);
});

Deno.test("heatmap: bad input gets clear errors", () => {
  assert.throws(() => heatmap(Matrix.zeros(0, 3)), { name: "RangeError", message: /is 0x3/ });
  assert.throws(() => heatmap([[1, 2], [3]]), {
    name: "TypeError",
    message: /row 1 is not an array of 2/,
  });
  assert.throws(() => heatmap([[1, NaN]]), {
    name: "RangeError",
    message: "Cannot draw a heat map: entry (0, 1) is NaN, not a finite number",
  });
  assert.throws(() => heatmap([[1]], { range: [1, 0] }), /low > high/);
  assert.throws(() => heatmap([[1]], { maxCells: 0 }), RangeError);
  // @ts-expect-error: not a colormap
  assert.throws(() => heatmap([[1]], { colormap: "jet" }), TypeError);
});

Deno.test("SvgImage: display bundle, validation, and writing to a file", async () => {
  const chart = lineChart({ y: [1, 2] }, { title: "t" });
  const bundle = toMimeBundle(chart);
  assert.equal(bundle["image/svg+xml"], chart.svg);
  assert.equal(bundle["text/plain"], "SvgImage 640x400: t");
  assert.equal(String(chart), chart.svg);
  assert.throws(() => new SvgImage("<div></div>"), TypeError);
  assert.throws(() => new SvgImage("<svg>"), /end with <\/svg>/);
  const dir = await Deno.makeTempDir();
  try {
    await plotToFile(chart, `${dir}/a.svg`);
    assert.equal(await Deno.readTextFile(`${dir}/a.svg`), `${chart.svg}\n`);
    await chart.save(`${dir}/b.SVG`);
    await plotToFile(chart.svg, `${dir}/c.svg`);
    await assert.rejects(() => plotToFile(chart, `${dir}/a.png`), {
      name: "TypeError",
      message: /only SVG is written, use a .svg file name/,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
