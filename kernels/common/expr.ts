/**
 * Element-wise expression trees shared by the kernels that fuse element-wise chains
 * lazily (ts, wasm): a pending result is a tree of unary and binary ops over numbered
 * input arrays, each read through a broadcast pattern.
 *
 * @module
 */
import type { BinaryOp, UnaryOp } from "../../lib/kernel.ts";

/** How an input maps onto the output grid. */
export type Pattern = "full" | "row" | "col" | "scalar";

/** An element-wise expression over numbered inputs. */
export type Expr =
  | { kind: "leaf"; index: number; pattern: Pattern }
  | { kind: "unary"; op: UnaryOp; a: Expr }
  | { kind: "binary"; op: BinaryOp; a: Expr; b: Expr };

/** A canonical text of an expression tree (a cache key). */
export function exprKey(e: Expr): string {
  switch (e.kind) {
    case "leaf":
      return `${e.pattern}${e.index}`;
    case "unary":
      return `${e.op}(${exprKey(e.a)})`;
    case "binary":
      return `${e.op}(${exprKey(e.a)},${exprKey(e.b)})`;
  }
}

/** Number of nodes of a tree. */
export function exprSize(e: Expr): number {
  return e.kind === "leaf"
    ? 1
    : e.kind === "unary"
    ? 1 + exprSize(e.a)
    : 1 + exprSize(e.a) + exprSize(e.b);
}

/** Whether every leaf is full or scalar (the tree reads the same for any grid shape). */
export function exprFlat(e: Expr): boolean {
  return e.kind === "leaf"
    ? e.pattern === "full" || e.pattern === "scalar"
    : e.kind === "unary"
    ? exprFlat(e.a)
    : exprFlat(e.a) && exprFlat(e.b);
}

/** The same tree with leaf indices shifted by `by`. */
export function shiftLeaves(e: Expr, by: number): Expr {
  switch (e.kind) {
    case "leaf":
      return { ...e, index: e.index + by };
    case "unary":
      return { ...e, a: shiftLeaves(e.a, by) };
    case "binary":
      return { ...e, a: shiftLeaves(e.a, by), b: shiftLeaves(e.b, by) };
  }
}

/** Largest expression tree fused into one pass; bigger operands are computed first. */
export const MAX_NODES = 24;

/**
 * Whether a pending `lazy.rows x lazy.cols` expression, read through `pattern` by an
 * op on a `rows x cols` grid, is inlined into that op's tree (else it is computed
 * first and read as a leaf): only full reads of small trees, on the same grid or
 * reading the same on any grid.
 */
export function inlinable(
  lazy: { expr: Expr; rows: number; cols: number },
  pattern: Pattern,
  rows: number,
  cols: number,
): boolean {
  return pattern === "full" && exprSize(lazy.expr) < MAX_NODES &&
    ((lazy.rows === rows && lazy.cols === cols) || exprFlat(lazy.expr));
}
