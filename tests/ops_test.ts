/**
 * The functional ops against plain float64 references: matmul, broadcasting binary
 * ops, unary ops (with their edge values), reductions, reshape, transpose, dtype
 * promotion, and every input error (class and message).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  abs,
  add,
  astype,
  div,
  type DType,
  epsOf,
  equal,
  exp,
  greater,
  greaterEqual,
  log,
  matmul,
  Matrix,
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
  vjp,
} from "../mod.ts";

const DTYPES: readonly DType[] = ["float64", "float32"];

/** Tolerances derived from the dtype, one place for the whole file. */
function tol(dtype: DType): {
  /** Relative, for one element-wise op on rounded inputs (ts rounds once: 1/2 ulp). */
  elementwise: number;
  /** Relative, for transcendental ops compared with a differently written formula. */
  unary: number;
  /** Times sum_k |a_ik| |b_kj|: the forward error bound of a dot product (~1e-6 in float32). */
  dot: number;
  /** Times sum |a|: the forward error bound of a sum. */
  sum: number;
  /** Absolute, below which results are subnormal and relative error means nothing. */
  tiny: number;
} {
  const eps = epsOf(dtype);
  return {
    elementwise: eps,
    unary: 4 * eps,
    dot: 8 * eps,
    sum: 8 * eps,
    tiny: dtype === "float64" ? 2 ** -1022 : 2 ** -126,
  };
}

/** What storing `x` as `dtype` gives. */
function round(x: number, dtype: DType): number {
  return dtype === "float64" ? x : Math.fround(x);
}

/** Element i matches: NaN to NaN, infinities exactly, else |a - e| <= bound(i). */
function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  bound: (i: number) => number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e)) {
      if (!Number.isNaN(a)) assert.fail(`${what}[${i}]: got ${a}, expected NaN`);
    } else if (!Number.isFinite(e)) {
      if (a !== e) assert.fail(`${what}[${i}]: got ${a}, expected ${e}`);
    } else if (!(Math.abs(a - e) <= bound(i))) {
      assert.fail(
        `${what}[${i}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${bound(i)})`,
      );
    }
  }
}

/** Relative closeness with a subnormal floor, for element-wise results. */
function assertRelClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  dtype: DType,
  what: string,
): void {
  const tiny = tol(dtype).tiny;
  assertAllClose(actual, expected, (i) => rtol * Math.abs(expected[i]) + tiny * rtol, what);
}

const flat = (A: Matrix): number[] => Array.from(A.toTypedArray());

/**
 * A rows x cols matrix mixing normals with small integers (so that ties, zeros and
 * exact equalities occur), deterministic in `seed`.
 */
function mixed(seed: number, rows: number, cols: number, dtype: DType): Matrix {
  const r = new Random(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    data[i] = r.int(3) === 0 ? r.int(5) - 2 : 3 * r.nextNormal();
  }
  return Matrix.fromArray(data, rows, cols, { dtype });
}

/** Naive float64 product of row-major m x k and k x n arrays. */
function refMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      c[i * n + j] = s;
    }
  }
  return c;
}

/** Check C = A B against the reference within the dot-product bound. */
function checkMatmul(A: Matrix, B: Matrix, what: string): void {
  const C = matmul(A, B);
  const [m, k, n] = [A.rows, A.cols, B.cols];
  assert.deepEqual(C.shape, [m, n], `${what}: shape`);
  assert.equal(C.dtype, A.dtype, `${what}: dtype`);
  const a = A.toTypedArray(), b = B.toTypedArray();
  const ref = refMatmul(a, b, m, k, n);
  const absRef = refMatmul(a.map(Math.abs), b.map(Math.abs), m, k, n);
  const t = tol(C.dtype);
  assertAllClose(C.toTypedArray(), ref, (i) => t.dot * absRef[i] + t.tiny, what);
}

const dimArb = fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 70 }));
const dtypeArb = fc.constantFrom<DType>(...DTYPES);
const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

// ---------------------------------------------------------------- matmul

Deno.test("matmul matches a naive float64 reference, shapes 1..70 (both dtypes)", () => {
  fc.assert(
    fc.property(dimArb, dimArb, dimArb, dtypeArb, seedArb, (m, k, n, dtype, seed) => {
      const r = new Random(seed);
      checkMatmul(r.normal(m, k, { dtype }), r.normal(k, n, { dtype }), `${m}x${k} by ${k}x${n}`);
    }),
    { numRuns: 150 },
  );
});

Deno.test("matmul: vectors, outer products and larger non-square shapes", () => {
  const r = new Random(1);
  for (const dtype of DTYPES) {
    const shapes: [number, number, number][] = [
      [1, 1, 1],
      [1, 300, 1], // dot product
      [300, 1, 1],
      [1, 1, 300],
      [70, 1, 65], // outer product
      [1, 70, 65],
      [65, 70, 1],
      [33, 17, 129],
      [130, 67, 131],
      // Past the block sizes a blocked kernel may use (depth 256, rows 120, cols 2040).
      [5, 300, 7],
      [4, 10, 2050],
      [241, 20, 5],
      [7, 513, 3],
    ];
    for (const [m, k, n] of shapes) {
      checkMatmul(
        r.uniform(m, k, { low: -1, high: 1, dtype }),
        r.normal(k, n, { dtype }),
        `${m}x${k}x${n} ${dtype}`,
      );
    }
    // Small integers: every product and partial sum is exact, so the result is too.
    const A = Matrix.fromArray(Array.from({ length: 35 * 70 }, () => r.int(17) - 8), 35, 70, {
      dtype,
    });
    const B = Matrix.fromArray(Array.from({ length: 70 * 45 }, () => r.int(17) - 8), 70, 45, {
      dtype,
    });
    assert.deepEqual(
      flat(matmul(A, B)),
      Array.from(refMatmul(A.toTypedArray(), B.toTypedArray(), 35, 70, 45)),
    );
    // A known product.
    assert.deepEqual(
      matmul(
        Matrix.from([[1, 2, 3], [4, 5, 6]], { dtype }),
        Matrix.from([[7, 8], [9, 10], [11, 12]], { dtype }),
      )
        .toArray(),
      [[58, 64], [139, 154]],
    );
    // The identity on either side gives A back exactly.
    assert.deepEqual(flat(matmul(Matrix.eye(35, 35, { dtype }), A)), flat(A));
    assert.deepEqual(flat(matmul(A, Matrix.eye(70, 70, { dtype }))), flat(A));
  }
});

Deno.test("matmul with an empty inner size gives zeros; empty outer sizes give empty results", () => {
  for (const dtype of DTYPES) {
    const C = matmul(Matrix.zeros(2, 0, { dtype }), Matrix.zeros(0, 3, { dtype }));
    assert.deepEqual(C.toArray(), [[0, 0, 0], [0, 0, 0]]);
    assert.equal(C.dtype, dtype);
    assert.deepEqual(matmul(Matrix.ones(0, 4, { dtype }), Matrix.ones(4, 3, { dtype })).shape, [
      0,
      3,
    ]);
    assert.deepEqual(matmul(Matrix.ones(3, 4, { dtype }), Matrix.ones(4, 0, { dtype })).shape, [
      3,
      0,
    ]);
    assert.deepEqual(matmul(Matrix.ones(0, 0, { dtype }), Matrix.ones(0, 0, { dtype })).shape, [
      0,
      0,
    ]);
  }
});

Deno.test("matmul propagates NaN and Infinity as IEEE arithmetic does", () => {
  for (const dtype of DTYPES) {
    const r = new Random(2);
    const a = Array.from(r.uniform(5, 6, { low: 1, high: 2 }).toTypedArray());
    a[2 * 6 + 3] = NaN; // row 2 of C is NaN
    a[4 * 6 + 1] = Infinity; // row 4 of C is +Infinity (B is positive)
    const A = Matrix.fromArray(a, 5, 6, { dtype });
    const B = r.uniform(6, 4, { low: 1, high: 2, dtype });
    const C = matmul(A, B).toArray();
    assert.ok(C[2].every(Number.isNaN), `${dtype}: NaN row`);
    assert.ok(C[4].every((x) => x === Infinity), `${dtype}: Infinity row`);
    for (const i of [0, 1, 3]) assert.ok(C[i].every(Number.isFinite), `${dtype}: row ${i} finite`);
    checkMatmul(A, B, `${dtype} with NaN and Infinity`);
  }
});

Deno.test("matmul's transposed forms (used by its VJP) match the reference", () => {
  const check = (m: number, k: number, n: number, dtype: DType, seed: number) => {
    const r = new Random(seed);
    const A = r.normal(m, k, { dtype }), B = r.normal(k, n, { dtype });
    const G = r.normal(m, n, { dtype });
    const [C, back] = vjp((X: Matrix, Y: Matrix) => matmul(X, Y), A, B);
    const [gA, gB] = back(G);
    const what = `${m}x${k}x${n} ${dtype}`;
    assert.deepEqual(flat(C), flat(matmul(A, B)), `${what}: value`);
    // gA = G B^T (B used transposed), gB = A^T G (A used transposed): compare with
    // explicit transposes through the reference.
    const g = G.toTypedArray();
    const bT = transpose(B).toTypedArray(), aT = transpose(A).toTypedArray();
    const t = tol(dtype);
    const refA = refMatmul(g, bT, m, n, k);
    const absA = refMatmul(g.map(Math.abs), bT.map(Math.abs), m, n, k);
    const refB = refMatmul(aT, g, k, m, n);
    const absB = refMatmul(aT.map(Math.abs), g.map(Math.abs), k, m, n);
    assert.deepEqual(gA.shape, [m, k]);
    assert.deepEqual(gB.shape, [k, n]);
    assert.equal(gA.dtype, dtype);
    assertAllClose(gA.toTypedArray(), refA, (i) => t.dot * absA[i] + t.tiny, `${what}: G B^T`);
    assertAllClose(gB.toTypedArray(), refB, (i) => t.dot * absB[i] + t.tiny, `${what}: A^T G`);
  };
  fc.assert(
    fc.property(dimArb, dimArb, dimArb, dtypeArb, seedArb, check),
    { numRuns: 60 },
  );
  for (const dtype of DTYPES) {
    for (const [m, k, n] of [[130, 67, 131], [5, 300, 7], [241, 20, 5], [1, 1, 1]]) {
      check(m, k, n, dtype, m + k + n);
    }
  }
});

Deno.test("(AB)^T = B^T A^T", () => {
  fc.assert(
    fc.property(dimArb, dimArb, dimArb, dtypeArb, seedArb, (m, k, n, dtype, seed) => {
      const r = new Random(seed);
      const A = r.normal(m, k, { dtype }), B = r.normal(k, n, { dtype });
      const left = transpose(matmul(A, B));
      const right = matmul(transpose(B), transpose(A));
      assert.deepEqual(left.shape, [n, m]);
      assert.deepEqual(right.shape, [n, m]);
      assert.equal(right.dtype, dtype);
      const absRef = refMatmul(
        transpose(B).toTypedArray().map(Math.abs),
        transpose(A).toTypedArray().map(Math.abs),
        n,
        k,
        m,
      );
      const t = tol(dtype);
      // Both sides carry rounding error, hence twice the bound.
      assertAllClose(
        left.toTypedArray(),
        right.toTypedArray(),
        (i) => 2 * t.dot * absRef[i] + t.tiny,
        "(AB)^T",
      );
    }),
    { numRuns: 100 },
  );
});

// ---------------------------------------------------------------- broadcasting binary ops

type Binary = (A: Matrix | number, B: Matrix | number) => Matrix;
const BINARY: [string, Binary, (x: number, y: number) => number][] = [
  ["add", add, (x, y) => x + y],
  ["sub", sub, (x, y) => x - y],
  ["mul", mul, (x, y) => x * y],
  ["div", div, (x, y) => x / y],
  ["maximum", maximum, (x, y) => Math.max(x, y)],
  ["minimum", minimum, (x, y) => Math.min(x, y)],
  ["greater", greater, (x, y) => (x > y ? 1 : 0)],
  ["greaterEqual", greaterEqual, (x, y) => (x >= y ? 1 : 0)],
  ["equal", equal, (x, y) => (x === y ? 1 : 0)],
];

type Pattern = "full" | "row" | "col" | "scalar";
const PATTERNS: readonly Pattern[] = ["full", "row", "col", "scalar"];

function shapeOf(p: Pattern, m: number, n: number): [number, number] {
  return p === "full" ? [m, n] : p === "row" ? [1, n] : p === "col" ? [m, 1] : [1, 1];
}

/** `A` repeated to m x n, explicitly. */
function expand(A: Matrix, m: number, n: number): Float64Array {
  const a = A.toTypedArray();
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      out[i * n + j] = a[(A.rows === 1 ? 0 : i) * A.cols + (A.cols === 1 ? 0 : j)];
    }
  }
  return out;
}

/** Reference for `op` on explicitly expanded operands, rounded to `dtype`. */
function refBinary(
  f: (x: number, y: number) => number,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  dtype: DType,
): Float64Array {
  return Float64Array.from({ length: x.length }, (_, i) => round(f(x[i], y[i]), dtype));
}

Deno.test("broadcasting equals explicit expansion: every op, every pair of shapes", () => {
  const sizeArb = fc.integer({ min: 1, max: 7 });
  for (const [name, op, f] of BINARY) {
    for (const dtype of DTYPES) {
      for (const pa of PATTERNS) {
        for (const pb of PATTERNS) {
          fc.assert(
            fc.property(sizeArb, sizeArb, seedArb, (m, n, seed) => {
              const A = mixed(seed, ...shapeOf(pa, m, n), dtype);
              const B = mixed(seed + 1, ...shapeOf(pb, m, n), dtype);
              const C = op(A, B);
              const what = `${name}(${pa} ${A.rows}x${A.cols}, ${pb} ${B.rows}x${B.cols}) ${dtype}`;
              const rows = Math.max(A.rows, B.rows), cols = Math.max(A.cols, B.cols);
              assert.deepEqual(C.shape, [rows, cols], what);
              assert.equal(C.dtype, dtype, what);
              const ref = refBinary(f, expand(A, rows, cols), expand(B, rows, cols), dtype);
              assertRelClose(C.toTypedArray(), ref, tol(dtype).elementwise, dtype, what);
            }),
            { numRuns: 6 },
          );
        }
      }
    }
  }
});

Deno.test("broadcasting with a number on either side", () => {
  const scalars = [0, 1, -2, 0.1, 2.5, -1e-3, Infinity, NaN];
  for (const [name, op, f] of BINARY) {
    for (const dtype of DTYPES) {
      for (const p of PATTERNS) {
        for (const [k, s] of scalars.entries()) {
          const A = mixed(k, ...shapeOf(p, 4, 5), dtype);
          const a = A.toTypedArray();
          const sr = round(s, dtype); // the number becomes a 1x1 of A's dtype
          for (
            const [side, C, ref] of [
              ["A op s", op(A, s), refBinary(f, a, new Float64Array(a.length).fill(sr), dtype)],
              ["s op A", op(s, A), refBinary(f, new Float64Array(a.length).fill(sr), a, dtype)],
            ] as const
          ) {
            const what = `${name} ${side} (${p} ${A.rows}x${A.cols}, s = ${s}) ${dtype}`;
            assert.deepEqual(C.shape, A.shape, what);
            assert.equal(C.dtype, dtype, what);
            assertRelClose(C.toTypedArray(), ref, tol(dtype).elementwise, dtype, what);
          }
        }
      }
    }
  }
});

Deno.test("broadcasting: known small cases", () => {
  const row = Matrix.from([[10, 20, 30]]);
  const col = Matrix.from([[1], [2]]);
  assert.deepEqual(add(row, col).toArray(), [[11, 21, 31], [12, 22, 32]]);
  assert.deepEqual(sub(col, row).toArray(), [[-9, -19, -29], [-8, -18, -28]]);
  assert.deepEqual(add(Matrix.eye(2), Matrix.from([[10, 20]])).toArray(), [[11, 20], [10, 21]]);
  assert.deepEqual(div(1, Matrix.from([[0, -0, 2]])).toArray(), [[Infinity, -Infinity, 0.5]]);
  assert.deepEqual(maximum(Matrix.from([[-1, 2, NaN]]), 0).toArray(), [[0, 2, NaN]]);
  assert.deepEqual(minimum(0, Matrix.from([[-1, 2, NaN]])).toArray(), [[-1, 0, NaN]]);
  assert.deepEqual(greater(Matrix.from([[-1, 0, 1, NaN]]), 0).toArray(), [[0, 0, 1, 0]]);
  assert.deepEqual(greaterEqual(Matrix.from([[-1, 0, 1, NaN]]), 0).toArray(), [[0, 1, 1, 0]]);
  assert.deepEqual(equal(Matrix.from([[-0, 0, NaN]]), 0).toArray(), [[1, 1, 0]]);
  assert.deepEqual(scale(Matrix.from([[1, -2]]), 3).toArray(), [[3, -6]]);
  assert.equal(scale(Matrix.ones(1, 1, { dtype: "float32" }), 0.1).get(0, 0), Math.fround(0.1));
});

// ---------------------------------------------------------------- unary ops

/** A stable logistic sigmoid (no overflow for large |x|), written differently from the kernel's. */
function refSigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

const UNARY: [string, (A: Matrix) => Matrix, (x: number) => number][] = [
  ["neg", neg, (x) => -x],
  ["abs", abs, Math.abs],
  ["sign", sign, Math.sign],
  ["exp", exp, Math.exp],
  ["log", log, Math.log],
  ["sqrt", sqrt, Math.sqrt],
  ["square", square, (x) => x * x],
  ["reciprocal", reciprocal, (x) => 1 / x],
  ["tanh", tanh, Math.tanh],
  ["sigmoid", sigmoid, refSigmoid],
  ["relu", relu, (x) => (Number.isNaN(x) ? NaN : Math.max(x, 0))],
  ["step", step, (x) => (x > 0 ? 1 : 0)],
];

const EDGES = [
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  2,
  1e-300,
  -1e-300,
  5e-324,
  -5e-324,
  1e300,
  -1e300,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Infinity,
  -Infinity,
  NaN,
  800,
  -800,
  700,
  -700,
  30,
  -30,
  20,
  -20,
  88,
  -88,
  3.4e38,
  -3.4e38,
];

Deno.test("unary ops match Math.* on random and edge values (both dtypes)", () => {
  for (const dtype of DTYPES) {
    const random = Array.from(new Random(3).normal(1, 200, { std: 4 }).toTypedArray());
    const positive = random.map(Math.abs);
    const xs = [...EDGES, ...random, ...positive];
    const A = Matrix.fromArray(xs, 1, xs.length, { dtype });
    const a = A.toTypedArray();
    for (const [name, op, f] of UNARY) {
      const Y = op(A);
      assert.deepEqual(Y.shape, A.shape, name);
      assert.equal(Y.dtype, dtype, name);
      const ref = Array.from(a, (x) => round(f(x), dtype));
      // exp, log, tanh and sigmoid round several times, and sigmoid is written
      // differently here: a few ulps (tol.unary); the rest are one rounding.
      const t = ["exp", "log", "tanh", "sigmoid"].includes(name)
        ? tol(dtype).unary
        : tol(dtype).elementwise;
      assertRelClose(Y.toTypedArray(), ref, t, dtype, `${name} ${dtype}`);
    }
  }
});

Deno.test("unary ops on a large matrix (loops and fallbacks) match the reference", () => {
  const A = new Random(4).normal(123, 77, { std: 10 });
  const a = A.toTypedArray();
  // One -Infinity forces relu's safe re-run; one NaN must not disturb other entries.
  const b = a.slice();
  b[5000] = -Infinity;
  b[6000] = NaN;
  const B = Matrix.fromArray(b, 123, 77);
  for (const X of [A, B]) {
    const x = X.toTypedArray();
    assertRelClose(
      relu(X).toTypedArray(),
      Array.from(x, (v) => (v !== v ? NaN : Math.max(v, 0))),
      0,
      "float64",
      "relu",
    );
    assertRelClose(
      step(X).toTypedArray(),
      Array.from(x, (v) => (v > 0 ? 1 : 0)),
      0,
      "float64",
      "step",
    );
    assertRelClose(
      sigmoid(X).toTypedArray(),
      Array.from(x, refSigmoid),
      tol("float64").unary,
      "float64",
      "sigmoid",
    );
  }
});

/** The single value of `op` at `x`, as `dtype`. */
function at(op: (A: Matrix) => Matrix, x: number, dtype: DType = "float64"): number {
  return op(Matrix.from([[x]], { dtype })).get(0, 0);
}

Deno.test("unary ops at the kinks and edges", () => {
  for (const dtype of DTYPES) {
    const is = (actual: number, expected: number, what: string) =>
      assert.ok(
        Object.is(actual, expected),
        `${what} (${dtype}): got ${actual}, expected ${expected}`,
      );
    // relu: max(x, 0), relu(-0) is +0 as Math.max(-0, 0) is, NaN stays NaN.
    is(at(relu, -Infinity, dtype), 0, "relu(-Infinity)");
    is(at(relu, NaN, dtype), NaN, "relu(NaN)");
    is(at(relu, -0, dtype), 0, "relu(-0)");
    is(at(relu, 0, dtype), 0, "relu(0)");
    is(at(relu, Infinity, dtype), Infinity, "relu(Infinity)");
    is(at(relu, -1e-30, dtype), 0, "relu(-1e-30)");
    is(at(relu, 3e38, dtype), round(3e38, dtype), "relu(3e38)");
    // sigmoid: finite and correctly rounded at the ends.
    is(at(sigmoid, 800, dtype), 1, "sigmoid(800)");
    is(at(sigmoid, -800, dtype), 0, "sigmoid(-800)");
    is(at(sigmoid, Infinity, dtype), 1, "sigmoid(Infinity)");
    is(at(sigmoid, -Infinity, dtype), 0, "sigmoid(-Infinity)");
    is(at(sigmoid, 0, dtype), 0.5, "sigmoid(0)");
    // step and sign at 0.
    is(at(step, 0, dtype), 0, "step(0)");
    is(at(step, -0, dtype), 0, "step(-0)");
    is(at(step, NaN, dtype), 0, "step(NaN): 1 only where x > 0");
    is(at(step, 1e-40, dtype), 1, "step(tiny positive)");
    is(at(sign, 0, dtype), 0, "sign(0)");
    is(at(sign, -0, dtype), -0, "sign(-0), as Math.sign");
    is(at(sign, NaN, dtype), NaN, "sign(NaN)");
    is(at(sign, -1e-30, dtype), -1, "sign(-1e-30)");
    is(at(sign, Infinity, dtype), 1, "sign(Infinity)");
    // log, sqrt, reciprocal, exp, tanh at their edges.
    is(at(log, 0, dtype), -Infinity, "log(0)");
    is(at(log, -0, dtype), -Infinity, "log(-0)");
    is(at(log, -1, dtype), NaN, "log(-1)");
    is(at(log, 1, dtype), 0, "log(1)");
    is(at(log, Infinity, dtype), Infinity, "log(Infinity)");
    is(at(sqrt, -1, dtype), NaN, "sqrt(-1)");
    is(at(sqrt, -0, dtype), -0, "sqrt(-0)");
    is(at(sqrt, Infinity, dtype), Infinity, "sqrt(Infinity)");
    is(at(reciprocal, 0, dtype), Infinity, "reciprocal(0)");
    is(at(reciprocal, -0, dtype), -Infinity, "reciprocal(-0)");
    is(at(reciprocal, Infinity, dtype), 0, "reciprocal(Infinity)");
    is(at(exp, -Infinity, dtype), 0, "exp(-Infinity)");
    is(at(exp, 1000, dtype), Infinity, "exp(1000)");
    is(at(exp, 0, dtype), 1, "exp(0)");
    is(at(tanh, 800, dtype), 1, "tanh(800)");
    is(at(tanh, -Infinity, dtype), -1, "tanh(-Infinity)");
    is(at(abs, -0, dtype), 0, "abs(-0)");
    is(at(neg, 0, dtype), -0, "neg(0)");
    is(at(square, -3, dtype), 9, "square(-3)");
  }
  // float64 only: overflow-prone inputs of the branch-free relu.
  assert.equal(at(relu, 1e308), 1e308, "relu(1e308)");
  assert.equal(at(relu, Number.MAX_VALUE), Number.MAX_VALUE, "relu(MAX_VALUE)");
  assert.equal(at(relu, 5e-324), 5e-324, "relu(smallest subnormal)");
  assert.equal(at(square, 1e200), Infinity, "square(1e200)");
  const s30 = at(sigmoid, -30);
  assert.ok(Math.abs(s30 - refSigmoid(-30)) <= tol("float64").unary * refSigmoid(-30), `${s30}`);
});

// ---------------------------------------------------------------- reductions

/** Reference sum/max over all, axis 0 or axis 1 of a row-major rows x cols array. */
function refReduce(
  a: ArrayLike<number>,
  rows: number,
  cols: number,
  axis: "all" | 0 | 1,
  f: (xs: number[]) => number,
): number[] {
  const at = (i: number, j: number) => a[i * cols + j];
  if (axis === "all") return [f(Array.from(a))];
  if (axis === 0) {
    return Array.from(
      { length: cols },
      (_, j) => f(Array.from({ length: rows }, (_, i) => at(i, j))),
    );
  }
  return Array.from(
    { length: rows },
    (_, i) => f(Array.from({ length: cols }, (_, j) => at(i, j))),
  );
}
const fsum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
const fabs = (xs: number[]) => xs.reduce((s, x) => s + Math.abs(x), 0);
const fmax = (xs: number[]) =>
  xs.reduce((m, x) => (Number.isNaN(m) ? m : x > m || Number.isNaN(x) ? x : m), -Infinity);

Deno.test("sum, max and mean over all, axis 0 and axis 1 match the reference", () => {
  const sizeArb = fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 40 }));
  fc.assert(
    fc.property(sizeArb, sizeArb, dtypeArb, seedArb, (rows, cols, dtype, seed) => {
      const A = mixed(seed, rows, cols, dtype);
      const a = A.toTypedArray();
      const t = tol(dtype);
      for (const axis of ["all", 0, 1] as const) {
        const opts = axis === "all" ? undefined : { axis };
        const shape = axis === "all" ? [1, 1] : axis === 0 ? [1, cols] : [rows, 1];
        const n = axis === "all" ? rows * cols : axis === 0 ? rows : cols;
        const what = `${rows}x${cols} ${dtype} axis ${axis}`;
        const ref = refReduce(a, rows, cols, axis, fsum);
        const absRef = refReduce(a, rows, cols, axis, fabs);
        for (
          const [name, R] of [["sum", sum(A, opts)], ["max", max(A, opts)], [
            "mean",
            mean(A, opts),
          ]] as const
        ) {
          assert.deepEqual(R.shape, shape, `${name} ${what}: shape`);
          assert.equal(R.dtype, dtype, `${name} ${what}: dtype`);
        }
        assertAllClose(flat(sum(A, opts)), ref, (i) => t.sum * absRef[i], `sum ${what}`);
        assertAllClose(
          flat(mean(A, opts)),
          ref.map((s) => s / n),
          (i) => (t.sum * absRef[i]) / n + t.tiny,
          `mean ${what}`,
        );
        // max is exact.
        assert.deepEqual(flat(max(A, opts)), refReduce(a, rows, cols, axis, fmax), `max ${what}`);
      }
    }),
    { numRuns: 150 },
  );
});

Deno.test("reductions: known values and NaN", () => {
  for (const dtype of DTYPES) {
    const A = Matrix.from([[1, 5], [3, 4]], { dtype });
    assert.deepEqual(sum(A).toArray(), [[13]]);
    assert.deepEqual(sum(A, { axis: 0 }).toArray(), [[4, 9]]);
    assert.deepEqual(sum(A, { axis: 1 }).toArray(), [[6], [7]]);
    assert.deepEqual(max(A).toArray(), [[5]]);
    assert.deepEqual(max(A, { axis: 0 }).toArray(), [[3, 5]]);
    assert.deepEqual(max(A, { axis: 1 }).toArray(), [[5], [4]]);
    assert.deepEqual(mean(A).toArray(), [[3.25]]);
    assert.deepEqual(mean(A, { axis: 0 }).toArray(), [[2, 4.5]]);
    assert.deepEqual(mean(A, { axis: 1 }).toArray(), [[3], [3.5]]);
    assert.deepEqual(max(Matrix.full(2, 3, -Infinity, { dtype })).toArray(), [[-Infinity]]);
    assert.deepEqual(max(Matrix.from([[-5, -Infinity, -7]], { dtype }), { axis: 1 }).toArray(), [[
      -5,
    ]]);

    // NaN anywhere (first, middle, last) makes the max NaN, only where it occurs.
    for (const [i, j] of [[0, 0], [1, 2], [3, 4], [2, 0]]) {
      const data = Array.from(mixed(9, 4, 5, "float64").toTypedArray());
      data[i * 5 + j] = NaN;
      const B = Matrix.fromArray(data, 4, 5, { dtype });
      const b = B.toTypedArray();
      const where = `NaN at (${i}, ${j}) ${dtype}`;
      assert.ok(Number.isNaN(max(B).get(0, 0)), `max all, ${where}`);
      assert.ok(Number.isNaN(sum(B).get(0, 0)), `sum all, ${where}`);
      assert.ok(Number.isNaN(mean(B).get(0, 0)), `mean all, ${where}`);
      const m0 = flat(max(B, { axis: 0 }));
      const m1 = flat(max(B, { axis: 1 }));
      assert.deepEqual(m0, refReduce(b, 4, 5, 0, fmax), `max axis 0, ${where}`);
      assert.deepEqual(m1, refReduce(b, 4, 5, 1, fmax), `max axis 1, ${where}`);
      assert.ok(Number.isNaN(m0[j]) && m0.filter(Number.isNaN).length === 1, `axis 0 column ${j}`);
      assert.ok(Number.isNaN(m1[i]) && m1.filter(Number.isNaN).length === 1, `axis 1 row ${i}`);
    }
  }
});

Deno.test("reductions of empty matrices: sums are zero, max/mean need an element", () => {
  for (const dtype of DTYPES) {
    const E = Matrix.zeros(0, 3, { dtype });
    assert.deepEqual(sum(E).toArray(), [[0]]);
    assert.deepEqual(sum(E, { axis: 0 }).toArray(), [[0, 0, 0]]);
    assert.deepEqual(sum(E, { axis: 1 }).shape, [0, 1]);
    assert.deepEqual(sum(Matrix.zeros(3, 0, { dtype }), { axis: 1 }).toArray(), [[0], [0], [0]]);
    assert.deepEqual(max(E, { axis: 1 }).shape, [0, 1]);
    assert.deepEqual(max(Matrix.zeros(3, 0, { dtype }), { axis: 0 }).shape, [1, 0]);
  }
  const cases: [() => Matrix, RegExp][] = [
    [() => max(Matrix.zeros(0, 3)), /^Cannot take the max of a 0x3 matrix: nothing to reduce$/],
    [() => max(Matrix.zeros(0, 0)), /^Cannot take the max of a 0x0 matrix: nothing to reduce$/],
    [() => max(Matrix.zeros(0, 3), { axis: 0 }), /max of a 0x3 matrix: nothing to reduce/],
    [() => max(Matrix.zeros(3, 0), { axis: 1 }), /max of a 3x0 matrix: nothing to reduce/],
    [() => mean(Matrix.zeros(0, 0)), /^Cannot take the mean of a 0x0 matrix: nothing to average$/],
    [() => mean(Matrix.zeros(2, 0)), /mean of a 2x0 matrix: nothing to average/],
    [() => mean(Matrix.zeros(0, 3), { axis: 0 }), /mean of a 0x3 matrix: nothing to average/],
    [() => mean(Matrix.zeros(3, 0), { axis: 1 }), /mean of a 3x0 matrix: nothing to average/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, { name: "RangeError", message });
});

// ---------------------------------------------------------------- reshape and transpose

Deno.test("reshape keeps the row-major data", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 12 }),
      dtypeArb,
      seedArb,
      (
        r,
        c,
        dtype,
        seed,
      ) => {
        const A = mixed(seed, r, c, dtype);
        const before = flat(A);
        const n = r * c;
        for (let rows = 1; rows <= n; rows++) {
          if (n % rows !== 0) continue;
          const B = reshape(A, rows, n / rows);
          assert.deepEqual(B.shape, [rows, n / rows]);
          assert.equal(B.dtype, dtype);
          assert.deepEqual(flat(B), before);
          assert.deepEqual(flat(reshape(B, r, c)), before);
        }
        assert.deepEqual(flat(A), before, "A is unchanged");
      },
    ),
    { numRuns: 50 },
  );
  assert.deepEqual(reshape(Matrix.from([[1, 2, 3, 4, 5, 6]]), 3, 2).toArray(), [[1, 2], [3, 4], [
    5,
    6,
  ]]);
  assert.deepEqual(reshape(Matrix.zeros(0, 6), 3, 0).shape, [3, 0]);
  assert.deepEqual(reshape(Matrix.zeros(0, 6), 0, 0).shape, [0, 0]);
});

Deno.test("transpose: vectors, large non-square, involution", () => {
  for (const dtype of DTYPES) {
    const row = Matrix.fromArray([1, 2, 3, 4, 5], 1, 5, { dtype });
    const col = transpose(row);
    assert.deepEqual(col.shape, [5, 1]);
    assert.deepEqual(col.toArray(), [[1], [2], [3], [4], [5]]);
    assert.deepEqual(transpose(col).toArray(), [[1, 2, 3, 4, 5]]);
    assert.equal(col.dtype, dtype);
    assert.deepEqual(transpose(Matrix.zeros(0, 3, { dtype })).shape, [3, 0]);
    assert.deepEqual(transpose(Matrix.from([[7]], { dtype })).toArray(), [[7]]);
  }
  fc.assert(
    fc.property(
      fc.oneof(fc.constantFrom(1, 31, 32, 33, 64, 65, 67), fc.integer({ min: 1, max: 140 })),
      fc.oneof(fc.constantFrom(1, 31, 32, 33, 64, 65, 131), fc.integer({ min: 1, max: 140 })),
      dtypeArb,
      (rows, cols, dtype) => {
        const A = Matrix.fromArray(Array.from({ length: rows * cols }, (_, i) => i), rows, cols, {
          dtype,
        });
        const T = transpose(A);
        assert.deepEqual(T.shape, [cols, rows]);
        const t = T.toTypedArray();
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < cols; j++) {
            if (t[j * rows + i] !== i * cols + j) assert.fail(`T(${j}, ${i}) of ${rows}x${cols}`);
          }
        }
        assert.deepEqual(flat(transpose(T)), flat(A));
      },
    ),
    { numRuns: 60 },
  );
  const A = new Random(5).normal(67, 131);
  const a = A.toArray();
  const T = transpose(A).toArray();
  assert.equal(T.length, 131);
  for (let i = 0; i < 67; i++) for (let j = 0; j < 131; j++) assert.equal(T[j][i], a[i][j]);
});

// ---------------------------------------------------------------- dtype promotion

Deno.test("dtype promotion: float32 with float64 gives float64; numbers keep the dtype", () => {
  const A32 = mixed(1, 3, 4, "float32");
  const B64 = mixed(2, 3, 4, "float64");
  const A64 = A32.astype("float64");
  for (const [name, op] of BINARY) {
    for (const [C, ref] of [[op(A32, B64), op(A64, B64)], [op(B64, A32), op(B64, A64)]]) {
      assert.equal(C.dtype, "float64", name);
      assert.deepEqual(flat(C), flat(ref), `${name}: float32 operand widened exactly`);
    }
    // Broadcast operands promote too.
    assert.equal(op(A32, Matrix.ones(1, 4)).dtype, "float64", `${name} with a float64 row`);
    assert.equal(op(Matrix.ones(3, 1), A32).dtype, "float64", `${name} with a float64 column`);
    // A number takes the matrix's dtype.
    for (const s of [0.1, 3, -1e-7]) {
      const C = op(A32, s);
      const D = op(s, A32);
      assert.equal(C.dtype, "float32", `${name}(float32, ${s})`);
      assert.equal(D.dtype, "float32", `${name}(${s}, float32)`);
      assert.equal(op(B64, s).dtype, "float64");
      const f = BINARY.find(([n]) => n === name)![2];
      const a = A32.toTypedArray();
      assert.deepEqual(
        flat(C),
        Array.from(a, (x) => Math.fround(f(x, Math.fround(s)))),
        `${name}(float32, ${s})`,
      );
      assert.deepEqual(
        flat(D),
        Array.from(a, (x) => Math.fround(f(Math.fround(s), x))),
        `${name}(${s}, float32)`,
      );
    }
  }
  const M = matmul(A32, transpose(B64));
  assert.equal(M.dtype, "float64");
  assert.deepEqual(flat(M), flat(matmul(A64, transpose(B64))));
  assert.equal(matmul(transpose(B64), A32).dtype, "float64");
  for (const [name, op] of UNARY) assert.equal(op(A32).dtype, "float32", name);
  assert.equal(sum(A32).dtype, "float32");
  assert.equal(scale(A32, 0.1).dtype, "float32");
  assert.equal(transpose(A32).dtype, "float32");
  assert.equal(reshape(A32, 2, 6).dtype, "float32");
  assert.equal(astype(A32, "float64").dtype, "float64");
  assert.deepEqual(flat(astype(B64, "float32")), Array.from(B64.toTypedArray(), Math.fround));
});

// ---------------------------------------------------------------- errors

Deno.test("matmul: inner size mismatch", () => {
  assert.throws(() => matmul(Matrix.zeros(3, 4), Matrix.zeros(5, 2)), {
    name: "TypeError",
    message: "Cannot multiply matrices in matmul: 3x4 by 5x2, inner sizes 4 and 5 differ",
  });
  assert.throws(() => matmul(Matrix.zeros(1, 3), Matrix.zeros(1, 3, { dtype: "float32" })), {
    name: "TypeError",
    message: "Cannot multiply matrices in matmul: 1x3 by 1x3, inner sizes 3 and 1 differ",
  });
  assert.throws(() => matmul(Matrix.zeros(2, 0), Matrix.zeros(2, 0)), {
    name: "TypeError",
    message: /2x0 by 2x0, inner sizes 0 and 2 differ/,
  });
});

Deno.test("binary ops: shapes that do not broadcast", () => {
  const verbs: Record<string, string> = {
    add: "add",
    sub: "subtract",
    mul: "multiply element-wise in mul",
    div: "divide element-wise in div",
    maximum: "take the element-wise maximum",
    minimum: "take the element-wise minimum",
    greater: "compare in greater",
    greaterEqual: "compare in greaterEqual",
    equal: "compare in equal",
  };
  for (const [name, op] of BINARY) {
    const v = verbs[name];
    assert.throws(() => op(Matrix.zeros(2, 3), Matrix.zeros(3, 2)), {
      name: "TypeError",
      message:
        `Cannot ${v}: shapes 2x3 and 3x2 do not broadcast (rows 2 and 3 differ and neither is 1)`,
    });
    assert.throws(() => op(Matrix.zeros(2, 3), Matrix.zeros(2, 2)), {
      name: "TypeError",
      message:
        `Cannot ${v}: shapes 2x3 and 2x2 do not broadcast (cols 3 and 2 differ and neither is 1)`,
    });
    assert.throws(() => op(Matrix.zeros(1, 3), Matrix.zeros(2, 4)), {
      name: "TypeError",
      message: /shapes 1x3 and 2x4 do not broadcast \(cols 3 and 4 differ/,
    });
    assert.throws(() => op(Matrix.zeros(4, 1), Matrix.zeros(3, 5)), {
      name: "TypeError",
      message: /shapes 4x1 and 3x5 do not broadcast \(rows 4 and 3 differ/,
    });
  }
});

Deno.test("non-Matrix arguments are a TypeError naming what was given", () => {
  const M = Matrix.ones(2, 2);
  const asM = (x: unknown) => x as Matrix;
  for (const [name, op] of BINARY) {
    assert.throws(() => op(asM([[1]]), M), {
      name: "TypeError",
      message: /: A must be a Matrix, got an array$/,
    }, name);
    assert.throws(() => op(M, asM(null)), {
      name: "TypeError",
      message: /: B must be a Matrix, got null$/,
    }, name);
    assert.throws(() => op(M, asM("1")), {
      name: "TypeError",
      message: /: B must be a Matrix, got string$/,
    }, name);
    assert.throws(() => op(asM(undefined), 2), {
      name: "TypeError",
      message: /: A must be a Matrix, got undefined$/,
    }, name);
    assert.throws(() => op(asM({ rows: 2, cols: 2 }), M), {
      name: "TypeError",
      message: /: A must be a Matrix, got object$/,
    }, name);
    assert.throws(() => op(1, 2), {
      name: "TypeError",
      message: /: at least one operand must be a Matrix$/,
    }, name);
  }
  assert.throws(() => matmul(asM(2), M), {
    name: "TypeError",
    message: "Cannot multiply matrices in matmul: A must be a Matrix, got number",
  });
  assert.throws(() => matmul(M, asM(2)), {
    name: "TypeError",
    message: "Cannot multiply matrices in matmul: B must be a Matrix, got number",
  });
  assert.throws(() => matmul(M, asM([[1, 2], [3, 4]])), {
    name: "TypeError",
    message: "Cannot multiply matrices in matmul: B must be a Matrix, got an array",
  });
  assert.throws(() => matmul(asM(null), M), {
    name: "TypeError",
    message: /A must be a Matrix, got null/,
  });
  for (const [name, op] of UNARY) {
    assert.throws(() => op(asM([[1]])), {
      name: "TypeError",
      message: `Cannot ${name}: argument must be a Matrix, got an array`,
    });
    assert.throws(() => op(asM(3)), {
      name: "TypeError",
      message: /argument must be a Matrix, got number/,
    });
  }
  const others: [() => unknown, RegExp][] = [
    [() => transpose(asM(null)), /^Cannot transpose: argument must be a Matrix, got null$/],
    [() => reshape(asM([1, 2]), 1, 2), /^Cannot reshape: argument must be a Matrix, got an array$/],
    [() => sum(asM(1)), /^Cannot sum: argument must be a Matrix, got number$/],
    [() => max(asM("x")), /^Cannot max: argument must be a Matrix, got string$/],
    [() => mean(asM(undefined)), /^Cannot mean: argument must be a Matrix, got undefined$/],
    [() => scale(asM([[1]]), 2), /^Cannot scale: argument must be a Matrix, got an array$/],
    [
      () => scale(M, "2" as unknown as number),
      /^Cannot scale a 2x2 matrix: the factor must be a number$/,
    ],
    [
      () => astype(asM({}), "float32"),
      /^Cannot convert a matrix in astype: argument must be a Matrix, got object$/,
    ],
  ];
  for (const [fn, message] of others) assert.throws(fn, { name: "TypeError", message });
});

Deno.test("bad axis is a RangeError", () => {
  const A = Matrix.ones(2, 3);
  const axes: unknown[] = [2, -1, "0", 0.5, null, "all"];
  for (const axis of axes) {
    const opts = { axis } as { axis: 0 };
    for (const [name, op] of [["sum", sum], ["max", max], ["mean", mean]] as const) {
      assert.throws(() => op(A, opts), {
        name: "RangeError",
        message: `Cannot ${name}: axis must be 0, 1 or absent, got ${String(axis)}`,
      });
    }
  }
});

Deno.test("reshape: size mismatch and bad sizes", () => {
  const A = Matrix.zeros(2, 3);
  assert.throws(() => reshape(A, 4, 2), {
    name: "TypeError",
    message: "Cannot reshape a 2x3 matrix to 4x2: sizes 6 and 8 differ",
  });
  assert.throws(() => reshape(A, 6, 0), {
    name: "TypeError",
    message: "Cannot reshape a 2x3 matrix to 6x0: sizes 6 and 0 differ",
  });
  assert.throws(() => reshape(A, -2, -3), {
    name: "RangeError",
    message: "Cannot reshape: rows must be a non-negative integer, got -2",
  });
  assert.throws(() => reshape(A, 6, 1.5), {
    name: "RangeError",
    message: "Cannot reshape: cols must be a non-negative integer, got 1.5",
  });
  assert.throws(() => reshape(A, NaN, 1), {
    name: "RangeError",
    message: /rows must be a non-negative integer, got NaN/,
  });
  assert.throws(() => astype(A, "int8" as DType), {
    name: "TypeError",
    message: /unknown dtype "int8"/,
  });
});
