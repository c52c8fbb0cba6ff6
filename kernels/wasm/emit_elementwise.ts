/**
 * Emits the element-wise code of one dtype: a loop per op and operand form, and the
 * job `elementwise_<dtype>` that interprets a program of such ops chunk by chunk.
 *
 * A program (written by program.ts into PROGRAM) evaluates an expression tree of
 * unary and binary ops over a rows x cols grid. Its inputs ("slots") are leaves in
 * memory (full, a row repeated, a column repeated, a scalar) and registers (CHUNK
 * elements of per-thread scratch). The grid is cut into work units of at most CHUNK
 * consecutive elements of one row; for each unit the interpreter computes every
 * slot's address and calls the instructions' loops in order through the function
 * table, the last one writing the output. A program may compute several outputs of
 * the same grid (see {@link PROG}); each unit then runs them one after the other, so
 * inputs they share are read from memory once per unit and from L1 after that.
 * Intermediate values never leave L1, so a fused chain such as relu(A) + B reads A
 * and B once and writes once. One unit is the function `program_unit_<dtype>`, which
 * the matmul also calls as an epilogue, on each block of the product it has just
 * computed (a `block` slot reads that block).
 *
 * Op loops have the signature (dst, a, b, vectors): `a` and `b` point at vectors or,
 * for the broadcast forms, at one element to splat.
 *
 * @module
 */
import { BINARY_OPS, type BinaryOp, UNARY_OPS, type UnaryOp } from "../../lib/kernel.ts";
import {
  type Code,
  ctl,
  type FloatSimd,
  floatSimd,
  forRange,
  Func,
  i32,
  local,
  type ModuleBuilder,
  seq,
  v128,
} from "./asm.ts";
import { simdMath } from "./emit_math.ts";
import { eachUnit, scratchOf } from "./emit_common.ts";
import { CHUNK, PROGRAM, scratchLayout } from "./layout.ts";

/**
 * Slot kinds of a program. The vector kinds come first (see `isVec`); a `block` slot
 * reads the address its caller passes for the unit: the matmul's epilogue points it at
 * the row of the freshly computed block of the product (see emit_matmul.ts).
 */
export const SLOT = { register: 0, full: 1, row: 2, block: 3, col: 4, scalar: 5 } as const;

/**
 * Word offsets of a program's header; slots (kind, pointer) follow, then instructions
 * (4 words each), then one (end, address) pair per output: output o is written by
 * instruction end_o - 1, after the instructions from end_(o-1) (0 for the first) to it.
 */
export const PROG = {
  rows: 0,
  cols: 1,
  unitsPerRow: 2,
  slots: 3,
  instructions: 4,
  outputs: 5,
  header: 8,
} as const;

/** Operand forms of a binary loop: vector or broadcast, for a then b. */
export const FORMS = ["vv", "vs", "sv", "ss"] as const;

/** Table slots of the op loops of one dtype. */
export interface OpTable {
  unary: Record<UnaryOp, [number, number]>;
  binary: Record<BinaryOp, [number, number, number, number]>;
  /** The function index of `program_unit` (the matmul's epilogue calls it). */
  unit: number;
}

type Unary = (x: Code, V: FloatSimd, f: Func) => Code;
type Binary = (x: Code, y: Code, V: FloatSimd, f: Func) => Code;

/** A vector constant of `f`, built once at its entry. */
const k = (f: Func, V: FloatSimd, x: number): Code => f.hoist(V.constant(x));
const oneIf = (mask: Code, V: FloatSimd, f: Func): Code => v128.and(mask, k(f, V, 1));

const UNARY: { [K in UnaryOp]: Unary } = {
  neg: (x, V) => V.neg(x),
  abs: (x, V) => V.abs(x),
  // x > 0 ? 1 : x < 0 ? -1 : x (keeps -0 and NaN)
  sign: (x, V, f) => {
    const t = f.local("v128");
    return seq(
      local.set(t, x),
      v128.bitselect(
        k(f, V, 1),
        v128.bitselect(k(f, V, -1), local.get(t), V.lt(local.get(t), k(f, V, 0))),
        V.gt(local.get(t), k(f, V, 0)),
      ),
    );
  },
  exp: (x, V, f) => simdMath(V, f).exp(x),
  log: (x, V, f) => simdMath(V, f).log(x),
  sqrt: (x, V) => V.sqrt(x),
  square: (x, V, f) => {
    const t = f.local("v128");
    return V.mul(local.tee(t, x), local.get(t));
  },
  reciprocal: (x, V, f) => V.div(k(f, V, 1), x),
  tanh: (x, V, f) => simdMath(V, f).tanh(x),
  sigmoid: (x, V, f) => simdMath(V, f).sigmoid(x),
  // pmax keeps NaN (first operand); adding +0 turns -0 into +0, like the ts kernel.
  relu: (x, V, f) => V.add(V.pmax(x, k(f, V, 0)), k(f, V, 0)),
  step: (x, V, f) => oneIf(V.gt(x, k(f, V, 0)), V, f),
};

const BINARY: { [K in BinaryOp]: Binary } = {
  add: (x, y, V) => V.add(x, y),
  sub: (x, y, V) => V.sub(x, y),
  mul: (x, y, V) => V.mul(x, y),
  div: (x, y, V) => V.div(x, y),
  max: (x, y, V) => V.max(x, y),
  min: (x, y, V) => V.min(x, y),
  gt: (x, y, V, f) => oneIf(V.gt(x, y), V, f),
  ge: (x, y, V, f) => oneIf(V.ge(x, y), V, f),
  eq: (x, y, V, f) => oneIf(V.eq(x, y), V, f),
};

/** A loop `dst[i] = body(a[i], b[i])` over `n` vectors; broadcast operands are splatted once. */
function opLoop(
  V: FloatSimd,
  aVec: boolean,
  bVec: boolean,
  body: (f: Func, x: Code, y: Code) => Code,
): Func {
  const f = new Func(["i32", "i32", "i32", "i32"]);
  const [dst, a, b, n] = [0, 1, 2, 3];
  const [end, as, bs] = [f.local("i32"), f.local("v128"), f.local("v128")];
  const g = local.get;
  const x = aVec ? v128.load(g(a)) : g(as);
  const y = bVec ? v128.load(g(b)) : g(bs);
  f.body = seq(
    aVec ? [] : local.set(as, V.loadSplat(g(a))),
    bVec ? [] : local.set(bs, V.loadSplat(g(b))),
    local.set(end, i32.add(g(dst), i32.shl(g(n), i32.const(4)))),
    ctl.block(
      ctl.br_if(0, i32.ge_u(g(dst), g(end))),
      ctl.loop(
        v128.store(g(dst), body(f, x, y)),
        local.set(dst, i32.add(g(dst), i32.const(16))),
        aVec ? local.set(a, i32.add(g(a), i32.const(16))) : [],
        bVec ? local.set(b, i32.add(g(b), i32.const(16))) : [],
        ctl.br_if(0, i32.lt_u(g(dst), g(end))),
      ),
    ),
  );
  return f;
}

/** Adds the op loops and the interpreter job of `dtype`; returns the loops' table slots. */
export function emitElementwise(
  mb: ModuleBuilder,
  dtype: "float32" | "float64",
  fma: boolean,
): OpTable {
  const V = floatSimd(dtype, fma);
  const dt = dtype === "float64" ? "f64" : "f32";
  const slot = (f: Func, label: string) => mb.tableSlot(mb.add(f, undefined, `${label}_${dt}`));
  const unary = {} as OpTable["unary"];
  for (const op of UNARY_OPS) {
    unary[op] = [
      slot(opLoop(V, true, true, (f, x) => UNARY[op](x, V, f)), `${op}_v`),
      slot(opLoop(V, false, false, (f, x) => UNARY[op](x, V, f)), `${op}_s`),
    ];
  }
  const binary = {} as OpTable["binary"];
  for (const op of BINARY_OPS) {
    binary[op] = FORMS.map((form) =>
      slot(
        opLoop(V, form[0] === "v", form[1] === "v", (f, x, y) => BINARY[op](x, y, V, f)),
        `${op}_${form}`,
      )
    ) as OpTable["binary"][BinaryOp];
  }
  const unit = mb.add(programUnit(mb, V), undefined, `program_unit_${dt}`);
  mb.add(interpreter(unit), `elementwise_${dt}`);
  return { unary, binary, unit };
}

/**
 * The job `(tid)`: runs the program in PROGRAM on the work units it claims, a unit
 * being at most CHUNK elements of one row of the grid.
 */
function interpreter(unit: number): Func {
  const f = new Func(["i32"]);
  const [tid] = [0];
  const [u, r, c0, upr] = f.localsOf("i32", 4);
  const g = local.get;
  const word = (w: number) => i32.load(i32.const(0), PROGRAM + 4 * w);
  f.body = seq(
    local.set(upr, word(PROG.unitsPerRow)),
    eachUnit(
      f,
      u,
      local.set(r, i32.div_u(g(u), g(upr))),
      local.set(c0, i32.mul(i32.sub(g(u), i32.mul(g(r), g(upr))), i32.const(CHUNK))),
      ctl.call(
        unit,
        g(tid),
        g(r),
        g(c0),
        i32.min_s(i32.sub(word(PROG.cols), g(c0)), i32.const(CHUNK)),
        i32.const(0),
      ),
    ),
  );
  return f;
}

/**
 * `(tid, r, c0, len, block)`: runs the program in PROGRAM on the `len` (at most
 * CHUNK) elements of grid row `r` from column `c0`, with thread `tid`'s registers;
 * `block` is where the row's elements of a `block` slot start.
 */
function programUnit(mb: ModuleBuilder, V: FloatSimd): Func {
  const f = new Func(["i32", "i32", "i32", "i32", "i32"]);
  const [tid, r, c0, len, block] = [0, 1, 2, 3, 4];
  const [
    base,
    scratch,
    slots,
    s,
    kind,
    ptr,
    addr,
    nslot,
    ninstr,
    instr,
    ins,
    nvec,
    last,
  ] = f.localsOf("i32", 13);
  const [nfull, rem, aAddr, bAddr, tail, outp, j, outs, o, otab] = f.localsOf("i32", 10);
  const g = local.get;
  const lay = scratchLayout();
  const word = (w: number) => i32.load(i32.const(0), PROGRAM + 4 * w);
  const sh = i32.const(V.shift);
  const loopType = mb.typeOf(["i32", "i32", "i32", "i32"]);
  const slotAddr = (sl: Code) => i32.load(i32.add(g(slots), i32.shl(sl, i32.const(2))));
  // The kind of slot `sl` is a vector (register, full, row or block leaf) rather than a splat.
  const slotKind = (sl: Code) =>
    i32.load(i32.add(i32.const(PROGRAM + 4 * PROG.header), i32.shl(sl, i32.const(3))));
  const isVec = (sl: Code) => i32.lt_u(slotKind(sl), i32.const(SLOT.col));
  const lanesShift = V.lanes === 2 ? 1 : 2;
  const call = (dst: Code, a: Code, b: Code, n: Code) =>
    ctl.call_indirect(loopType, i32.load(g(ins)), dst, a, b, n);
  f.body = seq(
    local.set(scratch, scratchOf(g(tid))),
    local.set(slots, i32.add(g(scratch), i32.const(lay.slots))),
    local.set(tail, i32.add(g(scratch), i32.const(lay.tail))),
    local.set(nslot, word(PROG.slots)),
    local.set(ninstr, word(PROG.instructions)),
    local.set(
      instr,
      i32.add(i32.const(PROGRAM + 4 * PROG.header), i32.shl(g(nslot), i32.const(3))),
    ),
    local.set(otab, i32.add(g(instr), i32.shl(g(ninstr), i32.const(4)))),
    local.set(outs, word(PROG.outputs)),
    seq(
      local.set(base, i32.add(i32.mul(g(r), word(PROG.cols)), g(c0))),
      // Slot addresses for this unit.
      forRange(
        s,
        i32.const(0),
        g(nslot),
        i32.const(1),
        local.set(kind, slotKind(g(s))),
        local.set(
          ptr,
          i32.load(
            i32.add(i32.const(PROGRAM + 4 * PROG.header + 4), i32.shl(g(s), i32.const(3))),
          ),
        ),
        local.set(
          addr,
          ctl.select(
            i32.add(
              g(scratch),
              i32.add(i32.const(lay.regs), i32.mul(g(ptr), i32.const(CHUNK * V.size))),
            ),
            ctl.select(
              i32.add(g(ptr), i32.shl(g(base), sh)),
              ctl.select(
                i32.add(g(ptr), i32.shl(g(c0), sh)),
                ctl.select(
                  g(block),
                  ctl.select(
                    i32.add(g(ptr), i32.shl(g(r), sh)),
                    g(ptr),
                    i32.eq(g(kind), i32.const(SLOT.col)),
                  ),
                  i32.eq(g(kind), i32.const(SLOT.block)),
                ),
                i32.eq(g(kind), i32.const(SLOT.row)),
              ),
              i32.eq(g(kind), i32.const(SLOT.full)),
            ),
            i32.eq(g(kind), i32.const(SLOT.register)),
          ),
        ),
        i32.store(i32.add(g(slots), i32.shl(g(s), i32.const(2))), g(addr)),
      ),
      local.set(nvec, i32.shr_u(i32.add(g(len), i32.const(V.lanes - 1)), i32.const(lanesShift))),
      local.set(ins, g(instr)),
      // Each output in turn, all on this unit: its instructions but the last write
      // registers; the last writes the output.
      forRange(
        o,
        i32.const(0),
        g(outs),
        i32.const(1),
        local.set(
          last,
          i32.add(
            g(instr),
            i32.shl(
              i32.sub(i32.load(i32.add(g(otab), i32.shl(g(o), i32.const(3)))), i32.const(1)),
              i32.const(4),
            ),
          ),
        ),
        ctl.block(
          ctl.br_if(0, i32.ge_u(g(ins), g(last))),
          ctl.loop(
            call(
              slotAddr(i32.load(g(ins), 4)),
              slotAddr(i32.load(g(ins), 8)),
              slotAddr(i32.load(g(ins), 12)),
              g(nvec),
            ),
            local.set(ins, i32.add(g(ins), i32.const(16))),
            ctl.br_if(0, i32.lt_u(g(ins), g(last))),
          ),
        ),
        // The output: whole vectors in place, a partial one via `tail`.
        local.set(
          outp,
          i32.add(
            i32.load(i32.add(g(otab), i32.shl(g(o), i32.const(3))), 4),
            i32.shl(g(base), sh),
          ),
        ),
        local.set(nfull, i32.shr_u(g(len), i32.const(lanesShift))),
        local.set(rem, i32.and(g(len), i32.const(V.lanes - 1))),
        local.set(aAddr, slotAddr(i32.load(g(ins), 8))),
        local.set(bAddr, slotAddr(i32.load(g(ins), 12))),
        ctl.if(g(nfull), [call(g(outp), g(aAddr), g(bAddr), g(nfull))]),
        ctl.if(g(rem), [
          ctl.if(isVec(i32.load(g(ins), 8)), [
            local.set(aAddr, i32.add(g(aAddr), i32.shl(g(nfull), i32.const(4)))),
          ]),
          ctl.if(isVec(i32.load(g(ins), 12)), [
            local.set(bAddr, i32.add(g(bAddr), i32.shl(g(nfull), i32.const(4)))),
          ]),
          call(g(tail), g(aAddr), g(bAddr), i32.const(1)),
          local.set(outp, i32.add(g(outp), i32.shl(g(nfull), i32.const(4)))),
          forRange(
            j,
            i32.const(0),
            g(rem),
            i32.const(1),
            V.storeScalar(
              i32.add(g(outp), i32.shl(g(j), sh)),
              V.loadScalar(i32.add(g(tail), i32.shl(g(j), sh))),
            ),
          ),
        ]),
        local.set(ins, i32.add(g(ins), i32.const(16))),
      ),
    ),
  );
  return f;
}
