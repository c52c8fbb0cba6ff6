/**
 * Regenerates the README's figures in docs/ with the plotting helpers:
 *
 *   deno run --allow-write=docs docs/figures.ts && deno fmt docs/
 *
 * Deterministic: the same SVGs on every machine. (`deno fmt` formats SVG too, and
 * `deno task check` checks it, hence the second command.)
 *
 * @module
 */
import {
  add,
  heatmap,
  jacobian,
  lineChart,
  matmul,
  Matrix,
  Random,
  scale,
  sigmoid,
  spectrumChart,
  square,
  sub,
  sum,
  svd,
  xorSteps,
} from "../mod.ts";

const dir = new URL(".", import.meta.url).pathname;

// Document 001: the XOR network's training loss, learning rate 1, the experiment's start.
const X = Matrix.from([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]]);
const Y = Matrix.from([[0], [1], [1], [0]]);
const rng = new Random(0);
let W: [Matrix, Matrix] = [rng.normal(3, 4), rng.normal(4, 1)];
const step = xorSteps(1).shape;
const losses: number[] = [];
for (let e = 0; e < 3000; e++) {
  W = step(W);
  const Yhat = sigmoid(matmul(sigmoid(matmul(X, W[0])), W[1]));
  losses.push(sum(scale(square(sub(Yhat, Y)), 0.5)).get(0, 0));
}
await lineChart({ name: "L = 1/2 ||Yhat - Y||²", y: losses }, {
  title: "XOR (document 001): training loss, learning rate 1",
  xLabel: "epoch",
  yLabel: "loss",
  logY: true,
}).save(`${dir}xor_loss.svg`);

// A rank-10 300x60 matrix plus noise: the gap after the 10th singular value.
const noisy = new Random(1);
const A = add(
  matmul(noisy.normal(300, 10), noisy.normal(10, 60)),
  scale(noisy.normal(300, 60), 0.01),
);
await spectrumChart(svd(A).s, {
  title: "Singular values of a rank-10 300x60 matrix plus noise (0.01)",
  yLabel: "singular value σᵢ",
}).save(`${dir}svd_spectrum.svg`);

// The Magnus–Neudecker Jacobian of XOR's hidden layer H = σ(X W1): 16x12, block structure.
const J = jacobian((w: Matrix) => sigmoid(matmul(X, w)))(W[0]);
await heatmap(J, {
  title: "d vec σ(X W₁) / d (vec W₁)ᵀ for XOR's hidden layer (16x12)",
  xLabel: "entry of vec W₁",
  yLabel: "entry of vec H",
}).save(`${dir}jacobian_heatmap.svg`);

console.log("wrote docs/xor_loss.svg, docs/svd_spectrum.svg, docs/jacobian_heatmap.svg");
