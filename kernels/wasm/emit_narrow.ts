/**
 * Emits products with a narrow op(B): 1 to {@link NARROW_MAX_VECTORS} vectors of columns
 * (a whole number of them), B not transposed. The packed matmul would spend most of such
 * a product packing op(A), whose every element it then uses for a few columns only; this
 * job reads both operands where they lie.
 *
 * - `narrow_<dt>`: a work unit per {@link NARROW_ROWS} rows of C. Each group of R rows
 *   keeps R x V accumulators (V = n / lanes) while the loop runs down k: per step it
 *   splats the R values of op(A), then loads each vector of B's row and adds its
 *   products to the R rows. Every element of C is one chain of multiply-adds in the
 *   order of k, computed by one thread, so results do not depend on the thread count.
 * - No epilogue: the element-wise program, run on each finished row of C, was slower
 *   than a pass of its own (see epilogueOf in kernel.ts).
 *
 * @module
 */
import {
  ctl,
  type FloatSimd,
  floatSimd,
  Func,
  i32,
  local,
  type ModuleBuilder,
  seq,
  v128,
} from "./asm.ts";
import { eachUnit, param, PRODUCT } from "./emit_common.ts";

/** Word indices of the narrow-product parameters in PARAMS. */
export const NW = {
  ...PRODUCT,
  /** Bytes from one row of op(A) to the next: k * size, or size when transposed. */
  arow: 6,
  /** Bytes from one step of k to the next in op(A): size, or m * size when transposed. */
  astep: 7,
} as const;

/** Rows of C per work unit. */
export const NARROW_ROWS = 16;
/** Most vectors of columns of a narrow product (16 float64 or 32 float32 columns). */
export const NARROW_MAX_VECTORS = 8;

/**
 * Rows per register group for V vectors of columns: R x V accumulators, R splats and
 * one B vector stay within V8's 15 xmm registers, with 8 or more accumulators where V
 * allows (a multiply-add has a latency of 4 cycles and two issue ports). Without fma the
 * product needs a temporary, so the fullest groups (V = 6: 15 vectors) may spill one:
 * slower, the same results.
 */
const GROUP_ROWS = [0, 6, 4, 3, 2, 2, 2, 1, 1];

/** Adds the narrow-product job of `dtype`. */
export function emitNarrow(mb: ModuleBuilder, dtype: "float32" | "float64", fma: boolean): void {
  const V = floatSimd(dtype, fma);
  const dt = dtype === "float64" ? "f64" : "f32";
  const rows = Array.from(
    { length: NARROW_MAX_VECTORS + 1 },
    (_, vecs) => vecs === 0 ? -1 : mb.add(rowsOf(V, vecs), undefined, `narrow_rows${vecs}_${dt}`),
  );
  mb.add(narrowJob(V, rows), `narrow_${dt}`);
}

const g = local.get;

/** Job `(tid)`: unit u computes rows [u * NARROW_ROWS, ...) with the function for n / lanes. */
function narrowJob(V: FloatSimd, rows: number[]): Func {
  const f = new Func(["i32"]);
  // Param 0 is the thread id, which this job does not need.
  const [u, i0, i1, vecs] = f.localsOf("i32", 4);
  const laneShift = V.lanes === 2 ? 1 : 2;
  f.body = seq(
    local.set(vecs, i32.shr_u(param(NW.n), i32.const(laneShift))),
    eachUnit(
      f,
      u,
      local.set(i0, i32.mul(g(u), i32.const(NARROW_ROWS))),
      local.set(i1, i32.add(g(i0), i32.const(NARROW_ROWS))),
      local.set(i1, i32.min_s(g(i1), param(NW.m))),
      ...rows.slice(1).map((fn, v) =>
        ctl.if(i32.eq(g(vecs), i32.const(v + 1)), [ctl.call(fn, g(i0), g(i1))])
      ),
    ),
  );
  return f;
}

/** `(i0, i1)`: rows [i0, i1) of C for `vecs` vectors of columns. */
function rowsOf(V: FloatSimd, vecs: number): Func {
  const f = new Func(["i32", "i32"]);
  const [i0, i1] = [0, 1];
  const R = GROUP_ROWS[vecs];
  const [i, bp, steps, rowBytes, arow, astep, crow] = f.localsOf("i32", 7);
  const aps = f.localsOf("i32", R);
  const splats = f.localsOf("v128", R);
  const accs = Array.from({ length: R }, () => f.localsOf("v128", vecs));
  const [bv] = f.localsOf("v128", 1);
  const sh = i32.const(V.shift);
  /** Rows i..i+h-1 (h <= R): accumulate down k and store. */
  const group = (h: number) =>
    seq(
      ...aps.slice(0, h).map((ap, t) =>
        local.set(ap, i32.add(param(NW.a), i32.mul(i32.add(g(i), i32.const(t)), g(arow))))
      ),
      ...accs.slice(0, h).flat().map((acc) => local.set(acc, V.constant(0))),
      local.set(bp, param(NW.b)),
      // A count of the steps down k, not an end address: B may end at 4 GiB (end 0).
      local.set(steps, param(NW.k)),
      ctl.block(
        ctl.br_if(0, i32.le_s(g(steps), i32.const(0))),
        ctl.loop(
          ...splats.slice(0, h).map((sp, t) =>
            seq(
              local.set(sp, V.loadSplat(g(aps[t]))),
              local.set(aps[t], i32.add(g(aps[t]), g(astep))),
            )
          ),
          ...Array.from({ length: vecs }, (_, v) =>
            seq(
              local.set(bv, v128.load(g(bp), 16 * v)),
              ...accs.slice(0, h).map((row, t) =>
                local.set(row[v], V.madd(g(splats[t]), g(bv), g(row[v])))
              ),
            )),
          local.set(bp, i32.add(g(bp), g(rowBytes))),
          ctl.br_if(0, local.tee(steps, i32.sub(g(steps), i32.const(1)))),
        ),
      ),
      ...accs.slice(0, h).map((row, t) =>
        seq(
          local.set(
            crow,
            i32.add(param(NW.c), i32.mul(i32.add(g(i), i32.const(t)), g(rowBytes))),
          ),
          ...row.map((acc, v) => v128.store(g(crow), g(acc), 16 * v)),
        )
      ),
      local.set(i, i32.add(g(i), i32.const(h))),
    );
  f.body = seq(
    local.set(rowBytes, i32.shl(param(NW.n), sh)),
    local.set(arow, param(NW.arow)),
    local.set(astep, param(NW.astep)),
    local.set(i, g(i0)),
    // Groups of R rows, then the rest one at a time.
    ctl.block(
      ctl.br_if(0, i32.gt_s(i32.add(g(i), i32.const(R)), g(i1))),
      ctl.loop(group(R), ctl.br_if(0, i32.le_s(i32.add(g(i), i32.const(R)), g(i1)))),
    ),
    ctl.block(
      ctl.br_if(0, i32.ge_s(g(i), g(i1))),
      ctl.loop(group(1), ctl.br_if(0, i32.lt_s(g(i), g(i1)))),
    ),
  );
  return f;
}
