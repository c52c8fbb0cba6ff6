/**
 * The WebGPU kernel: float32 compute in WGSL shaders (tiled matmul, element-wise ops
 * with broadcasting, tree reductions, transpose, gather). Nothing happens at import;
 * {@link createWebGpuKernel} probes `navigator.gpu` and opens a device on request.
 * On machines without a GPU, Deno finds Mesa's llvmpipe software adapter: correct,
 * but slow (a few GFLOP/s).
 *
 * @example
 * ```ts
 * import { createWebGpuKernel } from "./mod.ts";
 *
 * if (navigator.gpu && await navigator.gpu.requestAdapter()) {
 *   const kernel = await createWebGpuKernel();
 *   const a = kernel.upload([1, 2, 3, 4], "float32"); // 2x2
 *   const c = kernel.matmul(a, a, { m: 2, n: 2, k: 2, transA: false, transB: false });
 *   console.log(await kernel.read(c)); // Float32Array [7, 10, 15, 22]
 *   kernel.destroy();
 * }
 * ```
 *
 * @module
 */

import { GpuContext } from "./context.ts";
import { makeWebGpuKernel, type WebGpuKernel } from "./kernel.ts";
import { GPU_TILES, type TileConfig, tileSize } from "./wgsl_matmul.ts";

export type { WebGpuKernel } from "./kernel.ts";
export type { WebGpuStorage } from "./storage.ts";
export type { TileConfig } from "./wgsl_matmul.ts";

/** Adapters that run shaders on the CPU: workgroup memory buys nothing there. */
const CPU_ADAPTER = /llvmpipe|lavapipe|softpipe|swiftshader/i;

/** Options of {@link createWebGpuKernel}. */
export interface WebGpuKernelOptions {
  /** Which adapter to prefer where there are several. */
  powerPreference?: GPUPowerPreference;
  /**
   * Wrap every command in error scopes so that a GPU error names the operation that
   * caused it (slower). Without it, errors are still caught, from the device's
   * `uncapturederror` events, and thrown by the next call.
   */
  debug?: boolean;
  /**
   * The matmul shader. `"auto"` (the default) picks `"direct"` on CPU adapters
   * (llvmpipe, lavapipe, SwiftShader: register blocking straight from the storage
   * buffers, since barriers make llvmpipe compile a tiled shader for minutes) and
   * `"tiled"` elsewhere (tiles staged in workgroup memory, 64x64 per workgroup, 4x4
   * per thread). A {@link TileConfig} runs the tiled shader with that shape, for
   * tuning on a GPU and for testing the tiled shader on CPU adapters.
   */
  matmul?: "auto" | "direct" | "tiled" | TileConfig;
}

/**
 * Opens a WebGPU device and returns a kernel on it. Requests the adapter's largest
 * `maxStorageBufferBindingSize` and `maxBufferSize`. Throws an Error that says why
 * when there is no `navigator.gpu` or no adapter. Call `destroy()` when done to
 * release the device and its memory at once (a process may also just exit).
 *
 * @example
 * ```ts
 * import { createWebGpuKernel } from "./mod.ts";
 *
 * try {
 *   const kernel = await createWebGpuKernel({ powerPreference: "high-performance" });
 *   const x = kernel.upload([-1, 0, 2], "float32");
 *   console.log(await kernel.read(kernel.unary("relu", x))); // Float32Array [0, 0, 2]
 *   kernel.destroy();
 * } catch (e) {
 *   console.log((e as Error).message); // "Cannot load the webgpu kernel: no WebGPU adapter found ..."
 * }
 * ```
 */
export async function createWebGpuKernel(opts: WebGpuKernelOptions = {}): Promise<WebGpuKernel> {
  const gpu: GPU | undefined = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) {
    throw new Error(
      "Cannot load the webgpu kernel: no WebGPU adapter found (navigator.gpu is missing); " +
        "use Deno 2 or a browser with WebGPU, or the ts kernel",
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference });
  if (!adapter) {
    throw new Error(
      "Cannot load the webgpu kernel: no WebGPU adapter found (navigator.gpu.requestAdapter() " +
        "returned null; on Linux install Mesa for the llvmpipe software adapter), or use the ts kernel",
    );
  }
  const { maxStorageBufferBindingSize, maxBufferSize } = adapter.limits;
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredLimits: { maxStorageBufferBindingSize, maxBufferSize },
    });
  } catch (cause) {
    throw new Error(`Cannot load the webgpu kernel: requesting a device failed: ${cause}`, {
      cause,
    });
  }
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const description = info?.description || info?.vendor || "unknown adapter";
  const choice = opts.matmul ?? "auto";
  const tiles = choice === "auto"
    ? (info?.isFallbackAdapter || CPU_ADAPTER.test(description) ? "direct" : GPU_TILES)
    : choice === "direct"
    ? "direct"
    : choice === "tiled"
    ? GPU_TILES
    : checkTiles(choice, device);
  return makeWebGpuKernel(new GpuContext(device, opts.debug ?? false), description, tiles);
}

function checkTiles(cfg: TileConfig, device: GPUDevice): TileConfig {
  const { tm, tn, wx, wy, bk } = cfg;
  const l = device.limits;
  const { rows, cols } = tileSize(cfg);
  const problem = ![tm, tn, wx, wy, bk].every((v) => Number.isInteger(v) && v >= 1)
    ? "every size must be a positive integer"
    : wx * wy > l.maxComputeInvocationsPerWorkgroup || wx > l.maxComputeWorkgroupSizeX ||
        wy > l.maxComputeWorkgroupSizeY
    ? `${wx}x${wy} threads exceed the device's workgroup limits`
    : (rows + cols) * bk * 4 > l.maxComputeWorkgroupStorageSize
    ? `${
      (rows + cols) * bk * 4
    } bytes of workgroup memory exceed ${l.maxComputeWorkgroupStorageSize}`
    : null;
  if (problem) {
    device.destroy();
    throw new RangeError(
      `Cannot use matmul tiles ${JSON.stringify(cfg)} on the webgpu kernel: ${problem}`,
    );
  }
  return cfg;
}
