/**
 * The gradient of an MLP's loss two ways: the hand-derived matrix-form backward of
 * document 003, and reverse-mode autodiff over the parameters.
 *
 * @module
 */
import type { Matrix } from "../matrix.ts";
import { valueAndGrad } from "../autodiff.ts";
import { exp, gemm, mul, scale, square, sub, sum } from "../ops/mod.ts";
import { logSoftmax } from "./losses.ts";
import { checkTargets, derivative, layers, lossOf, type Mlp, oneOf } from "./model.ts";

/** How {@link mlpGrads} differentiates. */
export type GradMethod = "hand" | "autodiff";
const METHODS: readonly GradMethod[] = ["hand", "autodiff"];

/** The loss and its gradient with respect to each parameter. */
export interface MlpGrads {
  /** The loss, 1x1 (a Matrix, so reading it can wait: `await loss.read()` on a GPU). */
  loss: Matrix;
  /** d loss / d params, in the order and shapes of `model.params`. */
  grads: readonly Matrix[];
}

/**
 * The hand-derived backward pass of document 003 in matrix form, for our rows
 * convention; one forward and one backward sweep, no autodiff graph.
 *
 * With P = softmax(Z_L) (cross-entropy) the output error is E_L = (P - Y) / n; for
 * mse it is 2 (Z_L - Y) / (n k). Then, for l = L, ..., 1:
 *   dW_l = A_{l-1}^T E_l,  db_l = sum of E_l's rows,
 *   E_{l-1} = (E_l W_l^T) o phi'(Z_{l-1})   (for relu: zero where A_{l-1} = h <= 0).
 * The document's NumPy (columns) reads e2 = probs - labels, e1 = W2^T e2 masked
 * where h1 <= 0, dW2 = e2 h1^T / n, db2 = mean(e2, axis 1), dW1 = e1 x^T / n,
 * db1 = mean(e1, axis 1); transposing each (e_doc = n E^T, h1_doc = A_1^T,
 * x_doc = X^T, W_doc = W^T) gives ours: the 1/n is applied once, at E_L, instead of
 * in each dW and db. The cross-entropy form assumes Y's rows sum to 1 (one-hot).
 *
 * @example
 * ```ts
 * import { initMlp, mlpBackward, Random, oneHot } from "../../mod.ts";
 * const net = initMlp([4, 3, 2], { seed: 1 });
 * const { loss, grads } = mlpBackward(net, new Random(2).normal(5, 4), oneHot([0, 1, 1, 0, 1], 2));
 * console.log(loss.get(0, 0) > 0, grads.map((g) => g.shape)); // true [[4, 3], [1, 3], [3, 2], [1, 2]]
 * ```
 */
export function mlpBackward(model: Mlp, X: Matrix, Y: Matrix): MlpGrads {
  checkTargets("run the MLP backward pass", model, X, Y);
  const { params, activation } = model;
  const L = params.length / 2;
  const A = layers(model, X);
  const out = A[L];
  const n = X.rows;
  let E: Matrix, loss: Matrix;
  if (model.loss === "cross-entropy") {
    const logP = logSoftmax(out);
    const picked = sum(mul(Y, logP));
    loss = scale(picked, -1 / n);
    E = scale(sub(exp(logP), Y), 1 / n);
  } else {
    const R = sub(out, Y);
    const squares = sum(square(R));
    loss = scale(squares, 1 / (n * out.cols));
    E = scale(R, 2 / (n * out.cols));
  }
  const grads: Matrix[] = new Array(2 * L);
  for (let l = L; l >= 1; l--) {
    grads[2 * l - 2] = gemm(A[l - 1], E, { transA: true });
    grads[2 * l - 1] = sum(E, { axis: 0 });
    if (l > 1) {
      const back = gemm(E, params[2 * l - 2], { transB: true });
      E = mul(back, derivative(activation, A[l - 1]));
    }
  }
  return { loss, grads: Object.freeze(grads) };
}

/**
 * The loss and its gradients, by the hand-derived backward ({@link mlpBackward},
 * the default: no autodiff graph, no bookkeeping) or by reverse-mode autodiff
 * (`valueAndGrad` of {@link mlpLoss} over the parameters). They agree to rounding
 * (1e-12 in float64). Both spend most of their time in the same two large
 * products (X W1 forward, X^T E1 backward), so they run at about the same speed.
 *
 * @example
 * ```ts
 * import { initMlp, mlpGrads, oneHot, Random } from "../../mod.ts";
 * const net = initMlp([4, 3, 2], { seed: 1 });
 * const X = new Random(2).normal(5, 4), Y = oneHot([0, 1, 1, 0, 1], 2);
 * const hand = mlpGrads(net, X, Y);
 * const auto = mlpGrads(net, X, Y, { method: "autodiff" });
 * console.log(Math.abs(hand.grads[0].get(0, 0) - auto.grads[0].get(0, 0)) < 1e-12); // true
 * ```
 */
export function mlpGrads(
  model: Mlp,
  X: Matrix,
  Y: Matrix,
  opts: { method?: GradMethod } = {},
): MlpGrads {
  const method = oneOf("compute MLP gradients", "method", opts.method ?? "hand", METHODS);
  if (method === "hand") return mlpBackward(model, X, Y);
  checkTargets("compute MLP gradients", model, X, Y);
  const argnums = model.params.map((_, i) => i);
  const f = (...p: Matrix[]) =>
    lossOf(model.loss, layers({ ...model, params: p }, X)[model.sizes.length - 1], Y);
  const [loss, grads] = valueAndGrad(f, argnums)(...model.params);
  return { loss, grads: Object.freeze(grads) };
}
