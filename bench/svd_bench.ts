/**
 * The differentiable SVD through the public API, against ml-matrix (the fastest
 * JavaScript SVD measured here) in the same run: thin 9000x3, full 500x500, and
 * the backward pass at 9000x3 (grad of a loss through U, s and V).
 *
 *   deno bench bench/svd_bench.ts
 *   deno run bench/svd_bench.ts       # medians and ratios
 */
import { Matrix as MlMatrix, SingularValueDecomposition } from "ml-matrix";
import { add, grad, type Matrix, mul, Random, square, sum, svd } from "../mod.ts";

const rng = new Random(0);
const tall = rng.normal(9000, 3), square500 = rng.normal(500, 500);
const toMl = (A: Matrix) => new MlMatrix(A.toArray());
const mlTall = toMl(tall), mlSquare = toMl(square500);
const Wu = rng.normal(9000, 3), ws = rng.normal(3, 1), Wv = rng.normal(3, 3);
const loss = (a: Matrix) => {
  const r = svd(a);
  return add(add(sum(mul(Wu, square(r.U))), sum(mul(ws, r.s))), sum(mul(Wv, square(r.V))));
};
const backward = grad(loss);

const cases = {
  "ml-matrix thin 9000x3": () => new SingularValueDecomposition(mlTall),
  "matcalc thin 9000x3": () => svd(tall),
  "matcalc thin 9000x3 forward + backward (grad of a loss through U, s, V)": () => backward(tall),
  "ml-matrix full 500x500": () => new SingularValueDecomposition(mlSquare),
  "matcalc full 500x500": () => svd(square500, { full: true }),
};

Deno.bench({
  name: "ml-matrix",
  group: "thin 9000x3",
  baseline: true,
  fn: () => void cases["ml-matrix thin 9000x3"](),
});
Deno.bench({
  name: "matcalc svd",
  group: "thin 9000x3",
  fn: () => void cases["matcalc thin 9000x3"](),
});
Deno.bench({ name: "matcalc svd + backward", group: "thin 9000x3", fn: () => void backward(tall) });
Deno.bench({
  name: "ml-matrix",
  group: "full 500x500",
  baseline: true,
  n: 3,
  fn: () => void cases["ml-matrix full 500x500"](),
});
Deno.bench({
  name: "matcalc svd",
  group: "full 500x500",
  n: 3,
  fn: () => void cases["matcalc full 500x500"](),
});

if (import.meta.main) {
  const median = (fn: () => unknown, reps: number, samples: number) => {
    fn();
    const t: number[] = [];
    for (let s = 0; s < samples; s++) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) fn();
      t.push((performance.now() - t0) / reps);
    }
    return t.sort((a, b) => a - b)[samples >> 1];
  };
  const ms: Record<string, number> = {};
  for (const [name, fn] of Object.entries(cases)) {
    ms[name] = median(fn, name.includes("500") ? 1 : 20, name.includes("500") ? 5 : 9);
    console.log(`${name}: ${ms[name].toFixed(name.includes("500") ? 0 : 3)} ms`);
  }
  const r = (a: string, b: string) => (ms[a] / ms[b]).toFixed(2);
  console.log(
    `thin 9000x3: ml-matrix / matcalc = ${r("ml-matrix thin 9000x3", "matcalc thin 9000x3")}`,
  );
  console.log(
    `full 500x500: ml-matrix / matcalc = ${r("ml-matrix full 500x500", "matcalc full 500x500")}`,
  );
  console.log(
    `backward: (forward + backward) / forward = ${
      r(
        "matcalc thin 9000x3 forward + backward (grad of a loss through U, s, V)",
        "matcalc thin 9000x3",
      )
    }`,
  );
}
