/**
 * Householder QR on column-contiguous float64 data, the core of `qrHost`,
 * `orthcompHost` and `svdHost`. Internal: not part of the public API.
 *
 * Storage: an m x n matrix is held "column-contiguous", column j occupying
 * `a[j*m .. j*m + m)` (that is, the transpose in row-major order), so reflectors and
 * the columns they act on are contiguous runs. After factoring, the upper triangle
 * holds R and the part below the diagonal of column k holds the Householder vector
 * v_k (its leading 1 implicit), with H_k = I - tau_k v_k v_k^T and
 * A P = H_0 H_1 ... H_{K-1} R, K = min(m, n), as in LAPACK's dgeqrf / dgeqp3.
 *
 * @module
 */

/** A factored matrix: `a` and `tau` as described in the module doc. */
export interface HouseholderQr {
  /** Column-contiguous m x n storage: R above, reflectors below the diagonal. */
  readonly a: Float64Array;
  /** Number of rows. */
  readonly m: number;
  /** Number of columns. */
  readonly n: number;
  /** Reflector scalars, length min(m, n); 0 means H_k = I. */
  readonly tau: Float64Array;
  /** Column permutation: column j of A P is column `perm[j]` of A. */
  readonly perm: Int32Array;
}

const SQRT_EPS = Math.sqrt(Number.EPSILON);
/** Column norms below this are treated as zero (1 / NEGLIGIBLE must not overflow). */
const NEGLIGIBLE = 1e-290;

/**
 * Factors the column-contiguous m x n matrix `a` in place by Householder reflections,
 * with column pivoting (largest remaining column norm first, as dgeqp3) when `pivot`.
 * Entries should be scaled to magnitude at most about 1 (the callers pre-scale by a
 * power of two), so sums of squares cannot overflow.
 */
export function householderQr(
  a: Float64Array,
  m: number,
  n: number,
  pivot = false,
): HouseholderQr {
  const kMax = Math.min(m, n);
  const tau = new Float64Array(kMax);
  const perm = new Int32Array(n);
  for (let j = 0; j < n; j++) perm[j] = j;
  const cols = new Array<Float64Array>(n);
  for (let j = 0; j < n; j++) cols[j] = a.subarray(j * m, (j + 1) * m);
  // Partial column norms (vn1) and their values at the last recomputation (vn2).
  const vn1 = new Float64Array(pivot ? n : 0);
  const vn2 = new Float64Array(pivot ? n : 0);
  if (pivot) {
    for (let j = 0; j < n; j++) vn1[j] = vn2[j] = norm2(cols[j]);
  }
  for (let k = 0; k < kMax; k++) {
    if (pivot) {
      let best = k;
      for (let j = k + 1; j < n; j++) if (vn1[j] > vn1[best]) best = j;
      if (best !== k) {
        swapRuns(cols[k], cols[best]);
        swapEntries(perm, k, best);
        swapEntries(vn1, k, best);
        swapEntries(vn2, k, best);
      }
    }
    // Views starting at row k: V8 drops bounds checks on 0-based loops over a view.
    const v = cols[k].subarray(k);
    const t = makeReflector(v);
    tau[k] = t;
    if (t !== 0) {
      for (let j = k + 1; j < n; j++) reflect(v, cols[j].subarray(k), t);
    }
    if (pivot) downdateNorms(cols, k, vn1, vn2);
  }
  return { a, m, n, tau, perm };
}

/**
 * Overwrites B with Q B, where Q = H_0 ... H_{K-1} is the orthogonal factor of `f`
 * and B is m x `cols`, column-contiguous in `b` like the factored matrix. With
 * `identityLike`, B must be leading columns of the identity (more generally, its
 * columns left of k must vanish in rows k..m-1), so H_k skips them, as LAPACK's dorg2r.
 */
export function applyQ(
  f: HouseholderQr,
  b: Float64Array,
  cols: number,
  identityLike = false,
): void {
  const { a, m, tau } = f;
  for (let k = tau.length - 1; k >= 0; k--) {
    const t = tau[k];
    if (t === 0) continue;
    const v = a.subarray(k * m + k, (k + 1) * m); // v[0] = 1 implicitly
    for (let j = identityLike ? Math.min(k, cols) : 0; j < cols; j++) {
      reflect(v, b.subarray(j * m + k, (j + 1) * m), t);
    }
  }
}

/**
 * The Euclidean norm of `x`, accurate when the plain sum of squares
 * would underflow (entries below about 1e-154); entries must be at most about 1e150.
 */
export function norm2(x: Float64Array): number {
  const len = x.length;
  let ss = 0;
  for (let i = 0; i < len; i++) ss += x[i] * x[i];
  if (ss >= 1e-280) return Math.sqrt(ss);
  let max = 0;
  for (let i = 0; i < len; i++) max = Math.max(max, Math.abs(x[i]));
  if (max === 0) return 0;
  const inv = 1 / max;
  ss = 0;
  for (let i = 0; i < len; i++) {
    const y = x[i] * inv;
    ss += y * y;
  }
  return max * Math.sqrt(ss);
}

/**
 * Turns x = (alpha, x') into (beta, v') with H (alpha, x')^T = (beta, 0)^T for
 * H = I - tau (1, v')(1, v')^T, and returns tau (0 when x' = 0, H = I).
 */
function makeReflector(x: Float64Array): number {
  const xnorm = norm2(x.subarray(1));
  if (xnorm === 0) return 0;
  const alpha = x[0];
  const norm = Math.hypot(alpha, xnorm);
  if (norm < NEGLIGIBLE) {
    // Far below the (pre-scaled, order 1) matrix: zero it rather than divide by it.
    // This happens with exactly repeated columns, whose residuals shrink by a factor
    // of about eps at every step until they underflow.
    x.fill(0, 1);
    return 0;
  }
  const beta = alpha >= 0 ? -norm : norm;
  const scale = 1 / (alpha - beta);
  for (let i = 1; i < x.length; i++) x[i] *= scale;
  x[0] = beta;
  return (beta - alpha) / beta;
}

/** Applies H = I - t v v^T (v[0] = 1 implicit) to y, of the same length as v. */
function reflect(v: Float64Array, y: Float64Array, t: number) {
  const len = v.length;
  let s = y[0];
  for (let i = 1; i < len; i++) s += v[i] * y[i];
  s *= t;
  y[0] -= s;
  for (let i = 1; i < len; i++) y[i] -= s * v[i];
}

/** Updates the partial norms after step k, recomputing where cancellation hurts (dlaqp2). */
function downdateNorms(cols: Float64Array[], k: number, vn1: Float64Array, vn2: Float64Array) {
  for (let j = k + 1; j < cols.length; j++) {
    if (vn1[j] === 0) continue;
    const r = Math.abs(cols[j][k]) / vn1[j];
    const temp = Math.max(0, (1 - r) * (1 + r));
    const ratio = vn1[j] / vn2[j];
    if (temp * ratio * ratio <= SQRT_EPS) {
      vn1[j] = vn2[j] = norm2(cols[j].subarray(k + 1));
    } else {
      vn1[j] *= Math.sqrt(temp);
    }
  }
}

function swapRuns(x: Float64Array, y: Float64Array) {
  for (let i = 0; i < x.length; i++) {
    const t = x[i];
    x[i] = y[i];
    y[i] = t;
  }
}

function swapEntries(x: Float64Array | Int32Array, i: number, j: number) {
  const v = x[i];
  x[i] = x[j];
  x[j] = v;
}
