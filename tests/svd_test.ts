/**
 * svd: forward accuracy and conventions, derivatives checked three ways (finite
 * differences via gradcheck, Townsend's formula written out independently, closed
 * forms), JVP/VJP duality, second order, and the kinks: full SVDs with losses on the
 * complement, exactly and nearly repeated singular values, zero singular values.
 * Singular vectors are defined up to sign, so every derivative goes through a
 * sign-invariant quantity (squares of entries, U diag(w) U^T, U S V^T, s).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  add,
  diag,
  epsOf,
  grad,
  gradcheck,
  type GradcheckReport,
  gradTolerance,
  jvp,
  matmul,
  Matrix,
  type MatrixFn,
  mul,
  Random,
  scale,
  slice,
  square,
  sub,
  sum,
  svd,
  type SvdOptions,
  townsendAbar,
  transpose,
  vjp,
  vstack,
} from "../mod.ts";

// ---------------------------------------------------------------------------
// Host-side helpers (plain number[][] arithmetic, independent of the library)

type Rows = number[][];

const EPS = epsOf("float64");
const FD = gradTolerance("float64");
/** The forward target of the issue: 10 max(m, n) eps of the dtype. */
const fwdTol = (m: number, n: number, dtype: "float64" | "float32" = "float64") =>
  10 * Math.max(m, n, 1) * epsOf(dtype);
/**
 * Autodiff vs Townsend's formula written out with public ops: the same products in
 * a different order, so they agree to rounding; 1e-10 leaves room for the
 * 1 / (s_j^2 - s_i^2) factors (condition numbers up to about 1e4 here).
 */
const FORMULA_RTOL = 1e-10;
/**
 * Closed forms and identities that the rules reproduce with a few reordered products
 * and no 1 / (s_j^2 - s_i^2) amplification (d sum(s) = U V^T, d ||s||^2 = 2A, duality,
 * Hessian symmetry): about 4500 eps.
 */
const TIGHT = 1e-12;

function hmul(a: Rows, b: Rows): Rows {
  const n = b.length, p = b[0]?.length ?? 0;
  return a.map((row) => {
    const out = new Array<number>(p).fill(0);
    for (let l = 0; l < n; l++) for (let j = 0; j < p; j++) out[j] += row[l] * b[l][j];
    return out;
  });
}

function ht(a: Rows, cols = a[0]?.length ?? 0): Rows {
  return Array.from({ length: cols }, (_, j) => a.map((row) => row[j]));
}

const hsub = (a: Rows, b: Rows): Rows => a.map((row, i) => row.map((x, j) => x - b[i][j]));
const heye = (n: number): Rows =>
  Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));

function hmaxAbs(a: Rows): number {
  let m = 0;
  for (const row of a) for (const x of row) m = Math.max(m, Math.abs(x));
  return m;
}

/** Frobenius norm, scaled first so entries near 1e-150 or 1e150 neither underflow nor overflow. */
function fro(a: Rows): number {
  const c = hmaxAbs(a);
  if (c === 0) return 0;
  let s = 0;
  for (const row of a) for (const x of row) s += (x / c) ** 2;
  return c * Math.sqrt(s);
}

/** A random n x n orthogonal matrix: modified Gram-Schmidt, twice, on Gaussian columns. */
function orthogonal(n: number, rng: Random): Rows {
  const cols = ht(rng.normal(n, n).toArray(), n);
  for (let j = 0; j < n; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        let d = 0;
        for (let r = 0; r < n; r++) d += cols[i][r] * cols[j][r];
        for (let r = 0; r < n; r++) cols[j][r] -= d * cols[i][r];
      }
      const nrm = Math.hypot(...cols[j]);
      for (let r = 0; r < n; r++) cols[j][r] /= nrm;
    }
  }
  return ht(cols, n);
}

/** A = Q1[:, :k] diag(sigma) Q2[:, :k]^T with random orthogonal Q1 (m x m) and Q2 (n x n). */
function withSingularValues(m: number, n: number, sigma: number[], seed: number): Matrix {
  const rng = new Random(seed);
  const q1 = orthogonal(m, rng), q2 = orthogonal(n, rng);
  const a = q1.map((row) =>
    Array.from({ length: n }, (_, j) => {
      let x = 0;
      for (let l = 0; l < sigma.length; l++) x += row[l] * sigma[l] * q2[j][l];
      return x;
    })
  );
  return Matrix.from(a);
}

// Library-side helpers for the derivative tests.

const dot = (a: Matrix, b: Matrix) => sum(mul(a, b)).get(0, 0);
const maxAbs = (a: Matrix) => hmaxAbs(a.toArray());
/** max |a - b| / max |b| (b the reference). */
const relErr = (a: Matrix, b: Matrix) =>
  hmaxAbs(hsub(a.toArray(), b.toArray())) / Math.max(maxAbs(b), 1e-300);
const gram = (X: Matrix) => matmul(X, transpose(X));

function assertClose(actual: Matrix, expected: Matrix, rtol: number, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const e = relErr(actual, expected);
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

/** Random direction of unit Frobenius norm. */
function direction(rng: Random, m: number, n: number): Matrix {
  const d = rng.normal(m, n);
  return scale(d, 1 / Math.sqrt(dot(d, d)));
}

/**
 * A loss through U, s and V, invariant to the sign of each singular pair:
 * sum(Wu o U^2) + sum(ws o s) + sum(Wv o V^2).
 */
function lossUSV(Wu: Matrix, ws: Matrix, Wv: Matrix, opts: SvdOptions = {}): MatrixFn {
  return (a) => {
    const r = svd(a, opts);
    return add(add(sum(mul(Wu, square(r.U))), sum(mul(ws, r.s))), sum(mul(Wv, square(r.V))));
  };
}

function weightsFor(m: number, n: number, seed: number) {
  const rng = new Random(seed), k = Math.min(m, n);
  return { Wu: rng.normal(m, k), ws: rng.normal(k, 1), Wv: rng.normal(n, k) };
}

const throwsRange = (f: () => unknown, pattern: RegExp, what: string) =>
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof RangeError, `${what}: expected a RangeError, got ${e}`);
    assert.match(e.message, pattern, what);
    return true;
  });

// ---------------------------------------------------------------------------
// Forward: accuracy, shapes, conventions

/** Every forward property of svd(A, { full }), with 10 max(m, n) eps of A's dtype. */
function checkSvd(name: string, A: Matrix, full: boolean): void {
  const what = `${name} (${full ? "full" : "thin"})`;
  const [m, n] = A.shape, k = Math.min(m, n);
  const tol = fwdTol(m, n, A.dtype);
  const { U, S, V, s } = svd(A, { full });
  assert.deepEqual(U.shape, full ? [m, m] : [m, k], `${what}: U shape`);
  assert.deepEqual(S.shape, full ? [m, n] : [k, k], `${what}: S shape`);
  assert.deepEqual(V.shape, full ? [n, n] : [n, k], `${what}: V shape`);
  assert.deepEqual(s.shape, [k, 1], `${what}: s shape`);
  for (const X of [U, S, V, s]) assert.equal(X.dtype, A.dtype, `${what}: dtype`);

  const a = A.toArray(), u = U.toArray(), sm = S.toArray(), v = V.toArray();
  const sv = s.toArray().map((r) => r[0]);
  // S: diagonal, equal to s, descending, non-negative.
  sm.forEach((row, i) =>
    row.forEach((x, j) => {
      if (i !== j) assert.equal(x, 0, `${what}: S[${i}][${j}] off the diagonal`);
      else assert.equal(x, sv[i], `${what}: S[${i}][${i}] = s[${i}]`);
    })
  );
  sv.forEach((x, i) => {
    assert.ok(x >= 0, `${what}: s[${i}] = ${x} is negative`);
    if (i > 0) assert.ok(x <= sv[i - 1], `${what}: s not descending at ${i}`);
  });
  // A = U S V^T and orthonormal columns.
  const resid = fro(hsub(a, hmul(hmul(u, sm), ht(v, V.cols))));
  assert.ok(resid <= tol * fro(a), `${what}: ||A - U S V^T|| / ||A|| = ${resid / fro(a)}`);
  const orth = (x: Rows, cols: number) => fro(hsub(hmul(ht(x, cols), x), heye(cols)));
  assert.ok(orth(u, U.cols) <= tol, `${what}: ||U^T U - I|| = ${orth(u, U.cols)}`);
  assert.ok(orth(v, V.cols) <= tol, `${what}: ||V^T V - I|| = ${orth(v, V.cols)}`);
  if (full) {
    const rowsOrth = (x: Rows) => fro(hsub(hmul(x, ht(x)), heye(x.length)));
    assert.ok(rowsOrth(u) <= tol, `${what}: ||U U^T - I|| = ${rowsOrth(u)}`);
    assert.ok(rowsOrth(v) <= tol, `${what}: ||V V^T - I|| = ${rowsOrth(v)}`);
  }
  // Sign convention (documented for the k singular pairs): the first entry of largest
  // magnitude of each paired U column is positive. Checked in float64 only: rounding
  // to float32 can make two entries of different sign equally large.
  if (A.dtype === "float64") {
    for (let c = 0; c < k; c++) {
      let best = 0;
      for (const row of u) if (Math.abs(row[c]) > Math.abs(best)) best = row[c];
      assert.ok(best > 0, `${what}: largest entry of U column ${c} is ${best}`);
    }
  }
}

interface Case {
  name: string;
  A: Matrix;
  /** Known singular values (for constructed inputs). */
  sigma?: number[];
}

function forwardCases(): Case[] {
  const rng = new Random(7);
  const graded = [1, 1e-4, 1e-8, 1e-12];
  const colGraded = matmul(rng.normal(6, 4), diag(Matrix.from([graded]))); // columns 1 .. 1e-12
  const base = rng.normal(5, 3);
  return [
    { name: "random 7x4", A: rng.normal(7, 4) },
    { name: "random 4x7", A: rng.normal(4, 7) },
    { name: "random 5x5", A: rng.normal(5, 5) },
    { name: "rank 2, 6x4", A: matmul(rng.normal(6, 2), rng.normal(2, 4)) },
    { name: "rank 2, 4x6", A: matmul(rng.normal(4, 2), rng.normal(2, 6)) },
    { name: "rank 1, 5x5", A: matmul(rng.normal(5, 1), rng.normal(1, 5)) },
    { name: "graded 1 .. 1e-12, 6x4", A: withSingularValues(6, 4, graded, 1), sigma: graded },
    { name: "graded 1 .. 1e-12, 4x6", A: withSingularValues(4, 6, graded, 2), sigma: graded },
    { name: "columns graded 1 .. 1e-12, 6x4", A: colGraded },
    {
      name: "repeated (2, 2, 2, 1), 6x4",
      A: withSingularValues(6, 4, [2, 2, 2, 1], 3),
      sigma: [2, 2, 2, 1],
    },
    {
      name: "repeated (3, 3, 3), 3x3",
      A: withSingularValues(3, 3, [3, 3, 3], 4),
      sigma: [3, 3, 3],
    },
    { name: "scaled by 1e-150, 5x3", A: scale(base, 1e-150) },
    { name: "scaled by 1e150, 5x3", A: scale(base, 1e150) },
    { name: "scaled by 1e-150, 3x5", A: scale(transpose(base), 1e-150) },
    { name: "zero 4x3", A: Matrix.zeros(4, 3), sigma: [0, 0, 0] },
    { name: "zero 3x4", A: Matrix.zeros(3, 4), sigma: [0, 0, 0] },
    { name: "1x1", A: Matrix.from([[2.5]]), sigma: [2.5] },
    { name: "1x1 negative", A: Matrix.from([[-3]]), sigma: [3] },
    { name: "1x1 zero", A: Matrix.zeros(1, 1), sigma: [0] },
    { name: "1x5", A: Matrix.from([[1, -2, 2, 0, 4]]), sigma: [5] },
    { name: "5x1", A: Matrix.from([[0], [3], [0], [-4], [0]]), sigma: [5] },
    { name: "float32 6x4", A: rng.normal(6, 4, { dtype: "float32" }) },
    { name: "float32 3x5", A: rng.normal(3, 5, { dtype: "float32" }) },
  ];
}

for (const c of forwardCases()) {
  Deno.test(`svd forward: ${c.name}, thin and full`, () => {
    checkSvd(c.name, c.A, false);
    checkSvd(c.name, c.A, true);
    if (c.sigma) {
      // Rounding A's entries moves each singular value by about eps ||A||, so the
      // constructed sigma is reproduced to the forward tolerance times sigma_max.
      const s = svd(c.A).s.toArray().map((r) => r[0]);
      const [m, n] = c.A.shape;
      const tol = fwdTol(m, n) * Math.max(...c.sigma, 1e-300);
      c.sigma.forEach((x, i) =>
        assert.ok(Math.abs(s[i] - x) <= tol, `${c.name}: s[${i}] = ${s[i]}, expected ${x}`)
      );
    }
  });
}

Deno.test("svd forward: scaling by 1e+-150 scales the singular values exactly (no over/underflow)", () => {
  const A = new Random(11).normal(5, 3);
  const s = svd(A).s.toArray().map((r) => r[0]);
  for (const f of [1e-150, 1e150]) {
    const sf = svd(scale(A, f)).s.toArray().map((r) => r[0]);
    sf.forEach((x, i) => {
      assert.ok(Number.isFinite(x) && x > 0, `scale ${f}: s[${i}] = ${x}`);
      assert.ok(Math.abs(x / f - s[i]) <= fwdTol(5, 3) * s[0], `scale ${f}: s[${i}]`);
    });
  }
});

Deno.test("svd forward: the documented example and the 1x1 signs", () => {
  const { U, S, V } = svd(Matrix.from([[3, 0], [0, 4], [0, 0]]));
  assert.deepEqual(S.toArray(), [[4, 0], [0, 3]]);
  assert.deepEqual(U.toArray(), [[0, 1], [1, 0], [0, 0]]);
  assert.deepEqual(V.toArray(), [[0, 1], [1, 0]]);
  const neg = svd(Matrix.from([[-3]]));
  assert.deepEqual([neg.U.toArray(), neg.S.toArray(), neg.V.toArray()], [[[1]], [[3]], [[-1]]]);
});

Deno.test("svd forward: deterministic, same input gives bit-identical output", () => {
  const rng = new Random(12);
  for (
    const A of [rng.normal(6, 3), rng.normal(3, 6), withSingularValues(5, 4, [2, 2, 1, 0], 5)]
  ) {
    for (const full of [false, true]) {
      const a = svd(A, { full }), b = svd(A, { full });
      for (const key of ["U", "S", "V", "s"] as const) {
        assert.deepEqual(a[key].toArray(), b[key].toArray(), `${key} (${full ? "full" : "thin"})`);
      }
    }
  }
});

Deno.test("svd forward: float32 input gives float32 U, S, V, s", () => {
  const A = new Random(13).normal(5, 3, { dtype: "float32" });
  for (const full of [false, true]) {
    const r = svd(A, { full });
    assert.deepEqual([r.U.dtype, r.S.dtype, r.V.dtype, r.s.dtype], Array(4).fill("float32"));
  }
});

Deno.test("svd errors: NaN/Infinity -> RangeError, non-Matrix -> TypeError, bad eps -> RangeError", () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    throwsRange(() => svd(Matrix.from([[1, 2], [bad, 4]])), /^Cannot compute svd: .*NaN/, `${bad}`);
  }
  for (const notMatrix of [[[1, 2]], null, 3, "A"]) {
    assert.throws(
      () => svd(notMatrix as unknown as Matrix),
      (e: unknown) =>
        e instanceof TypeError && /^Cannot compute svd: A must be a Matrix/.test(e.message),
    );
  }
  const A = Matrix.eye(2);
  for (const eps of [-1, -1e-12, NaN, Infinity]) {
    throwsRange(
      () => svd(A, { eps }),
      /^Cannot compute svd: eps must be a finite number >= 0/,
      `eps ${eps}`,
    );
  }
  assert.doesNotThrow(() => svd(A, { eps: 0 }));
  assert.doesNotThrow(() => svd(A, { eps: 1e-12 }));
});

// ---------------------------------------------------------------------------
// Derivatives: finite differences, Townsend's formula, closed forms, duality

const SHAPES: [string, number, number][] = [["m > n", 6, 3], ["m < n", 3, 6], ["m = n", 4, 4]];

for (const [label, m, n] of SHAPES) {
  Deno.test(`svd derivatives (${label}, ${m}x${n}): gradcheck, jvp and vjp, losses through U, S, V`, () => {
    const A = new Random(20 + m).normal(m, n);
    const { Wu, ws, Wv } = weightsFor(m, n, 30 + m);
    const k = Math.min(m, n);
    const rng = new Random(40 + m);
    const w = rng.normal(1, k), Wm = rng.normal(m, m), Wn = rng.normal(n, n), W = rng.normal(m, n);
    /** X diag(w) X^T, invariant to the sign of each column of X. */
    const weighted = (X: Matrix) => matmul(mul(X, w), transpose(X));
    const losses: [string, MatrixFn][] = [
      ["sum(Wu o U^2) + sum(ws o s) + sum(Wv o V^2)", lossUSV(Wu, ws, Wv)],
      ["U diag(w) U^T", (a) => sum(mul(Wm, weighted(svd(a).U)))],
      ["V diag(w) V^T", (a) => sum(mul(Wn, weighted(svd(a).V)))],
      ["U S V^T", (a) => {
        const r = svd(a);
        return sum(mul(W, matmul(matmul(r.U, r.S), transpose(r.V))));
      }],
    ];
    for (const [name, f] of losses) {
      assertGradcheck(gradcheck(f, [A], { seed: 1 }), `${label} ${name}`);
    }
  });

  Deno.test(`svd derivatives (${label}, ${m}x${n}): autodiff equals Townsend's formula`, () => {
    const A = new Random(50 + m).normal(m, n);
    const { Wu, ws, Wv } = weightsFor(m, n, 60 + m);
    const { U, s, V } = svd(A);
    const expected = townsendAbar(U, s, V, scale(mul(Wu, U), 2), ws, scale(mul(Wv, V), 2));
    assertClose(grad(lossUSV(Wu, ws, Wv))(A), expected, FORMULA_RTOL, label);
  });

  Deno.test(`svd derivatives (${label}, ${m}x${n}): closed forms (A itself, A A^T, A^T A)`, () => {
    const rng = new Random(70 + m);
    const A = rng.normal(m, n), W = rng.normal(m, n), Wm = rng.normal(m, m), Wn = rng.normal(n, n);
    // U S V^T = A: the gradient of sum(W o U S V^T) is W, which needs both projector terms.
    const usv = (a: Matrix) => {
      const r = svd(a);
      return sum(mul(W, matmul(matmul(r.U, r.S), transpose(r.V))));
    };
    assertClose(grad(usv)(A), W, TIGHT, `${label}: d sum(W o U S V^T) = W`);
    // U S^2 U^T = A A^T and V S^2 V^T = A^T A.
    const uss = (a: Matrix) => {
      const r = svd(a);
      return sum(mul(Wm, matmul(matmul(r.U, square(r.S)), transpose(r.U))));
    };
    assertClose(grad(uss)(A), matmul(add(Wm, transpose(Wm)), A), TIGHT, `${label}: A A^T`);
    const vss = (a: Matrix) => {
      const r = svd(a);
      return sum(mul(Wn, matmul(matmul(r.V, square(r.S)), transpose(r.V))));
    };
    assertClose(grad(vss)(A), matmul(A, add(Wn, transpose(Wn))), TIGHT, `${label}: A^T A`);
    // d sum(s) = U V^T for full rank.
    const { U, V } = svd(A);
    assertClose(grad((a) => sum(svd(a).s))(A), matmul(U, transpose(V)), TIGHT, `${label}: sum(s)`);
  });
}

Deno.test("svd derivatives: 1xn, mx1 and 1x1", () => {
  const rng = new Random(80);
  for (const [m, n] of [[1, 5], [5, 1], [1, 1]]) {
    const A = rng.normal(m, n);
    const norm = Math.sqrt(dot(A, A));
    // s = ||A||, so d s = A / ||A||.
    assertClose(grad((a) => sum(svd(a).s))(A), scale(A, 1 / norm), TIGHT, `${m}x${n}: sum(s)`);
    const { Wu, ws, Wv } = weightsFor(m, n, 81);
    assertGradcheck(gradcheck(lossUSV(Wu, ws, Wv), [A], { seed: 2 }), `${m}x${n}`);
  }
});

Deno.test("svd derivatives: JVP/VJP duality <G, J dA> = <J^T G, dA> for every output (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 0, max: 1e6 }),
      (m, n, seed) => {
        const rng = new Random(seed);
        const A = rng.normal(m, n), dA = rng.normal(m, n);
        // All of U, s and V as one (m + 1 + n) x k output, with an arbitrary cotangent.
        const f = (a: Matrix) => {
          const r = svd(a);
          return vstack(r.U, transpose(r.s), r.V);
        };
        const [y, pullback] = vjp(f, A);
        const G = rng.normal(y.rows, y.cols);
        const [, dy] = jvp(f, [A], [dA]);
        const [Abar] = pullback(G);
        const lhs = dot(G, dy), rhs = dot(Abar, dA);
        // Rounding is relative to the magnitudes of the terms (Cauchy-Schwarz bounds).
        const mag = Math.sqrt(dot(G, G) * dot(dy, dy)) + Math.sqrt(dot(Abar, Abar) * dot(dA, dA));
        return Math.abs(lhs - rhs) <= TIGHT * mag;
      },
    ),
    { numRuns: 40, seed: 424242 },
  );
});

Deno.test("svd derivatives: JVP structure: U^T dU skew, dS = I o (U^T dA V)", () => {
  const rng = new Random(90);
  for (const [m, n] of [[6, 3], [3, 6]]) {
    const A = rng.normal(m, n), dA = rng.normal(m, n);
    const { U, V } = svd(A);
    const [, dU] = jvp((a) => svd(a).U, [A], [dA]);
    const [, dV] = jvp((a) => svd(a).V, [A], [dA]);
    const [, ds] = jvp((a) => svd(a).s, [A], [dA]);
    const UtdU = matmul(transpose(U), dU), VtdV = matmul(transpose(V), dV);
    const tol = 1e3 * fwdTol(m, n); // relative to |U^T dU|, which carries 1/(s_j^2 - s_i^2)
    assert.ok(maxAbs(add(UtdU, transpose(UtdU))) <= tol * maxAbs(UtdU), "U^T dU skew");
    assert.ok(maxAbs(add(VtdV, transpose(VtdV))) <= tol * maxAbs(VtdV), "V^T dV skew");
    const P = matmul(matmul(transpose(U), dA), V).toArray();
    const expected = Matrix.from(P.map((row, i) => [row[i]]));
    assertClose(ds, expected, TIGHT, `${m}x${n}: dS`);
  }
});

// ---------------------------------------------------------------------------
// Second order

Deno.test("svd second order: Hessian-vector product of sum(s) (jvp of grad) vs finite differences of the gradient", () => {
  const rng = new Random(100);
  for (const [m, n] of [[5, 3], [3, 5], [4, 4]]) {
    const A = rng.normal(m, n);
    const g = grad((a) => sum(svd(a).s));
    for (let t = 0; t < 2; t++) {
      const d = direction(rng, m, n);
      const [, hvp] = jvp(g, [A], [d]);
      const h = FD.step * Math.max(1, maxAbs(A));
      const fd = scale(sub(g(add(A, scale(d, h))), g(sub(A, scale(d, h)))), 1 / (2 * h));
      assertClose(hvp, fd, FD.rtol, `${m}x${n} direction ${t}`);
    }
    // The Hessian is symmetric: <dB, H dA> = <dA, H dB>.
    const dA = direction(rng, m, n), dB = direction(rng, m, n);
    const hA = jvp(g, [A], [dA])[1], hB = jvp(g, [A], [dB])[1];
    assert.ok(
      Math.abs(dot(dB, hA) - dot(dA, hB)) <= TIGHT * (maxAbs(hA) + maxAbs(hB)),
      "symmetric",
    );
  }
});

Deno.test("svd second order: grad(grad) and jvp(grad) of losses through s and U (gradcheck of the gradient)", () => {
  const rng = new Random(110);
  const A = rng.normal(4, 3), W = rng.normal(4, 3), Wu = rng.normal(4, 3);
  const throughS = grad((a) => sum(square(svd(a).s)));
  const throughU = grad((a) => sum(mul(Wu, square(svd(a).U))));
  for (const [name, g] of [["sum(s^2)", throughS], ["sum(Wu o U^2)", throughU]] as const) {
    // h(A) = <W, grad f(A)>: its jvp is jvp-of-grad, its vjp grad-of-grad.
    const h = (a: Matrix) => sum(mul(W, g(a)));
    assertGradcheck(gradcheck(h, [A], { seed: 3, elementwiseLimit: 0, directions: 4 }), name);
  }
  // sum(s^2) = ||A||_F^2 has Hessian 2 I.
  assertClose(grad((a) => sum(mul(W, throughS(a))))(A), scale(W, 2), TIGHT, "Hessian of ||A||^2");
});

// ---------------------------------------------------------------------------
// Beyond PyTorch/JAX: full SVDs and the complement

Deno.test("svd full: a loss on U_perp U_perp^T gets the exact gradient (PyTorch drops it, JAX raises)", () => {
  const rng = new Random(120);
  for (const [m, n] of [[6, 3], [5, 4]]) {
    const A = rng.normal(m, n), W = rng.normal(m, m);
    const viaComplement = (a: Matrix) => {
      const Up = slice(svd(a, { full: true }).U, { cols: [n, m] });
      return sum(mul(W, gram(Up)));
    };
    const viaThin = (a: Matrix) => sum(mul(W, sub(Matrix.eye(m), gram(svd(a).U))));
    assertGradcheck(gradcheck(viaComplement, [A], { seed: 4 }), `${m}x${n} U_perp`);
    assertClose(
      grad(viaComplement)(A),
      grad(viaThin)(A),
      FORMULA_RTOL,
      `${m}x${n}: same as I - U U^T`,
    );
    assert.ok(maxAbs(grad(viaComplement)(A)) > 0.1, "the gradient is not dropped");
  }
  // m < n: the same through V's extra columns.
  const A = rng.normal(3, 6), W = rng.normal(6, 6);
  const viaComplement = (a: Matrix) =>
    sum(mul(W, gram(slice(svd(a, { full: true }).V, { cols: [3, 6] }))));
  const viaThin = (a: Matrix) => sum(mul(W, sub(Matrix.eye(6), gram(svd(a).V))));
  assertGradcheck(gradcheck(viaComplement, [A], { seed: 5 }), "3x6 V_perp");
  assertClose(grad(viaComplement)(A), grad(viaThin)(A), FORMULA_RTOL, "3x6: same as I - V V^T");
});

Deno.test("svd full: a loss on the basis of the complement throws a RangeError saying why", () => {
  const rng = new Random(130);
  const A = rng.normal(6, 3);
  const why =
    /^Cannot differentiate orthcomp of a 6x3 matrix: the loss depends on the arbitrary choice of basis inside the orthogonal complement/;
  throwsRange(
    () => grad((a) => sum(slice(svd(a, { full: true }).U, { cols: [3, 6] })))(A),
    why,
    "sum(Up)",
  );
  const W = rng.normal(6, 3);
  throwsRange(
    () => grad((a) => sum(mul(W, slice(svd(a, { full: true }).U, { cols: [3, 6] }))))(A),
    why,
    "sum(W o Up)",
  );
  // Square U (m = n) has no complement: a loss on the whole full U is just the thin one.
  const B = rng.normal(4, 4), Wb = rng.normal(4, 4);
  const full = (a: Matrix) => sum(mul(Wb, square(svd(a, { full: true }).U)));
  const thin = (a: Matrix) => sum(mul(Wb, square(svd(a).U)));
  assertClose(grad(full)(B), grad(thin)(B), 0, "4x4 full = thin");
});

// ---------------------------------------------------------------------------
// Repeated singular values

/** A = Q1 diag(2, 2, 1) Q2^T, 5x3: singular values 0 and 1 tie exactly (to rounding). */
const tiedA = () => withSingularValues(5, 3, [2, 2, 1], 140);

Deno.test("svd ties: losses invariant inside the tied subspace get the exact gradient", () => {
  const A = tiedA();
  const { U, V, s } = svd(A);
  assert.ok(Math.abs(s.get(0, 0) - s.get(1, 0)) <= 8 * EPS, "the pair is tied to rounding");
  // d sum(s) = U V^T (nuclear norm; unique despite the tie).
  const gs = grad((a) => sum(svd(a).s))(A);
  assertClose(gs, matmul(U, transpose(V)), TIGHT, "d sum(s) = U V^T");
  assertGradcheck(gradcheck((a) => sum(svd(a).s), [A], { seed: 6 }), "sum(s)");
  // d ||s||^2 = 2 A.
  assertClose(grad((a) => sum(square(svd(a).s)))(A), scale(A, 2), TIGHT, "d sum(s^2) = 2A");
  // Projectors onto the whole range and onto the tied pair's span.
  const W = new Random(141).normal(5, 5);
  const range = (a: Matrix) => sum(mul(W, gram(svd(a).U)));
  const pair = (a: Matrix) => sum(mul(W, gram(slice(svd(a).U, { cols: [0, 2] }))));
  for (const [name, f] of [["U U^T", range], ["U[:, :2] U[:, :2]^T", pair]] as const) {
    const g = grad(f)(A);
    assert.ok(g.toArray().flat().every(Number.isFinite), `${name}: finite`);
    assertGradcheck(gradcheck(f, [A], { seed: 7 }), name);
  }
});

Deno.test("svd ties: a loss on the individual tied vectors throws a RangeError mentioning eps", () => {
  const A = tiedA();
  const { Wu, ws, Wv } = weightsFor(5, 3, 150);
  const eps = /^Cannot differentiate svd: singular values 0 and 1 are equal.*pass \{ eps \}/;
  throwsRange(() => grad((a) => sum(mul(Wu, square(svd(a).U))))(A), eps, "through U");
  throwsRange(() => grad((a) => sum(mul(Wv, square(svd(a).V))))(A), eps, "through V");
  // A loss weighing the tied values differently (s_0 alone is max(s_0, s_1): a kink).
  throwsRange(() => grad((a) => sum(mul(ws, svd(a).s)))(A), eps, "sum(ws o s)");
  // sum(W o U S^2 U^T) = sum(W o A A^T) is smooth, but at an exact tie the rule sees U
  // only in an arbitrary basis of the pair and cannot tell it from losses with the same
  // cotangents and another gradient; it throws rather than answer in that basis. Same
  // for U S V^T (its cotangents match those of sum(W o U S0 V^T) + c^T s).
  const W = new Random(151).normal(5, 5), W3 = new Random(152).normal(5, 3);
  throwsRange(
    () =>
      grad((a) => sum(mul(W, matmul(matmul(svd(a).U, square(svd(a).S)), transpose(svd(a).U)))))(A),
    eps,
    "U S^2 U^T",
  );
  throwsRange(
    () => grad((a) => sum(mul(W3, matmul(matmul(svd(a).U, svd(a).S), transpose(svd(a).V)))))(A),
    eps,
    "U S V^T",
  );
  // With eps the gradients are finite (broadened, approximate).
  const g = grad(lossUSV(Wu, ws, Wv, { eps: 1e-12 }))(A);
  assert.ok(g.toArray().flat().every(Number.isFinite), "finite with eps");
  // ... and for sum(s), which needs no broadening, eps changes nothing.
  const { U, V } = svd(A);
  assertClose(grad((a) => sum(svd(a, { eps: 1e-12 }).s))(A), matmul(U, transpose(V)), TIGHT, "eps");
});

Deno.test("svd near ties (gap 1e-8): large but finite by default (as PyTorch/JAX), bounded with eps", () => {
  const A = withSingularValues(5, 3, [2, 2 - 1e-8, 1], 160);
  const { Wu, ws, Wv } = weightsFor(5, 3, 161);
  const exact = grad(lossUSV(Wu, ws, Wv))(A);
  const broadened = grad(lossUSV(Wu, ws, Wv, { eps: 1e-12 }))(A);
  for (const g of [exact, broadened]) assert.ok(g.toArray().flat().every(Number.isFinite));
  // The exact gradient carries 1 / (s_0^2 - s_1^2) = 2.5e7.
  assert.ok(maxAbs(exact) > 1e5, `default gradient ${maxAbs(exact)} should be large`);
  // Broadening bounds x / (x^2 + eps) by 1 / (2 sqrt(eps)) = 5e5.
  assert.ok(maxAbs(broadened) < maxAbs(exact) / 10, `eps gradient ${maxAbs(broadened)}`);
  assert.ok(maxAbs(broadened) < 1e7, `eps gradient ${maxAbs(broadened)}`);
  // The default is Townsend's formula exactly (what PyTorch and JAX compute). Both
  // sides form 1 / (s_j^2 - s_i^2) from the same s, so the 1e8 amplification of
  // rounding in that factor is shared and the usual tolerance holds.
  const { U, s, V } = svd(A);
  const formula = townsendAbar(U, s, V, scale(mul(Wu, U), 2), ws, scale(mul(Wv, V), 2));
  assertClose(exact, formula, FORMULA_RTOL, "near tie vs Townsend's formula");
});

// ---------------------------------------------------------------------------
// Zero singular values

Deno.test("svd zero singular values: sum(s) has the gradient U V^T on the range", () => {
  const rng = new Random(170);
  for (const [m, n] of [[5, 3], [3, 5], [4, 4]]) {
    const A = withSingularValues(m, n, [3, 1], 171 + m); // rank 2
    const { U, V, s } = svd(A);
    assert.ok(s.get(Math.min(m, n) - 1, 0) <= fwdTol(m, n) * 3, `${m}x${n}: rank 2`);
    const G = grad((a) => sum(svd(a).s))(A);
    const Ur = slice(U, { cols: [0, 2] }), Vr = slice(V, { cols: [0, 2] });
    assertClose(matmul(G, Vr), Ur, TIGHT, `${m}x${n}: G V_r = U_r`);
    assertClose(matmul(transpose(Ur), G), transpose(Vr), TIGHT, `${m}x${n}: U_r^T G = V_r^T`);
    // Along directions that keep the range (dA = U_r X V_r^T), sum(s) is smooth.
    const dA = matmul(matmul(Ur, rng.normal(2, 2)), transpose(Vr));
    const h = FD.step;
    const f = (a: Matrix) => sum(svd(a).s).get(0, 0);
    const fd = (f(add(A, scale(dA, h))) - f(sub(A, scale(dA, h)))) / (2 * h);
    assert.ok(Math.abs(dot(G, dA) - fd) <= FD.rtol * Math.abs(fd) + FD.atol, `${m}x${n}: FD`);
  }
});

Deno.test("svd zero singular values: a loss on the nonzero part is differentiable, one beyond throws", () => {
  const rng = new Random(180);
  // Tall, rank 2: the projector onto the top-2 left singular vectors is smooth.
  const A = withSingularValues(5, 3, [3, 1], 181);
  const W = rng.normal(5, 5);
  const top2 = (a: Matrix) => sum(mul(W, gram(slice(svd(a).U, { cols: [0, 2] }))));
  assertGradcheck(gradcheck(top2, [A], { seed: 8 }), "U_r U_r^T (tall)");
  // U U^T includes u_2, which for s_2 = 0 is any unit vector orthogonal to the range.
  throwsRange(
    () => grad((a) => sum(mul(W, gram(svd(a).U))))(A),
    /^Cannot differentiate svd: singular value 2 is zero and the loss depends on the left singular vector 2 beyond its span/,
    "U U^T, tall",
  );
  // Wide, rank 2: the same on the right.
  const B = withSingularValues(3, 5, [3, 1], 182);
  const Wv = rng.normal(5, 5);
  const top2v = (a: Matrix) => sum(mul(Wv, gram(slice(svd(a).V, { cols: [0, 2] }))));
  assertGradcheck(gradcheck(top2v, [B], { seed: 9 }), "V_r V_r^T (wide)");
  throwsRange(
    () => grad((a) => sum(mul(Wv, gram(svd(a).V))))(B),
    /^Cannot differentiate svd: singular value 2 is zero and the loss depends on the right singular vector 2 beyond its span/,
    "V V^T, wide",
  );
});
