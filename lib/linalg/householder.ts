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
 * Without pivoting, and in `applyQ` on 8 or more columns, reflectors are applied four
 * at a time as one block reflector I - V T V^T (LAPACK's dlarft / dlarfb), which
 * replaces latency-bound dot products by independent ones.
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
  if (!pivot && n >= BLOCK_MIN_COLS) {
    blockedQr(a, cols, m, n, tau);
    return { a, m, n, tau, perm };
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
  const kMax = tau.length;
  // With enough columns, reflectors go in blocks of NB (all but a tail of fewer).
  const kBlocked = cols >= BLOCK_MIN_COLS ? kMax - kMax % NB : 0;
  for (let k = kMax - 1; k >= kBlocked; k--) {
    const t = tau[k];
    if (t === 0) continue;
    const v = a.subarray(k * m + k, (k + 1) * m); // v[0] = 1 implicitly
    for (let j = identityLike ? Math.min(k, cols) : 0; j < cols; j++) {
      reflect(v, b.subarray(j * m + k, (j + 1) * m), t);
    }
  }
  if (kBlocked === 0) return;
  const blk = new ReflectorBlock(m);
  for (let k0 = kBlocked - NB; k0 >= 0; k0 -= NB) {
    blk.load(a, m, tau, k0);
    for (let j = identityLike ? Math.min(k0, cols) : 0; j < cols; j++) {
      blk.apply(b.subarray(j * m + k0, (j + 1) * m), false);
    }
  }
}

/** Reflectors per block in the blocked (compact WY) kernels. */
const NB = 4;
/** Fewest columns worth the set-up of a block (a dense panel and its T factor). */
const BLOCK_MIN_COLS = 8;

/**
 * NB consecutive reflectors H_k0 .. H_(k0+NB-1) as one block reflector
 * H_k0 ... H_(k0+NB-1) = I - V T V^T (LAPACK's dlarft), acting on rows k0..m-1:
 * V is held densely (unit diagonal and zeros above it explicit), one contiguous run
 * per reflector, and T is upper triangular NB x NB. Applying the block costs two
 * passes over a column, with NB independent dot products in the first, where NB
 * single reflectors cost 2 NB passes of latency-bound dot products.
 */
class ReflectorBlock {
  readonly #buf: Float64Array;
  readonly #t = new Float64Array(NB * NB);
  readonly #g = new Float64Array(NB);
  #v: Float64Array[] = [];

  constructor(m: number) {
    this.#buf = new Float64Array(NB * m);
  }

  /** Loads reflectors k0..k0+NB-1 of the factored column-contiguous `a` (m rows). */
  load(a: Float64Array, m: number, tau: Float64Array, k0: number): void {
    const len = m - k0;
    const t = this.#t;
    const v = new Array<Float64Array>(NB);
    for (let i = 0; i < NB; i++) {
      const vi = this.#buf.subarray(i * len, (i + 1) * len);
      vi.fill(0, 0, i);
      vi[i] = 1;
      const k = k0 + i;
      vi.set(a.subarray(k * m + k + 1, (k + 1) * m), i + 1);
      v[i] = vi;
    }
    // T[0:i, i] = -tau_i T[0:i, 0:i] (V[:, 0:i]^T v_i), T[i, i] = tau_i.
    for (let i = 0; i < NB; i++) {
      const ti = tau[k0 + i];
      t[i * NB + i] = ti;
      const vi = v[i];
      const g = this.#g;
      for (let j = 0; j < i; j++) {
        const vj = v[j];
        let sum = 0;
        for (let r = i; r < len; r++) sum += vj[r] * vi[r];
        g[j] = sum;
      }
      for (let j = 0; j < i; j++) {
        let sum = 0;
        for (let l = j; l < i; l++) sum += t[j * NB + l] * g[l];
        t[j * NB + i] = -ti * sum;
      }
      for (let j = i + 1; j < NB; j++) t[j * NB + i] = 0;
    }
    this.#v = v;
  }

  /** y <- (I - V T V^T) y, or with T^T when `transposed`; y has length m - k0. */
  apply(y: Float64Array, transposed: boolean): void {
    const [v0, v1, v2, v3] = this.#v;
    const t = this.#t;
    const len = y.length;
    let w0 = 0;
    let w1 = 0;
    let w2 = 0;
    let w3 = 0;
    for (let r = 0; r < len; r++) {
      const yr = y[r];
      w0 += v0[r] * yr;
      w1 += v1[r] * yr;
      w2 += v2[r] * yr;
      w3 += v3[r] * yr;
    }
    let u0: number, u1: number, u2: number, u3: number;
    if (transposed) {
      u0 = t[0] * w0;
      u1 = t[1] * w0 + t[5] * w1;
      u2 = t[2] * w0 + t[6] * w1 + t[10] * w2;
      u3 = t[3] * w0 + t[7] * w1 + t[11] * w2 + t[15] * w3;
    } else {
      u0 = t[0] * w0 + t[1] * w1 + t[2] * w2 + t[3] * w3;
      u1 = t[5] * w1 + t[6] * w2 + t[7] * w3;
      u2 = t[10] * w2 + t[11] * w3;
      u3 = t[15] * w3;
    }
    for (let r = 0; r < len; r++) {
      y[r] -= v0[r] * u0 + v1[r] * u1 + v2[r] * u2 + v3[r] * u3;
    }
  }
}

/**
 * Unpivoted QR of the m x n `a` (with `cols` its column views), in panels
 * of NB columns: each panel is factored column by column, then its reflectors are
 * applied to the columns right of it as one block.
 */
function blockedQr(
  a: Float64Array,
  cols: Float64Array[],
  m: number,
  n: number,
  tau: Float64Array,
) {
  const kMax = tau.length;
  const blk = new ReflectorBlock(m);
  for (let k0 = 0; k0 < kMax; k0 += NB) {
    const kb = Math.min(NB, kMax - k0);
    for (let k = k0; k < k0 + kb; k++) {
      const v = cols[k].subarray(k);
      const t = makeReflector(v);
      tau[k] = t;
      if (t !== 0) {
        for (let j = k + 1; j < k0 + kb; j++) reflect(v, cols[j].subarray(k), t);
      }
    }
    if (k0 + kb >= n) continue;
    if (kb === NB && n - k0 - kb >= 2) {
      blk.load(a, m, tau, k0);
      for (let j = k0 + kb; j < n; j++) blk.apply(cols[j].subarray(k0), true);
    } else {
      for (let k = k0; k < k0 + kb; k++) {
        const t = tau[k];
        if (t === 0) continue;
        const v = cols[k].subarray(k);
        for (let j = k0 + kb; j < n; j++) reflect(v, cols[j].subarray(k), t);
      }
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
export function makeReflector(x: Float64Array): number {
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
export function reflect(v: Float64Array, y: Float64Array, t: number) {
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
