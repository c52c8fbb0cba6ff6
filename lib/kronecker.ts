/**
 * Kronecker-product calculus (Magnus and Neudecker): `vec`, `unvec`, `kron`,
 * `diag`, `diagonal` and the commutation matrix, all differentiable. Each is a
 * reshape, transpose or injective gather, so its derivative is exact and cheap.
 *
 * Conventions: vec stacks columns (column-major), and
 * (A kron B) vec(X) = vec(B X A^T).
 *
 * @module
 */
import { Matrix, type MatrixOptions } from "./matrix.ts";
import { checkSize, shapeStr } from "./errors.ts";
import { checkMatrix } from "./ops/common.ts";
import { gatherRaw, reshapeRaw, transposeRaw } from "./ops/structure.ts";
import { mm } from "./ops/matmul.ts";
import { castRaw } from "./ops/structure.ts";
import { promote } from "./ops/common.ts";

/**
 * vec(A): the columns of an m x n matrix stacked into an mn x 1 vector.
 *
 * @example
 * ```ts
 * import { Matrix, vec } from "../mod.ts";
 * console.log(vec(Matrix.from([[1, 2], [3, 4]])).toArray()); // [[1], [3], [2], [4]]
 * ```
 */
export function vec(A: Matrix): Matrix {
  checkMatrix("vec", A);
  return reshapeRaw(transposeRaw(A), A.rows * A.cols, 1);
}

/**
 * The inverse of vec: an mn x 1 (or 1 x mn) vector back to an m x n matrix.
 *
 * @example
 * ```ts
 * import { Matrix, unvec } from "../mod.ts";
 * console.log(unvec(Matrix.from([[1], [3], [2], [4]]), 2, 2).toArray()); // [[1, 2], [3, 4]]
 * ```
 */
export function unvec(v: Matrix, m: number, n: number): Matrix {
  const action = "unvec";
  checkMatrix(action, v);
  checkSize(action, "m", m);
  checkSize(action, "n", n);
  if ((v.cols !== 1 && v.rows !== 1) || v.rows * v.cols !== m * n) {
    throw new TypeError(
      `Cannot unvec a ${shapeStr(v)} matrix to ${m}x${n}: expected a vector of ${m * n} entries`,
    );
  }
  return transposeRaw(reshapeRaw(v, n, m));
}

/**
 * The Kronecker product A kron B: for A m x n and B p x q, the mp x nq block
 * matrix whose (i, j) block is A[i, j] B.
 *
 * @example
 * ```ts
 * import { kron, Matrix } from "../mod.ts";
 * const K = kron(Matrix.eye(2), Matrix.from([[1, 2]]));
 * console.log(K.toArray()); // [[1, 2, 0, 0], [0, 0, 1, 2]]
 * ```
 */
export function kron(A: Matrix, B: Matrix): Matrix {
  const action = "compute the Kronecker product in kron";
  checkMatrix(action, A, "A");
  checkMatrix(action, B, "B");
  if (A.kernel !== B.kernel) {
    throw new TypeError(
      `Cannot ${action}: ${shapeStr(A)} on ${A.kernel.name} and ${shapeStr(B)} on ${B.kernel.name}`,
    );
  }
  const dtype = promote(A.dtype, B.dtype);
  const { rows: m, cols: n } = A;
  const { rows: p, cols: q } = B;
  // Outer product O (pq x mn): O[k q + l, i n + j] = B[k, l] A[i, j], then permute.
  const outer = mm(
    reshapeRaw(castRaw(B, dtype), p * q, 1),
    reshapeRaw(castRaw(A, dtype), 1, m * n),
  );
  const rows = m * p, cols = n * q;
  const index = new Int32Array(rows * cols);
  const mn = m * n;
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < p; k++) {
      const o = (i * p + k) * cols;
      for (let j = 0; j < n; j++) {
        for (let l = 0; l < q; l++) index[o + j * q + l] = (k * q + l) * mn + i * n + j;
      }
    }
  }
  return gatherRaw(outer, { index, rows, cols });
}

/**
 * Diag(v): the k x k diagonal matrix of a k x 1 or 1 x k vector.
 *
 * @example
 * ```ts
 * import { diag, Matrix } from "../mod.ts";
 * console.log(diag(Matrix.from([[1], [2]])).toArray()); // [[1, 0], [0, 2]]
 * ```
 */
export function diag(v: Matrix): Matrix {
  checkMatrix("diag", v);
  if (v.rows !== 1 && v.cols !== 1) {
    throw new TypeError(
      `Cannot build a diagonal matrix in diag: expected a k x 1 or 1 x k vector, got ${
        shapeStr(v)
      }; use diagonal() to extract a diagonal`,
    );
  }
  const k = v.rows * v.cols;
  const index = new Int32Array(k * k).fill(-1);
  for (let i = 0; i < k; i++) index[i * k + i] = i;
  return gatherRaw(v, { index, rows: k, cols: k });
}

/**
 * The main diagonal of an m x n matrix as a min(m, n) x 1 vector.
 *
 * @example
 * ```ts
 * import { diagonal, Matrix } from "../mod.ts";
 * console.log(diagonal(Matrix.from([[1, 2], [3, 4]])).toArray()); // [[1], [4]]
 * ```
 */
export function diagonal(A: Matrix): Matrix {
  checkMatrix("diagonal", A);
  const k = Math.min(A.rows, A.cols);
  const index = new Int32Array(k);
  for (let i = 0; i < k; i++) index[i] = i * A.cols + i;
  return gatherRaw(A, { index, rows: k, cols: 1 });
}

/**
 * The commutation matrix K (mn x mn) with K vec(A) = vec(A^T) for every m x n A.
 *
 * @example
 * ```ts
 * import { commutation, matmul, Matrix, transpose, vec } from "../mod.ts";
 * const A = Matrix.from([[1, 2, 3], [4, 5, 6]]);
 * const lhs = matmul(commutation(2, 3), vec(A));
 * console.log(lhs.toArray().flat(), vec(transpose(A)).toArray().flat());
 * ```
 */
export function commutation(m: number, n: number, opts: MatrixOptions = {}): Matrix {
  checkSize("build a commutation matrix", "m", m);
  checkSize("build a commutation matrix", "n", n);
  const N = m * n;
  const data = new Float64Array(N * N);
  // vec(A)[i + j m] = A[i, j] = vec(A^T)[j + i n]
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) data[(j + i * n) * N + i + j * m] = 1;
  return Matrix.fromArray(data, N, N, opts);
}
