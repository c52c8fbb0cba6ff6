/**
 * Builds the wasm kernel's module from the emitters, and probes what the runtime
 * supports. The module is generated at load time (a few milliseconds), so nothing
 * binary is committed and the relaxed-SIMD variant is picked per machine.
 *
 * @module
 */
import { ModuleBuilder } from "./asm.ts";
import { emitElementwise, type OpTable } from "./emit_elementwise.ts";
import { emitGemv } from "./emit_gemv.ts";
import { emitMatmul } from "./emit_matmul.ts";
import { emitNarrow } from "./emit_narrow.ts";
import { emitReduce } from "./emit_reduce.ts";
import { matmulShapes, type Tiles } from "./layout.ts";

/** The module bytes and the function-table slots of the element-wise loops. */
export interface KernelModule {
  bytes: Uint8Array<ArrayBuffer>;
  ops: { float64: OpTable; float32: OpTable };
  /** The matmul tiles it was built with. */
  tiles: Tiles;
}

const built = new Map<string, KernelModule>();

/**
 * Emits the whole kernel module (about 25 ms, once per process and variant); `fma`
 * selects relaxed-SIMD madd (matmul, polynomials), `tiles` the matmul tiles.
 */
export function buildModule(fma: boolean, tiles: Tiles): KernelModule {
  const key = `${fma} ${tiles.float64} ${tiles.float32}`;
  const have = built.get(key);
  if (have) return have;
  const shapes = matmulShapes(tiles);
  const mb = new ModuleBuilder();
  const float64 = emitElementwise(mb, "float64", fma);
  const float32 = emitElementwise(mb, "float32", fma);
  emitMatmul(mb, "float64", fma, float64.unit, shapes.float64);
  emitMatmul(mb, "float32", fma, float32.unit, shapes.float32);
  emitNarrow(mb, "float64", fma);
  emitNarrow(mb, "float32", fma);
  emitGemv(mb, "float64", fma);
  emitGemv(mb, "float32", fma);
  emitReduce(mb, "float64");
  emitReduce(mb, "float32");
  const module = { bytes: mb.encode(), ops: { float64, float32 }, tiles: { ...tiles } };
  built.set(key, module);
  return module;
}

// () -> v128: `consts` times v128.const 0, then the instruction under test.
function probe(consts: number, ops: number[]): Uint8Array<ArrayBuffer> {
  const body = [
    0x00,
    ...Array.from({ length: consts }, () => [0xfd, 0x0c, ...new Array(16).fill(0)]).flat(),
    ...ops,
    0x0b,
  ];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b], // type () -> v128
    ...[0x03, 0x02, 0x01, 0x00], // one function of that type
    ...[0x0a, body.length + 2, 0x01, body.length, ...body],
  ]);
}

/** What this runtime's WebAssembly supports. */
export interface WasmFeatures {
  /** Fixed-width SIMD (v128). */
  simd: boolean;
  /** Relaxed SIMD (f32x4.relaxed_madd and friends). */
  relaxedSimd: boolean;
  /** Shared memory and atomics (threads). */
  threads: boolean;
}

/** Probes the features with `WebAssembly.validate` on tiny modules. */
export function wasmFeatures(): WasmFeatures {
  if (typeof WebAssembly !== "object") return { simd: false, relaxedSimd: false, threads: false };
  const simd = WebAssembly.validate(probe(1, []));
  const relaxedSimd = WebAssembly.validate(probe(3, [0xfd, 0x85, 0x02])); // f32x4.relaxed_madd
  let threads = false;
  try {
    threads = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof
      SharedArrayBuffer;
  } catch {
    threads = false;
  }
  return { simd, relaxedSimd, threads };
}
