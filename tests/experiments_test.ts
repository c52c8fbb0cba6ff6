import assert from "node:assert/strict";
import { reluGradDocument, reluGradRandom, svdBackpropExperiment, xorExperiment } from "../mod.ts";

Deno.test("document 002: f and gradients on the document's numbers", () => {
  const r = reluGradDocument();
  // The document prints f = 99.9048 from unrounded inputs; ours uses the printed 4-decimal inputs.
  assert.ok(Math.abs(r.f - 99.9048) < 2e-2, `f = ${r.f}`);
  for (const c of r.checks) assert.ok(c.ok, `${c.name}: ${c.maxAbs}`);
  assert.equal(r.checks.length, 7);
  // Spot values of the printed PyTorch gradients, to 4 decimals plus input rounding.
  assert.ok(Math.abs(r.auto.dW.get(0, 0) - 18.298) < 5e-3);
  assert.ok(Math.abs(r.auto.dX.get(1, 3) - -16.3639) < 5e-3);
  assert.ok(Math.abs(r.auto.dY.get(1, 0) - -10.589) < 5e-3);
});

Deno.test("document 002: random cases pass gradcheck and match the hand formulas", () => {
  for (const seed of [1, 2]) {
    const r = reluGradRandom({ seed, rows: 12, inner: 5, cols: 3 });
    assert.ok(r.ok, JSON.stringify(r.checks));
  }
});

Deno.test("document 001: the four backprop forms agree to 1e-12 every epoch and solve XOR", () => {
  const r = xorExperiment({ seed: 0, epochs: 1500 });
  assert.equal(r.maxDiffPerEpoch.length, 1500);
  assert.ok(Math.max(...r.maxDiffPerEpoch) <= 1e-12);
  assert.deepEqual(r.predictions.map((p) => Math.round(p)), [0, 1, 1, 0]);
  assert.ok(r.finalLoss.autodiff < 0.02, `loss ${r.finalLoss.autodiff}`);
  assert.ok(r.ok);
});

Deno.test("document 000: SVD of a 9000x3 matrix, complement, skew symmetry, gradient three ways", () => {
  const r = svdBackpropExperiment({ seed: 0 });
  assert.deepEqual(r.shape, [9000, 3]);
  for (const c of r.checks) assert.ok(c.ok, `${c.name}: ${c.maxAbs} (tol ${c.tol})`);
  assert.ok(r.checks.length >= 14);
  assert.ok(r.checks.some((c) => c.name.includes("Townsend")));
});

Deno.test("document 000 with exact products on a small matrix", () => {
  const r = svdBackpropExperiment({ seed: 1, rows: 120, cols: 4, exact: true });
  assert.ok(r.ok, JSON.stringify(r.checks.filter((c) => !c.ok)));
  assert.ok(r.checks.some((c) => c.name.includes("formed exactly")));
  assert.ok(typeof r.timings.exact === "number");
});
