/**
 * Reduction primitives (sum, max) and un-broadcasting of cotangents.
 *
 * @module
 */
import type { Matrix } from "../matrix.ts";
import type { ReduceAxis } from "../kernel.ts";
import { bind, type Primitive } from "../core.ts";
import { result, st } from "./common.ts";
import { broadcastRaw } from "./structure.ts";
import { binaryRaw } from "./elementwise.ts";

function reducedShape(a: Matrix, axis: ReduceAxis): [number, number] {
  return axis === "all" ? [1, 1] : axis === 0 ? [1, a.cols] : [a.rows, 1];
}

/** Sum over all entries, rows (axis 0) or columns (axis 1). */
export const sumP: Primitive<ReduceAxis> = {
  name: "sum",
  forward: ([a], axis) => {
    const [r, c] = reducedShape(a, axis);
    return result(a, a.kernel.reduce("sum", st(a), a.rows, a.cols, axis), r, c);
  },
  vjp: (g, [a]) => [broadcastRaw(g, a.rows, a.cols)],
  jvp: ([t], _x, _y, axis) => sumRaw(t!, axis),
};

/** Max over all entries, rows or columns; ties share the gradient equally (as in JAX). */
export const maxP: Primitive<ReduceAxis> = {
  name: "max",
  forward: ([a], axis) => {
    const [r, c] = reducedShape(a, axis);
    return result(a, a.kernel.reduce("max", st(a), a.rows, a.cols, axis), r, c);
  },
  vjp: (g, [a], y, axis) => {
    const w = tieWeights(a, y, axis);
    return [binaryRaw("mul", w, g)];
  },
  jvp: ([t], [a], y, axis) => sumRaw(binaryRaw("mul", tieWeights(a, y, axis), t!), axis),
};

function tieWeights(a: Matrix, y: Matrix, axis: ReduceAxis): Matrix {
  const mask = binaryRaw("eq", a, y);
  return binaryRaw("div", mask, sumRaw(mask, axis));
}

/** Internal sum (no checks). */
export function sumRaw(a: Matrix, axis: ReduceAxis): Matrix {
  return bind(sumP, [a], axis);
}

/** Internal max (no checks). */
export function maxRaw(a: Matrix, axis: ReduceAxis): Matrix {
  return bind(maxP, [a], axis);
}

/** Sum a cotangent of a broadcast result back to the operand's shape. */
export function unbroadcast(g: Matrix, rows: number, cols: number): Matrix {
  if (g.rows === rows && g.cols === cols) return g;
  if (rows === 1 && cols === 1) return sumRaw(g, "all");
  if (rows === 1) return sumRaw(g, 0);
  return sumRaw(g, 1);
}
