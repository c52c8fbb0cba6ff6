import assert from "node:assert/strict";
import {
  escapeHtml,
  type JupyterBroadcaster,
  jupyterKernel,
  loadKernel,
  Matrix,
  matrixMimeBundle,
  type MimeBundle,
  progressDisplay,
  toMimeBundle,
} from "../mod.ts";

const DISPLAY = Symbol.for("Jupyter.display");
/** What Deno's kernel calls: the object's Jupyter display method. */
const show = (x: object): MimeBundle => (x as Record<symbol, () => MimeBundle>)[DISPLAY]();
const count = (s: string, re: RegExp) => s.match(re)?.length ?? 0;

Deno.test("display: a small matrix has plain text, an HTML table and LaTeX", () => {
  const A = Matrix.from([[1, -2.5, 3], [4, 5, 1e-7]]);
  const b = show(A);
  assert.deepEqual(Object.keys(b), ["text/plain", "text/html", "text/latex"]);
  assert.equal(b["text/plain"], A.toString());
  assert.match(b["text/html"], /^<table[^>]*><caption>Matrix 2x3 float64<\/caption>/);
  assert.equal(count(b["text/html"], /<tr>/g), 2);
  assert.equal(count(b["text/html"], /<td>/g), 6);
  assert.ok(b["text/html"].includes("<td>-2.5</td>"));
  assert.equal(
    b["text/latex"],
    "$$\\begin{bmatrix} 1 & -2.5 & 3 \\\\ 4 & 5 & 1 \\times 10^{-7} \\end{bmatrix}$$",
  );
  assert.deepEqual(b, matrixMimeBundle(A, A.toTypedArray()));
});

Deno.test("display: float32 is shown as such", () => {
  const b = show(Matrix.ones(2, 2, { dtype: "float32" }));
  assert.ok(b["text/html"].includes("<caption>Matrix 2x2 float32</caption>"));
  assert.ok(b["text/plain"].startsWith("Matrix 2x2 float32"));
});

Deno.test("display: a big matrix's table shows its corners and says how much it shows", () => {
  const data = Array.from({ length: 100 * 50 }, (_, i) => i);
  const A = Matrix.fromArray(data, 100, 50);
  const b = show(A);
  const html = b["text/html"];
  assert.ok(
    html.includes("<caption>Matrix 100x50 float64 (showing 20 of 100 rows, 12 of 50 columns)"),
  );
  assert.equal(count(html, /<tr>/g), 21); // 20 rows and the ellipsis row
  assert.equal(count(html, /<td>/g), 21 * 13);
  assert.equal(count(html, /⋮/g), 12);
  assert.equal(count(html, /⋯/g), 20);
  assert.equal(count(html, /⋱/g), 1);
  assert.ok(html.includes("<td>0</td>") && html.includes("<td>4999</td>")); // both corners
  assert.ok(!html.includes("<td>2525</td>")); // the middle is left out
  assert.equal(b["text/latex"], undefined);
  assert.ok(html.length < 10_000, `${html.length} characters`);
  // Options widen the table.
  const wide = matrixMimeBundle(A, A.toTypedArray(), { maxRows: 200, maxCols: 50 })["text/html"];
  assert.equal(count(wide, /<td>/g), 5000);
});

Deno.test("display: LaTeX only for small, non-empty matrices", () => {
  const has = (r: number, c: number, latexMax?: number) =>
    "text/latex" in matrixMimeBundle(Matrix.zeros(r, c), new Float64Array(r * c), { latexMax });
  assert.ok(has(10, 10));
  assert.ok(has(1, 1));
  assert.ok(!has(11, 2));
  assert.ok(!has(2, 11));
  assert.ok(!has(0, 3));
  assert.ok(!has(4, 4, 3));
  const b = show(Matrix.zeros(0, 3));
  assert.ok(b["text/html"].includes("<caption>Matrix 0x3 float64</caption>"));
  assert.equal(b["text/plain"], "Matrix 0x3 float64\n[]");
});

Deno.test("display: special values in LaTeX and HTML", () => {
  const b = show(Matrix.from([[NaN, Infinity, -Infinity, -0]]));
  assert.equal(
    b["text/latex"],
    "$$\\begin{bmatrix} \\text{NaN} & \\infty & -\\infty & -0 \\end{bmatrix}$$",
  );
  assert.ok(b["text/html"].includes("<td>NaN</td><td>Infinity</td><td>-Infinity</td>"));
});

Deno.test("display: device data says to await read(), and text is escaped", () => {
  const header = { rows: 3, cols: 4, dtype: "float32", kernel: { name: `<gpu & "co">` } } as const;
  const b = matrixMimeBundle(header, null);
  assert.deepEqual(Object.keys(b), ["text/plain", "text/html"]);
  assert.equal(
    b["text/plain"],
    `Matrix 3x4 float32 on <gpu & "co"> (await m.read() to see the values)`,
  );
  assert.ok(b["text/html"].includes("on &lt;gpu &amp; &quot;co&quot;&gt;"));
  assert.ok(b["text/html"].includes("<code>await m.read()</code>"));
  assert.ok(!b["text/html"].includes("<gpu"));
  assert.equal(escapeHtml(`<a href='x'>&</a>`), "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
});

const gpu = "gpu" in navigator && (await navigator.gpu.requestAdapter()) !== null;

Deno.test({
  name: "display: a matrix on the webgpu device says to await read()",
  ignore: !gpu, // Mesa's llvmpipe serves as the adapter on machines without a GPU
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const m = Matrix.from([[1, 2], [3, 4]], {
      kernel: await loadKernel("webgpu"),
      dtype: "float32",
    });
    const b = show(m);
    assert.deepEqual(Object.keys(b), ["text/plain", "text/html"]);
    assert.equal(
      b["text/plain"],
      "Matrix 2x2 float32 on webgpu (await m.read() to see the values)",
    );
    assert.equal(b["text/plain"], m.toString());
    assert.deepEqual(await m.read(), [[1, 2], [3, 4]]);
    m.dispose();
  },
});

Deno.test("display: bad input is rejected clearly", () => {
  const A = Matrix.eye(2);
  assert.throws(() => matrixMimeBundle(A, new Float64Array(3)), {
    name: "TypeError",
    message: "Cannot display a 2x2 matrix: data has 3 elements, expected 4",
  });
  assert.throws(() => matrixMimeBundle(A, A.toTypedArray(), { maxRows: 1 }), RangeError);
  assert.throws(() => matrixMimeBundle(A, A.toTypedArray(), { latexMax: 2.5 }), RangeError);
});

Deno.test("toMimeBundle: strings, displayables and bundles", () => {
  assert.deepEqual(toMimeBundle("a < b"), {
    "text/plain": "a < b",
    "text/html": "<pre>a &lt; b</pre>",
  });
  assert.deepEqual(toMimeBundle(Matrix.eye(1)), show(Matrix.eye(1)));
  assert.deepEqual(toMimeBundle({ "text/markdown": "**x**" }), { "text/markdown": "**x**" });
  assert.throws(() => toMimeBundle({ "text/plain": 3 }), TypeError);
  assert.throws(() => toMimeBundle({ [DISPLAY]: () => 7 }), TypeError);
});

Deno.test("jupyterKernel: null outside the kernel, without throwing", () => {
  assert.equal(jupyterKernel(), null);
});

function fakeKernel(fail = false) {
  const sent: { type: string; content: Record<string, unknown> }[] = [];
  const kernel: JupyterBroadcaster = {
    broadcast(type, content) {
      sent.push({ type, content });
      return fail ? Promise.reject(new Error("iopub closed")) : Promise.resolve();
    },
  };
  return { sent, kernel };
}

Deno.test("progressDisplay: display_data once, then update_display_data with the same id", async () => {
  const { sent, kernel } = fakeKernel();
  const p = progressDisplay({ jupyter: kernel, minIntervalMs: 0 });
  assert.match(p.displayId!, /^matcalc-progress-/);
  for (let i = 1; i <= 3; i++) p.update(`step ${i}/3`, i / 3);
  await p.done("finished");
  assert.deepEqual(sent.map((m) => m.type), [
    "display_data",
    "update_display_data",
    "update_display_data",
    "update_display_data",
  ]);
  for (const m of sent) {
    assert.deepEqual(m.content.transient, { display_id: p.displayId });
    assert.deepEqual(m.content.metadata, {});
  }
  const first = sent[0].content.data as Record<string, string>;
  assert.equal(first["text/plain"], "[#######.............] step 1/3");
  assert.ok(first["text/html"].includes('<progress value="0.3333333333333333" max="1"'));
  assert.equal((sent[3].content.data as Record<string, string>)["text/plain"], "finished");
  assert.throws(() => p.update("late"), /after done/);
});

Deno.test("progressDisplay: updates are throttled and done shows the latest", async () => {
  const { sent, kernel } = fakeKernel();
  const p = progressDisplay({ jupyter: kernel, minIntervalMs: 60_000 });
  for (let i = 1; i <= 100; i++) p.update(`step ${i}`);
  await p.done();
  assert.equal(sent.length, 2);
  assert.equal((sent[0].content.data as Record<string, string>)["text/plain"], "step 1");
  assert.equal((sent[1].content.data as Record<string, string>)["text/plain"], "step 100");
});

Deno.test("progressDisplay: rich content, failures surface at done, bad input", async () => {
  const { sent, kernel } = fakeKernel(true);
  const p = progressDisplay({ jupyter: kernel, minIntervalMs: 0 });
  p.update(Matrix.eye(2));
  assert.ok("text/latex" in (sent[0].content.data as Record<string, string>));
  await assert.rejects(() => p.done(), /iopub closed/);
  const q = progressDisplay({ jupyter: null, fallback: "none" });
  assert.equal(q.displayId, null);
  assert.throws(() => q.update("x", -0.1), RangeError);
  q.update("quiet");
  await q.done();
  assert.throws(() => progressDisplay({ minIntervalMs: -1 }), RangeError);
  // @ts-expect-error: not a fallback
  assert.throws(() => progressDisplay({ fallback: "stdout" }), TypeError);
});
