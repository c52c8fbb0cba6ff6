/**
 * A fully connected network (multilayer perceptron): its parameters as an
 * immutable value, seeded initialisation, the forward pass and the loss. Gradients
 * are in backward.ts.
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
import { checkMatrix } from "../ops/common.ts";
import { add, matmul, mul, relu, sigmoid, square, step, sub, tanh } from "../ops/mod.ts";
import { meanSquaredError, softmaxCrossEntropy } from "./losses.ts";

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

/** Internal (not re-exported): `v` if it is one of `ok`, else a TypeError naming the choices. */
export function oneOf<T extends string>(
  action: string,
  what: string,
  v: unknown,
  ok: readonly T[],
): T {
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

/** Internal (not re-exported): phi'(Z) from A = phi(Z): 1(A > 0) for relu (0 at 0), A (1 - A), 1 - A^2. */
export function derivative(a: Activation, A: Matrix): Matrix {
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

/** Internal (not re-exported): check X against the input width and Y against X and the output width. */
export function checkTargets(action: string, model: Mlp, X: Matrix, Y: Matrix): void {
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

/** Internal (not re-exported): A_0 = X, A_l = phi(Z_l) for hidden layers, and Z_L (no output activation). */
export function layers(model: Mlp, X: Matrix): Matrix[] {
  const { params, activation } = model;
  const A = [X];
  const L = params.length / 2;
  for (let l = 0; l < L; l++) {
    const product = matmul(A[l], params[2 * l]);
    const Z = add(product, params[2 * l + 1]);
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
