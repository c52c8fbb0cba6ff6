// Benchmarks of the webgpu kernel's float32 matmul against the ts kernel.
// `deno bench bench/webgpu_bench.ts` times one n x n product per iteration:
// - "ts": the pure-TypeScript kernel (data on the host, nothing to wait for);
// - "webgpu, read back": the product and `await read(c)`, what a user waits for;
// - "webgpu, no read": the product and `await flush()` (queue.onSubmittedWorkDone).
// `deno run bench/webgpu_bench.ts` prints GFLOP/s (median and best of interleaved runs),
// adding "queued": 8 products submitted back to back and one flush, the throughput
// when work is queued without waiting.
//
// Deno resolves GPU waits (mapAsync, onSubmittedWorkDone) by polling about every 10 ms,
// so each read or flush costs at least ~11 ms on top of the work. On Mesa's llvmpipe
// (software adapter, GL backend) the submit itself runs the shader synchronously.
import type { MatmulSizes } from "../lib/kernel.ts";
import { tsKernel } from "../kernels/ts/mod.ts";
import { createWebGpuKernel, type WebGpuKernel } from "../kernels/webgpu/mod.ts";
import { random } from "./data.ts";

async function loadGpu(): Promise<WebGpuKernel | null> {
  try {
    return await createWebGpuKernel({ powerPreference: "high-performance" });
  } catch (e) {
    console.error(`webgpu benchmarks skipped: ${(e as Error).message}`);
    return null;
  }
}

const gpu = await loadGpu();
const SIZES = [256, 512, 1024];

/** One size's inputs on both kernels, and the timed calls. */
function setup(n: number) {
  const a = Float32Array.from(random(n * n, 1)), b = Float32Array.from(random(n * n, 2));
  const sizes: MatmulSizes = { m: n, n, k: n, transA: false, transB: false };
  const [ta, tb] = [tsKernel.upload(a, "float32"), tsKernel.upload(b, "float32")];
  const ga = gpu?.upload(a, "float32"), gb = gpu?.upload(b, "float32");
  return {
    ts: () => void tsKernel.matmul(ta, tb, sizes),
    async read(g: WebGpuKernel): Promise<void> {
      const c = g.matmul(ga!, gb!, sizes);
      await g.read(c);
      g.dispose(c);
    },
    async noRead(g: WebGpuKernel, count = 1): Promise<void> {
      for (let i = 0; i < count; i++) g.dispose(g.matmul(ga!, gb!, sizes));
      await g.flush();
    },
  };
}

const cases = new Map<number, ReturnType<typeof setup>>();
/** Inputs are made on first use, so neither mode allocates what it does not run. */
function get(n: number): ReturnType<typeof setup> {
  let c = cases.get(n);
  if (!c) cases.set(n, c = setup(n));
  return c;
}

for (const n of SIZES) {
  const group = `float32 matmul n=${n}`;
  // llvmpipe needs 0.5-2 s per product at n = 1024: few samples keep the run short.
  const samples = n >= 1024 ? { n: 4, warmup: 1 } : n >= 512 ? { n: 10, warmup: 1 } : {};
  Deno.bench({ name: `ts ${group}`, group, baseline: true, ...samples, fn: () => get(n).ts() });
  if (gpu) {
    const label = `webgpu (${gpu.adapter}, ${gpu.matmulShader})`;
    Deno.bench({
      name: `${label}, read back, ${group}`,
      group,
      ...samples,
      fn: () => get(n).read(gpu),
    });
    Deno.bench({
      name: `${label}, no read, ${group}`,
      group,
      ...samples,
      fn: () => get(n).noRead(gpu),
    });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Milliseconds per product: one timing of `reps` products. */
async function time(f: () => unknown, reps = 1): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / reps;
}

if (import.meta.main) {
  if (!gpu) Deno.exit(0);
  console.log(`webgpu adapter: ${gpu.adapter}, ${gpu.matmulShader} matmul shader`);
  console.log("| n | ts | webgpu, read back | webgpu, no read | webgpu, queued x8 |");
  console.log("|---:|---:|---:|---:|---:|");
  for (const n of SIZES) {
    const c = get(n), flops = 2 * n ** 3;
    const runs = n >= 1024 ? 3 : 7;
    const fns = [() => c.ts(), () => c.read(gpu), () => c.noRead(gpu), () => c.noRead(gpu, 8)];
    const reps = [1, 1, 1, 8];
    for (let i = 0; i < fns.length; i++) await fns[i](); // warm up: JIT, shader compile
    const t: number[][] = fns.map(() => []);
    for (let r = 0; r < runs; r++) {
      for (let i = 0; i < fns.length; i++) t[i].push(await time(fns[i], reps[i]));
    }
    const cell = (xs: number[]) =>
      `${(flops / median(xs) / 1e6).toFixed(2)} (${(flops / Math.min(...xs) / 1e6).toFixed(2)})`;
    console.log(`| ${n} | ${t.map(cell).join(" | ")} |`);
  }
  console.log("GFLOP/s, median (best) of interleaved runs");
  gpu.destroy();
}
