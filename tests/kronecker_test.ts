import assert from "node:assert/strict";
import fc from "fast-check";
import {
  abs,
  commutation,
  compose,
  DenseOp,
  diag,
  diagonal,
  DiagOp,
  gradcheck,
  IdentityOp,
  jacobian,
  kron,
  KronOp,
  matmul,
  Matrix,
  max,
  mul,
  Random,
  sub,
  sum,
  transpose,
  unvec,
  vec,
} from "../mod.ts";

const maxDiff = (a: Matrix, b: Matrix) => max(abs(sub(a, b))).get(0, 0);
const TOL = 1e-12;

Deno.test("vec stacks columns and unvec inverts it", () => {
  const A = Matrix.from([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(vec(A).toArray().flat(), [1, 4, 2, 5, 3, 6]);
  assert.deepEqual(vec(A).shape, [6, 1]);
  assert.deepEqual(unvec(vec(A), 2, 3).toArray(), A.toArray());
  assert.deepEqual(unvec(transpose(vec(A)), 2, 3).toArray(), A.toArray());
});

Deno.test("kron matches its block definition", () => {
  const A = Matrix.from([[1, 2], [3, 4], [5, 6]]);
  const B = Matrix.from([[0, 1, 2], [3, 4, 5]]);
  const K = kron(A, B);
  assert.deepEqual(K.shape, [6, 6]);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 2; j++) {
      for (let k = 0; k < 2; k++) {
        for (let l = 0; l < 3; l++) {
          assert.equal(K.get(i * 2 + k, j * 3 + l), A.get(i, j) * B.get(k, l));
        }
      }
    }
  }
});

Deno.test("property: (A kron B) vec(X) = vec(B X A^T) and KronOp agrees without forming it", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 0, max: 1000 }),
      (m, n, p, q, seed) => {
        const r = new Random(seed);
        const A = r.normal(m, n), B = r.normal(p, q), X = r.normal(q, n);
        const lhs = matmul(kron(A, B), vec(X));
        const rhs = vec(matmul(matmul(B, X), transpose(A)));
        assert.ok(maxDiff(lhs, rhs) <= TOL * 10);
        assert.ok(maxDiff(new KronOp(A, B).apply(vec(X)), rhs) <= TOL * 10);
        assert.ok(maxDiff(new KronOp(A, B).transpose().toDense(), transpose(kron(A, B))) === 0);
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("commutation matrix: K vec(A) = vec(A^T), K^T K = I", () => {
  const r = new Random(2);
  for (const [m, n] of [[1, 1], [1, 4], [4, 1], [3, 5]]) {
    const A = r.normal(m, n);
    const K = commutation(m, n);
    assert.equal(maxDiff(matmul(K, vec(A)), vec(transpose(A))), 0);
    assert.equal(maxDiff(matmul(transpose(K), K), Matrix.eye(m * n)), 0);
  }
});

Deno.test("diag and diagonal", () => {
  assert.deepEqual(diag(Matrix.from([[1, 2, 3]])).toArray(), [[1, 0, 0], [0, 2, 0], [0, 0, 3]]);
  assert.deepEqual(diagonal(Matrix.from([[1, 2, 3], [4, 5, 6]])).toArray(), [[1], [5]]);
  assert.deepEqual(diagonal(diag(Matrix.from([[7], [8]]))).toArray(), [[7], [8]]);
});

Deno.test("Jacobians of linear maps are Kronecker products (Magnus-Neudecker)", () => {
  const r = new Random(3);
  const A = r.normal(2, 3), B = r.normal(4, 2), X = r.normal(3, 4);
  // d vec(A X B) / d (vec X)^T = B^T kron A
  assert.ok(maxDiff(jacobian((x) => matmul(matmul(A, x), B))(X), kron(transpose(B), A)) <= TOL);
  // d vec(X^T) / d (vec X)^T = K_{mn}
  assert.equal(maxDiff(jacobian((x) => transpose(x))(X), commutation(3, 4)), 0);
  // elementwise product with a constant C: Diag(vec C)
  const C = r.normal(3, 4);
  assert.equal(maxDiff(jacobian((x) => mul(C, x))(X), diag(vec(C))), 0);
});

Deno.test("kron, vec, unvec, diag, diagonal are differentiable", () => {
  const r = new Random(4);
  const W = r.normal(6, 6), w = r.normal(12, 1);
  assert.ok(gradcheck((a, b) => sum(mul(kron(a, b), W)), [r.normal(2, 3), r.normal(3, 2)]).ok);
  assert.ok(gradcheck((a) => sum(mul(vec(a), w)), [r.normal(3, 4)]).ok);
  const U = r.normal(4, 3), d = r.normal(3, 1);
  assert.ok(gradcheck((v) => sum(mul(unvec(v, 4, 3), U)), [w]).ok);
  assert.ok(gradcheck((a) => sum(mul(diagonal(a), d)), [r.normal(3, 5)]).ok);
  assert.ok(gradcheck((v) => sum(mul(diag(v), W)), [r.normal(6, 1)]).ok);
});

Deno.test("structured operators compose, transpose and densify", () => {
  const r = new Random(5);
  const A = r.normal(2, 3), B = r.normal(3, 2), d = r.normal(6, 1), M = r.normal(6, 6);
  const op = compose(new DiagOp(d), new KronOp(A, B), new DenseOp(M), new IdentityOp(6));
  const dense = matmul(matmul(diag(d), kron(A, B)), M);
  assert.ok(maxDiff(op.toDense(), dense) <= TOL * 10);
  const v = r.normal(6, 1);
  assert.ok(maxDiff(op.apply(v), matmul(dense, v)) <= TOL * 10);
  assert.ok(maxDiff(op.transpose().apply(v), matmul(transpose(dense), v)) <= TOL * 10);
});

Deno.test("errors name the operation and shapes", () => {
  assert.throws(() => unvec(Matrix.zeros(6, 1), 4, 2), {
    name: "TypeError",
    message: /Cannot unvec a 6x1 matrix to 4x2: expected a vector of 8 entries/,
  });
  assert.throws(() => diag(Matrix.zeros(2, 2)), {
    name: "TypeError",
    message: /Cannot build a diagonal matrix in diag: expected a k x 1 or 1 x k vector, got 2x2/,
  });
  assert.throws(() => new KronOp(Matrix.eye(2), Matrix.eye(2)).apply(Matrix.zeros(3, 1)), {
    name: "TypeError",
    message: /Cannot apply KronOp \(4x4\) to a 3x1 matrix: expected a 4x1 vector/,
  });
  assert.throws(() => compose(new IdentityOp(2), new IdentityOp(3)), {
    name: "TypeError",
    message: /inner sizes 2 and 3 differ/,
  });
  assert.throws(() => commutation(-1, 2), {
    name: "RangeError",
    message: /m must be a non-negative integer/,
  });
  assert.throws(() => kron([[1]] as unknown as Matrix, Matrix.eye(1)), {
    name: "TypeError",
    message: /A must be a Matrix, got an array/,
  });
});

Deno.test("property: mixed product (A kron B)(C kron D) = AC kron BD, and K_mn^T = K_nm", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 1000 }),
      (m, n, p, q, r1, r2, seed) => {
        const r = new Random(seed);
        const A = r.normal(m, n), B = r.normal(p, q), C = r.normal(n, r1), D = r.normal(q, r2);
        const lhs = matmul(kron(A, B), kron(C, D));
        const rhs = kron(matmul(A, C), matmul(B, D));
        assert.ok(maxDiff(lhs, rhs) <= 1e-12 * Math.max(1, max(abs(rhs)).get(0, 0)) * n * q);
        assert.equal(maxDiff(transpose(commutation(m, n)), commutation(n, m)), 0);
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("Jacobian identities: J(X o X) = 2 Diag(vec X), chain rule on a composition", () => {
  const r = new Random(6);
  const X = r.normal(3, 2);
  assert.ok(maxDiff(jacobian((x) => mul(x, x))(X), diag(vec(mul(X, 2)))) <= TOL);
  // chain rule: J(g o f)(X) = J(g)(f(X)) J(f)(X), with f(X) = A X and g(Y) = Y o Y
  const A = r.normal(4, 3);
  const f = (x: Matrix) => matmul(A, x);
  const g = (y: Matrix) => mul(y, y);
  const lhs = jacobian((x) => g(f(x)))(X);
  const rhs = matmul(jacobian(g)(f(X)), jacobian(f)(X));
  assert.ok(maxDiff(lhs, rhs) <= TOL * 10);
});
