/**
 * Primitives that move data without arithmetic: matmul's companions transpose,
 * reshape, gather (the one structural primitive behind vec, kron, diag, slices),
 * broadcast and cast.
 *
 * @module
 */
import { type Matrix, view } from "../matrix.ts";
import type { DType } from "../kernel.ts";
import { bind, type Primitive } from "../core.ts";
import { result, scalarLike, st } from "./common.ts";
import { unbroadcast } from "./reduce.ts";

/** Transpose. */
export const transposeP: Primitive<void> = {
  name: "transpose",
  forward: ([a]) => result(a, a.kernel.transpose(st(a), a.rows, a.cols), a.cols, a.rows),
  vjp: (g) => [transposeRaw(g)],
  jvp: ([t]) => transposeRaw(t!),
};

/** Internal transpose (no checks). */
export function transposeRaw(a: Matrix): Matrix {
  return bind(transposeP, [a], undefined);
}

interface Shape {
  rows: number;
  cols: number;
}

/** Row-major reshape; shares storage. */
export const reshapeP: Primitive<Shape> = {
  name: "reshape",
  forward: ([a], p) => view(a, p.rows, p.cols),
  vjp: (g, [a]) => [reshapeRaw(g, a.rows, a.cols)],
  jvp: ([t], _x, _y, p) => reshapeRaw(t!, p.rows, p.cols),
};

/** Internal reshape (no checks). */
export function reshapeRaw(a: Matrix, rows: number, cols: number): Matrix {
  return a.rows === rows && a.cols === cols ? a : bind(reshapeP, [a], { rows, cols });
}

/** Parameters of a gather: `out[i] = index[i] < 0 ? 0 : a[index[i]]`, injective. */
export interface GatherParams {
  /** Source flat index for each output element, -1 for zero. No index repeats. */
  index: Int32Array;
  /** Output shape. */
  rows: number;
  /** Output shape. */
  cols: number;
}

const inverses = new WeakMap<Int32Array, Int32Array>();

function inverse(index: Int32Array, length: number): Int32Array {
  let inv = inverses.get(index);
  if (inv === undefined || inv.length !== length) {
    inv = new Int32Array(length).fill(-1);
    for (let i = 0; i < index.length; i++) if (index[i] >= 0) inv[index[i]] = i;
    inverses.set(index, inv);
  }
  return inv;
}

/** Injective gather; its VJP is the gather by the inverse index. */
export const gatherP: Primitive<GatherParams> = {
  name: "gather",
  forward: ([a], p) => result(a, a.kernel.gather(st(a), p.index), p.rows, p.cols),
  vjp: (g, [a], _y, p) => [
    gatherRaw(g, { index: inverse(p.index, a.rows * a.cols), rows: a.rows, cols: a.cols }),
  ],
  jvp: ([t], _x, _y, p) => gatherRaw(t!, p),
};

/** Internal gather (no checks; the index must be injective). */
export function gatherRaw(a: Matrix, p: GatherParams): Matrix {
  return bind(gatherP, [a], p);
}

/** Broadcast a 1x1, 1 x cols or rows x 1 matrix to rows x cols. */
export const broadcastP: Primitive<Shape> = {
  name: "broadcast",
  forward: ([a], p) => {
    const zero = scalarLike(a, 0);
    const s = a.kernel.binary("add", st(a), st(zero), {
      rows: p.rows,
      cols: p.cols,
      a: [a.rows, a.cols],
      b: [1, 1],
    });
    return result(a, s, p.rows, p.cols);
  },
  vjp: (g, [a]) => [unbroadcast(g, a.rows, a.cols)],
  jvp: ([t], _x, _y, p) => broadcastRaw(t!, p.rows, p.cols),
};

/** Internal broadcast (no checks). */
export function broadcastRaw(a: Matrix, rows: number, cols: number): Matrix {
  return a.rows === rows && a.cols === cols ? a : bind(broadcastP, [a], { rows, cols });
}

/** Convert dtype. */
export const castP: Primitive<DType> = {
  name: "astype",
  forward: ([a], dtype) => result(a, a.kernel.cast(st(a), dtype), a.rows, a.cols),
  vjp: (g, [a]) => [castRaw(g, a.dtype)],
  jvp: ([t], _x, _y, dtype) => castRaw(t!, dtype),
};

/** Internal cast (no checks). */
export function castRaw(a: Matrix, dtype: DType): Matrix {
  return a.dtype === dtype ? a : bind(castP, [a], dtype);
}
