/**
 * The wasm kernel object: each Kernel method checks its storage, allocates the result
 * in the shared memory and runs an emitted job on the thread pool. Element-wise ops
 * are lazy, like the ts kernel's: a chain becomes one expression tree that the
 * interpreter evaluates in one pass when the result is first needed. Products are
 * lazy too: an element-wise result over a pending product (a bias and ReLU, an SGD
 * update of a weight gradient) runs as the product's epilogue, on each block of it
 * while the block is in cache; a product that only that result reads is never
 * written to memory at all.
 *
 * @module
 */
import type {
  BinaryOp,
  BroadcastShapes,
  DType,
  HostArray,
  Kernel,
  MatmulSizes,
  ReduceAxis,
  ReduceOp,
  UnaryOp,
} from "../../lib/kernel.ts";
import { AXPY_VECTORS, DOT_ROWS, GV } from "./emit_gemv.ts";
import { PRODUCT } from "./emit_common.ts";
import { MM, PACK_GROUP } from "./emit_matmul.ts";
import { NARROW_MAX_VECTORS, NARROW_ROWS, NW } from "./emit_narrow.ts";
import { Heap, SIZE } from "./heap.ts";
import {
  COLS_PER_UNIT,
  type F32Tile,
  type F64Tile,
  INLINE_B_BYTES,
  matmulShapes,
  PARAMS,
  PROGRAM,
  REDUCE_BLOCK,
  scratchLayout,
  THREAD_TABLE,
} from "./layout.ts";
import type { KernelModule } from "./module.ts";
import type { ThreadPool } from "./pool.ts";
import { type Expr, type Pattern, shiftLeaves, writeProgram } from "./program.ts";
import { exprFlat, inlinable } from "../common/expr.ts";
import type { WasmStorage } from "./storage.ts";

/** The WebAssembly kernel: float64 and float32 in one shared memory, synchronous reads. */
export interface WasmKernel extends Kernel<WasmStorage> {
  /** `"wasm"`. */
  readonly name: "wasm";
  /** Threads that share large jobs (the calling thread included). */
  readonly threads: number;
  /** Whether the matmul uses relaxed-SIMD fused multiply-add. */
  readonly fma: boolean;
  /** The float64 matmul tile (`6x4` or `4x4`, see `createWasmKernel`'s `f64Tile`). */
  readonly f64Tile: F64Tile;
  /** The float32 matmul tile (`4x8` or `6x8`, see `createWasmKernel`'s `f32Tile`). */
  readonly f32Tile: F32Tile;
  /** A host copy of the data (never null: the memory is on the host). */
  readSync(s: WasmStorage): HostArray;
  /** Frees the block of `s` now (idempotent); later uses of `s` throw. */
  dispose(s: WasmStorage): void;
  /** Computes `s` now if it is a pending element-wise result or product (reads do it anyway). */
  evaluate(s: WasmStorage): void;
  /**
   * Computes the pending results `group` in one pass, when the first of them is
   * needed (see the `Kernel` interface); the element-wise interpreter runs a program
   * with one output per member, member by member on each work unit.
   */
  evaluateTogether(group: WasmStorage[]): void;
  /** Blocks allocated and not yet freed. */
  liveBlocks(): number;
  /** Bytes of the memory in use by live or cached blocks. */
  memoryBytes(): number;
  /** Stops the worker threads (idempotent); later calls throw. */
  destroy(): void;
}

/** Jobs of the module, by export name; the pool runs them by index. */
export const JOBS = [
  "matmul_f64",
  "matmul_f32",
  "pack_f64",
  "pack_f32",
  "gemv_dot_f64",
  "gemv_dot_f32",
  "gemv_axpy_f64",
  "gemv_axpy_f32",
  "narrow_f64",
  "narrow_f32",
  "elementwise_f64",
  "elementwise_f32",
  ...["rows", "all", "cols"].flatMap((axis) =>
    ["sum", "max"].flatMap((op) => ["f64", "f32"].map((dt) => `reduce_${axis}_${op}_${dt}`))
  ),
  "transpose_f64",
  "transpose_f32",
];
const JOB = new Map(JOBS.map((name, i) => [name, i]));
const job = (name: string) => JOB.get(name)!;
const DT = { float64: "f64", float32: "f32" } as const;

/**
 * Element counts (and matmul multiply-adds) from which a job is split over threads.
 * Workers poll between jobs (pool.ts), so joining costs little: at 1 << 14 instead of
 * 1 << 16 the MLP step's 128 x 500 element-wise passes and column sums (64,000
 * elements) run 1.6-1.8x faster.
 */
const PARALLEL_ELEMENTS = 1 << 14;
const PARALLEL_MADDS = 1 << 18;
/** Most bytes of packed operands per matmul pass over k (default). */
export const PACK_BYTES = 32 * 2 ** 20;
/**
 * Largest block of a product computed in scratch for its epilogue (a float64 MNIST
 * weight gradient has blocks of 36 whole rows, 141 KiB): it should stay in L2 until read.
 */
const SCRATCH_BLOCK_BYTES = 2 ** 20;
/** Largest packed op(B) of a product with an epilogue for blocks of whole rows. */
const WIDE_B_BYTES = 2 ** 20;
/** Largest transposed op(A) that a narrow product reads in place (see narrow). */
const NARROW_TRANSPOSED_A_BYTES = 2 ** 20;
/**
 * Products of at most this many rows may take one row block and pack op(B) in their
 * units (see planProduct).
 */
const INLINE_MAX_ROWS = 192;
/**
 * Fewest columns per block for an epilogue, unless blocks span whole rows: the
 * program runs once per row of a block, and a float64 MNIST forward product (then in
 * blocks of 44 columns; 24 now) ran its bias and ReLU 10% slower than in a pass of its
 * own.
 */
const MIN_EPILOGUE_COLS = 128;
/** Matmul work units per thread to aim for, each of at least MIN_UNIT_MADDS multiply-adds. */
const UNITS_PER_THREAD = 12, MIN_UNIT_MADDS = 1 << 19;

function pattern(shape: readonly [number, number], rows: number, cols: number): Pattern {
  const [r, c] = shape;
  if (r === rows && c === cols) return "full";
  if (r === 1 && c === 1) return "scalar";
  return r === 1 ? "row" : "col";
}

function checkDType(dtype: DType, action: string): void {
  if (dtype !== "float64" && dtype !== "float32") {
    throw new TypeError(
      `Cannot ${action} on the wasm kernel: unknown dtype ${dtype}, expected float64 or float32`,
    );
  }
}

/** Whether trees `a` and `b` compute the same values: same ops over the same inputs. */
function sameExpr(a: Expr, b: Expr, leaves: readonly WasmStorage[]): boolean {
  if (a.kind === "leaf" || b.kind === "leaf") {
    // Indices past `leaves` are members' outputs: equal only if the same one.
    return a.kind === "leaf" && b.kind === "leaf" && a.pattern === b.pattern &&
      (a.index === b.index ||
        (a.index < leaves.length && b.index < leaves.length &&
          leaves[a.index] === leaves[b.index]));
  }
  if (a.kind === "unary" || b.kind === "unary") {
    return a.kind === "unary" && b.kind === "unary" && a.op === b.op &&
      sameExpr(a.a, b.a, leaves);
  }
  return a.op === b.op && sameExpr(a.a, b.a, leaves) && sameExpr(a.b, b.b, leaves);
}

/**
 * `e` with every proper subtree that computes what `done` does replaced by a read of
 * leaf `at` (the root stays: it writes an output).
 */
function reuse(e: Expr, done: Expr, leaves: readonly WasmStorage[], at: number): Expr {
  const sub = (x: Expr): Expr =>
    x.kind !== "leaf" && sameExpr(x, done, leaves)
      ? { kind: "leaf", index: at, pattern: "full" }
      : reuse(x, done, leaves, at);
  switch (e.kind) {
    case "leaf":
      return e;
    case "unary":
      return { ...e, a: sub(e.a) };
    case "binary":
      return { ...e, a: sub(e.a), b: sub(e.b) };
  }
}

/** The inputs tree `e` reads (indices past `leaves` are other members' outputs). */
function leafSet(e: Expr, leaves: readonly WasmStorage[], into = new Set<WasmStorage>()) {
  if (e.kind === "leaf") {
    if (e.index < leaves.length) into.add(leaves[e.index]);
  } else {
    leafSet(e.a, leaves, into);
    if (e.kind === "binary") leafSet(e.b, leaves, into);
  }
  return into;
}

/** Makes the kernel over an instantiated module, its memory and thread pool. */
export function makeWasmKernel(
  module: KernelModule,
  memory: WebAssembly.Memory,
  pool: ThreadPool,
  fma: boolean,
  packBytes: number = PACK_BYTES,
  epilogues = true,
): WasmKernel {
  const owner = {};
  const heap = new Heap(memory, owner);
  const MATMUL = matmulShapes(module.tiles);
  for (let tid = 0; tid < pool.threads; tid++) {
    heap.i32[THREAD_TABLE / 4 + tid] = heap.alloc(scratchLayout().bytes);
  }
  const baseline = heap.live;
  let destroyed = false;
  const live = (op: string) => {
    if (destroyed) throw new Error(`Cannot ${op} on the wasm kernel: it was destroyed`);
  };
  const params = (values: number[]) => heap.i32.set(values, PARAMS / 4);
  /** Runs a job over `units` work units, on every thread when `parallel`. */
  const run = (name: string, units: number, parallel: boolean, fine = false) => {
    const threads = parallel ? pool.threads : 1;
    // Several claims per thread balance the load (one unit per claim when units are
    // big); one claim when alone.
    const grain = threads === 1 ? units : fine ? 1 : Math.max(1, Math.floor(units / (8 * threads)));
    pool.run(job(name), units, grain, threads);
  };

  /** The address of the data of `s`, computing a pending expression first. */
  function ptrOf(s: WasmStorage, op: string): number {
    live(op);
    const cell = heap.check(s, op);
    if (cell.lazy) compute(s);
    return cell.ptr;
  }

  /**
   * Computes pending `s`, and in the same pass the pending results grouped with it by
   * `evaluateTogether` that fit (same dtype and length; those with broadcast leaves
   * on the same grid); the others stay pending.
   */
  function compute(s: WasmStorage): void {
    const cell = heap.cell(s);
    if (cell.lazy?.product) return computeProduct(s, null);
    const group = cell.group ?? [s];
    for (const m of group) heap.cell(m).group = null; // a group is computed once
    // Inputs may have been disposed since: pins keep their blocks until now. They
    // are computed (see operand), but a check costs nothing. Pending products wait:
    // one of them may compute this group in its epilogue.
    for (const m of group) {
      const lazy = heap.cell(m).lazy;
      if (lazy) {
        for (const l of lazy.leaves) {
          const ll = heap.cell(l).lazy;
          if (ll && !ll.product) compute(l);
        }
      }
    }
    if (!cell.lazy) return;
    const { members, rows: gr, cols: gc } = group.length === 1
      ? { members: group, rows: cell.lazy.rows, cols: cell.lazy.cols }
      : joinable(s, group);
    const bytes = s.length * SIZE[s.dtype];
    // One list of inputs for the program: every member's leaves, then each member's
    // output (read by later members, below).
    const leaves: WasmStorage[] = [];
    let exprs = members.map((m) => {
      const lazy = heap.cell(m).lazy!;
      const e = leaves.length === 0 ? lazy.expr : shiftLeaves(lazy.expr, leaves.length);
      leaves.push(...lazy.leaves);
      return e;
    });
    const outLeaf = (i: number) => leaves.length + i;
    // A later member that recomputes an earlier one's whole expression (the new
    // parameters inline the new velocity) reads that member's output instead.
    // (Latest first: a later member's tree may contain an earlier one's.)
    exprs = exprs.map((e, i) =>
      exprs.slice(0, i).reduceRight((t, earlier, j) => reuse(t, earlier, leaves, outLeaf(j)), e)
    );
    // A pending product read in full on this grid computes the group in its epilogue;
    // any other is computed first.
    const epi = epilogues && s.length > 0 ? epilogueOf(leaves, exprs, gr, gc) : null;
    for (const l of leaves) if (l !== epi?.product && heap.cell(l).lazy) compute(l);
    // What each member reads, for the donors (a lone result has no later reader).
    const readers = members.length > 1 ? exprs.map((e) => leafSet(e, leaves)) : [];
    // Each output goes over a disposed input that nothing else reads, if there is one
    // (never over an operand of the fused product: the product pins those).
    const donors = s.length > 0 ? heap.donors(members, readers) : members.map(() => null);
    const ptrs: number[] = [];
    if (s.length > 0) {
      const words = heap.i32.subarray(PROGRAM / 4);
      try {
        const outputs = members.map((_, i) => {
          const out = donors[i]?.ptr ?? heap.alloc(bytes);
          ptrs.push(out);
          return { expr: exprs[i], out };
        });
        const leafPtrs = [...leaves.map((l) => heap.cell(l).ptr), ...ptrs];
        const table = module.ops[s.dtype];
        if (epi) {
          const block = new Set(leaves.flatMap((l, i) => l === epi.product ? [i] : []));
          writeProgram(outputs, leafPtrs, table, gr, gc, words, block);
          // Only this group reads a disposed product: its blocks need not reach memory.
          const pins = leaves.filter((l) => l === epi.product).length;
          const fc = heap.cell(epi.product);
          computeProduct(epi.product, { scratch: fc.disposed && fc.pins === pins, plan: epi.plan });
        } else {
          const shape = writeProgram(outputs, leafPtrs, table, gr, gc, words);
          run(`elementwise_${DT[s.dtype]}`, shape.units, s.length >= PARALLEL_ELEMENTS);
        }
      } catch (e) {
        ptrs.forEach((ptr, i) => donors[i] === null && heap.free(ptr, bytes));
        // A program too large for several outputs (or no memory for them): s alone.
        if (members.length > 1 && e instanceof RangeError) return compute(s);
        throw e;
      }
    }
    members.forEach((m, i) => {
      // A donor's block now belongs to m: its release (when m unpins it) frees nothing.
      if (donors[i]) donors[i]!.ptr = 0;
      heap.settle(m, ptrs[i] ?? 0, bytes);
    });
  }

  /**
   * The first pending product among `leaves` that every expression of `exprs` reads
   * in full on the rows x cols grid of the product itself, and whose blocks are wide
   * enough (then its epilogue can run them on each block of it), with its blocking;
   * or null.
   */
  function epilogueOf(
    leaves: readonly WasmStorage[],
    exprs: readonly Expr[],
    rows: number,
    cols: number,
  ): { product: WasmStorage; plan: Plan } | null {
    const inFull = (e: Expr, p: WasmStorage): boolean =>
      e.kind === "leaf"
        ? e.index >= leaves.length || leaves[e.index] !== p || e.pattern === "full"
        : inFull(e.a, p) && (e.kind === "unary" || inFull(e.b, p));
    for (const l of new Set(leaves)) {
      const lazy = heap.cell(l).lazy;
      if (
        lazy?.product && lazy.rows === rows && lazy.cols === cols &&
        exprs.every((e) => inFull(e, l))
      ) {
        // Blocks of a few columns would call the program for a few elements at a time.
        // So would a narrow product, row by row: relu(P + b) as its epilogue ran
        // 0.82-0.97x as fast as a pass of its own (same kernel, alternating, best of 30:
        // 20000 x 64 by 64 x 2-8, 4000 x 500 by 500 x 4-16 and MNIST's 128 x 500 by
        // 500 x 10, both dtypes), so it takes none.
        if (narrow(lazy.product, l.dtype)) continue;
        const plan = planProduct(lazy.product, l.dtype, true);
        if (plan.colBlocks === 1 || plan.nb >= MIN_EPILOGUE_COLS) return { product: l, plan };
      }
    }
    return null;
  }

  /**
   * Computes pending product `s`; with `epilogue`, each work unit then runs the
   * program in PROGRAM on its block of the product: in place, or in per-thread scratch
   * when `epilogue.scratch`, if the product takes one pass over k and its blocks
   * SCRATCH_BLOCK_BYTES at most (`s` then gets no block).
   */
  function computeProduct(
    s: WasmStorage,
    epilogue: { scratch: boolean; plan: Plan } | null,
  ): void {
    const lazy = heap.cell(s).lazy!;
    const [a, b] = lazy.leaves;
    const bytes = s.length * SIZE[s.dtype];
    const plan = epilogue?.plan ?? planProduct(lazy.product!, s.dtype, false);
    // A narrow product never has an epilogue (see epilogueOf).
    const thin = epilogue === null && narrow(lazy.product!, s.dtype);
    const scratch = epilogue !== null && epilogue.scratch &&
      plan.span >= lazy.product!.k && plan.mb * plan.nb * SIZE[s.dtype] <= SCRATCH_BLOCK_BYTES;
    const ptr = scratch ? 0 : heap.alloc(bytes);
    try {
      const [pa, pb] = [heap.cell(a).ptr, heap.cell(b).ptr];
      if (thin) narrowProduct(pa, pb, ptr, lazy.product!, s.dtype);
      else product(pa, pb, ptr, lazy.product!, s.dtype, plan, epilogue);
    } catch (e) {
      if (ptr) heap.free(ptr, bytes);
      throw e;
    }
    heap.settle(s, ptr, bytes);
  }

  /**
   * The members of `group` that pending `s` can compute with in one program, in
   * order, and their grid: pending, of s's dtype and length, and flat (any grid) or
   * on the grid of s or, if s is flat, of the first member with broadcast leaves.
   */
  function joinable(
    s: WasmStorage,
    group: readonly WasmStorage[],
  ): { members: WasmStorage[]; rows: number; cols: number } {
    const grid = (m: WasmStorage) => {
      const lazy = heap.cell(m).lazy!;
      return exprFlat(lazy.expr) ? null : `${lazy.rows}x${lazy.cols}`;
    };
    const pending = group.filter((m) =>
      m === s || (heap.cell(m).lazy !== null && m.dtype === s.dtype && m.length === s.length)
    );
    const setter = grid(s) !== null ? s : pending.find((m) => grid(m) !== null) ?? s;
    const want = grid(setter);
    const { rows, cols } = heap.cell(setter).lazy!;
    return {
      members: pending.filter((m) => m === s || grid(m) === null || grid(m) === want),
      rows,
      cols,
    };
  }

  /** `s` as an operand on a rows x cols grid: its expression inlined if pending. */
  function operand(
    s: WasmStorage,
    p: Pattern,
    rows: number,
    cols: number,
    leaves: WasmStorage[],
  ): Expr {
    heap.check(s, "an element-wise op");
    const lazy = heap.cell(s).lazy;
    if (lazy !== null && !lazy.product && inlinable(lazy, p, rows, cols)) {
      const e = shiftLeaves(lazy.expr, leaves.length);
      leaves.push(...lazy.leaves);
      return e;
    }
    // Not inlined: computed now, so that a pending expression only ever reads
    // computed leaves (a chain of thousands of pending results would otherwise be
    // computed by as deep a recursion), or pending products, whose own operands are
    // computed: the expression may become their epilogue.
    if (lazy !== null && !lazy.product) compute(s);
    leaves.push(s);
    return { kind: "leaf", index: leaves.length - 1, pattern: p };
  }

  function output(dtype: DType, length: number): { s: WasmStorage; ptr: number } {
    const s = heap.storage(dtype, length);
    return { s, ptr: heap.cell(s).ptr };
  }

  /** Matrix times vector (m or n is 1): dot products of rows, or sums of scaled rows. */
  function gemv(pa: number, pb: number, ptr: number, p: MatmulSizes, dtype: DType): void {
    const { m, n, k } = p;
    const parallel = m * n * k >= PARALLEL_MADDS && pool.threads > 1;
    const [x, v, count, dot] = n === 1 ? [pa, pb, m, !p.transA] : [pb, pa, n, p.transB];
    const words: number[] = [];
    words[GV.x] = x;
    words[GV.ldx] = dot ? k : count;
    words[GV.v] = v;
    words[GV.out] = ptr;
    words[GV.len] = k;
    words[GV.count] = count;
    params(words);
    const lanes = 16 / SIZE[dtype];
    if (dot) run(`gemv_dot_${DT[dtype]}`, Math.ceil(count / DOT_ROWS), parallel);
    else run(`gemv_axpy_${DT[dtype]}`, Math.ceil(count / (AXPY_VECTORS * lanes)), parallel);
  }

  /**
   * Whether a product has a narrow op(B) (see emit_narrow.ts): 1 to 8 vectors of
   * columns, a whole number of them, B not transposed, more than one row and k > 0. A
   * transposed A is read down its columns, which pays only while it fits L2 (measured:
   * 1.25x faster than packing at 500 x 128, 0.76x at 1000 x 1000).
   */
  function narrow(p: MatmulSizes, dtype: DType): boolean {
    const lanes = 16 / SIZE[dtype];
    return !p.transB && p.m > 1 && p.k > 0 && p.n >= lanes && p.n % lanes === 0 &&
      p.n / lanes <= NARROW_MAX_VECTORS &&
      (!p.transA || p.m * p.k * SIZE[dtype] <= NARROW_TRANSPOSED_A_BYTES);
  }

  /** The parameter words that both product jobs start with (PRODUCT). */
  function productWords(pa: number, pb: number, ptr: number, p: MatmulSizes): number[] {
    const words: number[] = [];
    words[PRODUCT.a] = pa;
    words[PRODUCT.b] = pb;
    words[PRODUCT.c] = ptr;
    words[PRODUCT.m] = p.m;
    words[PRODUCT.n] = p.n;
    words[PRODUCT.k] = p.k;
    return words;
  }

  /** C (at `ptr`) = op(A) op(B) for a narrow op(B), by the narrow job. */
  function narrowProduct(
    pa: number,
    pb: number,
    ptr: number,
    p: MatmulSizes,
    dtype: DType,
  ): void {
    const { m, n, k } = p;
    const size = SIZE[dtype];
    const words = productWords(pa, pb, ptr, p);
    words[NW.arow] = p.transA ? size : k * size;
    words[NW.astep] = p.transA ? m * size : size;
    params(words);
    run(
      `narrow_${DT[dtype]}`,
      Math.ceil(m / NARROW_ROWS),
      m * n * k >= PARALLEL_MADDS && pool.threads > 1,
      true,
    );
  }

  /** The blocking of a product (see planProduct). */
  type Plan = ReturnType<typeof planProduct>;
  /** The blocking of a product: k, row and column blocks, and the depth of a pass. */
  function planProduct(p: MatmulSizes, dtype: DType, epilogue = false) {
    const { m, n, k } = p;
    const { mr, mc, kc } = MATMUL[dtype];
    const size = SIZE[dtype];
    const nr = MATMUL[dtype].nv * (16 / size);
    const parallel = m * n * k >= PARALLEL_MADDS && pool.threads > 1;
    // Blocks split each size evenly (k = 300 gives 150 + 150, not 256 + 44).
    const blocks = (len: number, max: number, mult: number) =>
      Math.ceil(len / Math.ceil(len / max) / mult) * mult;
    const npad = Math.ceil(n / nr) * nr;
    // Work units small enough to balance the threads (a dozen or more per thread,
    // so that the last one to finish costs little): split the columns too.
    const want = parallel
      ? Math.min(UNITS_PER_THREAD, Math.max(2, Math.floor(m * n * k / MIN_UNIT_MADDS))) *
        pool.threads
      : 1;
    // An epilogue streams its inputs best along whole rows: when all of packed op(B)
    // fits in L2 (a weight gradient: k is the batch), blocks span every column and
    // more row blocks make the units.
    const wide = epilogue && k * npad * size <= WIDE_B_BYTES;
    const kb = blocks(k, kc, 1);
    const mpad = Math.ceil(m / mr) * mr;
    const columns = (rowBlocks: number) => {
      const colBlocks = wide ? 1 : Math.min(npad / nr, Math.max(1, Math.ceil(want / rowBlocks)));
      return { colBlocks, nb: Math.ceil(npad / colBlocks / nr) * nr };
    };
    // Few rows (a batch) and enough columns for the units: one row block, so that each
    // panel of op(B) has one reader, which packs it itself (inline), if its share of
    // op(B) fits the thread's scratch. Its blocks are narrower, so it may lose an
    // epilogue (three shapes measured: as fast without it; see README).
    const inline = !wide && m <= INLINE_MAX_ROWS && npad / nr >= want &&
      columns(1).nb * kb * size <= INLINE_B_BYTES;
    const mb = inline
      ? mpad
      : blocks(m, wide ? Math.min(mc, Math.max(mr, Math.ceil(m / want))) : mc, mr);
    const rowBlocks = Math.ceil(m / mb);
    const { colBlocks, nb } = columns(rowBlocks);
    // k goes in passes of whole k blocks whose packed operands fit packBytes, so that
    // a big product does not need copies of both operands at once (the blocks and the
    // order of the sums are the same whatever the passes).
    const span = Math.min(
      k,
      Math.max(1, Math.floor(packBytes / ((mpad + npad) * size * kb))) * kb,
    );
    return { parallel, nr, kb, mb, nb, npad, mpad, rowBlocks, colBlocks, span, inline };
  }

  /**
   * C (at `ptr`) = op(A) op(B) by the pack and matmul jobs; with `epilogue`, the last
   * pass runs the program in PROGRAM on each block of C (see computeProduct).
   */
  function product(
    pa: number,
    pb: number,
    ptr: number,
    p: MatmulSizes,
    dtype: DType,
    plan: Plan,
    epilogue: { scratch: boolean } | null,
  ): void {
    const { m, n, k } = p;
    const { mr } = MATMUL[dtype];
    const size = SIZE[dtype];
    const { parallel, nr, kb, mb, nb, npad, mpad, rowBlocks, span, inline } = plan;
    // Per-thread blocks of C when it goes to scratch (ptr 0): one pass only.
    const cstride = ptr === 0 ? Math.ceil((mb * nb * size) / 64) * 64 : 0;
    let packed = 0, apacked = 0, cscratch = 0;
    try {
      if (!inline) packed = heap.alloc(span * npad * size);
      apacked = heap.alloc(span * mpad * size);
      if (ptr === 0) cscratch = heap.alloc(pool.threads * cstride);
      const words = productWords(pa, pb, ptr, p);
      words[MM.sai] = p.transA ? 1 : k;
      words[MM.sap] = p.transA ? m : 1;
      words[MM.sbj] = p.transB ? k : 1;
      words[MM.sbp] = p.transB ? 1 : n;
      words[MM.kb] = kb;
      words[MM.mb] = mb;
      words[MM.nb] = nb;
      words[MM.colBlocks] = Math.ceil(n / nb);
      words[MM.packed] = packed;
      words[MM.npad] = npad;
      const groups = inline ? 0 : Math.ceil(npad / nr / PACK_GROUP);
      words[MM.inline] = inline ? 1 : 0;
      const groupsA = Math.ceil(mpad / mr / PACK_GROUP);
      words[MM.groups] = groups;
      words[MM.apacked] = apacked;
      words[MM.mpad] = mpad;
      words[MM.groupsA] = groupsA;
      words[MM.cscratch] = cscratch;
      words[MM.cstride] = cstride;
      for (let k0 = 0; k0 < k; k0 += span) {
        const k1 = Math.min(k, k0 + span);
        words[MM.k0] = k0;
        words[MM.k1] = k1;
        words[MM.epilogue] = epilogue !== null && k1 === k ? 1 : 0;
        params(words);
        run(
          `pack_${DT[dtype]}`,
          Math.ceil((k1 - k0) / kb) * (groups + groupsA),
          (k1 - k0) * (m + n) >= PARALLEL_ELEMENTS && parallel,
        );
        run(`matmul_${DT[dtype]}`, rowBlocks * Math.ceil(n / nb), parallel, true);
      }
    } finally {
      // (Allocation may fail part way: what was allocated is freed.)
      if (cscratch) heap.free(cscratch, pool.threads * cstride);
      if (apacked) heap.free(apacked, span * mpad * size);
      if (packed) heap.free(packed, span * npad * size);
    }
  }

  const kernel: WasmKernel = {
    name: "wasm",
    dtypes: ["float64", "float32"],
    threads: pool.threads,
    fma,
    f64Tile: module.tiles.float64,
    f32Tile: module.tiles.float32,
    upload(data: ArrayLike<number>, dtype: DType): WasmStorage {
      live("upload data");
      checkDType(dtype, "upload data");
      const { s, ptr } = output(dtype, data.length);
      if (data.length) heap.view(dtype).set(data, ptr / SIZE[dtype]);
      return s;
    },
    fill(length: number, value: number, dtype: DType): WasmStorage {
      live("fill storage");
      checkDType(dtype, "fill storage");
      const { s, ptr } = output(dtype, length);
      const at = ptr / SIZE[dtype];
      if (length) heap.view(dtype).fill(value, at, at + length);
      return s;
    },
    readSync(s: WasmStorage): HostArray {
      const ptr = ptrOf(s, "readSync");
      const at = ptr / SIZE[s.dtype];
      return s.length
        ? heap.view(s.dtype).slice(at, at + s.length)
        : heap.view(s.dtype).slice(0, 0);
    },
    read(s: WasmStorage): Promise<HostArray> {
      try {
        return Promise.resolve(kernel.readSync(s));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    matmul(a: WasmStorage, b: WasmStorage, p: MatmulSizes): WasmStorage {
      const pa = ptrOf(a, "matmul"), pb = ptrOf(b, "matmul");
      const { m, n, k } = p;
      const dtype = a.dtype;
      if (m * n === 0 || k === 0 || m === 1 || n === 1) {
        const { s, ptr } = output(dtype, m * n);
        if (m * n > 0 && k === 0) {
          heap.view(dtype).fill(0, ptr / SIZE[dtype], ptr / SIZE[dtype] + m * n);
        } else if (m * n > 0) gemv(pa, pb, ptr, p, dtype);
        return s;
      }
      // Pending until needed: an element-wise result over it may run as its epilogue.
      return heap.lazy(dtype, {
        expr: { kind: "leaf", index: 0, pattern: "full" },
        leaves: [a, b],
        rows: m,
        cols: n,
        product: { ...p },
      });
    },
    unary(op: UnaryOp, a: WasmStorage): WasmStorage {
      live(op);
      const cell = heap.check(a, op);
      const leaves: WasmStorage[] = [];
      const rows = cell.lazy?.rows ?? 1, cols = cell.lazy?.cols ?? a.length;
      const expr: Expr = { kind: "unary", op, a: operand(a, "full", rows, cols, leaves) };
      return heap.lazy(a.dtype, { expr, leaves, rows, cols });
    },
    binary(op: BinaryOp, a: WasmStorage, b: WasmStorage, sh: BroadcastShapes): WasmStorage {
      live(op);
      const { rows, cols } = sh;
      const leaves: WasmStorage[] = [];
      const ea = operand(a, pattern(sh.a, rows, cols), rows, cols, leaves);
      const eb = operand(b, pattern(sh.b, rows, cols), rows, cols, leaves);
      return heap.lazy(a.dtype, { expr: { kind: "binary", op, a: ea, b: eb }, leaves, rows, cols });
    },
    reduce(
      op: ReduceOp,
      a: WasmStorage,
      rows: number,
      cols: number,
      axis: ReduceAxis,
    ): WasmStorage {
      const pa = ptrOf(a, `reduce ${op}`);
      const dtype = a.dtype, dt = DT[dtype];
      const n = rows * cols;
      const { s, ptr } = output(dtype, axis === "all" ? 1 : axis === 0 ? cols : rows);
      if (axis === "all") {
        const blocks = Math.ceil(n / REDUCE_BLOCK);
        let total = op === "sum" ? 0 : -Infinity;
        if (blocks > 0) {
          const partials = heap.alloc(blocks * 8);
          params([pa, 1, n, partials]);
          run(`reduce_all_${op}_${dt}`, blocks, n >= PARALLEL_ELEMENTS);
          const f64 = heap.f64, at = partials / 8;
          for (let i = 0; i < blocks; i++) {
            const x = f64[at + i];
            if (op === "sum") total += x;
            else if (x > total || x !== x) total = x;
            if (total !== total) break;
          }
          heap.free(partials, blocks * 8);
        }
        heap.view(dtype)[ptr / SIZE[dtype]] = total;
      } else if (axis === 1) {
        if (rows > 0) {
          params([pa, rows, cols, ptr]);
          run(`reduce_rows_${op}_${dt}`, rows, n >= PARALLEL_ELEMENTS);
        }
      } else if (cols > 0) {
        params([pa, rows, cols, ptr]);
        run(`reduce_cols_${op}_${dt}`, Math.ceil(cols / COLS_PER_UNIT), n >= PARALLEL_ELEMENTS);
      }
      return s;
    },
    transpose(a: WasmStorage, rows: number, cols: number): WasmStorage {
      const pa = ptrOf(a, "transpose");
      const { s, ptr } = output(a.dtype, rows * cols);
      if (rows * cols === 0) return s;
      params([pa, rows, cols, ptr]);
      run(`transpose_${DT[a.dtype]}`, Math.ceil(rows / 32), rows * cols >= PARALLEL_ELEMENTS);
      return s;
    },
    gather(a: WasmStorage, index: Int32Array): WasmStorage {
      const pa = ptrOf(a, "gather");
      const { s, ptr } = output(a.dtype, index.length);
      const view = heap.view(a.dtype), size = SIZE[a.dtype];
      const src = pa / size, dst = ptr / size, len = a.length;
      for (let i = 0; i < index.length; i++) {
        const j = index[i];
        if (j >= len) {
          kernel.dispose(s);
          throw new RangeError(
            `Cannot gather on the wasm kernel: index ${j} at ${i} is out of range for ${len} elements`,
          );
        }
        view[dst + i] = j < 0 ? 0 : view[src + j];
      }
      return s;
    },
    cast(a: WasmStorage, dtype: DType): WasmStorage {
      const pa = ptrOf(a, "cast");
      checkDType(dtype, "cast");
      const { s, ptr } = output(dtype, a.length);
      if (a.length) {
        const from = pa / SIZE[a.dtype];
        heap.view(dtype).set(heap.view(a.dtype).subarray(from, from + a.length), ptr / SIZE[dtype]);
      }
      return s;
    },
    dispose(s: WasmStorage): void {
      heap.dispose(s);
    },
    evaluate(s: WasmStorage): void {
      ptrOf(s, "evaluate");
    },
    evaluateTogether(group: WasmStorage[]): void {
      live("evaluateTogether");
      if (!Array.isArray(group)) {
        throw new TypeError(
          "Cannot evaluateTogether on the wasm kernel: group must be an array of storage",
        );
      }
      // Pending products are left out: a group member may run as their epilogue.
      const members = [
        ...new Set(group.filter((s) => {
          const lazy = heap.check(s, "evaluateTogether").lazy;
          return lazy !== null && !lazy.product;
        })),
      ];
      if (members.length < 2) return;
      for (const s of members) heap.cell(s).group = members;
    },
    liveBlocks: () => heap.live - baseline,
    memoryBytes: () => heap.top,
    destroy(): void {
      if (destroyed) return;
      destroyed = true;
      heap.close();
      pool.destroy();
    },
  };
  return kernel;
}
