/**
 * Document 001: XOR trained with the Jacobian (vec/Kronecker/Diag) form, dense and
 * structured, the shape-matching form, and autodiff; all four stay equal.
 *
 *   deno run scripts/xor.ts --epochs 3000 --seed 0
 *
 * @module
 */
import { parseArgs } from "node:util";
import { formatChecks, useKernel, xorExperiment } from "../mod.ts";

const HELP = `Usage: deno run scripts/xor.ts [options]
  --epochs N      gradient-descent epochs (default 3000)
  --hidden N      hidden units (default 4)
  --lr X          learning rate (default 1, as in the document)
  --seed N        seed of the initial weights (default 0)
  --every N       print the weight difference every N epochs (default epochs/10)
  --kernel NAME   auto (default: wasm where available, else ts), ts, wasm or webgpu
  --json          print a JSON result on stdout
  --help`;

const { values } = parseArgs({
  options: {
    epochs: { type: "string", default: "3000" },
    hidden: { type: "string", default: "4" },
    lr: { type: "string", default: "1" },
    seed: { type: "string", default: "0" },
    every: { type: "string" },
    kernel: { type: "string", default: "auto" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(HELP);
  Deno.exit(0);
}
const num = (s: string, name: string, integer: boolean) => {
  const n = Number(s);
  if (!Number.isFinite(n) || (integer && (!Number.isInteger(n) || n < 0))) {
    console.error(`--${name} must be a ${integer ? "non-negative integer" : "number"}, got ${s}`);
    Deno.exit(2);
  }
  return n;
};
const epochs = num(values.epochs, "epochs", true);
const every = values.every
  ? num(values.every, "every", true)
  : Math.max(1, Math.floor(epochs / 10));
await useKernel(values.kernel);
const r = xorExperiment({
  epochs,
  hidden: num(values.hidden, "hidden", true),
  lr: num(values.lr, "lr", false),
  seed: num(values.seed, "seed", true),
  onEpoch: (e, d) => {
    if (!values.json && (e % every === 0 || e === 1)) {
      console.log(
        `epoch ${String(e).padStart(6)}: max weight difference between forms ${d.toExponential(2)}`,
      );
    }
  },
});
if (values.json) {
  console.log(
    JSON.stringify({
      ok: r.ok,
      finalLoss: r.finalLoss,
      predictions: r.predictions,
      msPerEpoch: r.msPerEpoch,
      checks: r.checks,
    }),
  );
} else {
  console.log(
    "\nfinal loss:",
    Object.entries(r.finalLoss).map(([k, v]) => `${k} ${v.toExponential(6)}`).join(", "),
  );
  console.log("predictions for 00 01 10 11:", r.predictions.map((p) => p.toFixed(4)).join(" "));
  console.log(
    "ms per epoch:",
    Object.entries(r.msPerEpoch).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(", "),
  );
  console.log(`\n${formatChecks(r.checks)}`);
}
Deno.exit(r.ok ? 0 : 1);
