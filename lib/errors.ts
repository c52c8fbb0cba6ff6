/**
 * Input checks shared by every public function. Messages follow the house style
 * "Cannot <action>: <state>" and name the shapes involved.
 *
 * @module
 */
import type { DType } from "./kernel.ts";

/** "3x4": the shape of anything with rows and cols, as error messages print it. */
export function shapeStr(m: { rows: number; cols: number }): string {
  return `${m.rows}x${m.cols}`;
}

/** Throw a RangeError unless `n` is a non-negative safe integer. */
export function checkSize(action: string, what: string, n: unknown): number {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(
      `Cannot ${action}: ${what} must be a non-negative integer, got ${String(n)}`,
    );
  }
  return n;
}

/** Throw a TypeError unless `dtype` is a known dtype. */
export function checkDType(action: string, dtype: unknown): DType {
  if (dtype !== "float64" && dtype !== "float32") {
    throw new TypeError(
      `Cannot ${action}: unknown dtype ${JSON.stringify(dtype)}, expected "float64" or "float32"`,
    );
  }
  return dtype;
}

/** Throw a TypeError unless `x` is a finite number. */
export function checkFinite(action: string, what: string, x: unknown): number {
  if (typeof x !== "number" || !Number.isFinite(x)) {
    throw new TypeError(`Cannot ${action}: ${what} must be a finite number, got ${String(x)}`);
  }
  return x;
}
