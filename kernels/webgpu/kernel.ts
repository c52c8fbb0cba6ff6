/**
 * The WebGPU kernel object: each Kernel method checks its arguments, allocates the
 * result and dispatches cached WGSL pipelines through a {@link GpuContext}.
 *
 * @module
 */

import {
  BINARY_OPS,
  type BinaryOp,
  type BroadcastShapes,
  type DType,
  type Kernel,
  type MatmulSizes,
  REDUCE_OPS,
  type ReduceAxis,
  type ReduceOp,
  UNARY_OPS,
  type UnaryOp,
} from "../../lib/kernel.ts";
import { type GpuContext, uniform } from "./context.ts";
import type { WebGpuStorage } from "./storage.ts";
import {
  binaryWgsl,
  ELEMENTWISE_THREADS,
  fillWgsl,
  gatherWgsl,
  TRANSPOSE_TILE,
  transposeWgsl,
  unaryWgsl,
} from "./wgsl_elementwise.ts";
import { matmulPass } from "./matmul.ts";
import { reducePasses } from "./reduce.ts";
import type { TileConfig } from "./wgsl_matmul.ts";
import { IDENTITY } from "./wgsl_reduce.ts";

/** The WebGPU kernel: float32 only, data stays on the device until `await read(s)`. */
export interface WebGpuKernel extends Kernel<WebGpuStorage> {
  /** `"webgpu"`. */
  readonly name: "webgpu";
  /** `["float32"]`: WGSL has no f64. */
  readonly dtypes: readonly DType[];
  /** The adapter's description, e.g. `"llvmpipe (LLVM 15.0.6, 256 bits)"`. */
  readonly adapter: string;
  /** The device, for interop (e.g. error scopes in tests). */
  readonly device: GPUDevice;
  /** Which matmul shader runs: see `WebGpuKernelOptions.matmul`. */
  readonly matmulShader: "direct" | "tiled";
  /** Always `null`: the data lives on the device; use `await read(s)`. */
  readSync(s: WebGpuStorage): null;
  /** Copies the data to the host. */
  read(s: WebGpuStorage): Promise<Float32Array>;
  /** Destroys the buffer of `s` now (idempotent); later uses of `s` throw. */
  dispose(s: WebGpuStorage): void;
  /** Buffers made and not yet destroyed: live storage plus reads in flight. */
  liveBuffers(): number;
  /** Waits for all submitted work; rejects if a GPU command failed. */
  flush(): Promise<void>;
  /** Destroys every buffer and the device; later calls throw. Idempotent. */
  destroy(): void;
}

const NO_F64 = 'WGSL has no f64; use astype("float32") or the ts kernel';

const ACTIONS = {
  upload: (d: DType) => `upload ${d} data to`,
  fill: (d: DType) => `fill ${d} storage on`,
  cast: (d: DType) => `cast to ${d} on`,
};

function requireFloat32(dtype: DType, op: keyof typeof ACTIONS): void {
  if (dtype !== "float32") {
    throw new TypeError(`Cannot ${ACTIONS[op](dtype)} the webgpu kernel: ${NO_F64}`);
  }
}

function requireLength(s: WebGpuStorage, length: number, op: string, what: string): void {
  if (s.length !== length) {
    throw new TypeError(
      `Cannot run ${op} on the webgpu kernel: ${what} has ${s.length} elements, expected ${length}`,
    );
  }
}

/**
 * Makes the kernel object around `ctx`. `tiles` picks the matmul shader: `"direct"`
 * (for CPU adapters) or the tiled shader with this configuration.
 */
export function makeWebGpuKernel(
  ctx: GpuContext,
  adapter: string,
  tiles: "direct" | TileConfig,
): WebGpuKernel {
  const ew = (n: number) => Math.ceil(n / ELEMENTWISE_THREADS);

  function fill(length: number, value: number, dtype: DType): WebGpuStorage {
    ctx.check("fill");
    requireFloat32(dtype, "fill");
    const out = ctx.storage(length, "fill");
    const pipeline = ctx.pipeline("fill", fillWgsl);
    const pass = {
      pipeline,
      uniform: uniform([length, { f32: value }]),
      buffers: [ctx.bufferOf(out, "fill")],
    };
    ctx.run("fill", [{ ...pass, workgroups: ew(length) }]);
    return out;
  }

  function matmul(a: WebGpuStorage, b: WebGpuStorage, sizes: MatmulSizes): WebGpuStorage {
    const { m, n, k, transA, transB } = sizes;
    ctx.check("matmul");
    const [ab, bb] = [ctx.bufferOf(a, "matmul"), ctx.bufferOf(b, "matmul")];
    requireLength(a, m * k, "matmul", `A (${transA ? `${k}x${m}` : `${m}x${k}`})`);
    requireLength(b, k * n, "matmul", `B (${transB ? `${n}x${k}` : `${k}x${n}`})`);
    const out = ctx.storage(m * n, "matmul");
    const ob = ctx.bufferOf(out, "matmul");
    if (m * n === 0) return out;
    ctx.run("matmul", [matmulPass(ctx, tiles, [ab, bb, ob], sizes)]);
    return out;
  }

  function unary(op: UnaryOp, a: WebGpuStorage): WebGpuStorage {
    if (!UNARY_OPS.includes(op)) {
      throw new TypeError(`Cannot apply unary op "${op}" on the webgpu kernel: unknown op`);
    }
    ctx.check(op);
    const ab = ctx.bufferOf(a, op);
    const out = ctx.storage(a.length, op);
    const pipeline = ctx.pipeline(`unary:${op}`, () => unaryWgsl(op));
    const buffers = [ab, ctx.bufferOf(out, op)];
    ctx.run(op, [{ pipeline, uniform: uniform([a.length]), buffers, workgroups: ew(a.length) }]);
    return out;
  }

  function binary(
    op: BinaryOp,
    a: WebGpuStorage,
    b: WebGpuStorage,
    shapes: BroadcastShapes,
  ): WebGpuStorage {
    if (!BINARY_OPS.includes(op)) {
      throw new TypeError(`Cannot apply binary op "${op}" on the webgpu kernel: unknown op`);
    }
    ctx.check(op);
    const { rows, cols, a: [ar, ac], b: [br, bc] } = shapes;
    for (const [s, r, c, name] of [[a, ar, ac, "a"], [b, br, bc, "b"]] as const) {
      if ((r !== rows && r !== 1) || (c !== cols && c !== 1)) {
        throw new TypeError(
          `Cannot broadcast ${name} (${r}x${c}) to ${rows}x${cols} in ${op} on the webgpu kernel`,
        );
      }
      requireLength(s, r * c, op, `${name} (${r}x${c})`);
    }
    const buffers = [ctx.bufferOf(a, op), ctx.bufferOf(b, op)];
    const n = rows * cols;
    const out = ctx.storage(n, op);
    buffers.push(ctx.bufferOf(out, op));
    const same = ar === rows && ac === cols && br === rows && bc === cols;
    const pipeline = ctx.pipeline(`binary:${op}:${same}`, () => binaryWgsl(op, same));
    const strides = (r: number, c: number) => [r === 1 ? 0 : c, c === 1 ? 0 : 1];
    const u = same ? uniform([n]) : uniform([n, cols, ...strides(ar, ac), ...strides(br, bc)]);
    ctx.run(op, [{ pipeline, uniform: u, buffers, workgroups: ew(n) }]);
    return out;
  }

  function reduce(
    op: ReduceOp,
    a: WebGpuStorage,
    rows: number,
    cols: number,
    axis: ReduceAxis,
  ): WebGpuStorage {
    if (!REDUCE_OPS.includes(op)) {
      throw new TypeError(`Cannot reduce with "${op}" on the webgpu kernel: unknown op`);
    }
    const name = `reduce ${op}`;
    ctx.check(name);
    const input = ctx.bufferOf(a, name);
    requireLength(a, rows * cols, name, `the input (${rows}x${cols})`);
    // Segment s holds len elements at s * segStride + e * stride.
    const [segs, len, stride, segStride] = axis === "all"
      ? [1, rows * cols, 1, 0]
      : axis === 0
      ? [cols, rows, cols, 1]
      : axis === 1
      ? [rows, cols, 1, cols]
      : [NaN, NaN, NaN, NaN];
    if (Number.isNaN(segs)) {
      throw new RangeError(`Cannot reduce over axis ${axis} on the webgpu kernel`);
    }
    if (segs === 0) return ctx.storage(0, name);
    if (len === 0) return fill(segs, IDENTITY[op], "float32");
    const out = ctx.storage(segs, name);
    const { passes, temps } = reducePasses(ctx, op, input, ctx.bufferOf(out, name), {
      segs,
      len,
      stride,
      segStride,
    });
    ctx.run(name, passes, temps);
    return out;
  }

  function transpose(a: WebGpuStorage, rows: number, cols: number): WebGpuStorage {
    ctx.check("transpose");
    const ab = ctx.bufferOf(a, "transpose");
    requireLength(a, rows * cols, "transpose", `the input (${rows}x${cols})`);
    const out = ctx.storage(rows * cols, "transpose");
    const ob = ctx.bufferOf(out, "transpose");
    if (rows === 1 || cols === 1) {
      ctx.copy("transpose", ab, ob, rows * cols * 4); // a vector's transpose has the same layout
      return out;
    }
    const tilesX = Math.ceil(cols / TRANSPOSE_TILE),
      total = tilesX * Math.ceil(rows / TRANSPOSE_TILE);
    const pipeline = ctx.pipeline("transpose", transposeWgsl);
    ctx.run("transpose", [{
      pipeline,
      uniform: uniform([rows, cols, tilesX, total]),
      buffers: [ab, ob],
      workgroups: total,
    }]);
    return out;
  }

  function gather(a: WebGpuStorage, index: Int32Array): WebGpuStorage {
    ctx.check("gather");
    const ab = ctx.bufferOf(a, "gather");
    for (let i = 0; i < index.length; i++) {
      if (index[i] >= a.length) {
        throw new RangeError(
          `Cannot gather on the webgpu kernel: index[${i}] = ${
            index[i]
          } is out of range for ${a.length} elements`,
        );
      }
    }
    const n = index.length;
    const out = ctx.storage(n, "gather");
    if (n === 0) return out;
    const ib = ctx.buffer(n, "gather", index);
    const pipeline = ctx.pipeline("gather", gatherWgsl);
    const buffers = [ab, ib, ctx.bufferOf(out, "gather")];
    ctx.run("gather", [{ pipeline, uniform: uniform([n]), buffers, workgroups: ew(n) }], [ib]);
    return out;
  }

  function cast(a: WebGpuStorage, dtype: DType): WebGpuStorage {
    ctx.check("cast");
    requireFloat32(dtype, "cast");
    const ab = ctx.bufferOf(a, "cast");
    const out = ctx.storage(a.length, "cast");
    ctx.copy("cast", ab, ctx.bufferOf(out, "cast"), a.length * 4);
    return out;
  }

  return {
    name: "webgpu",
    dtypes: ["float32"],
    adapter,
    device: ctx.device,
    matmulShader: tiles === "direct" ? "direct" : "tiled",
    upload(data: ArrayLike<number>, dtype: DType): WebGpuStorage {
      ctx.check("upload");
      requireFloat32(dtype, "upload");
      return ctx.storage(data.length, "upload", data);
    },
    fill,
    readSync: () => null,
    read: (s) => ctx.read(s),
    matmul,
    unary,
    binary,
    reduce,
    transpose,
    gather,
    cast,
    dispose: (s) => ctx.dispose(s),
    liveBuffers: () => ctx.liveBuffers,
    flush: () => ctx.flush(),
    destroy: () => ctx.destroy(),
  };
}
