/**
 * The orthogonal complement of a column space, differentiable, and the projector
 * I - U U^T applied without forming it.
 *
 * @module
 */
import type { Matrix } from "./matrix.ts";
import { shapeStr } from "./errors.ts";
import { bind, type Primitive } from "./core.ts";
import { checkMatrix, checkSameKernel, scalarLike } from "./ops/common.ts";
import { matmul, sub, transpose } from "./ops/mod.ts";
import { binaryRaw } from "./ops/elementwise.ts";
import { mm } from "./ops/matmul.ts";
import { fromHost, hostF64 } from "./ops/host.ts";
import { orthcompHost } from "./linalg/mod.ts";
import { applyQ, type HouseholderQr, householderQr } from "./linalg/householder.ts";
import type { LinearOp } from "./linear_op.ts";

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const x of a) m = Math.max(m, Math.abs(x));
  return m;
}

/**
 * U_perp = orthcomp(U). Only U_perp U_perp^T = I - U U^T is a function of U (the
 * basis inside the complement is arbitrary), so a loss has a gradient exactly when
 * it is invariant to rotations of that basis, i.e. when U_perp^T Gbar is symmetric;
 * then Ubar = -U_perp Gbar^T U. Otherwise the VJP throws, saying why.
 */
export const orthcompP: Primitive<void> = {
  name: "orthcomp",
  forward: ([U]) => {
    const m = U.rows, k = U.cols;
    return fromHost(U, orthcompHost(hostF64("compute orthcomp", U), m, k), m, m - k);
  },
  vjp: (g, [U], Up) => {
    const C = hostF64("differentiate orthcomp", mm(Up, g, true, false));
    const r = Up.cols;
    let asym = 0;
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < i; j++) asym = Math.max(asym, Math.abs(C[i * r + j] - C[j * r + i]));
    }
    const scale = Math.max(maxAbs(C), maxAbs(hostF64("differentiate orthcomp", g)), 1e-300);
    if (asym > 1e-8 * scale) {
      throw new RangeError(
        `Cannot differentiate orthcomp of a ${
          shapeStr(U)
        } matrix: the loss depends on the arbitrary choice of basis inside the orthogonal complement (U_perp^T Gbar is not symmetric: asymmetry ${
          asym.toExponential(2)
        } of ${
          scale.toExponential(2)
        }); only functions of U_perp U_perp^T = I - U U^T have a gradient`,
      );
    }
    return [binaryRaw("mul", mm(Up, mm(g, U, true, false)), scalarLike(U, -1))];
  },
  jvp: ([dU], [U], Up) => binaryRaw("mul", mm(U, mm(dU!, Up, true, false)), scalarLike(U, -1)),
};

/**
 * An m x (m - k) matrix with orthonormal columns orthogonal to the columns of the
 * m x k matrix U (which should have orthonormal columns), from the full Householder
 * QR of U. Differentiable for losses that depend on it only through
 * U_perp U_perp^T = I - U U^T (see {@link orthcompP}).
 *
 * @example
 * ```ts
 * import { matmul, Matrix, orthcomp, transpose } from "../mod.ts";
 * const U = Matrix.from([[0.6], [0.8], [0]]);
 * const P = orthcomp(U); // 3 x 2
 * console.log(P.shape, Math.abs(matmul(transpose(U), P).get(0, 0)) < 1e-15); // [3, 2] true
 * ```
 */
export function orthcomp(U: Matrix): Matrix {
  checkMatrix("compute orthcomp", U, "U");
  if (U.cols > U.rows) {
    throw new TypeError(
      `Cannot compute orthcomp of a ${
        shapeStr(U)
      } matrix: it needs at most as many columns as rows`,
    );
  }
  return bind(orthcompP, [U], undefined);
}

/**
 * (I - U U^T) X, computed as X - U (U^T X) without forming the m x m projector.
 *
 * @example
 * ```ts
 * import { Matrix, projectOut } from "../mod.ts";
 * const U = Matrix.from([[1], [0]]);
 * console.log(projectOut(U, Matrix.from([[3], [4]])).toArray()); // [[0], [4]]
 * ```
 */
export function projectOut(U: Matrix, X: Matrix): Matrix {
  const action = "apply the projector I - U U^T in projectOut";
  checkMatrix(action, U, "U");
  checkMatrix(action, X, "X");
  checkSameKernel(action, U, X);
  if (U.rows !== X.rows) {
    throw new TypeError(
      `Cannot ${action}: U is ${shapeStr(U)} and X is ${shapeStr(X)}, row counts differ`,
    );
  }
  return sub(X, matmul(U, matmul(transpose(U), X)));
}

/**
 * U_perp as an implicit operator (LinearOp): the Householder reflectors of U are
 * kept, and U_perp y = Q [0; y], U_perp^T x = (Q^T x)[k:], each O(m k) instead of
 * the O(m^2) memory of forming the m x (m - k) matrix. Not differentiable (it is
 * for probing properties of huge complements; use {@link orthcomp} inside losses).
 *
 * @example
 * ```ts
 * import { ComplementOp, Matrix, matmul, transpose } from "../mod.ts";
 * const U = Matrix.from([[0.6], [0.8], [0]]);
 * const P = new ComplementOp(U); // a 3 x 2 operator
 * const x = P.apply(Matrix.from([[1], [2]]));
 * console.log(Math.abs(matmul(transpose(U), x).get(0, 0)) < 1e-15); // true
 * ```
 */
export class ComplementOp implements LinearOp {
  /** m. */
  readonly rows: number;
  /** m - k. */
  readonly cols: number;
  #qr: HouseholderQr;
  #like: Matrix;
  #transposed: boolean;

  /** The complement of the columns of the m x k matrix U (orthonormal columns). */
  constructor(U: Matrix, transposed = false, qr?: HouseholderQr) {
    checkMatrix("build a ComplementOp", U, "U");
    if (U.cols > U.rows) {
      throw new TypeError(
        `Cannot build a ComplementOp of a ${
          shapeStr(U)
        } matrix: it needs at most as many columns as rows`,
      );
    }
    const m = U.rows, k = U.cols;
    this.#like = U;
    this.#transposed = transposed;
    if (qr === undefined) {
      // Column-contiguous storage of U is the row-major data of U^T.
      const u = hostF64("build a ComplementOp", U);
      const t = new Float64Array(m * k);
      for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) t[j * m + i] = u[i * k + j];
      qr = householderQr(t, m, k);
    }
    this.#qr = qr;
    this.rows = transposed ? m - k : m;
    this.cols = transposed ? m : m - k;
  }

  /** U_perp y (or U_perp^T x for the transposed operator). */
  apply(v: Matrix): Matrix {
    checkMatrix("apply a ComplementOp", v, "vector");
    if (v.cols !== 1 || v.rows !== this.cols) {
      throw new TypeError(
        `Cannot apply a ComplementOp (${this.rows}x${this.cols}) to a ${
          shapeStr(v)
        } matrix: expected a ${this.cols}x1 vector`,
      );
    }
    const { m, tau, a } = this.#qr;
    const k = tau.length;
    const x = hostF64("apply a ComplementOp", v);
    if (!this.#transposed) {
      const b = new Float64Array(m);
      b.set(x, m - this.cols);
      applyQ(this.#qr, b, 1);
      return fromHost(this.#like, b, m, 1);
    }
    // Q^T x = H_{k-1} ... H_0 x, keep entries k..m-1.
    const b = Float64Array.from(x);
    for (let j = 0; j < k; j++) {
      const t = tau[j];
      if (t === 0) continue;
      let s = b[j];
      for (let i = j + 1; i < m; i++) s += a[j * m + i] * b[i];
      s *= t;
      b[j] -= s;
      for (let i = j + 1; i < m; i++) b[i] -= s * a[j * m + i];
    }
    return fromHost(this.#like, b.slice(k), m - k, 1);
  }

  /** The transposed operator U_perp^T. */
  transpose(): ComplementOp {
    return new ComplementOp(this.#like, !this.#transposed, this.#qr);
  }

  /** The dense U_perp (or its transpose): m (m - k) entries. */
  toDense(): Matrix {
    const P = orthcomp(this.#like);
    return this.#transposed ? transpose(P) : P;
  }
}
