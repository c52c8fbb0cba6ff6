/**
 * Picks the matmul tile of a dtype for the machine at hand by timing the candidates of
 * {@link TILES} on one thread, once per process (float64 by default, float32 when asked:
 * see `f32Tile` in mod.ts). Which tile is fastest depends on the processor: in float64,
 * `6x4` was the faster on a Sapphire Rapids VM and `4x4` ran the MNIST products 10-20%
 * faster on a Zen 5 VM. The tiles of a dtype sum every element of C in the same order,
 * so the choice changes the speed, never a result (tested).
 *
 * The timing runs each candidate's microkernel over a packed 96 x 256 block of A and a
 * 256 x 96 block of B (192 KiB each in float64, as in a real k block), in a module of
 * its own on a shared memory like the kernel's (V8 checks bounds on shared memory
 * differently), alternating the candidates round after round and keeping each one's
 * best round: V8 first runs new code unoptimized and swaps in optimized code after some
 * calls, and the best round of each is then an optimized one. 30-60 ms per dtype,
 * module included.
 *
 * @module
 */
import { ctl, floatSimd, forRange, Func, i32, local, ModuleBuilder } from "./asm.ts";
import { microkernel } from "./emit_matmul.ts";
import { SIZE } from "./heap.ts";
import { type MatmulShape, TILES, type Tiles } from "./layout.ts";

/** Rows of A, columns of B and depth of the timed block. */
const ROWS = 96, COLS = 96, DEPTH = 256;
/** Timed rounds per candidate, and passes over the block per round (about 0.6 ms). */
const ROUNDS = 8, PASSES = 3;

/**
 * How much faster than the first tile of its table another must run to be picked: on
 * a busy machine two tiles of the same speed time a few percent apart, and the pick
 * should not flip from one process to the next.
 */
const MARGIN = 0.03;

type DType = keyof Tiles;
const picked = new Map<string, Promise<string>>();

/**
 * The tile of `dtype` for this machine, with relaxed-SIMD madd when `fma`: the first of
 * its table unless another ran more than 3% faster (timed once per process and
 * variant; later calls return the same answer). Timing only picks a speed, so if it
 * fails the first tile is taken.
 */
export function calibrateTile<D extends DType>(dtype: D, fma: boolean): Promise<Tiles[D]> {
  const key = `${dtype} ${fma}`;
  let p = picked.get(key);
  if (!p) {
    const first = Object.keys(TILES[dtype])[0];
    picked.set(key, p = time(dtype, fma).catch(() => first));
  }
  return p as Promise<Tiles[D]>;
}

// A programming error, not a machine's: fail at import rather than fall back quietly.
for (const [dtype, table] of Object.entries(TILES)) {
  const lanes = 16 / SIZE[dtype as DType];
  for (const [name, { mr, nv, kc, mc, a }] of Object.entries(table)) {
    const unfit = (a === "swap" && (lanes !== 2 || mr % 2 !== 0)) ||
      (a === "vector" && mr % lanes !== 0);
    if (unfit || mc % mr !== 0 || kc < DEPTH || ROWS % mr !== 0 || COLS % (nv * lanes) !== 0) {
      throw new Error(
        `wasm kernel: ${dtype} tile ${name} is malformed or does not suit the timing`,
      );
    }
  }
}

/**
 * `(passes)`: the microkernel `kern` over every mr x nr tile of the block, `passes`
 * times; elements of `size` bytes, packed A at 0, packed B and then C after it.
 */
function driver(kern: number, mr: number, nr: number, size: number): Func {
  const B_AT = ROWS * DEPTH * size, C_AT = B_AT + COLS * DEPTH * size;
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
          i32.mul(g(ip), i32.const(mr * DEPTH * size)),
          i32.add(i32.const(B_AT), i32.mul(g(jp), i32.const(nr * DEPTH * size))),
          i32.const(DEPTH),
          i32.add(
            i32.const(C_AT),
            i32.add(
              i32.mul(g(ip), i32.const(mr * COLS * size)),
              i32.mul(g(jp), i32.const(nr * size)),
            ),
          ),
          i32.const(COLS * size),
          i32.const(0),
        ),
      ),
    ),
  );
  return f;
}

async function time(dtype: DType, fma: boolean): Promise<string> {
  const table: Record<string, MatmulShape> = TILES[dtype];
  const names = Object.keys(table);
  const V = floatSimd(dtype, fma);
  const size = V.size;
  const mb = new ModuleBuilder();
  for (const name of names) {
    const { mr, nv, a } = table[name];
    const kern = mb.add(microkernel(V, mr, nv, a), undefined, `microkernel_${name}`);
    mb.add(driver(kern, mr, nv * V.lanes, size), `run_${name}`);
  }
  const bytes = (ROWS + COLS) * DEPTH * size + ROWS * COLS * size;
  const pages = Math.ceil(bytes / 65536);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const { instance } = await WebAssembly.instantiate(mb.encode(), { env: { memory } });
  const data = dtype === "float64"
    ? new Float64Array(memory.buffer, 0, (ROWS + COLS) * DEPTH)
    : new Float32Array(memory.buffer, 0, (ROWS + COLS) * DEPTH);
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
