/**
 * Emits reductions and the transpose of one dtype. Sums and maxima accumulate in f64
 * vectors (float32 data is widened as it is read), like the ts kernel, and every
 * output is computed by one thread in a fixed order, so results do not depend on the
 * thread count:
 *
 * - `reduce_rows_<op>_<dt>`: axis 1, a work unit per row;
 * - `reduce_cols_<op>_<dt>`: axis 0, a unit per COLS_PER_UNIT columns, accumulated
 *   row by row in per-thread scratch;
 * - `reduce_all_<op>_<dt>`: a unit per REDUCE_BLOCK elements, each giving an f64
 *   partial that the caller combines in order;
 * - `transpose_<dt>`: a unit per 32 rows of the input, in 32 x 32 tiles.
 *
 * @module
 */
import type { ReduceOp } from "../../lib/kernel.ts";
import {
  type Code,
  ctl,
  f64,
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
import { eachUnit, param, scratchOf } from "./emit_common.ts";
import { COLS_PER_UNIT, REDUCE_BLOCK, scratchLayout } from "./layout.ts";

/** Word indices of the reduction and transpose parameters in PARAMS. */
export const RP = { a: 0, rows: 1, cols: 2, out: 3 } as const;

const F64X2 = floatSimd("float64", false);

/** Adds the reduction and transpose jobs of `dtype` to `mb`. */
export function emitReduce(mb: ModuleBuilder, dtype: "float32" | "float64"): void {
  const V = floatSimd(dtype, false);
  const dt = dtype === "float64" ? "f64" : "f32";
  for (const op of ["sum", "max"] as ReduceOp[]) {
    const range = mb.add(rangeReducer(V, op), undefined, `reduce_range_${op}_${dt}`);
    mb.add(rowsJob(V, range, false), `reduce_rows_${op}_${dt}`);
    mb.add(rowsJob(V, range, true), `reduce_all_${op}_${dt}`);
    mb.add(colsJob(V, op), `reduce_cols_${op}_${dt}`);
  }
  mb.add(transposeJob(V), `transpose_${dt}`);
}

const combine = (op: ReduceOp) => (op === "sum" ? F64X2.add : F64X2.max);
const scalarCombine = (op: ReduceOp) => (op === "sum" ? f64.add : f64.max);
const identity = (op: ReduceOp) => (op === "sum" ? 0 : -Infinity);

/** One element at `addr` as an f64 scalar. */
const loadAsF64 = (V: FloatSimd, addr: Code): Code =>
  V.size === 8 ? V.loadScalar(addr) : f64.promote(V.loadScalar(addr));

/** `(ptr, len) -> f64`: the sum or max of `len` elements, in f64. */
function rangeReducer(V: FloatSimd, op: ReduceOp): Func {
  const f = new Func(["i32", "i32"], ["f64"]);
  const [ptr, len] = [0, 1];
  const accs = f.localsOf("v128", 4);
  const [end, stop, v] = [f.local("i32"), f.local("i32"), f.local("v128")];
  const s = f.local("f64");
  const g = local.get;
  const cmb = combine(op);
  // Each iteration reads 16 bytes per accumulator pair in f32 (4 values) or 2 vectors in f64.
  const perIter = V.size === 8 ? 8 : 8; // elements
  const body = V.size === 8
    ? accs.map((acc, i) => local.set(acc, cmb(g(acc), v128.load(g(ptr), 16 * i))))
    : [0, 1].flatMap((i) => [
      local.set(v, v128.load(g(ptr), 16 * i)),
      local.set(accs[2 * i], cmb(g(accs[2 * i]), v128.f64x2_promote_low(g(v)))),
      local.set(
        accs[2 * i + 1],
        cmb(g(accs[2 * i + 1]), v128.f64x2_promote_low(v128.high_to_low(g(v)))),
      ),
    ]);
  f.body = seq(
    ...accs.map((acc) => local.set(acc, F64X2.constant(identity(op)))),
    local.set(end, i32.add(g(ptr), i32.shl(g(len), i32.const(V.shift)))),
    local.set(
      stop,
      i32.add(g(ptr), i32.shl(i32.and(g(len), i32.const(-perIter)), i32.const(V.shift))),
    ),
    ctl.block(
      ctl.br_if(0, i32.ge_u(g(ptr), g(stop))),
      ctl.loop(
        ...body,
        local.set(ptr, i32.add(g(ptr), i32.const(perIter * V.size))),
        ctl.br_if(0, i32.lt_u(g(ptr), g(stop))),
      ),
    ),
    local.set(accs[0], cmb(cmb(g(accs[0]), g(accs[1])), cmb(g(accs[2]), g(accs[3])))),
    local.set(
      s,
      scalarCombine(op)(
        v128.f64x2_extract_lane(g(accs[0]), 0),
        v128.f64x2_extract_lane(g(accs[0]), 1),
      ),
    ),
    ctl.block(
      ctl.br_if(0, i32.ge_u(g(ptr), g(end))),
      ctl.loop(
        local.set(s, scalarCombine(op)(g(s), loadAsF64(V, g(ptr)))),
        local.set(ptr, i32.add(g(ptr), i32.const(V.size))),
        ctl.br_if(0, i32.lt_u(g(ptr), g(end))),
      ),
    ),
    g(s),
  );
  return f;
}

/**
 * Axis 1 (`all` false): out[r] = range(row r) in the dtype. Whole array (`all` true):
 * out[b] = range(block b of REDUCE_BLOCK elements) in f64, with `cols` the length.
 */
function rowsJob(V: FloatSimd, range: number, all: boolean): Func {
  const f = new Func(["i32"]);
  const [r, a, cols, out, len] = f.localsOf("i32", 5);
  const g = local.get;
  const sh = i32.const(V.shift);
  const rowLen = all ? i32.const(REDUCE_BLOCK) : g(cols);
  const value = ctl.call(range, i32.add(g(a), i32.shl(i32.mul(g(r), rowLen), sh)), g(len));
  f.body = seq(
    local.set(a, param(RP.a)),
    local.set(cols, param(RP.cols)),
    local.set(out, param(RP.out)),
    eachUnit(
      f,
      r,
      all
        ? seq(
          local.set(len, i32.sub(g(cols), i32.mul(g(r), i32.const(REDUCE_BLOCK)))),
          local.set(len, i32.min_s(g(len), i32.const(REDUCE_BLOCK))),
          f64.store(i32.add(g(out), i32.shl(g(r), i32.const(3))), value),
        )
        : seq(
          local.set(len, g(cols)),
          V.storeScalar(
            i32.add(g(out), i32.shl(g(r), sh)),
            V.size === 8 ? value : seq(value, 0xb6),
          ),
        ),
    ),
  );
  return f;
}

/** Axis 0: units of COLS_PER_UNIT columns, accumulated row by row in f64 scratch. */
function colsJob(V: FloatSimd, op: ReduceOp): Func {
  const f = new Func(["i32"]);
  const [tid] = [0];
  const [u, a, rows, cols, out, c0, w, acc, r, rowp, c, pairsEnd] = f.localsOf("i32", 12);
  const g = local.get;
  const sh = i32.const(V.shift);
  const cmb = combine(op);
  const lay = scratchLayout();
  const load2 = (addr: Code): Code =>
    V.size === 8 ? v128.load(addr) : v128.f64x2_promote_low(v128.load64_zero(addr));
  const accAt = (col: Code) => i32.add(g(acc), i32.shl(col, i32.const(3)));
  f.body = seq(
    local.set(a, param(RP.a)),
    local.set(rows, param(RP.rows)),
    local.set(cols, param(RP.cols)),
    local.set(out, param(RP.out)),
    local.set(acc, i32.add(scratchOf(g(tid)), i32.const(lay.acc))),
    eachUnit(
      f,
      u,
      local.set(c0, i32.mul(g(u), i32.const(COLS_PER_UNIT))),
      local.set(w, i32.sub(g(cols), g(c0))),
      local.set(w, i32.min_s(g(w), i32.const(COLS_PER_UNIT))),
      local.set(pairsEnd, i32.and(g(w), i32.const(-2))),
      forRange(
        c,
        i32.const(0),
        g(w),
        i32.const(1),
        f64.store(accAt(g(c)), f64.const(identity(op))),
      ),
      forRange(
        r,
        i32.const(0),
        g(rows),
        i32.const(1),
        local.set(rowp, i32.add(g(a), i32.shl(i32.add(i32.mul(g(r), g(cols)), g(c0)), sh))),
        forRange(
          c,
          i32.const(0),
          g(pairsEnd),
          i32.const(2),
          v128.store(
            accAt(g(c)),
            cmb(v128.load(accAt(g(c))), load2(i32.add(g(rowp), i32.shl(g(c), sh)))),
          ),
        ),
        ctl.if(i32.ne(g(pairsEnd), g(w)), [
          f64.store(
            accAt(g(pairsEnd)),
            scalarCombine(op)(
              f64.load(accAt(g(pairsEnd))),
              loadAsF64(V, i32.add(g(rowp), i32.shl(g(pairsEnd), sh))),
            ),
          ),
        ]),
      ),
      forRange(
        c,
        i32.const(0),
        g(w),
        i32.const(1),
        V.storeScalar(
          i32.add(g(out), i32.shl(i32.add(g(c0), g(c)), sh)),
          V.size === 8 ? f64.load(accAt(g(c))) : seq(f64.load(accAt(g(c))), 0xb6),
        ),
      ),
    ),
  );
  return f;
}

const TILE = 32;

/** out (cols x rows) = transpose of a (rows x cols), 32 x 32 tiles. */
function transposeJob(V: FloatSimd): Func {
  const f = new Func(["i32"]);
  const [a, rows, cols, out, u, r0, c0, r1, c1, r, c, src, dst] = f.localsOf("i32", 13);
  const g = local.get;
  const sh = i32.const(V.shift);
  f.body = seq(
    local.set(a, param(RP.a)),
    local.set(rows, param(RP.rows)),
    local.set(cols, param(RP.cols)),
    local.set(out, param(RP.out)),
    eachUnit(
      f,
      u,
      local.set(r0, i32.mul(g(u), i32.const(TILE))),
      local.set(r1, i32.add(g(r0), i32.const(TILE))),
      local.set(r1, i32.min_s(g(r1), g(rows))),
      forRange(
        c0,
        i32.const(0),
        g(cols),
        i32.const(TILE),
        local.set(c1, i32.add(g(c0), i32.const(TILE))),
        local.set(c1, i32.min_s(g(c1), g(cols))),
        forRange(
          r,
          g(r0),
          g(r1),
          i32.const(1),
          local.set(src, i32.add(g(a), i32.shl(i32.add(i32.mul(g(r), g(cols)), g(c0)), sh))),
          local.set(dst, i32.add(g(out), i32.shl(i32.add(i32.mul(g(c0), g(rows)), g(r)), sh))),
          forRange(
            c,
            g(c0),
            g(c1),
            i32.const(1),
            V.storeScalar(g(dst), V.loadScalar(g(src))),
            local.set(src, i32.add(g(src), i32.const(V.size))),
            local.set(dst, i32.add(g(dst), i32.shl(g(rows), sh))),
          ),
        ),
      ),
    ),
  );
  return f;
}
