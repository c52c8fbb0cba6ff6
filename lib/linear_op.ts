/**
 * Structured linear operators for Jacobian-form calculus: a Kronecker product, a
 * diagonal, the identity, a dense matrix, and their composition. Applying one to
 * a vector never forms the big matrix: (A kron B) vec(X) = vec(B X A^T) and
 * Diag(d) v = d o v, so a chain of Jacobians costs what the shape-matching form
 * of backprop costs. Everything is built from differentiable ops.
 *
 * @module
 */
import type { Matrix } from "./matrix.ts";
import { shapeStr } from "./errors.ts";
import { checkMatrix } from "./ops/common.ts";
import { binaryRaw } from "./ops/elementwise.ts";
import { mm } from "./ops/matmul.ts";
import { reshapeRaw, transposeRaw } from "./ops/structure.ts";
import { diag, kron, unvec, vec } from "./kronecker.ts";

/** A linear map from vectors of length `cols` to vectors of length `rows`. */
export interface LinearOp {
  /** Output length. */
  readonly rows: number;
  /** Input length. */
  readonly cols: number;
  /** The map applied to a cols x 1 vector, giving rows x 1. */
  apply(v: Matrix): Matrix;
  /** The transposed operator. */
  transpose(): LinearOp;
  /** The operator as a dense rows x cols matrix (for checks and small sizes). */
  toDense(): Matrix;
}

function checkVector(op: LinearOp, name: string, v: Matrix): void {
  checkMatrix(`apply ${name}`, v, "vector");
  if (v.cols !== 1 || v.rows !== op.cols) {
    throw new TypeError(
      `Cannot apply ${name} (${op.rows}x${op.cols}) to a ${
        shapeStr(v)
      } matrix: expected a ${op.cols}x1 vector`,
    );
  }
}

/**
 * A kron B for A m x n and B p x q, an mp x nq operator applied as vec(B X A^T).
 *
 * @example
 * ```ts
 * import { KronOp, matmul, Matrix, Random, sub, abs, max } from "../mod.ts";
 * const r = new Random(0);
 * const op = new KronOp(r.normal(3, 2), r.normal(4, 5)); // 12 x 10
 * const v = r.normal(10, 1);
 * const err = max(abs(sub(op.apply(v), matmul(op.toDense(), v)))).get(0, 0);
 * console.log(err < 1e-12); // true
 * ```
 */
export class KronOp implements LinearOp {
  /** Output length m p. */
  readonly rows: number;
  /** Input length n q. */
  readonly cols: number;
  /** The left factor. */
  readonly A: Matrix;
  /** The right factor. */
  readonly B: Matrix;
  /** The operator A kron B. */
  constructor(A: Matrix, B: Matrix) {
    checkMatrix("build a KronOp", A, "A");
    checkMatrix("build a KronOp", B, "B");
    this.A = A;
    this.B = B;
    this.rows = A.rows * B.rows;
    this.cols = A.cols * B.cols;
  }
  /** (A kron B) v = vec(B X A^T) with v = vec(X). */
  apply(v: Matrix): Matrix {
    checkVector(this, "KronOp", v);
    const X = unvec(v, this.B.cols, this.A.cols);
    return vec(mm(mm(this.B, X), this.A, false, true));
  }
  /** (A kron B)^T = A^T kron B^T. */
  transpose(): KronOp {
    return new KronOp(transposeRaw(this.A), transposeRaw(this.B));
  }
  /** The dense Kronecker product. */
  toDense(): Matrix {
    return kron(this.A, this.B);
  }
}

/**
 * Diag(d) for a k x 1 (or 1 x k) vector d, applied as d o v.
 *
 * @example
 * ```ts
 * import { DiagOp, Matrix } from "../mod.ts";
 * const op = new DiagOp(Matrix.from([[2], [3]]));
 * console.log(op.apply(Matrix.from([[1], [1]])).toArray()); // [[2], [3]]
 * ```
 */
export class DiagOp implements LinearOp {
  /** Size k. */
  readonly rows: number;
  /** Size k. */
  readonly cols: number;
  /** The diagonal as a k x 1 vector. */
  readonly d: Matrix;
  /** The operator Diag(d). */
  constructor(d: Matrix) {
    checkMatrix("build a DiagOp", d, "d");
    if (d.rows !== 1 && d.cols !== 1) {
      throw new TypeError(`Cannot build a DiagOp: d must be a vector, got ${shapeStr(d)}`);
    }
    this.d = reshapeRaw(d, d.rows * d.cols, 1);
    this.rows = this.cols = this.d.rows;
  }
  /** d o v. */
  apply(v: Matrix): Matrix {
    checkVector(this, "DiagOp", v);
    return binaryRaw("mul", this.d, v);
  }
  /** Diag(d) is symmetric. */
  transpose(): DiagOp {
    return this;
  }
  /** The dense diagonal matrix. */
  toDense(): Matrix {
    return diag(this.d);
  }
}

/**
 * A dense matrix as an operator.
 *
 * @example
 * ```ts
 * import { DenseOp, Matrix } from "../mod.ts";
 * const op = new DenseOp(Matrix.from([[1, 2]]));
 * console.log(op.apply(Matrix.from([[3], [4]])).toArray()); // [[11]]
 * ```
 */
export class DenseOp implements LinearOp {
  /** Rows of M. */
  readonly rows: number;
  /** Columns of M. */
  readonly cols: number;
  /** The matrix. */
  readonly M: Matrix;
  /** The operator v -> M v. */
  constructor(M: Matrix) {
    checkMatrix("build a DenseOp", M, "M");
    this.M = M;
    this.rows = M.rows;
    this.cols = M.cols;
  }
  /** M v. */
  apply(v: Matrix): Matrix {
    checkVector(this, "DenseOp", v);
    return mm(this.M, v);
  }
  /** M^T. */
  transpose(): DenseOp {
    return new DenseOp(transposeRaw(this.M));
  }
  /** M itself. */
  toDense(): Matrix {
    return this.M;
  }
}

/**
 * The n x n identity operator.
 *
 * @example
 * ```ts
 * import { IdentityOp, Matrix } from "../mod.ts";
 * console.log(new IdentityOp(2).apply(Matrix.from([[5], [6]])).toArray()); // [[5], [6]]
 * ```
 */
export class IdentityOp implements LinearOp {
  /** Size n. */
  readonly rows: number;
  /** Size n. */
  readonly cols: number;
  /** The identity on vectors of length n. */
  constructor(n: number) {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(
        `Cannot build an IdentityOp: n must be a non-negative integer, got ${n}`,
      );
    }
    this.rows = this.cols = n;
  }
  /** v. */
  apply(v: Matrix): Matrix {
    checkVector(this, "IdentityOp", v);
    return v;
  }
  /** Itself. */
  transpose(): IdentityOp {
    return this;
  }
  /** Throws: an identity has no kernel or dtype of its own; use Matrix.eye. */
  toDense(): Matrix {
    throw new TypeError(
      `Cannot make an IdentityOp dense: it has no kernel or dtype; use Matrix.eye(${this.rows})`,
    );
  }
}

/**
 * The composition ops[0] ops[1] ... ops[k-1] (the last is applied first).
 *
 * @example
 * ```ts
 * import { compose, DiagOp, KronOp, Matrix } from "../mod.ts";
 * const J = compose(new DiagOp(Matrix.from([[2], [3]])), new KronOp(Matrix.eye(1), Matrix.eye(2)));
 * console.log(J.apply(Matrix.from([[1], [1]])).toArray()); // [[2], [3]]
 * ```
 */
export function compose(...ops: LinearOp[]): LinearOp {
  if (ops.length === 0) throw new TypeError("Cannot compose: no operators given");
  for (let i = 0; i + 1 < ops.length; i++) {
    if (ops[i].cols !== ops[i + 1].rows) {
      throw new TypeError(
        `Cannot compose operators ${i} (${ops[i].rows}x${ops[i].cols}) and ${i + 1} (${
          ops[i + 1].rows
        }x${ops[i + 1].cols}): inner sizes ${ops[i].cols} and ${ops[i + 1].rows} differ`,
      );
    }
  }
  return ops.length === 1 ? ops[0] : new Composed(ops);
}

class Composed implements LinearOp {
  readonly rows: number;
  readonly cols: number;
  constructor(readonly ops: LinearOp[]) {
    this.rows = ops[0].rows;
    this.cols = ops[ops.length - 1].cols;
  }
  apply(v: Matrix): Matrix {
    checkVector(this, "a composed operator", v);
    return this.ops.reduceRight((x, op) => op.apply(x), v);
  }
  transpose(): LinearOp {
    return new Composed(this.ops.map((op) => op.transpose()).reverse());
  }
  toDense(): Matrix {
    const dense = this.ops.filter((op) => !(op instanceof IdentityOp)).map((op) => op.toDense());
    if (dense.length === 0) throw new IdentityOp(this.rows).toDense();
    return dense.reduce((a, b) => mm(a, b));
  }
}
