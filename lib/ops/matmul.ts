/**
 * The matrix product primitive C = op(A) op(B), with transpose flags so that its
 * derivative rules never materialise a transpose.
 *
 * @module
 */
import type { Matrix } from "../matrix.ts";
import { bind, type Primitive } from "../core.ts";
import { result, st } from "./common.ts";
import { binaryRaw } from "./elementwise.ts";

/** Transpose flags of a product. */
export interface Flags {
  /** Use A transposed. */
  transA: boolean;
  /** Use B transposed. */
  transB: boolean;
}

/** C = op(A) op(B). */
export const matmulP: Primitive<Flags> = {
  name: "matmul",
  forward: ([a, b], { transA, transB }) => {
    const m = transA ? a.cols : a.rows;
    const k = transA ? a.rows : a.cols;
    const n = transB ? b.rows : b.cols;
    return result(a, a.kernel.matmul(st(a), st(b), { m, n, k, transA, transB }), m, n);
  },
  vjp: (g, [a, b], _y, { transA, transB }, needs) => [
    // d op(A) = g op(B)^T, d op(B) = op(A)^T g, transposed back where flagged.
    needs[0] ? (transA ? mm(b, g, transB, true) : mm(g, b, false, !transB)) : null,
    needs[1] ? (transB ? mm(g, a, true, transA) : mm(a, g, !transA, false)) : null,
  ],
  jvp: ([ta, tb], [a, b], _y, { transA, transB }) => {
    const left = ta ? mm(ta, b, transA, transB) : null;
    const right = tb ? mm(a, tb, transA, transB) : null;
    return left && right ? binaryRaw("add", left, right) : left ?? right;
  },
};

/** Internal product op(a) op(b) (no checks). */
export function mm(a: Matrix, b: Matrix, transA = false, transB = false): Matrix {
  return bind(matmulP, [a, b], { transA, transB });
}
