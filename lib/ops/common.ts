/**
 * Shared plumbing of the primitives: argument checks, dtype promotion, constants
 * on an operand's kernel, and un-broadcasting of cotangents.
 *
 * @module
 */
import { Matrix, storageOf, wrap } from "../matrix.ts";
import type { DType, Storage } from "../kernel.ts";
import { shapeStr } from "../errors.ts";
import { checkKernelDType } from "../registry.ts";

/** Throw a TypeError unless `x` is a Matrix. */
export function checkMatrix(action: string, x: unknown, what = "argument"): Matrix {
  if (!(x instanceof Matrix)) {
    const got = x === null ? "null" : Array.isArray(x) ? "an array" : typeof x;
    throw new TypeError(`Cannot ${action}: ${what} must be a Matrix, got ${got}`);
  }
  return x;
}

/** The dtype two operands promote to (float64 wins, as in NumPy). */
export function promote(a: DType, b: DType): DType {
  return a === "float64" || b === "float64" ? "float64" : "float32";
}

/** Throw unless both matrices live on the same kernel. */
export function checkSameKernel(action: string, a: Matrix, b: Matrix): void {
  if (a.kernel !== b.kernel) {
    throw new TypeError(
      `Cannot ${action}: the ${shapeStr(a)} operand is on the ${a.kernel.name} kernel and the ${
        shapeStr(b)
      } operand on the ${b.kernel.name} kernel; move one with .to(kernel)`,
    );
  }
}

/** A 1x1 constant `value` on `like`'s kernel with dtype `dtype` (default `like`'s). */
export function scalarLike(like: Matrix, value: number, dtype: DType = like.dtype): Matrix {
  checkKernelDType("make a constant", like.kernel, dtype);
  return wrap(like.kernel, like.kernel.fill(1, value, dtype), 1, 1);
}

/** A rows x cols constant on `like`'s kernel and dtype. */
export function fullLike(like: Matrix, rows: number, cols: number, value: number): Matrix {
  return wrap(like.kernel, like.kernel.fill(rows * cols, value, like.dtype), rows, cols);
}

/** Result of a kernel call as a matrix on `like`'s kernel. */
export function result(like: Matrix, s: Storage, rows: number, cols: number): Matrix {
  return wrap(like.kernel, s, rows, cols);
}

/** Shorthand for the storage of a matrix. */
export const st: (m: Matrix) => Storage = storageOf;
