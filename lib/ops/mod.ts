/**
 * The public functional ops: each checks its input, then applies a primitive.
 * Every one is differentiable by the transforms in lib/autodiff.ts.
 *
 * @module
 */
import { hooks, type Matrix } from "../matrix.ts";
import type { BinaryOp, DType, ReduceAxis, UnaryOp } from "../kernel.ts";
import { checkDType, checkSize, shapeStr } from "../errors.ts";
import { checkKernelDType } from "../registry.ts";
import { checkMatrix, checkSameKernel, promote, scalarLike } from "./common.ts";
import { binaryRaw, unaryRaw } from "./elementwise.ts";
import { mm } from "./matmul.ts";
import { maxRaw, sumRaw } from "./reduce.ts";
import { castRaw, reshapeRaw, transposeRaw } from "./structure.ts";

/** Options of the reductions. */
export interface AxisOptions {
  /** 0 reduces over rows (1 x cols result), 1 over columns (rows x 1); all entries (1x1) if absent. */
  axis?: 0 | 1;
}

/**
 * The matrix product A B.
 *
 * @example
 * ```ts
 * import { Matrix, matmul } from "../../mod.ts";
 * const C = matmul(Matrix.from([[1, 2]]), Matrix.from([[3], [4]]));
 * console.log(C.get(0, 0)); // 11
 * ```
 */
export function matmul(A: Matrix, B: Matrix): Matrix {
  return product("multiply matrices in matmul", A, B, false, false);
}

/** Options of {@link gemm}: use an operand transposed, without forming the transpose. */
export interface GemmOptions {
  /** Use A^T (A stored k x m). */
  transA?: boolean;
  /** Use B^T (B stored n x k). */
  transB?: boolean;
}

/**
 * op(A) op(B), where op transposes the operands flagged in the options (BLAS's gemm):
 * the kernels read an operand transposed instead of copying it. Differentiable.
 *
 * @example
 * ```ts
 * import { gemm, Matrix } from "../../mod.ts";
 * const a = Matrix.from([[1, 2]]);
 * console.log(gemm(a, a, { transA: true }).toArray()); // a^T a = [[1, 2], [2, 4]]
 * ```
 */
export function gemm(A: Matrix, B: Matrix, opts: GemmOptions = {}): Matrix {
  const transA = opts.transA ?? false, transB = opts.transB ?? false;
  if (typeof transA !== "boolean" || typeof transB !== "boolean") {
    throw new TypeError(`Cannot multiply matrices in gemm: transA and transB must be booleans`);
  }
  return product("multiply matrices in gemm", A, B, transA, transB);
}

function product(action: string, A: Matrix, B: Matrix, transA: boolean, transB: boolean): Matrix {
  checkMatrix(action, A, "A");
  checkMatrix(action, B, "B");
  checkSameKernel(action, A, B);
  const inA = transA ? A.rows : A.cols, inB = transB ? B.cols : B.rows;
  if (inA !== inB) {
    const name = (M: Matrix, t: boolean, n: string) => `${shapeStr(M)}${t ? ` (${n}^T)` : ""}`;
    throw new TypeError(
      `Cannot ${action}: ${name(A, transA, "A")} by ${
        name(B, transB, "B")
      }, inner sizes ${inA} and ${inB} differ`,
    );
  }
  const [a, b] = sameDType(action, A, B);
  return mm(a, b, transA, transB);
}

/**
 * The transpose A^T.
 *
 * @example
 * ```ts
 * import { Matrix, transpose } from "../../mod.ts";
 * console.log(transpose(Matrix.from([[1, 2, 3]])).shape); // [3, 1]
 * ```
 */
export function transpose(A: Matrix): Matrix {
  checkMatrix("transpose", A);
  return transposeRaw(A);
}

/**
 * The same entries in row-major order with a new shape (NumPy's C-order reshape).
 *
 * @example
 * ```ts
 * import { Matrix, reshape } from "../../mod.ts";
 * console.log(reshape(Matrix.from([[1, 2, 3, 4]]), 2, 2).toArray()); // [[1, 2], [3, 4]]
 * ```
 */
export function reshape(A: Matrix, rows: number, cols: number): Matrix {
  const action = "reshape";
  checkMatrix(action, A);
  checkSize(action, "rows", rows);
  checkSize(action, "cols", cols);
  if (rows * cols !== A.rows * A.cols) {
    throw new TypeError(
      `Cannot reshape a ${shapeStr(A)} matrix to ${rows}x${cols}: sizes ${A.rows * A.cols} and ${
        rows * cols
      } differ`,
    );
  }
  return reshapeRaw(A, rows, cols);
}

/**
 * A copy with another dtype; differentiable (the cotangent is cast back).
 *
 * @example
 * ```ts
 * import { astype, Matrix } from "../../mod.ts";
 * console.log(astype(Matrix.eye(2), "float32").dtype); // "float32"
 * ```
 */
export function astype(A: Matrix, dtype: DType): Matrix {
  const action = "convert a matrix in astype";
  checkMatrix(action, A);
  checkDType(action, dtype);
  checkKernelDType(`convert a ${shapeStr(A)} matrix to ${dtype}`, A.kernel, dtype);
  return castRaw(A, dtype);
}
hooks.astype = astype;

function sameDType(action: string, A: Matrix, B: Matrix): [Matrix, Matrix] {
  const dtype = promote(A.dtype, B.dtype);
  checkKernelDType(action, A.kernel, dtype);
  return [castRaw(A, dtype), castRaw(B, dtype)];
}

const VERB: { [K in BinaryOp]: string } = {
  add: "add",
  sub: "subtract",
  mul: "multiply element-wise in mul",
  div: "divide element-wise in div",
  max: "take the element-wise maximum",
  min: "take the element-wise minimum",
  gt: "compare in greater",
  ge: "compare in greaterEqual",
  eq: "compare in equal",
};

function binary(op: BinaryOp, A: Matrix | number, B: Matrix | number): Matrix {
  const action = VERB[op];
  if (typeof A === "number" && typeof B === "number") {
    throw new TypeError(`Cannot ${action}: at least one operand must be a Matrix`);
  }
  let a: Matrix, b: Matrix;
  if (typeof A === "number") {
    b = checkMatrix(action, B, "B");
    a = scalarLike(b, A);
  } else if (typeof B === "number") {
    a = checkMatrix(action, A, "A");
    b = scalarLike(a, B);
  } else {
    a = checkMatrix(action, A, "A");
    b = checkMatrix(action, B, "B");
    checkSameKernel(action, a, b);
    [a, b] = sameDType(action, a, b);
  }
  for (const [dim, x, y] of [["rows", a.rows, b.rows], ["cols", a.cols, b.cols]] as const) {
    if (x !== y && x !== 1 && y !== 1) {
      throw new TypeError(
        `Cannot ${action}: shapes ${shapeStr(a)} and ${
          shapeStr(b)
        } do not broadcast (${dim} ${x} and ${y} differ and neither is 1)`,
      );
    }
  }
  return binaryRaw(op, a, b);
}

/**
 * A + B, broadcasting 1x1, 1 x n and m x 1 operands; either side may be a number.
 *
 * @example
 * ```ts
 * import { add, Matrix } from "../../mod.ts";
 * console.log(add(Matrix.eye(2), Matrix.from([[10, 20]])).toArray()); // [[11, 20], [10, 21]]
 * ```
 */
export function add(A: Matrix | number, B: Matrix | number): Matrix {
  return binary("add", A, B);
}

/**
 * A - B with broadcasting.
 *
 * @example
 * ```ts
 * import { Matrix, sub } from "../../mod.ts";
 * console.log(sub(Matrix.ones(1, 2), 1).toArray()); // [[0, 0]]
 * ```
 */
export function sub(A: Matrix | number, B: Matrix | number): Matrix {
  return binary("sub", A, B);
}

/**
 * The element-wise (Hadamard) product A o B with broadcasting.
 *
 * @example
 * ```ts
 * import { Matrix, mul } from "../../mod.ts";
 * console.log(mul(Matrix.from([[1, 2]]), Matrix.from([[3, 4]])).toArray()); // [[3, 8]]
 * ```
 */
export function mul(A: Matrix | number, B: Matrix | number): Matrix {
  return binary("mul", A, B);
}

/**
 * Element-wise A / B with broadcasting.
 *
 * @example
 * ```ts
 * import { div, Matrix } from "../../mod.ts";
 * console.log(div(Matrix.from([[1, 2]]), 2).toArray()); // [[0.5, 1]]
 * ```
 */
export function div(A: Matrix | number, B: Matrix | number): Matrix {
  return binary("div", A, B);
}

/**
 * Element-wise maximum with broadcasting; at ties each side gets half the gradient.
 *
 * @example
 * ```ts
 * import { Matrix, maximum } from "../../mod.ts";
 * console.log(maximum(Matrix.from([[-1, 2]]), 0).toArray()); // [[0, 2]]
 * ```
 */
export function maximum(A: Matrix | number, B: Matrix | number): Matrix {
  return binary("max", A, B);
}

/**
 * Element-wise minimum with broadcasting; at ties each side gets half the gradient.
 *
 * @example
 * ```ts
 * import { Matrix, minimum } from "../../mod.ts";
 * console.log(minimum(Matrix.from([[-1, 2]]), 0).toArray()); // [[-1, 0]]
 * ```
 */
export function minimum(A: Matrix | number, B: Matrix | number): Matrix {
  return binary("min", A, B);
}

/**
 * 1 where A > B, else 0 (a mask; its derivative is zero).
 *
 * @example
 * ```ts
 * import { greater, Matrix } from "../../mod.ts";
 * console.log(greater(Matrix.from([[-1, 2]]), 0).toArray()); // [[0, 1]]
 * ```
 */
export function greater(A: Matrix | number, B: Matrix | number): Matrix {
  return binary("gt", A, B);
}

/**
 * 1 where A >= B, else 0.
 *
 * @example
 * ```ts
 * import { greaterEqual, Matrix } from "../../mod.ts";
 * console.log(greaterEqual(Matrix.from([[0, 2]]), 0).toArray()); // [[1, 1]]
 * ```
 */
export function greaterEqual(A: Matrix | number, B: Matrix | number): Matrix {
  return binary("ge", A, B);
}

/**
 * 1 where A == B, else 0.
 *
 * @example
 * ```ts
 * import { equal, Matrix } from "../../mod.ts";
 * console.log(equal(Matrix.from([[0, 2]]), 2).toArray()); // [[0, 1]]
 * ```
 */
export function equal(A: Matrix | number, B: Matrix | number): Matrix {
  return binary("eq", A, B);
}

/**
 * s A for a number s.
 *
 * @example
 * ```ts
 * import { Matrix, scale } from "../../mod.ts";
 * console.log(scale(Matrix.ones(1, 2), 3).toArray()); // [[3, 3]]
 * ```
 */
export function scale(A: Matrix, s: number): Matrix {
  checkMatrix("scale", A);
  if (typeof s !== "number") {
    throw new TypeError(`Cannot scale a ${shapeStr(A)} matrix: the factor must be a number`);
  }
  return binaryRaw("mul", A, scalarLike(A, s));
}

function unary(op: UnaryOp, A: Matrix): Matrix {
  checkMatrix(op, A);
  return unaryRaw(op, A);
}

/**
 * -A.
 *
 * @example
 * ```ts
 * import { Matrix, neg } from "../../mod.ts";
 * console.log(neg(Matrix.ones(1, 1)).get(0, 0)); // -1
 * ```
 */
export const neg = (A: Matrix): Matrix => unary("neg", A);
/**
 * |A| element-wise (derivative sign(x), 0 at 0).
 *
 * @example
 * ```ts
 * import { abs, Matrix } from "../../mod.ts";
 * console.log(abs(Matrix.from([[-2]])).get(0, 0)); // 2
 * ```
 */
export const abs = (A: Matrix): Matrix => unary("abs", A);
/**
 * Element-wise sign: -1, 0 or 1 (derivative zero).
 *
 * @example
 * ```ts
 * import { Matrix, sign } from "../../mod.ts";
 * console.log(sign(Matrix.from([[-2, 0, 3]])).toArray()); // [[-1, 0, 1]]
 * ```
 */
export const sign = (A: Matrix): Matrix => unary("sign", A);
/**
 * e^A element-wise.
 *
 * @example
 * ```ts
 * import { exp, Matrix } from "../../mod.ts";
 * console.log(exp(Matrix.zeros(1, 1)).get(0, 0)); // 1
 * ```
 */
export const exp = (A: Matrix): Matrix => unary("exp", A);
/**
 * Natural log element-wise.
 *
 * @example
 * ```ts
 * import { log, Matrix } from "../../mod.ts";
 * console.log(log(Matrix.ones(1, 1)).get(0, 0)); // 0
 * ```
 */
export const log = (A: Matrix): Matrix => unary("log", A);
/**
 * Square root element-wise.
 *
 * @example
 * ```ts
 * import { Matrix, sqrt } from "../../mod.ts";
 * console.log(sqrt(Matrix.from([[9]])).get(0, 0)); // 3
 * ```
 */
export const sqrt = (A: Matrix): Matrix => unary("sqrt", A);
/**
 * A o A.
 *
 * @example
 * ```ts
 * import { Matrix, square } from "../../mod.ts";
 * console.log(square(Matrix.from([[3]])).get(0, 0)); // 9
 * ```
 */
export const square = (A: Matrix): Matrix => unary("square", A);
/**
 * 1 / A element-wise.
 *
 * @example
 * ```ts
 * import { Matrix, reciprocal } from "../../mod.ts";
 * console.log(reciprocal(Matrix.from([[4]])).get(0, 0)); // 0.25
 * ```
 */
export const reciprocal = (A: Matrix): Matrix => unary("reciprocal", A);
/**
 * tanh element-wise.
 *
 * @example
 * ```ts
 * import { Matrix, tanh } from "../../mod.ts";
 * console.log(tanh(Matrix.zeros(1, 1)).get(0, 0)); // 0
 * ```
 */
export const tanh = (A: Matrix): Matrix => unary("tanh", A);
/**
 * The logistic sigmoid 1 / (1 + e^-x) element-wise.
 *
 * @example
 * ```ts
 * import { Matrix, sigmoid } from "../../mod.ts";
 * console.log(sigmoid(Matrix.zeros(1, 1)).get(0, 0)); // 0.5
 * ```
 */
export const sigmoid = (A: Matrix): Matrix => unary("sigmoid", A);
/**
 * max(x, 0) element-wise; relu'(0) = 0, as in PyTorch and JAX.
 *
 * @example
 * ```ts
 * import { Matrix, relu } from "../../mod.ts";
 * console.log(relu(Matrix.from([[-1, 0, 2]])).toArray()); // [[0, 0, 2]]
 * ```
 */
export const relu = (A: Matrix): Matrix => unary("relu", A);
/**
 * 1 where x > 0, else 0 (the derivative of relu; its own derivative is zero).
 *
 * @example
 * ```ts
 * import { Matrix, step } from "../../mod.ts";
 * console.log(step(Matrix.from([[-1, 0, 2]])).toArray()); // [[0, 0, 1]]
 * ```
 */
export const step = (A: Matrix): Matrix => unary("step", A);

function axisOf(action: string, opts: AxisOptions | undefined): ReduceAxis {
  const axis = opts?.axis;
  if (axis === undefined) return "all";
  if (axis !== 0 && axis !== 1) {
    throw new RangeError(`Cannot ${action}: axis must be 0, 1 or absent, got ${String(axis)}`);
  }
  return axis;
}

/**
 * Sum of all entries (1x1), or down the rows (`axis: 0`, 1 x cols) or across the
 * columns (`axis: 1`, rows x 1).
 *
 * @example
 * ```ts
 * import { Matrix, sum } from "../../mod.ts";
 * const A = Matrix.from([[1, 2], [3, 4]]);
 * console.log(sum(A).get(0, 0), sum(A, { axis: 0 }).toArray()); // 10 [[4, 6]]
 * ```
 */
export function sum(A: Matrix, opts?: AxisOptions): Matrix {
  checkMatrix("sum", A);
  return sumRaw(A, axisOf("sum", opts));
}

/**
 * Largest entry overall or along an axis (see {@link sum}); NaN if any entry is NaN.
 * Ties share the gradient equally.
 *
 * @example
 * ```ts
 * import { Matrix, max } from "../../mod.ts";
 * console.log(max(Matrix.from([[1, 5], [3, 4]]), { axis: 1 }).toArray()); // [[5], [4]]
 * ```
 */
export function max(A: Matrix, opts?: AxisOptions): Matrix {
  checkMatrix("max", A);
  const axis = axisOf("max", opts);
  const empty = axis === "all" ? A.rows * A.cols === 0 : axis === 0 ? A.rows === 0 : A.cols === 0;
  if (empty) {
    throw new RangeError(`Cannot take the max of a ${shapeStr(A)} matrix: nothing to reduce`);
  }
  return maxRaw(A, axis);
}

/**
 * Mean of all entries or along an axis (see {@link sum}).
 *
 * @example
 * ```ts
 * import { Matrix, mean } from "../../mod.ts";
 * console.log(mean(Matrix.from([[1, 2], [3, 4]])).get(0, 0)); // 2.5
 * ```
 */
export function mean(A: Matrix, opts?: AxisOptions): Matrix {
  checkMatrix("mean", A);
  const axis = axisOf("mean", opts);
  const n = axis === "all" ? A.rows * A.cols : axis === 0 ? A.rows : A.cols;
  if (n === 0) {
    throw new RangeError(`Cannot take the mean of a ${shapeStr(A)} matrix: nothing to average`);
  }
  return binaryRaw("mul", sumRaw(A, axis), scalarLike(A, 1 / n));
}
