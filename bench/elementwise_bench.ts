/**
 * relu(A) + B on 1e6 float64 elements through the public API (allocation of both
 * results included), against a plain TypeScript loop writing into a fresh array.
 *
 *   deno bench bench/elementwise_bench.ts       # deno bench table
 *   deno run bench/elementwise_bench.ts         # ns/element table with the ratio
 */
import { add, type Matrix, Random, relu } from "../mod.ts";
// Internal: to force the (lazily fused) result to be computed without copying it.
import { storageOf } from "../lib/matrix.ts";
import type { TsStorage } from "../kernels/ts/mod.ts";

const N = 1_000_000;
const rng = new Random(0);
const A = rng.normal(1000, 1000);
const B = rng.normal(1000, 1000);
const a = A.toTypedArray() as Float64Array;
const b = B.toTypedArray() as Float64Array;

function plainLoop(): Float64Array {
  const out = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const x = a[i];
    out[i] = (x > 0 ? x : 0) + b[i];
  }
  return out;
}

/** The result's data, computed (the ts kernel fuses element-wise chains lazily). */
const force = (M: Matrix) => (storageOf(M) as TsStorage).data;
const ours = () => force(add(relu(A), B));
const unfused = () => {
  const R = relu(A);
  force(R); // computing relu(A) on its own first: two passes, two allocations
  return force(add(R, B));
};

Deno.bench({
  name: "plain TS loop (fused, one allocation)",
  group: "relu(A)+B 1e6 f64",
  baseline: true,
  fn: () => void plainLoop(),
});
Deno.bench({ name: "matcalc add(relu(A), B)", group: "relu(A)+B 1e6 f64", fn: () => void ours() });
Deno.bench({
  name: "matcalc, relu(A) computed first (unfused)",
  group: "relu(A)+B 1e6 f64",
  fn: () => void unfused(),
});

if (import.meta.main) {
  const time = (fn: () => unknown) => {
    for (let i = 0; i < 10; i++) fn();
    const runs: number[] = [];
    for (let r = 0; r < 7; r++) {
      const t0 = performance.now();
      for (let i = 0; i < 20; i++) fn();
      runs.push((performance.now() - t0) / 20);
    }
    runs.sort((x, y) => x - y);
    return (runs[3] * 1e6) / N; // median, ns per element
  };
  const base = time(plainLoop);
  const mine = time(ours);
  console.log(`relu(A) + B, 1e6 float64 elements (median of 7 rounds)`);
  console.log(`plain TS loop  ${base.toFixed(2)} ns/element`);
  console.log(
    `matcalc        ${mine.toFixed(2)} ns/element  (${(mine / base).toFixed(2)}x the loop)`,
  );
  const two = time(unfused);
  console.log(
    `unfused        ${two.toFixed(2)} ns/element  (${(two / base).toFixed(2)}x the loop)`,
  );
}
