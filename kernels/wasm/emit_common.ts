/**
 * Pieces shared by the emitted jobs: parameter loads, the thread's scratch area, and
 * the work-claiming loop that every job runs. A job is `(tid)`: it claims `grain`
 * work units at a time from the shared counter until none is left, so a thread that
 * starts late (or is descheduled on a busy machine) simply does less of the work.
 *
 * @module
 */
import { atomic, type Code, ctl, forRange, type Func, i32, local, seq } from "./asm.ts";
import { CTL, CTL_GRAIN, CTL_NEXT, CTL_UNITS, PARAMS, THREAD_TABLE } from "./layout.ts";

/**
 * The first parameter words of both product jobs (emit_matmul.ts, emit_narrow.ts):
 * where op(A), op(B) and C lie, and the sizes.
 */
export const PRODUCT = { a: 0, b: 1, c: 2, m: 3, n: 4, k: 5 } as const;

/** Loads parameter word `w` of the current job. */
export const param = (w: number): Code => i32.load(i32.const(0), PARAMS + 4 * w);

/** The base address of thread `tid`'s scratch area. */
export const scratchOf = (tid: Code): Code => i32.load(i32.shl(tid, i32.const(2)), THREAD_TABLE);

/**
 * Claims units [u0, u1) in turn and runs `body` for each claim. `body` runs inside a
 * block and a loop: a `br` out of it needs its depth plus 2.
 */
export function claimLoop(f: Func, body: (u0: number, u1: number) => Code): Code {
  const [u0, u1, units, grain] = f.localsOf("i32", 4);
  const g = local.get;
  return seq(
    local.set(units, i32.load(i32.const(0), CTL + 4 * CTL_UNITS)),
    local.set(grain, i32.load(i32.const(0), CTL + 4 * CTL_GRAIN)),
    ctl.block(
      ctl.loop(
        local.set(u0, atomic.add(i32.const(0), g(grain), CTL + 4 * CTL_NEXT)),
        ctl.br_if(1, i32.ge_s(g(u0), g(units))),
        local.set(u1, i32.add(g(u0), g(grain))),
        local.set(u1, i32.min_s(g(u1), g(units))),
        body(u0, u1),
        ctl.br(0),
      ),
    ),
  );
}

/**
 * Runs `body` once per claimed work unit, with the unit's index in local `u`: the
 * loop every job but the range-based ones runs. `body` sits inside two blocks and two
 * loops (a `br` out of it needs its depth plus 4).
 */
export function eachUnit(f: Func, u: number, ...body: Code[]): Code {
  return claimLoop(f, (u0, u1) => forRange(u, local.get(u0), local.get(u1), i32.const(1), ...body));
}
