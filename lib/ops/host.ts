/**
 * Bridges for the algorithms that run in TypeScript on float64 host data (QR, SVD):
 * read a matrix as float64 and bring results back as matrices on its kernel.
 *
 * @module
 */
import { Matrix, storageOf } from "../matrix.ts";
import { shapeStr } from "../errors.ts";

/** The entries of `A` as a row-major Float64Array (a copy). */
export function hostF64(action: string, A: Matrix): Float64Array {
  const data = A.kernel.readSync(storageOf(A));
  if (data === null) {
    throw new Error(
      `Cannot ${action}: it runs on host float64 data and the ${
        shapeStr(A)
      } input is on the ${A.kernel.name} device; read it with await A.read() and rebuild it on the ts kernel`,
    );
  }
  return data instanceof Float64Array ? data : Float64Array.from(data);
}

/** A rows x cols matrix from host float64 data on `like`'s kernel and dtype. */
export function fromHost(like: Matrix, data: Float64Array, rows: number, cols: number): Matrix {
  return Matrix.fromArray(data, rows, cols, { dtype: like.dtype, kernel: like.kernel });
}
