/**
 * A fully connected network (multilayer perceptron): its parameters as an
 * immutable value, seeded initialisation, the forward pass, the loss, and its
 * gradient two ways: reverse-mode autodiff, and the hand-derived matrix-form
 * backward of document 003.
 *
 * Convention: samples are ROWS. X is n x d (a minibatch of n samples), layer l maps
 * A_{l-1} (n x d_{l-1}) to Z_l = A_{l-1} W_l + b_l with W_l of d_{l-1} x d_l and the
 * bias b_l a 1 x d_l row added to every sample. Document 003 (NumPy) uses columns:
 * its x is d x n and its W1 is d_1 x d_0, so x_doc = X^T, W_doc = W^T, b_doc = b^T.
 *
 * @module
 */
import { Matrix, type MatrixOptions } from "../matrix.ts";
import { Random } from "../random.ts";
import { shapeStr } from "../errors.ts";
import { valueAndGrad } from "../autodiff.ts";
import { checkMatrix } from "../ops/common.ts";
import {
  add,
  exp,
  matmul,
  mul,
  relu,
  scale,
  sigmoid,
  square,
  step,
  sub,
  sum,
  tanh,
  transpose,
} from "../ops/mod.ts";
import { logSoftmax, meanSquaredError, softmaxCrossEntropy } from "./losses.ts";

/** Activation of the hidden layers. */
export type Activation = "relu" | "sigmoid" | "tanh";

/**
 * Output layer and loss: `"cross-entropy"` is a softmax output with the
 * cross-entropy loss ({@link softmaxCrossEntropy}), `"mse"` a linear output with the
 * mean squared error ({@link meanSquaredError}).
 */
export type LossKind = "cross-entropy" | "mse";

/** Initialisation scheme of the weights (biases start at zero). */
export type InitKind = "he" | "xavier";

/**
 * A multilayer perceptron: immutable (frozen), like a Matrix. Training returns new
 * models; see {@link withParams}.
 */
export interface Mlp {
  /** Layer widths, input first: `[784, 500, 10]` has one hidden layer of 500. */
  readonly sizes: readonly number[];
  /** Activation of every hidden layer. */
  readonly activation: Activation;
  /** Output layer and loss. */
  readonly loss: LossKind;
  /** `[W1, b1, W2, b2, ...]`: W_l is sizes[l-1] x sizes[l], b_l is 1 x sizes[l]. */
  readonly params: readonly Matrix[];
}

/** Options of {@link initMlp}. */
export interface InitMlpOptions extends MatrixOptions {
  /** Hidden activation (default `"relu"`). */
  activation?: Activation;
  /** Output and loss (default `"cross-entropy"`). */
  loss?: LossKind;
  /** `"he"` (default for relu) or `"xavier"` (default for sigmoid and tanh). */
  init?: InitKind;
  /** Seed of the weights (default 0); ignored when `rng` is given. */
  seed?: number;
  /** A generator to draw the weights from (advanced by the call). */
  rng?: Random;
}

const ACTIVATIONS: readonly Activation[] = ["relu", "sigmoid", "tanh"];
const LOSSES: readonly LossKind[] = ["cross-entropy", "mse"];

function oneOf<T extends string>(action: string, what: string, v: unknown, ok: readonly T[]): T {
  if (!ok.includes(v as T)) {
    throw new TypeError(
      `Cannot ${action}: unknown ${what} ${JSON.stringify(v)}, expected ${
        ok.map((s) => JSON.stringify(s)).join(", ")
      }`,
    );
  }
  return v as T;
}

/**
 * A new network with seeded weights: He normal, N(0, 2 / fan_in) (PyTorch's
 * kaiming_normal_), for relu; Xavier (Glorot) uniform, U(-a, a) with
 * a = sqrt(6 / (fan_in + fan_out)), variance 2 / (fan_in + fan_out), for sigmoid
 * and tanh. Every layer, the output one included, uses the same scheme; biases are 0.
 *
 * @example
 * ```ts
 * import { initMlp } from "../../mod.ts";
 * const net = initMlp([784, 500, 10], { seed: 1 });
 * console.log(net.params.map((p) => p.shape)); // [[784, 500], [1, 500], [500, 10], [1, 10]]
 * ```
 */
export function initMlp(sizes: readonly number[], opts: InitMlpOptions = {}): Mlp {
  const action = "initialise an MLP";
  if (!Array.isArray(sizes) || sizes.length < 2) {
    throw new TypeError(`Cannot ${action}: sizes must list at least 2 layer widths`);
  }
  for (const s of sizes) {
    if (!Number.isSafeInteger(s) || s < 1) {
      throw new RangeError(
        `Cannot ${action}: layer widths must be positive integers, got [${sizes.join(", ")}]`,
      );
    }
  }
  const activation = oneOf(action, "activation", opts.activation ?? "relu", ACTIVATIONS);
  const loss = oneOf(action, "loss", opts.loss ?? "cross-entropy", LOSSES);
  const init = oneOf(
    action,
    "init",
    opts.init ?? (activation === "relu" ? "he" : "xavier"),
    ["he", "xavier"] as const,
  );
  const rng = opts.rng ?? new Random(opts.seed ?? 0);
  const m: MatrixOptions = { dtype: opts.dtype, kernel: opts.kernel };
  const params: Matrix[] = [];
  for (let l = 1; l < sizes.length; l++) {
    const fanIn = sizes[l - 1], fanOut = sizes[l];
    if (init === "he") {
      params.push(rng.normal(fanIn, fanOut, { ...m, std: Math.sqrt(2 / fanIn) }));
    } else {
      const a = Math.sqrt(6 / (fanIn + fanOut));
      params.push(rng.uniform(fanIn, fanOut, { ...m, low: -a, high: a }));
    }
    params.push(Matrix.zeros(1, fanOut, m));
  }
  return freeze({ sizes: [...sizes], activation, loss, params });
}

function freeze(m: Mlp): Mlp {
  return Object.freeze({
    sizes: Object.freeze([...m.sizes]),
    activation: m.activation,
    loss: m.loss,
    params: Object.freeze([...m.params]),
  });
}

function checkParams(action: string, sizes: readonly number[], params: readonly Matrix[]): void {
  const layers = sizes.length - 1;
  if (!Array.isArray(params) || params.length !== 2 * layers) {
    throw new TypeError(
      `Cannot ${action}: expected ${2 * layers} parameters [W1, b1, ...] for sizes [${
        sizes.join(", ")
      }], got ${Array.isArray(params) ? params.length : typeof params}`,
    );
  }
  for (let l = 0; l < layers; l++) {
    const W = checkMatrix(action, params[2 * l], `W${l + 1}`);
    const b = checkMatrix(action, params[2 * l + 1], `b${l + 1}`);
    const [din, dout] = [sizes[l], sizes[l + 1]];
    if (W.rows !== din || W.cols !== dout || b.rows !== 1 || b.cols !== dout) {
      throw new TypeError(
        `Cannot ${action}: layer ${l + 1} needs W${l + 1} ${din}x${dout} and b${
          l + 1
        } 1x${dout}, got ${shapeStr(W)} and ${shapeStr(b)}`,
      );
    }
  }
}

/**
 * The same network with other parameters (checked against its sizes).
 *
 * @example
 * ```ts
 * import { initMlp, scale, withParams } from "../../mod.ts";
 * const net = initMlp([2, 3, 2]);
 * const half = withParams(net, net.params.map((p) => scale(p, 0.5)));
 * console.log(half.params[0].get(0, 0) === net.params[0].get(0, 0) / 2); // true
 * ```
 */
export function withParams(model: Mlp, params: readonly Matrix[]): Mlp {
  checkParams("replace the parameters of an MLP", model.sizes, params);
  return freeze({ ...model, params });
}

function activate(a: Activation, Z: Matrix): Matrix {
  return a === "relu" ? relu(Z) : a === "sigmoid" ? sigmoid(Z) : tanh(Z);
}

/** phi'(Z) from A = phi(Z): 1(A > 0) for relu (0 at 0), A (1 - A), 1 - A^2. */
function derivative(a: Activation, A: Matrix): Matrix {
  return a === "relu" ? step(A) : a === "sigmoid" ? mul(A, sub(1, A)) : sub(1, square(A));
}

function checkInput(action: string, model: Mlp, X: Matrix): void {
  checkMatrix(action, X, "X");
  if (X.cols !== model.sizes[0]) {
    throw new TypeError(
      `Cannot ${action}: X is ${shapeStr(X)} but the network takes ${
        model.sizes[0]
      } features per row (sizes [${model.sizes.join(", ")}])`,
    );
  }
}

function checkTargets(action: string, model: Mlp, X: Matrix, Y: Matrix): void {
  checkInput(action, model, X);
  checkMatrix(action, Y, "Y");
  const out = model.sizes[model.sizes.length - 1];
  if (Y.rows !== X.rows || Y.cols !== out) {
    throw new TypeError(
      `Cannot ${action}: targets Y are ${shapeStr(Y)} but X ${shapeStr(X)} needs ${X.rows}x${out}`,
    );
  }
  if (X.rows === 0) throw new TypeError(`Cannot ${action}: no samples (X is ${shapeStr(X)})`);
}

/** Z_l and A_l of every layer (A_0 = X, the last A is Z_L: no output activation). */
function layers(model: Mlp, X: Matrix): Matrix[] {
  const { params, activation } = model;
  const A = [X];
  const L = params.length / 2;
  for (let l = 0; l < L; l++) {
    const Z = add(matmul(A[l], params[2 * l]), params[2 * l + 1]);
    A.push(l < L - 1 ? activate(activation, Z) : Z);
  }
  return A;
}

/**
 * The network's output scores for a minibatch X (n x sizes[0]): the logits (before
 * the softmax) for cross-entropy, the predictions for mse. Differentiable.
 *
 * @example
 * ```ts
 * import { initMlp, Matrix, mlpForward } from "../../mod.ts";
 * const net = initMlp([3, 4, 2]);
 * console.log(mlpForward(net, Matrix.ones(5, 3)).shape); // [5, 2]
 * ```
 */
export function mlpForward(model: Mlp, X: Matrix): Matrix {
  checkInput("run an MLP forward", model, X);
  const A = layers(model, X);
  return A[A.length - 1];
}

/** Internal (not re-exported): the loss of output scores `out` against targets Y. */
export function lossOf(kind: LossKind, out: Matrix, Y: Matrix): Matrix {
  return kind === "cross-entropy" ? softmaxCrossEntropy(out, Y) : meanSquaredError(out, Y);
}

/**
 * The loss (1x1) of the network on inputs X (n x sizes[0]) and targets Y
 * (n x sizes[-1], e.g. {@link oneHot} labels), averaged over the samples.
 * Differentiable with respect to the parameters, X and Y.
 *
 * @example
 * ```ts
 * import { initMlp, Matrix, mlpLoss, oneHot } from "../../mod.ts";
 * const net = initMlp([3, 4, 2]);
 * console.log(mlpLoss(net, Matrix.ones(2, 3), oneHot([0, 1], 2)).shape); // [1, 1]
 * ```
 */
export function mlpLoss(model: Mlp, X: Matrix, Y: Matrix): Matrix {
  checkTargets("compute the loss of an MLP", model, X, Y);
  return lossOf(model.loss, mlpForward(model, X), Y);
}

/** How {@link mlpGrads} differentiates. */
export type GradMethod = "hand" | "autodiff";

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
    loss = scale(sum(mul(Y, logP)), -1 / n);
    E = scale(sub(exp(logP), Y), 1 / n);
  } else {
    const R = sub(out, Y);
    loss = scale(sum(square(R)), 1 / (n * out.cols));
    E = scale(R, 2 / (n * out.cols));
  }
  const grads: Matrix[] = new Array(2 * L);
  for (let l = L; l >= 1; l--) {
    grads[2 * l - 2] = matmul(transpose(A[l - 1]), E);
    grads[2 * l - 1] = sum(E, { axis: 0 });
    if (l > 1) E = mul(matmul(E, transpose(params[2 * l - 2])), derivative(activation, A[l - 1]));
  }
  return { loss, grads: Object.freeze(grads) };
}

/**
 * The loss and its gradients, by the hand-derived backward ({@link mlpBackward},
 * the default, faster) or by reverse-mode autodiff (`valueAndGrad` of
 * {@link mlpLoss} over the parameters). They agree to rounding (1e-12 in float64).
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
  const method = oneOf(
    "compute MLP gradients",
    "method",
    opts.method ?? "hand",
    [
      "hand",
      "autodiff",
    ] as const,
  );
  if (method === "hand") return mlpBackward(model, X, Y);
  checkTargets("compute MLP gradients", model, X, Y);
  const argnums = model.params.map((_, i) => i);
  const f = (...p: Matrix[]) =>
    lossOf(model.loss, layers({ ...model, params: p }, X)[model.sizes.length - 1], Y);
  const [loss, grads] = valueAndGrad(f, argnums)(...model.params);
  return { loss, grads: Object.freeze(grads) };
}
