/**
 * Softmax, cross-entropy, mean squared error and one-hot targets, composed from
 * the differentiable ops, so autodiff goes through them. Samples are rows.
 *
 * @module
 */
import { Matrix, type MatrixOptions } from "../matrix.ts";
import { shapeStr } from "../errors.ts";
import { checkMatrix } from "../ops/common.ts";
import { exp, log, max, mean, mul, neg, square, sub, sum } from "../ops/mod.ts";

/**
 * The row-wise log-softmax, Z - lse(Z) with lse(z) = m + log(sum exp(z - m)) and
 * m the row maximum, so that no exp overflows: finite for logits of any finite
 * size (1e4, 1e300). Differentiable; the derivative through m cancels.
 *
 * @example
 * ```ts
 * import { logSoftmax, Matrix } from "../../mod.ts";
 * const L = logSoftmax(Matrix.from([[1e4, 0, -1e4]]));
 * console.log(L.toArray()); // [[0, -10000, -20000]]
 * ```
 */
export function logSoftmax(Z: Matrix): Matrix {
  checkMatrix("take the log-softmax", Z, "Z");
  if (Z.cols === 0) {
    throw new TypeError(`Cannot take the log-softmax of a ${shapeStr(Z)} matrix: no columns`);
  }
  const shifted = sub(Z, max(Z, { axis: 1 })); // each row's max becomes 0
  return sub(shifted, log(sum(exp(shifted), { axis: 1 })));
}

/**
 * The row-wise softmax exp(z - m) / sum exp(z - m) (m the row maximum): each row is
 * a probability distribution. Differentiable.
 *
 * @example
 * ```ts
 * import { Matrix, softmax } from "../../mod.ts";
 * const P = softmax(Matrix.from([[0, 0], [1e4, 0]]));
 * console.log(P.toArray()); // [[0.5, 0.5], [1, 0]]
 * ```
 */
export function softmax(Z: Matrix): Matrix {
  return exp(logSoftmax(Z));
}

function checkPair(action: string, A: Matrix, B: Matrix, names: [string, string]): void {
  checkMatrix(action, A, names[0]);
  checkMatrix(action, B, names[1]);
  if (A.rows !== B.rows || A.cols !== B.cols) {
    throw new TypeError(
      `Cannot ${action}: ${names[0]} is ${shapeStr(A)} but ${names[1]} is ${shapeStr(B)}`,
    );
  }
  if (A.rows === 0) throw new TypeError(`Cannot ${action}: no samples (${shapeStr(A)})`);
}

/**
 * The mean over samples (rows) of the cross-entropy between softmax(Z) and the
 * targets Y: -(1/n) sum_i sum_j Y_ij log softmax(Z)_ij, a 1x1 matrix. Y holds one
 * probability distribution per row (one-hot labels: see {@link oneHot}). Computed
 * through {@link logSoftmax}, so finite for huge logits. Its gradient with respect
 * to Z is (softmax(Z) - Y) / n when Y's rows sum to 1.
 *
 * @example
 * ```ts
 * import { Matrix, softmaxCrossEntropy } from "../../mod.ts";
 * const Z = Matrix.from([[1e4, 0], [0, 0]]);
 * const Y = Matrix.from([[0, 1], [1, 0]]);
 * console.log(softmaxCrossEntropy(Z, Y).get(0, 0)); // (1e4 + log 2) / 2 = 5000.346...
 * ```
 */
export function softmaxCrossEntropy(Z: Matrix, Y: Matrix): Matrix {
  checkPair("compute the softmax cross-entropy", Z, Y, ["logits Z", "targets Y"]);
  return neg(mean(sum(mul(Y, logSoftmax(Z)), { axis: 1 })));
}

/**
 * The mean over all entries of (Yhat - Y)^2, a 1x1 matrix (PyTorch's MSELoss with
 * the default mean reduction). Its gradient with respect to Yhat is
 * 2 (Yhat - Y) / (rows cols).
 *
 * @example
 * ```ts
 * import { Matrix, meanSquaredError } from "../../mod.ts";
 * const e = meanSquaredError(Matrix.from([[1, 2]]), Matrix.from([[0, 0]]));
 * console.log(e.get(0, 0)); // 2.5
 * ```
 */
export function meanSquaredError(Yhat: Matrix, Y: Matrix): Matrix {
  checkPair("compute the mean squared error", Yhat, Y, ["predictions Yhat", "targets Y"]);
  return mean(square(sub(Yhat, Y)));
}

/**
 * One row per label with a 1 in the label's column: an n x classes matrix.
 * Labels must be integers in [0, classes).
 *
 * @example
 * ```ts
 * import { oneHot } from "../../mod.ts";
 * console.log(oneHot([2, 0], 3).toArray()); // [[0, 0, 1], [1, 0, 0]]
 * ```
 */
export function oneHot(
  labels: ArrayLike<number>,
  classes: number,
  opts: MatrixOptions = {},
): Matrix {
  const action = "build one-hot targets";
  if (labels === null || typeof labels !== "object" || typeof labels.length !== "number") {
    throw new TypeError(`Cannot ${action}: labels must be an array or typed array`);
  }
  if (!Number.isSafeInteger(classes) || classes < 1) {
    throw new RangeError(`Cannot ${action}: classes must be a positive integer, got ${classes}`);
  }
  const n = labels.length;
  const data = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw new RangeError(
        `Cannot ${action}: label ${y} at index ${i} is not an integer in [0, ${classes})`,
      );
    }
    data[i * classes + y] = 1;
  }
  return Matrix.fromArray(data, n, classes, opts);
}
