/**
 * Reductions, transpose and gather of the ts kernel. Sums accumulate in float64
 * (also for float32 data) over blocks of 256 and then across blocks, which keeps
 * the rounding error near that of pairwise summation.
 *
 * @module
 */
import type { HostArray, ReduceAxis, ReduceOp } from "../../lib/kernel.ts";

const BLOCK = 256;

function sumRange(a: HostArray, start: number, end: number, stride: number): number {
  let total = 0;
  for (let b = start; b < end; b += BLOCK * stride) {
    const stop = Math.min(end, b + BLOCK * stride);
    let s = 0;
    for (let i = b; i < stop; i += stride) s += a[i];
    total += s;
  }
  return total;
}

function maxRange(a: HostArray, start: number, end: number, stride: number): number {
  let m = -Infinity;
  for (let i = start; i < end; i += stride) {
    const x = a[i];
    if (x > m || x !== x) m = x;
    if (m !== m) return m;
  }
  return m;
}

/** Reduce a rows x cols array into `out` (1, cols or rows elements). */
export function reduceInto(
  op: ReduceOp,
  a: HostArray,
  rows: number,
  cols: number,
  axis: ReduceAxis,
  out: HostArray,
): void {
  const range = op === "sum" ? sumRange : maxRange;
  if (axis === "all") {
    out[0] = range(a, 0, rows * cols, 1);
  } else if (axis === 1) {
    for (let r = 0; r < rows; r++) out[r] = range(a, r * cols, (r + 1) * cols, 1);
  } else if (op === "sum") {
    // Down each column: accumulate whole rows so memory is read in order.
    const acc = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let c = 0; c < cols; c++) acc[c] += a[o + c];
    }
    out.set(acc);
  } else {
    const acc = new Float64Array(cols).fill(-Infinity);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let c = 0; c < cols; c++) {
        const x = a[o + c];
        if (x > acc[c] || x !== x) acc[c] = x;
      }
    }
    out.set(acc);
  }
}

const TILE = 32;

/** Write the transpose of a rows x cols array into `out` (cols x rows). */
export function transposeInto(a: HostArray, rows: number, cols: number, out: HostArray): void {
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(rows, r0 + TILE);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(cols, c0 + TILE);
      for (let r = r0; r < r1; r++) {
        const o = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = a[o + c];
      }
    }
  }
}

/** `out[i] = index[i] < 0 ? 0 : a[index[i]]`. */
export function gatherInto(a: HostArray, index: Int32Array, out: HostArray): void {
  for (let i = 0; i < index.length; i++) {
    const j = index[i];
    out[i] = j < 0 ? 0 : a[j];
  }
}
