/**
 * Slicing and concatenation, as injective gathers (so their derivatives are
 * gathers too).
 *
 * @module
 */
import type { Matrix } from "../matrix.ts";
import { checkSize, shapeStr } from "../errors.ts";
import { checkMatrix, checkSameKernel, promote } from "./common.ts";
import { binaryRaw } from "./elementwise.ts";
import { castRaw, gatherRaw } from "./structure.ts";

/** Internal: place `a` at (r0, c0) inside a rows x cols zero matrix. */
function placeRaw(a: Matrix, rows: number, cols: number, r0: number, c0: number): Matrix {
  const index = new Int32Array(rows * cols).fill(-1);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.cols; j++) index[(r0 + i) * cols + c0 + j] = i * a.cols + j;
  }
  return gatherRaw(a, { index, rows, cols });
}

/** Internal: the block rows r0..r1-1, columns c0..c1-1. */
export function sliceRaw(a: Matrix, r0: number, r1: number, c0: number, c1: number): Matrix {
  const rows = r1 - r0, cols = c1 - c0;
  const index = new Int32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) index[i * cols + j] = (r0 + i) * a.cols + c0 + j;
  }
  return gatherRaw(a, { index, rows, cols });
}

function stack(action: string, parts: Matrix[], horizontal: boolean): Matrix {
  if (parts.length === 0) throw new TypeError(`Cannot ${action}: no matrices given`);
  parts.forEach((p, i) => checkMatrix(action, p, `matrix ${i}`));
  const first = parts[0];
  let dtype = first.dtype;
  for (const p of parts) {
    checkSameKernel(action, first, p);
    dtype = promote(dtype, p.dtype);
    const same = horizontal ? p.rows === first.rows : p.cols === first.cols;
    if (!same) {
      throw new TypeError(
        `Cannot ${action}: ${shapeStr(first)} and ${shapeStr(p)} have different ${
          horizontal ? "row" : "column"
        } counts`,
      );
    }
  }
  const rows = horizontal ? first.rows : parts.reduce((s, p) => s + p.rows, 0);
  const cols = horizontal ? parts.reduce((s, p) => s + p.cols, 0) : first.cols;
  let offset = 0;
  let out: Matrix | null = null;
  for (const p of parts) {
    const placed = horizontal
      ? placeRaw(castRaw(p, dtype), rows, cols, 0, offset)
      : placeRaw(castRaw(p, dtype), rows, cols, offset, 0);
    offset += horizontal ? p.cols : p.rows;
    out = out === null ? placed : binaryRaw("add", out, placed);
  }
  return out!;
}

/**
 * Matrices side by side: [A, B, ...] (equal row counts).
 *
 * @example
 * ```ts
 * import { hstack, Matrix } from "../../mod.ts";
 * console.log(hstack(Matrix.eye(2), Matrix.ones(2, 1)).toArray()); // [[1, 0, 1], [0, 1, 1]]
 * ```
 */
export function hstack(...parts: Matrix[]): Matrix {
  return stack("stack matrices in hstack", parts, true);
}

/**
 * Matrices one above the other: [A; B; ...] (equal column counts).
 *
 * @example
 * ```ts
 * import { Matrix, vstack } from "../../mod.ts";
 * console.log(vstack(Matrix.eye(2), Matrix.ones(1, 2)).toArray()); // [[1, 0], [0, 1], [1, 1]]
 * ```
 */
export function vstack(...parts: Matrix[]): Matrix {
  return stack("stack matrices in vstack", parts, false);
}

/** Options of {@link slice}: half-open ranges [start, end), like NumPy's A[r0:r1, c0:c1]. */
export interface SliceOptions {
  /** Row range, default all rows. */
  rows?: [number, number];
  /** Column range, default all columns. */
  cols?: [number, number];
}

/**
 * A block of a matrix: rows [r0, r1) and columns [c0, c1).
 *
 * @example
 * ```ts
 * import { Matrix, slice } from "../../mod.ts";
 * const A = Matrix.from([[1, 2, 3], [4, 5, 6]]);
 * console.log(slice(A, { cols: [1, 3] }).toArray()); // [[2, 3], [5, 6]]
 * ```
 */
export function slice(A: Matrix, opts: SliceOptions = {}): Matrix {
  const action = "slice";
  checkMatrix(action, A);
  const [r0, r1] = opts.rows ?? [0, A.rows];
  const [c0, c1] = opts.cols ?? [0, A.cols];
  for (
    const [what, x] of [["row start", r0], ["row end", r1], ["col start", c0], [
      "col end",
      c1,
    ]] as const
  ) {
    checkSize(action, what, x);
  }
  if (r1 > A.rows || c1 > A.cols || r0 > r1 || c0 > c1) {
    throw new RangeError(
      `Cannot slice rows [${r0}, ${r1}) and columns [${c0}, ${c1}) of a ${
        shapeStr(A)
      } matrix: out of range`,
    );
  }
  return sliceRaw(A, r0, r1, c0, c1);
}
