// Benchmarks of the pure-TypeScript matmul (kernels/ts/matmul.ts) against a naive i-k-j
// triple loop. `deno bench bench/matmul_bench.ts` compares times per size and dtype;
// `deno run bench/matmul_bench.ts` prints GFLOP/s (medians of interleaved runs).
import { matmulF32, matmulF64 } from "../kernels/ts/matmul.ts";
import { Matrix as MlMatrix } from "ml-matrix";
import { random } from "./data.ts";

/** Naive i-k-j product of n x n float64 matrices (the loop order a careful novice writes). */
function naiveF64(a: Float64Array, b: Float64Array, c: Float64Array, n: number): void {
  c.fill(0, 0, n * n);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < n; p++) {
      const x = a[i * n + p];
      for (let j = 0, cj = i * n, bj = p * n; j < n; j++) c[cj + j] += x * b[bj + j];
    }
  }
}

/** {@link naiveF64} for float32; a separate copy so that each stays monomorphic. */
function naiveF32(a: Float32Array, b: Float32Array, c: Float32Array, n: number): void {
  c.fill(0, 0, n * n);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < n; p++) {
      const x = a[i * n + p];
      for (let j = 0, cj = i * n, bj = p * n; j < n; j++) c[cj + j] += x * b[bj + j];
    }
  }
}

/** One size's inputs and outputs in both dtypes, and the four products to time. */
function setup(n: number) {
  const a64 = random(n * n, 1), b64 = random(n * n, 2), c64 = new Float64Array(n * n);
  const a32 = new Float32Array(a64), b32 = new Float32Array(b64), c32 = new Float32Array(n * n);
  return {
    oursF64: () => matmulF64(a64, b64, c64, n, n, n, false, false),
    naiveF64: () => naiveF64(a64, b64, c64, n),
    oursF32: () => matmulF32(a32, b32, c32, n, n, n, false, false),
    naiveF32: () => naiveF32(a32, b32, c32, n),
  };
}

const SIZES = [128, 256, 512, 1024];
const cases = new Map<number, ReturnType<typeof setup>>();
/** Inputs are made on first use, so neither mode allocates what it does not run. */
function get(n: number): ReturnType<typeof setup> {
  let c = cases.get(n);
  if (!c) cases.set(n, c = setup(n));
  return c;
}

for (const n of SIZES) {
  for (const dtype of ["float64", "float32"] as const) {
    const group = `${dtype} n=${n}`;
    // The naive loop takes 1 to 3 s at n = 1024: few samples there keep the run short.
    const samples = n >= 1024 ? { n: 5, warmup: 1 } : {};
    Deno.bench({
      name: `naive i-k-j ${group}`,
      group,
      baseline: true,
      ...samples,
      fn: dtype === "float64" ? () => get(n).naiveF64() : () => get(n).naiveF32(),
    });
    Deno.bench({
      name: `matmul ${group}`,
      group,
      ...samples,
      fn: dtype === "float64" ? () => get(n).oursF64() : () => get(n).oursF32(),
    });
  }
}

/** Small products: the direct path, with no packing or setup. */
for (const [m, n, k] of [[4, 4, 4], [10, 4, 4], [16, 16, 16], [32, 32, 32]]) {
  const a = random(m * k, 3), b = random(k * n, 4), c = new Float64Array(m * n);
  Deno.bench({
    name: `matmul float64 ${m}x${k} times ${k}x${n}`,
    group: "small float64",
    fn: () => matmulF64(a, b, c, m, n, k, false, false),
  });
}

/** Times in ms per call of `f`: `runs` timings, each the mean of `reps` calls. */
function timeRuns(f: () => void, runs: number, reps: number): number[] {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) f();
    times.push((performance.now() - t0) / reps);
  }
  return times;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

if (import.meta.main) {
  // Ours and naive alternate run by run so both see the same machine load; the best run
  // shows what a quiet machine gives when other jobs share the cores.
  console.log(
    "| n | dtype | matmul GFLOP/s, median (best) | naive i-k-j, median (best) | speed-up |",
  );
  console.log("|---:|---|---:|---:|---:|");
  for (const n of SIZES) {
    const c = get(n);
    const flops = 2 * n * n * n;
    const runs = n >= 1024 ? 5 : n >= 512 ? 9 : 15;
    const reps = Math.max(1, Math.round(2 ** 26 / flops));
    for (const dtype of ["float64", "float32"] as const) {
      const ours = dtype === "float64" ? c.oursF64 : c.oursF32;
      const naive = dtype === "float64" ? c.naiveF64 : c.naiveF32;
      timeRuns(ours, 2, reps); // warm up
      timeRuns(naive, 1, reps);
      const t: number[] = [], tn: number[] = [];
      for (let r = 0; r < runs; r++) {
        t.push(...timeRuns(ours, 1, reps));
        tn.push(...timeRuns(naive, 1, reps));
      }
      const g = flops / median(t) / 1e6, gn = flops / median(tn) / 1e6;
      const best = flops / Math.min(...t) / 1e6, bestN = flops / Math.min(...tn) / 1e6;
      const cell = (median: number, best: number) => `${median.toFixed(2)} (${best.toFixed(2)})`;
      const ratio = (g / gn).toFixed(2);
      console.log(`| ${n} | ${dtype} | ${cell(g, best)} | ${cell(gn, bestN)} | ${ratio}x |`);
    }
  }
  // ml-matrix (the fastest JavaScript library in PERF_NOTES, float64), in the same run.
  console.log("\n| n | float64 | ts matmul, best of 5 | ml-matrix mmul, best of 5 | ratio |");
  console.log("|---:|---|---:|---:|---:|");
  for (const n of [512, 1024]) {
    const a = random(n * n, 5), b = random(n * n, 6), c = new Float64Array(n * n);
    const A = new MlMatrix(n, n), B = new MlMatrix(n, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        A.set(i, j, a[i * n + j]);
        B.set(i, j, b[i * n + j]);
      }
    }
    const ours = () => matmulF64(a, b, c, n, n, n, false, false);
    const ml = () => A.mmul(B);
    timeRuns(ours, 1, 1);
    timeRuns(ml, 1, 1);
    const t: number[] = [], tm: number[] = [];
    for (let r = 0; r < 5; r++) {
      t.push(...timeRuns(ours, 1, 1));
      tm.push(...timeRuns(ml, 1, 1));
    }
    const flops = 2 * n ** 3;
    const g = flops / Math.min(...t) / 1e6, gm = flops / Math.min(...tm) / 1e6;
    console.log(
      `| ${n} | float64 | ${g.toFixed(2)} | ${gm.toFixed(2)} | ${(g / gm).toFixed(2)}x |`,
    );
  }
  console.log("\n| m x k times k x n | float64 ns/call | float32 ns/call |");
  console.log("|---|---:|---:|");
  for (const [m, n, k] of [[4, 4, 4], [10, 4, 4], [16, 16, 16], [32, 32, 32], [64, 64, 64]]) {
    const a = random(m * k, 3), b = random(k * n, 4);
    const a32 = new Float32Array(a), b32 = new Float32Array(b);
    const c = new Float64Array(m * n), c32 = new Float32Array(m * n);
    const reps = Math.max(10, Math.round(2 ** 22 / (m * n * k)));
    const f64 = () => matmulF64(a, b, c, m, n, k, false, false);
    const f32 = () => matmulF32(a32, b32, c32, m, n, k, false, false);
    timeRuns(f64, 3, reps);
    timeRuns(f32, 3, reps);
    const t64 = median(timeRuns(f64, 9, reps)) * 1e6, t32 = median(timeRuns(f32, 9, reps)) * 1e6;
    console.log(`| ${m}x${k} times ${k}x${n} | ${t64.toFixed(0)} | ${t32.toFixed(0)} |`);
  }
}
