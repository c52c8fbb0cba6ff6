/**
 * A short tour, and the main job of `deno task reproduce`: builds matrices, runs
 * ops and autodiff, then the quick versions of the documents' experiments. Exits
 * non-zero if any check fails.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  type Check,
  formatChecks,
  grad,
  gradcheck,
  gradcheckCheck,
  matmul,
  Matrix,
  mnistMlpExperiment,
  Random,
  reluGradDocument,
  reluGradRandom,
  sum,
  svdBackpropExperiment,
  tanh,
  useKernel,
  xorExperiment,
} from "../mod.ts";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "0" },
    kernel: { type: "string", default: "auto" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(`Usage: deno run scripts/tour.ts [--seed N] [--kernel auto|ts|wasm|webgpu] [--json]`);
  Deno.exit(0);
}
await useKernel(values.kernel);
const seed = Number(values.seed);
const log = (...a: unknown[]) => values.json || console.log(...a);
const checks: Check[] = [];

log("== Matrices");
const A = Matrix.from([[1, 2, 3], [4, 5, 6]]);
log(A.toString());
const rng = new Random(seed);
const W = rng.normal(3, 2);
log(`A W =\n${matmul(A, W)}`);

log(
  "\n== Autodiff: the gradient of sum(tanh(A W)) with respect to W, checked by finite differences",
);
const f = (w: Matrix) => sum(tanh(matmul(A, w)));
log(grad(f)(W).toString());
const report = gradcheck(f, [W]);
checks.push(gradcheckCheck("gradcheck of sum(tanh(A W))", report));

log("\n== Document 002: f = ||max(XW, 0) - Y||_F^2 on the document's numbers");
const doc = reluGradDocument();
log(`f = ${doc.f.toFixed(4)} (document: 99.9048)`);
checks.push(...doc.checks);
checks.push(...reluGradRandom({ seed, rows: 30, inner: 6, cols: 5 }).checks);

log("\n== Document 001: XOR by four forms of backprop (1000 epochs)");
const xor = xorExperiment({ seed, epochs: 1000 });
log(`predictions ${xor.predictions.map((p) => p.toFixed(3)).join(" ")}`);
checks.push(...xor.checks);

log("\n== Document 000: backprop through the SVD of a 9000x3 matrix");
const svdRun = svdBackpropExperiment({ seed });
log(`singular values ${svdRun.singularValues.map((x) => x.toFixed(4)).join(", ")}`);
checks.push(...svdRun.checks);

log("\n== Document 003: 784-500-10 ReLU/softmax MLP on MNIST (quick: 4000 images, 2 epochs)");
const mnist = await mnistMlpExperiment({
  quick: true,
  seed,
  onEpoch: (e) =>
    log(
      `epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(4)}, test accuracy ${
        (100 * e.testAccuracy!).toFixed(2)
      }%`,
    ),
});
log(`${mnist.msPerStep.toFixed(1)} ms per step (batch 128, float64)`);
checks.push(...mnist.checks);

const ok = checks.every((c) => c.ok);
if (values.json) console.log(JSON.stringify({ ok, checks }));
else {console.log(
    `\n${formatChecks(checks)}\n\n${ok ? "All checks passed." : "Some checks FAILED."}`,
  );}
Deno.exit(ok ? 0 : 1);
