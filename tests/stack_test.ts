import assert from "node:assert/strict";
import { gradcheck, hstack, Matrix, mul, Random, slice, sum, vstack } from "../mod.ts";

Deno.test("hstack, vstack and slice place and pick blocks", () => {
  const A = Matrix.from([[1, 2], [3, 4]]), B = Matrix.from([[5], [6]]), C = Matrix.from([[7, 8]]);
  assert.deepEqual(hstack(A, B).toArray(), [[1, 2, 5], [3, 4, 6]]);
  assert.deepEqual(vstack(A, C).toArray(), [[1, 2], [3, 4], [7, 8]]);
  assert.deepEqual(slice(hstack(A, B), { cols: [1, 3] }).toArray(), [[2, 5], [4, 6]]);
  assert.deepEqual(slice(A, { rows: [1, 2] }).toArray(), [[3, 4]]);
  assert.deepEqual(slice(A, { rows: [1, 1] }).shape, [0, 2]);
  // mixed dtypes promote, as in the element-wise ops
  assert.equal(hstack(A.astype("float32"), B).dtype, "float64");
  assert.equal(vstack(A.astype("float32"), C.astype("float32")).dtype, "float32");
});

Deno.test("hstack, vstack and slice are differentiable", () => {
  const r = new Random(2);
  const W = r.normal(3, 5), V = r.normal(5, 2), U = r.normal(2, 3);
  assert.ok(gradcheck((a, b) => sum(mul(hstack(a, b), W)), [r.normal(3, 2), r.normal(3, 3)]).ok);
  assert.ok(gradcheck((a, b) => sum(mul(vstack(a, b), V)), [r.normal(2, 2), r.normal(3, 2)]).ok);
  assert.ok(
    gradcheck((a) => sum(mul(slice(a, { rows: [1, 3], cols: [0, 3] }), U)), [r.normal(4, 4)]).ok,
  );
});

Deno.test("hstack, vstack and slice reject bad input with the shapes", () => {
  assert.throws(() => hstack(Matrix.zeros(2, 2), Matrix.zeros(3, 1)), {
    name: "TypeError",
    message: "Cannot stack matrices in hstack: 2x2 and 3x1 have different row counts",
  });
  assert.throws(() => vstack(Matrix.zeros(2, 2), Matrix.zeros(1, 3)), {
    name: "TypeError",
    message: "Cannot stack matrices in vstack: 2x2 and 1x3 have different column counts",
  });
  assert.throws(() => hstack(), { name: "TypeError", message: /no matrices given/ });
  assert.throws(() => vstack(Matrix.eye(2), [[1, 2]] as unknown as Matrix), {
    name: "TypeError",
    message: /matrix 1 must be a Matrix, got an array/,
  });
  assert.throws(() => slice(Matrix.zeros(2, 3), { cols: [1, 4] }), {
    name: "RangeError",
    message: "Cannot slice rows [0, 2) and columns [1, 4) of a 2x3 matrix: out of range",
  });
  assert.throws(() => slice(Matrix.zeros(2, 3), { rows: [NaN, 1] }), {
    name: "RangeError",
    message: /row start must be a non-negative integer, got NaN/,
  });
  assert.throws(() => slice(Matrix.zeros(2, 3), { rows: [2, 1] }), { name: "RangeError" });
});
