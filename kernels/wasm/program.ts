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

/** One output of a program: its expression and the address it is written to. */
export interface ProgramOutput {
  expr: Expr;
  out: number;
}

/**
 * Writes the program computing `outputs` (expressions over leaves at addresses
 * `ptrs`, on one rows x cols grid; each unit computes them in order) into `words`
 * (the PROGRAM area) and returns its work-unit grid. For a matmul epilogue, `block`
 * names the leaves that are the product (read as `block` slots, whose address the
 * matmul passes); the grid then stays rows x cols, as the matmul addresses it.
 */
export function writeProgram(
  outputs: readonly ProgramOutput[],
  ptrs: readonly number[],
  table: OpTable,
  rows: number,
  cols: number,
  words: Int32Array,
  block: ReadonlySet<number> | null = null,
): ProgramShape {
  const n = rows * cols;
  const patterns: Pattern[] = [];
  const visit = (e: Expr) => {
    if (e.kind === "leaf") patterns[e.index] = normalise(e.pattern, rows, cols);
    else if (e.kind === "unary") visit(e.a);
    else (visit(e.a), visit(e.b));
  };
  for (const o of outputs) visit(o.expr);
  if (block === null && patterns.every((p) => p === "full" || p === "scalar")) {
    (rows = 1, cols = n);
  }
  const leafCount = ptrs.length;
  // Inputs no output reads (an earlier output's inputs, when a later one reads that
  // output instead of recomputing it) stay in the table as scalars, never read.
  const slotKinds: number[] = Array.from(
    ptrs,
    (_, i) =>
      block?.has(i) && patterns[i] !== undefined ? SLOT.block : SLOT[patterns[i] ?? "scalar"],
  );
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
  // An output's last instruction writes the output, not its register: free it for the next.
  const ends = outputs.map((o) => (release(emit(o.expr)), instructions.length));
  const slots = slotKinds.length;
  const length = PROG.header + 2 * slots + 4 * instructions.length + 2 * outputs.length;
  if (4 * length > PROGRAM_BYTES) {
    throw new RangeError("Cannot run an element-wise expression this large");
  }
  const unitsPerRow = Math.ceil(cols / CHUNK);
  words[PROG.rows] = rows;
  words[PROG.cols] = cols;
  words[PROG.unitsPerRow] = unitsPerRow;
  words[PROG.slots] = slots;
  words[PROG.instructions] = instructions.length;
  words[PROG.outputs] = outputs.length;
  for (let s = 0; s < slots; s++) {
    words[PROG.header + 2 * s] = slotKinds[s];
    words[PROG.header + 2 * s + 1] = slotPtrs[s];
  }
  let w = PROG.header + 2 * slots;
  for (const ins of instructions) for (const x of ins) words[w++] = x;
  outputs.forEach((o, i) => {
    words[w++] = ends[i];
    words[w++] = o.out;
  });
  return { rows, cols, units: rows * unitsPerRow };
}
