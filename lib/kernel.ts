/**
 * The Kernel interface: the small, closed vocabulary of data-parallel operations
 * that every compute backend implements, and the registry that picks one.
 *
 * A kernel stores flat, row-major arrays of one dtype in its own storage objects
 * and knows nothing of matrices' meaning, autodiff or the op modules: every call
 * passes the sizes it needs. Kernels are plain objects; `ts` is the reference.
 *
 * @module
 */

/** Element types a matrix can hold. */
export type DType = "float32" | "float64";

/** The dtypes, in the order of promotion (a later one wins). */
export const DTYPES: readonly DType[] = ["float32", "float64"];

/** A host array of one of the dtypes. */
export type HostArray = Float32Array | Float64Array;

/** Element-wise unary operations: the closed set every kernel implements. */
export const UNARY_OPS = [
  "neg",
  "abs",
  "sign",
  "exp",
  "log",
  "sqrt",
  "square",
  "reciprocal",
  "tanh",
  "sigmoid",
  "relu",
  "step",
] as const;
/** One of {@link UNARY_OPS}. `step(x)` is 1 where x > 0 and 0 elsewhere. */
export type UnaryOp = typeof UNARY_OPS[number];

/** Element-wise binary operations with broadcasting. `gt`, `ge`, `eq` give 1 or 0. */
export const BINARY_OPS = [
  "add",
  "sub",
  "mul",
  "div",
  "max",
  "min",
  "gt",
  "ge",
  "eq",
] as const;
/** One of {@link BINARY_OPS}. */
export type BinaryOp = typeof BINARY_OPS[number];

/** Reductions. */
export const REDUCE_OPS = ["sum", "max"] as const;
/** One of {@link REDUCE_OPS}. */
export type ReduceOp = typeof REDUCE_OPS[number];

/**
 * Which elements a reduction combines: `"all"` gives 1x1, `0` reduces over rows
 * (down each column, giving 1 x cols), `1` over columns (giving rows x 1).
 */
export type ReduceAxis = "all" | 0 | 1;

/**
 * Kernel-owned storage of `length` elements of `dtype`. Opaque outside the kernel
 * that made it; a kernel only ever receives storage it created itself.
 */
export interface Storage {
  /** Element type. */
  readonly dtype: DType;
  /** Number of elements. */
  readonly length: number;
}

/** Sizes of a matrix product C (m x n) = op(A) (m x k) times op(B) (k x n). */
export interface MatmulSizes {
  /** Rows of op(A) and of C. */
  m: number;
  /** Columns of op(B) and of C. */
  n: number;
  /** Inner size. */
  k: number;
  /** A is stored k x m and used transposed. */
  transA: boolean;
  /** B is stored n x k and used transposed. */
  transB: boolean;
}

/**
 * Shapes for a broadcasting binary op. Each operand is `rows x cols` (full),
 * `1 x cols` (a row repeated), `rows x 1` (a column repeated) or `1 x 1`.
 */
export interface BroadcastShapes {
  /** Output rows. */
  rows: number;
  /** Output columns. */
  cols: number;
  /** Shape of the first operand. */
  a: readonly [number, number];
  /** Shape of the second operand. */
  b: readonly [number, number];
}

/**
 * A compute backend. Every method allocates its result; none mutates its inputs.
 * Storage is row-major. Sizes are validated by the caller (lib/), not here.
 */
export interface Kernel<S extends Storage = Storage> {
  /** Registry name, e.g. `"ts"`. */
  readonly name: string;
  /** Dtypes this kernel can hold. */
  readonly dtypes: readonly DType[];
  /** Copy host data into new storage of `dtype`. */
  upload(data: ArrayLike<number>, dtype: DType): S;
  /** New storage of `length` elements all equal to `value`. */
  fill(length: number, value: number, dtype: DType): S;
  /** A host copy of the data, or `null` when the data lives on a device. */
  readSync(s: S): HostArray | null;
  /** A host copy of the data; always works. */
  read(s: S): Promise<HostArray>;
  /** C = op(A) op(B); see {@link MatmulSizes}. */
  matmul(a: S, b: S, sizes: MatmulSizes): S;
  /** Element-wise `op(a)`. */
  unary(op: UnaryOp, a: S): S;
  /** Element-wise `op(a, b)` with broadcasting; see {@link BroadcastShapes}. */
  binary(op: BinaryOp, a: S, b: S, shapes: BroadcastShapes): S;
  /** Reduce a `rows x cols` array; see {@link ReduceAxis}. */
  reduce(op: ReduceOp, a: S, rows: number, cols: number, axis: ReduceAxis): S;
  /** The transpose of a `rows x cols` array (cols x rows). */
  transpose(a: S, rows: number, cols: number): S;
  /**
   * `out[i] = index[i] < 0 ? 0 : a[index[i]]`: one primitive for every structural
   * op (slices, reshapes, vec, kron, diag, concatenation).
   */
  gather(a: S, index: Int32Array): S;
  /** Convert to another dtype (a copy). */
  cast(a: S, dtype: DType): S;
  /** Release device memory early; optional, host kernels leave it to the GC. */
  dispose?(s: S): void;
  /**
   * Computes `s` now if it is a pending (lazily fused) element-wise result, so that
   * later expressions read it instead of recomputing it; optional, for lazy kernels.
   */
  evaluate?(s: S): void;
  /**
   * Optional, for lazy kernels that can compute several pending results in one pass:
   * `group` (pending results, in order) is computed together when the first of it is
   * needed, each member written to its own storage. Inputs the members share are then
   * read once. Values are unchanged; members that are computed already, or that the
   * kernel cannot fit into one pass (another dtype or length), are computed alone.
   */
  evaluateTogether?(group: S[]): void;
}

/** Loads a kernel; may be async (WebGPU and WebAssembly initialise asynchronously). */
export type KernelLoader = () => Kernel | Promise<Kernel>;
