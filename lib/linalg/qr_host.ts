/**
 * Householder QR of a row-major float64 matrix.
 *
 * @module
 */

import { applyQ, householderQr } from "./householder.ts";
import { checkShape, maxAbsFinite, pow2Scale, transpose } from "./validate.ts";

/** Options for {@link qrHost}. */
export interface QrHostOptions {
  /** Return the full factorization (Q m x m, R m x n) instead of the thin one. */
  full?: boolean;
}

/** The result of {@link qrHost}: row-major Q (m x qCols) and R (rRows x n). */
export interface QrHostResult {
  /** Orthonormal columns, row-major m x qCols. */
  q: Float64Array;
  /** Upper triangular (trapezoidal when wide), non-negative diagonal, row-major rRows x n. */
  r: Float64Array;
  /** Columns of Q: min(m, n) thin, m full. */
  qCols: number;
  /** Rows of R: min(m, n) thin, m full. */
  rRows: number;
}

/**
 * Householder QR of an m x n row-major matrix: A = Q R.
 *
 * Thin (default): Q is m x k and R is k x n, k = min(m, n). Full (`{ full: true }`):
 * Q is m x m and R is m x n (rows k..m-1 zero). Q has orthonormal columns, R is upper
 * triangular (upper trapezoidal when m < n). Sign convention, so the result is
 * deterministic: diag(R) >= 0 (a row of R and the matching column of Q are negated
 * where the reflector left a negative diagonal entry); for a rank-deficient A the
 * factorization is still valid, with zeros or tiny values on diag(R). The input is
 * scaled by a power of two internally, so entries near the overflow or underflow
 * thresholds are fine. No column pivoting.
 *
 * @example Thin QR of a 3 x 2 matrix
 * ```ts
 * import assert from "node:assert/strict";
 * import { qrHost } from "./qr_host.ts";
 *
 * const a = Float64Array.from([3, 1, 4, 1, 0, 2]); // rows (3,1), (4,1), (0,2)
 * const { q, r, qCols, rRows } = qrHost(a, 3, 2);
 * assert.equal(qCols, 2);
 * assert.equal(rRows, 2);
 * assert.ok(Math.abs(r[0] - 5) < 1e-14); // norm of the first column
 * assert.equal(r[2], 0); // below the diagonal
 * // Q R reproduces A.
 * for (let i = 0; i < 3; i++) {
 *   for (let j = 0; j < 2; j++) {
 *     const qr = q[i * 2] * r[j] + q[i * 2 + 1] * r[2 + j];
 *     assert.ok(Math.abs(qr - a[i * 2 + j]) < 1e-14);
 *   }
 * }
 * ```
 *
 * @throws {TypeError} if `a` is not a Float64Array of length m * n.
 * @throws {RangeError} if m or n is not a non-negative integer, or `a` holds NaN or
 * Infinity.
 */
export function qrHost(
  a: Float64Array,
  m: number,
  n: number,
  opts: QrHostOptions = {},
): QrHostResult {
  checkShape("qr", a, m, n);
  const scale = pow2Scale(maxAbsFinite("qr", a));
  const full = opts.full === true;
  const k = Math.min(m, n);
  const qCols = full ? m : k;
  const rRows = full ? m : k;

  const f = householderQr(transpose(a, m, n, scale), m, n);
  const qc = new Float64Array(m * qCols); // column-contiguous Q
  for (let i = 0; i < qCols; i++) qc[i * m + i] = 1;
  applyQ(f, qc, qCols, true);
  const q = transpose(qc, qCols, m);

  const r = new Float64Array(rRows * n);
  for (let i = 0; i < k; i++) {
    // Flip row i of R and column i of Q when the diagonal came out negative.
    const flip = f.a[i * m + i] < 0 ? -scale : scale;
    for (let j = i; j < n; j++) r[i * n + j] = f.a[j * m + i] * flip + 0; // no -0
    if (flip < 0) {
      for (let row = 0; row < m; row++) q[row * qCols + i] = 0 - q[row * qCols + i];
    }
  }
  return { q, r, qCols, rRows };
}
