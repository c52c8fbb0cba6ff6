// Tests of the pure-TypeScript matmul (kernels/ts/matmul.ts) against a naive float64
// triple loop, for both dtypes and all four transpose combinations.
import assert from "node:assert/strict";
import fc from "fast-check";
import { matmulF32, matmulF64 } from "../kernels/ts/matmul.ts";

type DType = "float32" | "float64";
type Arr = Float32Array | Float64Array;

/** Deterministic uniform values in [-1, 1), or integers in [-8, 8] when `ints`. */
function randomArray(dtype: DType, length: number, seed: number, ints = false): Arr {
  const out = dtype === "float64" ? new Float64Array(length) : new Float32Array(length);
  let s = (seed >>> 0) || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const u = (s >>> 0) / 2 ** 32;
    out[i] = ints ? Math.floor(u * 17) - 8 : 2 * u - 1;
  }
  return out;
}

/** Naive float64 op(A) op(B), and sum_p |op(A)(i, p)| |op(B)(p, j)| for tolerances. */
function reference(
  a: Arr,
  b: Arr,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
): { c: Float64Array; abs: Float64Array } {
  const c = new Float64Array(m * n), abs = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, t = 0;
      for (let p = 0; p < k; p++) {
        const x = transA ? a[p * m + i] : a[i * k + p];
        const y = transB ? b[j * k + p] : b[p * n + j];
        s += x * y;
        t += Math.abs(x * y);
      }
      c[i * n + j] = s;
      abs[i * n + j] = t;
    }
  }
  return { c, abs };
}

/**
 * Allowed |error| of one entry, relative to sum |a||b| over the k products.
 * float64: the summation error bound is k u |a||b| with u = 1.1e-16; 1e-12 k leaves
 * room for any summation order. float32: inputs are exact, sums run in float64 and are
 * rounded to float32 (u = 6e-8) once per block of k, so 1e-5 is far from tight.
 */
function tolerance(dtype: DType, k: number, absSum: number): number {
  return dtype === "float64" ? 1e-12 * Math.max(k, 1) * absSum : 1e-5 * absSum;
}

/** Multiplies with the kernel for `dtype` into a NaN-filled output. */
function multiply(
  dtype: DType,
  a: Arr,
  b: Arr,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
): Arr {
  if (dtype === "float64") {
    const c = new Float64Array(m * n).fill(NaN);
    matmulF64(a as Float64Array, b as Float64Array, c, m, n, k, transA, transB);
    return c;
  }
  const c = new Float32Array(m * n).fill(NaN);
  matmulF32(a as Float32Array, b as Float32Array, c, m, n, k, transA, transB);
  return c;
}

/** Checks one product against the reference; `exact` for integer-valued data. */
function check(
  dtype: DType,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  seed: number,
  exact = false,
): void {
  const a = randomArray(dtype, m * k, seed, exact);
  const b = randomArray(dtype, k * n, seed + 7919, exact);
  const a0 = a.slice(), b0 = b.slice();
  const c = multiply(dtype, a, b, m, n, k, transA, transB);
  const ref = reference(a, b, m, n, k, transA, transB);
  const what = `${dtype} ${m}x${n}x${k} transA=${transA} transB=${transB} seed=${seed}`;
  assert.deepEqual(a, a0, `A changed: ${what}`);
  assert.deepEqual(b, b0, `B changed: ${what}`);
  for (let i = 0; i < m * n; i++) {
    const err = Math.abs(c[i] - ref.c[i]);
    const tol = exact ? 0 : tolerance(dtype, k, ref.abs[i]);
    if (!(err <= tol)) {
      assert.fail(`${what}: entry ${i} is ${c[i]}, expected ${ref.c[i]} (tolerance ${tol})`);
    }
  }
}

const DTYPES: DType[] = ["float64", "float32"];
/** A size in 1..70 that is 1 a quarter of the time: vectors, k = 1 and 1 x 1 come up often. */
const size = fc.oneof(
  { arbitrary: fc.constant(1), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 70 }), weight: 3 },
);
const FLAGS: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

Deno.test("matmul matches the naive product on random shapes 1..70", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...DTYPES),
      size,
      size,
      size,
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      (dtype, m, n, k, transA, transB, seed) => check(dtype, m, n, k, transA, transB, seed),
    ),
    { numRuns: 300 },
  );
});

Deno.test("matmul is exact on small-integer data (indexing, padding, scratch reuse)", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...DTYPES),
      size,
      size,
      size,
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      (dtype, m, n, k, transA, transB, seed) => check(dtype, m, n, k, transA, transB, seed, true),
    ),
    { numRuns: 200 },
  );
});

Deno.test("matmul handles vectors and k = 1: 1 x N, N x 1, outer and inner products", () => {
  const shapes = [
    [1, 1, 1],
    [1, 37, 5],
    [37, 1, 5],
    [1, 70, 70],
    [70, 1, 70],
    [1, 1, 5000],
    [5, 7, 1],
    [70, 70, 1],
    [1, 300, 300],
    [300, 1, 300],
    [2, 2, 2000],
  ];
  for (const dtype of DTYPES) {
    for (const [transA, transB] of FLAGS) {
      for (const [m, n, k] of shapes) check(dtype, m, n, k, transA, transB, m * 1000 + n + k);
    }
  }
});

Deno.test("matmul handles sizes past every block edge", () => {
  // Past the block sizes (MC = 120 rows, KC = 256 deep, NC = 1020 columns), into uneven
  // splits (k = 257 is 129 + 128), and none a multiple of the 3 x 3 tile.
  const shapes = [[129, 257, 65], [130, 65, 257], [7, 2050, 300], [241, 5, 513], [64, 64, 64]];
  for (const dtype of DTYPES) {
    for (const [transA, transB] of FLAGS) {
      for (const [m, n, k] of shapes) check(dtype, m, n, k, transA, transB, m + n + k);
    }
  }
  check("float64", 100, 2050, 300, true, false, 5, true);
});

Deno.test("matmul with k = 0 writes zeros; m = 0 or n = 0 writes nothing", () => {
  for (const dtype of DTYPES) {
    for (const [transA, transB] of FLAGS) {
      for (const [m, n] of [[1, 1], [3, 5], [40, 50]]) {
        const a = randomArray(dtype, 0, 1), b = randomArray(dtype, 0, 2);
        const c = multiply(dtype, a, b, m, n, 0, transA, transB);
        assert.deepEqual([...c], new Array(m * n).fill(0), `${dtype} ${m}x${n}x0`);
      }
      const empty = multiply(
        dtype,
        randomArray(dtype, 0, 1),
        randomArray(dtype, 12, 2),
        0,
        3,
        4,
        transA,
        transB,
      );
      assert.equal(empty.length, 0);
    }
  }
});

Deno.test("matmul writes only the first m n entries of a longer output", () => {
  const a = randomArray("float64", 40 * 30, 3) as Float64Array;
  const b = randomArray("float64", 30 * 20, 4) as Float64Array;
  const c = new Float64Array(40 * 20 + 5).fill(-1);
  matmulF64(a, b, c, 40, 20, 30, false, false);
  assert.deepEqual([...c.subarray(800)], [-1, -1, -1, -1, -1]);
});

Deno.test("matmul rejects bad sizes and short arrays", () => {
  const x = new Float64Array(6), y = new Float32Array(6);
  assert.throws(() => matmulF64(x, x, x, -1, 2, 3, false, false), RangeError);
  assert.throws(() => matmulF64(x, x, x, 2, 1.5, 3, false, false), RangeError);
  assert.throws(() => matmulF64(x, x, x, 2, 3, 4, false, false), TypeError);
  assert.throws(() => matmulF32(y, y, y, 3, 3, 2, false, false), TypeError);
  assert.throws(() => matmulF32(y, y, y, 2, 2, Number.NaN, false, false), RangeError);
});
