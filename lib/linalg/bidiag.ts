/**
 * Golub-Kahan Householder bidiagonalization on column-contiguous float64 data, the
 * first stage of the large-matrix path of `svdHost`. Internal: not part of the public
 * API.
 *
 * An m x n matrix A (m >= n) is reduced to upper bidiagonal form B = Q^T A P by
 * reflections from the left (H_0 .. H_{n-1}, zeroing columns below the diagonal) and
 * from the right (G_0 .. G_{n-3}, zeroing rows right of the superdiagonal), as
 * LAPACK's dgebd2: Q = H_0 H_1 ... H_{n-1} and P = G_0 G_1 ... G_{n-3}.
 *
 * @module
 */

import { applyQ, type HouseholderQr, makeReflector } from "./householder.ts";

/** A bidiagonalized matrix: B = Q^T A P with diagonal `d` and superdiagonal `e`. */
export interface Bidiagonal {
  /** Diagonal of B, length n. */
  readonly d: Float64Array;
  /** Superdiagonal of B, length n - 1 (entry i is B[i, i+1]). */
  readonly e: Float64Array;
  /** The left reflectors, in the layout of {@link HouseholderQr} (usable by `applyQ`). */
  readonly left: HouseholderQr;
  /**
   * The right reflectors as a factored (n-1) x (n-1) matrix in the same layout: G_i
   * acts on indices i+1..n-1 of R^n, that is on indices i.. of its trailing n-1.
   */
  readonly right: HouseholderQr;
}

/**
 * Bidiagonalizes the column-contiguous m x n matrix `a` (m >= n >= 1) in place: on
 * return `a` holds the left reflectors below its diagonal. Entries should be pre-scaled
 * to magnitude at most about 1, as for `householderQr`.
 */
export function bidiagonalize(a: Float64Array, m: number, n: number): Bidiagonal {
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(n - 1, 0));
  const tauq = new Float64Array(n);
  const n1 = Math.max(n - 1, 0);
  const taup = new Float64Array(n1);
  const right = new Float64Array(n1 * n1);
  const sv = new Float64Array(n); // s_j = v_i . (column j), for the left update
  const z = new Float64Array(m); // tp A w, for the right update
  const quad = new Float64Array(4);
  const cols = new Array<Float64Array>(n);
  for (let j = 0; j < n; j++) cols[j] = a.subarray(j * m, (j + 1) * m);
  // Two passes over the trailing columns per step. Step i's left reflector H_i is
  // applied lazily: pass 1 computes the dot products s_j = v_i . a_j (after the
  // right update of step i-1, applied in the same pass), which give row i of H_i A
  // and hence G_i; pass 2 applies H_i and accumulates z = tp (A w) for G_i at once.
  let pendingRight = false; // whether columns i+1.. still await step i-1's right update
  let wPrev = right; // step i-1's right reflector vector (w[0] = 1 implicit)
  for (let i = 0; i < n; i++) {
    // Column i is up to date: make the left reflector.
    const v = cols[i].subarray(i);
    const t = makeReflector(v);
    tauq[i] = t;
    d[i] = v[0];
    if (i >= n - 1) break;
    const rows = m - i; // length of v
    const zi = z.subarray(i, m); // z restricted to rows i..m-1
    // Pass 1: finish step i-1's right update and form s_j, four columns at a time
    // (independent dot products keep the floating-point units busy).
    let j = i + 1;
    if (pendingRight) {
      for (; j + 3 < n; j += 4) {
        updateDot4(cols, j, i, zi, v, wPrev, j - i, quad);
        for (let q = 0; q < 4; q++) sv[j + q] = quad[q] * t;
      }
      for (; j < n; j++) {
        updateDot4(cols, j, i, zi, v, wPrev, j - i, quad, 1);
        sv[j] = quad[0] * t;
      }
    } else if (t !== 0) {
      for (; j < n; j++) sv[j] = t * dotImplicit(v, cols[j].subarray(i));
    } else {
      sv.fill(0, j, n);
    }
    // Row i of H_i A, right of the diagonal, gives the right reflector G_i.
    const w = right.subarray(i * n1 + i, (i + 1) * n1);
    const len = w.length;
    for (let k = 0; k < len; k++) w[k] = cols[i + 1 + k][i] - sv[i + 1 + k];
    const tp = makeReflector(w);
    taup[i] = tp;
    e[i] = w[0];
    // Pass 2: apply H_i to rows i+1.. of columns i+1.., accumulating z = A w there.
    const zr = z.subarray(i + 1, m);
    const rest = rows - 1;
    zr.fill(0);
    const doRight = tp !== 0 && rest > 0;
    const vt = v.subarray(1); // v below its implicit leading 1
    const wAt = (j: number) => j === i + 1 ? 1 : w[j - i - 1];
    if (doRight) {
      let j = i + 1;
      for (; j + 3 < n; j += 4) reflectAccumulate4(cols, j, i + 1, vt, zr, sv, wAt);
      for (; j < n; j++) reflectAccumulate4(cols, j, i + 1, vt, zr, sv, wAt, 1);
    } else if (t !== 0) {
      for (let j = i + 1; j < n; j++) axpy(-sv[j], vt, cols[j].subarray(i + 1));
    }
    pendingRight = doRight;
    if (doRight) {
      for (let k = 0; k < rest; k++) zr[k] *= tp;
      // Column i+1 (w_0 = 1) is needed up to date by the next step at once.
      const col = cols[i + 1].subarray(i + 1);
      for (let k = 0; k < rest; k++) col[k] -= zr[k];
    }
    wPrev = w; // next step reads entry j - (i + 1) >= 1 for column j
  }
  const none = new Int32Array(0);
  return {
    d,
    e,
    left: { a, m, n, tau: tauq, perm: none },
    right: { a: right, m: n1, n: n1, tau: taup, perm: none },
  };
}

/**
 * The first `cols` columns of Q (m x m), row-major m x cols, for n <= cols <= m.
 */
export function formLeft(b: Bidiagonal, cols: number): Float64Array {
  const m = b.left.m;
  const qc = new Float64Array(m * cols); // column-contiguous
  for (let j = 0; j < cols; j++) qc[j * m + j] = 1;
  applyQ(b.left, qc, cols, true);
  return transposeTiled(qc, cols, m);
}

/** P (n x n), row-major: P = diag(1, P') with P' the orthogonal factor of `right`. */
export function formRight(b: Bidiagonal): Float64Array {
  const n = b.d.length;
  const n1 = n - 1;
  const pc = new Float64Array(n1 * n1); // column-contiguous P'
  for (let j = 0; j < n1; j++) pc[j * n1 + j] = 1;
  applyQ(b.right, pc, n1, true);
  const p = new Float64Array(n * n);
  p[0] = 1;
  for (let i = 0; i < n1; i++) {
    const row = p.subarray((i + 1) * n + 1, (i + 2) * n);
    for (let j = 0; j < n1; j++) row[j] = pc[j * n1 + i];
  }
  return p;
}

/**
 * For the `count` (4, or 1) columns j0.. of `cols`, from row `row` on: c <- c - w z
 * with w taken from `w` at index wAt.., then out = the dot products of v (leading
 * entry taken as 1) with the updated columns. With count 1 the other three slots
 * repeat the first column with w = 0, read but left as they are.
 */
function updateDot4(
  cols: Float64Array[],
  j0: number,
  row: number,
  z: Float64Array,
  v: Float64Array,
  w: Float64Array,
  wAt: number,
  out: Float64Array,
  count = 4,
) {
  const c1 = cols[j0].subarray(row);
  const one = count === 1;
  const c2 = one ? c1 : cols[j0 + 1].subarray(row);
  const c3 = one ? c1 : cols[j0 + 2].subarray(row);
  const c4 = one ? c1 : cols[j0 + 3].subarray(row);
  const w1 = w[wAt];
  const w2 = one ? 0 : w[wAt + 1];
  const w3 = one ? 0 : w[wAt + 2];
  const w4 = one ? 0 : w[wAt + 3];
  const len = c1.length;
  let s1 = c1[0] - w1 * z[0];
  let s2 = c2[0] - w2 * z[0];
  let s3 = c3[0] - w3 * z[0];
  let s4 = c4[0] - w4 * z[0];
  // Stores in reverse order: when the columns alias, c1 gets the update last.
  c4[0] = s4;
  c3[0] = s3;
  c2[0] = s2;
  c1[0] = s1;
  for (let k = 1; k < len; k++) {
    const zk = z[k];
    const vk = v[k];
    const y1 = c1[k] - w1 * zk;
    const y2 = c2[k] - w2 * zk;
    const y3 = c3[k] - w3 * zk;
    const y4 = c4[k] - w4 * zk;
    c4[k] = y4;
    c3[k] = y3;
    c2[k] = y2;
    c1[k] = y1;
    s1 += vk * y1;
    s2 += vk * y2;
    s3 += vk * y3;
    s4 += vk * y4;
  }
  out[0] = s1;
  out[1] = s2;
  out[2] = s3;
  out[3] = s4;
}

/**
 * For the `count` (4, or 1) columns j0.. of `cols`, from row `row` on: c <- c - s v
 * with s from `sv` at index j, then z += wAt(j) c with the updated columns, over the
 * length of v. With count 1 the other slots repeat the first column with s = w = 0.
 */
function reflectAccumulate4(
  cols: Float64Array[],
  j0: number,
  row: number,
  v: Float64Array,
  z: Float64Array,
  sv: Float64Array,
  wAt: (j: number) => number,
  count = 4,
) {
  const c1 = cols[j0].subarray(row);
  const one = count === 1;
  const c2 = one ? c1 : cols[j0 + 1].subarray(row);
  const c3 = one ? c1 : cols[j0 + 2].subarray(row);
  const c4 = one ? c1 : cols[j0 + 3].subarray(row);
  const s1 = sv[j0];
  const s2 = one ? 0 : sv[j0 + 1];
  const s3 = one ? 0 : sv[j0 + 2];
  const s4 = one ? 0 : sv[j0 + 3];
  const w1 = wAt(j0);
  const w2 = one ? 0 : wAt(j0 + 1);
  const w3 = one ? 0 : wAt(j0 + 2);
  const w4 = one ? 0 : wAt(j0 + 3);
  const len = v.length;
  for (let k = 0; k < len; k++) {
    const vk = v[k];
    const y1 = c1[k] - s1 * vk;
    const y2 = c2[k] - s2 * vk;
    const y3 = c3[k] - s3 * vk;
    const y4 = c4[k] - s4 * vk;
    c4[k] = y4; // reverse order, as in updateDot4
    c3[k] = y3;
    c2[k] = y2;
    c1[k] = y1;
    z[k] += (w1 * y1 + w2 * y2) + (w3 * y3 + w4 * y4);
  }
}

/** v . y with v[0] taken as 1 (a Householder vector), over the length of v. */
function dotImplicit(v: Float64Array, y: Float64Array): number {
  const len = v.length;
  let s = y[0];
  for (let k = 1; k < len; k++) s += v[k] * y[k];
  return s;
}

/** y += alpha x over the length of x. */
function axpy(alpha: number, x: Float64Array, y: Float64Array) {
  const len = x.length;
  for (let k = 0; k < len; k++) y[k] += alpha * x[k];
}

/** Row-major transpose of a rows x cols row-major array, in cache-sized tiles. */
function transposeTiled(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  const B = 32;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(rows, i0 + B);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(cols, j0 + B);
      for (let i = i0; i < i1; i++) {
        const ri = i * cols;
        for (let j = j0; j < j1; j++) t[j * rows + i] = a[ri + j];
      }
    }
  }
  return t;
}
