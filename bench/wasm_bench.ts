/**
 * The wasm kernel against the ts kernel and a naive triple loop, in one run: matmul
 * n = 256, 512, 1024 in both dtypes (wasm on 1 thread and on every core), and
 * relu(A) + B on 1e6 float64 elements (computed, not read back).
 *
 *   deno bench bench/wasm_bench.ts     # deno bench groups
 *   deno run --allow-sys=loadavg bench/wasm_bench.ts [rounds]   # GFLOP/s table
 *
 * The machine's load average is printed with the table: on a shared machine compare
 * ratios within one run, and trust the best rounds.
 */
import process from "node:process";
import type { DType, MatmulSizes } from "../lib/kernel.ts";
import { tsKernel, type TsStorage } from "../kernels/ts/mod.ts";
import { createWasmKernel } from "../kernels/wasm/mod.ts";
import { random } from "./data.ts";

const cores = navigator.hardwareConcurrency;
const wasm1 = await createWasmKernel({ threads: 1 });
const wasmN = await createWasmKernel({ threads: cores });

/** Naive i-k-j product (a careful novice's loop); one copy per dtype stays monomorphic. */
function naiveF64(a: Float64Array, b: Float64Array, c: Float64Array, n: number): void {
  c.fill(0);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < n; p++) {
      const x = a[i * n + p];
      for (let j = 0, cj = i * n, bj = p * n; j < n; j++) c[cj + j] += x * b[bj + j];
    }
  }
}
function naiveF32(a: Float32Array, b: Float32Array, c: Float32Array, n: number): void {
  c.fill(0);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < n; p++) {
      const x = a[i * n + p];
      for (let j = 0, cj = i * n, bj = p * n; j < n; j++) c[cj + j] += x * b[bj + j];
    }
  }
}

/** The contenders for one size and dtype. */
function matmulCase(n: number, dtype: DType): Record<string, () => void> {
  const a = random(n * n, 1), b = random(n * n, 2);
  const sizes: MatmulSizes = { m: n, n, k: n, transA: false, transB: false };
  const [ta, tb] = [tsKernel.upload(a, dtype), tsKernel.upload(b, dtype)];
  const [a1, b1] = [wasm1.upload(a, dtype), wasm1.upload(b, dtype)];
  const [aN, bN] = [wasmN.upload(a, dtype), wasmN.upload(b, dtype)];
  const naive = dtype === "float64"
    ? (() => {
      const [x, y, z] = [new Float64Array(a), new Float64Array(b), new Float64Array(n * n)];
      return () => naiveF64(x, y, z, n);
    })()
    : (() => {
      const [x, y, z] = [new Float32Array(a), new Float32Array(b), new Float32Array(n * n)];
      return () => naiveF32(x, y, z, n);
    })();
  return {
    naive,
    ts: () => void tsKernel.matmul(ta, tb, sizes),
    // Products are pending until needed: evaluate, then free.
    "wasm 1 thread": () => {
      const c = wasm1.matmul(a1, b1, sizes);
      wasm1.evaluate(c);
      wasm1.dispose(c);
    },
    [`wasm ${cores} threads`]: () => {
      const c = wasmN.matmul(aN, bN, sizes);
      wasmN.evaluate(c);
      wasmN.dispose(c);
    },
  };
}

/** relu(A) + B on 1e6 float64: plain loop, ts kernel (fused), wasm kernel (fused). */
function reluAddCase(): Record<string, () => unknown> {
  const N = 1_000_000;
  const a = random(N, 3), b = random(N, 4);
  const shapes = { rows: 1000, cols: 1000, a: [1000, 1000], b: [1000, 1000] } as const;
  const [ta, tb] = [tsKernel.upload(a, "float64"), tsKernel.upload(b, "float64")];
  const [a1, b1] = [wasm1.upload(a, "float64"), wasm1.upload(b, "float64")];
  const [aN, bN] = [wasmN.upload(a, "float64"), wasmN.upload(b, "float64")];
  return {
    "plain TS loop": () => {
      const out = new Float64Array(N);
      for (let i = 0; i < N; i++) out[i] = (a[i] + Math.abs(a[i])) * 0.5 + b[i];
      return out;
    },
    ts: () => (tsKernel.binary("add", tsKernel.unary("relu", ta), tb, shapes) as TsStorage).data,
    "wasm 1 thread": () => {
      const s = wasm1.binary("add", wasm1.unary("relu", a1), b1, shapes);
      wasm1.evaluate(s);
      wasm1.dispose(s);
    },
    [`wasm ${cores} threads`]: () => {
      const s = wasmN.binary("add", wasmN.unary("relu", aN), bN, shapes);
      wasmN.evaluate(s);
      wasmN.dispose(s);
    },
  };
}

const SIZES = [256, 512, 1024];
const DTYPES: DType[] = ["float64", "float32"];

if (import.meta.main) {
  const rounds = Number(Deno.args[0] ?? 5);
  const load = () => {
    try {
      return Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
    } catch {
      return "unknown (needs --allow-sys=loadavg)";
    }
  };
  console.log(
    `# wasm kernel bench: ${cores} cores, fma ${wasm1.fma}, tiles ${wasm1.f64Tile} (float64) and ${wasm1.f32Tile} (float32), load average ${load()}`,
  );
  console.log(
    `Best of ${rounds} interleaved rounds, GFLOP/s (2 n^3 flops per product) by wall clock; ` +
      "\"per busy core\" divides by the process's CPU time instead (threads' time summed), " +
      "which a busy machine does not inflate.\n",
  );
  const names = Object.keys(matmulCase(4, "float64"));
  const wasmNames = names.filter((name) => name.startsWith("wasm"));
  const perCore = wasmNames.map((name) => `${name}, per busy core`);
  console.log(`| n | dtype | ${[...names, ...perCore].join(" | ")} |`);
  console.log(`|---:|---|${[...names, ...perCore].map(() => "---:").join("|")}|`);
  for (const n of SIZES) {
    for (const dtype of DTYPES) {
      const fns = matmulCase(n, dtype);
      const best: Record<string, number> = {}, bestCpu: Record<string, number> = {};
      for (const f of Object.values(fns)) f(); // warm up (and tier up the wasm)
      for (let r = 0; r < rounds; r++) {
        for (const [name, f] of Object.entries(fns)) {
          if (name === "naive" && n === 1024 && r > 1) continue; // about 1.5 s a run
          const reps = Math.max(1, Math.round(2 ** 27 / n ** 3));
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          for (let i = 0; i < reps; i++) f();
          const ms = (performance.now() - t0) / reps;
          const cpu = process.cpuUsage(c0);
          best[name] = Math.min(best[name] ?? Infinity, ms);
          bestCpu[name] = Math.min(bestCpu[name] ?? Infinity, (cpu.user + cpu.system) / 1e3 / reps);
        }
      }
      const gflops = (ms: number) => (2 * n ** 3 / ms / 1e6).toFixed(1);
      const cols = [
        ...names.map((name) => gflops(best[name])),
        ...wasmNames.map((name) => gflops(bestCpu[name])),
      ];
      console.log(`| ${n} | ${dtype} | ${cols.join(" | ")} |`);
    }
  }
  const fns = reluAddCase();
  const best: Record<string, number> = {};
  for (let r = 0; r < 3 * rounds; r++) {
    for (const [name, f] of Object.entries(fns)) {
      f();
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) f();
      best[name] = Math.min(best[name] ?? Infinity, (performance.now() - t0) / 5);
    }
  }
  console.log(`\nrelu(A) + B, 1e6 float64, ns/element (best of ${3 * rounds}):\n`);
  console.log(`| ${Object.keys(fns).join(" | ")} |`);
  console.log(`|${Object.keys(fns).map(() => "---:").join("|")}|`);
  console.log(`| ${Object.values(best).map((ms) => (ms * 1e6 / 1e6).toFixed(2)).join(" | ")} |`);
  console.log(`\nload average after: ${load()}`);
  wasm1.destroy();
  wasmN.destroy();
} else {
  for (const n of SIZES) {
    for (const dtype of DTYPES) {
      const group = `matmul ${n} ${dtype}`;
      const fns = matmulCase(n, dtype);
      for (const [name, fn] of Object.entries(fns)) {
        Deno.bench({
          name: `${name} (${group})`,
          group,
          baseline: name === "naive",
          n: n >= 1024 ? 3 : undefined,
          warmup: n >= 1024 ? 1 : undefined,
          fn,
        });
      }
    }
  }
  for (const [name, fn] of Object.entries(reluAddCase())) {
    Deno.bench({
      name: `${name} (relu(A)+B 1e6 f64)`,
      group: "relu(A)+B 1e6 f64",
      baseline: name === "plain TS loop",
      fn: () => void fn(),
    });
  }
}
