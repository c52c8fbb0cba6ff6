/**
 * The pure-TypeScript kernel: the executable specification every other kernel is
 * tested against. Holds float64 and float32 data in host typed arrays, so reads
 * are synchronous.
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
  Storage,
  UnaryOp,
} from "../../lib/kernel.ts";
import { type Expr, fusedLoop, type Pattern, shiftLeaves } from "./loops.ts";
import { inlinable } from "../common/expr.ts";
import { matmulF32, matmulF64 } from "./matmul.ts";
import { gatherInto, reduceInto, transposeInto } from "./reduce.ts";

/** A pending element-wise result: an expression over materialised inputs. */
interface Lazy {
  expr: Expr;
  leaves: TsStorage[];
  rows: number;
  cols: number;
}

/**
 * Storage of the ts kernel: a host typed array that never leaves the kernel, or a
 * pending element-wise expression that is computed (once) when first needed.
 */
export class TsStorage implements Storage {
  /** Element type. */
  readonly dtype: DType;
  /** Number of elements. */
  readonly length: number;
  #data: HostArray | null;
  #lazy: Lazy | null;

  /** Wrap `data` (taken over, not copied), or hold a pending expression. */
  constructor(data: HostArray | null, lazy: Lazy | null = null, dtype?: DType) {
    this.#data = data;
    this.#lazy = lazy;
    this.dtype = data ? (data instanceof Float64Array ? "float64" : "float32") : dtype!;
    this.length = data ? data.length : lazy!.rows * lazy!.cols;
  }

  /** The data, computing a pending expression first. */
  get data(): HostArray {
    if (this.#data === null) {
      const { expr, leaves, rows, cols } = this.#lazy!;
      const out = alloc(this.length, this.dtype);
      fusedLoop(expr, this.dtype)(leaves.map((l) => l.data), out, rows, cols);
      this.#data = out;
      this.#lazy = null; // let the inputs go
    }
    return this.#data;
  }

  /** The pending expression, if any. */
  get lazy(): Lazy | null {
    return this.#lazy;
  }
}

/** `s` as an operand of an element-wise op on a rows x cols grid: inlined if pending. */
function operand(
  s: TsStorage,
  pattern: Pattern,
  rows: number,
  cols: number,
  leaves: TsStorage[],
): Expr {
  const lazy = s.lazy;
  if (lazy !== null && inlinable(lazy, pattern, rows, cols)) {
    const e = shiftLeaves(lazy.expr, leaves.length);
    leaves.push(...lazy.leaves);
    return e;
  }
  // Not inlined: computed now, so that a pending expression only ever reads computed
  // leaves (a chain of thousands of pending results would otherwise be computed by as
  // deep a recursion).
  if (lazy !== null) void s.data;
  leaves.push(s);
  return { kind: "leaf", index: leaves.length - 1, pattern };
}

function alloc(length: number, dtype: DType): HostArray {
  return dtype === "float64" ? new Float64Array(length) : new Float32Array(length);
}

function pattern(shape: readonly [number, number], rows: number, cols: number): Pattern {
  const [r, c] = shape;
  if (r === rows && c === cols) return "full";
  if (r === 1 && c === 1) return "scalar";
  return r === 1 ? "row" : "col";
}

/** The pure-TypeScript kernel (float64 and float32). */
export const tsKernel: Kernel<TsStorage> = {
  name: "ts",
  dtypes: ["float64", "float32"],
  upload(data: ArrayLike<number>, dtype: DType): TsStorage {
    const out = alloc(data.length, dtype);
    out.set(data);
    return new TsStorage(out);
  },
  fill(length: number, value: number, dtype: DType): TsStorage {
    const out = alloc(length, dtype);
    if (!Object.is(value, 0)) out.fill(value);
    return new TsStorage(out);
  },
  readSync(s: TsStorage): HostArray {
    return s.data.slice();
  },
  read(s: TsStorage): Promise<HostArray> {
    return Promise.resolve(s.data.slice());
  },
  evaluate(s: TsStorage): void {
    void s.data;
  },
  matmul(a: TsStorage, b: TsStorage, p: MatmulSizes): TsStorage {
    const dtype = a.dtype;
    const out = alloc(p.m * p.n, dtype);
    if (dtype === "float64") {
      matmulF64(
        a.data as Float64Array,
        b.data as Float64Array,
        out as Float64Array,
        p.m,
        p.n,
        p.k,
        p.transA,
        p.transB,
      );
    } else {
      matmulF32(
        a.data as Float32Array,
        b.data as Float32Array,
        out as Float32Array,
        p.m,
        p.n,
        p.k,
        p.transA,
        p.transB,
      );
    }
    return new TsStorage(out);
  },
  unary(op: UnaryOp, a: TsStorage): TsStorage {
    const leaves: TsStorage[] = [];
    const rows = a.lazy?.rows ?? 1, cols = a.lazy?.cols ?? a.length;
    const expr: Expr = { kind: "unary", op, a: operand(a, "full", rows, cols, leaves) };
    return new TsStorage(null, { expr, leaves, rows, cols }, a.dtype);
  },
  binary(op: BinaryOp, a: TsStorage, b: TsStorage, s: BroadcastShapes): TsStorage {
    const { rows, cols } = s;
    const leaves: TsStorage[] = [];
    const ea = operand(a, pattern(s.a, rows, cols), rows, cols, leaves);
    const eb = operand(b, pattern(s.b, rows, cols), rows, cols, leaves);
    const expr: Expr = { kind: "binary", op, a: ea, b: eb };
    return new TsStorage(null, { expr, leaves, rows, cols }, a.dtype);
  },
  reduce(op: ReduceOp, a: TsStorage, rows: number, cols: number, axis: ReduceAxis): TsStorage {
    const out = alloc(axis === "all" ? 1 : axis === 0 ? cols : rows, a.dtype);
    reduceInto(op, a.data, rows, cols, axis, out);
    return new TsStorage(out);
  },
  transpose(a: TsStorage, rows: number, cols: number): TsStorage {
    const out = alloc(a.length, a.dtype);
    transposeInto(a.data, rows, cols, out);
    return new TsStorage(out);
  },
  gather(a: TsStorage, index: Int32Array): TsStorage {
    const out = alloc(index.length, a.dtype);
    gatherInto(a.data, index, out);
    return new TsStorage(out);
  },
  cast(a: TsStorage, dtype: DType): TsStorage {
    const out = alloc(a.length, dtype);
    out.set(a.data);
    return new TsStorage(out);
  },
};
