// The kernel conformance suite: every Kernel operation on every kernel available on this
// machine, each compared with a reference. The ts kernel (float64 and float32) is checked
// against a naive float64 kernel written here; every other kernel (wasm, webgpu) is
// checked against the ts kernel, the executable spec. Deno finds Mesa's llvmpipe
// software adapter on machines without a GPU, so the webgpu kernel runs in CI too.
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
import { createWebGpuKernel, type TileConfig, type WebGpuKernel } from "../kernels/webgpu/mod.ts";
import { createWasmKernel } from "../kernels/wasm/mod.ts";
import {
  assertClose,
  binaryKind,
  broadcastForms,
  type CloseOptions,
  data,
  KINKS,
  REDUCE_SHAPES,
  TRANS,
} from "./kernel_fixtures.ts";

// ---------------------------------------------------------------------------------------
// The naive float64 reference kernel: the ts kernel is checked against it.

class NaiveStorage implements Storage {
  readonly dtype: DType;
  readonly data: Float64Array;
  constructor(data: Float64Array, dtype: DType) {
    this.data = dtype === "float32" ? data.map(Math.fround) : data;
    this.dtype = dtype;
  }
  get length(): number {
    return this.data.length;
  }
}

const UNARY_REF: { [P in UnaryOp]: (x: number) => number } = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: (x) => x > 0 ? 1 : x < 0 ? -1 : x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => x > 0 ? x : 0,
  step: (x) => x > 0 ? 1 : 0,
};

const BINARY_REF: { [P in BinaryOp]: (x: number, y: number) => number } = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  max: Math.max,
  min: Math.min,
  gt: (x, y) => x > y ? 1 : 0,
  ge: (x, y) => x >= y ? 1 : 0,
  eq: (x, y) => x === y ? 1 : 0,
};

const naive = (d: Float64Array, s: NaiveStorage) => new NaiveStorage(d, s.dtype);
const naiveKernel: Kernel<NaiveStorage> = {
  name: "naive",
  dtypes: ["float64", "float32"],
  upload: (d, dtype) => new NaiveStorage(Float64Array.from(d), dtype),
  fill: (n, v, dtype) => new NaiveStorage(new Float64Array(n).fill(v), dtype),
  readSync: (s) => s.data.slice(),
  read: (s) => Promise.resolve(s.data.slice()),
  matmul(a, b, { m, n, k, transA, transB }) {
    const c = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let t = 0;
        for (let p = 0; p < k; p++) {
          t += a.data[transA ? p * m + i : i * k + p] * b.data[transB ? j * k + p : p * n + j];
        }
        c[i * n + j] = t;
      }
    }
    return naive(c, a);
  },
  unary: (op, a) => naive(a.data.map(UNARY_REF[op]), a),
  binary(op, a, b, { rows, cols, a: [ar, ac], b: [br, bc] }) {
    const at = (s: NaiveStorage, r: number, c: number, sr: number, sc: number) =>
      s.data[(sr === 1 ? 0 : r) * sc + (sc === 1 ? 0 : c)];
    const out = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        out[r * cols + c] = BINARY_REF[op](at(a, r, c, ar, ac), at(b, r, c, br, bc));
      }
    }
    return naive(out, a);
  },
  reduce(op, a, rows, cols, axis) {
    const [segs, len, at] = axis === "all"
      ? [1, rows * cols, (_: number, e: number) => e]
      : axis === 0
      ? [cols, rows, (s: number, e: number) => e * cols + s]
      : [rows, cols, (s: number, e: number) => s * cols + e];
    const out = new Float64Array(segs);
    for (let s = 0; s < segs; s++) {
      let t = op === "sum" ? 0 : -Infinity;
      for (let e = 0; e < len; e++) {
        t = op === "sum" ? t + a.data[at(s, e)] : Math.max(t, a.data[at(s, e)]);
      }
      out[s] = t;
    }
    return naive(out, a);
  },
  transpose(a, rows, cols) {
    const out = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) out[c * rows + r] = a.data[r * cols + c];
    }
    return naive(out, a);
  },
  gather: (a, index) => naive(Float64Array.from(index, (j) => j < 0 ? 0 : a.data[j]), a),
  cast: (a, dtype) => new NaiveStorage(a.data.slice(), dtype),
};

// ---------------------------------------------------------------------------------------
// The harness: run one operation on the kernel under test and on its reference.

interface Subject {
  kernel: Kernel;
  dtype: DType;
  reference: Kernel;
  refDtype: DType;
}

interface CheckOptions extends CloseOptions {
  /** The result's dtype where it differs from the input's (cast). */
  outDtype?: DType;
}

type Up = (values: ArrayLike<number>) => Storage;
type Op = (k: Kernel, up: Up, dtype: DType) => Storage;

/** Runs `op` on `kernel`, reads the result and disposes everything it made. */
async function output(kernel: Kernel, dtype: DType, op: Op, outDtype = dtype): Promise<HostArray> {
  const made: Storage[] = [];
  const up: Up = (values) => {
    const s = kernel.upload(values, dtype);
    made.push(s);
    return s;
  };
  const out = op(kernel, up, dtype);
  try {
    const host = await kernel.read(out);
    assert.equal(host.length, out.length, `${kernel.name}: read length`);
    assert.equal(out.dtype, outDtype, `${kernel.name}: result dtype`);
    return host;
  } finally {
    for (const s of [...made, out]) kernel.dispose?.(s);
  }
}

async function check(sub: Subject, label: string, op: Op, opts: CheckOptions = {}): Promise<void> {
  const got = await output(sub.kernel, sub.dtype, op, opts.outDtype ?? sub.dtype);
  const want = await output(sub.reference, sub.refDtype, op, opts.outDtype ?? sub.refDtype);
  // The best a float32 result can be is the exact one rounded (exp(100) overflows).
  const best = (opts.outDtype ?? sub.dtype) === "float32"
    ? Float64Array.from(want, Math.fround)
    : want;
  assertClose(got, best, sub.dtype, label, opts);
}

/**
 * Collects checks to await together: concurrent reads from the webgpu kernel share
 * Deno's GPU polling rounds (about 10 ms each) instead of paying one round per read.
 */
function batch(): {
  add: (p: Promise<void>) => void;
  check: (...args: Parameters<typeof check>) => void;
  done: () => Promise<void>;
} {
  const pending: Promise<void>[] = [];
  return {
    add: (p) => void pending.push(p),
    check: (...args) => void pending.push(check(...args)),
    done: async () => void await Promise.all(pending),
  };
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

const SHAPES: [number, number][] = [[1, 1], [1, 17], [23, 1], [37, 53], [64, 64], [3, 300], [
  300,
  3,
], [65, 70]];

// ---------------------------------------------------------------------------------------
// The suite

async function conformance(t: Deno.TestContext, sub: Subject): Promise<void> {
  const { kernel, dtype } = sub;

  await t.step("upload, read, fill, cast", async () => {
    const b = batch();
    for (const n of [0, 1, 7, 1000]) {
      const values = data(n, n);
      b.check(sub, `upload ${n}`, (_, up) => up(values));
      b.add(
        output(kernel, dtype, (_, up) => up(values))
          .then((host) => assertClose(host, values, dtype, `round trip ${n}`)),
      );
      for (const v of [0, -1.5, 0.1, 3e38, Infinity, -Infinity, NaN]) {
        b.check(sub, `fill ${n} ${v}`, (k, _, d) => k.fill(n, v, d));
      }
      for (const to of kernel.dtypes) {
        b.check(sub, `cast ${n} to ${to}`, (k, up) => k.cast(up(values), to), { outDtype: to });
      }
    }
    if (!kernel.dtypes.includes("float64")) {
      assert.throws(() => kernel.upload([1], "float64"), TypeError);
      assert.throws(() => kernel.fill(1, 0, "float64"), TypeError);
    }
    await b.done();
  });

  await t.step("matmul: shapes and transpose flags", async () => {
    const cases: [number, number, number][] = [
      [1, 1, 1],
      [1, 40, 70],
      [40, 1, 70],
      [1, 1, 1000],
      [5, 7, 0],
      [0, 4, 3],
      [4, 0, 3],
      [64, 64, 16],
      [65, 67, 70],
      [130, 3, 257],
      [2, 200, 3],
    ];
    const b = batch();
    for (const [m, n, k] of cases) {
      for (const [ta, tb] of TRANS) {
        b.check(sub, `matmul ${m}x${k} by ${k}x${n} ${ta} ${tb}`, mm(m, n, k, ta, tb), {
          terms: k,
        });
      }
    }
    await b.done();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 1, max: 90 }),
        fc.constantFrom(...TRANS),
        async (m, n, k, [ta, tb]) =>
          await check(sub, `matmul ${m} ${n} ${k} ${ta} ${tb}`, mm(m, n, k, ta, tb), { terms: k }),
      ),
      { seed: 20261122, numRuns: 24 },
    );
  });

  await t.step("unary ops, including kinks", async () => {
    const b = batch();
    for (const op of UNARY_OPS) {
      const positive = op === "log" || op === "sqrt";
      const kinks = positive ? KINKS.filter((x) => x >= 0) : KINKS;
      const scale = op === "exp" || op === "sigmoid" ? 10 : op === "tanh" ? 3 : 1;
      const values = [
        ...data(1000, 11, positive ? "positive" : "uniform").map((x) => x * scale),
        ...kinks,
      ]
        .map(Math.fround);
      // WGSL's log has absolute error 2^-21 on [0.5, 2] (the WGSL spec's accuracy table).
      const opts = op === "log" && dtype === "float32" ? { atol: 2 ** -21 } : {};
      b.check(sub, op, (k, up) => k.unary(op, up(values)), opts);
      b.check(sub, `${op} of 1x1`, (k, up) => k.unary(op, up([positive ? 2 : -0.75])));
    }
    await b.done();
  });

  await t.step("binary ops with every broadcast", async () => {
    const b = batch();
    for (const [rows, cols] of [[37, 53], [1, 9], [9, 1], [300, 300]] as [number, number][]) {
      for (const op of BINARY_OPS) {
        const kind = binaryKind(op);
        for (const sa of broadcastForms(rows, cols)) {
          for (const sb of broadcastForms(rows, cols)) {
            if (rows === 300 && !(sa[0] === rows && sa[1] === cols)) continue; // big: full a only
            const shapes: BroadcastShapes = { rows, cols, a: sa, b: sb };
            b.check(
              sub,
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
    await b.done();
  });

  await t.step("reductions", async () => {
    for (const op of REDUCE_OPS) {
      for (const [rows, cols] of REDUCE_SHAPES) {
        for (const axis of ["all", 0, 1] as ReduceAxis[]) {
          const terms = axis === "all" ? rows * cols : axis === 0 ? rows : cols;
          await check(
            sub,
            `${op} ${rows}x${cols} axis ${axis}`,
            (k, up) => k.reduce(op, up(data(rows * cols, rows + cols)), rows, cols, axis),
            { terms },
          );
        }
      }
    }
  });

  await t.step("transpose and gather", async () => {
    const b = batch();
    for (const [rows, cols] of [...SHAPES, [0, 5], [5, 0], [200, 333]] as [number, number][]) {
      b.check(
        sub,
        `transpose ${rows}x${cols}`,
        (k, up) => k.transpose(up(data(rows * cols, 3)), rows, cols),
      );
    }
    for (const [n, len] of [[0, 5], [1, 1], [10, 3], [5000, 777]]) {
      const index = Int32Array.from(
        data(n, 9),
        (u) => u < -0.8 ? -1 : Math.floor((u + 1) / 2 * len),
      );
      b.check(sub, `gather ${n} of ${len}`, (k, up) => k.gather(up(data(len, 4)), index));
    }
    await b.done();
  });

  await t.step("empty arrays", async () => {
    const b = batch();
    b.check(sub, "unary of empty", (k, up) => k.unary("exp", up([])));
    const shapes: BroadcastShapes = { rows: 0, cols: 5, a: [0, 5], b: [1, 5] };
    b.check(sub, "binary of 0x5", (k, up) => k.binary("add", up([]), up(data(5, 1)), shapes));
    for (const op of REDUCE_OPS) {
      for (const axis of ["all", 0, 1] as ReduceAxis[]) {
        b.check(sub, `${op} 0x5 axis ${axis}`, (k, up) => k.reduce(op, up([]), 0, 5, axis));
        b.check(sub, `${op} 5x0 axis ${axis}`, (k, up) => k.reduce(op, up([]), 5, 0, axis));
      }
    }
    await b.done();
  });
}

/** Extra checks of the webgpu kernel: big sizes, lifetime, errors. */
async function webgpuExtras(t: Deno.TestContext, gpu: WebGpuKernel): Promise<void> {
  const sub: Subject = { kernel: gpu, dtype: "float32", reference: tsKernel, refDtype: "float32" };

  await t.step("2048x2048 matmul against ts on sampled rows", async () => {
    const n = 2048, a = data(n * n, 1), b = data(n * n, 2);
    const [ga, gb] = [gpu.upload(a, "float32"), gpu.upload(b, "float32")];
    const gc = gpu.matmul(ga, gb, { m: n, n, k: n, transA: false, transB: false });
    const c = await gpu.read(gc);
    [ga, gb, gc].forEach((s) => gpu.dispose(s));
    const rows = [
      0,
      1,
      63,
      64,
      1000,
      2047,
      ...Array.from(data(10, 7), (u) => Math.floor((u + 1) / 2 * n)),
    ];
    const aRows = new Float32Array(rows.length * n);
    rows.forEach((r, i) => aRows.set(a.subarray(r * n, (r + 1) * n), i * n));
    const sizes: MatmulSizes = { m: rows.length, n, k: n, transA: false, transB: false };
    const want = tsKernel.readSync(
      tsKernel.matmul(tsKernel.upload(aRows, "float32"), tsKernel.upload(b, "float32"), sizes),
    )!;
    const got = new Float32Array(rows.length * n);
    rows.forEach((r, i) => got.set(c.subarray(r * n, (r + 1) * n), i * n));
    assertClose(got, want, "float32", "matmul 2048", { terms: n });
  });

  await t.step("the other matmul shaders", async () => {
    // The suite above runs the shader the adapter gets by default ("direct" on CPU
    // adapters, "tiled" on GPUs). A small, lopsided tile shape covers the tiled shader's
    // index arithmetic and compiles in a second on llvmpipe (64x64 tiles take minutes).
    const others: [string, TileConfig | "direct"][] = [["tiled 6x8", {
      tm: 3,
      tn: 2,
      wx: 4,
      wy: 2,
      bk: 5,
    }]];
    if (gpu.matmulShader === "tiled") others.push(["direct", "direct"]);
    for (const [name, matmul] of others) {
      const kernel = await createWebGpuKernel({ debug: true, matmul });
      try {
        const other: Subject = { ...sub, kernel };
        const b = batch();
        for (const [m, n, k] of [[1, 1, 1], [2, 3, 4], [6, 8, 5], [13, 17, 11], [40, 33, 21]]) {
          for (const [ta, tb] of TRANS) {
            b.check(other, `${name} matmul ${m} ${n} ${k} ${ta} ${tb}`, mm(m, n, k, ta, tb), {
              terms: k,
            });
          }
        }
        await b.done();
        await kernel.flush();
      } finally {
        kernel.destroy();
      }
    }
    await assert.rejects(
      createWebGpuKernel({ matmul: { tm: 4, tn: 4, wx: 64, wy: 64, bk: 16 } }),
      RangeError,
    );
  });

  await t.step("dispatches over 65535 workgroups use a 2-D grid", async () => {
    const m = 70_000; // gemv: one workgroup per row
    await check(sub, `matmul ${m}x2 by 2x1`, mm(m, 1, 2, false, false), { terms: 2 });
    // Element-wise, 256 threads per workgroup: fill and neg both need the second grid
    // dimension. Freshly made buffers hold zeros, so a missed element shows.
    const n = 65_535 * 256 + 1000;
    const x = gpu.fill(n, 1.5, "float32"), y = gpu.unary("neg", x);
    const host = await gpu.read(y);
    [x, y].forEach((s) => gpu.dispose(s));
    const wrong = host.findIndex((v) => v !== -1.5);
    assert.equal(wrong, -1, `neg of fill(${n}): element ${wrong} is ${host[wrong]}`);
  });

  await t.step("lifetime: dispose, liveBuffers, foreign and disposed storage", async () => {
    assert.equal(gpu.liveBuffers(), 0);
    const s = gpu.upload([1, 2, 3], "float32");
    assert.equal(gpu.liveBuffers(), 1);
    assert.equal(gpu.readSync(s), null);
    gpu.dispose(s);
    gpu.dispose(s); // idempotent
    assert.equal(gpu.liveBuffers(), 0);
    assert.throws(() => gpu.unary("neg", s), /disposed/);
    await assert.rejects(gpu.read(s), /disposed/);
    const foreign = tsKernel.upload([1], "float32") as unknown as Parameters<
      WebGpuKernel["unary"]
    >[1];
    assert.throws(() => gpu.unary("neg", foreign), /another kernel/);
    const one = gpu.upload([1], "float32");
    assert.throws(() => gpu.gather(one, Int32Array.of(1)), RangeError);
    assert.throws(() => gpu.cast(one, "float64"), TypeError);
    gpu.dispose(one);
    assert.throws(
      () => gpu.upload(new Float64Array(2), "float64"),
      {
        name: "TypeError",
        message: /^Cannot upload float64 data to the webgpu kernel: WGSL has no f64/,
      },
    );
    assert.throws(() => gpu.fill(2 ** 31, 0, "float32"), RangeError);
    assert.equal(gpu.liveBuffers(), 0);
  });

  await t.step("a failed GPU command is thrown by the next call", async () => {
    // On its own device: the suite's validation error scope would swallow the error.
    const kernel = await createWebGpuKernel();
    try {
      kernel.device.createBuffer({
        size: 4,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE,
      });
      await kernel.device.queue.onSubmittedWorkDone();
      assert.throws(
        () => kernel.fill(1, 0, "float32"),
        /fill on the webgpu kernel: an earlier GPU command failed/,
      );
      kernel.dispose(kernel.fill(1, 0, "float32")); // reported once
      await kernel.flush();
    } finally {
      kernel.destroy();
    }
  });

  await t.step({
    name: "lifetime: unreachable storage is destroyed by the FinalizationRegistry",
    ignore: typeof (globalThis as { gc?: unknown }).gc !== "function", // needs --v8-flags=--expose-gc
    fn: async () => {
      const before = gpu.liveBuffers();
      (() => gpu.upload(new Float32Array(100), "float32"))();
      assert.equal(gpu.liveBuffers(), before + 1);
      for (let i = 0; i < 20 && gpu.liveBuffers() > before; i++) {
        (globalThis as unknown as { gc: () => void }).gc();
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(gpu.liveBuffers(), before);
    },
  });
}

// ---------------------------------------------------------------------------------------

/**
 * The webgpu kernel when this machine has an adapter, else null; where the environment
 * sets MATCALC_REQUIRE_WEBGPU=1 (CI does), a missing adapter fails the suite instead of
 * skipping its webgpu part.
 */
async function webgpu(): Promise<WebGpuKernel | null> {
  if (!("gpu" in navigator) || !(await navigator.gpu.requestAdapter())) {
    if (Deno.env.get("MATCALC_REQUIRE_WEBGPU") === "1") {
      throw new Error("MATCALC_REQUIRE_WEBGPU=1 but navigator.gpu finds no adapter");
    }
    return null;
  }
  return await createWebGpuKernel({ debug: true }); // errors name the op that caused them
}

Deno.test("kernel conformance", async (t) => {
  for (const dtype of tsKernel.dtypes) {
    await t.step(`ts ${dtype} against a naive float64 kernel`, async (t) => {
      await conformance(t, {
        kernel: tsKernel,
        dtype,
        reference: naiveKernel,
        refDtype: "float64",
      });
    });
  }
  // The wasm kernel, with two worker threads so the threaded paths run too.
  const wasm = await createWasmKernel({ threads: 2 });
  try {
    for (const dtype of wasm.dtypes) {
      await t.step(`wasm ${dtype} against ts`, async (t) => {
        await conformance(t, { kernel: wasm, dtype, reference: tsKernel, refDtype: dtype });
      });
    }
    assert.equal(wasm.liveBlocks(), 0, "every wasm block was released");
  } finally {
    wasm.destroy();
  }
  const gpu = await webgpu();
  await t.step({
    name: `webgpu float32 against ts (${
      gpu ? `${gpu.adapter}, ${gpu.matmulShader} matmul` : "no adapter"
    })`,
    ignore: gpu === null,
    fn: async (t) => {
      const kernel = gpu!;
      kernel.device.pushErrorScope("validation");
      try {
        await conformance(t, {
          kernel,
          dtype: "float32",
          reference: tsKernel,
          refDtype: "float32",
        });
        await webgpuExtras(t, kernel);
        await kernel.flush();
        assert.equal(await kernel.device.popErrorScope(), null);
        assert.equal(kernel.liveBuffers(), 0, "every buffer was released");
      } finally {
        kernel.destroy();
      }
      assert.throws(() => kernel.fill(1, 0, "float32"), /destroyed/);
    },
  });
});
