/**
 * Singular value decomposition of a row-major float64 matrix by QR-preconditioned
 * one-sided Jacobi.
 *
 * @module
 */

import { bidiagonalQr } from "./bdsqr.ts";
import { bidiagonalize, formLeft, formRight } from "./bidiag.ts";
import { applyQ, householderQr, norm2 } from "./householder.ts";
import { jacobiOrthogonalize, rowViews } from "./jacobi.ts";
import { complementFromQr } from "./orthcomp_host.ts";
import { checkShape, maxAbsFinite, pow2Scale, transpose } from "./validate.ts";

/** Options for {@link svdHost}. */
export interface SvdHostOptions {
  /** Return square U (m x m) and V (n x n) instead of the thin factors. */
  full?: boolean;
}

/** The result of {@link svdHost}: A = U diag(s) V^T, all arrays row-major. */
export interface SvdHostResult {
  /** Left singular vectors as columns: m x p thin, m x m full (p = min(m, n)). */
  u: Float64Array;
  /** Singular values, length p, descending and non-negative. */
  s: Float64Array;
  /** Right singular vectors as columns: n x p thin, n x n full. */
  v: Float64Array;
}

/**
 * Singular value decomposition A = U diag(s) V^T of an m x n row-major matrix.
 *
 * Thin (default): U is m x p, s has length p and V is n x p, p = min(m, n). Full
 * (`{ full: true }`): U is m x m and V is n x n, orthogonal; s still has length p.
 * s is descending and non-negative. Columns of U and V for zero singular values (and
 * the extra columns of a full SVD) complete an orthonormal basis, so U^T U = I and
 * V^T V = I always, even for a zero matrix.
 *
 * Sign convention, so results are deterministic: each pair (u_i, v_i) is negated if
 * needed so that the entry of largest magnitude in u_i (the first such entry on ties)
 * is positive. Columns of a full U or V without a partner follow the same rule on
 * their own. Singular vectors of repeated singular values are not unique; which basis
 * comes out is deterministic but arbitrary.
 *
 * Algorithm: the input is scaled by a power of two (so entries near 1e-300 or 1e300
 * neither underflow nor overflow); then, with B = A if m >= n and B = A^T otherwise
 * (r = min(m, n)), one of two methods runs on the m x r matrix B. Neither forms A^T A,
 * so small singular values keep their accuracy.
 *
 * - r <= 16: a column-pivoted Householder QR gives B P = Q R; one-sided Jacobi
 *   (Hestenes, de Rijk pivoting, tolerance sqrt(r) eps) runs on the small r x r matrix
 *   R^T, giving R = J diag(s) W^T, hence B = (Q J) diag(s) (P W)^T. A 9000 x 3 input
 *   thus costs one QR of 9000 x 3 and a 3 x 3 Jacobi.
 * - r > 16: Golub-Kahan Householder bidiagonalization B = Q1 Bd P1^T (of R from an
 *   unpivoted QR B = Q R first when m >= 1.6 r, as LAPACK's dgesvd), then implicit QR
 *   iterations on the bidiagonal Bd after LAPACK's dbdsqr (Demmel-Kahan: zero-shift
 *   sweeps where a shift would cost small singular values their relative accuracy,
 *   relative convergence tests), the rotations accumulated into U = Q1 and V = P1.
 *   The singular values are first found without the rotations, in O(r^2), and then
 *   serve as shifts, which saves about a quarter of the rotations. Roughly 13 r^3
 *   flops for a full square SVD, most of them in the rotations (a 500 x 500 takes a
 *   few tenths of a second); O(m r^2) for a tall one.
 *
 * @example Thin SVD of a 3 x 2 matrix
 * ```ts
 * import assert from "node:assert/strict";
 * import { svdHost } from "./svd_host.ts";
 *
 * const a = Float64Array.from([3, 0, 0, 4, 0, 0]); // rows (3,0), (0,4), (0,0)
 * const { u, s, v } = svdHost(a, 3, 2);
 * assert.ok(Math.abs(s[0] - 4) < 1e-14 && Math.abs(s[1] - 3) < 1e-14);
 * // u_1 = e_2 and v_1 = e_2: the largest entry of each U column is positive.
 * assert.ok(Math.abs(u[2] - 1) < 1e-14 && Math.abs(v[2] - 1) < 1e-14);
 * // Full SVD: square orthogonal U (3 x 3) and V (2 x 2).
 * const full = svdHost(a, 3, 2, { full: true });
 * assert.equal(full.u.length, 9);
 * assert.equal(full.v.length, 4);
 * assert.equal(full.s.length, 2);
 * ```
 *
 * @throws {TypeError} if `a` is not a Float64Array of length m * n.
 * @throws {RangeError} if m or n is not a non-negative integer, or if `a` holds NaN
 * or Infinity ("Cannot compute svd: input contains NaN or Infinity").
 */
export function svdHost(
  a: Float64Array,
  m: number,
  n: number,
  opts: SvdHostOptions = {},
): SvdHostResult {
  checkShape("svd", a, m, n);
  const maxAbs = maxAbsFinite("svd", a);
  const full = opts.full === true;
  const p = Math.min(m, n);
  const uCols = full ? m : p;
  const vCols = full ? n : p;
  if (p === 0 || maxAbs === 0) {
    return { u: eye(m, uCols), s: new Float64Array(p), v: eye(n, vCols) };
  }
  const scale = pow2Scale(maxAbs);
  let result: SvdHostResult;
  if (m >= n) {
    // B = A; column-contiguous storage of A is A^T in row-major order.
    result = tallSvd(transpose(a, m, n, scale), m, n, full);
  } else {
    // B = A^T (n x m); its columns are A's rows, already contiguous.
    const bc = new Float64Array(m * n);
    for (let i = 0; i < bc.length; i++) bc[i] = a[i] / scale;
    const t = tallSvd(bc, n, m, full);
    result = { u: t.v, s: t.s, v: t.u };
  }
  for (let i = 0; i < p; i++) result.s[i] *= scale;
  fixSigns(result.u, m, uCols, result.v, n, vCols, p);
  return result;
}

/** Up to this many columns (after transposing wide inputs) the SVD runs by Jacobi. */
const JACOBI_MAX = 16;
/** From this aspect ratio m / n on, a QR reduction to n x n precedes bidiagonalization. */
const QR_FIRST_RATIO = 1.6;

/**
 * SVD of the m x n matrix B (m >= n >= 1), given column-contiguous in `bc` (which is
 * overwritten). Returns U m x n (m x m when `full`), s length n, V n x n.
 */
function tallSvd(bc: Float64Array, m: number, n: number, full: boolean): SvdHostResult {
  if (n <= JACOBI_MAX) return jacobiSvd(bc, m, n, full);
  const saved = bc.slice(); // for the (never observed) case that QR iterations stall
  const uCols = full ? m : n;
  let result: SvdHostResult | undefined;
  if (m >= QR_FIRST_RATIO * n) {
    // B = Q [R; 0]: take the SVD of the n x n R, then U = Q [U_R 0; 0 I].
    const f = householderQr(bc, m, n);
    const rc = new Float64Array(n * n); // column-contiguous R
    for (let j = 0; j < n; j++) rc.set(bc.subarray(j * m, j * m + j + 1), j * n);
    const small = bidiagonalSvd(rc, n, n, n);
    if (small !== undefined) {
      const uc = new Float64Array(m * uCols); // column-contiguous U
      const ur = small.u;
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < n; c++) uc[c * m + r] = ur[r * n + c];
      }
      for (let c = n; c < uCols; c++) uc[c * m + c] = 1;
      applyQ(f, uc, uCols);
      result = { u: transpose(uc, uCols, m), s: small.s, v: small.v };
    }
  } else {
    result = bidiagonalSvd(bc, m, n, uCols);
  }
  return result ?? jacobiSvd(saved, m, n, full);
}

/**
 * SVD of the column-contiguous m x n `bc` (m >= n, overwritten) by Golub-Kahan
 * bidiagonalization and bidiagonal QR iterations. U is m x uCols (n <= uCols <= m),
 * s descending, V n x n. Undefined if the QR iterations did not converge.
 */
function bidiagonalSvd(
  bc: Float64Array,
  m: number,
  n: number,
  uCols: number,
): SvdHostResult | undefined {
  const b = bidiagonalize(bc, m, n);
  const u = formLeft(b, uCols);
  const v = formRight(b);
  const d = b.d;
  if (!bidiagonalQr(d, b.e, u, m, uCols, v)) return undefined;
  for (let i = 0; i < n; i++) {
    if (d[i] < 0) {
      d[i] = -d[i];
      negateColumn(v, n, n, i);
    } else {
      d[i] = 0 + d[i]; // no -0
    }
  }
  const order = Array.from({ length: n }, (_, i) => i)
    .sort((i, j) => d[j] - d[i] || i - j);
  const s = Float64Array.from(order, (i) => d[i]);
  permuteColumns(u, m, uCols, order);
  permuteColumns(v, n, n, order);
  return { u, s, v };
}

/** Column c of the row-major rows x cols `x` becomes its column order[c], c < order.length. */
function permuteColumns(x: Float64Array, rows: number, cols: number, order: number[]) {
  const k = order.length;
  let identity = true;
  for (let c = 0; c < k; c++) if (order[c] !== c) identity = false;
  if (identity) return;
  const tmp = new Float64Array(k);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * cols, r * cols + k);
    for (let c = 0; c < k; c++) tmp[c] = row[order[c]];
    row.set(tmp);
  }
}

/**
 * SVD of the column-contiguous m x n `bc` (m >= n, overwritten) by column-pivoted QR
 * and one-sided Jacobi on R^T.
 */
function jacobiSvd(bc: Float64Array, m: number, n: number, full: boolean): SvdHostResult {
  const f = householderQr(bc, m, n, true);
  // Rows of x are the columns of X = R^T, i.e. the rows of R.
  const x = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) x[i * n + j] = bc[j * m + i];
  }
  const jt = eye(n, n); // becomes J^T: X J = Z with orthogonal columns
  const xRows = rowViews(x, n, n);
  jacobiOrthogonalize(xRows, rowViews(jt, n, n));

  const sigma = new Float64Array(n);
  for (let i = 0; i < n; i++) sigma[i] = norm2(xRows[i]);
  const order = Array.from({ length: n }, (_, i) => i)
    .sort((i, j) => sigma[j] - sigma[i] || i - j);
  const s = Float64Array.from(order, (i) => sigma[i]);
  let rank = 0;
  while (rank < n && s[rank] > 0) rank++;

  // V = P W: W's column c is z_order[c] / s[c], and row r of W goes to row perm[r].
  // Columns for zero singular values: the orthogonal complement of the others.
  const vc = new Float64Array(n * n); // column-contiguous V
  for (let c = 0; c < rank; c++) {
    const zc = order[c] * n;
    const inv = 1 / s[c];
    for (let r = 0; r < n; r++) vc[c * n + f.perm[r]] = x[zc + r] * inv;
  }
  const v = transpose(vc, n, n); // row-major; its last n - rank columns are still 0
  if (rank < n) {
    const comp = complementFromQr(vc.slice(0, rank * n), n, rank);
    const w = n - rank;
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < w; c++) v[r * n + rank + c] = comp[r * w + c];
    }
  }

  // U = Q [J_order; 0] (thin) or Q [J_order 0; 0 I] (full).
  const uCols = full ? m : n;
  // Column c of J_order is row order[c] of J^T.
  const uc = new Float64Array(m * uCols); // column-contiguous U
  for (let c = 0; c < n; c++) uc.set(jt.subarray(order[c] * n, order[c] * n + n), c * m);
  for (let c = n; c < uCols; c++) uc[c * m + c] = 1;
  applyQ(f, uc, uCols);
  return { u: transpose(uc, uCols, m), s, v };
}

/** Leading `cols` columns of the rows x rows identity, row-major. */
function eye(rows: number, cols: number): Float64Array {
  const e = new Float64Array(rows * cols);
  for (let i = 0; i < Math.min(rows, cols); i++) e[i * cols + i] = 1;
  return e;
}

/** Applies the documented sign convention to the columns of U (and their V partners). */
function fixSigns(
  u: Float64Array,
  m: number,
  uCols: number,
  v: Float64Array,
  n: number,
  vCols: number,
  p: number,
) {
  for (let c = 0; c < uCols; c++) {
    if (largestIsNegative(u, m, uCols, c)) {
      negateColumn(u, m, uCols, c);
      if (c < p) negateColumn(v, n, vCols, c);
    }
  }
  for (let c = p; c < vCols; c++) {
    if (largestIsNegative(v, n, vCols, c)) negateColumn(v, n, vCols, c);
  }
}

function largestIsNegative(x: Float64Array, rows: number, cols: number, c: number): boolean {
  let best = 0;
  let bestAbs = -1;
  for (let r = 0; r < rows; r++) {
    const val = Math.abs(x[r * cols + c]);
    if (val > bestAbs) {
      bestAbs = val;
      best = x[r * cols + c];
    }
  }
  return best < 0;
}

function negateColumn(x: Float64Array, rows: number, cols: number, c: number) {
  for (let r = 0; r < rows; r++) x[r * cols + c] = 0 - x[r * cols + c]; // 0 - x: no -0
}
