/**
 * orthcomp, projectOut and ComplementOp: the complement's defining identities,
 * agreement of the implicit operator with the dense complement, the projector
 * against I - U U^T formed densely, derivatives (exact for functions of
 * U_perp U_perp^T, an error for the basis), and errors with class and message.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  add,
  ComplementOp,
  epsOf,
  jvp,
  matmul,
  Matrix,
  mul,
  orthcomp,
  projectOut,
  Random,
  scale,
  sub,
  sum,
  svd,
  transpose,
  vjp,
} from "../mod.ts";

// ---------------------------------------------------------------------------
// Helpers

type Rows = number[][];

/** The forward target: 10 max(m, n) eps of the dtype. */
/** Derivatives of the same loss written two ways: a few reordered products. */
const TIGHT = 1e-12;

const tolFor = (m: number, dtype: "float64" | "float32" = "float64") =>
  10 * Math.max(m, 1) * epsOf(dtype);

function hmaxAbs(a: Rows): number {
  let m = 0;
  for (const row of a) for (const x of row) m = Math.max(m, Math.abs(x));
  return m;
}

/** max |A - B|, on host data. */
function maxDiff(A: Matrix, B: Matrix): number {
  assert.deepEqual(A.shape, B.shape);
  const a = A.toArray(), b = B.toArray();
  return hmaxAbs(a.map((row, i) => row.map((x, j) => x - b[i][j])));
}

const maxAbs = (A: Matrix) => hmaxAbs(A.toArray());
const gram = (X: Matrix) => matmul(X, transpose(X));
const dot = (a: Matrix, b: Matrix) => sum(mul(a, b)).get(0, 0);

/** An m x k matrix with orthonormal columns (the thin U of a random matrix). */
const orthonormal = (m: number, k: number, rng: Random) => svd(rng.normal(m, k)).U;

/** (I - U U^T) X with the m x m projector formed densely on the host. */
function denseProject(U: Matrix, X: Matrix): Rows {
  const u = U.toArray(), x = X.toArray(), m = U.rows;
  const P = Array.from(
    { length: m },
    (_, i) =>
      Array.from({ length: m }, (_, j) => {
        let s = i === j ? 1 : 0;
        for (let l = 0; l < U.cols; l++) s -= u[i][l] * u[j][l];
        return s;
      }),
  );
  return P.map((row) =>
    Array.from({ length: X.cols }, (_, c) => row.reduce((s, p, l) => s + p * x[l][c], 0))
  );
}

function throwsWith(f: () => unknown, cls: typeof TypeError, pattern: RegExp, what: string) {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof cls, `${what}: expected ${cls.name}, got ${e}`);
    assert.match(e.message, pattern, what);
    return true;
  });
}

/** U^T Up = 0, Up^T Up = I, U U^T + Up Up^T = I, all within 10 m eps. */
function checkComplement(U: Matrix, Up: Matrix, what: string): void {
  const m = U.rows, k = U.cols, tol = tolFor(m, U.dtype);
  assert.deepEqual(Up.shape, [m, m - k], `${what}: shape`);
  assert.equal(Up.dtype, U.dtype, `${what}: dtype`);
  if (m - k > 0) {
    if (k > 0) {
      const cross = maxAbs(matmul(transpose(U), Up));
      assert.ok(cross <= tol, `${what}: |U^T Up| = ${cross}`);
    }
    const orth = maxDiff(matmul(transpose(Up), Up), Matrix.eye(m - k, m - k, { dtype: U.dtype }));
    assert.ok(orth <= tol, `${what}: |Up^T Up - I| = ${orth}`);
  }
  const whole = k > 0 ? add(gram(U), gram(Up)) : gram(Up);
  const complete = maxDiff(whole, Matrix.eye(m, m, { dtype: U.dtype }));
  assert.ok(complete <= tol, `${what}: |U U^T + Up Up^T - I| = ${complete}`);
}

// ---------------------------------------------------------------------------
// orthcomp

Deno.test("orthcomp: U^T Up = 0, Up^T Up = I, U U^T + Up Up^T = I (fixed shapes)", () => {
  const rng = new Random(1);
  for (const [m, k] of [[7, 3], [5, 1], [5, 4], [2, 1], [1, 0], [4, 0], [30, 5]]) {
    const U = k > 0 ? orthonormal(m, k, rng) : Matrix.zeros(m, 0);
    checkComplement(U, orthcomp(U), `${m}x${k}`);
  }
});

Deno.test("orthcomp: identities hold for random shapes (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 0, max: 12 }),
      fc.integer({ min: 0, max: 1e6 }),
      (m, kk, seed) => {
        const k = kk % (m + 1);
        const U = k > 0 ? orthonormal(m, k, new Random(seed)) : Matrix.zeros(m, 0);
        checkComplement(U, orthcomp(U), `${m}x${k} seed ${seed}`);
      },
    ),
    { numRuns: 60, seed: 20240 },
  );
});

Deno.test("orthcomp: m = k gives an m x 0 complement", () => {
  for (const m of [1, 3]) {
    const Q = orthonormal(m, m, new Random(m));
    const Up = orthcomp(Q);
    assert.deepEqual(Up.shape, [m, 0]);
    assert.deepEqual(Up.toArray(), Array.from({ length: m }, () => []));
  }
});

Deno.test("orthcomp: deterministic, and -U has the same complement", () => {
  const U = orthonormal(6, 2, new Random(2));
  assert.deepEqual(orthcomp(U).toArray(), orthcomp(U).toArray());
  // The complement of the span of -U is the same subspace.
  const a = gram(orthcomp(U)), b = gram(orthcomp(scale(U, -1)));
  assert.ok(maxDiff(a, b) <= tolFor(6), "same projector for -U");
});

Deno.test("orthcomp: float32 U gives a float32 complement, accurate to float32", () => {
  const U = orthonormal(6, 2, new Random(3)).astype("float32");
  const Up = orthcomp(U);
  assert.equal(Up.dtype, "float32");
  // U itself is orthonormal only to float32 rounding, so the identities hold to
  // float32 eps (checkComplement takes the tolerance from U's dtype).
  checkComplement(U, Up, "float32 6x2");
});

Deno.test("orthcomp errors: k > m, non-Matrix, NaN", () => {
  throwsWith(
    () => orthcomp(Matrix.zeros(2, 3)),
    TypeError,
    /^Cannot compute orthcomp of a 2x3 matrix: it needs at most as many columns as rows$/,
    "k > m",
  );
  throwsWith(
    () => orthcomp([[1], [0]] as unknown as Matrix),
    TypeError,
    /^Cannot compute orthcomp: U must be a Matrix, got an array$/,
    "array",
  );
  throwsWith(
    () => orthcomp(Matrix.from([[NaN], [0]])),
    RangeError,
    /^Cannot compute orthcomp: .*NaN/,
    "NaN",
  );
});

// ---------------------------------------------------------------------------
// orthcomp derivatives

Deno.test("orthcomp derivatives: a loss on Up Up^T matches the same loss on I - U U^T", () => {
  const rng = new Random(4);
  const m = 6, k = 2;
  const U = orthonormal(m, k, rng), W = rng.normal(m, m);
  const viaUp = (u: Matrix) => sum(mul(W, gram(orthcomp(u))));
  const viaU = (u: Matrix) => sum(mul(W, sub(Matrix.eye(m), gram(u))));
  // U lives on the manifold U^T U = I, so only tangent directions
  // dU = U Omega + (I - U U^T) Z (Omega skew) are meaningful; on them the two
  // losses have the same derivative, in forward and in reverse mode.
  const [, pullUp] = vjp(viaUp, U);
  const [, pullU] = vjp(viaU, U);
  const one = Matrix.ones(1, 1);
  const [barUp] = pullUp(one), [barU] = pullU(one);
  for (let t = 0; t < 3; t++) {
    const O = rng.normal(k, k), Z = rng.normal(m, k);
    const dU = add(matmul(U, sub(O, transpose(O))), projectOut(U, Z));
    const rev = [dot(barUp, dU), dot(barU, dU)];
    const fwd = [jvp(viaUp, [U], [dU])[1].get(0, 0), jvp(viaU, [U], [dU])[1].get(0, 0)];
    const scaleOf = Math.abs(rev[1]) + 1;
    assert.ok(Math.abs(rev[0] - rev[1]) <= TIGHT * scaleOf, `vjp: ${rev}`);
    assert.ok(Math.abs(fwd[0] - rev[1]) <= TIGHT * scaleOf, `jvp: ${fwd[0]} vs ${rev[1]}`);
  }
});

Deno.test("orthcomp derivatives: a loss on the basis of the complement throws a RangeError saying why", () => {
  const rng = new Random(5);
  const U = orthonormal(5, 2, rng), W = rng.normal(5, 3);
  const why =
    /^Cannot differentiate orthcomp of a 5x2 matrix: the loss depends on the arbitrary choice of basis inside the orthogonal complement .*only functions of U_perp U_perp\^T = I - U U\^T have a gradient$/;
  for (
    const [name, f] of [
      ["sum(Up)", (u: Matrix) => sum(orthcomp(u))],
      ["sum(W o Up)", (u: Matrix) => sum(mul(W, orthcomp(u)))],
    ] as const
  ) {
    const [, pullback] = vjp(f, U);
    throwsWith(() => pullback(Matrix.ones(1, 1)), RangeError, why, name);
  }
});

// ---------------------------------------------------------------------------
// projectOut

Deno.test("projectOut: equals (I - U U^T) X with the projector formed densely", () => {
  const rng = new Random(6);
  for (const [m, k, c] of [[7, 3, 2], [5, 1, 1], [4, 4, 3], [6, 0, 2]]) {
    const U = k > 0 ? orthonormal(m, k, rng) : Matrix.zeros(m, 0);
    const X = rng.normal(m, c);
    const P = projectOut(U, X);
    assert.deepEqual(P.shape, [m, c]);
    const err = maxDiff(P, Matrix.from(denseProject(U, X)));
    assert.ok(err <= tolFor(m) * Math.max(1, maxAbs(X)), `${m}x${k}: ${err}`);
    if (k > 0) assert.ok(maxAbs(matmul(transpose(U), P)) <= tolFor(m) * maxAbs(X), "U^T P X = 0");
  }
});

Deno.test("projectOut errors: row mismatch and non-Matrix", () => {
  throwsWith(
    () => projectOut(Matrix.zeros(3, 2), Matrix.zeros(4, 1)),
    TypeError,
    /^Cannot apply the projector I - U U\^T in projectOut: U is 3x2 and X is 4x1, row counts differ$/,
    "rows",
  );
  throwsWith(
    () => projectOut(Matrix.zeros(3, 2), 1 as unknown as Matrix),
    TypeError,
    /^Cannot apply the projector I - U U\^T in projectOut: X must be a Matrix/,
    "X",
  );
});

// ---------------------------------------------------------------------------
// ComplementOp

Deno.test("ComplementOp: apply, transpose and toDense agree with the dense orthcomp", () => {
  const rng = new Random(7);
  for (const [m, k] of [[7, 3], [5, 1], [4, 4], [3, 0]]) {
    const U = k > 0 ? orthonormal(m, k, rng) : Matrix.zeros(m, 0);
    const P = orthcomp(U);
    const op = new ComplementOp(U), opT = op.transpose();
    assert.deepEqual([op.rows, op.cols, opT.rows, opT.cols], [m, m - k, m - k, m]);
    assert.ok(maxDiff(op.toDense(), P) <= tolFor(m), `${m}x${k}: toDense`);
    assert.ok(maxDiff(opT.toDense(), transpose(P)) <= tolFor(m), `${m}x${k}: transposed toDense`);
    const tol = tolFor(m) * 4; // a handful of entries of size ~2 (normal probes)
    for (let t = 0; t < 2; t++) {
      const y = rng.normal(m - k, 1), x = rng.normal(m, 1);
      assert.ok(maxDiff(op.apply(y), matmul(P, y)) <= tol * maxAbs(y), `${m}x${k}: Up y`);
      assert.ok(maxDiff(opT.apply(x), matmul(transpose(P), x)) <= tol * maxAbs(x), "Up^T x");
    }
    // transpose().transpose() is the operator again.
    const y = rng.normal(m - k, 1);
    assert.deepEqual(opT.transpose().apply(y).toArray(), op.apply(y).toArray());
  }
});

Deno.test("ComplementOp: complement properties on a tall U by probes, without forming Up", () => {
  const rng = new Random(8);
  const m = 3000, k = 3, tol = tolFor(m);
  const U = orthonormal(m, k, rng);
  const op = new ComplementOp(U), opT = op.transpose();
  for (let t = 0; t < 2; t++) {
    const y = rng.normal(m - k, 1), x = rng.normal(m, 1);
    const Py = op.apply(y);
    const ny = Math.sqrt(dot(y, y)), nx = Math.sqrt(dot(x, x));
    assert.ok(maxAbs(matmul(transpose(U), Py)) <= tol * ny, "U^T Up y = 0");
    assert.ok(Math.abs(Math.sqrt(dot(Py, Py)) - ny) <= tol * ny, "|Up y| = |y|");
    assert.ok(maxDiff(opT.apply(Py), y) <= tol * ny, "Up^T Up = I");
    const UUx = matmul(U, matmul(transpose(U), x));
    const whole = add(UUx, op.apply(opT.apply(x)));
    assert.ok(Math.sqrt(sum(mul(sub(whole, x), sub(whole, x))).get(0, 0)) <= tol * nx, "complete");
  }
});

Deno.test("ComplementOp errors: k > m, wrong vector shape, non-Matrix", () => {
  throwsWith(
    () => new ComplementOp(Matrix.zeros(2, 3)),
    TypeError,
    /^Cannot build a ComplementOp of a 2x3 matrix: it needs at most as many columns as rows$/,
    "k > m",
  );
  throwsWith(
    () => new ComplementOp("U" as unknown as Matrix),
    TypeError,
    /^Cannot build a ComplementOp: U must be a Matrix/,
    "string",
  );
  const op = new ComplementOp(Matrix.from([[1], [0], [0]]));
  throwsWith(
    () => op.apply(Matrix.zeros(3, 1)),
    TypeError,
    /^Cannot apply a ComplementOp \(3x2\) to a 3x1 matrix: expected a 2x1 vector$/,
    "apply",
  );
  throwsWith(
    () => op.transpose().apply(Matrix.zeros(2, 1)),
    TypeError,
    /^Cannot apply a ComplementOp \(2x3\) to a 2x1 matrix: expected a 3x1 vector$/,
    "transposed apply",
  );
  throwsWith(
    () => op.apply(Matrix.zeros(2, 2)),
    TypeError,
    /expected a 2x1 vector$/,
    "matrix, not a vector",
  );
});
