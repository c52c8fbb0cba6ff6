/**
 * Emits matrix-vector products (a product with m = 1 or n = 1), which the packed
 * matmul would spend mostly on packing: every element of the matrix is used once, so
 * these stream it directly.
 *
 * - `gemv_dot_<dt>`: out[i] = sum_p x[i * ldx + p] v[p], a work unit per 16 outputs
 *   (rows of a row-major matrix times a vector);
 * - `gemv_axpy_<dt>`: out[j] = sum_p v[p] x[p * ldx + j], a work unit per 8 vectors of
 *   outputs held in registers while the loop runs down the rows.
 *
 * @module
 */
import {
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
import { claimLoop, eachUnit, param } from "./emit_common.ts";

/** Word indices of the gemv parameters in PARAMS. */
export const GV = { x: 0, ldx: 1, v: 2, out: 3, len: 4, count: 5 } as const;
/** Outputs per work unit of the dot form. */
export const DOT_ROWS = 16;
/** Vectors of outputs per work unit of the axpy form. */
export const AXPY_VECTORS = 8;

/** Adds the two gemv jobs of `dtype`. */
export function emitGemv(mb: ModuleBuilder, dtype: "float32" | "float64", fma: boolean): void {
  const V = floatSimd(dtype, fma);
  const dt = dtype === "float64" ? "f64" : "f32";
  mb.add(dotJob(V), `gemv_dot_${dt}`);
  mb.add(axpyJob(V), `gemv_axpy_${dt}`);
}

const g = local.get;

/**
 * Locals of `f` holding the job's parameters (`ldx` in bytes), and `load`, the code
 * that sets them: the prelude of both jobs.
 */
function gemvParams(f: Func, V: FloatSimd) {
  const [x, ldx, v, out, len, count] = f.localsOf("i32", 6);
  const load = seq(
    local.set(x, param(GV.x)),
    local.set(ldx, i32.shl(param(GV.ldx), i32.const(V.shift))),
    local.set(v, param(GV.v)),
    local.set(out, param(GV.out)),
    local.set(len, param(GV.len)),
    local.set(count, param(GV.count)),
  );
  return { x, ldx, v, out, len, count, load };
}

function dotJob(V: FloatSimd): Func {
  const f = new Func(["i32"]);
  const { x, ldx, v, out, len, count, load } = gemvParams(f, V);
  const [r, r1, row, vp, end, stop] = f.localsOf("i32", 6);
  const accs = f.localsOf("v128", 4);
  const s = f.local(V.size === 8 ? "f64" : "f32");
  const sh = i32.const(V.shift);
  const step = 4 * V.lanes; // elements per unrolled iteration
  f.body = seq(
    load,
    claimLoop(f, (u0, u1) =>
      seq(
        local.set(r1, i32.mul(g(u1), i32.const(DOT_ROWS))),
        local.set(r1, i32.min_s(g(r1), g(count))),
        forRange(
          r,
          i32.mul(g(u0), i32.const(DOT_ROWS)),
          g(r1),
          i32.const(1),
          local.set(row, i32.add(g(x), i32.mul(g(r), g(ldx)))),
          local.set(vp, g(v)),
          local.set(end, i32.add(g(row), i32.shl(g(len), sh))),
          local.set(stop, i32.add(g(row), i32.shl(i32.and(g(len), i32.const(-step)), sh))),
          ...accs.map((a) => local.set(a, V.constant(0))),
          ctl.block(
            ctl.br_if(0, i32.ge_u(g(row), g(stop))),
            ctl.loop(
              ...accs.map((a, i) =>
                local.set(a, V.madd(v128.load(g(row), 16 * i), v128.load(g(vp), 16 * i), g(a)))
              ),
              local.set(row, i32.add(g(row), i32.const(16 * accs.length))),
              local.set(vp, i32.add(g(vp), i32.const(16 * accs.length))),
              ctl.br_if(0, i32.lt_u(g(row), g(stop))),
            ),
          ),
          local.set(accs[0], V.add(V.add(g(accs[0]), g(accs[1])), V.add(g(accs[2]), g(accs[3])))),
          local.set(s, horizontalSum(V, g(accs[0]))),
          ctl.block(
            ctl.br_if(0, i32.ge_u(g(row), g(end))),
            ctl.loop(
              local.set(
                s,
                V.scalarAdd(g(s), scalarMul(V, V.loadScalar(g(row)), V.loadScalar(g(vp)))),
              ),
              local.set(row, i32.add(g(row), i32.const(V.size))),
              local.set(vp, i32.add(g(vp), i32.const(V.size))),
              ctl.br_if(0, i32.lt_u(g(row), g(end))),
            ),
          ),
          V.storeScalar(i32.add(g(out), i32.shl(g(r), sh)), g(s)),
        ),
      )),
  );
  return f;
}

function axpyJob(V: FloatSimd): Func {
  const f = new Func(["i32"]);
  const { x, ldx, v, out, len, count, load } = gemvParams(f, V);
  const [u, c0, p, xp, j, w] = f.localsOf("i32", 6);
  const accs = f.localsOf("v128", AXPY_VECTORS);
  const vs = f.local("v128");
  const s = f.local(V.size === 8 ? "f64" : "f32");
  const sh = i32.const(V.shift);
  const width = AXPY_VECTORS * V.lanes;
  f.body = seq(
    load,
    eachUnit(
      f,
      u,
      local.set(c0, i32.mul(g(u), i32.const(width))),
      local.set(w, i32.sub(g(count), g(c0))),
      ctl.if(
        i32.ge_s(g(w), i32.const(width)),
        [
          ...accs.map((a) => local.set(a, V.constant(0))),
          local.set(xp, i32.add(g(x), i32.shl(g(c0), sh))),
          forRange(
            p,
            i32.const(0),
            g(len),
            i32.const(1),
            local.set(vs, V.loadSplat(i32.add(g(v), i32.shl(g(p), sh)))),
            ...accs.map((a, i) => local.set(a, V.madd(g(vs), v128.load(g(xp), 16 * i), g(a)))),
            local.set(xp, i32.add(g(xp), g(ldx))),
          ),
          ...accs.map((a, i) => v128.store(i32.add(g(out), i32.shl(g(c0), sh)), g(a), 16 * i)),
        ],
        // The last, partial block: one column at a time.
        [
          forRange(
            j,
            g(c0),
            g(count),
            i32.const(1),
            local.set(s, V.scalarConst(0)),
            local.set(xp, i32.add(g(x), i32.shl(g(j), sh))),
            forRange(
              p,
              i32.const(0),
              g(len),
              i32.const(1),
              local.set(
                s,
                V.scalarAdd(
                  g(s),
                  scalarMul(
                    V,
                    V.loadScalar(i32.add(g(v), i32.shl(g(p), sh))),
                    V.loadScalar(g(xp)),
                  ),
                ),
              ),
              local.set(xp, i32.add(g(xp), g(ldx))),
            ),
            V.storeScalar(i32.add(g(out), i32.shl(g(j), sh)), g(s)),
          ),
        ],
      ),
    ),
  );
  return f;
}

function scalarMul(V: FloatSimd, a: number[], b: number[]): number[] {
  return seq(a, b, V.size === 8 ? 0xa2 : 0x94);
}

/** The sum of the lanes of `a` as a scalar of the element type. */
function horizontalSum(V: FloatSimd, a: number[]): number[] {
  const lanes = Array.from(
    { length: V.lanes },
    (_, i) => V.size === 8 ? v128.f64x2_extract_lane(a, i) : v128.f32x4_extract_lane(a, i),
  );
  return lanes.slice(1).reduce((acc, l) => V.scalarAdd(acc, l), lanes[0]);
}
