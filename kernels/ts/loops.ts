/**
 * Fused element-wise loops of the ts kernel. A chain of element-wise ops (say
 * relu(A W + b) or add(relu(A), B)) is kept as an expression tree over its input
 * arrays and compiled, once per tree shape and dtype, into one loop that reads each
 * input once and writes one output: no intermediate arrays, which in V8 cost more
 * than the arithmetic (a fresh 8 MB Float64Array costs about 1 ns per element in
 * page faults).
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

export {
  type Expr,
  exprFlat,
  exprKey,
  exprSize,
  type Pattern,
  shiftLeaves,
} from "../common/expr.ts";
import { type Expr, exprFlat, exprKey } from "../common/expr.ts";

/** A compiled expression: writes the rows x cols result into `out`. */
export type FusedLoop = (
  leaves: readonly HostArray[],
  out: HostArray,
  rows: number,
  cols: number,
) => void;

const SAFE_RELU = "(x > 0 ? x : x === x ? 0 : x)";

/** Statements computing `e` into temporaries; returns the name of its value. */
function emit(e: Expr, lines: string[], flat: boolean, safe: boolean, n: { t: number }): string {
  const t = `t${n.t++}`;
  if (e.kind === "leaf") {
    const idx = { full: flat ? "i" : "o + c", row: "c", col: "r", scalar: "0" }[e.pattern];
    lines.push(`const ${t} = l${e.index}[${idx}];`);
  } else if (e.kind === "unary") {
    const x = emit(e.a, lines, flat, safe, n);
    const tmpl = e.op === "relu" && safe ? SAFE_RELU : UNARY_EXPR[e.op];
    lines.push(`const ${t} = ${tmpl.replace(/\bx\b/g, x)};`);
    if (e.op === "relu" && !safe) lines.push(`s += ${t};`);
  } else {
    const x = emit(e.a, lines, flat, safe, n);
    const y = emit(e.b, lines, flat, safe, n);
    // Substitute both names at once so a name inside the other cannot be rewritten.
    lines.push(
      `const ${t} = ${BINARY_EXPR[e.op].replace(/\b[xy]\b/g, (v) => v === "x" ? x : y)};`,
    );
  }
  return t;
}

function loop(e: Expr, flat: boolean, safe: boolean): string {
  const lines: string[] = [];
  const r = emit(e, lines, flat, safe, { t: 0 });
  const body = `${lines.join(" ")} out[${flat ? "i" : "o + c"}] = ${r};`;
  return flat
    ? `for (let i = 0; i < n; i++) { ${body} }`
    : `for (let r = 0; r < rows; r++) { const o = r * cols; for (let c = 0; c < cols; c++) { ${body} } }`;
}

function hasRelu(e: Expr): boolean {
  return e.kind === "unary"
    ? e.op === "relu" || hasRelu(e.a)
    : e.kind === "binary"
    ? hasRelu(e.a) || hasRelu(e.b)
    : false;
}

function leafCount(e: Expr): number {
  return e.kind === "leaf"
    ? e.index + 1
    : e.kind === "unary"
    ? leafCount(e.a)
    : Math.max(leafCount(e.a), leafCount(e.b));
}

const cache = new Map<string, FusedLoop>();

/**
 * The compiled loop of `e` for `dtype`. Trees with relu use its branch-free form and
 * sum the relu outputs; if that sum is NaN or Infinity (relu(-Infinity), or inputs
 * near the float64 limit) the loop runs again with a safe form.
 */
export function fusedLoop(e: Expr, dtype: DType): FusedLoop {
  const key = `${dtype}:${exprKey(e)}`;
  let f = cache.get(key);
  if (f === undefined) {
    const flat = exprFlat(e);
    const leaves = Array.from({ length: leafCount(e) }, (_, i) => `const l${i} = leaves[${i}];`);
    const relu = hasRelu(e);
    const body = [
      `"use strict"; // ts kernel ${key}`,
      ...leaves,
      "const n = out.length;",
      relu ? "let s = 0;" : "",
      loop(e, flat, false),
      relu ? `if (!(s < Infinity)) { ${loop(e, flat, true)} }` : "",
    ].join("\n");
    f = new Function("leaves", "out", "rows", "cols", body) as FusedLoop;
    cache.set(key, f);
  }
  return f;
}
