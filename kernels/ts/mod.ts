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
import { binaryLoop, type Pattern, unaryLoop } from "./loops.ts";
import { matmulF32, matmulF64 } from "./matmul.ts";
import { gatherInto, reduceInto, transposeInto } from "./reduce.ts";

/** Storage of the ts kernel: a host typed array that never leaves the kernel. */
export class TsStorage implements Storage {
  /** The data; owned by this storage and never handed out. */
  readonly data: HostArray;
  /** Wrap `data` (taken over, not copied). */
  constructor(data: HostArray) {
    this.data = data;
  }
  /** Element type. */
  get dtype(): DType {
    return this.data instanceof Float64Array ? "float64" : "float32";
  }
  /** Number of elements. */
  get length(): number {
    return this.data.length;
  }
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
    const out = alloc(a.length, a.dtype);
    unaryLoop(op, a.dtype)(a.data, out);
    return new TsStorage(out);
  },
  binary(op: BinaryOp, a: TsStorage, b: TsStorage, s: BroadcastShapes): TsStorage {
    const out = alloc(s.rows * s.cols, a.dtype);
    const loop = binaryLoop(
      op,
      a.dtype,
      pattern(s.a, s.rows, s.cols),
      pattern(s.b, s.rows, s.cols),
    );
    loop(a.data, b.data, out, s.rows, s.cols);
    return new TsStorage(out);
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
