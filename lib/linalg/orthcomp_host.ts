/**
 * Orthogonal complement of a column space, on row-major float64 data.
 *
 * @module
 */

import { applyQ, householderQr } from "./householder.ts";
import { checkShape, maxAbsFinite, pow2Scale, transpose } from "./validate.ts";

/**
 * Orthonormal basis of the orthogonal complement of the column space of the m x k
 * matrix U (assumed to have orthonormal columns, k <= m): an m x (m - k) row-major
 * matrix U_perp with U^T U_perp = 0, U_perp^T U_perp = I and
 * U U^T + U_perp U_perp^T = I.
 *
 * It is columns k..m-1 of the full Q of the Householder QR of U (computed without
 * forming the first k columns), so it is deterministic. Any U of full column rank
 * works (the result spans the complement of its range); for k = m the result is an
 * empty m x 0 array. The cost is O(m^2 k) time and m (m - k) memory.
 *
 * @example Complement of a unit vector in R^3
 * ```ts
 * import assert from "node:assert/strict";
 * import { orthcompHost } from "./orthcomp_host.ts";
 *
 * const u = Float64Array.from([0.6, 0.8, 0]); // 3 x 1
 * const perp = orthcompHost(u, 3, 1); // 3 x 2
 * assert.equal(perp.length, 6);
 * for (let j = 0; j < 2; j++) {
 *   const dot = u[0] * perp[j] + u[1] * perp[2 + j] + u[2] * perp[4 + j];
 *   assert.ok(Math.abs(dot) < 1e-15);
 * }
 * assert.equal(orthcompHost(Float64Array.from([1, 0, 0, 1]), 2, 2).length, 0);
 * ```
 *
 * @throws {TypeError} if `u` is not a Float64Array of length m * k.
 * @throws {RangeError} if m or k is not a non-negative integer, k > m, or `u` holds
 * NaN or Infinity.
 */
export function orthcompHost(u: Float64Array, m: number, k: number): Float64Array {
  checkShape("orthcomp", u, m, k);
  if (k > m) {
    throw new RangeError(
      `Cannot compute orthcomp: U is ${m}x${k}, it needs at most as many columns as rows`,
    );
  }
  const scale = pow2Scale(maxAbsFinite("orthcomp", u));
  return complementFromQr(transpose(u, m, k, scale), m, k);
}

/**
 * Columns k..m-1 of the full Q of the Householder QR of the column-contiguous m x k
 * matrix `uc` (overwritten), as a row-major m x (m - k) array. No checks.
 */
export function complementFromQr(uc: Float64Array, m: number, k: number): Float64Array {
  const cols = m - k;
  const out = new Float64Array(m * cols); // column-contiguous: column j is e_(k+j)
  for (let j = 0; j < cols; j++) out[j * m + k + j] = 1;
  if (cols > 0 && k > 0) applyQ(householderQr(uc, m, k), out, cols);
  return transpose(out, cols, m);
}
