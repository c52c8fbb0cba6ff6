// Deterministic inputs and the tolerance shared by the kernel test suites (conformance, wasm).
import assert from "node:assert/strict";
import type { BinaryOp, DType } from "../lib/kernel.ts";

/** Kinds of generated data. */
export type Kind = "uniform" | "positive" | "ints" | "nonzero";

/** Float32-representable values (xorshift32), so every kernel and dtype sees the same numbers. */
export function data(length: number, seed: number, kind: Kind = "uniform"): Float64Array {
  const out = new Float64Array(length);
  let s = (seed * 2654435761 >>> 0) || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const u = (s >>> 0) / 2 ** 32;
    const v = kind === "uniform"
      ? 2 * u - 1
      : kind === "positive"
      ? 0.1 + 9.9 * u
      : kind === "ints"
      ? Math.floor(u * 5) - 2
      : (u < 0.5 ? -1 : 1) * (0.5 + 3 * Math.abs(2 * u - 1));
    out[i] = Math.fround(v);
  }
  return out;
}

/** Inputs at the kinks of the unary ops. */
export const KINKS: readonly number[] = [
  0,
  -0,
  1e-30,
  -1e-20,
  1e-7,
  -1e-3,
  0.5,
  -0.625,
  0.7,
  1,
  -1,
  5,
  9,
  -10,
  20,
  -50,
  100,
  -100,
];

/** Every pair of matmul transpose flags. */
export const TRANS: [boolean, boolean][] = [[false, false], [true, false], [false, true], [
  true,
  true,
]];

/**
 * The one tolerance helper. `rtol` is about 84 ulp in float32 and 4500 ulp in float64:
 * kernels may round differently (FMA, summation order) but not more. An output that
 * sums `terms` products widens it by sqrt(terms) (rounding errors of a sum add up like
 * a random walk), and its error is measured against the largest output, since sums
 * cancel. `atol` is a floor for results that underflow (denormals flush to zero on GPUs).
 */
export function tolerance(dtype: DType, terms = 1): { rtol: number; atol: number } {
  const base = dtype === "float32" ? 1e-5 : 1e-12;
  return { rtol: base * Math.sqrt(Math.max(1, terms)), atol: base * 1e-4 };
}

export interface CloseOptions {
  /** Values summed per output (matmul's k, a reduction's length); 1 for element-wise. */
  terms?: number;
  /** Absolute floor where an op's error is absolute rather than relative. */
  atol?: number;
}

/** Asserts `got` is within {@link tolerance} of `want`, element by element (non-finite values must match). */
export function assertClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  dtype: DType,
  label: string,
  opts: CloseOptions = {},
): void {
  assert.equal(got.length, want.length, `${label}: length`);
  const terms = opts.terms ?? 1;
  const { rtol, atol } = tolerance(dtype, terms);
  let scale = 0;
  if (terms > 1) {
    for (let i = 0; i < want.length; i++) {
      scale = Math.max(scale, Math.abs(want[i]));
    }
  }
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    const ok = Number.isFinite(w)
      ? Math.abs(g - w) <= rtol * (Math.abs(w) + scale) + Math.max(atol, opts.atol ?? 0)
      : Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w));
    if (!ok && bad.push(`[${i}] got ${g}, want ${w}`) >= 5) break;
  }
  assert.ok(bad.length === 0, `${label} (${dtype}, terms ${terms}): ${bad.join("; ")}`);
}

/** The shapes an operand of a rows x cols binary op can have: full, row, column, scalar. */
export function broadcastForms(rows: number, cols: number): [number, number][] {
  return [[rows, cols], [1, cols], [rows, 1], [1, 1]];
}

/** Data for a binary op: nonzero divisors, small integers where ties matter. */
export function binaryKind(op: BinaryOp): Kind {
  return op === "div"
    ? "nonzero"
    : ["max", "min", "gt", "ge", "eq"].includes(op)
    ? "ints"
    : "uniform";
}

/** Reduction shapes: vectors, odd sizes, long rows and columns, one big square. */
export const REDUCE_SHAPES: readonly [number, number][] = [
  [1, 1],
  [1, 300],
  [300, 1],
  [37, 53],
  [5, 3000],
  [3000, 5],
  [257, 1025],
  [1000, 1000],
];
