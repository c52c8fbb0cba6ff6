/**
 * Argument checks and exact power-of-two scaling shared by the host linear algebra
 * routines. Internal: the public functions are re-exported from `./mod.ts`.
 *
 * @module
 */

/**
 * Checks that `data` is a Float64Array of length `rows * cols` with non-negative integer
 * sizes, and throws an error that names the operation otherwise.
 *
 * @throws {TypeError} if `data` is not a Float64Array or has the wrong length.
 * @throws {RangeError} if a size is negative, not an integer, or not finite.
 */
export function checkShape(op: string, data: unknown, rows: number, cols: number): void {
  checkSize(op, "rows", rows);
  checkSize(op, "columns", cols);
  if (!(data instanceof Float64Array)) {
    throw new TypeError(`Cannot compute ${op}: data must be a Float64Array, got ${typeName(data)}`);
  }
  const expected = rows * cols;
  if (data.length !== expected) {
    throw new TypeError(
      `Cannot compute ${op}: data has ${data.length} elements, ` +
        `expected ${rows}x${cols} = ${expected}`,
    );
  }
}

/**
 * Returns the largest absolute entry of `data`, throwing a RangeError if any entry is
 * NaN or infinite.
 */
export function maxAbsFinite(op: string, data: Float64Array): number {
  let max = 0;
  for (let i = 0; i < data.length; i++) {
    const a = Math.abs(data[i]);
    if (!(a <= max)) {
      if (a !== a) max = Infinity; // NaN
      else max = a;
      if (max === Infinity) break;
    }
  }
  if (max === Infinity) {
    throw new RangeError(`Cannot compute ${op}: input contains NaN or Infinity`);
  }
  return max;
}

/**
 * A power of two `2^e` such that `maxAbs / 2^e` lies in [0.5, 1) (in [0.5, 2) at the
 * ends of the float64 range, where 2^e must stay finite and non-zero), or 1 when
 * `maxAbs` is 0. Dividing by it is exact barring underflow of entries far below
 * `maxAbs`.
 */
export function pow2Scale(maxAbs: number): number {
  if (maxAbs === 0) return 1;
  let e = Math.ceil(Math.log2(maxAbs));
  // Math.log2 may round; fix up so that maxAbs / 2^e is in [0.5, 1).
  while (pow2(e) <= maxAbs) e++;
  while (pow2(e - 1) > maxAbs) e--;
  return pow2(Math.min(1023, Math.max(-1074, e)));
}

/** `2^e` for integer e in the float64 range, without overflow in intermediate steps. */
export function pow2(e: number): number {
  if (e > 1023) return 2 ** 1023 * 2 ** (e - 1023);
  if (e < -1022) return 2 ** -1022 * 2 ** (e + 1022);
  return 2 ** e;
}

/**
 * Copies `a` (row-major, rows x cols) into a new array transposed (cols x rows),
 * dividing every entry by `divisor` (a power of two from {@link pow2Scale}: exact).
 */
export function transpose(a: Float64Array, rows: number, cols: number, divisor = 1): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const ri = i * cols;
    for (let j = 0; j < cols; j++) t[j * rows + i] = a[ri + j] / divisor;
  }
  return t;
}

function checkSize(op: string, what: string, x: unknown) {
  if (typeof x !== "number" || !Number.isSafeInteger(x) || x < 0) {
    throw new RangeError(
      `Cannot compute ${op}: ${what} must be a non-negative integer, got ${String(x)}`,
    );
  }
}

function typeName(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "object") return (x as object).constructor?.name ?? "object";
  return typeof x;
}
