/**
 * Picks the float64 matmul tile for the machine at hand by timing the candidates of
 * {@link F64_TILES} on one thread, once per process. Which tile is fastest depends on
 * the processor: `6x4` was the faster on a Sapphire Rapids VM, `4x4` ran the MNIST
 * products 10-20% faster on a Zen 5 VM. Both tiles sum every element of C in the same
 * order, so the choice changes the speed, never a result (tested).
 *
 * The timing runs each candidate's microkernel over a packed 96 x 256 block of A and
 * a 256 x 96 block of B (192 KiB each, as in a real k block), in a module of its own
 * on a shared memory like the kernel's (V8 checks bounds on shared memory differently),
 * alternating the candidates round after round and keeping each one's best round: V8
 * first runs new code unoptimized and swaps in optimized code after some calls, and
 * the best round of each is then an optimized one. 30-60 ms in all, module included.
 *
 * @module
 */
import { ctl, floatSimd, forRange, Func, i32, local, ModuleBuilder } from "./asm.ts";
import { microkernel } from "./emit_matmul.ts";
import { F64_TILES, type F64Tile } from "./layout.ts";

/** Rows of A, columns of B and depth of the timed block. */
const ROWS = 96, COLS = 96, DEPTH = 256;
/** Byte offsets of packed A, packed B and C in the calibration memory. */
const A_AT = 0, B_AT = ROWS * DEPTH * 8, C_AT = B_AT + COLS * DEPTH * 8;
/** 64 KiB pages of the calibration memory. */
const PAGES = Math.ceil((C_AT + ROWS * COLS * 8) / 65536);
/** Timed rounds per candidate, and passes over the block per round (about 0.6 ms). */
const ROUNDS = 8, PASSES = 3;

/**
 * How much faster than the first tile of {@link F64_TILES} another must run to be
 * picked: on a busy machine two tiles of the same speed time a few percent apart, and
 * the pick should not flip from one process to the next.
 */
const MARGIN = 0.03;

const picked = new Map<boolean, Promise<F64Tile>>();

/**
 * The float64 tile for this machine, with relaxed-SIMD madd when `fma`: the first of
 * {@link F64_TILES} unless another ran more than 3% faster (timed once per process and
 * variant; later calls return the same answer). Timing only picks a speed, so if it
 * fails the first tile is taken.
 */
export function calibrateF64Tile(fma: boolean): Promise<F64Tile> {
  let p = picked.get(fma);
  if (!p) picked.set(fma, p = time(fma).catch(() => FIRST));
  return p;
}

const FIRST = Object.keys(F64_TILES)[0] as F64Tile;

// A programming error, not a machine's: fail at import rather than fall back quietly.
for (const [name, { mr, nv, kc, mc, a }] of Object.entries(F64_TILES)) {
  const unfit = (a === "swap" || a === "vector") && mr % 2 !== 0;
  if (unfit || mc % mr !== 0 || kc < DEPTH || ROWS % mr !== 0 || COLS % (2 * nv) !== 0) {
    throw new Error(`wasm kernel: float64 tile ${name} is malformed or does not suit the timing`);
  }
}

/** `(passes)`: the microkernel `kern` over every mr x nr tile of the block, `passes` times. */
function driver(kern: number, mr: number, nr: number): Func {
  const f = new Func(["i32"]);
  const [passes] = [0];
  const [r, ip, jp] = f.localsOf("i32", 3);
  const g = local.get;
  f.body = forRange(
    r,
    i32.const(0),
    g(passes),
    i32.const(1),
    forRange(
      jp,
      i32.const(0),
      i32.const(COLS / nr),
      i32.const(1),
      forRange(
        ip,
        i32.const(0),
        i32.const(ROWS / mr),
        i32.const(1),
        ctl.call(
          kern,
          i32.add(i32.const(A_AT), i32.mul(g(ip), i32.const(mr * DEPTH * 8))),
          i32.add(i32.const(B_AT), i32.mul(g(jp), i32.const(nr * DEPTH * 8))),
          i32.const(DEPTH),
          i32.add(
            i32.const(C_AT),
            i32.add(i32.mul(g(ip), i32.const(mr * COLS * 8)), i32.mul(g(jp), i32.const(nr * 8))),
          ),
          i32.const(COLS * 8),
          i32.const(0),
        ),
      ),
    ),
  );
  return f;
}

async function time(fma: boolean): Promise<F64Tile> {
  const names = Object.keys(F64_TILES) as F64Tile[];
  const V = floatSimd("float64", fma);
  const mb = new ModuleBuilder();
  for (const name of names) {
    const { mr, nv, a } = F64_TILES[name];
    const kern = mb.add(microkernel(V, mr, nv, a), undefined, `microkernel_${name}`);
    mb.add(driver(kern, mr, 2 * nv), `run_${name}`);
  }
  const memory = new WebAssembly.Memory({ initial: PAGES, maximum: PAGES, shared: true });
  const { instance } = await WebAssembly.instantiate(mb.encode(), { env: { memory } });
  const data = new Float64Array(memory.buffer, 0, C_AT / 8);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i);
  const runs = names.map((name) => instance.exports[`run_${name}`] as (passes: number) => void);
  const best = names.map(() => Infinity);
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which candidate goes first, so that a drift favours neither.
    for (let j = 0; j < runs.length; j++) {
      const i = round % 2 === 0 ? j : runs.length - 1 - j;
      const t0 = performance.now();
      runs[i](PASSES);
      best[i] = Math.min(best[i], performance.now() - t0);
    }
  }
  const fastest = best.indexOf(Math.min(...best));
  return best[fastest] < (1 - MARGIN) * best[0] ? names[fastest] : names[0];
}
