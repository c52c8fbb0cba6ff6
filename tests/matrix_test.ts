/**
 * The Matrix value: constructors, accessors, copies and immutability, dtype
 * conversion, kernels, text, empty shapes, and every input error (class and message).
 */
import assert from "node:assert/strict";
import { add, currentKernel, type DType, epsOf, type Kernel, matmul, Matrix } from "../mod.ts";

const DTYPES: readonly DType[] = ["float64", "float32"];

/** Tolerance for values that went through one rounding to `dtype`. */
function tol(dtype: DType): { rtol: number; atol: number } {
  // One rounding is at most eps/2 relative; allow eps.
  return { rtol: epsOf(dtype), atol: 0 };
}

/** What storing `x` as `dtype` gives: x itself for float64, the nearest float32 for float32. */
function round(x: number, dtype: DType): number {
  return dtype === "float64" ? x : Math.fround(x);
}

function assertClose(actual: number, expected: number, dtype: DType, what: string): void {
  const { rtol, atol } = tol(dtype);
  if (Number.isNaN(expected)) return assert.ok(Number.isNaN(actual), `${what}: got ${actual}`);
  if (!Number.isFinite(expected)) return assert.equal(actual, expected, what);
  assert.ok(
    Math.abs(actual - expected) <= atol + rtol * Math.abs(expected),
    `${what}: got ${actual}, expected ${expected} (${dtype})`,
  );
}

/** The ts kernel under another name, holding float32 only (like a WebGPU kernel). */
function float32OnlyKernel(): Kernel {
  const ts = currentKernel();
  return {
    name: "fake32",
    dtypes: ["float32"],
    upload: (data, dtype) => ts.upload(data, dtype),
    fill: (length, value, dtype) => ts.fill(length, value, dtype),
    readSync: (s) => ts.readSync(s),
    read: (s) => ts.read(s),
    matmul: (a, b, sizes) => ts.matmul(a, b, sizes),
    unary: (op, a) => ts.unary(op, a),
    binary: (op, a, b, shapes) => ts.binary(op, a, b, shapes),
    reduce: (op, a, rows, cols, axis) => ts.reduce(op, a, rows, cols, axis),
    transpose: (a, rows, cols) => ts.transpose(a, rows, cols),
    gather: (a, index) => ts.gather(a, index),
    cast: (a, dtype) => ts.cast(a, dtype),
  };
}

const VALUES = [[1.5, -2, 0.1], [1 / 3, 1e-8, 123456.789]];

// ---------------------------------------------------------------- constructors

Deno.test("Matrix.from builds row-major matrices in both dtypes", () => {
  for (const dtype of DTYPES) {
    const A = Matrix.from(VALUES, { dtype });
    assert.equal(A.rows, 2);
    assert.equal(A.cols, 3);
    assert.deepEqual(A.shape, [2, 3]);
    assert.equal(A.size, 6);
    assert.equal(A.dtype, dtype);
    assert.equal(A.kernel.name, "ts");
    assert.ok(A.toTypedArray() instanceof (dtype === "float64" ? Float64Array : Float32Array));
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        assert.equal(A.get(i, j), round(VALUES[i][j], dtype), `${dtype} (${i}, ${j})`);
        assertClose(A.get(i, j), VALUES[i][j], dtype, `${dtype} (${i}, ${j}) vs input`);
      }
    }
  }
  assert.equal(Matrix.from(VALUES).dtype, "float64", "float64 is the default dtype");
});

Deno.test("Matrix.from keeps special values and signed zero", () => {
  for (const dtype of DTYPES) {
    const A = Matrix.from([[NaN, Infinity, -Infinity, -0]], { dtype });
    const [nan, inf, ninf, nzero] = A.toArray()[0];
    assert.ok(Number.isNaN(nan));
    assert.equal(inf, Infinity);
    assert.equal(ninf, -Infinity);
    assert.ok(Object.is(nzero, -0), `${dtype}: -0 kept`);
  }
});

Deno.test("Matrix.fromArray accepts plain and typed arrays", () => {
  const flat = [1, 2, 3, 4, 5, 6.25];
  const sources: ArrayLike<number>[] = [
    flat,
    Float64Array.from(flat),
    Float32Array.from(flat),
    Int32Array.from([1, 2, 3, 4, 5, 6]),
  ];
  for (const dtype of DTYPES) {
    for (const src of sources) {
      const A = Matrix.fromArray(src, 3, 2, { dtype });
      assert.deepEqual(A.shape, [3, 2]);
      assert.equal(A.dtype, dtype);
      assert.deepEqual(Array.from(A.toTypedArray()), Array.from(src), src.constructor.name);
      assert.equal(A.get(1, 0), 3, "row-major: (1, 0) is the third element");
    }
  }
  const B = Matrix.fromArray([0.1, 0.2], 1, 2, { dtype: "float32" });
  assert.deepEqual(Array.from(B.toTypedArray()), [Math.fround(0.1), Math.fround(0.2)]);
});

Deno.test("zeros, ones and full fill every entry, in both dtypes", () => {
  for (const dtype of DTYPES) {
    const cases: [Matrix, number][] = [
      [Matrix.zeros(3, 4, { dtype }), 0],
      [Matrix.ones(4, 3, { dtype }), 1],
      [Matrix.full(2, 5, 0.1, { dtype }), round(0.1, dtype)],
      [Matrix.full(1, 3, -7, { dtype }), -7],
      [Matrix.full(2, 2, Infinity, { dtype }), Infinity],
    ];
    for (const [A, v] of cases) {
      assert.equal(A.dtype, dtype);
      assert.ok(A.toTypedArray().every((x) => x === v), `${A.shape} filled with ${v}`);
    }
    assert.deepEqual(Matrix.zeros(3, 4, { dtype }).shape, [3, 4]);
    assert.deepEqual(Matrix.ones(4, 3, { dtype }).shape, [4, 3]);
    assert.deepEqual(Matrix.full(2, 5, 1, { dtype }).shape, [2, 5]);
    assert.ok(Matrix.full(2, 2, NaN, { dtype }).toTypedArray().every(Number.isNaN));
  }
});

Deno.test("eye: square and rectangular identities", () => {
  for (const dtype of DTYPES) {
    assert.deepEqual(Matrix.eye(3, 3, { dtype }).toArray(), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    assert.equal(Matrix.eye(3, undefined, { dtype }).dtype, dtype);
    assert.deepEqual(Matrix.eye(2, 4, { dtype }).toArray(), [[1, 0, 0, 0], [0, 1, 0, 0]]);
    assert.deepEqual(Matrix.eye(4, 2, { dtype }).toArray(), [[1, 0], [0, 1], [0, 0], [0, 0]]);
    assert.deepEqual(Matrix.eye(1, 1, { dtype }).toArray(), [[1]]);
  }
  assert.deepEqual(Matrix.eye(2).toArray(), [[1, 0], [0, 1]]);
  assert.deepEqual(Matrix.eye(0).shape, [0, 0]);
  assert.deepEqual(Matrix.eye(3, 0).shape, [3, 0]);
  // Large: exactly n ones, all on the diagonal.
  const I = Matrix.eye(50, 70).toTypedArray();
  let ones = 0;
  for (let k = 0; k < I.length; k++) {
    if (I[k] !== 0) {
      assert.equal(I[k], 1);
      assert.equal(Math.floor(k / 70), k % 70, `entry ${k} is on the diagonal`);
      ones++;
    }
  }
  assert.equal(ones, 50);
});

// ---------------------------------------------------------------- accessors and copies

Deno.test("get supports negative indices counting from the end", () => {
  const A = Matrix.fromArray([1, 2, 3, 4, 5, 6], 2, 3);
  assert.equal(A.get(-1, -1), 6);
  assert.equal(A.get(-2, -3), 1);
  assert.equal(A.get(0, -1), 3);
  assert.equal(A.get(-1, 0), 4);
  assert.equal(A.get(1, 2), A.get(-1, -1));
});

Deno.test("toArray, toTypedArray, read and readTypedArray agree", async () => {
  for (const dtype of DTYPES) {
    const A = Matrix.from(VALUES, { dtype });
    const expected = VALUES.map((row) => row.map((x) => round(x, dtype)));
    assert.deepEqual(A.toArray(), expected);
    assert.deepEqual(await A.read(), expected);
    const t = A.toTypedArray();
    const r = await A.readTypedArray();
    assert.equal(t.constructor, r.constructor);
    assert.deepEqual(Array.from(t), expected.flat());
    assert.deepEqual(Array.from(r), expected.flat());
  }
});

Deno.test("matrices are immutable: outputs and inputs are copies", () => {
  for (const dtype of DTYPES) {
    const rows = [[1, 2], [3, 4]];
    const A = Matrix.from(rows, { dtype });
    rows[0][0] = 100;
    rows.push([5, 6]);
    assert.deepEqual(A.toArray(), [[1, 2], [3, 4]], "mutating the rows passed to from");

    const flat = [1, 2, 3, 4];
    const typed = Float64Array.from(flat);
    const B = Matrix.fromArray(flat, 2, 2, { dtype });
    const C = Matrix.fromArray(typed, 2, 2, { dtype });
    flat[0] = 100;
    typed[0] = 100;
    assert.deepEqual(B.toArray(), [[1, 2], [3, 4]], "mutating the array passed to fromArray");
    assert.deepEqual(C.toArray(), [[1, 2], [3, 4]], "mutating the typed array");

    const nested = A.toArray();
    nested[0][0] = -1;
    nested[1] = [9, 9];
    const t = A.toTypedArray();
    t.fill(-5);
    assert.deepEqual(A.toArray(), [[1, 2], [3, 4]], "mutating what toArray/toTypedArray gave");
    assert.equal(A.get(0, 0), 1);

    // A matrix's derived values (astype, to, ops) do not alias its data either.
    const D = A.astype(dtype === "float64" ? "float32" : "float64");
    D.toTypedArray().fill(0);
    assert.deepEqual(A.toArray(), [[1, 2], [3, 4]]);
    assert.deepEqual(D.toArray(), [[1, 2], [3, 4]]);
  }
});

Deno.test("shape is a fresh array each time", () => {
  const A = Matrix.zeros(2, 3);
  const s = A.shape;
  s[0] = 99;
  assert.deepEqual(A.shape, [2, 3]);
});

// ---------------------------------------------------------------- dtype and kernel

Deno.test("astype float64 -> float32 rounds to nearest, float32 -> float64 is exact", () => {
  const xs = [0.1, 1 / 3, -2.5, 1e-50, 1e40, -1e40, 16777217, NaN, -0, 3.4028235677973366e38];
  const A = Matrix.fromArray(xs, 1, xs.length);
  const B = A.astype("float32");
  assert.equal(B.dtype, "float32");
  assert.deepEqual(B.shape, A.shape);
  const b = B.toTypedArray();
  assert.ok(b instanceof Float32Array);
  xs.forEach((x, i) => assert.ok(Object.is(b[i], Math.fround(x)), `fround(${x}) = ${b[i]}`));
  assert.equal(b[4], Infinity, "1e40 overflows float32");
  assert.equal(b[5], -Infinity);
  assert.equal(b[3], 0, "1e-50 underflows float32");
  assert.equal(b[6], 16777216, "2^24 + 1 rounds to even");

  const C = B.astype("float64");
  assert.equal(C.dtype, "float64");
  const c = C.toTypedArray();
  assert.ok(c instanceof Float64Array);
  b.forEach((x, i) => assert.ok(Object.is(c[i], x), `float32 ${x} widened exactly`));
});

Deno.test("astype to the same dtype returns the same values (the same matrix)", () => {
  for (const dtype of DTYPES) {
    const A = Matrix.from(VALUES, { dtype });
    const B = A.astype(dtype);
    assert.equal(B.dtype, dtype);
    assert.deepEqual(B.toArray(), A.toArray());
    assert.equal(B, A, "documented: the same matrix when it already has the dtype");
  }
});

Deno.test("to('ts') keeps the matrix on the ts kernel", () => {
  for (const dtype of DTYPES) {
    const A = Matrix.from(VALUES, { dtype });
    const B = A.to("ts");
    assert.equal(B.kernel.name, "ts");
    assert.equal(B.dtype, dtype);
    assert.deepEqual(B.toArray(), A.toArray());
    assert.equal(A.to(currentKernel()).kernel, A.kernel);
  }
  assert.equal(Matrix.zeros(1, 1, { kernel: "ts" }).kernel, currentKernel());
});

Deno.test("a float32-only kernel holds float32 matrices and moves them back to ts", () => {
  const fake = float32OnlyKernel();
  const A = Matrix.from([[1, 2], [3, 4.5]], { kernel: fake, dtype: "float32" });
  assert.equal(A.kernel, fake);
  assert.equal(A.dtype, "float32");
  assert.deepEqual(A.toArray(), [[1, 2], [3, 4.5]]);
  const sum = add(A, A);
  assert.equal(sum.kernel, fake);
  assert.deepEqual(sum.toArray(), [[2, 4], [6, 9]]);
  const back = A.to("ts");
  assert.equal(back.kernel.name, "ts");
  assert.deepEqual(back.toArray(), A.toArray());
  const there = Matrix.eye(2, 2, { dtype: "float32" }).to(fake);
  assert.equal(there.kernel, fake);
  assert.deepEqual(there.toArray(), [[1, 0], [0, 1]]);
});

// ---------------------------------------------------------------- text

Deno.test("toString is NumPy-like with shape and dtype; Deno.inspect uses it", () => {
  const A = Matrix.from([[1, 0], [0, 1]]);
  assert.equal(A.toString(), "Matrix 2x2 float64\n[[1, 0],\n [0, 1]]");
  assert.equal(String(A), A.toString());
  assert.equal(`${A}`, A.toString());
  assert.equal(Deno.inspect(A), A.toString());
  assert.equal(
    Matrix.from([[1.5, -2], [0.25, 10]], { dtype: "float32" }).toString(),
    "Matrix 2x2 float32\n[[ 1.5, -2],\n [0.25, 10]]",
  );
  assert.equal(
    Matrix.from([[-0, NaN, Infinity]]).toString(),
    "Matrix 1x3 float64\n[[-0, NaN, Infinity]]",
  );
});

Deno.test("toString truncates big matrices with '...'", () => {
  const A = Matrix.fromArray(Array.from({ length: 600 }, (_, i) => i), 20, 30);
  const text = A.toString();
  assert.equal(
    text,
    [
      "Matrix 20x30 float64",
      "[[  0,   1,   2, ...,  27,  28,  29],",
      " [ 30,  31,  32, ...,  57,  58,  59],",
      " [ 60,  61,  62, ...,  87,  88,  89],",
      " [..., ..., ..., ..., ..., ..., ...],",
      " [510, 511, 512, ..., 537, 538, 539],",
      " [540, 541, 542, ..., 567, 568, 569],",
      " [570, 571, 572, ..., 597, 598, 599]]",
    ].join("\n"),
  );
  // Huge matrices stay short.
  const B = Matrix.zeros(1000, 1000);
  assert.ok(B.toString().length < 400, `${B.toString().length} characters`);
  assert.ok(B.toString().includes("..."));
  // At the limit (10) nothing is elided.
  assert.ok(!Matrix.zeros(10, 10).toString().includes("..."));
  assert.ok(Matrix.zeros(11, 1).toString().includes("..."));
});

// ---------------------------------------------------------------- empty shapes

Deno.test("0x0, 0xN and Nx0 matrices", () => {
  const cases: [Matrix, [number, number]][] = [
    [Matrix.from([]), [0, 0]],
    [Matrix.from([[], [], []]), [3, 0]],
    [Matrix.zeros(0, 0), [0, 0]],
    [Matrix.zeros(0, 3), [0, 3]],
    [Matrix.ones(4, 0), [4, 0]],
    [Matrix.full(0, 2, 5, { dtype: "float32" }), [0, 2]],
    [Matrix.fromArray([], 0, 7), [0, 7]],
    [Matrix.fromArray(new Float32Array(0), 5, 0), [5, 0]],
    [Matrix.eye(0, 4), [0, 4]],
  ];
  for (const [A, shape] of cases) {
    assert.deepEqual(A.shape, shape);
    assert.equal(A.size, 0);
    assert.equal(A.toTypedArray().length, 0);
    assert.deepEqual(A.toArray(), Array.from({ length: shape[0] }, () => []));
    assert.equal(A.toString(), `Matrix ${shape[0]}x${shape[1]} ${A.dtype}\n[]`);
  }
  assert.equal(Matrix.zeros(0, 3).toString(), "Matrix 0x3 float64\n[]");
  assert.deepEqual(Matrix.zeros(0, 3).astype("float32").shape, [0, 3]);
  assert.throws(() => Matrix.zeros(0, 3).get(0, 0), { name: "RangeError", message: /row index 0/ });
  assert.throws(() => Matrix.zeros(3, 0).get(0, 0), {
    name: "RangeError",
    message: /column index 0/,
  });
});

// ---------------------------------------------------------------- errors

Deno.test("Matrix.from rejects ragged rows, non-arrays and non-number entries", () => {
  assert.throws(() => Matrix.from([[1, 2], [3]]), {
    name: "TypeError",
    message:
      /^Cannot build a matrix in Matrix\.from: ragged rows, row 0 has 2 entries and row 1 has 1$/,
  });
  assert.throws(() => Matrix.from([[1], [2], [3, 4]]), {
    name: "TypeError",
    message: /ragged rows, row 0 has 1 entries and row 2 has 2/,
  });
  assert.throws(() => Matrix.from([[1, 2], 3] as unknown as number[][]), {
    name: "TypeError",
    message: /row 1 is not an array/,
  });
  assert.throws(() => Matrix.from([1, 2] as unknown as number[][]), {
    name: "TypeError",
    message: /row 0 is not an array/,
  });
  assert.throws(() => Matrix.from("abc" as unknown as number[][]), {
    name: "TypeError",
    message: /expected an array of rows/,
  });
  assert.throws(() => Matrix.from(null as unknown as number[][]), {
    name: "TypeError",
    message: /expected an array of rows/,
  });
  const bad: [unknown, string][] = [["2", "string"], [null, "object"], [undefined, "undefined"], [
    1n,
    "bigint",
  ], [true, "boolean"]];
  for (const [x, kind] of bad) {
    assert.throws(() => Matrix.from([[1, 2], [3, x]] as number[][]), {
      name: "TypeError",
      message: new RegExp(`entry \\(1, 1\\) is ${kind}, not a number`),
    });
  }
});

Deno.test("sizes must be non-negative integers (RangeError)", () => {
  const badSizes = [-1, NaN, 1.5, Infinity, -Infinity, 2 ** 53];
  for (const n of badSizes) {
    const text = String(n).replace("+", "\\+");
    const rowsMsg = new RegExp(`rows must be a non-negative integer, got ${text}$`);
    const colsMsg = new RegExp(`cols must be a non-negative integer, got ${text}$`);
    assert.throws(() => Matrix.zeros(n, 2), { name: "RangeError", message: rowsMsg });
    assert.throws(() => Matrix.ones(2, n), { name: "RangeError", message: colsMsg });
    assert.throws(() => Matrix.full(n, 1, 0), { name: "RangeError", message: rowsMsg });
    assert.throws(() => Matrix.eye(n), { name: "RangeError", message: rowsMsg });
    assert.throws(() => Matrix.eye(2, n), { name: "RangeError", message: colsMsg });
    assert.throws(() => Matrix.fromArray([], n, 0), { name: "RangeError", message: rowsMsg });
    assert.throws(() => Matrix.fromArray([], 0, n), { name: "RangeError", message: colsMsg });
  }
  assert.throws(() => Matrix.zeros("2" as unknown as number, 2), {
    name: "RangeError",
    message: /^Cannot build a matrix in full: rows must be a non-negative integer, got 2$/,
  });
});

Deno.test("fromArray: data length must match rows x cols (TypeError)", () => {
  assert.throws(() => Matrix.fromArray([1, 2, 3, 4, 5], 2, 3), {
    name: "TypeError",
    message: /^Cannot build a matrix in Matrix\.fromArray: data has 5 elements, expected 2x3 = 6$/,
  });
  assert.throws(() => Matrix.fromArray(new Float32Array(7), 2, 3), {
    name: "TypeError",
    message: /data has 7 elements, expected 2x3 = 6/,
  });
  assert.throws(() => Matrix.fromArray([1], 0, 0), {
    name: "TypeError",
    message: /data has 1 elements, expected 0x0 = 0/,
  });
  for (const data of [null, undefined, 5, "123456"]) {
    assert.throws(() => Matrix.fromArray(data as unknown as number[], 2, 3), {
      name: "TypeError",
      message: /data must be an array or typed array/,
    });
  }
  assert.throws(() => Matrix.full(1, 1, "3" as unknown as number), {
    name: "TypeError",
    message: /value must be a number, got string/,
  });
});

Deno.test("unknown dtype is a TypeError", () => {
  const msg = /unknown dtype "int32", expected "float64" or "float32"/;
  const opts = { dtype: "int32" as DType };
  assert.throws(() => Matrix.zeros(2, 2, opts), { name: "TypeError", message: msg });
  assert.throws(() => Matrix.from([[1]], opts), { name: "TypeError", message: msg });
  assert.throws(() => Matrix.fromArray([1], 1, 1, opts), { name: "TypeError", message: msg });
  assert.throws(() => Matrix.eye(2, 2, opts), { name: "TypeError", message: msg });
  assert.throws(() => Matrix.zeros(1, 1).astype("float16" as DType), {
    name: "TypeError",
    message: /^Cannot convert a matrix in astype: unknown dtype "float16"/,
  });
  assert.throws(() => Matrix.zeros(1, 1, null as unknown as object), {
    name: "TypeError",
    message: /options must be an object/,
  });
});

Deno.test("unknown or unloaded kernel names", () => {
  assert.throws(() => Matrix.zeros(2, 2, { kernel: "cuda" }), {
    name: "TypeError",
    message: /^Cannot build a matrix in full: unknown kernel "cuda", expected one of ts/,
  });
  assert.throws(() => Matrix.eye(2).to("nope"), {
    name: "TypeError",
    message: /^Cannot move a matrix in to: unknown kernel "nope"/,
  });
  // A known kernel that was never loaded: a plain Error that says how to load it.
  assert.throws(() => Matrix.zeros(1, 1, { kernel: "webgpu" }), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /kernel "webgpu" is not loaded yet; call await loadKernel\("webgpu"\)/);
    return true;
  });
});

Deno.test("new Matrix(...) is refused", () => {
  const k = currentKernel();
  assert.throws(() => new Matrix(Symbol("matcalc.internal"), k, k.fill(1, 0, "float64"), 1, 1), {
    name: "TypeError",
    message: /^Cannot construct a Matrix directly: use Matrix\.from, Matrix\.fromArray/,
  });
});

Deno.test("get out of range is a RangeError naming the shape and index", () => {
  const A = Matrix.zeros(2, 3);
  const cases: [number, number, RegExp][] = [
    [2, 0, /^Cannot get entry of a 2x3 matrix: row index 2 is out of range$/],
    [-3, 0, /row index -3 is out of range/],
    [0, 3, /^Cannot get entry of a 2x3 matrix: column index 3 is out of range$/],
    [0, -4, /column index -4 is out of range/],
    [0.5, 0, /row index 0\.5 is out of range/],
    [0, NaN, /column index NaN is out of range/],
    [Infinity, 0, /row index Infinity is out of range/],
  ];
  for (const [i, j, message] of cases) {
    assert.throws(() => A.get(i, j), { name: "RangeError", message }, `get(${i}, ${j})`);
  }
});

Deno.test("float64 on a float32-only kernel is a TypeError suggesting astype", () => {
  const fake = float32OnlyKernel();
  const hint = /the fake32 kernel holds float32 only, got float64; use astype\("float32"\)/;
  assert.throws(() => Matrix.zeros(2, 2, { kernel: fake, dtype: "float64" }), {
    name: "TypeError",
    message: hint,
  });
  assert.throws(() => Matrix.from([[1]], { kernel: fake }), { name: "TypeError", message: hint });
  assert.throws(() => Matrix.eye(3, 3, { kernel: fake }), { name: "TypeError", message: hint });
  assert.throws(() => Matrix.eye(2).to(fake), {
    name: "TypeError",
    message: /^Cannot move a 2x2 matrix to the fake32 kernel: .*use astype\("float32"\)/,
  });
  const A = Matrix.zeros(2, 2, { kernel: fake, dtype: "float32" });
  assert.throws(() => A.astype("float64"), {
    name: "TypeError",
    message: /convert a 2x2 matrix to float64: the fake32 kernel holds float32 only/,
  });
});

Deno.test("ops on matrices of two kernels are a TypeError suggesting .to(kernel)", () => {
  const fake = float32OnlyKernel();
  const A = Matrix.ones(2, 3, { kernel: fake, dtype: "float32" });
  const B = Matrix.ones(2, 3, { dtype: "float32" });
  const C = Matrix.ones(3, 2, { dtype: "float32" });
  assert.throws(() => add(A, B), {
    name: "TypeError",
    message:
      /^Cannot add: the 2x3 operand is on the fake32 kernel and the 2x3 operand on the ts kernel; move one with \.to\(kernel\)$/,
  });
  assert.throws(() => add(B, A), {
    name: "TypeError",
    message:
      /on the ts kernel and the 2x3 operand on the fake32 kernel; move one with \.to\(kernel\)/,
  });
  assert.throws(() => matmul(A, C), {
    name: "TypeError",
    message: /^Cannot multiply matrices in matmul: .*move one with \.to\(kernel\)$/,
  });
  // After moving, the same op works.
  assert.deepEqual(add(A.to("ts"), B).toArray(), [[2, 2, 2], [2, 2, 2]]);
});

Deno.test("collect reports every matrix made while it runs, nested calls to the outer too", async () => {
  const { collect } = await import("../lib/matrix.ts");
  const { add, scale } = await import("../mod.ts");
  const a = Matrix.from([[1, 2]]);
  const innerMade: Matrix[] = [];
  const { result, made } = collect(() => {
    const inner = collect(() => scale(a, 2)); // makes the scalar 2 and the product
    assert.ok(inner.made.includes(inner.result));
    innerMade.push(...inner.made);
    return add(inner.result, a);
  });
  assert.ok(made.includes(result));
  assert.ok(innerMade.length >= 1 && innerMade.every((m) => made.includes(m)));
  assert.ok(!made.includes(a));
  assert.deepEqual(result.toArray(), [[3, 6]]);
  // Outside any call nothing is recorded (and a throw ends the call).
  assert.throws(() => collect(() => add(a, Matrix.zeros(3, 3))), TypeError);
  assert.equal(collect(() => 1).made.length, 0);
});

Deno.test("tidy disposes the intermediates and keeps what the result holds", async () => {
  const { add, scale, tidy } = await import("../mod.ts");
  const { createWasmKernel } = await import("../kernels/wasm/mod.ts");
  const wasm = await createWasmKernel({ threads: 1 });
  try {
    const v = Matrix.from([[1, 2]], { kernel: wasm }), g = Matrix.from([[3, 4]], { kernel: wasm });
    const before = wasm.liveBlocks();
    const out = tidy(() => {
      const next = add(scale(v, 0.9), g);
      return { next, pair: [scale(g, 2)], label: "x" };
    });
    assert.deepEqual(out.next.toArray(), [[3.9, 5.8]]);
    assert.deepEqual(out.pair[0].toArray(), [[6, 8]]);
    // Only the two results hold blocks: the scalars and scale(v, 0.9) were disposed.
    assert.equal(wasm.liveBlocks() - before, 2);
    // Inputs made outside stay usable.
    assert.deepEqual(v.toArray(), [[1, 2]]);
    assert.throws(() => tidy(() => Promise.resolve(1)), /async/);
    for (const bad of [null, 3, "f", {}]) {
      assert.throws(() => tidy(bad as unknown as () => void), /Cannot tidy: fn must be a function/);
    }
    // A view made inside of a matrix made outside is not disposed with the rest.
    const { reshape } = await import("../mod.ts");
    tidy(() => void reshape(v, 2, 1));
    assert.deepEqual(v.toArray(), [[1, 2]]);
    // When fn throws, what it made is disposed and the error passes on.
    const made = wasm.liveBlocks();
    assert.throws(() =>
      tidy(() => {
        scale(g, 3);
        throw new RangeError("inside");
      }), /inside/);
    assert.equal(wasm.liveBlocks(), made);
  } finally {
    wasm.destroy();
  }
});

Deno.test("a chain of 50,000 pending element-wise results computes (no deep recursion), ts and wasm", async () => {
  const { mul } = await import("../mod.ts");
  const { createWasmKernel } = await import("../kernels/wasm/mod.ts");
  const wasm = await createWasmKernel({ threads: 1 });
  try {
    for (const kernel of [currentKernel(), wasm] as Kernel[]) {
      const b = Matrix.from([[4, -2]], { kernel });
      let c = Matrix.from([[0, 0]], { kernel });
      // c <- (c + b) / 2 converges to b; nothing is read until the end.
      for (let i = 0; i < 50_000; i++) c = mul(add(c, b), 0.5);
      assert.deepEqual(c.toArray(), [[4, -2]], kernel.name);
    }
  } finally {
    wasm.destroy();
  }
});
