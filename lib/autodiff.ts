/**
 * JAX-style transforms over pure functions of Matrix values: `grad`,
 * `valueAndGrad`, `vjp` (reverse mode), `jvp` (forward mode) and `jacobian`.
 * They nest freely (`grad(grad(f))`, `jvp` of `grad`).
 *
 * @module
 */
import { Matrix } from "./matrix.ts";
import { shapeStr } from "./errors.ts";
import { backward, closeTrace, openTrace, primalAt, traceInput, traceOutput } from "./core.ts";
import { checkMatrix, checkSameKernel } from "./ops/common.ts";
import { binaryRaw, zerosLike } from "./ops/elementwise.ts";

/** A function of matrices returning a matrix. */
export type MatrixFn = (...args: Matrix[]) => Matrix;

function checkArgs(action: string, args: readonly unknown[]): Matrix[] {
  return args.map((a, i) => checkMatrix(action, a, `argument ${i}`));
}

function checkOutput(action: string, y: unknown): Matrix {
  if (!(y instanceof Matrix)) {
    throw new TypeError(`Cannot ${action}: the function must return a Matrix, got ${typeof y}`);
  }
  return y;
}

function checkArgnums(action: string, argnums: number | readonly number[], n: number): number[] {
  const list = typeof argnums === "number" ? [argnums] : [...argnums];
  for (const i of list) {
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new RangeError(
        `Cannot ${action}: argnum ${i} is out of range for a call with ${n} arguments`,
      );
    }
  }
  return list;
}

/**
 * Evaluate `f(...xs)` and return its value and a pullback mapping an output
 * cotangent to the cotangents of every argument (reverse mode).
 *
 * @example
 * ```ts
 * import { Matrix, matmul, vjp } from "../mod.ts";
 * const A = Matrix.from([[1, 2], [3, 4]]);
 * const x = Matrix.from([[1], [1]]);
 * const [y, pullback] = vjp((x) => matmul(A, x), x);
 * const [xbar] = pullback(Matrix.from([[1], [0]]));
 * console.log(y.toArray(), xbar.toArray()); // [[3], [7]] [[1], [2]]
 * ```
 */
export function vjp(
  f: MatrixFn,
  ...xs: Matrix[]
): [Matrix, (g: Matrix) => Matrix[]] {
  const action = "compute a vjp";
  checkArgs(action, xs);
  const trace = openTrace("vjp");
  let y: Matrix, leaves, out;
  try {
    leaves = xs.map((x) => traceInput(trace, x));
    y = checkOutput(action, f(...leaves.map((l) => l.value)));
    out = traceOutput(trace, y);
    y = primalAt(trace, y);
  } finally {
    closeTrace(trace);
  }
  const value = y;
  const root = out?.node;
  const pullback = (g: Matrix): Matrix[] => {
    checkMatrix("apply a vjp pullback", g, "cotangent");
    if (g.rows !== value.rows || g.cols !== value.cols) {
      throw new TypeError(
        `Cannot apply a vjp pullback: cotangent ${shapeStr(g)} does not match the output ${
          shapeStr(value)
        }`,
      );
    }
    if (g.dtype !== value.dtype) {
      throw new TypeError(
        `Cannot apply a vjp pullback: cotangent ${shapeStr(g)} is ${g.dtype} but the output ${
          shapeStr(value)
        } is ${value.dtype}`,
      );
    }
    checkSameKernel("apply a vjp pullback", g, value);
    if (root === undefined) return xs.map(zerosLike);
    const cts = backward(root, g, leaves.map((l) => l.node!), (a, b) => binaryRaw("add", a, b));
    return cts.map((ct, i) => ct ?? zerosLike(xs[i]));
  };
  return [value, pullback];
}

/**
 * Forward mode: the value of `f` at `primals` and its directional derivative along
 * `tangents` (one tangent per primal, same shapes).
 *
 * @example
 * ```ts
 * import { jvp, Matrix, square } from "../mod.ts";
 * const [y, dy] = jvp((x) => square(x), [Matrix.from([[3]])], [Matrix.from([[1]])]);
 * console.log(y.get(0, 0), dy.get(0, 0)); // 9 6
 * ```
 */
export function jvp(
  f: MatrixFn,
  primals: readonly Matrix[],
  tangents: readonly Matrix[],
): [Matrix, Matrix] {
  const action = "compute a jvp";
  checkArgs(action, primals);
  checkArgs(action, tangents);
  if (primals.length !== tangents.length) {
    throw new TypeError(
      `Cannot ${action}: ${primals.length} primals but ${tangents.length} tangents`,
    );
  }
  primals.forEach((x, i) => {
    const t = tangents[i];
    if (t.rows !== x.rows || t.cols !== x.cols) {
      throw new TypeError(
        `Cannot ${action}: tangent ${i} is ${shapeStr(t)} but its primal is ${shapeStr(x)}`,
      );
    }
    if (t.dtype !== x.dtype) {
      throw new TypeError(
        `Cannot ${action}: tangent ${i} is ${t.dtype} but its ${shapeStr(x)} primal is ${x.dtype}`,
      );
    }
    checkSameKernel(action, x, t);
  });
  const trace = openTrace("jvp");
  try {
    const ins = primals.map((x, i) => traceInput(trace, x, tangents[i]).value);
    const y = checkOutput(action, f(...ins));
    const out = traceOutput(trace, y);
    const value = primalAt(trace, y);
    return [value, out?.tangent ?? zerosLike(value)];
  } finally {
    closeTrace(trace);
  }
}

/**
 * The value of scalar `f` (a 1x1 Matrix) and its gradients with respect to the
 * arguments in `argnums` (a number gives one gradient, an array a list).
 *
 * @example
 * ```ts
 * import { Matrix, square, sum, valueAndGrad } from "../mod.ts";
 * const [v, g] = valueAndGrad((x) => sum(square(x)))(Matrix.from([[1, 2]]));
 * console.log(v.get(0, 0), g.toArray()); // 5 [[2, 4]]
 * ```
 */
export function valueAndGrad(
  f: MatrixFn,
  argnums?: number,
): (...args: Matrix[]) => [Matrix, Matrix];
/**
 * With an array of argnums: the value and one gradient per listed argument.
 *
 * @example
 * ```ts
 * import { matmul, Matrix, sum, valueAndGrad } from "../mod.ts";
 * const f = (a: Matrix, b: Matrix) => sum(matmul(a, b));
 * const [v, [ga, gb]] = valueAndGrad(f, [0, 1])(Matrix.ones(1, 2), Matrix.ones(2, 1));
 * console.log(v.get(0, 0), ga.shape, gb.shape); // 2 [1, 2] [2, 1]
 * ```
 */
export function valueAndGrad(
  f: MatrixFn,
  argnums: readonly number[],
): (...args: Matrix[]) => [Matrix, Matrix[]];
export function valueAndGrad(
  f: MatrixFn,
  argnums: number | readonly number[] = 0,
): (...args: Matrix[]) => [Matrix, Matrix | Matrix[]] {
  const action = "compute a gradient";
  return (...args: Matrix[]) => {
    const nums = checkArgnums(action, argnums, args.length);
    const [y, pullback] = vjp(
      (...sel: Matrix[]) => {
        const full = [...args];
        nums.forEach((a, i) => (full[a] = sel[i]));
        return f(...full);
      },
      ...nums.map((i) => args[i]),
    );
    if (y.rows !== 1 || y.cols !== 1) {
      throw new TypeError(
        `Cannot ${action}: the function must return a 1x1 Matrix, got ${
          shapeStr(y)
        }; use vjp or jacobian for other outputs`,
      );
    }
    const gs = pullback(Matrix.ones(1, 1, { dtype: y.dtype, kernel: y.kernel }));
    return [y, typeof argnums === "number" ? gs[0] : gs];
  };
}

/**
 * The gradient of scalar `f` (returning a 1x1 Matrix) with respect to argument
 * `argnums` (default 0), or a list of gradients for an array of argnums, as in JAX.
 *
 * @example
 * ```ts
 * import { grad, matmul, Matrix, sum, transpose } from "../mod.ts";
 * // f(x) = x^T A x has gradient (A + A^T) x
 * const A = Matrix.from([[1, 2], [0, 3]]);
 * const f = (x: Matrix) => sum(matmul(transpose(x), matmul(A, x)));
 * console.log(grad(f)(Matrix.from([[1], [1]])).toArray()); // [[4], [8]]
 * ```
 */
export function grad(f: MatrixFn, argnums?: number): (...args: Matrix[]) => Matrix;
/**
 * With an array of argnums: one gradient per listed argument, as JAX's argnums.
 *
 * @example
 * ```ts
 * import { grad, matmul, Matrix, sum } from "../mod.ts";
 * const f = (a: Matrix, b: Matrix) => sum(matmul(a, b));
 * const [ga, gb] = grad(f, [0, 1])(Matrix.ones(1, 2), Matrix.ones(2, 1));
 * console.log(ga.toArray(), gb.toArray()); // [[1, 1]] [[1], [1]]
 * ```
 */
export function grad(
  f: MatrixFn,
  argnums: readonly number[],
): (...args: Matrix[]) => Matrix[];
export function grad(
  f: MatrixFn,
  argnums: number | readonly number[] = 0,
): (...args: Matrix[]) => Matrix | Matrix[] {
  const vg = valueAndGrad(f, argnums as number[]);
  return (...args: Matrix[]) => vg(...args)[1];
}

/** Options of {@link jacobian}. */
export interface JacobianOptions {
  /** Which argument to differentiate with respect to (default 0). */
  argnum?: number;
  /**
   * `"rev"` builds one row per output entry, `"fwd"` one column per input entry;
   * `"auto"` (default) picks whichever needs fewer passes.
   */
  mode?: "auto" | "rev" | "fwd";
}

/**
 * The Magnus-Neudecker Jacobian d vec F / d (vec X)^T of F = f(X): for F p x q and
 * X m x n, a pq x mn matrix, with vec stacking columns.
 *
 * @example
 * ```ts
 * import { jacobian, matmul, Matrix } from "../mod.ts";
 * // d vec(A X) / d (vec X)^T = I kron A
 * const A = Matrix.from([[1, 2], [3, 4]]);
 * const J = jacobian((X) => matmul(A, X))(Matrix.zeros(2, 1));
 * console.log(J.toArray()); // [[1, 2], [3, 4]]
 * ```
 */
export function jacobian(
  f: MatrixFn,
  opts: JacobianOptions = {},
): (...args: Matrix[]) => Matrix {
  const action = "compute a jacobian";
  return (...args: Matrix[]) => {
    checkArgs(action, args);
    const [argnum] = checkArgnums(action, opts.argnum ?? 0, args.length);
    const X = args[argnum];
    const g = (x: Matrix) => {
      const full = [...args];
      full[argnum] = x;
      return f(...full);
    };
    const { rows: m, cols: n } = X;
    const mn = m * n;
    const [y, pullback] = vjp(g, X);
    const { rows: p, cols: q } = y;
    const pq = p * q;
    const mode = opts.mode ?? "auto";
    if (mode !== "auto" && mode !== "rev" && mode !== "fwd") {
      throw new TypeError(`Cannot ${action}: mode must be "auto", "rev" or "fwd", got ${mode}`);
    }
    const J = new Float64Array(pq * mn);
    const unit = (rows: number, cols: number, k: number, like: Matrix) => {
      const e = new Float64Array(rows * cols);
      e[(k % rows) * cols + Math.floor(k / rows)] = 1; // vec index k -> (k mod rows, k div rows)
      return Matrix.fromArray(e, rows, cols, { dtype: like.dtype, kernel: like.kernel });
    };
    if (mode === "rev" || (mode === "auto" && pq <= mn)) {
      for (let i = 0; i < pq; i++) {
        const d = pullback(unit(p, q, i, y))[0].toTypedArray();
        for (let r = 0; r < m; r++) {
          for (let c = 0; c < n; c++) J[i * mn + r + c * m] = d[r * n + c];
        }
      }
    } else {
      for (let j = 0; j < mn; j++) {
        const t = jvp(g, [X], [unit(m, n, j, X)])[1].toTypedArray();
        for (let r = 0; r < p; r++) {
          for (let c = 0; c < q; c++) J[(r + c * p) * mn + j] = t[r * q + c];
        }
      }
    }
    return Matrix.fromArray(J, pq, mn, { dtype: X.dtype, kernel: X.kernel });
  };
}
