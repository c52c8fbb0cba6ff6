/**
 * Pure-TypeScript matrix multiply for the `ts` kernel: C = op(A) op(B) on row-major
 * Float64Array or Float32Array data.
 *
 * Design (GotoBLAS layout, shaped by what V8's optimising compiler does on x64):
 * - Tiny products (at most {@link SMALL} multiply-adds) and matrix-vector products run
 *   plain loops that keep four sums in locals, with no setup.
 * - Larger ones are blocked: a KC x NC block of op(B) and an MC x KC block of op(A)
 *   are packed into Float64Array scratch as panels 3 wide, in the order the microkernel
 *   reads them. The transpose flags only change the strides the packing reads with, and
 *   float32 inputs are widened once, so one float64 microkernel serves every case.
 * - The microkernel computes a 3 x 3 tile of C with its 9 sums in locals. V8 keeps about
 *   15 doubles in registers and loads every value of a step before it multiplies, so
 *   larger tiles spill; 3 x 3 measured fastest (4x4, 2x4, 3x4, 4x3, 2x6, unrolled steps
 *   were all slower). Indices are masked to 30 bits so V8 drops their overflow checks and
 *   sign extensions.
 * - Only the packing, the tile store and the small-size loop touch the caller's arrays,
 *   and each has one copy per dtype: a function that sees both array types gets slower,
 *   and so do closures from one factory (they share type feedback; measured 45%).
 *   The driver {@link blocked} only passes the arrays on.
 *
 * Float32 products accumulate in float64 and round when stored.
 *
 * @module
 */

/** Rows of op(A) and columns of op(B) per microkernel tile; `kernel3x3` hard-codes 3. */
const R = 3;
/** Largest depth of a packed block: a 3-wide panel of it (6 KiB) stays in L1. */
const KC = 256;
/** Largest row count of a packed block of op(A) (240 KiB, stays in L2); a multiple of R. */
const MC = 120;
/** Largest column count of a packed block of op(B) (2 MiB); a multiple of R. */
const NC = 1020;
/** Products with m n k at most this run the direct loops, which need no packing. */
const SMALL = 729;
/** Keeps indices within 30 bits: lets V8 prove they are non-negative int32. */
const MASK = 0x3fffffff;

let packedA = new Float64Array(0);
let packedB = new Float64Array(0);
const tile = new Float64Array(R * R);

/** Signature shared by the per-dtype packers (see {@link packF64}). */
type Pack<T> = (
  src: T,
  st: number,
  sp: number,
  t0: number,
  tn: number,
  p0: number,
  kc: number,
  dst: Float64Array,
) => void;
/** Signature shared by the per-dtype tile stores (see {@link storeF64}). */
type Store<T> = (
  c: T,
  ci: number,
  ldc: number,
  h: number,
  w: number,
  first: boolean,
  t: Float64Array,
) => void;

/**
 * t = Ap Bp for one 3 x 3 tile: `ap[ai..]` holds kc steps of 3 values of op(A)'s rows,
 * `bp[bi..]` kc steps of 3 values of op(B)'s columns. Sees only Float64Array.
 */
function kernel3x3(
  ap: Float64Array,
  ai: number,
  bp: Float64Array,
  bi: number,
  kc: number,
  t: Float64Array,
): void {
  let c00 = 0, c01 = 0, c02 = 0, c10 = 0, c11 = 0, c12 = 0, c20 = 0, c21 = 0, c22 = 0;
  ai &= MASK;
  bi &= MASK;
  const end = (ai + 3 * kc) & MASK;
  for (; ai < end; ai += 3) {
    const b0 = bp[bi], b1 = bp[bi + 1], b2 = bp[bi + 2];
    const a0 = ap[ai];
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    const a1 = ap[ai + 1];
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    const a2 = ap[ai + 2];
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    bi = (bi + 3) & MASK;
  }
  t[0] = c00;
  t[1] = c01;
  t[2] = c02;
  t[3] = c10;
  t[4] = c11;
  t[5] = c12;
  t[6] = c20;
  t[7] = c21;
  t[8] = c22;
}

/**
 * The blocked product, for either dtype: it never indexes `a`, `b` or `c` itself, only
 * hands them to `pack` and `store`, so each dtype's hot loops stay monomorphic.
 */
function blocked<T extends Float32Array | Float64Array>(
  pack: Pack<T>,
  store: Store<T>,
  a: T,
  b: T,
  c: T,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
): void {
  // op(A)(i, p) = a[i * sai + p * sap]; op(B)(p, j) = b[j * sbj + p * sbp].
  const sai = transA ? 1 : k, sap = transA ? m : 1;
  const sbj = transB ? k : 1, sbp = transB ? 1 : n;
  // Blocks split each size evenly (k = 300 gives 150 + 150, not 256 + 44).
  const kb = Math.ceil(k / Math.ceil(k / KC));
  const mb = Math.ceil(m / Math.ceil(m / MC) / R) * R;
  const nb = Math.ceil(n / Math.ceil(n / NC) / R) * R;
  if (packedA.length < mb * kb) packedA = new Float64Array(mb * kb);
  if (packedB.length < nb * kb) packedB = new Float64Array(nb * kb);
  const ap = packedA, bp = packedB, t = tile;
  for (let jc = 0; jc < n; jc += nb) {
    const nc = Math.min(nb, n - jc);
    for (let pc = 0; pc < k; pc += kb) {
      const kc = Math.min(kb, k - pc);
      const first = pc === 0;
      pack(b, sbj, sbp, jc, nc, pc, kc, bp);
      for (let ic = 0; ic < m; ic += mb) {
        const mc = Math.min(mb, m - ic);
        pack(a, sai, sap, ic, mc, pc, kc, ap);
        for (let jr = 0; jr < nc; jr += R) {
          const w = Math.min(R, nc - jr);
          const bi = jr * kc;
          let ci = ic * n + jc + jr;
          for (let ir = 0; ir < mc; ir += R) {
            kernel3x3(ap, ir * kc, bp, bi, kc, t);
            store(c, ci, n, Math.min(R, mc - ir), w, first, t);
            ci += R * n;
          }
        }
      }
    }
  }
}

/**
 * Whether the direct loops beat the blocked path (measured): below about 9 x 9 x 9, for
 * one row of C and for one or two columns, which the blocked path pads to 3 wide.
 */
function useDirect(m: number, n: number, k: number): boolean {
  return m * n * k <= SMALL || m === 1 || n <= 2;
}

/** Throws unless the sizes are non-negative integers that fit the arrays. */
function checkSizes(
  la: number,
  lb: number,
  lc: number,
  m: number,
  n: number,
  k: number,
): void {
  if (!(Number.isInteger(m) && Number.isInteger(n) && Number.isInteger(k))) {
    throw new RangeError(`Cannot multiply: sizes m=${m}, n=${n}, k=${k} must be integers`);
  }
  if (!(m >= 0 && n >= 0 && k >= 0)) {
    throw new RangeError(`Cannot multiply: sizes m=${m}, n=${n}, k=${k} must be non-negative`);
  }
  if (la < m * k || lb < k * n || lc < m * n) {
    throw new TypeError(
      `Cannot multiply: arrays of lengths ${la}, ${lb}, ${lc} are too short for ` +
        `(${m} x ${k}) (${k} x ${n}) = (${m} x ${n})`,
    );
  }
}

// ---- float64: the only functions that index Float64Array inputs and outputs ----

/**
 * Packs rows t0..t0+tn of X (X(t, p) = src[t * st + p * sp]), columns p0..p0+kc, as
 * 3-row panels: dst[(t - t0) * kc + (p - p0) * 3 + t % 3], zero rows padding the last.
 */
function packF64(
  src: Float64Array,
  st: number,
  sp: number,
  t0: number,
  tn: number,
  p0: number,
  kc: number,
  dst: Float64Array,
): void {
  for (let tt = 0; tt < tn; tt += R) {
    const h = Math.min(R, tn - tt);
    let s = (t0 + tt) * st + p0 * sp;
    let d = tt * kc;
    const end = d + R * kc;
    if (h === 3) {
      const s1 = st, s2 = 2 * st;
      for (; d < end; d += 3, s += sp) {
        dst[d] = src[s];
        dst[d + 1] = src[s + s1];
        dst[d + 2] = src[s + s2];
      }
    } else {
      const s1 = h > 1 ? st : 0;
      for (; d < end; d += 3, s += sp) {
        dst[d] = src[s];
        dst[d + 1] = h > 1 ? src[s + s1] : 0;
        dst[d + 2] = 0;
      }
    }
  }
}

/** Writes (first block of k) or adds the h x w corner of tile t into c at ci. */
function storeF64(
  c: Float64Array,
  ci: number,
  ldc: number,
  h: number,
  w: number,
  first: boolean,
  t: Float64Array,
): void {
  if (h === 3 && w === 3) {
    const c1 = ci + ldc, c2 = ci + 2 * ldc;
    if (first) {
      c[ci] = t[0];
      c[ci + 1] = t[1];
      c[ci + 2] = t[2];
      c[c1] = t[3];
      c[c1 + 1] = t[4];
      c[c1 + 2] = t[5];
      c[c2] = t[6];
      c[c2 + 1] = t[7];
      c[c2 + 2] = t[8];
    } else {
      c[ci] += t[0];
      c[ci + 1] += t[1];
      c[ci + 2] += t[2];
      c[c1] += t[3];
      c[c1 + 1] += t[4];
      c[c1 + 2] += t[5];
      c[c2] += t[6];
      c[c2 + 1] += t[7];
      c[c2 + 2] += t[8];
    }
    return;
  }
  for (let r = 0; r < h; r++, ci += ldc) {
    for (let s = 0; s < w; s++) c[ci + s] = first ? t[3 * r + s] : c[ci + s] + t[3 * r + s];
  }
}

/**
 * Direct loops for small products and matrix-vector products, four entries of C at a
 * time: c[i n + j] = sum_p a[i sai + p sap] b[j sbj + p sbp].
 */
function directF64(
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
): void {
  const sai = transA ? 1 : k, sap = transA ? m : 1;
  const sbj = transB ? k : 1, sbp = transB ? 1 : n;
  if (n < 4) {
    // Few columns (matrix times vector): four rows of C at a time share each b value.
    const m4 = m - (m % 4);
    for (let j = 0; j < n; j++) {
      let i = 0;
      for (; i < m4; i += 4) {
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let p = 0, x = i * sai, y = j * sbj; p < k; p++, x += sap, y += sbp) {
          const v = b[y];
          s0 += a[x] * v;
          s1 += a[x + sai] * v;
          s2 += a[x + 2 * sai] * v;
          s3 += a[x + 3 * sai] * v;
        }
        c[i * n + j] = s0;
        c[(i + 1) * n + j] = s1;
        c[(i + 2) * n + j] = s2;
        c[(i + 3) * n + j] = s3;
      }
      for (; i < m; i++) {
        let s = 0;
        for (let p = 0, x = i * sai, y = j * sbj; p < k; p++, x += sap, y += sbp) s += a[x] * b[y];
        c[i * n + j] = s;
      }
    }
    return;
  }
  // Four columns of C at a time share each a value.
  const n4 = n - (n % 4);
  for (let i = 0, ci = 0; i < m; i++) {
    let j = 0;
    for (; j < n4; j += 4, ci += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0, x = i * sai, y = j * sbj; p < k; p++, x += sap, y += sbp) {
        const v = a[x];
        s0 += v * b[y];
        s1 += v * b[y + sbj];
        s2 += v * b[y + 2 * sbj];
        s3 += v * b[y + 3 * sbj];
      }
      c[ci] = s0;
      c[ci + 1] = s1;
      c[ci + 2] = s2;
      c[ci + 3] = s3;
    }
    for (; j < n; j++, ci++) {
      let s = 0;
      for (let p = 0, x = i * sai, y = j * sbj; p < k; p++, x += sap, y += sbp) s += a[x] * b[y];
      c[ci] = s;
    }
  }
}

/**
 * Multiplies float64 matrices: C (m x n, row-major) = op(A) op(B), where op(A) is A
 * (stored m x k) or, when `transA`, the transpose of A (stored k x m); likewise op(B)
 * is B (k x n) or, when `transB`, B (stored n x k) transposed. All storage is
 * row-major. The first m n entries of `c` are overwritten (zeros when k = 0); `a` and
 * `b` are only read and must not overlap `c`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matmulF64 } from "./matmul.ts";
 * const a = Float64Array.of(1, 2, 3, 4); // [[1, 2], [3, 4]]
 * const c = new Float64Array(4);
 * matmulF64(a, a, c, 2, 2, 2, false, true); // A A^T
 * assert.deepEqual([...c], [5, 11, 11, 25]);
 * ```
 *
 * @throws {RangeError} if m, n or k is negative or not an integer.
 * @throws {TypeError} if an array is shorter than its size says.
 */
export function matmulF64(
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
): void {
  checkSizes(a.length, b.length, c.length, m, n, k);
  if (useDirect(m, n, k)) directF64(a, b, c, m, n, k, transA, transB);
  else blocked(packF64, storeF64, a, b, c, m, n, k, transA, transB);
}

// ---- float32: line for line the float64 functions above, with the array type changed ----

/** {@link packF64} for Float32Array sources (widened to float64 scratch). */
function packF32(
  src: Float32Array,
  st: number,
  sp: number,
  t0: number,
  tn: number,
  p0: number,
  kc: number,
  dst: Float64Array,
): void {
  for (let tt = 0; tt < tn; tt += R) {
    const h = Math.min(R, tn - tt);
    let s = (t0 + tt) * st + p0 * sp;
    let d = tt * kc;
    const end = d + R * kc;
    if (h === 3) {
      const s1 = st, s2 = 2 * st;
      for (; d < end; d += 3, s += sp) {
        dst[d] = src[s];
        dst[d + 1] = src[s + s1];
        dst[d + 2] = src[s + s2];
      }
    } else {
      const s1 = h > 1 ? st : 0;
      for (; d < end; d += 3, s += sp) {
        dst[d] = src[s];
        dst[d + 1] = h > 1 ? src[s + s1] : 0;
        dst[d + 2] = 0;
      }
    }
  }
}

/** {@link storeF64} for Float32Array outputs (rounds each sum once per k block). */
function storeF32(
  c: Float32Array,
  ci: number,
  ldc: number,
  h: number,
  w: number,
  first: boolean,
  t: Float64Array,
): void {
  if (h === 3 && w === 3) {
    const c1 = ci + ldc, c2 = ci + 2 * ldc;
    if (first) {
      c[ci] = t[0];
      c[ci + 1] = t[1];
      c[ci + 2] = t[2];
      c[c1] = t[3];
      c[c1 + 1] = t[4];
      c[c1 + 2] = t[5];
      c[c2] = t[6];
      c[c2 + 1] = t[7];
      c[c2 + 2] = t[8];
    } else {
      c[ci] += t[0];
      c[ci + 1] += t[1];
      c[ci + 2] += t[2];
      c[c1] += t[3];
      c[c1 + 1] += t[4];
      c[c1 + 2] += t[5];
      c[c2] += t[6];
      c[c2 + 1] += t[7];
      c[c2 + 2] += t[8];
    }
    return;
  }
  for (let r = 0; r < h; r++, ci += ldc) {
    for (let s = 0; s < w; s++) c[ci + s] = first ? t[3 * r + s] : c[ci + s] + t[3 * r + s];
  }
}

/** {@link directF64} for Float32Array (sums in float64). */
function directF32(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
): void {
  const sai = transA ? 1 : k, sap = transA ? m : 1;
  const sbj = transB ? k : 1, sbp = transB ? 1 : n;
  if (n < 4) {
    // Few columns (matrix times vector): four rows of C at a time share each b value.
    const m4 = m - (m % 4);
    for (let j = 0; j < n; j++) {
      let i = 0;
      for (; i < m4; i += 4) {
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let p = 0, x = i * sai, y = j * sbj; p < k; p++, x += sap, y += sbp) {
          const v = b[y];
          s0 += a[x] * v;
          s1 += a[x + sai] * v;
          s2 += a[x + 2 * sai] * v;
          s3 += a[x + 3 * sai] * v;
        }
        c[i * n + j] = s0;
        c[(i + 1) * n + j] = s1;
        c[(i + 2) * n + j] = s2;
        c[(i + 3) * n + j] = s3;
      }
      for (; i < m; i++) {
        let s = 0;
        for (let p = 0, x = i * sai, y = j * sbj; p < k; p++, x += sap, y += sbp) s += a[x] * b[y];
        c[i * n + j] = s;
      }
    }
    return;
  }
  // Four columns of C at a time share each a value.
  const n4 = n - (n % 4);
  for (let i = 0, ci = 0; i < m; i++) {
    let j = 0;
    for (; j < n4; j += 4, ci += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0, x = i * sai, y = j * sbj; p < k; p++, x += sap, y += sbp) {
        const v = a[x];
        s0 += v * b[y];
        s1 += v * b[y + sbj];
        s2 += v * b[y + 2 * sbj];
        s3 += v * b[y + 3 * sbj];
      }
      c[ci] = s0;
      c[ci + 1] = s1;
      c[ci + 2] = s2;
      c[ci + 3] = s3;
    }
    for (; j < n; j++, ci++) {
      let s = 0;
      for (let p = 0, x = i * sai, y = j * sbj; p < k; p++, x += sap, y += sbp) s += a[x] * b[y];
      c[ci] = s;
    }
  }
}

/**
 * Multiplies float32 matrices: C (m x n, row-major) = op(A) op(B), with the same
 * layout and flags as {@link matmulF64}. Sums are accumulated in float64 and rounded
 * to float32 when stored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matmulF32 } from "./matmul.ts";
 * const a = Float32Array.of(1, 2, 3, 4, 5, 6); // 2 x 3
 * const c = new Float32Array(4);
 * matmulF32(a, a, c, 2, 2, 3, false, true); // A A^T
 * assert.deepEqual([...c], [14, 32, 32, 77]);
 * ```
 *
 * @throws {RangeError} if m, n or k is negative or not an integer.
 * @throws {TypeError} if an array is shorter than its size says.
 */
export function matmulF32(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
): void {
  checkSizes(a.length, b.length, c.length, m, n, k);
  if (useDirect(m, n, k)) directF32(a, b, c, m, n, k, transA, transB);
  else blocked(packF32, storeF32, a, b, c, m, n, k, transA, transB);
}
