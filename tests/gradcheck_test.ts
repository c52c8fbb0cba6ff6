/**
 * gradcheck for every differentiable public op, every broadcasting pattern of the
 * binary ops, both dtypes; then gradcheck's own report, failure path and errors.
 *
 * Points are drawn from seeded generators and kept away from kinks (relu, abs,
 * maximum, max) and from the singularities of log, sqrt, reciprocal and div, so
 * that central differences are meaningful; the kinks themselves are pinned with
 * exact values in autodiff_test.ts.
 */
import assert from "node:assert/strict";
import {
  abs,
  add,
  astype,
  div,
  type DType,
  exp,
  grad,
  gradcheck,
  type GradcheckReport,
  gradTolerance,
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
  sqrt,
  square,
  step,
  sub,
  sum,
  tanh,
  transpose,
} from "../mod.ts";

// ---------------------------------------------------------------------------
// Helpers

/** Maps every entry of `x` through `f` (test data only, never traced). */
function mapEntries(x: Matrix, f: (v: number, i: number) => number): Matrix {
  return Matrix.fromArray(Array.from(x.toTypedArray(), f), x.rows, x.cols, { dtype: x.dtype });
}

/** Normal entries pushed away from 0: |x| >= 0.25, random signs (kinks of relu, abs; 1/x). */
function awayFromZero(rng: Random, rows: number, cols: number, dtype: DType = "float64"): Matrix {
  return mapEntries(
    rng.normal(rows, cols, { dtype }),
    (v) => Math.sign(v || 1) * (0.25 + Math.abs(v)),
  );
}

/** Entries in [0.5, 2): the domain of log, sqrt, reciprocal without their singularity. */
function positive(rng: Random, rows: number, cols: number): Matrix {
  return rng.uniform(rows, cols, { low: 0.5, high: 2 });
}

/** Distinct entries at least 0.4 apart in random order (no ties for max). */
function distinct(rng: Random, rows: number, cols: number): Matrix {
  const perm = rng.permutation(rows * cols);
  const noise = rng.uniform(rows, cols, { high: 0.1 }).toTypedArray();
  return Matrix.fromArray(
    Array.from(perm, (p, i) => 0.5 * (p - rows * cols / 2) + noise[i]),
    rows,
    cols,
  );
}

/** The smallest |a - b| over the broadcast shape: how far the point is from a tie. */
function gap(a: Matrix | number, b: Matrix | number): number {
  return -max(neg(abs(sub(a, b)))).get(0, 0);
}

/** Asserts that both the forward and the reverse entries of a report hold. */
function assertPasses(name: string, rep: GradcheckReport, maxRel: number): void {
  const detail = (what: string) =>
    `${name}: ${what}; worst is ${rep.worst.what}: autodiff ${rep.worst.autodiff}, ` +
    `finite difference ${rep.worst.finiteDifference}`;
  for (const mode of ["jvp", "vjp"]) {
    const mine = rep.entries.filter((e) => e.what.startsWith(`${mode} `));
    assert.ok(mine.length > 0, detail(`no ${mode} entries`));
    assert.ok(mine.every((e) => e.ok), detail(`a ${mode} entry failed`));
  }
  assert.ok(rep.ok, detail("report not ok"));
  assert.ok(rep.maxRelError < maxRel, detail(`maxRelError ${rep.maxRelError} >= ${maxRel}`));
}

const F64 = gradTolerance("float64");
const F32 = gradTolerance("float32");
/**
 * Bound on a float64 report's maxRelError. Central differences with step
 * eps^(1/3) err by about eps^(2/3) ~ 4e-11 relative; 1e-7 (about 3x F64.rtol)
 * leaves room for curvature and for entries whose derivative is small, while a
 * wrong rule errs by O(1).
 */
const MAX_REL = 1e-7;

// ---------------------------------------------------------------------------
// Every op at random float64 points

interface Case {
  name: string;
  f: MatrixFn;
  args: (rng: Random) => Matrix[];
  /** Some stage runs in float32: compare with the float32 tolerances. */
  float32?: boolean;
}

const M = 3;
const N = 4;
const nrm = (r: number, c: number) => (rng: Random) => [rng.normal(r, c)];

const UNARY: Case[] = [
  { name: "neg", f: neg, args: nrm(M, N) },
  { name: "abs", f: abs, args: (rng) => [awayFromZero(rng, M, N)] },
  { name: "exp", f: exp, args: nrm(M, N) },
  { name: "log", f: log, args: (rng) => [positive(rng, M, N)] },
  { name: "sqrt", f: sqrt, args: (rng) => [positive(rng, M, N)] },
  { name: "square", f: square, args: nrm(M, N) },
  { name: "reciprocal", f: reciprocal, args: (rng) => [awayFromZero(rng, M, N)] },
  { name: "tanh", f: tanh, args: nrm(M, N) },
  { name: "sigmoid", f: sigmoid, args: nrm(M, N) },
  { name: "relu", f: relu, args: (rng) => [awayFromZero(rng, M, N)] },
  { name: "scale", f: (x) => scale(x, -1.7), args: nrm(M, N) },
];

const STRUCTURE: Case[] = [
  { name: "matmul", f: matmul, args: (rng) => [rng.normal(M, N), rng.normal(N, 2)] },
  { name: "matmul row by column", f: matmul, args: (rng) => [rng.normal(1, N), rng.normal(N, 1)] },
  { name: "matmul column by row", f: matmul, args: (rng) => [rng.normal(M, 1), rng.normal(1, N)] },
  { name: "matmul X X^T", f: (x) => matmul(x, transpose(x)), args: nrm(M, N) },
  { name: "transpose", f: transpose, args: nrm(M, N) },
  { name: "reshape 3x4 to 2x6", f: (x) => reshape(x, 2, 6), args: nrm(M, N) },
  { name: "reshape 3x4 to 12x1", f: (x) => reshape(x, 12, 1), args: nrm(M, N) },
  { name: "reshape 3x4 to 1x12 then square", f: (x) => square(reshape(x, 1, 12)), args: nrm(M, N) },
  {
    name: "astype float64 -> float32 -> float64",
    // Arguments and output are float64 but the float32 stage limits the finite
    // differences to float32 accuracy, so this case uses the float32 tolerances
    // and step (gradcheck cannot see the intermediate dtype).
    f: (x) => astype(square(astype(x, "float32")), "float64"),
    args: nrm(M, N),
    float32: true,
  },
  {
    name: "astype float32 -> float64",
    f: (x) => square(astype(x, "float64")),
    args: (rng) => [rng.normal(M, N, { dtype: "float32" })],
    float32: true,
  },
];

const REDUCE: Case[] = [];
for (const axis of [undefined, 0, 1] as const) {
  const where = axis === undefined ? "all" : `axis ${axis}`;
  const opts = axis === undefined ? undefined : { axis };
  REDUCE.push(
    { name: `sum over ${where}`, f: (x) => sum(x, opts), args: nrm(M, N) },
    { name: `mean over ${where}`, f: (x) => mean(x, opts), args: nrm(M, N) },
    { name: `max over ${where}`, f: (x) => max(x, opts), args: (rng) => [distinct(rng, M, N)] },
    // Reductions composed with a nonlinearity, so the output weight is not all
    // that reaches the input.
    { name: `sum over ${where} of tanh`, f: (x) => square(sum(tanh(x), opts)), args: nrm(M, N) },
  );
}

const cases = [...UNARY, ...STRUCTURE, ...REDUCE];
cases.forEach((c, k) => {
  Deno.test(`gradcheck: ${c.name}`, () => {
    const args = c.args(new Random(100 + k));
    const tol = c.float32 ? F32 : F64;
    const rep = gradcheck(c.f, args, { seed: k, rtol: tol.rtol, atol: tol.atol, step: tol.step });
    assertPasses(c.name, rep, c.float32 ? F32.rtol : MAX_REL);
  });
});

// ---------------------------------------------------------------------------
// Binary ops: every broadcasting pattern, both sides, number operands

type Binary = (a: Matrix | number, b: Matrix | number) => Matrix;
const BINARY: [string, Binary][] = [
  ["add", add],
  ["sub", sub],
  ["mul", mul],
  ["div", div],
  ["maximum", maximum],
  ["minimum", minimum],
];

const PATTERNS: [number, number, number, number][] = [
  [M, N, M, N],
  [1, 1, M, N],
  [M, N, 1, 1],
  [1, N, M, N],
  [M, N, 1, N],
  [M, 1, M, N],
  [M, N, M, 1],
  [1, N, M, 1], // outer: both broadcast
  [M, 1, 1, N],
];

BINARY.forEach(([name, op], k) => {
  Deno.test(`gradcheck: ${name} with every broadcasting pattern`, () => {
    const rng = new Random(200 + k);
    for (const [ar, ac, br, bc] of PATTERNS) {
      const a = rng.normal(ar, ac);
      const b = name === "div" ? awayFromZero(rng, br, bc) : rng.normal(br, bc);
      const label = `${name}(${ar}x${ac}, ${br}x${bc})`;
      if (name === "maximum" || name === "minimum") {
        assert.ok(gap(a, b) > 1e-3, `${label}: the random point is too close to a tie`);
      }
      assertPasses(label, gradcheck(op, [a, b], { seed: ar * 10 + bc }), MAX_REL);
    }
  });

  Deno.test(`gradcheck: ${name} with a number operand on either side`, () => {
    const rng = new Random(300 + k);
    const c = 0.3;
    const x = name === "div" ? awayFromZero(rng, M, N) : rng.normal(M, N);
    if (name === "maximum" || name === "minimum") assert.ok(gap(x, c) > 1e-3);
    assertPasses(`${name}(X, ${c})`, gradcheck((x) => op(x, c), [x], { seed: 1 }), MAX_REL);
    assertPasses(`${name}(${c}, X)`, gradcheck((x) => op(c, x), [x], { seed: 2 }), MAX_REL);
  });
});

Deno.test("gradcheck: a composite loss of several arguments", () => {
  // ||relu(X W + b) - Y||_F^2 / n with a row bias: matmul, broadcasting, relu, mean.
  const rng = new Random(400);
  const X = rng.normal(5, 3);
  const W = rng.normal(3, 2);
  const b = rng.normal(1, 2);
  const Y = rng.normal(5, 2);
  const Z = add(matmul(X, W), b);
  assert.ok(gap(Z, 0) > 1e-3, "pre-activations too close to relu's kink");
  const loss = (X: Matrix, W: Matrix, b: Matrix, Y: Matrix) =>
    mean(square(sub(relu(add(matmul(X, W), b)), Y)));
  const rep = gradcheck(loss, [X, W, b, Y], { seed: 4 });
  assertPasses("loss", rep, MAX_REL);
  for (let i = 0; i < 4; i++) {
    assert.ok(rep.entries.some((e) => e.what.includes(`argument ${i} `)), `argument ${i} checked`);
  }
});

Deno.test("gradcheck: second-order functions through matmul (rev over rev, fwd over rev)", () => {
  // s_k(A, B) = <d f / d arg_k (A, B), V_k> with f = sum(C o tanh(A B)). Its vjp is
  // reverse over reverse and its jvp forward over reverse, which runs matmul's
  // rules with every transpose flag.
  const rng = new Random(450);
  const A = rng.normal(3, 2);
  const B = rng.normal(2, 4);
  const C = rng.normal(3, 4);
  const f = (a: Matrix, b: Matrix) => sum(mul(C, tanh(matmul(a, b))));
  for (const k of [0, 1]) {
    const V = rng.normal(k === 0 ? 3 : 2, k === 0 ? 2 : 4);
    const s = (a: Matrix, b: Matrix) => sum(mul(grad(f, k)(a, b), V));
    assertPasses(`s_${k}`, gradcheck(s, [A, B], { seed: k }), MAX_REL);
  }
});

Deno.test("gradcheck: float32 inputs pass with the float32 tolerances", () => {
  const rng = new Random(500);
  const opt = { dtype: "float32" as const };
  const X = rng.normal(M, N, opt);
  const W = rng.normal(N, 2, opt);
  const f = (X: Matrix, W: Matrix) => sigmoid(matmul(tanh(X), W));
  const rep = gradcheck(f, [X, W], { seed: 5 });
  assertPasses("float32 sigmoid(tanh(X) W)", rep, F32.rtol);
  // The same data with float64 tolerances fails: float32 finite differences are
  // only good to about eps32 / step ~ 1e-5, which is why the default follows the dtype.
  assert.equal(gradcheck(f, [X, W], { seed: 5, rtol: F64.rtol, atol: F64.atol }).ok, false);
});

Deno.test("gradcheck: mixed float64 and float32 arguments use the float32 tolerances", () => {
  // Regression: the tolerance used to come from args[0] only, so a float64 first
  // argument imposed float64 tolerances on a float32 second one, which fails.
  const rng = new Random(501);
  const X = rng.normal(2, 2);
  const Y = rng.normal(2, 2, { dtype: "float32" });
  assertPasses("mul(f64, f32)", gradcheck(mul, [X, Y], { seed: 1 }), F32.rtol);
  assertPasses("mul(f32, f64)", gradcheck(mul, [Y, X], { seed: 1 }), F32.rtol);
  // And a float32 output from float64 inputs.
  const f = (x: Matrix) => tanh(astype(x, "float32"));
  assertPasses("float64 -> float32", gradcheck(f, [X], { seed: 1 }), F32.rtol);
});

// ---------------------------------------------------------------------------
// The report itself

Deno.test("gradcheck report: entries, counts, worst and maxima are consistent", () => {
  const rng = new Random(600);
  const A = rng.normal(2, 3); // 6 entries: random directions and every entry
  const B = rng.normal(9, 9); // 81 entries: above the default elementwiseLimit of 64
  const rep = gradcheck((a, b) => matmul(a, tanh(reshape(b, 3, 27))), [A, B], { directions: 2 });
  assert.equal(rep.entries.length, 2 * (2 + 6) + 2 * 2);
  assert.equal(rep.entries.filter((e) => e.what.startsWith("jvp ")).length, 2 + 6 + 2);
  assert.ok(rep.entries.some((e) => e.what === "vjp at entry (1, 2) of argument 0 (2x3)"));
  assert.ok(rep.entries.some((e) => e.what === "jvp along random direction 2 of argument 1 (9x9)"));
  assert.ok(!rep.entries.some((e) => e.what.includes("entry") && e.what.includes("argument 1")));
  assert.ok(rep.entries.includes(rep.worst));
  assert.equal(rep.maxAbsError, Math.max(...rep.entries.map((e) => e.absError)));
  assert.equal(rep.maxRelError, Math.max(...rep.entries.map((e) => e.relError)));
  assert.equal(rep.ok, rep.entries.every((e) => e.ok));
  for (const e of rep.entries) {
    assert.equal(e.absError, Math.abs(e.autodiff - e.finiteDifference));
    const mag = Math.max(Math.abs(e.autodiff), Math.abs(e.finiteDifference));
    assert.equal(e.ok, e.absError <= F64.atol + F64.rtol * mag);
  }
  // elementwiseLimit: 0 leaves only the random directions.
  const few = gradcheck(tanh, [A], { directions: 4, elementwiseLimit: 0 });
  assert.equal(few.entries.length, 2 * 4);
});

Deno.test("gradcheck report: the seed fixes the directions", () => {
  const X = new Random(601).normal(3, 3);
  const run = (seed: number) =>
    gradcheck((x) => exp(x), [X], { seed, elementwiseLimit: 0 }).entries.map((e) => e.autodiff);
  assert.deepEqual(run(7), run(7));
  assert.notDeepEqual(run(7), run(8));
});

Deno.test("gradcheck report: custom rtol and atol decide ok", () => {
  const X = new Random(602).normal(2, 2);
  const rep = gradcheck(square, [X], { rtol: 0.5, atol: 0 });
  for (const e of rep.entries) {
    assert.equal(
      e.ok,
      e.absError <= 0.5 * Math.max(Math.abs(e.autodiff), Math.abs(e.finiteDifference)),
    );
  }
  assert.ok(rep.ok);
});

Deno.test("gradcheck: inputs too big for Math.max(...spread) still work", () => {
  // Regression: the step scale was Math.max(1, ...data), which overflows the call
  // stack beyond ~1e5 entries; the cost is meant to be independent of the size.
  const X = new Random(603).normal(500, 300);
  const rep = gradcheck((x) => sum(tanh(x)), [X], { directions: 1 });
  assert.equal(rep.entries.length, 2);
  assert.ok(rep.ok, rep.worst.what);
});

// ---------------------------------------------------------------------------
// Failure path: gradcheck must report disagreement

Deno.test("gradcheck fails where finite differences straddle step's jump", () => {
  // step has zero derivative almost everywhere, but a point 1e-9 from 0 is inside
  // the finite-difference stencil (step ~6e-6), which sees a jump of 1.
  const x = Matrix.from([[2, 1e-9, -1], [-3, 4, 5]]);
  const rep = gradcheck((x) => step(x), [x]);
  assert.equal(rep.ok, false);
  assert.equal(rep.worst.ok, false);
  assert.equal(rep.worst.autodiff, 0);
  assert.ok(Math.abs(rep.worst.finiteDifference) > 1e3, String(rep.worst.finiteDifference));
  assert.match(rep.worst.what, /^(jvp|vjp) .* of argument 0 \(2x3\)$/);
  // Exactly the entry at (0, 1) fails, and the random directions, which all touch it.
  const failed = rep.entries.filter((e) => !e.ok).map((e) => e.what);
  assert.deepEqual(failed.filter((w) => w.includes("entry")), [
    "jvp at entry (0, 1) of argument 0 (2x3)",
    "vjp at entry (0, 1) of argument 0 (2x3)",
  ]);
  assert.equal(failed.filter((w) => w.includes("random direction")).length, 2 * 3);
  // Away from the jump (further than the stencil) the same function passes.
  assert.ok(gradcheck((x) => step(x), [Matrix.from([[2, 1e-3, -1], [-3, 4, 5]])]).ok);
});

Deno.test("gradcheck names the argument whose derivative is wrong", () => {
  const rng = new Random(700);
  const X = rng.normal(2, 2);
  const Y = Matrix.from([[1e-9, -1e-9]]);
  const rep = gradcheck((x, y) => add(tanh(x), sum(step(y))), [X, Y]);
  assert.equal(rep.ok, false);
  assert.match(rep.worst.what, /of argument 1 \(1x2\)$/);
  assert.ok(rep.entries.filter((e) => e.what.includes("argument 0")).every((e) => e.ok));
});

Deno.test("gradcheck catches a function that escapes the trace (a wrong gradient)", () => {
  // Reading the data on the host hides x^2 from autodiff: the derivative autodiff
  // sees is that of x alone, as a hand-written rule that forgot a term would be.
  const wrong = (x: Matrix) => add(x, mapEntries(x, (v) => v * v));
  const X = new Random(701).normal(2, 3);
  const rep = gradcheck(wrong, [X]);
  assert.equal(rep.ok, false);
  assert.ok(rep.maxRelError > 0.1, String(rep.maxRelError));
  assert.match(rep.worst.what, /of argument 0 \(2x3\)$/);
  // The traced version passes.
  assert.ok(gradcheck((x) => add(x, square(x)), [X]).ok);
});

// ---------------------------------------------------------------------------
// Bad arguments

Deno.test("gradcheck rejects bad arguments with TypeError and RangeError", () => {
  const X = Matrix.ones(2, 2);
  const f = (x: Matrix) => sum(x);
  const bad = (call: () => unknown, type: ErrorConstructor, re: RegExp) =>
    assert.throws(call, (e: unknown) => {
      assert.ok(e instanceof type, `expected ${type.name}, got ${e}`);
      assert.match((e as Error).message, re);
      assert.match((e as Error).message, /^Cannot run gradcheck: /);
      return true;
    });
  // @ts-expect-error: f must be a function
  bad(() => gradcheck("sum", [X]), TypeError, /f must be a function/);
  // @ts-expect-error: args must be an array
  bad(() => gradcheck(f, X), TypeError, /non-empty array/);
  bad(() => gradcheck(f, []), TypeError, /non-empty array/);
  // @ts-expect-error: every argument must be a Matrix
  bad(() => gradcheck(f, [X, [[1]]]), TypeError, /argument 1 must be a Matrix, got an array/);
  // @ts-expect-error: f must return a Matrix
  bad(() => gradcheck(() => 1, [X]), TypeError, /f must return a Matrix/);
  bad(() => gradcheck(f, [X], { directions: -1 }), RangeError, /directions .* got -1/);
  bad(() => gradcheck(f, [X], { directions: 1.5 }), RangeError, /directions/);
  bad(() => gradcheck(f, [X], { elementwiseLimit: -2 }), RangeError, /elementwiseLimit/);
  bad(() => gradcheck(f, [X], { step: 0 }), RangeError, /step must be finite and > 0/);
  bad(() => gradcheck(f, [X], { rtol: -1 }), RangeError, /rtol/);
  bad(() => gradcheck(f, [X], { atol: NaN }), RangeError, /atol .* got NaN/);
  // @ts-expect-error: rtol must be a number
  bad(() => gradcheck(f, [X], { rtol: "1e-6" }), TypeError, /rtol must be a number/);
  bad(
    () => gradcheck(f, [X], { directions: 0, elementwiseLimit: 0 }),
    RangeError,
    /nothing to compare/,
  );
});
