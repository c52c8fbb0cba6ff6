/**
 * Autodiff costs, each against a hand-written baseline in the same run:
 * - grad of f = ||max(XW, 0) - Y||_F^2 (X 1000x500, W 500x100) vs the hand formula;
 * - one XOR epoch in the Jacobian forms (dense, structured) vs the shape-matching form;
 * - jacobian of a 100x100 -> 100x100 map (X -> tanh(A X)).
 *
 *   deno bench bench/autodiff_bench.ts
 *   deno run bench/autodiff_bench.ts     # a table of medians and ratios
 */
import {
  grad,
  jacobian,
  matmul,
  type Matrix,
  Random,
  reluLoss,
  reluLossHandGrads,
  tanh,
  xorSteps,
} from "../mod.ts";

const rng = new Random(0);
const X = rng.normal(1000, 500), W = rng.normal(500, 100), Y = rng.normal(1000, 100);
const handGrad = () => reluLossHandGrads(X, W, Y);
const autoGrad = () => grad(reluLoss, [0, 1, 2])(X, W, Y);

const steps = xorSteps(1);
let w0: [Matrix, Matrix] = [rng.normal(3, 4), rng.normal(4, 1)];
const xor = (k: keyof typeof steps) => () => {
  w0 = steps[k](w0);
};

const A = rng.normal(100, 100), X100 = rng.normal(100, 100);
const jac = () => jacobian((x: Matrix) => tanh(matmul(A, x)))(X100);

const g1 = "ReLU loss gradients dX, dW, dY, X 1000x500, W 500x100";
Deno.bench({ name: "hand formula", group: g1, baseline: true, fn: () => void handGrad() });
Deno.bench({ name: "grad (autodiff)", group: g1, fn: () => void autoGrad() });
const g2 = "XOR epoch, 4 samples, 4 hidden";
Deno.bench({ name: "shape-matching form", group: g2, baseline: true, fn: xor("shape") });
Deno.bench({ name: "Jacobian form, structured operators", group: g2, fn: xor("structured") });
Deno.bench({ name: "Jacobian form, dense kron/diag", group: g2, fn: xor("dense") });
Deno.bench({ name: "autodiff", group: g2, fn: xor("autodiff") });
Deno.bench({
  name: "jacobian of X -> tanh(A X), 100x100 -> 100x100 (10000x10000)",
  fn: () => void jac(),
});

if (import.meta.main) {
  const median = (fn: () => unknown, reps: number) => {
    fn();
    const t: number[] = [];
    for (let r = 0; r < 7; r++) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) fn();
      t.push((performance.now() - t0) / reps);
    }
    return t.sort((a, b) => a - b)[3];
  };
  const h = median(handGrad, 3), a = median(autoGrad, 3);
  console.log(
    `${g1}: hand ${h.toFixed(2)} ms, grad ${a.toFixed(2)} ms, ratio ${(a / h).toFixed(2)}`,
  );
  const s = median(xor("shape"), 200);
  for (const k of ["structured", "dense", "autodiff"] as const) {
    const t = median(xor(k), 200);
    console.log(
      `${g2}: ${k} ${(t * 1000).toFixed(1)} us vs shape ${(s * 1000).toFixed(1)} us, ratio ${
        (t / s).toFixed(2)
      }`,
    );
  }
  const tj = median(jac, 1);
  console.log(`jacobian 100x100 -> 100x100 (10000x10000 result): ${tj.toFixed(0)} ms`);
}
