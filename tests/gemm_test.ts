import assert from "node:assert/strict";
import { abs, gemm, gradcheck, matmul, Matrix, max, Random, sub, transpose } from "../mod.ts";

const maxDiff = (a: Matrix, b: Matrix) => max(abs(sub(a, b))).get(0, 0);

Deno.test("gemm equals matmul of explicit transposes, for every flag pair", () => {
  const r = new Random(1);
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
    const A = ta ? r.normal(5, 3) : r.normal(3, 5);
    const B = tb ? r.normal(4, 5) : r.normal(5, 4);
    const want = matmul(ta ? transpose(A) : A, tb ? transpose(B) : B);
    const got = gemm(A, B, { transA: ta, transB: tb });
    assert.deepEqual(got.shape, [3, 4]);
    assert.ok(maxDiff(got, want) <= 1e-14, `${ta} ${tb}`);
    const report = gradcheck((a, b) => gemm(a, b, { transA: ta, transB: tb }), [A, B]);
    assert.ok(report.ok, `${ta} ${tb}: ${report.worst.what}`);
  }
});

Deno.test("gemm errors name the shapes and flags", () => {
  assert.throws(() => gemm(Matrix.zeros(3, 4), Matrix.zeros(3, 2), { transB: true }), {
    name: "TypeError",
    message: "Cannot multiply matrices in gemm: 3x4 by 3x2 (B^T), inner sizes 4 and 2 differ",
  });
  assert.throws(
    () => gemm(Matrix.zeros(2, 2), Matrix.zeros(2, 2), { transA: 1 as unknown as boolean }),
    { name: "TypeError", message: /transA and transB must be booleans/ },
  );
});
