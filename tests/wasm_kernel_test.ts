// The wasm kernel against the ts kernel (the executable spec): every Kernel method on
// random and edge shapes in both dtypes, fused element-wise chains, the allocator's
// bookkeeping, and bit-identical results with and without worker threads.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  BINARY_OPS,
  type BinaryOp,
  type BroadcastShapes,
  type DType,
  type HostArray,
  type Kernel,
  type MatmulSizes,
  REDUCE_OPS,
  type ReduceAxis,
  type Storage,
  UNARY_OPS,
  type UnaryOp,
} from "../lib/kernel.ts";
import { tsKernel } from "../kernels/ts/mod.ts";
import {
  createWasmKernel,
  wasmFeatures,
  type WasmKernel,
  type WasmStorage,
} from "../kernels/wasm/mod.ts";
import { sizeClass } from "../kernels/wasm/allocator.ts";
import { F32_TILES, type F32Tile, F64_TILES, type F64Tile } from "../kernels/wasm/layout.ts";
import {
  assertClose,
  binaryKind,
  broadcastForms,
  data,
  KINKS,
  REDUCE_SHAPES,
  TRANS,
} from "./kernel_fixtures.ts";

const DTYPES: DType[] = ["float64", "float32"];

function assertIdentical(a: ArrayLike<number>, b: ArrayLike<number>, label: string): void {
  assert.equal(a.length, b.length, `${label}: length`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) assert.fail(`${label}: [${i}] ${a[i]} vs ${b[i]}`);
  }
}

/** Runs `op` on `kernel`, reads the result and disposes everything it made. */
type Op = (k: Kernel, up: (v: ArrayLike<number>) => Storage, dtype: DType) => Storage;
function run(kernel: Kernel, dtype: DType, op: Op): Float64Array | Float32Array {
  const made: Storage[] = [];
  const up = (v: ArrayLike<number>) => {
    const s = kernel.upload(v, dtype);
    made.push(s);
    return s;
  };
  const out = op(kernel, up, dtype);
  try {
    return kernel.readSync(out)!;
  } finally {
    for (const s of [...made, out]) kernel.dispose?.(s);
  }
}

/** `op` on the wasm kernel against the ts kernel. */
function check(wasm: WasmKernel, dtype: DType, label: string, op: Op, terms = 1): void {
  assertClose(run(wasm, dtype, op), run(tsKernel, dtype, op), dtype, label, { terms });
}

/**
 * Momentum SGD over rows x cols storage: v' = mu v + g and p' = p - lr v' (mu and lr
 * scalars), with the intermediates mu v and lr v' (to dispose).
 */
function momentum<S extends Storage>(
  k: Kernel<S>,
  { p, v, g, mu, lr }: { p: S; v: S; g: S; mu: S; lr: S },
  rows: number,
  cols: number,
): { muV: S; vNew: S; step: S; pNew: S } {
  const full: BroadcastShapes = { rows, cols, a: [rows, cols], b: [rows, cols] };
  const bySc: BroadcastShapes = { ...full, b: [1, 1] };
  const muV = k.binary("mul", v, mu, bySc);
  const vNew = k.binary("add", muV, g, full);
  const step = k.binary("mul", vNew, lr, bySc);
  return { muV, vNew, step, pNew: k.binary("sub", p, step, full) };
}

const mm =
  (m: number, n: number, k: number, transA: boolean, transB: boolean): Op => (kernel, up) =>
    kernel.matmul(up(data(m * k, m + 3 * k)), up(data(k * n, n + 5 * k + 1)), {
      m,
      n,
      k,
      transA,
      transB,
    });

const SPECIALS = [
  Infinity,
  -Infinity,
  NaN,
  1e-310,
  -1e-310,
  3e38,
  -3e38,
  88,
  -88,
  700,
  -700,
  800,
  -800,
];

Deno.test("wasm kernel against the ts kernel", async (t) => {
  if (!wasmFeatures().simd) {
    await assert.rejects(createWasmKernel(), /no SIMD/);
    return;
  }
  const wasm = await createWasmKernel({ threads: 1 });
  const threaded = await createWasmKernel({ threads: 2 });
  const noFma = await createWasmKernel({ threads: 1, fma: false });
  // One k block per pass (the budget is below one block), and a few blocks per pass.
  const passes = await createWasmKernel({ threads: 2, packBytes: 1 });
  const fewPasses = await createWasmKernel({ threads: 1, packBytes: 1_000_000 });
  try {
    await t.step("upload, fill, readSync, read, cast", async () => {
      for (const dtype of DTYPES) {
        for (const n of [0, 1, 7, 1000]) {
          const values = data(n, n);
          check(wasm, dtype, `upload ${n}`, (_, up) => up(values));
          for (const v of [0, -0, -1.5, 0.1, 3e38, Infinity, -Infinity, NaN]) {
            check(wasm, dtype, `fill ${n} ${v}`, (k, _, d) => k.fill(n, v, d));
          }
          for (const to of DTYPES) {
            const got = run(wasm, dtype, (k, up) => k.cast(up(values), to));
            const want = run(tsKernel, dtype, (k, up) => k.cast(up(values), to));
            assert.equal(got.constructor, want.constructor, `cast ${n} ${dtype} to ${to}: type`);
            assertClose(got, want, to, `cast ${n} ${dtype} to ${to}`);
          }
        }
        const s = wasm.upload([1, 2, 3], dtype);
        const host = wasm.readSync(s);
        assert.ok(host.buffer instanceof ArrayBuffer, "readSync returns unshared host memory");
        assert.equal(host.constructor, dtype === "float64" ? Float64Array : Float32Array);
        host[0] = 99;
        assert.deepEqual([...wasm.readSync(s)], [1, 2, 3], "readSync returns a copy");
        assert.deepEqual([...await wasm.read(s)], [1, 2, 3]);
        wasm.dispose(s);
      }
    });

    await t.step("matmul: edge shapes, block-size remainders, transpose flags", () => {
      const cases: [number, number, number][] = [
        [1, 1, 1],
        [1, 40, 70],
        [40, 1, 70],
        [1, 1, 1000],
        [5, 7, 0],
        [0, 4, 3],
        [4, 0, 3],
        [6, 8, 1],
        [7, 9, 257],
        [13, 17, 511],
        [64, 64, 16],
        [65, 67, 70],
        [130, 3, 257],
        [2, 200, 3],
        [97, 129, 300],
        [200, 333, 100],
        [1, 5000, 300],
        [3000, 1, 300],
        [1, 33, 1],
        [33, 1, 1],
      ];
      for (const dtype of DTYPES) {
        for (const [m, n, k] of cases) {
          for (const [ta, tb] of TRANS) {
            check(wasm, dtype, `matmul ${m}x${k} by ${k}x${n} ${ta} ${tb}`, mm(m, n, k, ta, tb), k);
          }
        }
        for (const [m, n, k] of [[7, 9, 257], [65, 67, 70], [97, 129, 300]]) {
          check(noFma, dtype, `matmul without fma ${m} ${n} ${k}`, mm(m, n, k, false, true), k);
        }
        // Tiny pack budgets: several passes over k, one k block (or all but one) each;
        // the result is bit-identical to one pass.
        for (const [m, n, k] of [[97, 129, 1100], [13, 300, 700], [300, 13, 530]]) {
          for (const [ta, tb] of TRANS) {
            const label = `matmul in passes ${m}x${k} by ${k}x${n} ${ta} ${tb}`;
            const one = run(wasm, dtype, mm(m, n, k, ta, tb));
            for (const kernel of [passes, fewPasses]) {
              assertIdentical(run(kernel, dtype, mm(m, n, k, ta, tb)), one, label);
            }
            check(passes, dtype, label, mm(m, n, k, ta, tb), k);
          }
        }
      }
    });

    await t.step(
      "matmul: units of a product of few rows pack their own columns of op(B)",
      async () => {
        // Up to 192 rows with enough columns: one row block, each unit packing its columns
        // of op(B) for each k block as it goes. The same rows inside a product of 400 rows
        // (op(B) packed beforehand) come out identical bit for bit: same blocks, same sums.
        const M = 400;
        for (const dtype of DTYPES) {
          for (const kernel of [wasm, threaded, passes]) {
            for (const [m, n, k] of [[128, 500, 784], [37, 300, 70], [192, 130, 600]]) {
              for (const [ta, tb] of TRANS) {
                const label =
                  `${dtype} ${kernel.threads} threads ${m}x${k} by ${k}x${n} ${ta} ${tb}`;
                const big = data(M * k, m + k), b = data(k * n, n + k);
                // The first m rows of op(A): stored M x k, or k x M when transposed.
                const small = ta
                  ? Float64Array.from(
                    { length: m * k },
                    (_, i) => big[Math.floor(i / m) * M + i % m],
                  )
                  : big.subarray(0, m * k);
                const product = (a: ArrayLike<number>, rows: number): Op => (kk, up) =>
                  kk.matmul(up(a), up(b), { m: rows, n, k, transA: ta, transB: tb });
                const few = run(kernel, dtype, product(small, m));
                assertIdentical(few, run(kernel, dtype, product(big, M)).subarray(0, m * n), label);
                check(kernel, dtype, label, product(small, m), k);
              }
            }
          }
        }
        // op(B) is never copied whole: on a fresh kernel, the MNIST forward product (128 x
        // 784 by 784 x 500) needs blocks for C and packed op(A) only, not op(B)'s 3.2 MB.
        const fresh = await createWasmKernel({ threads: 2 });
        try {
          const [m, n, k] = [128, 500, 784];
          const a = fresh.upload(data(m * k, 1), "float64"),
            b = fresh.upload(data(k * n, 2), "float64");
          const before = fresh.memoryBytes();
          const c = fresh.matmul(a, b, { m, n, k, transA: false, transB: false });
          fresh.readSync(c);
          const grew = fresh.memoryBytes() - before;
          assert.ok(grew < 3e6, `the product took ${grew} bytes: op(B) was packed whole`);
        } finally {
          fresh.destroy();
        }
      },
    );

    await t.step("matmul: narrow op(B) is read in place, on any thread count", () => {
      // 1 to 8 vectors of columns, B not transposed: the narrow job (no packing), with
      // a transposed A only while it fits 1 MiB; the other cases go through packing.
      for (const dtype of DTYPES) {
        const lanes = dtype === "float64" ? 2 : 4;
        // In float32, 2 and 6 columns are whole float64 vectors but not float32 ones.
        const odd = dtype === "float32" ? [2, 6] : [];
        for (const n of [lanes, 3 * lanes, 5 * lanes, 8 * lanes, 8 * lanes + lanes, 3, ...odd]) {
          for (const [m, k] of [[2, 1], [37, 300], [128, 500], [501, 128], [1000, 300]]) {
            for (const [ta, tb] of TRANS) {
              const label = `narrow ${dtype} ${m}x${k} by ${k}x${n} ${ta} ${tb}`;
              check(wasm, dtype, label, mm(m, n, k, ta, tb), k);
              assertIdentical(
                run(threaded, dtype, mm(m, n, k, ta, tb)),
                run(wasm, dtype, mm(m, n, k, ta, tb)),
                `${label}: 1 and 2 threads`,
              );
            }
          }
        }
      }
    });

    await t.step("matmul: a narrow op(B) sums each element in one chain down k", () => {
      // Without fma, the narrow job computes each element of C exactly as this loop does
      // (acc + a * b in k order, from 0); the packed path adds partial sums of k blocks,
      // which differ in the last bits (at k = 300 most elements do). So this checks the
      // path is taken, as well as its result.
      for (const [m, n, k] of [[37, 8, 300], [40, 16, 300], [5, 2, 700]]) {
        for (const transA of [false, true]) {
          const a = data(m * k, m + k), b = data(k * n, n + k);
          const want = new Float64Array(m * n);
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let acc = 0;
              for (let p = 0; p < k; p++) acc += a[transA ? p * m + i : i * k + p] * b[p * n + j];
              want[i * n + j] = acc;
            }
          }
          const got = run(
            noFma,
            "float64",
            (kk, up) => kk.matmul(up(a), up(b), { m, n, k, transA, transB: false }),
          );
          assertIdentical(got, want, `narrow ${m}x${k} by ${k}x${n} ${transA}`);
        }
      }
    });

    await t.step("matmul: random shapes (fast-check)", () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 130 }),
          fc.integer({ min: 1, max: 130 }),
          fc.integer({ min: 1, max: 300 }),
          fc.constantFrom(...TRANS),
          fc.constantFrom(...DTYPES),
          (m, n, k, [ta, tb], dtype) =>
            check(wasm, dtype, `matmul ${m} ${n} ${k} ${ta} ${tb}`, mm(m, n, k, ta, tb), k),
        ),
        { seed: 20261122, numRuns: 60 },
      );
    });

    await t.step("unary ops, including kinks and special values", () => {
      for (const dtype of DTYPES) {
        for (const op of UNARY_OPS) {
          const positive = op === "log" || op === "sqrt";
          const scale = op === "exp" || op === "sigmoid" ? 10 : op === "tanh" ? 3 : 1;
          const values = [
            ...data(1001, 11, positive ? "positive" : "uniform").map((x) => x * scale),
            ...KINKS,
            ...SPECIALS,
            ...(op === "log" ? data(100, 12, "positive").map((x) => x * 1e-40) : []),
          ].map((x) => (dtype === "float32" ? Math.fround(x) : x));
          check(wasm, dtype, op, (k, up) => k.unary(op, up(values)));
          check(noFma, dtype, `${op} without fma`, (k, up) => k.unary(op, up(values)));
          for (const len of [1, 2, 3, 5]) {
            check(wasm, dtype, `${op} of ${len}`, (k, up) => k.unary(op, up(values.slice(0, len))));
          }
        }
      }
    });

    await t.step("binary ops with every broadcast pattern", () => {
      for (const dtype of DTYPES) {
        for (
          const [rows, cols] of [[37, 53], [1, 9], [9, 1], [1, 1], [3, 2], [300, 300]] as [
            number,
            number,
          ][]
        ) {
          for (const op of BINARY_OPS) {
            const kind = binaryKind(op);
            for (const sa of broadcastForms(rows, cols)) {
              for (const sb of broadcastForms(rows, cols)) {
                const shapes: BroadcastShapes = { rows, cols, a: sa, b: sb };
                check(
                  wasm,
                  dtype,
                  `${op} ${rows}x${cols} a ${sa} b ${sb}`,
                  (k, up) =>
                    k.binary(
                      op,
                      up(data(sa[0] * sa[1], 1, kind)),
                      up(data(sb[0] * sb[1], 2, kind)),
                      shapes,
                    ),
                );
              }
            }
          }
        }
        const nan: BroadcastShapes = { rows: 1, cols: 4, a: [1, 4], b: [1, 4] };
        for (const op of BINARY_OPS) {
          check(
            wasm,
            dtype,
            `${op} with NaN and infinities`,
            (k, up) => k.binary(op, up([NaN, 1, Infinity, -0]), up([1, NaN, -Infinity, 0]), nan),
          );
        }
      }
    });

    await t.step("fused element-wise chains", () => {
      // The ts kernel evaluates a fused chain in float64 and rounds once; the wasm kernel
      // rounds every op in the dtype (like NumPy), so the error grows with the chain's ops.
      const chains: [
        string,
        (k: Kernel, up: (v: ArrayLike<number>) => Storage, r: number, c: number) => Storage,
        number,
      ][] = [
        ["relu(A) + B", (k, up, r, c) => {
          const s: BroadcastShapes = { rows: r, cols: c, a: [r, c], b: [r, c] };
          return k.binary("add", k.unary("relu", up(data(r * c, 1))), up(data(r * c, 2)), s);
        }, 2],
        ["sigmoid(A + row) * col - 1", (k, up, r, c) => {
          const sum = k.binary("add", up(data(r * c, 3)), up(data(c, 4)), {
            rows: r,
            cols: c,
            a: [r, c],
            b: [1, c],
          });
          const prod = k.binary("mul", k.unary("sigmoid", sum), up(data(r, 5)), {
            rows: r,
            cols: c,
            a: [r, c],
            b: [r, 1],
          });
          return k.binary("sub", prod, up([1]), { rows: r, cols: c, a: [r, c], b: [1, 1] });
        }, 4],
        ["exp(col - A) / (A * A) with shared leaves", (k, up, r, c) => {
          const a = up(data(r * c, 6, "nonzero"));
          const d = k.binary("sub", up(data(r, 7)), a, { rows: r, cols: c, a: [r, 1], b: [r, c] });
          const sq = k.binary("mul", a, a, { rows: r, cols: c, a: [r, c], b: [r, c] });
          return k.binary("div", k.unary("exp", d), sq, { rows: r, cols: c, a: [r, c], b: [r, c] });
        }, 4],
        ["a chain of 40 ops (split where it exceeds the fused size)", (k, up, r, c) => {
          let x = up(data(r * c, 8));
          const s: BroadcastShapes = { rows: r, cols: c, a: [r, c], b: [1, c] };
          for (let i = 0; i < 20; i++) {
            x = k.binary(i % 2 ? "mul" : "add", k.unary("tanh", x), up(data(c, 9 + i)), s);
          }
          return x;
        }, 40],
        ["unary of a scalar-broadcast chain", (k, up, r, c) => {
          const s = k.binary("add", up([0.5]), up([0.25]), {
            rows: 1,
            cols: 1,
            a: [1, 1],
            b: [1, 1],
          });
          return k.binary("add", k.unary("exp", s), up(data(r * c, 10)), {
            rows: r,
            cols: c,
            a: [1, 1],
            b: [r, c],
          });
        }, 3],
      ];
      for (const dtype of DTYPES) {
        for (const [name, chain, ops] of chains) {
          for (const [r, c] of [[1, 1], [1, 13], [13, 1], [7, 5], [33, 600], [300, 301]]) {
            check(wasm, dtype, `${name} ${r}x${c}`, (k, up) => chain(k, up, r, c), ops);
          }
        }
      }
    });

    await t.step("reductions", () => {
      for (const dtype of DTYPES) {
        for (const op of REDUCE_OPS) {
          for (const [rows, cols] of REDUCE_SHAPES) {
            for (const axis of ["all", 0, 1] as ReduceAxis[]) {
              const terms = axis === "all" ? rows * cols : axis === 0 ? rows : cols;
              check(
                wasm,
                dtype,
                `${op} ${rows}x${cols} axis ${axis}`,
                (k, up) => k.reduce(op, up(data(rows * cols, rows + cols)), rows, cols, axis),
                terms,
              );
            }
          }
          for (const axis of ["all", 0, 1] as ReduceAxis[]) {
            for (const [rows, cols] of [[0, 5], [5, 0], [0, 0]]) {
              check(
                wasm,
                dtype,
                `${op} ${rows}x${cols} axis ${axis}`,
                (k, up) => k.reduce(op, up([]), rows, cols, axis),
              );
            }
            check(
              wasm,
              dtype,
              `${op} with NaN axis ${axis}`,
              (k, up) => k.reduce(op, up([1, NaN, 3, 4, 5, 6]), 2, 3, axis),
            );
          }
        }
      }
    });

    await t.step("transpose and gather", () => {
      for (const dtype of DTYPES) {
        for (
          const [rows, cols] of [[1, 1], [1, 17], [23, 1], [37, 53], [64, 64], [3, 300], [0, 5], [
            5,
            0,
          ], [200, 333]]
        ) {
          check(
            wasm,
            dtype,
            `transpose ${rows}x${cols}`,
            (k, up) => k.transpose(up(data(rows * cols, 3)), rows, cols),
          );
        }
        for (const [n, len] of [[0, 5], [1, 1], [10, 3], [5000, 777]]) {
          const index = Int32Array.from(
            data(n, 9),
            (u) => u < -0.8 ? -1 : Math.floor((u + 1) / 2 * len),
          );
          check(wasm, dtype, `gather ${n} of ${len}`, (k, up) => k.gather(up(data(len, 4)), index));
        }
        const s = wasm.upload([1, 2], dtype);
        const before = wasm.liveBlocks();
        assert.throws(() => wasm.gather(s, Int32Array.of(0, 2)), RangeError);
        assert.equal(wasm.liveBlocks(), before, "a failed gather frees its output");
        wasm.dispose(s);
      }
    });

    await t.step("threads on and off give identical results", () => {
      assert.equal(threaded.threads, 2);
      const same = (label: string, dtype: DType, op: Op) =>
        assertIdentical(run(wasm, dtype, op), run(threaded, dtype, op), `${label} ${dtype}`);
      for (const dtype of DTYPES) {
        for (const [ta, tb] of TRANS) {
          same(`matmul 301x263 by 263x517 ${ta} ${tb}`, dtype, mm(301, 517, 263, ta, tb));
        }
        same("matmul 7x700 by 700x900", dtype, mm(7, 900, 700, false, false));
        same("matmul 600x40 by 40x3", dtype, mm(600, 3, 40, false, false));
        for (const [ta, tb] of TRANS) {
          same(`gemv 1x300 by 300x5000 ${ta} ${tb}`, dtype, mm(1, 5000, 300, ta, tb));
          same(`gemv 3000x300 by 300x1 ${ta} ${tb}`, dtype, mm(3000, 1, 300, ta, tb));
        }
        for (const [r, c] of [[300, 301], [1, 100_000], [100_000, 1], [40, 3000]]) {
          for (const sb of broadcastForms(r, c)) {
            same(
              `tanh(A) * B ${r}x${c} b ${sb}`,
              dtype,
              (k, up) =>
                k.binary("mul", k.unary("tanh", up(data(r * c, 1))), up(data(sb[0] * sb[1], 2)), {
                  rows: r,
                  cols: c,
                  a: [r, c],
                  b: sb,
                }),
            );
          }
          for (const op of REDUCE_OPS) {
            for (const axis of ["all", 0, 1] as ReduceAxis[]) {
              same(
                `${op} ${r}x${c} axis ${axis}`,
                dtype,
                (k, up) => k.reduce(op, up(data(r * c, 3)), r, c, axis),
              );
            }
          }
          same(`transpose ${r}x${c}`, dtype, (k, up) => k.transpose(up(data(r * c, 4)), r, c));
        }
      }
    });

    await t.step("allocator: live blocks return to the baseline after dispose", () => {
      for (const kernel of [wasm, threaded]) {
        const baseline = kernel.liveBlocks();
        const made: WasmStorage[] = [];
        const keep = (s: WasmStorage) => (made.push(s), s);
        for (const dtype of DTYPES) {
          const a = keep(kernel.upload(data(64 * 70, 1), dtype));
          const b = keep(kernel.upload(data(70 * 50, 2), dtype));
          const c = keep(
            kernel.matmul(a, b, { m: 64, n: 50, k: 70, transA: false, transB: false }),
          );
          const s: BroadcastShapes = { rows: 64, cols: 50, a: [64, 50], b: [1, 50] };
          const r = keep(
            kernel.binary("add", keep(kernel.unary("relu", c)), keep(kernel.fill(50, 1, dtype)), s),
          );
          keep(kernel.reduce("sum", r, 64, 50, 0));
          keep(kernel.transpose(r, 64, 50));
          keep(kernel.gather(r, Int32Array.of(0, 5, -1)));
          keep(kernel.cast(r, dtype === "float64" ? "float32" : "float64"));
        }
        assert.ok(kernel.liveBlocks() > baseline);
        for (const s of made) kernel.dispose(s);
        for (const s of made) kernel.dispose(s); // idempotent
        assert.equal(kernel.liveBlocks(), baseline, `${kernel.threads} threads`);
      }
    });

    await t.step("the collector frees blocks of unreachable storage in a long loop", async () => {
      // 320 uploads of 4 MiB that are never disposed (1.25 GiB): once the memory has
      // grown past 128 MiB, blocks carry a ballast that makes V8 collect, and the
      // finalizers return the blocks for reuse, so the memory stays far below what
      // the loop made: 256-324 MiB in 30 runs here, against 672-872 MiB without the
      // ballast (5 runs). When V8 collects is up to V8, and twice in a busy hour a run
      // went past 512 MiB (684 once), so the loop gets up to three tries on fresh
      // kernels and the lowest peak counts: without the ballast, every try stays above
      // 512 MiB.
      const peaks: number[] = [];
      for (let tries = 0; tries < 3 && !(Math.min(...peaks) < 512); tries++) {
        const fresh = await createWasmKernel({ threads: 1 });
        try {
          const chunk = new Float64Array(1 << 19).fill(1);
          for (let i = 0; i < 320; i++) {
            fresh.upload(chunk, "float64");
            if (i % 8 === 7) await new Promise((resolve) => setTimeout(resolve, 0));
          }
          peaks.push(fresh.memoryBytes() / 2 ** 20);
        } finally {
          fresh.destroy();
        }
      }
      const best = Math.min(...peaks);
      assert.ok(best < 512, `the memory grew to ${peaks.map((p) => p.toFixed(0)).join(", ")} MiB`);
    });

    await t.step("pending results keep disposed inputs alive until computed", () => {
      for (const dtype of DTYPES) {
        const baseline = wasm.liveBlocks();
        const a = wasm.upload([-1, 2, -3, 4], dtype);
        const b = wasm.upload([10, 20, 30, 40], dtype);
        const s: BroadcastShapes = { rows: 2, cols: 2, a: [2, 2], b: [2, 2] };
        const relu = wasm.unary("relu", a);
        const out = wasm.binary("add", relu, b, s);
        wasm.dispose(a);
        wasm.dispose(b);
        wasm.dispose(relu); // pending too: only `out` still reads a and b
        assert.throws(() => wasm.unary("neg", a), /disposed/);
        assert.equal(wasm.liveBlocks(), baseline + 2, "inputs of a pending result are kept");
        const other = wasm.upload([7, 7, 7, 7], dtype); // may not reuse their blocks
        assert.deepEqual([...wasm.readSync(out)], [10, 22, 30, 44]);
        assert.equal(wasm.liveBlocks(), baseline + 2, "inputs freed once computed");
        wasm.dispose(out);
        wasm.dispose(other);
        const x = wasm.upload([1], dtype);
        const pending = wasm.unary("exp", x);
        wasm.dispose(x);
        wasm.dispose(pending); // never computed: unpins its input, which goes too
        assert.equal(wasm.liveBlocks(), baseline);
      }
    });

    await t.step("a pending result writes over a disposed input only it reads", () => {
      for (const dtype of DTYPES) {
        const s: BroadcastShapes = { rows: 2, cols: 2, a: [2, 2], b: [2, 2] };
        const baseline = wasm.liveBlocks();
        const p = wasm.upload([1, 2, 3, 4], dtype);
        const v = wasm.upload([10, 20, 30, 40], dtype);
        // p read twice (one expression), then disposed: its block becomes the output's.
        const sq = wasm.binary("mul", p, p, s);
        const sum = wasm.binary("add", sq, p, s);
        const next = wasm.binary("sub", sum, v, s);
        wasm.dispose(p);
        wasm.dispose(sq);
        wasm.dispose(sum); // pending intermediates pin their inputs too
        assert.equal(wasm.liveBlocks(), baseline + 2);
        assert.deepEqual([...wasm.readSync(next)], [-8, -14, -18, -20]);
        assert.equal(wasm.liveBlocks(), baseline + 2);
        // Had p's block also been freed, these would land on it and overwrite next.
        const w1 = wasm.upload([9, 9, 9, 9], dtype), w2 = wasm.upload([8, 8, 8, 8], dtype);
        assert.deepEqual([...wasm.readSync(next)], [-8, -14, -18, -20]);
        assert.deepEqual([...wasm.readSync(w1)], [9, 9, 9, 9]);
        wasm.dispose(w1);
        wasm.dispose(w2);
        // q is read by two pending results: neither may write over it.
        const q = wasm.upload([1, 2, 3, 4], dtype);
        const first = wasm.binary("add", q, v, s);
        const second = wasm.binary("mul", q, v, s);
        wasm.dispose(q);
        assert.deepEqual([...wasm.readSync(first)], [11, 22, 33, 44]);
        assert.deepEqual([...wasm.readSync(second)], [10, 40, 90, 160]);
        // A broadcast row of the output's length is not a candidate when shapes differ.
        const row = wasm.upload([1, 2], dtype);
        const grid = wasm.upload([1, 1, 1, 1], dtype);
        const bc = wasm.binary("add", grid, row, { rows: 2, cols: 2, a: [2, 2], b: [1, 2] });
        wasm.dispose(row);
        assert.deepEqual([...wasm.readSync(bc)], [2, 3, 2, 3]);
        for (const x of [next, v, first, second, grid, bc]) wasm.dispose(x);
        assert.equal(wasm.liveBlocks(), baseline);
      }
    });

    await t.step(
      "evaluateTogether: one pass, a later member reads an earlier's output",
      async () => {
        for (const dtype of DTYPES) {
          const n = 3001; // several chunks, and an odd tail
          const host = <S extends Storage>(k: Kernel<S>, up: (v: ArrayLike<number>) => S) => {
            const p = up(data(n, 1)), v = up(data(n, 2)), g = up(data(n, 3));
            const mu = up([0.9]), lr = up([0.1]);
            return { p, v, g, ...momentum(k, { p, v, g, mu, lr }, 1, n) };
          };
          // Reference values from the ts kernel.
          const ts = host(tsKernel, (x) => tsKernel.upload(x, dtype));
          const wantV = tsKernel.readSync(ts.vNew)!, wantP = tsKernel.readSync(ts.pNew)!;
          const baseline = wasm.liveBlocks();
          const made: WasmStorage[] = [];
          const w = host(wasm, (x) => {
            const s = wasm.upload(x, dtype);
            made.push(s);
            return s;
          });
          wasm.evaluateTogether([w.vNew, w.pNew]);
          // The caller disposes the old values and the intermediates (which pin their
          // inputs too): the outputs then go over p and v.
          for (const s of [w.p, w.v, w.g, w.muV, w.step]) wasm.dispose(s);
          const before = wasm.liveBlocks();
          const gotP = wasm.readSync(w.pNew); // computes both
          assert.equal(wasm.liveBlocks(), before - 1, "p and v reused, g freed");
          const gotV = wasm.readSync(w.vNew); // already computed: no new block
          assert.equal(wasm.liveBlocks(), before - 1);
          assertClose(gotV, wantV, dtype, "velocity", { terms: 2 });
          assertClose(gotP, wantP, dtype, "parameters", { terms: 4 });
          // Blocks land where they should: new ones do not overwrite the outputs.
          const other = wasm.upload(data(n, 4), dtype);
          assertClose(wasm.readSync(w.pNew), wantP, dtype, "parameters, later", { terms: 4 });
          for (const s of [...made, w.vNew, w.pNew, other]) wasm.dispose(s);
          assert.equal(wasm.liveBlocks(), baseline);
        }
        // On a fresh kernel (no free blocks to hide a new one): the pass allocates
        // nothing, because the parameters read the new velocity, which went over the old,
        // instead of recomputing it from the old (which would pin it).
        const fresh = await createWasmKernel({ threads: 1 });
        try {
          const dtype = "float64", n = 1000;
          const [p, v, g] = [1, 2, 3].map((seed) => fresh.upload(data(n, seed), dtype));
          const mu = fresh.upload([0.9], dtype), lr = fresh.upload([0.1], dtype);
          const { muV, vNew, step, pNew } = momentum(fresh, { p, v, g, mu, lr }, 1, n);
          fresh.evaluateTogether([vNew, pNew]);
          for (const s of [p, v, g, muV, step]) fresh.dispose(s);
          const top = fresh.memoryBytes();
          fresh.evaluate(pNew);
          assert.equal(fresh.memoryBytes(), top, "no block was allocated");
          const [hp, hv, hg] = [1, 2, 3].map((seed) => data(n, seed));
          const want = hp.map((x, i) => x - 0.1 * (0.9 * hv[i] + hg[i]));
          assertClose(fresh.readSync(pNew), Float64Array.from(want), dtype, "fresh", { terms: 4 });
        } finally {
          fresh.destroy();
        }
      },
    );

    await t.step("evaluateTogether: members that do not fit are computed alone", () => {
      const dtype = "float64";
      const a = wasm.upload([1, 2, 3, 4, 5, 6], dtype), row = wasm.upload([10, 20, 30], dtype);
      const b = wasm.upload([1, 2], dtype);
      const grid23: BroadcastShapes = { rows: 2, cols: 3, a: [2, 3], b: [1, 3] };
      const grid32: BroadcastShapes = { rows: 3, cols: 2, a: [3, 2], b: [1, 2] };
      const x = wasm.binary("add", a, row, grid23); // 2 x 3 with a broadcast row
      const y = wasm.binary("mul", a, b, grid32); // 3 x 2: another grid
      const z = wasm.unary("neg", a); // flat: fits any grid
      const shorter = wasm.unary("neg", b); // another length
      const f32 = wasm.cast(a, "float32");
      const other = wasm.unary("abs", f32); // another dtype
      const done = wasm.upload([0, 0, 0, 0, 0, 0], dtype); // not pending: ignored
      wasm.evaluateTogether([x, y, z, shorter, other, done]);
      wasm.evaluateTogether([]); // nothing to do
      assert.deepEqual([...wasm.readSync(x)], [11, 22, 33, 14, 25, 36]);
      assert.deepEqual([...wasm.readSync(y)], [1, 4, 3, 8, 5, 12]);
      assert.deepEqual([...wasm.readSync(z)], [-1, -2, -3, -4, -5, -6]);
      assert.deepEqual([...wasm.readSync(shorter)], [-1, -2]);
      assert.deepEqual([...wasm.readSync(other)], [1, 2, 3, 4, 5, 6]);
      // A member disposed while pending is dropped from its group.
      const p = wasm.unary("neg", a), q = wasm.unary("abs", a);
      wasm.evaluateTogether([p, q]);
      wasm.dispose(p);
      assert.deepEqual([...wasm.readSync(q)], [1, 2, 3, 4, 5, 6]);
      // A group too large for one program: each member is computed alone.
      const same23: BroadcastShapes = { rows: 2, cols: 3, a: [2, 3], b: [2, 3] };
      const big = Array.from({ length: 40 }, () => {
        let e = wasm.unary("neg", a);
        for (let j = 0; j < 10; j++) e = wasm.binary("add", e, a, same23);
        return { e, want: Array.from({ length: 6 }, (_, k) => (k + 1) * 9) };
      });
      wasm.evaluateTogether(big.map((b) => b.e));
      for (const { e, want } of big) assert.deepEqual([...wasm.readSync(e)], want);
      for (const s of [a, row, b, x, y, z, shorter, f32, other, done, q, ...big.map((b) => b.e)]) {
        wasm.dispose(s);
      }
      assert.throws(() => wasm.evaluateTogether([p]), /evaluateTogether.*disposed/);
      const foreign = tsKernel.upload([1], "float64") as unknown as WasmStorage;
      assert.throws(() => wasm.evaluateTogether([foreign]), /another kernel/);
      assert.throws(
        () => wasm.evaluateTogether(null as unknown as WasmStorage[]),
        /group must be an array/,
      );
    });

    await t.step(
      "a pending product runs the element-wise results over it as its epilogue",
      async () => {
        // The same results, bit for bit, as the product computed first (epilogues off),
        // and close to the ts kernel; every path of the epilogue: blocks of whole rows in
        // per-thread scratch (the product disposed) or in place (the product kept), blocks
        // of some columns, several passes over k, too narrow blocks, another grid.
        const plain = await createWasmKernel({ threads: 2, epilogues: false });
        const single = await createWasmKernel({ threads: 1 });
        const cases: [WasmKernel, number, number, number, boolean, boolean][] = [
          [threaded, 150, 203, 24, false, false], // whole rows: packed op(B) is small
          [threaded, 150, 203, 24, true, true],
          [threaded, 384, 770, 200, false, true], // float64: 6 column blocks of 132 columns
          [threaded, 128, 500, 600, false, false], // 44 or 24 columns per block: no epilogue
          [single, 37, 45, 9, true, false],
          [passes, 70, 130, 600, false, false], // the epilogue on the last pass (of 3 or 2) only
          [threaded, 150, 16, 300, true, false], // narrow op(B): no epilogue
          [single, 37, 8, 9, false, false],
        ];
        for (const dtype of DTYPES) {
          for (const [kernel, m, n, k, transA, transB] of cases) {
            const label = `${dtype} ${m}x${n}x${k} ${kernel.threads} threads`;
            const sizes: MatmulSizes = { m, n, k, transA, transB };
            const full = { rows: m, cols: n, a: [m, n], b: [m, n] } as BroadcastShapes;
            const byRow = { ...full, b: [1, n] } as BroadcastShapes;
            const byCol = { ...full, b: [m, 1] } as BroadcastShapes;
            const flat = { rows: 1, cols: m * n, a: [1, m * n], b: [1, m * n] } as BroadcastShapes;
            // relu(P + row) * col - q; the momentum step v' = mu v + P, p' = p - lr v'
            // (grouped); P + q on a flat grid (not P's: computed first).
            // "alone": only e reads the product, disposed (its blocks stay in scratch);
            // "group": every result, P disposed, the momentum pair read first; "kept":
            // every result and P, e read first.
            type Mode = "alone" | "group" | "kept";
            const build = <S extends Storage>(kk: Kernel<S>, mode: Mode) => {
              const made: S[] = []; // inputs and intermediates, disposed below
              const mk = (x: S) => (made.push(x), x);
              const up = (len: number, seed: number) => mk(kk.upload(data(len, seed), dtype));
              const [a, b] = [up(m * k, m + k), up(k * n, n + 2 * k)];
              const [row, col, q, v, p] = [
                up(n, 3),
                up(m, 4),
                up(m * n, 5),
                up(m * n, 6),
                up(m * n, 7),
              ];
              const [mu, lr] = [mk(kk.upload([0.9], dtype)), mk(kk.upload([0.1], dtype))];
              const P = kk.matmul(a, b, sizes);
              const sum = mk(kk.binary("add", P, row, byRow));
              const scaled = mk(kk.binary("mul", mk(kk.unary("relu", sum)), col, byCol));
              const e = kk.binary("sub", scaled, q, full);
              if (mode === "alone") {
                for (const x of [...made, P]) kk.dispose?.(x);
                return { e, vNew: null, pNew: null, f: null, P: null };
              }
              const { muV, vNew, step, pNew } = momentum(kk, { p, v, g: P, mu, lr }, m, n);
              made.push(muV, step);
              kk.evaluateTogether?.([vNew, pNew, P]); // P itself stays out of the group
              const f = kk.binary("add", P, q, flat);
              if (mode !== "kept") made.push(P);
              for (const x of made) kk.dispose?.(x);
              return { e, vNew, pNew, f, P: mode === "kept" ? P : null };
            };
            const want = build(tsKernel, "kept");
            const read = <S extends Storage>(kk: Kernel<S>, x: S | null) => x && kk.readSync(x)!;
            for (const mode of ["alone", "group", "kept"] as const) {
              const baseline = kernel.liveBlocks();
              const got = build(kernel, mode), ref = build(plain, mode);
              const order = mode === "group"
                ? ["vNew", "pNew", "e", "f", "P"] as const
                : ["e", "vNew", "pNew", "f", "P"] as const;
              for (const key of order) {
                const g = read(kernel, got[key]), r = read(plain, ref[key]);
                if (g === null || r === null) continue;
                assertIdentical(g, r, `${label}, ${mode}: ${key} against epilogues off`);
                assertClose(g, read(tsKernel, want[key])!, dtype, `${label}: ${key}`, {
                  terms: k + 4,
                });
              }
              for (const x of Object.values(got)) if (x) kernel.dispose(x);
              for (const x of Object.values(ref)) if (x) plain.dispose(x);
              assert.equal(kernel.liveBlocks(), baseline, `${label}: blocks freed`);
            }
          }
        }
        // A product that only its epilogue reads never gets a block. The momentum step
        // on fresh kernels (no free blocks to reuse): the new velocity and parameters go
        // over the old ones either way, and only the product computed first needs a block.
        // A scenario on fresh kernels (no free blocks to reuse) with epilogues on and off:
        // what it reads, and the memory the kernel grew to.
        const onAndOff = async (threads: number, scenario: (k: WasmKernel) => HostArray) => {
          const result = async (epilogues: boolean) => {
            const fresh = await createWasmKernel({ threads, epilogues });
            try {
              return { got: scenario(fresh), bytes: fresh.memoryBytes() };
            } finally {
              fresh.destroy();
            }
          };
          return { on: await result(true), off: await result(false) };
        };
        const momentumStep = (fresh: WasmKernel) => {
          const [m, n, k] = [500, 400, 16];
          const up = (len: number, seed: number) => fresh.upload(data(len, seed), "float64");
          const [a, b, v, p] = [up(m * k, 1), up(k * n, 2), up(m * n, 3), up(m * n, 4)];
          const [mu, lr] = [fresh.upload([0.9], "float64"), fresh.upload([0.1], "float64")];
          const P = fresh.matmul(a, b, { m, n, k, transA: false, transB: false });
          const { muV, vNew, step, pNew } = momentum(fresh, { p, v, g: P, mu, lr }, m, n);
          fresh.evaluateTogether([vNew, pNew]);
          for (const x of [P, v, p, muV, step]) fresh.dispose(x);
          const got = fresh.readSync(pNew);
          // An unread pending product is never computed, and frees nothing twice.
          fresh.dispose(fresh.matmul(a, b, { m, n, k, transA: false, transB: false }));
          return got;
        };
        const { on, off } = await onAndOff(1, momentumStep);
        assertIdentical(on.got, off.got, "fresh kernels");
        assert.ok(
          on.bytes < off.bytes - 500 * 400 * 8 / 2,
          `the product's block was not saved: ${on.bytes} vs ${off.bytes} bytes`,
        );
        // A product with too narrow blocks first among the leaves leaves the epilogue to
        // the next one: P1 + P2, both disposed, P1 in blocks of 44 or 24 columns (k = 600),
        // P2 in blocks of whole rows (k = 16), so P2 runs the sum and never gets a block.
        const twoProducts = (fresh: WasmKernel) => {
          const [m, n] = [128, 500];
          const up = (len: number, seed: number) => fresh.upload(data(len, seed), "float64");
          const product = (k: number, seed: number) =>
            fresh.matmul(up(m * k, seed), up(k * n, seed + 1), {
              m,
              n,
              k,
              transA: false,
              transB: false,
            });
          const [P1, P2] = [product(600, 1), product(16, 3)];
          const sum = fresh.binary("add", P1, P2, { rows: m, cols: n, a: [m, n], b: [m, n] });
          fresh.dispose(P1);
          fresh.dispose(P2);
          return fresh.readSync(sum);
        };
        const two = await onAndOff(2, twoProducts);
        assertIdentical(two.on.got, two.off.got, "two products");
        // (P2's scratch, a block per thread, takes back part of what its 500 KB block costs.)
        assert.ok(
          two.on.bytes < two.off.bytes - 128 * 500 * 8 / 4,
          `the second product did not take the epilogue: ${two.on.bytes} vs ${two.off.bytes} bytes`,
        );
        plain.destroy();
        single.destroy();
      },
    );

    await t.step("errors: foreign, disposed and bad arguments", async () => {
      const foreign = tsKernel.upload([1], "float64") as unknown as Parameters<
        WasmKernel["unary"]
      >[1];
      assert.throws(() => wasm.unary("neg", foreign), {
        name: "TypeError",
        message: /another kernel/,
      });
      assert.throws(() => threaded.unary("neg", wasm.upload([1], "float64")), /another kernel/);
      const s = wasm.upload([1, 2], "float32");
      wasm.dispose(s);
      assert.throws(() => wasm.readSync(s), { name: "TypeError", message: /disposed/ });
      await assert.rejects(wasm.read(s), /disposed/);
      assert.throws(() => wasm.upload([1], "float16" as DType), TypeError);
      assert.throws(() => wasm.fill(1, 0, "int32" as DType), TypeError);
    });

    await t.step({
      name: "unreachable storage is freed by the FinalizationRegistry",
      ignore: typeof (globalThis as { gc?: unknown }).gc !== "function", // needs --v8-flags=--expose-gc
      fn: async () => {
        const gc = (globalThis as unknown as { gc: () => void }).gc;
        const settle = async () => {
          for (let i = 0, last = -1; i < 50 && wasm.liveBlocks() !== last; i++) {
            last = wasm.liveBlocks();
            gc();
            await new Promise((r) => setTimeout(r, 10));
          }
        };
        await settle(); // garbage from earlier steps goes first
        const before = wasm.liveBlocks();
        (() => wasm.upload(new Float64Array(100), "float64"))();
        (() => wasm.unary("exp", wasm.upload(new Float64Array(100), "float64")))(); // pending
        assert.equal(wasm.liveBlocks(), before + 2);
        await settle();
        assert.equal(wasm.liveBlocks(), before);
      },
    });
  } finally {
    wasm.destroy();
    threaded.destroy();
    noFma.destroy();
    passes.destroy();
    fewPasses.destroy();
  }
  assert.throws(() => wasm.fill(1, 0, "float64"), /destroyed/);
  wasm.destroy(); // idempotent
});

Deno.test("wasm matmul tiles: every tile gives the same products bit for bit", async () => {
  if (!wasmFeatures().simd) {
    await assert.rejects(createWasmKernel(), /no SIMD/);
    return;
  }
  // The tile of each dtype is picked by timing, so a machine runs whichever is faster:
  // each must give the same bits, on 1 and 2 threads, in one pass over k or several,
  // with an epilogue over the product or without, whether the product is kept or only
  // read by it. Kernel i runs the i-th tile of both dtypes (two tiles each).
  const f64Tiles = Object.keys(F64_TILES) as F64Tile[];
  const f32Tiles = Object.keys(F32_TILES) as F32Tile[];
  assert.equal(f64Tiles.length, f32Tiles.length);
  const kernels = await Promise.all(
    f64Tiles.flatMap((f64Tile, i) => {
      const tiles = { f64Tile, f32Tile: f32Tiles[i] };
      return [
        createWasmKernel({ threads: 1, ...tiles }),
        createWasmKernel({ threads: 2, ...tiles }),
        createWasmKernel({ threads: 2, ...tiles, packBytes: 300_000 }),
      ];
    }),
  );
  const baseline = new Map(kernels.map((k) => [k, k.liveBlocks()]));
  try {
    assert.deepEqual(
      kernels.map((k) => [k.f64Tile, k.f32Tile]),
      f64Tiles.flatMap((t, i) => [0, 1, 2].map(() => [t, f32Tiles[i]])),
    );
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 1, max: 200 }),
          n: fc.integer({ min: 1, max: 200 }),
          k: fc.integer({ min: 1, max: 400 }),
          transA: fc.boolean(),
          transB: fc.boolean(),
          epilogue: fc.constantFrom("none", "kept", "disposed"),
          seed: fc.integer({ min: 1, max: 1000 }),
          dtype: fc.constantFrom(...DTYPES),
        }),
        ({ m, n, k, transA, transB, epilogue, seed, dtype }) => {
          // The product and the sum, when the epilogue's relu is returned (run frees the rest).
          let extra: Storage[] = [];
          const product: Op = (kernel, up) => {
            const p = kernel.matmul(up(data(m * k, seed)), up(data(k * n, seed + 1)), {
              m,
              n,
              k,
              transA,
              transB,
            });
            if (epilogue === "none") return p;
            const bias = up(data(n, seed + 2));
            const shapes: BroadcastShapes = { rows: m, cols: n, a: [m, n], b: [1, n] };
            const sum = kernel.binary("add", p, bias, shapes);
            const out = kernel.unary("relu", sum);
            if (epilogue === "disposed") kernel.dispose?.(p);
            extra = [p, sum];
            return out;
          };
          const exec = (kernel: Kernel) => {
            const got = run(kernel, dtype, product);
            for (const s of extra) kernel.dispose?.(s);
            return got;
          };
          const label = `${dtype} ${m}x${k} by ${k}x${n} ${transA} ${transB} ${epilogue}`;
          const want = exec(kernels[0]);
          assertClose(want, exec(tsKernel), dtype, label, { terms: k });
          for (const kernel of kernels.slice(1)) {
            const got = exec(kernel);
            const tile = dtype === "float64" ? kernel.f64Tile : kernel.f32Tile;
            assertIdentical(got, want, `${label}: ${tile} on ${kernel.threads}`);
          }
          for (const kernel of kernels) assert.equal(kernel.liveBlocks(), baseline.get(kernel));
        },
      ),
      {
        seed: 20261207,
        numRuns: 60,
        // Paths random shapes reach seldom: m = 5 (a full 4-row tile and a 6-row edge),
        // one row block packing op(B) in its units (two k blocks; units on 2 threads),
        // row and pack-group boundaries, and two to four k blocks (float64: up to 256
        // deep, float32: 384) in one pass or several.
        examples: [
          { m: 5, n: 70, k: 90, transA: false, transB: false, epilogue: "none", seed: 1 },
          { m: 190, n: 20, k: 300, transA: false, transB: true, epilogue: "kept", seed: 2 },
          { m: 100, n: 200, k: 300, transA: true, transB: false, epilogue: "disposed", seed: 3 },
          { m: 97, n: 130, k: 120, transA: true, transB: true, epilogue: "none", seed: 4 },
          { m: 193, n: 60, k: 257, transA: false, transB: false, epilogue: "disposed", seed: 5 },
          { m: 190, n: 44, k: 400, transA: false, transB: true, epilogue: "kept", seed: 6 },
          { m: 100, n: 200, k: 390, transA: true, transB: false, epilogue: "disposed", seed: 7 },
          { m: 64, n: 64, k: 1000, transA: false, transB: false, epilogue: "none", seed: 8 },
        ].flatMap((c) => DTYPES.map((dtype): [typeof c & { dtype: DType }] => [{ ...c, dtype }])),
      },
    );
  } finally {
    for (const k of kernels) k.destroy();
  }
});

Deno.test("wasm allocator size classes", () => {
  assert.equal(sizeClass(1), 64);
  assert.equal(sizeClass(64), 64);
  assert.equal(sizeClass(65), 128);
  assert.equal(sizeClass(4096), 4096);
  assert.equal(sizeClass(4097), 5120);
  for (let n = 1; n < 1e8; n = Math.ceil(n * 1.37)) {
    const c = sizeClass(n);
    assert.ok(c >= n && c % 64 === 0 && c <= Math.max(64, n * 1.25 + 64), `class of ${n}: ${c}`);
  }
});

Deno.test("wasm kernel options", async () => {
  await assert.rejects(createWasmKernel({ threads: 0 }), RangeError);
  await assert.rejects(createWasmKernel({ threads: 1.5 }), RangeError);
  await assert.rejects(createWasmKernel({ packBytes: 0 }), /packBytes must be a positive integer/);
  const oddOnes = [
    ["8x8", '"8x8"'],
    [["6x4"], '["6x4"]'],
    [6n, "6n"],
    [6, "6"],
    [Object.create(null), "[object Object]"],
  ] as const;
  // Each option rejects the odd values and the other dtype's tile names.
  const options = [
    ["f64Tile", '"6x4" or "4x4"', ["4x8", '"4x8"']],
    ["f32Tile", '"4x8" or "6x8"', ["6x4", '"6x4"']],
  ] as const;
  for (const [option, names, other] of options) {
    for (const [bad, shown] of [...oddOnes, other]) {
      await assert.rejects(createWasmKernel({ [option]: bad as unknown as F64Tile }), {
        name: "TypeError",
        message: `Cannot load the wasm kernel: ${option} must be "auto", ${names}, got ${shown}`,
      });
    }
  }
  await assert.rejects(
    createWasmKernel({ epilogues: "no" as unknown as boolean }),
    { name: "TypeError", message: /epilogues must be a boolean, got no/ },
  );
  const k = await createWasmKernel({ threads: 1 });
  try {
    assert.equal(k.name, "wasm");
    assert.equal(k.threads, 1);
    assert.equal(k.fma, wasmFeatures().relaxedSimd);
    // "auto" (float64's default; float32 takes 4x8 unless asked) times the tiles once per
    // process: every later kernel gets the same ones.
    assert.ok(Object.hasOwn(F64_TILES, k.f64Tile), k.f64Tile);
    assert.equal(k.f32Tile, "4x8");
    const [auto1, auto2] = [
      await createWasmKernel({ threads: 1, f32Tile: "auto" }),
      await createWasmKernel({ threads: 1, f32Tile: "auto" }),
    ];
    assert.ok(Object.hasOwn(F32_TILES, auto1.f32Tile), auto1.f32Tile);
    assert.deepEqual([auto2.f64Tile, auto2.f32Tile], [k.f64Tile, auto1.f32Tile]);
    auto1.destroy();
    auto2.destroy();
    const sizes: MatmulSizes = { m: 2, n: 2, k: 2, transA: false, transB: false };
    const a = k.upload([1, 2, 3, 4], "float64");
    assert.deepEqual([...k.readSync(k.matmul(a, a, sizes))], [7, 10, 15, 22]);
  } finally {
    k.destroy();
  }
});

// Keep the imported op-name types in use for the type checker's completeness checks.
const _names: [UnaryOp, BinaryOp] = ["neg", "add"];
void _names;
