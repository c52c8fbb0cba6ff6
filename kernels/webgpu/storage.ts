/**
 * Storage of the WebGPU kernel: a float32 GPUBuffer, opaque outside the kernel.
 *
 * @module
 */

import type { Storage } from "../../lib/kernel.ts";

let bufferOfStorage: (s: WebGpuStorage) => GPUBuffer | null;
let ownerOfStorage: (s: WebGpuStorage) => object;
let releaseStorage: (s: WebGpuStorage) => GPUBuffer | null;

/**
 * Float32 data in a GPUBuffer owned by one WebGPU kernel. `length` counts elements;
 * the buffer is at least 4 bytes even when `length` is 0 (WebGPU cannot bind empty
 * buffers). The buffer is destroyed by `kernel.dispose(s)` or once the storage
 * becomes unreachable.
 *
 * @example
 * ```ts
 * import { createWebGpuKernel } from "./mod.ts";
 * if (navigator.gpu && await navigator.gpu.requestAdapter()) {
 *   const kernel = await createWebGpuKernel();
 *   const s = kernel.upload([1, 2, 3], "float32");
 *   console.log(s.length, s.dtype); // 3 "float32"
 *   kernel.destroy();
 * }
 * ```
 */
export class WebGpuStorage implements Storage {
  /** Always `"float32"`: WGSL has no f64. */
  readonly dtype: "float32" = "float32";
  /** Number of elements. */
  readonly length: number;
  #buffer: GPUBuffer | null;
  #owner: object;

  /** Wraps `buffer`; only the kernel identified by `owner` makes these. */
  constructor(owner: object, buffer: GPUBuffer, length: number) {
    this.#owner = owner;
    this.#buffer = buffer;
    this.length = length;
  }

  static {
    bufferOfStorage = (s) => s.#buffer;
    ownerOfStorage = (s) => s.#owner;
    releaseStorage = (s) => {
      const b = s.#buffer;
      s.#buffer = null;
      return b;
    };
  }
}

/**
 * The GPUBuffer behind `s`, checking that `owner` made it and that it is not disposed.
 * `op` names the operation for the error message.
 */
export function bufferOf(s: WebGpuStorage, owner: object, op: string): GPUBuffer {
  if (!ownedBy(s, owner)) {
    throw new TypeError(
      `Cannot use storage in ${op} on the webgpu kernel: it was made by another kernel`,
    );
  }
  const b = bufferOfStorage(s);
  if (b === null) {
    throw new TypeError(
      `Cannot use storage in ${op} on the webgpu kernel: it was disposed (${s.length} elements)`,
    );
  }
  return b;
}

/** Whether `s` is a WebGpuStorage made by `owner`. */
export function ownedBy(s: unknown, owner: object): s is WebGpuStorage {
  return s instanceof WebGpuStorage && ownerOfStorage(s) === owner;
}

/** Detaches and returns the buffer of `s` (null if already released). */
export function release(s: WebGpuStorage): GPUBuffer | null {
  return releaseStorage(s);
}
