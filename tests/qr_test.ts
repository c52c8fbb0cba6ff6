/**
 * qr and triangularSolve: forward properties (orthonormality, reconstruction,
 * triangularity, diag(R) >= 0, shapes, dtypes, the kinks 1x1, m x 1, 1 x n and empty),
 * derivatives checked three ways (finite differences via gradcheck, identities that
 * follow from A = Q R, closed forms of log|det|), JVP/VJP duality, second order,
 * full QR with m > n, and the errors with their classes and messages.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  add,
  diagonal,
  epsOf,
  grad,
  gradcheck,
  type GradcheckReport,
  gradTolerance,
  jvp,
  log,
  matmul,
  Matrix,
  type MatrixFn,
  mul,
  qr,
  Random,
  scale,
  slice,
  square,
  sub,
  sum,
  transpose,
  triangularSolve,
  type TriangularSolveOptions,
  vjp,
} from "../mod.ts";

// ---------------------------------------------------------------------------
// Host helpers (plain number[][] arithmetic, independent of the library)

type Rows = number[][];

function hmul(a: Rows, b: Rows): Rows {
  const n = b.length, p = b[0]?.length ?? 0;
  return a.map((row) => {
    const out = new Array<number>(p).fill(0);
    for (let l = 0; l < n; l++) for (let j = 0; j < p; j++) out[j] += row[l] * b[l][j];
    return out;
  });
}

const ht = (a: Rows, cols = a[0]?.length ?? 0): Rows =>
  Array.from({ length: cols }, (_, j) => a.map((row) => row[j]));
const hsub = (a: Rows, b: Rows): Rows => a.map((row, i) => row.map((x, j) => x - b[i][j]));
const heye = (n: number): Rows =>
  Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));

function hmaxAbs(a: Rows): number {
  let m = 0;
  for (const row of a) for (const x of row) m = Math.max(m, Math.abs(x));
  return m;
}

/** The inverse of a small square matrix by Gauss-Jordan elimination with partial pivoting. */
function hinv(a: Rows): Rows {
  const n = a.length;
  const w = a.map((row, i) => [...row, ...heye(n)[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(w[r][c]) > Math.abs(w[p][c])) p = r;
    [w[c], w[p]] = [w[p], w[c]];
    const d = w[c][c];
    w[c] = w[c].map((x) => x / d);
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = w[r][c];
      w[r] = w[r].map((x, j) => x - f * w[c][j]);
    }
  }
  return w.map((row) => row.slice(n));
}

// ---------------------------------------------------------------------------
// Tolerances and assertions

/** Forward accuracy: 10 max(m, n) eps of the dtype, relative to max|A|. */
const fwdTol = (m: number, n: number, dtype: "float64" | "float32" = "float64") =>
  10 * Math.max(m, n, 1) * epsOf(dtype);
/**
 * Identities and closed forms that the rules reproduce up to a few reordered products
 * and one or two triangular solves with R (condition numbers below about 1e2 for these
 * seeds; the largest error measured is 6e-14): 1e-12, about 4500 eps.
 */
const TIGHT = 1e-12;

const dot = (a: Matrix, b: Matrix) => sum(mul(a, b)).get(0, 0);
const maxAbs = (a: Matrix) => hmaxAbs(a.toArray());

function assertClose(actual: Matrix | Rows, expected: Matrix | Rows, rtol: number, what: string) {
  const a = actual instanceof Matrix ? actual.toArray() : actual;
  const b = expected instanceof Matrix ? expected.toArray() : expected;
  assert.equal(a.length, b.length, `${what}: rows`);
  const e = hmaxAbs(hsub(a, b)) / Math.max(hmaxAbs(b), 1e-300);
  assert.ok(e <= rtol, `${what}: relative error ${e.toExponential(2)} > ${rtol.toExponential(2)}`);
}

function assertGradcheck(report: GradcheckReport, what: string): void {
  assert.ok(report.entries.some((e) => e.what.startsWith("jvp")), `${what}: jvp compared`);
  assert.ok(report.entries.some((e) => e.what.startsWith("vjp")), `${what}: vjp compared`);
  assert.ok(
    report.ok,
    `${what}: ${report.worst.what}: autodiff ${report.worst.autodiff} vs finite difference ${report.worst.finiteDifference}`,
  );
}

function throwsWith(f: () => unknown, cls: typeof Error, pattern: RegExp, what: string) {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof cls, `${what}: expected a ${cls.name}, got ${e}`);
    assert.match((e as Error).message, pattern, what);
    return true;
  });
}

// ---------------------------------------------------------------------------
// Forward

/** Every forward property of qr(A, { full }). */
function checkQr(A: Matrix, full: boolean, what: string): void {
  const [m, n] = A.shape, k = Math.min(m, n), c = full ? m : k;
  const tol = fwdTol(m, n, A.dtype);
  const { Q, R } = qr(A, { full });
  assert.deepEqual(Q.shape, [m, c], `${what}: Q shape`);
  assert.deepEqual(R.shape, [c, n], `${what}: R shape`);
  assert.equal(Q.dtype, A.dtype, `${what}: Q dtype`);
  assert.equal(R.dtype, A.dtype, `${what}: R dtype`);
  const a = A.toArray(), q = Q.toArray(), r = R.toArray();
  const scaleA = Math.max(hmaxAbs(a), 1e-300);
  const qtq = hsub(hmul(ht(q, c), q), heye(c));
  assert.ok(hmaxAbs(qtq) <= tol, `${what}: Q^T Q = I off by ${hmaxAbs(qtq)}`);
  if (full) {
    const qqt = hsub(hmul(q, ht(q, c)), heye(m));
    assert.ok(hmaxAbs(qqt) <= tol, `${what}: Q Q^T = I off by ${hmaxAbs(qqt)}`);
  }
  const res = hmaxAbs(hsub(hmul(q, r), a)) / scaleA;
  assert.ok(res <= tol, `${what}: Q R = A off by ${res} relative`);
  r.forEach((row, i) =>
    row.forEach((x, j) => {
      if (i > j) assert.equal(x, 0, `${what}: R[${i}][${j}] below the diagonal`);
      if (i === j) assert.ok(x >= 0, `${what}: R[${i}][${i}] = ${x} < 0`);
    })
  );
}

const SHAPES: [number, number][] = [[1, 1], [5, 1], [1, 5], [3, 3], [6, 3], [3, 6], [7, 2]];

Deno.test("qr: Q^T Q = I, Q R = A, R upper triangular with diag >= 0, thin and full", () => {
  const rng = new Random(1);
  for (const [m, n] of SHAPES) {
    const A = rng.normal(m, n);
    for (const full of [false, true]) checkQr(A, full, `${m}x${n}`);
    // The thin factors are the leading block of the full ones, bit for bit.
    const thin = qr(A), whole = qr(A, { full: true }), k = Math.min(m, n);
    assert.deepEqual(thin.Q.toArray(), slice(whole.Q, { cols: [0, k] }).toArray(), `${m}x${n} Q`);
    assert.deepEqual(thin.R.toArray(), slice(whole.R, { rows: [0, k] }).toArray(), `${m}x${n} R`);
  }
});

Deno.test("qr: forward properties on random shapes and scales (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 7 }),
      fc.integer({ min: 1, max: 7 }),
      fc.integer({ min: 0, max: 1e6 }),
      fc.constantFrom(1e-150, 1, 1e150),
      fc.boolean(),
      (m, n, seed, s, full) => checkQr(scale(new Random(seed).normal(m, n), s), full, `${m}x${n}`),
    ),
    { numRuns: 60 },
  );
});

Deno.test("qr: known values, 1x1, m x 1, 1 x n, rank deficient and empty inputs", () => {
  const { Q, R } = qr(Matrix.from([[3, 1], [4, 1], [0, 2]]));
  assertClose(slice(Q, { cols: [0, 1] }), [[0.6], [0.8], [0]], 1e-15, "3x2 Q[:, 0]");
  assertClose(R, [[5, 1.4], [0, Math.sqrt(4.04)]], 1e-15, "3x2 R");

  assert.deepEqual(qr(Matrix.from([[-3]])).Q.toArray(), [[-1]]);
  assert.deepEqual(qr(Matrix.from([[-3]])).R.toArray(), [[3]]);
  const col = qr(Matrix.from([[3], [0], [-4]]));
  assertClose(col.Q, [[0.6], [0], [-0.8]], 1e-15, "m x 1 Q");
  assertClose(col.R, [[5]], 1e-15, "m x 1 R");
  const row = qr(Matrix.from([[-2, 1, 5]]));
  assert.deepEqual(row.Q.toArray(), [[-1]]);
  assert.deepEqual(row.R.toArray(), [[2, -1, -5]]);

  // Rank deficient: still a valid factorization, with zeros (or rounding) on diag(R).
  checkQr(Matrix.from([[1, 2], [2, 4], [3, 6]]), false, "rank 1");
  checkQr(Matrix.zeros(3, 2), true, "zero");
  assert.deepEqual(qr(Matrix.zeros(3, 2)).R.toArray(), [[0, 0], [0, 0]]);

  for (const [m, n] of [[0, 3], [3, 0], [0, 0]]) {
    const thin = qr(Matrix.zeros(m, n)), full = qr(Matrix.zeros(m, n), { full: true });
    const k = Math.min(m, n);
    assert.deepEqual([thin.Q.shape, thin.R.shape], [[m, k], [k, n]], `${m}x${n} thin`);
    assert.deepEqual([full.Q.shape, full.R.shape], [[m, m], [m, n]], `${m}x${n} full`);
  }
  assert.deepEqual(qr(Matrix.zeros(2, 0), { full: true }).Q.toArray(), [[1, 0], [0, 1]]);
  assert.deepEqual(grad((a) => sum(qr(a).R))(Matrix.zeros(3, 0)).shape, [3, 0]);
});

Deno.test("qr: float32 input keeps float32 outputs and gradients", () => {
  const A = new Random(2).normal(5, 3, { dtype: "float32" });
  for (const full of [false, true]) checkQr(A, full, "5x3 float32");
  const g = grad((a) => sum(mul(qr(a).Q, qr(a).Q)))(A);
  assert.equal(g.dtype, "float32");
  const report = gradcheck((a) => qr(a).R, [A], { directions: 2, elementwiseLimit: 0 });
  assert.ok(report.ok, `float32 gradcheck: ${report.worst.what}`);
});

Deno.test("qr: argument errors say what and why", () => {
  throwsWith(
    () => qr([[1]] as unknown as Matrix),
    TypeError,
    /Cannot compute qr: A must be a Matrix/,
    "array",
  );
  throwsWith(
    () => qr(Matrix.eye(2), { full: 1 as unknown as boolean }),
    TypeError,
    /full must be a boolean/,
    "full",
  );
  throwsWith(() => qr(Matrix.from([[NaN, 1]])), RangeError, /NaN or Infinity/, "NaN");
  throwsWith(() => qr(Matrix.from([[Infinity], [1]])), RangeError, /NaN or Infinity/, "Inf");
});

// ---------------------------------------------------------------------------
// First derivatives

/** A loss through both factors, nonlinear in each: sum(Wq o Q^2) + sum(Wr o R) + sum(R^2)/2. */
function lossQR(m: number, n: number, seed: number): MatrixFn {
  const rng = new Random(seed), k = Math.min(m, n);
  const Wq = rng.normal(m, k), Wr = rng.normal(k, n);
  return (a) => {
    const { Q, R } = qr(a);
    return add(add(sum(mul(Wq, square(Q))), sum(mul(Wr, R))), scale(sum(square(R)), 0.5));
  };
}

Deno.test("qr: gradcheck (jvp and vjp) through Q and R, tall and square", () => {
  const rng = new Random(3);
  for (const [m, n] of [[1, 1], [4, 1], [3, 2], [5, 3], [4, 4], [8, 2]] as const) {
    const A = rng.normal(m, n);
    assertGradcheck(gradcheck((a) => qr(a).Q, [A]), `${m}x${n} Q`);
    assertGradcheck(gradcheck((a) => qr(a).R, [A]), `${m}x${n} R`);
    assertGradcheck(gradcheck(lossQR(m, n, m + n), [A]), `${m}x${n} loss`);
  }
});

Deno.test("qr: gradcheck for wide inputs (leading block invertible) and full with m <= n", () => {
  const rng = new Random(4);
  for (const [m, n] of [[1, 4], [2, 3], [3, 5]] as const) {
    const A = rng.normal(m, n);
    for (const full of [false, true]) {
      assertGradcheck(gradcheck((a) => qr(a, { full }).Q, [A]), `${m}x${n} Q full=${full}`);
      assertGradcheck(gradcheck((a) => qr(a, { full }).R, [A]), `${m}x${n} R full=${full}`);
    }
    assertGradcheck(gradcheck(lossQR(m, n, 7), [A]), `${m}x${n} loss`);
  }
  assertGradcheck(gradcheck((a) => qr(a, { full: true }).Q, [rng.normal(3, 3)]), "3x3 full");
});

Deno.test("qr: jvp satisfies dQ R + Q dR = dA, Q^T dQ skew, dR upper triangular", () => {
  const rng = new Random(5);
  for (const [m, n] of [[4, 4], [1, 1], [6, 3], [3, 5]] as const) {
    const A = rng.normal(m, n), dA = rng.normal(m, n), k = Math.min(m, n);
    const { Q, R } = qr(A);
    const [, dQ] = jvp((a) => qr(a).Q, [A], [dA]);
    const [, dR] = jvp((a) => qr(a).R, [A], [dA]);
    const what = `${m}x${n}`;
    assertClose(add(matmul(dQ, R), matmul(Q, dR)), dA, TIGHT, `${what}: d(QR) = dA`);
    const S = matmul(transpose(Q), dQ);
    const asym = maxAbs(add(S, transpose(S))) / Math.max(maxAbs(S), 1);
    assert.ok(asym <= TIGHT, `${what}: Q^T dQ + dQ^T Q = ${asym}`);
    dR.toArray().forEach((row, i) =>
      row.forEach((x, j) => {
        if (i > j) assert.equal(x, 0, `${what}: dR[${i}][${j}] below the diagonal`);
      })
    );
    // R^T R = A^T A (tall) gives dR^T R + R^T dR = dA^T A + A^T dA.
    if (m >= n) {
      const lhs = add(matmul(transpose(dR), R), matmul(transpose(R), dR));
      const rhs = add(matmul(transpose(dA), A), matmul(transpose(A), dA));
      assertClose(lhs, rhs, TIGHT, `${what}: d(R^T R)`);
    }
    assert.deepEqual(dQ.shape, [m, k]);
  }
});

Deno.test("qr: VJP and JVP are adjoint: <Qbar, dQ> + <Rbar, dR> = <Abar, dA>", () => {
  const rng = new Random(6);
  for (const [m, n] of [[5, 3], [4, 4], [2, 5]] as const) {
    const A = rng.normal(m, n), dA = rng.normal(m, n), k = Math.min(m, n);
    const Qb = rng.normal(m, k), Rb = rng.normal(k, n);
    const f = (a: Matrix) => add(sum(mul(Qb, qr(a).Q)), sum(mul(Rb, qr(a).R)));
    const [, df] = jvp(f, [A], [dA]);
    const Abar = grad(f)(A);
    const lhs = df.get(0, 0), rhs = dot(Abar, dA);
    assert.ok(Math.abs(lhs - rhs) <= TIGHT * Math.abs(rhs), `${m}x${n}: ${lhs} vs ${rhs}`);
  }
});

Deno.test("qr: closed form: d sum(log diag R) = A (A^T A)^-1 (A^-T when square)", () => {
  const rng = new Random(7);
  const logdet = (a: Matrix) => sum(log(diagonal(qr(a).R)));
  for (const [m, n] of [[3, 3], [6, 2], [5, 4]] as const) {
    const A = rng.normal(m, n), a = A.toArray();
    const expected = hmul(a, hinv(hmul(ht(a, n), a)));
    assertClose(grad(logdet)(A), expected, TIGHT, `${m}x${n}`);
    if (m === n) assertClose(expected, ht(hinv(a), n), TIGHT, `${m}x${n} A^-T`);
  }
});

// ---------------------------------------------------------------------------
// Full QR with m > n, and where the derivative does not exist

Deno.test("qr: full with m > n: losses on Q's first n columns or on I - Q Q^T differentiate", () => {
  const rng = new Random(8);
  const A = rng.normal(5, 2), W = rng.normal(5, 5), V = rng.normal(5, 2);
  // Through R and the first n columns only: the thin gradient, exactly.
  const first = (full: boolean) => (a: Matrix) => {
    const { Q, R } = qr(a, { full });
    return add(
      sum(mul(V, square(slice(Q, { cols: [0, 2] })))),
      sum(square(slice(R, { rows: [0, 2] }))),
    );
  };
  assertClose(grad(first(true))(A), grad(first(false))(A), 1e-14, "first columns");
  // Through the projector onto the complement: central differences along directions.
  const proj = (a: Matrix) => {
    const Qp = slice(qr(a, { full: true }).Q, { cols: [2, 5] });
    return sum(mul(W, matmul(Qp, transpose(Qp))));
  };
  const g = grad(proj)(A), { step } = gradTolerance("float64");
  for (let i = 0; i < 3; i++) {
    const d = rng.normal(5, 2);
    const fd = (proj(add(A, scale(d, step))).get(0, 0) - proj(sub(A, scale(d, step))).get(0, 0)) /
      (2 * step);
    const ad = dot(g, d);
    assert.ok(Math.abs(ad - fd) <= 1e-7 * Math.max(1, Math.abs(fd)), `projector: ${ad} vs ${fd}`);
  }
  throwsWith(
    () => grad((a) => sum(mul(W, qr(a, { full: true }).Q)))(A),
    RangeError,
    /Cannot differentiate qr with \{ full: true \} of a 5x2 input: columns 2\.\.4 of Q .* only functions of Q_perp Q_perp\^T/,
    "basis-dependent loss",
  );
  throwsWith(
    () => jvp((a) => qr(a, { full: true }).R, [A], [V]),
    RangeError,
    /Cannot compute the jvp of qr with \{ full: true \} of a 5x2 input: .*not defined/,
    "jvp",
  );
});

Deno.test("qr: singular R makes vjp and jvp throw a RangeError saying why", () => {
  const cases: [Matrix, RegExp][] = [
    [
      Matrix.from([[1, 2], [2, 4], [3, 6]]),
      /R is singular .*3x2 input does not have full column rank/,
    ],
    [Matrix.zeros(2, 2), /R is singular \(R\[0\]\[0\] = 0\.00e\+0/],
    [Matrix.from([[1, 2, 3], [2, 4, 5]]), /leading 2x2 block of the 2x3 input is singular/],
  ];
  for (const [A, pattern] of cases) {
    const f = (a: Matrix) => sum(qr(a).R);
    throwsWith(() => grad(f)(A), RangeError, pattern, `vjp ${A.shape}`);
    throwsWith(() => jvp(f, [A], [Matrix.ones(A.rows, A.cols)]), RangeError, pattern, "jvp");
  }
});

// ---------------------------------------------------------------------------
// Triangular solve

const FLAGS: Required<TriangularSolveOptions>[] = [];
for (const lower of [false, true]) {
  for (const transpose of [false, true]) {
    for (const left of [true, false]) FLAGS.push({ lower, transpose, left });
  }
}

/** A well-conditioned 4x4 triangular-ish matrix: random, diagonal pushed away from 0. */
function triangularInput(rng: Random): Matrix {
  const t = rng.normal(4, 4).toArray();
  t.forEach((row, i) => (row[i] += row[i] >= 0 ? 3 : -3));
  return Matrix.from(t);
}

Deno.test("triangularSolve: solves all eight systems and reads only its triangle", () => {
  const rng = new Random(9);
  for (const p of FLAGS) {
    const T = triangularInput(rng), B = p.left ? rng.normal(4, 3) : rng.normal(3, 4);
    const t = T.toArray().map((row, i) => row.map((x, j) => (p.lower ? i >= j : i <= j) ? x : 0));
    const S = p.transpose ? ht(t) : t;
    const X = triangularSolve(T, B, p).toArray();
    const back = p.left ? hmul(S, X) : hmul(X, S);
    assertClose(back, B, 1e-14, JSON.stringify(p));
  }
  const X32 = triangularSolve(Matrix.eye(2, 2, { dtype: "float32" }), Matrix.ones(2, 1));
  assert.equal(X32.dtype, "float64", "promoted dtype");
});

Deno.test("triangularSolve: gradcheck in T and B, and grad of grad, for every flag", () => {
  const rng = new Random(10);
  for (const p of FLAGS) {
    const T = triangularInput(rng), B = p.left ? rng.normal(4, 2) : rng.normal(2, 4);
    const what = JSON.stringify(p);
    const opts = { elementwiseLimit: 0, directions: 4 };
    assertGradcheck(gradcheck((t, b) => triangularSolve(t, b, p), [T, B], opts), what);
    const f = (t: Matrix, b: Matrix) => sum(square(triangularSolve(t, b, p)));
    const g = (t: Matrix, b: Matrix) => grad(f, [0, 1])(t, b);
    assertGradcheck(gradcheck((t, b) => g(t, b)[0], [T, B], opts), `${what} d2/dT`);
    assertGradcheck(gradcheck((t, b) => g(t, b)[1], [T, B], opts), `${what} d2/dB`);
  }
});

Deno.test("triangularSolve: errors", () => {
  throwsWith(
    () => triangularSolve(Matrix.ones(2, 3), Matrix.ones(2, 1)),
    TypeError,
    /Cannot solve a triangular system op\(T\) X = B with T 2x3 and B 2x1: T must be square/,
    "not square",
  );
  throwsWith(
    () => triangularSolve(Matrix.eye(2), Matrix.ones(2, 3), { left: false }),
    TypeError,
    /X op\(T\) = B with T 2x2 and B 2x3/,
    "sizes",
  );
  throwsWith(
    () => triangularSolve(Matrix.from([[1, 1], [0, 0]]), Matrix.ones(2, 1)),
    RangeError,
    /T is singular \(diagonal entry 1 is 0\)/,
    "singular",
  );
  throwsWith(
    () => triangularSolve(Matrix.eye(2), Matrix.ones(2, 1), { lower: 1 as unknown as boolean }),
    TypeError,
    /lower must be a boolean/,
    "flag",
  );
  throwsWith(
    () => triangularSolve(Matrix.eye(2), null as unknown as Matrix),
    TypeError,
    /B must be a Matrix/,
    "B",
  );
});

// ---------------------------------------------------------------------------
// Second order

Deno.test("qr: grad of grad matches finite differences (tall, square, wide)", () => {
  const rng = new Random(11);
  for (const [m, n] of [[3, 2], [3, 3], [2, 3]] as const) {
    const A = rng.normal(m, n), f = lossQR(m, n, 3 * m + n);
    assertGradcheck(gradcheck((a) => grad(f)(a), [A]), `${m}x${n} d grad`);
  }
});

Deno.test("qr: second-order closed form: d(A^-T)[dA] = -A^-T dA^T A^-T", () => {
  const rng = new Random(12);
  const logdet = (a: Matrix) => sum(log(diagonal(qr(a).R)));
  const A = rng.normal(4, 4), dA = rng.normal(4, 4);
  const [, hvp] = jvp((a) => grad(logdet)(a), [A], [dA]);
  const inv = ht(hinv(A.toArray()), 4);
  const expected = hmul(hmul(inv, ht(dA.toArray(), 4)), inv).map((r) => r.map((x) => -x));
  assertClose(hvp, expected, TIGHT, "jvp of grad");
  // Reverse over reverse: the Hessian is symmetric, <dB, H dA> = <dA, H dB>.
  const dB = rng.normal(4, 4);
  const hv = (v: Matrix) => vjp((a) => grad(logdet)(a), A)[1](v)[0];
  const l = dot(dB, hv(dA)), r = dot(dA, hv(dB));
  assert.ok(Math.abs(l - r) <= TIGHT * Math.abs(l), `Hessian symmetry ${l} vs ${r}`);
  assertClose(hv(dA), expected, TIGHT, "vjp of grad"); // H is self-adjoint
});
