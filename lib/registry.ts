/**
 * Which kernels exist, which are loaded, and which one new matrices use by default.
 * Loading is lazy: nothing here touches a GPU until a kernel is asked for.
 *
 * @module
 */
import type { DType, Kernel } from "./kernel.ts";
import { tsKernel } from "../kernels/ts/mod.ts";

interface Entry {
  available(): boolean;
  load(): Promise<Kernel>;
}

const entries = new Map<string, Entry>([
  ["ts", { available: () => true, load: () => Promise.resolve(tsKernel) }],
  [
    "webgpu",
    {
      available: () => typeof navigator !== "undefined" && "gpu" in navigator,
      load: async () => {
        const { createWebGpuKernel } = await import("../kernels/webgpu/mod.ts");
        return await createWebGpuKernel();
      },
    },
  ],
  [
    "wasm",
    {
      // SIMD support is probed on load, which throws a clear error where it is missing.
      available: () => typeof WebAssembly === "object" && typeof SharedArrayBuffer === "function",
      load: async () => {
        const { createWasmKernel } = await import("../kernels/wasm/mod.ts");
        return await createWasmKernel();
      },
    },
  ],
]);

const loaded = new Map<string, Kernel>([["ts", tsKernel]]);
let current: Kernel = tsKernel;

/**
 * Names of the kernels that can run on this machine (a kernel that needs a device
 * is listed when its API exists; loading it may still fail if no device answers).
 *
 * @example
 * ```ts
 * import { kernelNames } from "./registry.ts";
 * console.log(kernelNames()); // ["ts", ...]
 * ```
 */
export function kernelNames(): string[] {
  return [...entries].filter(([, e]) => e.available()).map(([name]) => name);
}

/**
 * Load a kernel by name (once; later calls return the same kernel). `"auto"` picks
 * the fastest CPU kernel available (wasm, else ts).
 *
 * @example
 * ```ts
 * import { loadKernel } from "./registry.ts";
 * const ts = await loadKernel("ts");
 * console.log(ts.name); // "ts"
 * ```
 */
export async function loadKernel(name: string): Promise<Kernel> {
  if (name === "auto") return await loadAuto();
  const have = loaded.get(name);
  if (have) return have;
  const entry = entries.get(name);
  if (!entry) {
    throw new TypeError(
      `Cannot load kernel "${name}": unknown name, expected auto or one of ${
        [...entries.keys()].join(", ")
      }`,
    );
  }
  if (!entry.available()) {
    throw new Error(`Cannot load kernel "${name}": it is not available on this machine`);
  }
  const kernel = await entry.load();
  loaded.set(name, kernel);
  return kernel;
}

/**
 * The fastest CPU kernel that loads here: wasm (SIMD, threads) where WebAssembly
 * SIMD and shared memory exist, else ts. GPUs are used only when asked for by name.
 */
async function loadAuto(): Promise<Kernel> {
  if (entries.get("wasm")!.available()) {
    try {
      return await loadKernel("wasm");
    } catch {
      // No SIMD or no shared memory in this runtime: the ts kernel always works.
    }
  }
  return tsKernel;
}

/**
 * Make a kernel the default for new matrices. Async because GPU and WebAssembly
 * kernels initialise asynchronously.
 *
 * @example
 * ```ts
 * import { currentKernel, useKernel } from "./registry.ts";
 * await useKernel("ts");
 * console.log(currentKernel().name); // "ts"
 * ```
 */
export async function useKernel(kernel: string | Kernel): Promise<Kernel> {
  current = typeof kernel === "string" ? await loadKernel(kernel) : kernel;
  return current;
}

/**
 * The kernel new matrices use when no `{ kernel }` option is given.
 *
 * @example
 * ```ts
 * import { currentKernel } from "./registry.ts";
 * console.log(currentKernel().dtypes);
 * ```
 */
export function currentKernel(): Kernel {
  return current;
}

/** Resolve a `{ kernel }` option (a loaded kernel's name or a Kernel) for `action`. */
export function resolveKernel(action: string, kernel: string | Kernel | undefined): Kernel {
  if (kernel === undefined) return current;
  if (typeof kernel !== "string") return kernel;
  const k = loaded.get(kernel);
  if (k) return k;
  if (entries.has(kernel)) {
    throw new Error(
      `Cannot ${action}: kernel "${kernel}" is not loaded yet; call await loadKernel("${kernel}") or await useKernel("${kernel}") first`,
    );
  }
  throw new TypeError(
    `Cannot ${action}: unknown kernel "${kernel}", expected one of ${
      [...entries.keys()].join(", ")
    }`,
  );
}

/** Throw a TypeError unless `kernel` can hold `dtype`. */
export function checkKernelDType(action: string, kernel: Kernel, dtype: DType): void {
  if (!kernel.dtypes.includes(dtype)) {
    const hint = dtype === "float64" ? `; use astype("float32") or the ts kernel` : "";
    throw new TypeError(
      `Cannot ${action}: the ${kernel.name} kernel holds ${
        kernel.dtypes.join(" and ")
      } only, got ${dtype}${hint}`,
    );
  }
}
