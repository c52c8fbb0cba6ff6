/**
 * The QR decomposition A = Q R, differentiable in reverse and forward mode by
 * closed-form rules (never by differentiating the Householder reflections), and the
 * triangular solve that those rules apply R^-1 with, itself a differentiable
 * primitive so that the rules can be differentiated again (grad of grad).
 *
 * The factorization runs on host float64 data (lib/linalg: Householder, diag(R) >= 0).
 * It is one primitive whose output packs Q and R into one flat row, unpacked by
 * gathers, so every derivative of Q and R flows through the rules below.
 *
 * Derivative rules, thin QR of an m x n A with m >= n (k = n, R invertible):
 * - forward: Y = dA R^-1, X = Q^T Y, W = triu(X) + tril(X, -1)^T (the upper triangular
 *   dR R^-1; X - W = Q^T dQ is skew), dR = W R, dQ = Y - Q W;
 * - reverse (Walter and Lehmann; PyTorch's linalg_qr_backward): M = R Rbar^T -
 *   Qbar^T Q, Abar = (Qbar + Q copyltu(M)) R^-T with copyltu(M) = tril(M) + tril(M, -1)^T,
 *   the adjoint of the forward rule (tests/qr_test.ts checks the two against each other).
 *
 * For m < n, A = [X | Y] with X m x m: Q R_X = X is the square case and R_Y = Q^T Y, so
 * Qbar gains Y R_Ybar^T, Ybar = Q R_Ybar, and dR_Y = dQ^T Y + Q^T dY (exact whenever
 * X is invertible, the condition for the QR to be unique).
 *
 * R^-1 and R^-T are applied by substitution ({@link triangularSolve}), not by forming
 * R^-1 on the host and multiplying: substitution is backward stable where an explicit
 * inverse loses up to another factor cond(R), and as a primitive with its own rules it
 * keeps the derivative rules differentiable (grad of grad, jvp of grad), which a host
 * inverse would make constant.
 *
 * @module
 */
import type { Matrix } from "./matrix.ts";
import { shapeStr } from "./errors.ts";
import { bind, type Primitive } from "./core.ts";
import { checkMatrix, checkSameKernel, fullLike, promote } from "./ops/common.ts";
import { binaryRaw, unaryRaw } from "./ops/elementwise.ts";
import { mm } from "./ops/matmul.ts";
import { fromHost, hostF64 } from "./ops/host.ts";
import { castRaw, gatherRaw } from "./ops/structure.ts";
import { hstack, sliceRaw } from "./ops/stack.ts";
import { checkKernelDType } from "./registry.ts";
import { epsOf } from "./tolerance.ts";
import { qrHost } from "./linalg/mod.ts";

const add = (a: Matrix, b: Matrix) => binaryRaw("add", a, b);
const sub = (a: Matrix, b: Matrix) => binaryRaw("sub", a, b);

/** The entries (i, j) of a k x k matrix where `keep` holds, from (j, i) if `flip`; else 0. */
function triPart(X: Matrix, keep: (i: number, j: number) => boolean, flip = false): Matrix {
  const k = X.rows;
  const index = new Int32Array(k * k).fill(-1);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) if (keep(i, j)) index[i * k + j] = flip ? j * k + i : i * k + j;
  }
  return gatherRaw(X, { index, rows: k, cols: k });
}

// ---------------------------------------------------------------------------
// Triangular solve

/** Options of {@link triangularSolve}. */
export interface TriangularSolveOptions {
  /** T is lower triangular (its strictly upper part is ignored); upper by default. */
  lower?: boolean;
  /** Use T^T in place of T. */
  transpose?: boolean;
  /** Solve op(T) X = B (true, the default) or X op(T) = B (false). */
  left?: boolean;
}

type Solve = Required<TriangularSolveOptions>;

/** Substitution on host data; b is the right-hand side (rows x cols). */
function solveHost(t: Float64Array, b: Float64Array, rows: number, cols: number, p: Solve) {
  const k = p.left ? rows : cols;
  // Each right-hand side (a column of B, or a row when !left) solves S x = b with
  // S = op(T) (left) or op(T)^T (right); flip says S(i, j) = T(j, i).
  const flip = p.transpose !== !p.left;
  const lowerS = p.lower !== flip;
  const s = (i: number, j: number) => flip ? t[j * k + i] : t[i * k + j];
  const at = p.left
    ? (i: number, c: number) => i * cols + c
    : (i: number, c: number) => c * cols + i;
  const x = new Float64Array(rows * cols);
  for (let c = 0; c < (p.left ? cols : rows); c++) {
    for (let step = 0; step < k; step++) {
      const i = lowerS ? step : k - 1 - step;
      let v = b[at(i, c)];
      if (lowerS) { for (let j = 0; j < i; j++) v -= s(i, j) * x[at(j, c)]; }
      else for (let j = i + 1; j < k; j++) v -= s(i, j) * x[at(j, c)];
      x[at(i, c)] = v / s(i, i);
    }
  }
  return x;
}

/** The triangle of T that the solve reads (the derivative of T lives there). */
const triangle = (T: Matrix, p: Solve) => triPart(T, p.lower ? (i, j) => i >= j : (i, j) => i <= j);

/**
 * X = op(T)^-1 B (left) or B op(T)^-1 (right). With S = op(T), left: dX = S^-1 (dB -
 * dS X), Bbar = S^-T Xbar, Sbar = -Bbar X^T; right: dX = (dB - X dS) S^-1, Bbar =
 * Xbar S^-T, Sbar = -X^T Bbar; Tbar is Sbar (transposed back) on T's triangle.
 */
const solveP: Primitive<Solve> = {
  name: "triangularSolve",
  forward: ([T, B], p) => {
    const t = hostF64("solve a triangular system", T);
    for (let i = 0; i < T.rows; i++) {
      if (t[i * T.rows + i] === 0) {
        throw new RangeError(
          `Cannot solve a triangular system with T ${shapeStr(T)} and B ${
            shapeStr(B)
          }: T is singular (diagonal entry ${i} is 0)`,
        );
      }
    }
    const x = solveHost(t, hostF64("solve a triangular system", B), B.rows, B.cols, p);
    return fromHost(B, x, B.rows, B.cols);
  },
  vjp: (g, [T], X, p, needs) => {
    const Bb = bind(solveP, [T, g], { ...p, transpose: !p.transpose });
    let Tb: Matrix | null = null;
    if (needs[0]) {
      const St = p.left
        ? (p.transpose ? mm(X, Bb, false, true) : mm(Bb, X, false, true))
        : (p.transpose ? mm(Bb, X, true, false) : mm(X, Bb, true, false));
      Tb = unaryRaw("neg", triangle(St, p));
    }
    return [Tb, needs[1] ? Bb : null];
  },
  jvp: ([dT, dB], [T], X, p) => {
    let rhs = dB;
    if (dT) {
      const dTX = p.left
        ? mm(triangle(dT, p), X, p.transpose, false)
        : mm(X, triangle(dT, p), false, p.transpose);
      rhs = rhs ? sub(rhs, dTX) : unaryRaw("neg", dTX);
    }
    return bind(solveP, [T, rhs!], p);
  },
};

/**
 * Solve a triangular system: X with op(T) X = B (default) or X op(T) = B
 * (`left: false`), op(T) = T or T^T (`transpose`), T upper triangular or lower
 * (`lower`); only that triangle of T is read, and T's gradient lives there. Runs on
 * host float64 data by substitution; the result has the promoted dtype of T and B.
 * Differentiable to any order in T and B (the rules are triangular solves again).
 *
 * @example
 * ```ts
 * import { Matrix, triangularSolve } from "../mod.ts";
 * const R = Matrix.from([[2, 1], [0, 4]]);
 * console.log(triangularSolve(R, Matrix.from([[3], [4]])).toArray()); // [[1], [1]]
 * console.log(triangularSolve(R, Matrix.from([[2, 5]]), { left: false }).toArray()); // [[1, 1]]
 * ```
 *
 * @throws {TypeError} if T is not square or B's size does not match it.
 * @throws {RangeError} if T has a zero on its diagonal.
 */
export function triangularSolve(
  T: Matrix,
  B: Matrix,
  opts: TriangularSolveOptions = {},
): Matrix {
  const action = "solve a triangular system";
  checkMatrix(action, T, "T");
  checkMatrix(action, B, "B");
  checkSameKernel(action, T, B);
  const p: Solve = { lower: false, transpose: false, left: true };
  for (const key of ["lower", "transpose", "left"] as const) {
    const v = opts[key];
    if (v !== undefined && typeof v !== "boolean") {
      throw new TypeError(`Cannot ${action}: ${key} must be a boolean, got ${typeof v}`);
    }
    if (v !== undefined) p[key] = v;
  }
  const size = p.left ? B.rows : B.cols;
  if (T.rows !== T.cols || size !== T.rows) {
    throw new TypeError(
      `Cannot ${action} ${p.left ? "op(T) X = B" : "X op(T) = B"} with T ${shapeStr(T)} and B ${
        shapeStr(B)
      }: T must be square with as many rows as B has ${p.left ? "rows" : "columns"}`,
    );
  }
  const dtype = promote(T.dtype, B.dtype);
  checkKernelDType(action, T.kernel, dtype);
  return bind(solveP, [castRaw(T, dtype), castRaw(B, dtype)], p);
}

const solve = (T: Matrix, B: Matrix, transpose: boolean) =>
  bind(solveP, [T, B], { lower: false, transpose, left: false });

// ---------------------------------------------------------------------------
// QR

/** Options of {@link qr}. */
export interface QrOptions {
  /** Square Q (m x m) and R m x n; thin (k = min(m, n): Q m x k, R k x n) by default. */
  full?: boolean;
}

/** The result of {@link qr}: A = Q R. */
export interface QrResult {
  /** Orthonormal columns: m x k (thin) or m x m (full). */
  Q: Matrix;
  /** Upper triangular (trapezoidal when m < n) with diag(R) >= 0: k x n or m x n. */
  R: Matrix;
}

interface Params {
  m: number;
  n: number;
  /** Full and m > n (for m <= n the full QR is the thin one). */
  full: boolean;
}

const sizes = (p: Params) => {
  const k = Math.min(p.m, p.n), c = p.full ? p.m : k;
  return { k, qCols: c, rRows: c, qLen: p.m * c, len: p.m * c + c * p.n };
};

function range(from: number, count: number): Int32Array {
  return Int32Array.from({ length: count }, (_, i) => from + i);
}

function unpack(P: Matrix, p: Params): { Q: Matrix; R: Matrix } {
  const { qCols, rRows, qLen } = sizes(p);
  return {
    Q: gatherRaw(P, { index: range(0, qLen), rows: p.m, cols: qCols }),
    R: gatherRaw(P, { index: range(qLen, rRows * p.n), rows: rRows, cols: p.n }),
  };
}

function pack(Q: Matrix, R: Matrix, p: Params): Matrix {
  const { len, qLen } = sizes(p);
  const place = (a: Matrix, from: number) => {
    const index = new Int32Array(len).fill(-1);
    for (let i = 0; i < a.rows * a.cols; i++) index[from + i] = i;
    return gatherRaw(a, { index, rows: 1, cols: len });
  };
  return add(place(Q, 0), place(R, qLen));
}

/**
 * Throw unless R's leading k x k block is safely invertible: every diagonal entry
 * above max(m, n) eps max|R| (NumPy's matrix_rank cut-off, eps of R's dtype), else A
 * is numerically rank deficient, its QR not unique and the derivative undefined.
 */
function checkRank(R: Matrix, p: Params): void {
  const r = hostF64("differentiate qr", R), k = Math.min(p.m, p.n);
  let big = 0;
  for (const x of r) big = Math.max(big, Math.abs(x));
  const tol = Math.max(p.m, p.n) * epsOf(R.dtype) * big;
  for (let i = 0; i < k; i++) {
    const d = r[i * p.n + i];
    if (!(d > tol)) {
      const what = p.m >= p.n
        ? `the ${p.m}x${p.n} input does not have full column rank`
        : `the leading ${p.m}x${p.m} block of the ${p.m}x${p.n} input is singular`;
      throw new RangeError(
        `Cannot differentiate qr: R is singular (R[${i}][${i}] = ${
          d.toExponential(2)
        }, not above the cut-off ${
          tol.toExponential(2)
        }), so ${what} and its QR factorization is not unique`,
      );
    }
  }
}

/** Thin reverse rule for m >= n: (Qbar + Q copyltu(R Rbar^T - Qbar^T Q)) R^-T. */
function tallVjp(Q: Matrix, R: Matrix, Qb: Matrix, Rb: Matrix): Matrix {
  const M = sub(mm(R, Rb, false, true), mm(Qb, Q, true, false));
  const copyltu = add(triPart(M, (i, j) => i >= j), triPart(M, (i, j) => i < j, true));
  return solve(R, add(Qb, mm(Q, copyltu)), true);
}

/** Thin forward rule for m >= n: dR = W R, dQ = dA R^-1 - Q W. */
function tallJvp(Q: Matrix, R: Matrix, dA: Matrix): { dQ: Matrix; dR: Matrix } {
  const Y = solve(R, dA, false);
  const X = mm(Q, Y, true, false);
  const W = add(triPart(X, (i, j) => i <= j), triPart(X, (i, j) => i < j, true));
  return { dQ: sub(Y, mm(Q, W)), dR: mm(W, R) };
}

/** Full QR with m > n: accept a Q_perp cotangent only through Q_perp Q_perp^T. */
function complementCotangent(Q2: Matrix, Qb2: Matrix, Q1: Matrix, p: Params): Matrix {
  const C = hostF64("differentiate qr", mm(Q2, Qb2, true, false));
  const r = Q2.cols;
  let asym = 0, scale = 1e-300;
  for (const x of hostF64("differentiate qr", Qb2)) scale = Math.max(scale, Math.abs(x));
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < i; j++) asym = Math.max(asym, Math.abs(C[i * r + j] - C[j * r + i]));
  }
  if (asym > 1e-8 * scale) {
    throw new RangeError(
      `Cannot differentiate qr with { full: true } of a ${p.m}x${p.n} input: columns ${p.n}..${
        p.m - 1
      } of Q span the orthogonal complement of A's columns, where any orthonormal basis is a valid QR, and the loss depends on that choice (Q_perp^T Qbar_perp is not symmetric: asymmetry ${
        asym.toExponential(2)
      } of ${
        scale.toExponential(2)
      }); only functions of Q_perp Q_perp^T = I - Q Q^T have a gradient`,
    );
  }
  return unaryRaw("neg", mm(Q2, mm(Qb2, Q1, true, false))); // as orthcomp's rule
}

const qrP: Primitive<Params> = {
  name: "qr",
  forward: ([A], p) => {
    const { q, r } = qrHost(hostF64("compute qr", A), p.m, p.n, { full: p.full });
    const packed = new Float64Array(q.length + r.length);
    packed.set(q);
    packed.set(r, q.length);
    return fromHost(A, packed, 1, packed.length);
  },
  vjp: (g, [A], out, p) => {
    const { m, n } = p, k = Math.min(m, n);
    if (k === 0) return [fullLike(A, m, n, 0)];
    let { Q, R } = unpack(out, p);
    let { Q: Qb, R: Rb } = unpack(g, p);
    checkRank(R, p);
    if (p.full) {
      const Q1 = sliceRaw(Q, 0, m, 0, n);
      const extra = complementCotangent(sliceRaw(Q, 0, m, n, m), sliceRaw(Qb, 0, m, n, m), Q1, p);
      [Q, R] = [Q1, sliceRaw(R, 0, n, 0, n)];
      [Qb, Rb] = [add(sliceRaw(Qb, 0, m, 0, n), extra), sliceRaw(Rb, 0, n, 0, n)];
    }
    if (m >= n) return [tallVjp(Q, R, Qb, Rb)];
    const Y = sliceRaw(A, 0, m, m, n), Vb = sliceRaw(Rb, 0, m, m, n);
    const Xb = tallVjp(
      Q,
      sliceRaw(R, 0, m, 0, m),
      add(Qb, mm(Y, Vb, false, true)),
      sliceRaw(Rb, 0, m, 0, m),
    );
    return [hstack(Xb, mm(Q, Vb))];
  },
  jvp: ([dA], [A], out, p) => {
    const { m, n } = p, k = Math.min(m, n);
    if (k === 0) return fullLike(out, 1, out.cols, 0);
    if (p.full) {
      throw new RangeError(
        `Cannot compute the jvp of qr with { full: true } of a ${m}x${n} input: columns ${n}..${
          m - 1
        } of Q are an arbitrary orthonormal basis of the complement of A's columns, so their derivative is not defined; use the thin QR, and orthcomp(Q) for a differentiable complement`,
      );
    }
    const { Q, R } = unpack(out, p);
    checkRank(R, p);
    if (m >= n) {
      const { dQ, dR } = tallJvp(Q, R, dA!);
      return pack(dQ, dR, p);
    }
    const { dQ, dR: dU } = tallJvp(Q, sliceRaw(R, 0, m, 0, m), sliceRaw(dA!, 0, m, 0, m));
    const dV = add(
      mm(dQ, sliceRaw(A, 0, m, m, n), true, false),
      mm(Q, sliceRaw(dA!, 0, m, m, n), true, false),
    );
    return pack(dQ, hstack(dU, dV), p);
  },
};

/**
 * The QR decomposition A = Q R by Householder reflections: thin by default
 * (k = min(m, n); Q m x k with orthonormal columns, R k x n upper triangular), full
 * with `{ full: true }` (Q m x m orthogonal, R m x n). Deterministic: diag(R) >= 0.
 * Runs on host float64 data; Q and R have A's dtype and kernel.
 *
 * Differentiable by closed-form rules (see the module doc) wherever the QR is unique:
 * A's leading min(m, n) columns independent (tall and square: full column rank;
 * wide: leading m x m block invertible). Elsewhere the derivative throws a
 * RangeError saying R is singular. With `full` and m > n, the last m - n columns of
 * Q are an arbitrary basis of a subspace: reverse mode accepts losses that depend on
 * them only through their projector I - Q Q^T (or not at all); forward mode throws.
 * The rules apply R^-1 with {@link triangularSolve}, so they differentiate again.
 *
 * @example
 * ```ts
 * import { matmul, Matrix, qr } from "../mod.ts";
 * const A = Matrix.from([[3, 1], [4, 1], [0, 2]]);
 * const { Q, R } = qr(A);
 * console.log(Q.shape, R.shape, R.get(0, 0)); // [3, 2] [2, 2] 5
 * console.log(matmul(Q, R).toArray()); // A again, to rounding
 * console.log(qr(A, { full: true }).Q.shape); // [3, 3]
 * ```
 *
 * @throws {TypeError} if A is not a Matrix or `full` is not a boolean.
 * @throws {RangeError} if A holds NaN or Infinity.
 */
export function qr(A: Matrix, opts: QrOptions = {}): QrResult {
  const action = "compute qr";
  checkMatrix(action, A, "A");
  const full = opts.full ?? false;
  if (typeof full !== "boolean") {
    throw new TypeError(`Cannot ${action}: full must be a boolean, got ${typeof full}`);
  }
  const p: Params = { m: A.rows, n: A.cols, full: full && A.rows > A.cols };
  return unpack(bind(qrP, [A], p), p);
}
