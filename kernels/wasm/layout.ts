/**
 * The fixed layout of the wasm kernel's memory and the tuning constants that the
 * emitted code and the TypeScript side share. Addresses are byte offsets.
 *
 * @module
 */

/** Control words (Int32), see pool.ts. */
export const CTL = 0;
/**
 * Int32 indices into the control block: the generation workers sleep on, the job's
 * state (workers inside it, plus {@link CLOSED}), the job, the next unclaimed work
 * unit, the number of units, units per claim, and an error flag.
 */
export const CTL_GEN = 0,
  CTL_STATE = 1,
  CTL_JOB = 2,
  CTL_NEXT = 3,
  CTL_UNITS = 4,
  CTL_GRAIN = 5,
  CTL_ERROR = 6;
/** State bit: the job takes no more workers. */
export const CLOSED = 1 << 30;
/** Parameters of the current job: 64 Int32 words. */
export const PARAMS = 64;
/** Per-thread scratch base addresses (Int32), for up to {@link MAX_THREADS} threads. */
export const THREAD_TABLE = 512;
/** Most threads (the main thread included). */
export const MAX_THREADS = 64;
/** The element-wise program (see program.ts): 7 KiB of Int32 words. */
export const PROGRAM = 1024;
/** Bytes of the program area. */
export const PROGRAM_BYTES = 7168;
/** The heap managed by the allocator starts here. */
export const HEAP = 8192;

/** Register blocking and cache blocking of one dtype's matmul. */
export interface MatmulShape {
  /** Rows of a microkernel tile. */
  mr: number;
  /** Vectors per row of a tile (columns = nv * lanes). */
  nv: number;
  /** Largest depth of a packed block. */
  kc: number;
  /** Largest row count of a packed block of op(A) (a multiple of mr). */
  mc: number;
  /**
   * How a step reads A: `splat` loads each value into all lanes; `vector` loads whole
   * vectors and broadcasts lanes with shuffles (fewer bounds-checked loads; needs mr a
   * multiple of the lanes); `swap` (float64 only, mr even) multiplies each A vector of
   * two rows, and that vector with its lanes swapped, by the B vectors as they are, so
   * each 2 x 2 block of C sits in two accumulators, its diagonal and its anti-diagonal,
   * sorted into rows when the tile is stored. No broadcast at all: per step mr / 2 + nv
   * loads and mr / 2 shuffles instead of mr + nv loads.
   */
  a: "splat" | "vector" | "swap";
}

/**
 * The float64 tiles a kernel picks from when it loads (see calibrate.ts), both read by
 * lane swaps with the same k blocks, so they give the same results bit for bit:
 *
 * - `6x4`: 12 accumulators, 2 B vectors, an A vector and its swap, one more than V8's
 *   15 allocatable xmm registers, so one accumulator lives on the stack. On a 2-core
 *   Sapphire Rapids VM it beat the splat form by 8-13% (a stack access has no bounds
 *   check), and swapped 2 x 12, 4 x 4 and 12 x 2 tiles were within 5% of the splat form.
 * - `4x4`: 8 accumulators and 4 more vectors, all in registers. On a 2-core AMD Zen 5 VM
 *   it ran 1024^3 and the MNIST products 10-20% faster than `6x4` on 1 and 2 threads;
 *   4 x 4 splat and 8 x 2 swapped tiles were within the noise of it, and 4 x 6 slower.
 *   The spill is not why: a `6x4` that reloads each B vector instead of holding both
 *   (15 live vectors) ran no faster there.
 */
export const F64_TILES = {
  "6x4": { mr: 6, nv: 2, kc: 256, mc: 96, a: "swap" },
  "4x4": { mr: 4, nv: 2, kc: 256, mc: 96, a: "swap" },
} as const satisfies Record<string, MatmulShape>;

/** The name of a float64 tile in {@link F64_TILES}. */
export type F64Tile = keyof typeof F64_TILES;

/**
 * The float32 tiles: `4x8` by default, the other on request or timed like the float64
 * ones with `f32Tile: "auto"` (see mod.ts); the same k blocks, so the same results bit
 * for bit:
 *
 * - `4x8`: 8 accumulators, A read as one vector and broadcast by lane shuffles (fewer
 *   bounds-checked loads): the tile tuned on the Sapphire Rapids VM.
 * - `6x8`: 12 accumulators, each A value a splat load (15 vectors in all). On the Zen 5
 *   VM, 11-15% faster than `4x8` on 1024^3 (94-96 against 82-86 GFLOP/s on 2 threads),
 *   12-14% on the MNIST products on 1 thread but 1-3% on 2; 4 x 8 splat and 8 x 4 vector
 *   tiles fell between the two, and 8 x 8 (spilled) well below. Its timing there was not
 *   stable across processes (kernels/wasm/README.md), hence not the default.
 */
export const F32_TILES = {
  "4x8": { mr: 4, nv: 2, kc: 384, mc: 128, a: "vector" },
  "6x8": { mr: 6, nv: 2, kc: 384, mc: 126, a: "splat" },
} as const satisfies Record<string, MatmulShape>;

/** The name of a float32 tile in {@link F32_TILES}. */
export type F32Tile = keyof typeof F32_TILES;

/** The tile tables by dtype. */
export const TILES = { float64: F64_TILES, float32: F32_TILES } as const;

/** The tiles a kernel runs, by dtype. */
export interface Tiles {
  float64: F64Tile;
  float32: F32Tile;
}

/** Matmul blocking per dtype for `tiles`. */
export function matmulShapes(tiles: Tiles): { float64: MatmulShape; float32: MatmulShape } {
  return { float64: F64_TILES[tiles.float64], float32: F32_TILES[tiles.float32] };
}

/** Bytes of a thread's scratch for the op(B) panels of one work unit and k block (inline packing). */
export const INLINE_B_BYTES = 64 * 1024;
/** Elements per chunk of the element-wise interpreter (one register). */
export const CHUNK = 2048;
/** Most registers of an element-wise program. */
export const MAX_REGS = 16;
/** Columns per work unit of a column reduction (axis 0). */
export const COLS_PER_UNIT = 256;
/** Elements per partial sum of a whole-array reduction. */
export const REDUCE_BLOCK = 4096;

/** Byte offsets inside one thread's scratch area. */
export function scratchLayout(): {
  tile: number;
  regs: number;
  tail: number;
  slots: number;
  acc: number;
  bpanels: number;
  bytes: number;
} {
  const align = (n: number) => Math.ceil(n / 64) * 64;
  const tileBytes = Math.max(
    ...Object.values(F64_TILES).map((d) => d.mr * d.nv * 2 * 8),
    ...Object.values(F32_TILES).map((s) => s.mr * s.nv * 4 * 4),
  );
  let at = 0;
  const tile = at;
  at = align(at + tileBytes);
  const regs = at;
  at = align(at + MAX_REGS * CHUNK * 8);
  const tail = at;
  at = align(at + 64);
  const slots = at;
  at = align(at + 4 * 2 * 64);
  const acc = at;
  at = align(at + COLS_PER_UNIT * 8);
  const bpanels = at;
  at = align(at + INLINE_B_BYTES);
  return { tile, regs, tail, slots, acc, bpanels, bytes: at };
}
