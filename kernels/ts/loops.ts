/**
 * Element-wise loops of the ts kernel, compiled once per (op, dtype, broadcast
 * pattern) from small expression templates.
 *
 * Why generate code: V8 keeps type feedback per function, so one loop that sees
 * both Float32Array and Float64Array (or several callbacks) turns polymorphic and
 * runs 2-20x slower. Compiling a separate function for every combination keeps
 * each hot loop monomorphic with the expression inlined, without hand-copying it.
 * The templates are fixed strings from this file, never user input.
 *
 * @module
 */
import type { BinaryOp, DType, HostArray, UnaryOp } from "../../lib/kernel.ts";

/** Expression of `x` for each unary op. */
const UNARY_EXPR: { [K in UnaryOp]: string } = {
  neg: "-x",
  abs: "Math.abs(x)",
  sign: "(x > 0 ? 1 : x < 0 ? -1 : x)",
  exp: "Math.exp(x)",
  log: "Math.log(x)",
  sqrt: "Math.sqrt(x)",
  square: "x * x",
  reciprocal: "1 / x",
  tanh: "Math.tanh(x)",
  sigmoid: "1 / (1 + Math.exp(-x))",
  // Branch-free max(x, 0) (a branch mispredicts on random signs); it gives NaN
  // for x = -Infinity and overflows to Infinity for x > MAX_VALUE / 2, so the loop
  // re-runs a safe form when the sum of the results is NaN or Infinity.
  relu: "(x + Math.abs(x)) * 0.5",
  step: "+(x > 0)",
};

/** Expression of `x` and `y` for each binary op. */
const BINARY_EXPR: { [K in BinaryOp]: string } = {
  add: "x + y",
  sub: "x - y",
  mul: "x * y",
  div: "x / y",
  max: "Math.max(x, y)",
  min: "Math.min(x, y)",
  gt: "+(x > y)",
  ge: "+(x >= y)",
  eq: "+(x === y)",
};

/** How a binary operand maps onto the output grid. */
export type Pattern = "full" | "row" | "col" | "scalar";

type UnaryLoop = (a: HostArray, out: HostArray) => void;
type BinaryLoop = (a: HostArray, b: HostArray, out: HostArray, rows: number, cols: number) => void;

const unaryCache = new Map<string, UnaryLoop>();
const binaryCache = new Map<string, BinaryLoop>();

function compile<F>(params: string[], body: string): F {
  return new Function(...params, body) as F;
}

/** The compiled loop writing `op(a)` into `out` (same length). */
export function unaryLoop(op: UnaryOp, dtype: DType): UnaryLoop {
  const key = `${op}:${dtype}`;
  let f = unaryCache.get(key);
  if (f === undefined) {
    const sentinel = op === "relu";
    const body = `"use strict"; // ts kernel ${key}
const n = a.length;${sentinel ? "\nlet s = 0;" : ""}
for (let i = 0; i < n; i++) {
  const x = a[i];
  ${sentinel ? `const r = ${UNARY_EXPR[op]}; out[i] = r; s += r;` : `out[i] = ${UNARY_EXPR[op]};`}
}${
      sentinel
        ? `
if (!(s < Infinity)) for (let i = 0; i < n; i++) { const x = a[i]; out[i] = x > 0 || x !== x ? x : 0; }`
        : ""
    }`;
    f = compile<UnaryLoop>(["a", "out"], body);
    unaryCache.set(key, f);
  }
  return f;
}

const INDEX: { [K in Pattern]: { row: string; at: string } } = {
  full: { row: "r * cols", at: "o + c" },
  row: { row: "0", at: "c" },
  col: { row: "r", at: "o" },
  scalar: { row: "0", at: "0" },
};

/**
 * The compiled loop writing `op(a, b)` over a `rows x cols` grid, each operand read
 * through its broadcast pattern.
 */
export function binaryLoop(op: BinaryOp, dtype: DType, pa: Pattern, pb: Pattern): BinaryLoop {
  const key = `${op}:${dtype}:${pa}:${pb}`;
  let f = binaryCache.get(key);
  if (f === undefined) {
    const expr = BINARY_EXPR[op];
    let body: string;
    if (pa === "full" && pb === "full") {
      body = `const n = out.length;
for (let i = 0; i < n; i++) { const x = a[i]; const y = b[i]; out[i] = ${expr}; }`;
    } else {
      const ia = INDEX[pa].at.replace("o", "oa");
      const ib = INDEX[pb].at.replace("o", "ob");
      body = `for (let r = 0; r < rows; r++) {
  const o = r * cols; const oa = ${INDEX[pa].row}; const ob = ${INDEX[pb].row};
  for (let c = 0; c < cols; c++) { const x = a[${ia}]; const y = b[${ib}]; out[o + c] = ${expr}; }
}`;
    }
    f = compile<BinaryLoop>(
      ["a", "b", "out", "rows", "cols"],
      `"use strict"; // ts kernel ${key}\n${body}`,
    );
    binaryCache.set(key, f);
  }
  return f;
}
