/**
 * One-sided (Hestenes) Jacobi orthogonalization, the iterative core of `svdHost`.
 * Internal: not part of the public API.
 *
 * @module
 */

const EPS = Number.EPSILON;
/** Squared norms below this (norms below about 1e-145) are treated as exact zeros. */
const TINY = 1e-290;
/** A downdated squared norm below this fraction of its pair's larger one is recomputed. */
const REFRESH = 1e-4;

/** The result of {@link jacobiOrthogonalize}. */
export interface JacobiResult {
  /** Squared Euclidean norms of the final vectors. */
  readonly sq: Float64Array;
  /** Sweeps run (the last one made no rotation when converged). */
  readonly sweeps: number;
  /** Whether every pair met the orthogonality tolerance. */
  readonly converged: boolean;
}

/**
 * Rotates the vectors `x[0..count)` (equal lengths `len`, typically row views of one
 * row-major array) by plane rotations until every pair is orthogonal to working
 * precision: |x_p . x_q| <= tol ||x_p|| ||x_q|| with tol = sqrt(len) eps, the criterion
 * of LAPACK's dgesvj. Each rotation is also applied to `acc[p]`, `acc[q]` (`acc` holds
 * `count` vectors of length `len` too), so if the rows of `acc` start as the identity
 * they end as J^T, where X_final = X_initial J. One pass over memory per rotation
 * rotates both pairs and computes the dot product the next pair needs.
 *
 * Rotations are the classical Rutishauser ones (the smaller angle, so the longer
 * vector of a pair grows and the shorter one shrinks), with de Rijk's pivoting: before
 * pairing vector p with p+1..count-1, the longest remaining vector is swapped into
 * place p, so norms come out nearly sorted and sweeps are fewer. Squared norms are
 * updated by Rutishauser's formulas within a sweep (recomputed where cancellation
 * would cost accuracy) and recomputed exactly at the start of each sweep. Vectors whose
 * squared norm falls below 1e-290 (entries are assumed pre-scaled to at most about 1)
 * are set to zero and left alone. Stops after `maxSweeps` sweeps regardless.
 */
export function jacobiOrthogonalize(
  x: Float64Array[],
  acc: Float64Array[],
  maxSweeps = 60,
): JacobiResult {
  const count = x.length;
  const len = count > 0 ? x[0].length : 0;
  if (acc.length !== count || acc.some((r) => r.length !== len)) {
    throw new Error("jacobiOrthogonalize: acc must have as many rows as x, of x's length");
  }
  const tol = Math.sqrt(Math.max(len, 1)) * EPS;
  const sq = new Float64Array(count);
  refreshNorms(x, sq);
  let sweeps = 0;
  let converged = count < 2;
  while (!converged && sweeps < maxSweeps) {
    sweeps++;
    let rotations = 0;
    // Norms are downdated within a sweep; refresh them exactly once per sweep.
    if (sweeps > 1) refreshNorms(x, sq);
    for (let p = 0; p < count - 1; p++) {
      let best = p;
      for (let q = p + 1; q < count; q++) if (sq[q] > sq[best]) best = q;
      if (best !== p) {
        swap(x[p], x[best]);
        swap(acc[p], acc[best]);
        const t = sq[p];
        sq[p] = sq[best];
        sq[best] = t;
      }
      const xp = x[p];
      const ap = acc[p];
      // g = x_p . x_q for the current q; a rotation of (p, q) yields the next one.
      let g = dot(xp, x[p + 1]);
      for (let q = p + 1; q < count; q++) {
        const a = sq[p];
        const b = sq[q];
        const xq = x[q];
        const xNext = q + 1 < count ? x[q + 1] : xq;
        if (a === 0 || b === 0 || Math.abs(g) <= tol * Math.sqrt(a) * Math.sqrt(b)) {
          if (q + 1 < count) g = dot(xp, xNext);
          continue;
        }
        rotations++;
        const zeta = (b - a) / (2 * g);
        const t = Math.abs(zeta) > 1e150
          ? 0.5 / zeta
          : (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        const gNext = rotatePair(xp, xq, ap, acc[q], xNext, c, s);
        // Rutishauser's updates; the one that shrinks is recomputed when it has lost
        // more than 4 of its ~16 digits to cancellation.
        const big = Math.max(a, b);
        sq[p] = a - t * g;
        sq[q] = b + t * g;
        if (sq[p] < REFRESH * big) sq[p] = dot(xp, xp);
        if (sq[q] < REFRESH * big) sq[q] = dot(xq, xq);
        if (sq[q] < TINY) zero(xq, sq, q);
        g = gNext;
        if (sq[p] < TINY) {
          zero(xp, sq, p);
          g = 0;
        }
      }
    }
    converged = rotations === 0;
  }
  return { sq, sweeps, converged };
}

/** Row views `x[i*cols .. (i+1)*cols)` of a row-major rows x cols array. */
export function rowViews(x: Float64Array, rows: number, cols: number): Float64Array[] {
  const views = new Array<Float64Array>(rows);
  for (let i = 0; i < rows; i++) views[i] = x.subarray(i * cols, (i + 1) * cols);
  return views;
}

// The kernels below index views from 0 to their own length, which lets V8 drop
// bounds checks; on offset-indexed flat arrays they run about 1.5x slower.

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  const len = a.length;
  for (let k = 0; k < len; k++) s += a[k] * b[k];
  return s;
}

/**
 * (x, y) <- (c x - s y, s x + c y) and the same for (u, w), in one pass that also
 * returns (new x) . z, the dot product the next pair needs.
 */
function rotatePair(
  x: Float64Array,
  y: Float64Array,
  u: Float64Array,
  w: Float64Array,
  z: Float64Array,
  c: number,
  s: number,
): number {
  let d = 0;
  const len = x.length;
  for (let k = 0; k < len; k++) {
    const xk = x[k];
    const yk = y[k];
    const nx = c * xk - s * yk;
    x[k] = nx;
    y[k] = s * xk + c * yk;
    d += nx * z[k];
    const uk = u[k];
    const wk = w[k];
    u[k] = c * uk - s * wk;
    w[k] = s * uk + c * wk;
  }
  return d;
}

function refreshNorms(x: Float64Array[], sq: Float64Array) {
  for (let p = 0; p < x.length; p++) {
    sq[p] = dot(x[p], x[p]);
    if (sq[p] < TINY) zero(x[p], sq, p);
  }
}

function zero(x: Float64Array, sq: Float64Array, p: number) {
  x.fill(0);
  sq[p] = 0;
}

function swap(x: Float64Array, y: Float64Array) {
  const len = x.length;
  for (let k = 0; k < len; k++) {
    const t = x[k];
    x[k] = y[k];
    y[k] = t;
  }
}
