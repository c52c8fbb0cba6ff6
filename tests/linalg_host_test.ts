// Tests for lib/linalg: qrHost, orthcompHost and svdHost on row-major Float64Array data.
import assert from "node:assert/strict";
import fc from "fast-check";
import { orthcompHost, qrHost, svdHost } from "../lib/linalg/mod.ts";

// ---------------------------------------------------------------- tolerances

const EPS = Number.EPSILON;
/** Backward error and orthogonality target for an m x n problem: 10 max(m, n) eps. */
const tolFor = (m: number, n: number) => 10 * Math.max(m, n, 1) * EPS;
/**
 * Singular values of a constructed A = Q1 diag(s) Q2^T: rounding A's entries moves
 * every singular value by up to about eps ||A||, so sigma_i is accurate relative to
 * sigma_1 (relative accuracy 1e-13 * cond_i with cond_i = sigma_1 / sigma_i).
 */
const SV_TOL = 1e-13;

// ---------------------------------------------------------------- seeded data

/** splitmix32: a small seeded PRNG (uniform in [0, 1)). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

function randn(m: number, n: number, seed: number): Float64Array {
  const u = rng(seed);
  const a = new Float64Array(m * n);
  for (let i = 0; i < a.length; i++) {
    a[i] = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  }
  return a;
}

/** An m x k matrix with orthonormal columns (k <= m), from the QR of a random one. */
function randomOrthonormal(m: number, k: number, seed: number): Float64Array {
  return qrHost(randn(m, k, seed), m, k).q;
}

/** A = Q1 diag(s) Q2^T, m x n, with random orthonormal Q1 (m x p) and Q2 (n x p). */
function withSingularValues(m: number, n: number, s: number[], seed: number): Float64Array {
  const p = s.length;
  const q1 = randomOrthonormal(m, p, seed);
  const q2 = randomOrthonormal(n, p, seed + 1);
  return mul(scaleCols(q1, m, p, s), m, p, transpose(q2, n, p), n);
}

// ---------------------------------------------------------------- dense helpers

/** (m x k) times (k x n), row-major. */
function mul(a: Float64Array, m: number, k: number, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < k; l++) {
      const ail = a[i * k + l];
      if (ail === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += ail * b[l * n + j];
    }
  }
  return c;
}

function transpose(a: Float64Array, m: number, n: number): Float64Array {
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
  return t;
}

function scaleCols(a: Float64Array, m: number, n: number, s: ArrayLike<number>): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[i * n + j] = a[i * n + j] * s[j];
  return out;
}

/** Leading `cols` columns of a row-major matrix with `n` columns. */
function leadingCols(a: Float64Array, m: number, n: number, cols: number): Float64Array {
  const out = new Float64Array(m * cols);
  for (let i = 0; i < m; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = a[i * n + j];
  return out;
}

/** Frobenius norm without overflow or underflow (scaled by the largest entry). */
function frob(a: Float64Array): number {
  let max = 0;
  for (const x of a) max = Math.max(max, Math.abs(x));
  if (max === 0) return 0;
  let ss = 0;
  for (const x of a) ss += (x / max) ** 2;
  return max * Math.sqrt(ss);
}

/** ||A - B||_F / ||A||_F (or ||B||_F when A = 0). */
function relErr(a: Float64Array, b: Float64Array): number {
  const d = a.map((x, i) => x - b[i]);
  const na = frob(a);
  return na === 0 ? frob(d) : frob(d) / na;
}

/** max |X^T X - I| for X m x k with (meant to be) orthonormal columns. */
function orthErr(x: Float64Array, m: number, k: number): number {
  const g = mul(transpose(x, m, k), k, m, x, k);
  let e = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) e = Math.max(e, Math.abs(g[i * k + j] - (i === j ? 1 : 0)));
  }
  return e;
}

function assertBelow(value: number, bound: number, what: string) {
  assert.ok(value <= bound, `${what}: ${value.toExponential(3)} > ${bound.toExponential(3)}`);
}

// ---------------------------------------------------------------- SVD checks

/** Checks shapes, ordering, sign convention, orthogonality and A = U S V^T. */
function checkSvd(a: Float64Array, m: number, n: number, full: boolean) {
  const { u, s, v } = svdHost(a, m, n, { full });
  const p = Math.min(m, n);
  const uCols = full ? m : p;
  const vCols = full ? n : p;
  assert.equal(u.length, m * uCols, "U size");
  assert.equal(s.length, p, "s length");
  assert.equal(v.length, n * vCols, "V size");
  for (let i = 0; i < p; i++) {
    assert.ok(s[i] >= 0, `s[${i}] = ${s[i]} is negative`);
    if (i > 0) assert.ok(s[i] <= s[i - 1], `s not descending at ${i}`);
  }
  const tol = tolFor(m, n);
  assertBelow(orthErr(u, m, uCols), tol, `${m}x${n} full=${full} U^T U - I`);
  assertBelow(orthErr(v, n, vCols), tol, `${m}x${n} full=${full} V^T V - I`);
  const usv = mul(
    scaleCols(leadingCols(u, m, uCols, p), m, p, s),
    m,
    p,
    transpose(leadingCols(v, n, vCols, p), n, p),
    n,
  );
  assertBelow(relErr(a, usv), tol, `${m}x${n} full=${full} ||A - U S V^T|| / ||A||`);
  // Sign convention: the largest-magnitude entry of each U column is positive.
  for (let j = 0; j < uCols; j++) {
    let best = 0;
    for (let i = 0; i < m; i++) {
      if (Math.abs(u[i * uCols + j]) > Math.abs(best)) best = u[i * uCols + j];
    }
    assert.ok(best > 0, `U column ${j} breaks the sign convention`);
  }
  return { u, s, v };
}

function checkBoth(a: Float64Array, m: number, n: number) {
  const thin = checkSvd(a, m, n, false);
  const full = checkSvd(a, m, n, true);
  assert.deepEqual(full.s, thin.s, "full and thin singular values differ");
  return thin;
}

function assertSingularValues(s: Float64Array, expected: number[], what: string) {
  const top = Math.max(...expected);
  for (let i = 0; i < expected.length; i++) {
    assertBelow(Math.abs(s[i] - expected[i]), SV_TOL * top, `${what}: sigma_${i}`);
  }
}

// ---------------------------------------------------------------- SVD tests

const SHAPES: [number, number][] = [
  [1, 1],
  [1, 6],
  [6, 1],
  [5, 5],
  [7, 4],
  [4, 7],
  [50, 30],
  [30, 50],
  [120, 80],
  [80, 120],
];

Deno.test("svdHost: random matrices of many shapes, thin and full", () => {
  for (const [m, n] of SHAPES) checkBoth(randn(m, n, 10 * m + n), m, n);
});

Deno.test("svdHost: 9000 x 3 and 3 x 9000", () => {
  checkSvd(randn(9000, 3, 1), 9000, 3, false);
  checkSvd(randn(3, 9000, 2), 3, 9000, false);
  // Full U of a 9000 x 3 is 9000 x 9000 (648 MB): check a 600 x 3 instead.
  checkSvd(randn(600, 3, 3), 600, 3, true);
});

Deno.test("svdHost: known singular values of Q1 diag(s) Q2^T", () => {
  const cases: [number, number, number[]][] = [
    [8, 5, [5, 4, 3, 2, 1]],
    [5, 8, [5, 4, 3, 2, 1]],
    [6, 6, [1e3, 1, 1e-3, 1e-6, 1e-9, 1e-12]],
  ];
  for (const [m, n, s] of cases) {
    assertSingularValues(checkBoth(withSingularValues(m, n, s, m * n), m, n).s, s, `${m}x${n}`);
  }
});

Deno.test("svdHost: graded singular values 1 down to 1e-12", () => {
  for (const [m, n] of [[20, 12], [12, 20], [12, 12]]) {
    const p = Math.min(m, n);
    const s = Array.from({ length: p }, (_, i) => 10 ** (-12 * i / (p - 1)));
    const { s: got } = checkBoth(withSingularValues(m, n, s, 7 * m + n), m, n);
    assertSingularValues(got, s, `graded ${m}x${n}`);
  }
});

Deno.test("svdHost: repeated singular values", () => {
  const s = [3, 3, 3, 1, 1, 0.5];
  for (const [m, n] of [[9, 6], [6, 9], [6, 6]]) {
    assertSingularValues(checkBoth(withSingularValues(m, n, s, m + n), m, n).s, s, "repeated");
  }
  // The identity: every singular value 1, U and V orthogonal.
  const eye = new Float64Array(16);
  for (let i = 0; i < 4; i++) eye[i * 4 + i] = 1;
  assert.deepEqual(Array.from(checkBoth(eye, 4, 4).s), [1, 1, 1, 1]);
});

Deno.test("svdHost: zero matrix gives zero s and orthonormal U, V", () => {
  for (const [m, n] of [[4, 3], [3, 4], [1, 1], [5, 5]]) {
    const { s } = checkBoth(new Float64Array(m * n), m, n);
    assert.ok(s.every((x) => x === 0));
  }
});

Deno.test("svdHost: rank-deficient matrices", () => {
  // Rank 2, from a product of random 8x2 and 2x6 factors (and its transpose).
  const b = mul(randn(8, 2, 21), 8, 2, randn(2, 6, 22), 6);
  for (const [a, m, n] of [[b, 8, 6], [transpose(b, 8, 6), 6, 8]] as const) {
    const { s } = checkBoth(a, m, n);
    for (let i = 2; i < s.length; i++) assertBelow(s[i], 1e-14 * s[0], "null singular value");
  }
  // Exactly repeated columns and an exact zero column.
  const c = Float64Array.from([1, 1, 0, 2, 2, 0, 3, 3, 0, 4, 4, 0]); // 4 x 3
  const { s } = checkBoth(c, 4, 3);
  assertSingularValues(s, [Math.sqrt(60), 0, 0], "repeated columns");
  checkBoth(transpose(c, 4, 3), 3, 4);
  // All ones (rank 1): exactly equal columns leave residuals that shrink by about eps
  // per Householder step until they underflow.
  for (const [m, n] of [[60, 40], [40, 60], [50, 50]]) {
    const { s } = checkBoth(new Float64Array(m * n).fill(1), m, n);
    assertSingularValues(s.subarray(0, 1), [Math.sqrt(m * n)], "ones");
    for (let i = 1; i < s.length; i++) assertBelow(s[i], 1e-14 * s[0], "ones null sv");
  }
  // One nonzero entry.
  const d = new Float64Array(12);
  d[7] = -2;
  assertSingularValues(checkBoth(d, 3, 4).s, [2, 0, 0], "single entry");
});

Deno.test("svdHost: entries scaled by 1e-300, 1e-150, 1e150 and 1e300", () => {
  const base = randn(7, 5, 31);
  const ref = svdHost(base, 7, 5).s;
  for (const scale of [1e-300, 1e-150, 1e150, 1e300]) {
    for (const [m, n, a] of [[7, 5, base], [5, 7, transpose(base, 7, 5)]] as const) {
      const { s } = checkBoth(a.map((x) => x * scale), m, n);
      for (let i = 0; i < 5; i++) {
        assertBelow(Math.abs(s[i] / scale - ref[i]), SV_TOL * ref[0], `scale ${scale}`);
      }
    }
  }
});

Deno.test("svdHost: subnormal and near-overflow entries", () => {
  // Entries of size ~1e-317 keep only a few bits, so compare with the SVD of the very
  // same (rounded) data scaled up by an exact power of two, and check U, V.
  const tiny = randn(6, 4, 33).map((x) => x * 2 ** -1060);
  const up = (x: number) => x * 2 ** 530 * 2 ** 530; // 2 ** 1060 itself overflows
  const ref = svdHost(tiny.map(up), 6, 4).s;
  for (const full of [false, true]) {
    const { u, s, v } = svdHost(tiny, 6, 4, { full });
    assertBelow(orthErr(u, 6, full ? 6 : 4), tolFor(6, 4), "subnormal U");
    assertBelow(orthErr(v, 4, 4), tolFor(6, 4), "subnormal V");
    for (let i = 0; i < 4; i++) {
      // s_i itself is subnormal: its rounding error is up to 2^-1075 absolute.
      assertBelow(Math.abs(up(s[i]) - ref[i]), SV_TOL * ref[0] + 2 ** -14, "subnormal s");
    }
  }
  // Entries near 1e306 (largest singular value near 1e307, no overflow).
  checkBoth(randn(7, 5, 34).map((x) => x * 1e306), 7, 5);
  checkBoth(randn(5, 7, 35).map((x) => x * 1e306), 5, 7);
});

Deno.test("svdHost: deterministic results", () => {
  const a = randn(9, 7, 41);
  const first = svdHost(a, 9, 7, { full: true });
  const second = svdHost(a, 9, 7, { full: true });
  assert.deepEqual(first, second);
});

Deno.test("svdHost: empty sizes", () => {
  const r = svdHost(new Float64Array(0), 3, 0, { full: true });
  assert.equal(r.s.length, 0);
  assert.equal(r.v.length, 0);
  assert.deepEqual(Array.from(r.u), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  assert.equal(svdHost(new Float64Array(0), 0, 4).v.length, 0);
});

Deno.test("svdHost: errors", () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const a = Float64Array.from([1, 2, 3, bad, 5, 6]);
    assert.throws(() => svdHost(a, 3, 2), {
      name: "RangeError",
      message: "Cannot compute svd: input contains NaN or Infinity",
    });
  }
  assert.throws(() => svdHost(new Float64Array(5), 3, 2), {
    name: "TypeError",
    message: "Cannot compute svd: data has 5 elements, expected 3x2 = 6",
  });
  assert.throws(() => svdHost([1, 2] as unknown as Float64Array, 1, 2), TypeError);
  for (const [m, n] of [[-1, 2], [2, 1.5], [NaN, 1], [Infinity, 0]]) {
    assert.throws(() => svdHost(new Float64Array(2), m, n), RangeError);
  }
});

Deno.test("svdHost: property test on random small matrices", () => {
  const entry = fc.oneof(
    fc.double({ min: -10, max: 10, noNaN: true }),
    fc.constantFrom(0, 1, -1),
  );
  const matrix = fc.record({ m: fc.integer({ min: 1, max: 9 }), n: fc.integer({ min: 1, max: 9 }) })
    .chain(({ m, n }) =>
      fc.record({
        m: fc.constant(m),
        n: fc.constant(n),
        data: fc.array(entry, { minLength: m * n, maxLength: m * n }),
      })
    );
  fc.assert(
    fc.property(matrix, ({ m, n, data }) => {
      checkBoth(Float64Array.from(data), m, n);
    }),
    { seed: 42, numRuns: 200 },
  );
});

// ------------------------------------------- SVD tests: the bidiagonal QR path
// Above 16 columns (rows, for wide inputs) svdHost bidiagonalizes and runs implicit
// QR on the bidiagonal; at 1.6 times as many rows as columns a QR comes first.

/** Graded singular values 1 down to `low`, geometrically spaced, p of them. */
function graded(p: number, low: number): number[] {
  return Array.from({ length: p }, (_, i) => low ** (i / (p - 1)));
}

const LARGE_SHAPES: [number, number][] = [
  [17, 17], // just above the Jacobi range
  [100, 80], // direct bidiagonalization
  [80, 100],
  [200, 200],
  [300, 150], // QR first
  [150, 300],
];

Deno.test("svdHost (bidiagonal path): random matrices, thin and full", () => {
  for (const [m, n] of LARGE_SHAPES) checkBoth(randn(m, n, 3 * m + n), m, n);
  checkSvd(randn(2000, 40, 5), 2000, 40, false);
  checkSvd(randn(40, 2000, 6), 40, 2000, false);
});

Deno.test("svdHost (bidiagonal path): graded singular values 1 down to 1e-12", () => {
  for (const [m, n] of LARGE_SHAPES) {
    const s = graded(Math.min(m, n), 1e-12);
    assertSingularValues(checkBoth(withSingularValues(m, n, s, m + 7 * n), m, n).s, s, "graded");
  }
  // Down to 1e-300: the small ones are below the rounding of A, so only absolute
  // accuracy (relative to s_1) is meaningful, and U, V must stay orthogonal.
  const s = graded(60, 1e-300);
  assertSingularValues(checkBoth(withSingularValues(90, 60, s, 1), 90, 60).s, s, "1e-300");
});

Deno.test("svdHost (bidiagonal path): repeated and clustered singular values", () => {
  for (const [m, n] of [[200, 200], [300, 150], [100, 80], [80, 100]]) {
    const p = Math.min(m, n);
    const s = Array.from({ length: p }, (_, i) => (i < p / 3 ? 3 : i < (2 * p) / 3 ? 1 : 0.5));
    assertSingularValues(checkBoth(withSingularValues(m, n, s, 2 * m + n), m, n).s, s, "repeated");
    const c = Array.from({ length: p }, (_, i) => 1 + 1e-10 * (p - i)); // a tight cluster
    assertSingularValues(checkBoth(withSingularValues(m, n, c, m + 3 * n), m, n).s, c, "cluster");
  }
  const eye = new Float64Array(40 * 40);
  for (let i = 0; i < 40; i++) eye[i * 40 + i] = 1;
  assert.ok(checkBoth(eye, 40, 40).s.every((x) => x === 1));
});

Deno.test("svdHost (bidiagonal path): rank-deficient, zero and constant matrices", () => {
  for (const [m, n, r] of [[120, 90, 5], [90, 120, 5], [200, 100, 1], [60, 60, 59]]) {
    const p = Math.min(m, n);
    const s = Array.from({ length: p }, (_, i) => (i < r ? 2 - i / r : 0));
    const { s: got } = checkBoth(withSingularValues(m, n, s.slice(0, r), 4 * m + n), m, n);
    assertSingularValues(got, s, `rank ${r} of ${m}x${n}`);
  }
  for (const [m, n] of [[60, 40], [40, 60], [300, 150], [50, 50]]) {
    const { s } = checkBoth(new Float64Array(m * n).fill(-3), m, n);
    assertSingularValues(
      s,
      [3 * Math.sqrt(m * n), ...new Array(Math.min(m, n) - 1).fill(0)],
      "const",
    );
  }
  assert.ok(checkBoth(new Float64Array(30 * 20), 30, 20).s.every((x) => x === 0));
  // A permuted diagonal with signs: its singular values are the |entries|, sorted.
  const n = 50;
  const perm = Array.from({ length: n }, (_, i) => (i * 17) % n);
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) d[i * n + perm[i]] = (i % 2 ? -1 : 1) * (i + 1);
  const expected = Array.from({ length: n }, (_, i) => n - i);
  assertSingularValues(checkBoth(d, n, n).s, expected, "permuted diagonal");
});

Deno.test("svdHost (bidiagonal path): entries scaled by 1e-300, 1e-150, 1e150, 1e300", () => {
  const base = randn(60, 40, 71);
  const ref = svdHost(base, 60, 40).s;
  for (const scale of [1e-300, 1e-150, 1e150, 1e300]) {
    for (const [m, n, a] of [[60, 40, base], [40, 60, transpose(base, 60, 40)]] as const) {
      const { s } = checkBoth(a.map((x) => x * scale), m, n);
      for (let i = 0; i < 40; i++) {
        assertBelow(Math.abs(s[i] / scale - ref[i]), SV_TOL * ref[0], `scale ${scale}`);
      }
    }
  }
  checkBoth(randn(40, 30, 72).map((x) => x * 1e306), 40, 30);
});

Deno.test("svdHost (bidiagonal path): graded bidiagonal keeps high relative accuracy", () => {
  // An upper bidiagonal A passes through bidiagonalization exactly, so the QR
  // iterations (Demmel-Kahan) see it as is and get every singular value to high
  // relative accuracy, down to 1e-78 here: their product must equal |det A| =
  // prod |d_i| to about n^2 TOL, far beyond what absolute accuracy would give.
  const n = 40;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    a[i * n + i] = (i % 3 ? -1 : 1) * 10 ** (-2 * i);
    if (i + 1 < n) a[i * n + i + 1] = 0.5 * 10 ** (-2 * i);
  }
  const { s } = checkBoth(a, n, n);
  let logDet = 0;
  let logProd = 0;
  for (let i = 0; i < n; i++) {
    logDet += Math.log(Math.abs(a[i * n + i]));
    logProd += Math.log(s[i]);
  }
  assertBelow(Math.abs(logProd - logDet), 1e-10, "log prod s - log |det A|");
  assert.ok(s[n - 1] > 1e-80 && s[n - 1] < 1e-76, `smallest singular value ${s[n - 1]}`);
});

Deno.test("svdHost (bidiagonal path): deterministic, and agrees with the Jacobi path", () => {
  const a = randn(120, 90, 81);
  assert.deepEqual(svdHost(a, 120, 90, { full: true }), svdHost(a, 120, 90, { full: true }));
  // Appending zero columns to a 30 x 12 matrix moves it from the Jacobi path (12
  // columns) to the bidiagonal one (20) without changing its nonzero singular values.
  const b = randn(30, 12, 82);
  const padded = new Float64Array(30 * 20);
  for (let i = 0; i < 30; i++) padded.set(b.subarray(i * 12, i * 12 + 12), i * 20);
  const small = svdHost(b, 30, 12).s;
  const { s } = checkBoth(padded, 30, 20);
  for (let i = 0; i < 12; i++) assertBelow(Math.abs(s[i] - small[i]), SV_TOL * small[0], "s");
  for (let i = 12; i < 20; i++) assert.equal(s[i], 0);
});

Deno.test("svdHost (bidiagonal path): property test on random matrices", () => {
  const entry = fc.oneof(
    fc.double({ min: -10, max: 10, noNaN: true }),
    fc.constantFrom(0, 0, 0, 1, -1, 1e-200, 1e100),
  );
  const matrix = fc.record({
    m: fc.integer({ min: 17, max: 45 }),
    n: fc.integer({ min: 17, max: 45 }),
  }).chain(({ m, n }) =>
    fc.record({
      m: fc.constant(m),
      n: fc.constant(n),
      data: fc.array(entry, { minLength: m * n, maxLength: m * n }),
    })
  );
  fc.assert(
    fc.property(matrix, ({ m, n, data }) => {
      checkBoth(Float64Array.from(data), m, n);
    }),
    { seed: 7, numRuns: 40 },
  );
});

// ---------------------------------------------------------------- QR tests

function checkQr(a: Float64Array, m: number, n: number, full: boolean) {
  const { q, r, qCols, rRows } = qrHost(a, m, n, { full });
  const k = Math.min(m, n);
  assert.equal(qCols, full ? m : k);
  assert.equal(rRows, full ? m : k);
  assert.equal(q.length, m * qCols);
  assert.equal(r.length, rRows * n);
  const tol = tolFor(m, n);
  assertBelow(orthErr(q, m, qCols), tol, `${m}x${n} full=${full} Q^T Q - I`);
  assertBelow(relErr(a, mul(q, m, qCols, r, n)), tol, `${m}x${n} full=${full} Q R - A`);
  for (let i = 0; i < rRows; i++) {
    for (let j = 0; j < Math.min(i, n); j++) assert.equal(r[i * n + j], 0, "R not triangular");
    if (i < n) assert.ok(r[i * n + i] >= 0, `R[${i},${i}] = ${r[i * n + i]} is negative`);
  }
}

Deno.test("qrHost: tall, wide and square, thin and full", () => {
  for (const [m, n] of [...SHAPES, [9000, 3] as [number, number]]) {
    const a = randn(m, n, 100 + m * n);
    checkQr(a, m, n, false);
    if (m * m <= 1e6) checkQr(a, m, n, true);
  }
});

Deno.test("qrHost: rank-deficient and zero matrices", () => {
  const b = mul(randn(8, 2, 51), 8, 2, randn(2, 5, 52), 5); // rank 2
  checkQr(b, 8, 5, false);
  checkQr(b, 8, 5, true);
  const c = Float64Array.from([0, 1, 1, 0, 2, 2, 0, 3, 3]); // zero and repeated columns
  checkQr(c, 3, 3, true);
  checkQr(new Float64Array(12), 4, 3, true);
  checkQr(new Float64Array(60 * 40).fill(1), 60, 40, true);
  checkQr(new Float64Array(40 * 60).fill(-2), 40, 60, true);
  checkQr(new Float64Array(12), 3, 4, false);
  checkQr(randn(6, 4, 53).map((x) => x * 1e300), 6, 4, false);
  checkQr(randn(6, 4, 54).map((x) => x * 1e-300), 6, 4, true);
  checkQr(randn(6, 4, 55).map((x) => x * 1e306), 6, 4, true);
  const tiny = qrHost(Float64Array.from([3, 4].map((x) => x * 2 ** -1070)), 2, 1);
  assert.deepEqual(Array.from(tiny.r), [5 * 2 ** -1070]);
});

Deno.test("qrHost: known factors and errors", () => {
  const { q, r } = qrHost(Float64Array.from([0, -2, -3, 0]), 2, 2);
  assert.deepEqual(Array.from(r), [3, 0, 0, 2]);
  assert.deepEqual(Array.from(q), [0, -1, -1, 0]);
  assert.throws(() => qrHost(new Float64Array(5), 2, 3), {
    name: "TypeError",
    message: "Cannot compute qr: data has 5 elements, expected 2x3 = 6",
  });
  assert.throws(() => qrHost(new Float64Array(1).fill(NaN), 1, 1), RangeError);
  assert.throws(() => qrHost(new Float64Array(0), -1, 0), RangeError);
});

// ---------------------------------------------------------------- orthcomp tests

Deno.test("orthcompHost: complement properties up to m = 50", () => {
  for (const [m, k] of [[2, 1], [3, 1], [5, 3], [10, 9], [20, 7], [50, 3], [50, 25], [50, 49]]) {
    const u = randomOrthonormal(m, k, m * 100 + k);
    const perp = orthcompHost(u, m, k);
    const c = m - k;
    assert.equal(perp.length, m * c);
    const tol = tolFor(m, m);
    const cross = mul(transpose(u, m, k), k, m, perp, c);
    assertBelow(Math.max(...cross.map(Math.abs)), tol, `${m}x${k} U^T U_perp`);
    assertBelow(orthErr(perp, m, c), tol, `${m}x${k} U_perp^T U_perp - I`);
    const proj = mul(u, m, k, transpose(u, m, k), m);
    const projPerp = mul(perp, m, c, transpose(perp, m, c), m);
    let e = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        e = Math.max(e, Math.abs(proj[i * m + j] + projPerp[i * m + j] - (i === j ? 1 : 0)));
      }
    }
    assertBelow(e, tol, `${m}x${k} U U^T + U_perp U_perp^T - I`);
  }
});

Deno.test("orthcompHost: edge sizes and errors", () => {
  const q = randomOrthonormal(4, 4, 61);
  assert.equal(orthcompHost(q, 4, 4).length, 0); // m = k: an m x 0 array
  assert.deepEqual(Array.from(orthcompHost(new Float64Array(0), 2, 0)), [1, 0, 0, 1]);
  assert.throws(() => orthcompHost(new Float64Array(6), 2, 3), RangeError);
  assert.throws(() => orthcompHost(new Float64Array(5), 3, 2), TypeError);
  assert.throws(() => orthcompHost(Float64Array.from([Infinity]), 1, 1), RangeError);
});
