/**
 * Document 000: backpropagation through the SVD of a 9000 x 3 matrix, step by step.
 *
 *   deno run scripts/svd_backprop.ts                # probes of the 9000 x 8997 complement
 *   deno run scripts/svd_backprop.ts --exact        # forms the 9000 x 9000 products (minutes)
 *
 * @module
 */
import { parseArgs } from "node:util";
import { formatChecks, spectrumChart, svdBackpropExperiment, useKernel } from "../mod.ts";

const HELP = `Usage: deno run scripts/svd_backprop.ts [options]
  --rows N        rows of the data matrix (default 9000)
  --cols N        columns (default 3)
  --seed N        seed (default 0)
  --probes N      random probes of the orthogonal complement (default 4)
  --exact         form U_perp and the m x m products and report their time
  --kernel NAME   auto (default: wasm where available, else ts), ts, wasm or webgpu
  --json          print a JSON result on stdout
  --plot FILE     write the singular value spectrum to FILE (.svg; needs --allow-write)
  --help`;

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "9000" },
    cols: { type: "string", default: "3" },
    seed: { type: "string", default: "0" },
    probes: { type: "string", default: "4" },
    exact: { type: "boolean", default: false },
    kernel: { type: "string", default: "auto" },
    json: { type: "boolean", default: false },
    plot: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(HELP);
  Deno.exit(0);
}
const int = (s: string, name: string) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got ${s}`);
    Deno.exit(2);
  }
  return n;
};
if (values.plot !== undefined && !/\.svg$/i.test(values.plot)) {
  console.error(`--plot must name an .svg file, got ${values.plot}`);
  Deno.exit(2);
}
await useKernel(values.kernel);
let r;
try {
  r = svdBackpropExperiment({
    rows: int(values.rows, "rows"),
    cols: int(values.cols, "cols"),
    seed: int(values.seed, "seed"),
    probes: int(values.probes, "probes"),
    exact: values.exact,
    onProgress: (m) => console.error(`.. ${m}`),
  });
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  Deno.exit(2);
}
if (values.json) {
  console.log(JSON.stringify(r));
} else {
  console.log(
    `Data matrix A: ${r.shape[0]}x${r.shape[1]}, singular values ${
      r.singularValues.map((x) => x.toFixed(4)).join(", ")
    }`,
  );
  console.log(formatChecks(r.checks));
  console.log(
    "timings (ms):",
    Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", "),
  );
}
if (values.plot !== undefined) {
  const chart = spectrumChart(r.singularValues, {
    title: `Singular values of the ${r.shape[0]}x${r.shape[1]} data matrix (seed ${values.seed})`,
    yLabel: "singular value",
  });
  try {
    await chart.save(values.plot);
    console.error(`.. wrote ${values.plot}`);
  } catch (e) {
    console.error(`Cannot write --plot ${values.plot}: ${(e as Error).message}`);
    Deno.exit(2);
  }
}
Deno.exit(r.ok ? 0 : 1);
