// Benchmarks for lib/linalg: deno bench bench/linalg_bench.ts
// Peers on the reference machine: thin SVD 9000x3 NumPy 0.18 ms, ml-matrix 4.8 ms;
// full SVD 500x500 NumPy 40 ms, ml-matrix 0.78 s, jax-js 7.2 s.
// svdHost runs one-sided Jacobi up to 16 columns (the 9000x3 case) and
// bidiagonalization + bidiagonal QR above (200x200, 500x500, 2000x200).
import { qrHost, svdHost } from "../lib/linalg/mod.ts";

/** Uniform entries in [-1, 1) from a seeded splitmix32 generator. */
function uniform(m: number, n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const a = new Float64Array(m * n);
  for (let i = 0; i < a.length; i++) {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    a[i] = ((z ^ (z >>> 16)) >>> 0) / 2147483648 - 1;
  }
  return a;
}

const tall = uniform(9000, 3, 1);
const square200 = uniform(200, 200, 2);
const square500 = uniform(500, 500, 3);
const tall2000 = uniform(2000, 200, 4);

Deno.bench({ name: "svdHost thin 9000x3", group: "9000x3", baseline: true }, () => {
  svdHost(tall, 9000, 3);
});

Deno.bench({ name: "qrHost thin 9000x3", group: "9000x3" }, () => {
  qrHost(tall, 9000, 3);
});

Deno.bench({ name: "svdHost thin 2000x200", group: "2000x200", baseline: true }, () => {
  svdHost(tall2000, 2000, 200);
});

Deno.bench({ name: "qrHost thin 2000x200", group: "2000x200" }, () => {
  qrHost(tall2000, 2000, 200);
});

Deno.bench({ name: "svdHost full 200x200", group: "square" }, () => {
  svdHost(square200, 200, 200, { full: true });
});

Deno.bench({ name: "svdHost full 500x500", group: "square", n: 10, warmup: 2 }, () => {
  svdHost(square500, 500, 500, { full: true });
});
