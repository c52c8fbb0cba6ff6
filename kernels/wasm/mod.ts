/**
 * The WebAssembly kernel: float64 and float32 on the CPU with SIMD128 (relaxed-SIMD
 * fused multiply-add where the runtime has it) and worker threads that share one
 * WebAssembly memory. The module is emitted by TypeScript at load time: nothing
 * happens at import, and nothing binary is committed (see README.md).
 *
 * @example
 * ```ts
 * import { createWasmKernel } from "./mod.ts";
 *
 * const kernel = await createWasmKernel();
 * const a = kernel.upload([1, 2, 3, 4], "float64"); // 2x2
 * const c = kernel.matmul(a, a, { m: 2, n: 2, k: 2, transA: false, transB: false });
 * console.log(kernel.readSync(c)); // Float64Array [7, 10, 15, 22]
 * kernel.destroy();
 * ```
 *
 * @module
 */
import { JOBS, makeWasmKernel, PACK_BYTES, type WasmKernel } from "./kernel.ts";
import { buildModule, wasmFeatures } from "./module.ts";
import { calibrateTile } from "./calibrate.ts";
import { type F32Tile, type F64Tile, TILES, type Tiles } from "./layout.ts";
import { ThreadPool } from "./pool.ts";

export type { WasmKernel } from "./kernel.ts";
export type { WasmStorage } from "./storage.ts";
export { wasmFeatures } from "./module.ts";
export type { F32Tile, F64Tile } from "./layout.ts";

/** Options of {@link createWasmKernel}. */
export interface WasmKernelOptions {
  /**
   * Threads that share large jobs, the calling thread included (default
   * `navigator.hardwareConcurrency`; 1 runs everything on the calling thread).
   */
  threads?: number;
  /**
   * Use relaxed-SIMD fused multiply-add in the matmul (default: where the runtime
   * supports it). `false` forces separate multiply and add.
   */
  fma?: boolean;
  /**
   * Most bytes of packed operand copies a matrix product holds at once (default 32
   * MiB): a product whose packed copies would be larger runs in several passes over
   * its inner dimension, with the same result. A tuning and testing knob.
   */
  packBytes?: number;
  /**
   * Run an element-wise result over a pending matrix product as the product's
   * epilogue, block by block while each block is in cache (default true). `false`
   * computes the product on its own first: the same values, bit for bit; a testing
   * and benchmarking knob.
   */
  epilogues?: boolean;
  /**
   * The float64 matmul tile: `"6x4"` or `"4x4"` rows x columns, or `"auto"` (the
   * default), which times both on one thread the first time a kernel loads in the
   * process (30-60 ms) and takes `"4x4"` if it runs more than 3% faster, else `"6x4"`.
   * Which one wins depends on the processor; both give the same results bit for bit.
   * A tuning and testing knob.
   */
  f64Tile?: "auto" | F64Tile;
  /**
   * The float32 matmul tile: `"4x8"` (the default), `"6x8"`, or `"auto"`, which times
   * both like `f64Tile` (`"6x8"` if more than 3% faster). Both give the same results bit
   * for bit. `"6x8"` ran large products 11-15% faster on a Zen 5 VM, but its timing
   * there came out fast in some processes and slow in others, so it is not the default
   * (see kernels/wasm/README.md).
   */
  f32Tile?: "auto" | F32Tile;
}

/**
 * Builds and instantiates the kernel module, and starts its worker threads. Throws an
 * Error that says why when WebAssembly SIMD or shared memory is missing. Idle workers
 * never keep the process alive; `destroy()` stops them at once.
 *
 * @example
 * ```ts
 * import { createWasmKernel } from "./mod.ts";
 * const kernel = await createWasmKernel({ threads: 2 });
 * const x = kernel.upload([-1, 0, 2], "float32");
 * console.log(kernel.readSync(kernel.unary("relu", x))); // Float32Array [0, 0, 2]
 * kernel.destroy();
 * ```
 */
export async function createWasmKernel(opts: WasmKernelOptions = {}): Promise<WasmKernel> {
  const features = wasmFeatures();
  if (!features.simd) {
    throw new Error(
      "Cannot load the wasm kernel: this runtime's WebAssembly has no SIMD (v128); " +
        "use Deno 2, Node 16.4+ or a current browser, or the ts kernel",
    );
  }
  if (!features.threads) {
    throw new Error(
      "Cannot load the wasm kernel: shared WebAssembly memory is unavailable " +
        "(in browsers it needs cross-origin isolation); use the ts kernel",
    );
  }
  const threads = opts.threads ?? (globalThis.navigator?.hardwareConcurrency || 1);
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new RangeError(
      `Cannot load the wasm kernel: threads must be an integer from 1 to 64, got ${threads}`,
    );
  }
  if (opts.fma && !features.relaxedSimd) {
    throw new Error("Cannot load the wasm kernel with fma: this runtime has no relaxed SIMD");
  }
  const fma = opts.fma ?? features.relaxedSimd;
  const packBytes = opts.packBytes ?? PACK_BYTES;
  if (!Number.isSafeInteger(packBytes) || packBytes < 1) {
    throw new RangeError(
      `Cannot load the wasm kernel: packBytes must be a positive integer, got ${packBytes}`,
    );
  }
  const epilogues = opts.epilogues ?? true;
  if (typeof epilogues !== "boolean") {
    throw new TypeError(
      `Cannot load the wasm kernel: epilogues must be a boolean, got ${String(epilogues)}`,
    );
  }
  // Both options are checked before either dtype is timed.
  const f64Tile = tileOption("float64", "f64Tile", opts.f64Tile ?? "auto");
  const f32Tile = tileOption("float32", "f32Tile", opts.f32Tile ?? "4x8");
  const tiles: Tiles = {
    float64: f64Tile === "auto" ? await calibrateTile("float64", fma) : f64Tile,
    float32: f32Tile === "auto" ? await calibrateTile("float32", fma) : f32Tile,
  };
  const module = buildModule(fma, tiles);
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
  const compiled = await WebAssembly.compile(module.bytes);
  const instance = await WebAssembly.instantiate(compiled, { env: { memory } });
  const pool = await ThreadPool.create(memory, module.bytes, instance.exports, JOBS, threads);
  return makeWasmKernel(module, memory, pool, fma, packBytes, epilogues);
}

/** Option `name` checked: "auto" or a tile of `dtype`. */
function tileOption<D extends keyof Tiles>(
  dtype: D,
  name: string,
  tile: unknown,
): "auto" | Tiles[D] {
  if (typeof tile !== "string" || (tile !== "auto" && !Object.hasOwn(TILES[dtype], tile))) {
    throw new TypeError(
      `Cannot load the wasm kernel: ${name} must be "auto", ${
        Object.keys(TILES[dtype]).map((t) => `"${t}"`).join(" or ")
      }, got ${shown(tile)}`,
    );
  }
  return tile as "auto" | Tiles[D];
}

/** A value as an error message shows it: strings and arrays as JSON, BigInts with `n`. */
function shown(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  try {
    if (typeof v === "string" || Array.isArray(v)) return JSON.stringify(v);
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}
