/**
 * Element-wise expression trees of the wasm kernel and their translation into the
 * interpreter's program (see emit_elementwise.ts): leaves become slots read in
 * place, every op node one instruction whose result goes to a register (a register
 * is reused as soon as its value has been read), and the root writes the output.
 *
 * @module
 */
import { type OpTable, PROG, SLOT } from "./emit_elementwise.ts";
import { CHUNK, MAX_REGS, PROGRAM_BYTES } from "./layout.ts";

export { type Expr, exprFlat, exprSize, type Pattern, shiftLeaves } from "../common/expr.ts";
import type { Expr, Pattern } from "../common/expr.ts";

/** A leaf pattern on a grid with one row or one column, as the simpler equivalent. */
function normalise(p: Pattern, rows: number, cols: number): Pattern {
  if (rows === 1) return p === "row" ? "full" : p === "col" ? "scalar" : p;
  if (cols === 1) return p === "col" ? "full" : p === "row" ? "scalar" : p;
  return p;
}

/** Work units of a program: rows x ceil(cols / CHUNK). */
export interface ProgramShape {
  rows: number;
  cols: number;
  units: number;
}

/**
 * Writes the program for `expr` over leaves at addresses `ptrs` into `words` (the
 * PROGRAM area) and returns its work-unit grid. `out` is the output's address.
 */
export function writeProgram(
  expr: Expr,
  ptrs: readonly number[],
  table: OpTable,
  rows: number,
  cols: number,
  out: number,
  words: Int32Array,
): ProgramShape {
  const n = rows * cols;
  const patterns: Pattern[] = [];
  const visit = (e: Expr) => {
    if (e.kind === "leaf") patterns[e.index] = normalise(e.pattern, rows, cols);
    else if (e.kind === "unary") visit(e.a);
    else (visit(e.a), visit(e.b));
  };
  visit(expr);
  if (patterns.every((p) => p === "full" || p === "scalar")) (rows = 1, cols = n);
  const leafCount = ptrs.length;
  const slotKinds: number[] = patterns.map((p) => SLOT[p]);
  const slotPtrs: number[] = [...ptrs];
  const instructions: number[][] = [];
  const freeRegs: number[] = [];
  let regs = 0;
  const vector = (slot: number) => slotKinds[slot] < SLOT.col;
  const release = (slot: number) => {
    if (slot >= leafCount) freeRegs.push(slot);
  };
  const emit = (e: Expr): number => {
    if (e.kind === "leaf") return e.index;
    let fn: number, a: number, b: number;
    if (e.kind === "unary") {
      a = b = emit(e.a);
      fn = table.unary[e.op][vector(a) ? 0 : 1];
    } else {
      a = emit(e.a);
      b = emit(e.b);
      fn = table.binary[e.op][(vector(a) ? 0 : 2) + (vector(b) ? 0 : 1)];
    }
    release(a);
    if (b !== a) release(b);
    let dst = freeRegs.pop();
    if (dst === undefined) {
      if (regs === MAX_REGS) {
        throw new RangeError(`Cannot run an element-wise expression of over ${MAX_REGS} registers`);
      }
      dst = slotKinds.push(SLOT.register) - 1;
      slotPtrs.push(regs++);
    }
    instructions.push([fn, dst, a, b]);
    return dst;
  };
  emit(expr);
  const slots = slotKinds.length;
  const length = PROG.header + 2 * slots + 4 * instructions.length;
  if (4 * length > PROGRAM_BYTES) {
    throw new RangeError("Cannot run an element-wise expression this large");
  }
  const unitsPerRow = Math.ceil(cols / CHUNK);
  words[PROG.rows] = rows;
  words[PROG.cols] = cols;
  words[PROG.unitsPerRow] = unitsPerRow;
  words[PROG.slots] = slots;
  words[PROG.instructions] = instructions.length;
  words[PROG.out] = out;
  for (let s = 0; s < slots; s++) {
    words[PROG.header + 2 * s] = slotKinds[s];
    words[PROG.header + 2 * s + 1] = slotPtrs[s];
  }
  let w = PROG.header + 2 * slots;
  for (const ins of instructions) for (const x of ins) words[w++] = x;
  return { rows, cols, units: rows * unitsPerRow };
}
