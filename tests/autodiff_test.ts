/**
 * The autodiff transforms (grad, valueAndGrad, vjp, jvp, jacobian): behaviour at
 * the kinks, agreement with hand-derived formulas, higher-order derivatives, API
 * contracts, and vjp/jvp duality as a property.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  abs,
  add,
  astype,
  div,
  epsOf,
  equal,
  exp,
  grad,
  gradTolerance,
  greater,
  greaterEqual,
  jacobian,
  jvp,
  log,
  matmul,
  Matrix,
  type MatrixFn,
  max,
  maximum,
  mean,
  minimum,
  mul,
  neg,
  Random,
  reciprocal,
  relu,
  reshape,
  scale,
  sigmoid,
  sign,
  sqrt,
  square,
  step,
  sub,
  sum,
  tanh,
  transpose,
  valueAndGrad,
  vjp,
} from "../mod.ts";

// ---------------------------------------------------------------------------
// Helpers (host-side arithmetic on number[][], independent of the library)

type Rows = number[][];

/**
 * Relative tolerance for float64 results that autodiff and a hand formula compute
 * with the same products in a different order: about 4500 eps, room for
 * accumulation over a few dozen terms.
 */
const TIGHT = 1e-12;
const EPS64 = epsOf("float64");
const EPS32 = epsOf("float32");

function rowsOf(x: Matrix | Rows): Rows {
  return x instanceof Matrix ? x.toArray() : x;
}

/** Max |a - e| <= rtol * max |e| (normwise, so entries near zero do not dominate). */
function assertClose(actual: Matrix | Rows, expected: Matrix | Rows, rtol: number, msg = ""): void {
  const a = rowsOf(actual);
  const e = rowsOf(expected);
  assert.equal(a.length, e.length, `${msg} rows`);
  let diff = 0;
  let mag = 0;
  a.forEach((row, i) => {
    assert.equal(row.length, e[i].length, `${msg} cols`);
    row.forEach((v, j) => {
      diff = Math.max(diff, Math.abs(v - e[i][j]));
      mag = Math.max(mag, Math.abs(e[i][j]));
    });
  });
  assert.ok(
    diff <= rtol * mag,
    `${msg} max |actual - expected| = ${diff} > ${rtol} * ${mag}\nactual ${
      JSON.stringify(a)
    }\nexpected ${JSON.stringify(e)}`,
  );
}

function hostMatmul(a: Rows, b: Rows): Rows {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
}

function hostTranspose(a: Rows): Rows {
  return a[0].map((_, j) => a.map((row) => row[j]));
}

function hostMap(a: Rows, f: (v: number, i: number, j: number) => number): Rows {
  return a.map((row, i) => row.map((v, j) => f(v, i, j)));
}

function hostZip(a: Rows, b: Rows, f: (x: number, y: number) => number): Rows {
  return a.map((row, i) => row.map((v, j) => f(v, b[i][j])));
}

/** vec stacks columns: vec(X)[i + j m] = X[i][j]. */
function hostVec(a: Rows): number[] {
  const m = a.length;
  const out: number[] = [];
  a.forEach((row, i) => row.forEach((v, j) => (out[i + j * m] = v)));
  return out;
}

function hostUnvec(v: number[], m: number, n: number): Rows {
  return Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, j) => v[i + j * m]));
}

/** The Kronecker product P kron Q. */
function hostKron(p: Rows, q: Rows): Rows {
  const out: Rows = [];
  p.forEach((prow, i1) =>
    q.forEach((qrow, i2) => {
      const r: number[] = [];
      prow.forEach((pv) => qrow.forEach((qv) => r.push(pv * qv)));
      out[i1 * q.length + i2] = r;
    })
  );
  return out;
}

/** The commutation matrix K with K vec(X) = vec(X^T) for m x n X (mn x mn). */
function hostCommutation(m: number, n: number): Rows {
  const K = Array.from({ length: m * n }, () => new Array<number>(m * n).fill(0));
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) K[j + i * n][i + j * m] = 1;
  return K;
}

function hostDiag(v: number[]): Rows {
  return v.map((d, i) => v.map((_, j) => (i === j ? d : 0)));
}

/** <a, b> summed over entries, with the sum of |a_ij b_ij| as its rounding scale. */
function inner(a: Matrix, b: Matrix): { value: number; scale: number } {
  const x = a.toTypedArray();
  const y = b.toTypedArray();
  assert.equal(x.length, y.length);
  let value = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    value += x[i] * y[i];
    scale += Math.abs(x[i] * y[i]);
  }
  return { value, scale };
}

const mat = (v: number) => Matrix.from([[v]]);
const scalarOf = (m: Matrix) => {
  assert.deepEqual(m.shape, [1, 1]);
  return m.get(0, 0);
};

// ---------------------------------------------------------------------------
// 2. Kinks, pinned with exact values

Deno.test("kink: relu'(0) = 0, as PyTorch and JAX", () => {
  const g = grad((x) => sum(relu(x)))(Matrix.from([[0, -1, 2]]));
  assert.deepEqual(g.toArray(), [[0, 0, 1]]);
  // Forward mode agrees.
  const [, t] = jvp(relu, [Matrix.from([[0, -1, 2]])], [Matrix.from([[5, 5, 5]])]);
  assert.deepEqual(t.toArray(), [[0, 0, 5]]);
});

Deno.test("kink: relu written as maximum(x, 0) gives 1/2 at 0 (ties split)", () => {
  // tinygrad's note: relu via maximum halves the gradient at 0; relu itself does not.
  const g = grad((x) => sum(maximum(x, 0)))(Matrix.from([[0, -1, 2]]));
  assert.deepEqual(g.toArray(), [[0.5, 0, 1]]);
});

Deno.test("kink: abs'(0) = 0", () => {
  const g = grad((x) => sum(abs(x)))(Matrix.from([[0, -3, 2]]));
  assert.deepEqual(g.toArray(), [[0, -1, 1]]);
  const [, t] = jvp(abs, [Matrix.from([[0, -3, 2]])], [Matrix.from([[1, 1, 1]])]);
  assert.deepEqual(t.toArray(), [[0, -1, 1]]);
});

Deno.test("kink: maximum and minimum at ties give 1/2 to each side", () => {
  const x = Matrix.from([[1, 2, 3]]);
  const y = Matrix.from([[1, 0, 5]]);
  for (
    const [op, gx, gy] of [
      [maximum, [[0.5, 1, 0]], [[0.5, 0, 1]]],
      [minimum, [[0.5, 0, 1]], [[0.5, 1, 0]]],
    ] as const
  ) {
    const [dx, dy] = grad((a, b) => sum(op(a, b)), [0, 1])(x, y);
    assert.deepEqual(dx.toArray(), gx, op.name);
    assert.deepEqual(dy.toArray(), gy, op.name);
    // Forward mode: the tangent of each side is weighted the same way.
    const [, t] = jvp(op, [x, y], [Matrix.from([[2, 2, 2]]), Matrix.from([[4, 4, 4]])]);
    assert.deepEqual(t.toArray(), [[0, 1, 2].map((j) => 2 * gx[0][j] + 4 * gy[0][j])], op.name);
  }
  // A broadcast 1x1 operand tied with two entries collects both halves.
  const g = grad((s) => sum(maximum(Matrix.from([[1, 1, 0]]), s)))(mat(1));
  assert.deepEqual(g.toArray(), [[0.5 + 0.5 + 1]]);
});

Deno.test("kink: max reduction splits ties equally", () => {
  assert.deepEqual(grad((x) => max(x))(Matrix.from([[3, 3, 1]])).toArray(), [[0.5, 0.5, 0]]);
  const X = Matrix.from([[2, 2, 2], [1, 4, 0]]);
  assert.deepEqual(
    grad((x) => max(x))(X).toArray(),
    [[0, 0, 0], [0, 1, 0]],
  );
  const third = 1 / 3;
  assert.deepEqual(
    grad((x) => sum(max(x, { axis: 1 })))(X).toArray(),
    [[third, third, third], [0, 1, 0]],
  );
  assert.deepEqual(
    grad((x) => sum(max(x, { axis: 0 })))(Matrix.from([[2, 1], [2, 3]])).toArray(),
    [[0.5, 0], [0.5, 1]],
  );
  // Forward mode averages the tangents of the tied entries.
  const [, t] = jvp((x) => max(x), [Matrix.from([[3, 3, 1]])], [Matrix.from([[1, 3, 100]])]);
  assert.deepEqual(t.toArray(), [[2]]);
});

Deno.test("kink: step, sign, greater, greaterEqual, equal have zero gradient", () => {
  const X = Matrix.from([[-1, 0, 2], [3, 0, -4]]);
  const zeros = [[0, 0, 0], [0, 0, 0]];
  const fns: [string, MatrixFn][] = [
    ["step", step],
    ["sign", sign],
    ["greater", (x) => greater(x, 0)],
    ["greaterEqual", (x) => greaterEqual(0, x)],
    ["equal", (x) => equal(x, 0)],
  ];
  for (const [name, f] of fns) {
    // Product rule with a zero derivative: d sum(f(x) o x) = f(x).
    assert.deepEqual(grad((x) => sum(mul(f(x), x)))(X).toArray(), f(X).toArray(), name);
    assert.deepEqual(grad((x) => sum(f(x)))(X).toArray(), zeros, name);
    assert.deepEqual(jvp(f, [X], [Matrix.ones(2, 3)])[1].toArray(), zeros, name);
  }
  // greater with both operands traced: neither side gets a gradient.
  const [da, db] = grad((a, b) => sum(greater(a, b)), [0, 1])(X, Matrix.ones(2, 3));
  assert.deepEqual([da.toArray(), db.toArray()], [zeros, zeros]);
});

Deno.test("kink: sqrt at 0 has derivative Infinity (as in JAX)", () => {
  // d sqrt(x) = 1 / (2 sqrt(x)) evaluated as is: +Infinity at 0, not clipped.
  const g = grad((x) => sum(sqrt(x)))(Matrix.from([[0, 4]]));
  assert.deepEqual(g.toArray(), [[Infinity, 0.25]]);
  const [, t] = jvp(sqrt, [Matrix.from([[0, 4]])], [Matrix.from([[1, 1]])]);
  assert.deepEqual(t.toArray(), [[Infinity, 0.25]]);
  // A zero cotangent times Infinity is NaN, as JAX's grad(lambda x: 0 * sqrt(x))(0.)
  // gives; users wanting 0 there must guard the input (e.g. sqrt(x + tiny)).
  const z = grad((x) => sum(mul(sqrt(x), 0)))(Matrix.from([[0, 4]]));
  assert.ok(Number.isNaN(z.get(0, 0)));
  assert.equal(z.get(0, 1), 0);
});

// ---------------------------------------------------------------------------
// 3. Independent, hand-derived formulas

Deno.test("formula: ||max(XW, 0) - Y||_F^2 w.r.t. W, X and Y", () => {
  const rng = new Random(1);
  const X = rng.normal(6, 4);
  const W = rng.normal(4, 3);
  const Y = rng.normal(6, 3);
  const f = (W: Matrix, X: Matrix, Y: Matrix) => sum(square(sub(relu(matmul(X, W)), Y)));
  const [value, [dW, dX, dY]] = valueAndGrad(f, [0, 1, 2])(W, X, Y);
  const x = X.toArray();
  const w = W.toArray();
  const y = Y.toArray();
  const Z = hostMatmul(x, w);
  assert.ok(Z.flat().some((z) => z < 0) && Z.flat().some((z) => z > 0), "relu active and not");
  const h = hostMap(Z, (z) => Math.max(z, 0));
  // G = (h - Y) o 1(Z > 0)
  const G = hostMap(h, (hv, i, j) => (hv - y[i][j]) * (Z[i][j] > 0 ? 1 : 0));
  assertClose(dW, hostMap(hostMatmul(hostTranspose(x), G), (v) => 2 * v), TIGHT, "dW");
  assertClose(dX, hostMap(hostMatmul(G, hostTranspose(w)), (v) => 2 * v), TIGHT, "dX");
  assertClose(dY, hostZip(y, h, (yv, hv) => 2 * (yv - hv)), TIGHT, "dY");
  const loss = hostZip(h, y, (a, b) => (a - b) ** 2).flat().reduce((s, v) => s + v, 0);
  assertClose([[scalarOf(value)]], [[loss]], TIGHT, "value");
});

Deno.test("formula: gradients of sum and mean over each axis are constants", () => {
  const X = new Random(20).normal(3, 4);
  const fill = (v: number) => Array.from({ length: 3 }, () => new Array<number>(4).fill(v));
  assertClose(grad((x) => sum(x))(X), fill(1), 0, "sum");
  assertClose(grad((x) => sum(sum(x, { axis: 0 })))(X), fill(1), 0, "sum axis 0");
  assertClose(grad((x) => mean(x))(X), fill(1 / 12), TIGHT, "mean");
  assertClose(grad((x) => sum(mean(x, { axis: 0 })))(X), fill(1 / 3), TIGHT, "mean axis 0");
  assertClose(grad((x) => sum(mean(x, { axis: 1 })))(X), fill(1 / 4), TIGHT, "mean axis 1");
  // Weighted: d sum(w o mean(X, axis 1)) / dX_ij = w_i / n.
  const w = Matrix.from([[1], [-2], [3]]);
  const expected = [1, -2, 3].map((wi) => new Array<number>(4).fill(wi / 4));
  assertClose(grad((x) => sum(mul(w, mean(x, { axis: 1 }))))(X), expected, TIGHT, "weighted");
});

Deno.test("formula: grad of x^T A x is (A + A^T) x", () => {
  const rng = new Random(2);
  const A = rng.normal(5, 5);
  const x = rng.normal(5, 1);
  const g = grad((x) => matmul(transpose(x), matmul(A, x)))(x);
  const a = A.toArray();
  const expected = hostMatmul(hostZip(a, hostTranspose(a), (p, q) => p + q), x.toArray());
  assertClose(g, expected, TIGHT);
});

Deno.test("formula: grad of sum(log(sigmoid(XW))) is X^T (1 - sigmoid(XW)) and (1 - s) W^T", () => {
  const rng = new Random(3);
  const X = rng.normal(7, 3);
  const W = rng.normal(3, 2);
  const [dW, dX] = grad((W, X) => sum(log(sigmoid(matmul(X, W)))), [0, 1])(W, X);
  const x = X.toArray();
  const w = W.toArray();
  const oneMinusS = hostMap(hostMatmul(x, w), (z) => 1 - 1 / (1 + Math.exp(-z)));
  assertClose(dW, hostMatmul(hostTranspose(x), oneMinusS), TIGHT, "dW");
  assertClose(dX, hostMatmul(oneMinusS, hostTranspose(w)), TIGHT, "dX");
});

Deno.test("formula: jacobian of X -> A X B is kron(B^T, A), a pq x mn matrix", () => {
  const rng = new Random(4);
  const A = rng.normal(2, 3); // p x m
  const B = rng.normal(4, 5); // n x q
  const X = rng.normal(3, 4); // m x n
  const expected = hostKron(hostTranspose(B.toArray()), A.toArray());
  assert.equal(expected.length, 2 * 5);
  assert.equal(expected[0].length, 3 * 4);
  for (const mode of ["rev", "fwd", "auto"] as const) {
    const J = jacobian((X) => matmul(matmul(A, X), B), { mode })(X);
    assert.deepEqual(J.shape, [10, 12], mode);
    assertClose(J, expected, TIGHT, mode);
  }
  // And J vec(X) = vec(A X B): the ordering is column-stacking.
  const J = jacobian((X) => matmul(matmul(A, X), B))(X).toArray();
  const v = hostMatmul(J, hostVec(X.toArray()).map((e) => [e])).map((r) => r[0]);
  assertClose(hostUnvec(v, 2, 5), matmul(matmul(A, X), B), TIGHT, "J vec X");
});

Deno.test("formula: jacobian of X -> X^T is the commutation matrix", () => {
  const X = new Random(5).normal(2, 3);
  const K = hostCommutation(2, 3);
  for (const mode of ["rev", "fwd", "auto"] as const) {
    assert.deepEqual(jacobian(transpose, { mode })(X).toArray(), K, mode);
  }
  // Not the identity (that would be reshape's Jacobian only if vec were row-major).
  assert.notDeepEqual(K, hostDiag(new Array(6).fill(1)));
});

Deno.test("formula: jacobians of broadcasting a traced operand against a constant", () => {
  // F = C + b with b broadcast: d vec F / d (vec b)^T has a 1 at (i + j m, index of
  // the entry of b that lands on (i, j)). Only b carries a tangent, so forward mode
  // must broadcast it to the output's shape itself.
  const m = 3;
  const n = 4;
  const C = new Random(21).normal(m, n);
  const cases: [string, number, number, (i: number, j: number) => number][] = [
    ["1x1", 1, 1, () => 0],
    ["1 x n", 1, n, (_i, j) => j],
    ["m x 1", m, 1, (i) => i],
  ];
  for (const [name, r, c, source] of cases) {
    const expected = Array.from({ length: m * n }, () => new Array<number>(r * c).fill(0));
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) expected[i + j * m][source(i, j)] = 1;
    const b = Matrix.ones(r, c);
    for (const [op, sign] of [[add, 1], [sub, -1]] as const) {
      const want = hostMap(expected, (v) => sign * v);
      for (const mode of ["rev", "fwd"] as const) {
        assertClose(jacobian((b) => op(C, b), { mode })(b), want, 0, `${name} ${mode}`);
      }
      assert.deepEqual(jvp((b) => op(C, b), [b], [b])[1].shape, [m, n], `${name} jvp shape`);
    }
    // mul: the entries of C weight the ones.
    const cw = C.toArray();
    const wantMul = hostMap(expected, (v, k) => v * cw[k % m][Math.floor(k / m)]);
    // Exact (tolerance 0) but blind to the sign of zero, which the products flip.
    assertClose(jacobian((b) => mul(C, b), { mode: "fwd" })(b), wantMul, 0, name);
    assertClose(jacobian((b) => mul(b, C), { mode: "rev" })(b), wantMul, 0, name);
  }
});

Deno.test("formula: jacobian of an elementwise f is Diag(vec f'(X))", () => {
  const X = new Random(6).normal(3, 2);
  const x = X.toArray();
  const cases: [string, MatrixFn, (v: number) => number][] = [
    ["tanh", tanh, (v) => 1 - Math.tanh(v) ** 2],
    ["exp", exp, Math.exp],
    ["sigmoid", sigmoid, (v) => Math.exp(-v) / (1 + Math.exp(-v)) ** 2],
    ["square", square, (v) => 2 * v],
  ];
  for (const [name, f, df] of cases) {
    const expected = hostDiag(hostVec(hostMap(x, df)));
    assertClose(jacobian(f, { mode: "rev" })(X), expected, TIGHT, `${name} rev`);
    assertClose(jacobian(f, { mode: "fwd" })(X), expected, TIGHT, `${name} fwd`);
  }
});

Deno.test("jacobian: rev, fwd and auto agree, for wide and tall Jacobians", () => {
  const rng = new Random(7);
  const A = rng.normal(2, 3);
  // 2x4 output of a 3x4 input (pq = 8 <= mn = 12: auto is rev) and a 12x1
  // output of a 2x2 input (pq = 12 > mn = 4: auto is fwd).
  const wide = (X: Matrix) => mul(tanh(matmul(A, X)), sum(X, { axis: 0 }));
  const tall = (X: Matrix) => reshape(sigmoid(matmul(rng2, matmul(X, X))), 12, 1);
  const rng2 = rng.normal(6, 2);
  for (
    const [name, f, X, auto] of [
      ["wide", wide, rng.normal(3, 4), "rev"],
      ["tall", tall, rng.normal(2, 2), "fwd"],
    ] as const
  ) {
    const rev = jacobian(f, { mode: "rev" })(X);
    const fwd = jacobian(f, { mode: "fwd" })(X);
    assertClose(fwd, rev, TIGHT, name);
    // auto is exactly the mode that needs fewer passes.
    assert.deepEqual(jacobian(f)(X).toArray(), (auto === "rev" ? rev : fwd).toArray(), name);
  }
});

Deno.test("jacobian of a 1x1 output is vec(grad)^T", () => {
  const X = new Random(8).normal(3, 2);
  const f = (X: Matrix) => sum(mul(tanh(X), X));
  const J = jacobian(f)(X);
  assert.deepEqual(J.shape, [1, 6]);
  assertClose([J.toArray()[0]], [hostVec(grad(f)(X).toArray())], TIGHT);
  assertClose(jacobian(f, { mode: "fwd" })(X), J, TIGHT, "fwd");
});

Deno.test("jacobian: argnum picks the argument; bad options throw", () => {
  const rng = new Random(9);
  const A = rng.normal(2, 3);
  const X = rng.normal(3, 1);
  // d vec(A X) / d (vec A)^T = X^T kron I_2.
  const J = jacobian(matmul, { argnum: 0 })(A, X);
  assertClose(J, hostKron(hostTranspose(X.toArray()), [[1, 0], [0, 1]]), TIGHT);
  assertClose(jacobian(matmul, { argnum: 1 })(A, X), A, TIGHT);
  assert.throws(() => jacobian(matmul, { argnum: 2 })(A, X), RangeError);
  assert.throws(
    // @ts-expect-error: an unknown mode
    () => jacobian(matmul, { mode: "sideways" })(A, X),
    (e: unknown) => e instanceof TypeError && /mode must be/.test(e.message),
  );
});

// ---------------------------------------------------------------------------
// 4. Higher order

Deno.test("higher order: grad of grad of scalar functions", () => {
  const cube = (x: Matrix) => mul(mul(x, x), x);
  for (const v of [-1.5, 0.3, 2]) {
    assertClose(grad(grad(cube))(mat(v)), [[6 * v]], TIGHT, `x^3'' at ${v}`);
    assert.equal(scalarOf(grad(grad(grad(cube)))(mat(v))), 6, `x^3''' at ${v}`);
    const t = Math.tanh(v);
    const sech2 = 1 - t * t;
    assertClose(grad(grad(tanh))(mat(v)), [[-2 * t * sech2]], TIGHT, `tanh'' at ${v}`);
    // d^2/dx^2 of 1/x = 2/x^3; of exp = exp; of log = -1/x^2 (at |v|).
    assertClose(grad(grad(reciprocal))(mat(v)), [[2 / v ** 3]], TIGHT, `(1/x)'' at ${v}`);
    assertClose(grad(grad(exp))(mat(v)), [[Math.exp(v)]], TIGHT, `exp'' at ${v}`);
    const a = Math.abs(v);
    assertClose(grad(grad(log))(mat(a)), [[-1 / a ** 2]], TIGHT, `log'' at ${a}`);
    // sigmoid'' = s (1 - s) (1 - 2 s)
    const s = 1 / (1 + Math.exp(-v));
    assertClose(grad(grad(sigmoid))(mat(v)), [[s * (1 - s) * (1 - 2 * s)]], TIGHT, `sigmoid''`);
  }
  // Forward over forward: the second directional derivative of x^3 is 6 x.
  const d2 = (x: Matrix) => jvp((y) => jvp(cube, [y], [mat(1)])[1], [x], [mat(1)])[1];
  assertClose(d2(mat(1.25)), [[7.5]], TIGHT, "jvp of jvp");
});

/** f(X) = sum(C o tanh(A X)) + sum(log(1 + X o X)): dense, non-quadratic Hessian. */
function hvpSetup() {
  const rng = new Random(10);
  const A = rng.normal(4, 3);
  const C = rng.normal(4, 2);
  const f = (X: Matrix) => add(sum(mul(C, tanh(matmul(A, X)))), sum(log(add(square(X), 1))));
  return { f, X: rng.normal(3, 2), V: rng.normal(3, 2) };
}

Deno.test("higher order: Hessian-vector product (jvp of grad) = jacobian(grad f) vec(V)", () => {
  const { f, X, V } = hvpSetup();
  const [g, hvp] = jvp(grad(f), [X], [V]);
  assertClose(g, grad(f)(X), 0, "the primal output of jvp is the gradient");
  for (const mode of ["rev", "fwd"] as const) {
    const H = jacobian(grad(f), { mode })(X).toArray();
    assert.equal(H.length, 6);
    assertClose(H, hostTranspose(H), TIGHT, `${mode} Hessian symmetric`);
    const Hv = hostMatmul(H, hostVec(V.toArray()).map((e) => [e])).map((r) => r[0]);
    assertClose(hvp, hostUnvec(Hv, 3, 2), TIGHT, mode);
  }
  // Reverse over reverse gives the same: grad of <grad f(X), V>.
  assertClose(grad((X) => sum(mul(grad(f)(X), V)))(X), hvp, TIGHT, "rev over rev");
});

Deno.test("higher order: Hessian-vector product agrees with finite differences of the gradient", () => {
  const { f, X, V } = hvpSetup();
  const hvp = jvp(grad(f), [X], [V])[1];
  const { step, rtol } = gradTolerance("float64");
  const h = step * Math.max(1, ...X.toTypedArray().map(Math.abs));
  const fd = scale(sub(grad(f)(add(X, scale(V, h))), grad(f)(sub(X, scale(V, h)))), 1 / (2 * h));
  assertClose(fd, hvp, rtol);
});

Deno.test("higher order: grad of a function that calls grad (different argnums)", () => {
  const rng = new Random(11);
  const x = rng.normal(2, 3);
  const y = rng.normal(2, 3);
  // g(a, b) = sum(a o a o b): dg/da = 2 a o b, dg/db = a o a.
  const g = (a: Matrix, b: Matrix) => sum(mul(mul(a, a), b));
  // F1(x, y) = sum(dg/db(x, y) o y) = sum(x o x o y)
  const F1 = (x: Matrix, y: Matrix) => sum(mul(grad(g, 1)(x, y), y));
  const [d1x, d1y] = grad(F1, [0, 1])(x, y);
  assertClose(d1x, mul(scale(x, 2), y), TIGHT, "dF1/dx = 2 x o y");
  assertClose(d1y, square(x), TIGHT, "dF1/dy = x o x");
  // F2(x, y) = sum(dg/da(x, y)) = sum(2 x o y)
  const F2 = (x: Matrix, y: Matrix) => sum(grad(g, 0)(x, y));
  const [d2x, d2y] = grad(F2, [0, 1])(x, y);
  assertClose(d2x, scale(y, 2), TIGHT, "dF2/dx = 2 y");
  assertClose(d2y, scale(x, 2), TIGHT, "dF2/dy = 2 x");
  // The inner gradient w.r.t. the argument the outer one differentiates:
  // F3(x) = sum(dg/da(x, x)) = sum(2 x o x), dF3/dx = 4 x.
  assertClose(grad((x) => sum(grad(g, 0)(x, x)))(x), scale(x, 4), TIGHT, "dF3/dx = 4 x");
});

Deno.test("higher order: no perturbation confusion between nested traces", () => {
  // d/dx [ x * d/dy (x y) |_{y=2} ] = d/dx x^2 = 2x (Siskind & Pearlmutter's test).
  const f = (x: Matrix) => mul(x, grad((y) => mul(x, y))(mat(2)));
  assert.equal(scalarOf(grad(f)(mat(3))), 6);
  // d/dx [ d/dy (x + y) ] = 0: the inner gradient is 1 whatever x is.
  const h = (x: Matrix) => mul(x, grad((y) => add(x, y))(mat(2)));
  assert.equal(scalarOf(grad(h)(mat(3))), 1);
  // The same with forward mode outside.
  assert.equal(scalarOf(jvp(f, [mat(3)], [mat(1)])[1]), 6);
});

Deno.test("higher order: the Hessian of x^T A x is A + A^T", () => {
  const rng = new Random(12);
  const A = rng.normal(4, 4);
  const x = rng.normal(4, 1);
  const q = (x: Matrix) => matmul(transpose(x), matmul(A, x));
  const a = A.toArray();
  const expected = hostZip(a, hostTranspose(a), (p, r) => p + r);
  for (const mode of ["rev", "fwd"] as const) {
    assertClose(jacobian(grad(q), { mode })(x), expected, TIGHT, mode);
  }
  // The same at another point: the Hessian of a quadratic is constant.
  assertClose(jacobian(grad(q))(scale(x, -3)), expected, TIGHT, "another x");
});

// ---------------------------------------------------------------------------
// 5. API behaviour

Deno.test("api: argnums as a number or an array, as in JAX", () => {
  const rng = new Random(13);
  const a = rng.normal(2, 2);
  const b = rng.normal(2, 2);
  const f = (a: Matrix, b: Matrix) => sum(mul(a, exp(b)));
  const db = grad(f, 1)(a, b);
  assert.ok(db instanceof Matrix);
  assertClose(db, mul(a, exp(b)), TIGHT);
  assert.ok(grad(f)(a, b) instanceof Matrix, "default argnum 0 gives one matrix");
  assertClose(grad(f)(a, b), exp(b), TIGHT);
  const one = grad(f, [1])(a, b);
  assert.ok(Array.isArray(one) && one.length === 1);
  assert.deepEqual(one[0].toArray(), db.toArray());
  const [g1, g0] = grad(f, [1, 0])(a, b);
  assert.deepEqual(g1.toArray(), db.toArray(), "order follows argnums");
  assert.deepEqual(g0.toArray(), grad(f, 0)(a, b).toArray());
  assert.deepEqual(grad(f, [])(a, b), []);
});

Deno.test("api: valueAndGrad returns the value and the gradient", () => {
  const X = new Random(14).normal(3, 3);
  const f = (X: Matrix) => mean(square(tanh(X)));
  const [v, g] = valueAndGrad(f)(X);
  assert.deepEqual(v.toArray(), f(X).toArray());
  assert.deepEqual(g.toArray(), grad(f)(X).toArray());
  const [v2, gs] = valueAndGrad((a, b) => sum(mul(a, b)), [0, 1])(X, X);
  assert.deepEqual(v2.toArray(), sum(square(X)).toArray());
  assert.equal(gs.length, 2);
});

Deno.test("api: a vjp pullback can be called again with the same result", () => {
  const rng = new Random(15);
  const A = rng.normal(3, 2);
  const B = rng.normal(2, 4);
  const [y, pullback] = vjp((a, b) => tanh(matmul(a, b)), A, B);
  assert.deepEqual(y.toArray(), tanh(matmul(A, B)).toArray());
  const u = rng.normal(3, 4);
  const first = pullback(u).map((m) => m.toArray());
  pullback(rng.normal(3, 4)); // another cotangent in between
  const again = pullback(u).map((m) => m.toArray());
  assert.deepEqual(again, first);
  assert.equal(first.length, 2);
  assert.deepEqual([first[0].length, first[0][0].length], [3, 2]);
  assert.deepEqual([first[1].length, first[1][0].length], [2, 4]);
});

Deno.test("api: a wrong cotangent or tangent throws TypeError naming both shapes", () => {
  const X = Matrix.ones(2, 3);
  const [, pullback] = vjp((x) => mul(x, 2), X);
  assert.throws(() => pullback(Matrix.ones(3, 2)), (e: unknown) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /^Cannot apply a vjp pullback: cotangent 3x2 .* output 2x3$/);
    return true;
  });
  // @ts-expect-error: not a Matrix
  assert.throws(() => pullback([[1, 2, 3], [4, 5, 6]]), TypeError);
  // A float64 cotangent for a float32 output: JAX rejects it too (it would make
  // float64 gradients of float32 inputs).
  const [, pb32] = vjp((x) => mul(x, 2), Matrix.ones(2, 3, { dtype: "float32" }));
  assert.throws(
    () => pb32(Matrix.ones(2, 3)),
    /cotangent 2x3 is float64 but the output 2x3 is float32/,
  );
  assert.throws(
    () => jvp(tanh, [X], [Matrix.ones(3, 2)]),
    (e: unknown) =>
      e instanceof TypeError && /tangent 0 is 3x2 but its primal is 2x3/.test(e.message),
  );
  assert.throws(
    () => jvp(tanh, [X], [Matrix.ones(2, 3, { dtype: "float32" })]),
    (e: unknown) =>
      e instanceof TypeError &&
      /tangent 0 is float32 but its 2x3 primal is float64/.test(e.message),
  );
  assert.throws(() => jvp(tanh, [X], []), /1 primals but 0 tangents/);
});

Deno.test("api: grad of a non-1x1 output throws TypeError saying to use vjp or jacobian", () => {
  assert.throws(() => grad((x) => square(x))(Matrix.ones(2, 3)), (e: unknown) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /1x1/);
    assert.match(e.message, /got 2x3/);
    assert.match(e.message, /use vjp or jacobian/);
    return true;
  });
  // A 1 x n output is not a scalar either.
  assert.throws(() => grad((x) => sum(x, { axis: 0 }))(Matrix.ones(2, 3)), /got 1x3/);
});

Deno.test("api: argnum out of range is a RangeError; bad arguments TypeErrors", () => {
  const f = (a: Matrix, b: Matrix) => sum(mul(a, b));
  const X = Matrix.ones(2, 2);
  for (const bad of [2, -1, 0.5]) {
    assert.throws(
      () => grad(f, bad)(X, X),
      (e: unknown) =>
        e instanceof RangeError && new RegExp(`argnum ${bad} is out of range`).test(e.message),
    );
  }
  assert.throws(() => grad(f, [0, 3])(X, X), RangeError);
  assert.throws(() => valueAndGrad(f, 5)(X, X), RangeError);
  // @ts-expect-error: a number is not a Matrix argument
  assert.throws(() => grad((x) => sum(x))(3), /argument 0 must be a Matrix, got number/);
  // @ts-expect-error: the function must return a Matrix
  assert.throws(() => grad(() => 1)(X), /must return a Matrix, got number/);
  // @ts-expect-error: the function must return a Matrix
  assert.throws(() => jvp(() => "y", [X], [X]), TypeError);
});

Deno.test("api: a function that does not depend on its input gives zeros", () => {
  const C = Matrix.from([[1, 2], [3, 4]]);
  const X = new Random(16).normal(3, 2);
  assert.deepEqual(grad(() => sum(C))(X).toArray(), [[0, 0], [0, 0], [0, 0]]);
  assert.deepEqual(grad((x) => sum(mul(step(x), C.get(0, 0))))(X).toArray(), [[0, 0], [0, 0], [
    0,
    0,
  ]]);
  const [y, pullback] = vjp(() => C, X);
  assert.deepEqual(y.toArray(), C.toArray());
  assert.deepEqual(pullback(Matrix.ones(2, 2))[0].toArray(), [[0, 0], [0, 0], [0, 0]]);
  assert.deepEqual(jvp(() => C, [X], [X])[1].toArray(), [[0, 0], [0, 0]]);
  // Only one of two arguments used: the other's gradient is zeros of its shape.
  const [dx, dc] = grad((x, _c) => sum(x), [0, 1])(X, C);
  assert.deepEqual(dx.toArray(), [[1, 1], [1, 1], [1, 1]]);
  assert.deepEqual(dc.toArray(), [[0, 0], [0, 0]]);
  // The identity function: the pullback hands the cotangent straight back.
  const u = Matrix.from([[1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(vjp((x) => x, X)[1](u)[0].toArray(), u.toArray());
  assert.deepEqual(jacobian((x) => x)(X).toArray(), hostDiag(new Array(6).fill(1)));
});

Deno.test("api: a closed-over constant matrix is a constant", () => {
  const rng = new Random(17);
  const C = rng.normal(3, 3);
  const before = C.toArray();
  const X = rng.normal(3, 3);
  assertClose(grad((x) => sum(mul(C, x)))(X), C, 0, "d sum(C o X) / dX = C");
  // d sum(C X) / dX = C^T 1 1^T: entry (k, j) is the sum of column k of C.
  const colSums = [0, 1, 2].map((k) => before.reduce((s, row) => s + row[k], 0));
  assertClose(grad((x) => sum(matmul(C, x)))(X), colSums.map((s) => [s, s, s]), TIGHT, "C^T 1 1^T");
  // Differentiating w.r.t. the closure's neighbour does not touch the closure.
  const [g] = grad((x, y) => sum(mul(mul(C, x), y)), [1])(X, X);
  assertClose(g, mul(C, X), TIGHT);
  assert.deepEqual(C.toArray(), before, "the constant is unchanged");
});

Deno.test("api: a tracer leaked from a finished grad behaves as a plain value", () => {
  const X = Matrix.from([[1, 2]]);
  let leaked: Matrix | undefined;
  const g = grad((x) => {
    leaked = mul(x, 3);
    return sum(square(leaked));
  })(X);
  assert.deepEqual(g.toArray(), [[18, 36]]);
  const L = leaked!;
  assert.deepEqual(L.toArray(), [[3, 6]]);
  assert.deepEqual(add(L, 1).toArray(), [[4, 7]]);
  // A constant in a later grad ...
  assert.deepEqual(grad((y) => sum(mul(L, y)))(X).toArray(), [[3, 6]]);
  // ... a variable of a later grad ...
  assert.deepEqual(grad((y) => sum(square(y)))(L).toArray(), [[6, 12]]);
  // ... inside a nested grad ...
  assert.deepEqual(grad((y) => sum(grad((z) => sum(mul(mul(L, y), z)))(y)))(X).toArray(), [[3, 6]]);
  // ... and the output of a later vjp, whose input it does not depend on.
  const [y, pullback] = vjp(() => L, X);
  assert.deepEqual(y.toArray(), [[3, 6]]);
  assert.deepEqual(pullback(Matrix.ones(1, 2))[0].toArray(), [[0, 0]]);
  // Same for a tangent leaked from jvp.
  let fromJvp: Matrix | undefined;
  jvp((x) => (fromJvp = exp(x)), [X], [X]);
  assert.deepEqual(grad((y) => sum(mul(fromJvp!, y)))(X).toArray(), exp(X).toArray());
});

Deno.test("api: float32 inputs give float32 gradients", () => {
  const rng = new Random(18);
  const X64 = rng.normal(3, 2);
  const W64 = rng.normal(2, 2);
  const X = astype(X64, "float32");
  const W = astype(W64, "float32");
  const f = (X: Matrix, W: Matrix) => sum(sigmoid(matmul(X, W)));
  const [v, [dX, dW]] = valueAndGrad(f, [0, 1])(X, W);
  for (const m of [v, dX, dW]) assert.equal(m.dtype, "float32");
  // float32 gradients match the float64 ones to float32 accuracy: a few dozen
  // roundings of relative size eps32 each (no finite differences involved).
  const [dX64, dW64] = grad(f, [0, 1])(astype(X, "float64"), astype(W, "float64"));
  assertClose(astype(dX, "float64"), dX64, 64 * EPS32, "dX");
  assertClose(astype(dW, "float64"), dW64, 64 * EPS32, "dW");
  const [y, pullback] = vjp((x) => tanh(x), X);
  assert.equal(y.dtype, "float32");
  assert.equal(pullback(Matrix.ones(3, 2, { dtype: "float32" }))[0].dtype, "float32");
  assert.equal(jvp(tanh, [X], [X])[1].dtype, "float32");
  assert.equal(jacobian(tanh)(X).dtype, "float32");
  // astype: the tangent follows the cast forward, the cotangent is cast back.
  assert.equal(jvp((x) => astype(x, "float32"), [X64], [X64])[1].dtype, "float32");
  assert.equal(jvp((x) => astype(x, "float64"), [X], [X])[1].dtype, "float64");
  const [y32, pb32] = vjp((x) => astype(x, "float32"), X64);
  assert.equal(y32.dtype, "float32");
  assert.equal(pb32(Matrix.ones(3, 2, { dtype: "float32" }))[0].dtype, "float64");
  // Mixed with a float64 constant the computation promotes to float64, and the
  // gradient is cast back to the input's dtype.
  const [v2, g2] = valueAndGrad((x) => sum(mul(x, X64)))(X);
  assert.equal(v2.dtype, "float64");
  assert.equal(g2.dtype, "float32");
  assertClose(astype(g2, "float64"), X64, EPS32, "cast back");
});

Deno.test("api: transforms leave no trace active after an exception", () => {
  const X = Matrix.ones(2, 2);
  assert.throws(() =>
    grad(() => {
      throw new Error("boom");
    })(X), /boom/);
  // Everything still works, at top level and nested.
  assert.deepEqual(grad((x) => sum(square(x)))(X).toArray(), [[2, 2], [2, 2]]);
  assert.equal(scalarOf(grad(grad((x) => mul(mul(x, x), x)))(mat(1))), 6);
});

// ---------------------------------------------------------------------------
// 6. Properties

const STEPS = [
  "tanh",
  "sigmoid",
  "square",
  "neg",
  "relu",
  "abs",
  "softExp",
  "softLog",
  "softSqrt",
  "softRecip",
  "softDiv",
  "transpose",
  "reshape",
  "matmulL",
  "matmulR",
  "sum0",
  "sum1",
  "max0",
  "max1",
  "center",
  "mulSelf",
  "addRow",
  "mulCol",
  "maxConst",
  "minConst",
  "scale",
] as const;
type Step = typeof STEPS[number];

/** A random composition of ops (constants drawn at build time) and its output shape. */
function program(steps: readonly Step[], m: number, n: number, rng: Random) {
  const fns: ((x: Matrix) => Matrix)[] = [];
  let r = m;
  let c = n;
  for (const s of steps) {
    switch (s) {
      case "tanh":
      case "sigmoid":
      case "square":
      case "neg":
      case "relu":
      case "abs":
        fns.push({ tanh, sigmoid, square, neg, relu, abs }[s]);
        break;
      case "softExp": // bounded arguments keep the values moderate
        fns.push((x) => exp(tanh(x)));
        break;
      case "softLog":
        fns.push((x) => log(add(square(x), 1)));
        break;
      case "softSqrt":
        fns.push((x) => sqrt(add(square(x), 0.5)));
        break;
      case "softRecip":
        fns.push((x) => reciprocal(add(square(x), 1)));
        break;
      case "softDiv":
        fns.push((x) => div(x, add(abs(x), 1)));
        break;
      case "transpose":
        fns.push(transpose);
        [r, c] = [c, r];
        break;
      case "reshape": {
        const [rr, cc] = [c, r];
        fns.push((x) => reshape(x, rr, cc));
        [r, c] = [rr, cc];
        break;
      }
      case "matmulL": {
        const A = rng.normal(1 + rng.int(3), r);
        fns.push((x) => matmul(A, x));
        r = A.rows;
        break;
      }
      case "matmulR": {
        const B = rng.normal(c, 1 + rng.int(3));
        fns.push((x) => matmul(x, B));
        c = B.cols;
        break;
      }
      case "sum0":
        fns.push((x) => sum(x, { axis: 0 }));
        r = 1;
        break;
      case "sum1":
        fns.push((x) => sum(x, { axis: 1 }));
        c = 1;
        break;
      case "max0":
        fns.push((x) => max(x, { axis: 0 }));
        r = 1;
        break;
      case "max1":
        fns.push((x) => max(x, { axis: 1 }));
        c = 1;
        break;
      case "center":
        fns.push((x) => sub(x, mean(x, { axis: 0 })));
        break;
      case "mulSelf":
        fns.push((x) => mul(x, tanh(x)));
        break;
      case "addRow": {
        const b = rng.normal(1, c);
        fns.push((x) => add(x, b));
        break;
      }
      case "mulCol": {
        const b = rng.normal(r, 1);
        fns.push((x) => mul(b, x));
        break;
      }
      case "maxConst":
        fns.push((x) => maximum(x, 0.1));
        break;
      case "minConst":
        fns.push((x) => minimum(0.2, x));
        break;
      case "scale":
        fns.push((x) => scale(x, -0.7));
        break;
      default:
        s satisfies never;
    }
  }
  const f = (x: Matrix) => fns.reduce((y, g) => g(y), x);
  return { f, rows: r, cols: c };
}

const programArb = fc.record({
  m: fc.integer({ min: 1, max: 3 }),
  n: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  steps: fc.array(fc.constantFrom(...STEPS), { minLength: 1, maxLength: 5 }),
});

/**
 * Identities that hold exactly in real arithmetic, computed two ways in float64
 * (duality, linearity, rev = fwd), may differ by IDENTITY * (scale + floor):
 * `scale` is the size of the terms compared; `floor` is the size of the O(1)
 * inputs, because a Jacobian that cancels to zero (e.g. the column sums of a
 * centred matrix) leaves both sides as rounding noise at the inputs' scale.
 * 1e4 eps ~ 2e-12 allows for accumulation through five ops; a wrong rule errs by
 * O(1) of the scale.
 */
const IDENTITY = 1e4 * EPS64;

function maxAbs(x: Matrix): number {
  let m = 0;
  for (const v of x.toTypedArray()) m = Math.max(m, Math.abs(v));
  return m;
}

function assertIdentity(lhs: Matrix, rhs: Matrix, scale: number, floor: number, msg: string) {
  assert.deepEqual(lhs.shape, rhs.shape, msg);
  const diff = maxAbs(sub(lhs, rhs));
  const bound = IDENTITY * (scale + floor);
  assert.ok(diff <= bound, `${msg}: differ by ${diff} > ${bound}`);
}

Deno.test("property: vjp/jvp duality <u, J v> = <J^T u, v> for random compositions", () => {
  fc.assert(
    fc.property(programArb, ({ m, n, seed, steps }) => {
      const rng = new Random(seed);
      const { f, rows, cols } = program(steps, m, n, rng);
      const X = rng.normal(m, n);
      const v = rng.normal(m, n);
      const u = rng.normal(rows, cols);
      const [y, Jv] = jvp(f, [X], [v]);
      assert.deepEqual(y.shape, [rows, cols]);
      const [y2, pullback] = vjp(f, X);
      assert.deepEqual(y2.toArray(), y.toArray());
      const [JTu] = pullback(u);
      const lhs = inner(u, Jv);
      const rhs = inner(JTu, v);
      const floor = Math.sqrt(inner(u, u).value * inner(v, v).value); // |u|_F |v|_F
      assertIdentity(
        mat(lhs.value),
        mat(rhs.value),
        lhs.scale + rhs.scale,
        floor,
        `${steps.join(" > ")}: <u, J v> = ${lhs.value}, <J^T u, v> = ${rhs.value}`,
      );
    }),
    { numRuns: 40, seed: 20240601 },
  );
});

/** Coefficients in [-3, 3] on a 0.01 grid (no subnormals, whose products underflow). */
const coefficient = fc.integer({ min: -300, max: 300 }).map((k) => k / 100);

Deno.test("property: the pullback and the pushforward are linear", () => {
  fc.assert(
    fc.property(
      programArb,
      coefficient,
      coefficient,
      ({ m, n, seed, steps }, a, b) => {
        const rng = new Random(seed);
        const { f, rows, cols } = program(steps, m, n, rng);
        const X = rng.normal(m, n);
        const [, pullback] = vjp(f, X);
        const u1 = rng.normal(rows, cols);
        const u2 = rng.normal(rows, cols);
        const combo = (p: Matrix, q: Matrix) => add(scale(p, a), scale(q, b));
        const size = (p: Matrix, q: Matrix) => Math.abs(a) * maxAbs(p) + Math.abs(b) * maxAbs(q);
        const [p1] = pullback(u1);
        const [p2] = pullback(u2);
        const [p12] = pullback(combo(u1, u2));
        const what = steps.join(" > ");
        assertIdentity(p12, combo(p1, p2), size(p1, p2), size(u1, u2), `pullback: ${what}`);
        const v1 = rng.normal(m, n);
        const v2 = rng.normal(m, n);
        const push = (v: Matrix) => jvp(f, [X], [v])[1];
        const [t1, t2] = [push(v1), push(v2)];
        assertIdentity(
          push(combo(v1, v2)),
          combo(t1, t2),
          size(t1, t2),
          size(v1, v2),
          `jvp: ${what}`,
        );
      },
    ),
    { numRuns: 30, seed: 20240602 },
  );
});

Deno.test("property: jacobian rev equals fwd for random compositions", () => {
  fc.assert(
    fc.property(programArb, ({ m, n, seed, steps }) => {
      const rng = new Random(seed);
      const { f } = program(steps, m, n, rng);
      const X = rng.normal(m, n);
      const rev = jacobian(f, { mode: "rev" })(X);
      const fwd = jacobian(f, { mode: "fwd" })(X);
      // Unit directions and unit cotangents: the floor is 1.
      assertIdentity(fwd, rev, maxAbs(rev), 1, steps.join(" > "));
    }),
    { numRuns: 30, seed: 20240603 },
  );
});
