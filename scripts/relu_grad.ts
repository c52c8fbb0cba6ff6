/**
 * Document 002: gradients of f = ||max(XW, 0) - Y||_F^2 by hand and by autodiff.
 *
 *   deno run scripts/relu_grad.ts                 # the document's numbers
 *   deno run scripts/relu_grad.ts --seed 3 --rows 50 --cols 5 --inner 7
 *
 * @module
 */
import { parseArgs } from "node:util";
import { formatChecks, reluGradDocument, reluGradRandom, useKernel } from "../mod.ts";

const HELP = `Usage: deno run scripts/relu_grad.ts [options]
  f = ||max(XW, 0) - Y||_F^2; compares hand-derived dW, dX, dY with autodiff.
  Without --seed: the document's printed X (10x4), W (4x4), Y (10x4).
  --seed N        a random float64 case instead, also checked by finite differences
  --rows N        rows of X and Y (random case, default 10)
  --inner N       columns of X = rows of W (random case, default 4)
  --cols N        columns of W and Y (random case, default 4)
  --kernel NAME   auto (default: wasm where available, else ts), ts, wasm or webgpu
  --json          print a JSON result on stdout
  --help`;

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    rows: { type: "string" },
    inner: { type: "string" },
    cols: { type: "string" },
    kernel: { type: "string", default: "auto" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(HELP);
  Deno.exit(0);
}
const int = (s: string | undefined, name: string, dflt: number) => {
  if (s === undefined) return dflt;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got ${s}`);
    Deno.exit(2);
  }
  return n;
};
await useKernel(values.kernel);
const random = values.seed !== undefined;
const r = random
  ? reluGradRandom({
    seed: int(values.seed, "seed", 0),
    rows: int(values.rows, "rows", 10),
    inner: int(values.inner, "inner", 4),
    cols: int(values.cols, "cols", 4),
  })
  : reluGradDocument();

if (values.json) {
  console.log(JSON.stringify({ f: r.f, ok: r.ok, checks: r.checks }));
} else {
  console.log(random ? "Random case" : "Document 002's X, W, Y (printed to 4 decimals)");
  console.log(`f = ${r.f.toFixed(6)}${random ? "" : "   (document: 99.9048)"}`);
  for (const k of ["dW", "dX", "dY"] as const) {
    console.log(`\n${k} by hand:\n${r.hand[k]}\n${k} by autodiff:\n${r.auto[k]}`);
  }
  console.log(`\n${formatChecks(r.checks)}`);
}
Deno.exit(r.ok ? 0 : 1);
