/**
 * The immutable Matrix value: 2-D, float64 (default) or float32, stored by a kernel.
 *
 * @module
 */
import type { DType, HostArray, Kernel, Storage } from "./kernel.ts";
import { checkDType, checkSize, shapeStr } from "./errors.ts";
import { checkKernelDType, resolveKernel } from "./registry.ts";
import { formatMatrix } from "./format.ts";
import { matrixMimeBundle, type MimeBundle } from "./display.ts";

/** Options accepted by every constructor. */
export interface MatrixOptions {
  /** Element type; `"float64"` unless given. */
  dtype?: DType;
  /** A loaded kernel, or its name; the current default kernel unless given. */
  kernel?: string | Kernel;
}

/** Matrices made while {@link collect} runs, or null. */
let made: Matrix[] | null = null;
const TOKEN = Symbol("matcalc.internal");
let storageOf_: (m: Matrix) => Storage;

/**
 * A 2-D matrix of numbers. Immutable: no method changes it, and everything it
 * hands out is a copy. Vectors are n x 1 or 1 x n matrices.
 *
 * @example
 * ```ts
 * import { Matrix } from "./matrix.ts";
 * const A = Matrix.from([[1, 2], [3, 4]]);
 * console.log(A.shape, A.get(1, 0)); // [2, 2] 3
 * console.log(A.toString());
 * ```
 */
export class Matrix {
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
  /** Element type. */
  readonly dtype: DType;
  /** The kernel that holds the data. */
  readonly kernel: Kernel;
  #storage: Storage;

  /** Internal; use the static constructors. */
  constructor(token: symbol, kernel: Kernel, storage: Storage, rows: number, cols: number) {
    if (token !== TOKEN) {
      throw new TypeError(
        "Cannot construct a Matrix directly: use Matrix.from, Matrix.fromArray, zeros, ones, eye or full",
      );
    }
    this.kernel = kernel;
    this.#storage = storage;
    this.rows = rows;
    this.cols = cols;
    this.dtype = storage.dtype;
    made?.push(this);
  }

  static {
    storageOf_ = (m) => m.#storage;
  }

  /**
   * A matrix from nested arrays, one inner array per row.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * const v = Matrix.from([[1], [2], [3]]); // a 3 x 1 column vector
   * console.log(v.shape); // [3, 1]
   * ```
   */
  static from(data: readonly (readonly number[])[], opts: MatrixOptions = {}): Matrix {
    if (!Array.isArray(data)) {
      throw new TypeError(`Cannot build a matrix in Matrix.from: expected an array of rows`);
    }
    const rows = data.length;
    const cols = rows === 0 ? 0 : (Array.isArray(data[0]) ? data[0].length : -1);
    const flat = new Float64Array(rows * Math.max(cols, 0));
    for (let i = 0; i < rows; i++) {
      const row = data[i];
      if (!Array.isArray(row)) {
        throw new TypeError(`Cannot build a matrix in Matrix.from: row ${i} is not an array`);
      }
      if (row.length !== cols) {
        throw new TypeError(
          `Cannot build a matrix in Matrix.from: ragged rows, row 0 has ${cols} entries and row ${i} has ${row.length}`,
        );
      }
      for (let j = 0; j < cols; j++) {
        const x = row[j];
        if (typeof x !== "number") {
          throw new TypeError(
            `Cannot build a matrix in Matrix.from: entry (${i}, ${j}) is ${typeof x}, not a number`,
          );
        }
        flat[i * cols + j] = x;
      }
    }
    return Matrix.fromArray(flat, rows, Math.max(cols, 0), opts);
  }

  /**
   * A matrix from flat row-major data (copied).
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * const A = Matrix.fromArray([1, 2, 3, 4, 5, 6], 2, 3, { dtype: "float32" });
   * console.log(A.get(1, 2)); // 6
   * ```
   */
  static fromArray(
    data: ArrayLike<number>,
    rows: number,
    cols: number,
    opts: MatrixOptions = {},
  ): Matrix {
    const action = "build a matrix in Matrix.fromArray";
    checkSize(action, "rows", rows);
    checkSize(action, "cols", cols);
    if (data === null || typeof data !== "object" || typeof data.length !== "number") {
      throw new TypeError(`Cannot ${action}: data must be an array or typed array`);
    }
    if (data.length !== rows * cols) {
      throw new TypeError(
        `Cannot ${action}: data has ${data.length} elements, expected ${rows}x${cols} = ${
          rows * cols
        }`,
      );
    }
    if (Array.isArray(data)) {
      for (let i = 0; i < data.length; i++) {
        if (typeof data[i] !== "number") {
          throw new TypeError(
            `Cannot ${action}: entry ${i} is ${typeof data[i]}, not a number`,
          );
        }
      }
    }
    const { kernel, dtype } = resolve(action, opts);
    return wrap(kernel, kernel.upload(data, dtype), rows, cols);
  }

  /**
   * A rows x cols matrix with every entry equal to `value`.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * console.log(Matrix.full(2, 2, 7).get(0, 1)); // 7
   * ```
   */
  static full(rows: number, cols: number, value: number, opts: MatrixOptions = {}): Matrix {
    const action = "build a matrix in full";
    checkSize(action, "rows", rows);
    checkSize(action, "cols", cols);
    if (typeof value !== "number") {
      throw new TypeError(`Cannot ${action}: value must be a number, got ${typeof value}`);
    }
    const { kernel, dtype } = resolve(action, opts);
    return wrap(kernel, kernel.fill(rows * cols, value, dtype), rows, cols);
  }

  /**
   * A rows x cols matrix of zeros.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * console.log(Matrix.zeros(2, 3).shape); // [2, 3]
   * ```
   */
  static zeros(rows: number, cols: number, opts: MatrixOptions = {}): Matrix {
    return Matrix.full(rows, cols, 0, opts);
  }

  /**
   * A rows x cols matrix of ones.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * console.log(Matrix.ones(1, 3).toArray()); // [[1, 1, 1]]
   * ```
   */
  static ones(rows: number, cols: number, opts: MatrixOptions = {}): Matrix {
    return Matrix.full(rows, cols, 1, opts);
  }

  /**
   * The n x n identity (or rows x cols with ones on the main diagonal).
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * console.log(Matrix.eye(2).toArray()); // [[1, 0], [0, 1]]
   * ```
   */
  static eye(n: number, cols: number = n, opts: MatrixOptions = {}): Matrix {
    const action = "build a matrix in eye";
    checkSize(action, "rows", n);
    checkSize(action, "cols", cols);
    const data = new Float64Array(n * cols);
    for (let i = 0; i < Math.min(n, cols); i++) data[i * cols + i] = 1;
    return Matrix.fromArray(data, n, cols, opts);
  }

  /** `[rows, cols]`. */
  get shape(): [number, number] {
    return [this.rows, this.cols];
  }

  /** Number of elements. */
  get size(): number {
    return this.rows * this.cols;
  }

  /**
   * A row-major copy of the data as a typed array of the matrix's dtype.
   * Throws for data on a device; use `await readTypedArray()` there.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * console.log(Matrix.from([[1, 2], [3, 4]]).toTypedArray()); // Float64Array [1, 2, 3, 4]
   * ```
   */
  toTypedArray(): HostArray {
    const data = this.kernel.readSync(this.#storage);
    if (data === null) {
      throw new Error(
        `Cannot read a ${
          shapeStr(this)
        } matrix synchronously: its data is on the ${this.kernel.name} device; use await m.read() or await m.readTypedArray()`,
      );
    }
    return data;
  }

  /**
   * A row-major copy of the data; works for every kernel.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * console.log(await Matrix.ones(1, 2).readTypedArray()); // Float64Array [1, 1]
   * ```
   */
  readTypedArray(): Promise<HostArray> {
    return this.kernel.read(this.#storage);
  }

  /**
   * The data as nested arrays (a copy). Synchronous for host data.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * console.log(Matrix.eye(2).toArray()); // [[1, 0], [0, 1]]
   * ```
   */
  toArray(): number[][] {
    return nest(this.toTypedArray(), this.rows, this.cols);
  }

  /**
   * The data as nested arrays (a copy); works for every kernel.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * console.log(await Matrix.eye(2).read()); // [[1, 0], [0, 1]]
   * ```
   */
  async read(): Promise<number[][]> {
    return nest(await this.readTypedArray(), this.rows, this.cols);
  }

  /**
   * Entry (i, j); negative indices count from the end, as in NumPy.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * const A = Matrix.from([[1, 2], [3, 4]]);
   * console.log(A.get(0, 1), A.get(-1, -1)); // 2 4
   * ```
   */
  get(i: number, j: number): number {
    const r = index("get", "row", i, this.rows, this);
    const c = index("get", "column", j, this.cols, this);
    return this.toTypedArray()[r * this.cols + c];
  }

  /**
   * A copy converted to `dtype` (the same matrix when it already has it).
   * Differentiable when used through the functional `astype` in ops.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * console.log(Matrix.ones(2, 2).astype("float32").dtype); // "float32"
   * ```
   */
  astype(dtype: DType): Matrix {
    checkDType("convert a matrix in astype", dtype);
    if (dtype === this.dtype) return this;
    return hooks.astype(this, dtype);
  }

  /**
   * The same values held by another (loaded) kernel. Host data moves synchronously.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * console.log(Matrix.ones(1, 1).to("ts").kernel.name); // "ts"
   * ```
   */
  to(kernel: string | Kernel): Matrix {
    const k = resolveKernel("move a matrix in to", kernel);
    if (k === this.kernel) return this;
    checkKernelDType(`move a ${shapeStr(this)} matrix to the ${k.name} kernel`, k, this.dtype);
    return wrap(k, k.upload(this.toTypedArray(), this.dtype), this.rows, this.cols);
  }

  /**
   * Release device memory now instead of waiting for garbage collection. The
   * matrix (and any matrix sharing its storage) must not be used afterwards.
   * A no-op on host kernels.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * Matrix.zeros(2, 2).dispose();
   * ```
   */
  dispose(): void {
    this.kernel.dispose?.(this.#storage);
  }

  /**
   * NumPy-like text: shape, dtype, and the values (big matrices truncated).
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * console.log(String(Matrix.eye(2)));
   * ```
   */
  toString(): string {
    const data = this.kernel.readSync(this.#storage);
    const head = `Matrix ${shapeStr(this)} ${this.dtype}`;
    if (data === null) return `${head} on ${this.kernel.name} (await m.read() to see the values)`;
    return `${head}\n${formatMatrix(data, this.rows, this.cols)}`;
  }

  /** Used by Deno's console.log and inspect. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /**
   * The Jupyter display protocol (Deno's kernel calls it to show a cell's value):
   * plain text, an HTML table with the shape and dtype (big matrices truncated),
   * and LaTeX for small matrices; device data says to `await m.read()`. See
   * `matrixMimeBundle` in display.ts.
   *
   * @example
   * ```ts
   * import { Matrix } from "./matrix.ts";
   * import { toMimeBundle } from "./display.ts";
   * const bundle = toMimeBundle(Matrix.eye(2)); // calls this method, as the kernel does
   * console.log(Object.keys(bundle)); // ["text/plain", "text/html", "text/latex"]
   * ```
   */
  [Symbol.for("Jupyter.display")](): MimeBundle {
    return matrixMimeBundle(this, this.kernel.readSync(this.#storage));
  }
}

function resolve(action: string, opts: MatrixOptions): { kernel: Kernel; dtype: DType } {
  if (opts === null || typeof opts !== "object") {
    throw new TypeError(`Cannot ${action}: options must be an object`);
  }
  const dtype = checkDType(action, opts.dtype ?? "float64");
  const kernel = resolveKernel(action, opts.kernel);
  checkKernelDType(action, kernel, dtype);
  return { kernel, dtype };
}

function index(action: string, what: string, i: number, n: number, m: Matrix): number {
  if (!Number.isInteger(i) || i < -n || i >= n) {
    throw new RangeError(
      `Cannot ${action} entry of a ${shapeStr(m)} matrix: ${what} index ${i} is out of range`,
    );
  }
  return i < 0 ? i + n : i;
}

function nest(data: HostArray, rows: number, cols: number): number[][] {
  const out: number[][] = new Array(rows);
  for (let i = 0; i < rows; i++) out[i] = Array.from(data.subarray(i * cols, (i + 1) * cols));
  return out;
}

/**
 * Internal: runs `fn` and returns its result with every Matrix made while it ran,
 * intermediates included, but not views ({@link view}: disposing one would free
 * storage that a matrix made outside still uses). Nested calls also report to the
 * outer one. When `fn` throws, `into` (if given) still holds what it made.
 *
 * A caller that owns a computation (the training loop) disposes what it does not
 * keep, so kernels with their own memory free the blocks at once: a pending
 * intermediate such as `scale(v, mu)` inside `add(scale(v, mu), g)` keeps `v`'s block
 * alive until it is disposed or collected, and waiting for the collector leaves cold,
 * fresh blocks.
 */
export function collect<T>(fn: () => T, into: Matrix[] = []): { result: T; made: Matrix[] } {
  const outer = made;
  made = into;
  try {
    return { result: fn(), made: into };
  } finally {
    made = outer;
    outer?.push(...into);
  }
}

/**
 * Runs `fn` and disposes every matrix made while it ran (its intermediates) except
 * those in its result, as TensorFlow.js's `tf.tidy` does. The result may be a Matrix
 * or arrays and plain objects holding matrices (searched at any depth); a matrix that
 * shares storage with one of them is kept too, and views made inside of matrices made
 * outside (a reshape of an input) are never disposed. If `fn` throws, everything it
 * made is disposed and the error passes on. `fn` must be synchronous (a Promise is a
 * TypeError: matrices made after its first await would escape).
 *
 * Disposing matters on kernels with their own memory (wasm, webgpu): a training step
 * that lets intermediates wait for the garbage collector keeps their blocks, and the
 * inputs that pending intermediates read, alive until it runs, so new results land in
 * fresh, cold memory. On the ts kernel disposing is a no-op and `tidy` costs only
 * the bookkeeping. `trainMlp` does this for every step.
 *
 * @example
 * ```ts
 * import { add, Matrix, scale, tidy } from "../mod.ts";
 * const v = Matrix.from([[1, 2]]), g = Matrix.from([[3, 4]]);
 * const next = tidy(() => add(scale(v, 0.9), g)); // scale's result and scalar are disposed
 * console.log(next.toArray()); // [[3.9, 5.8]]
 * ```
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== "function") {
    throw new TypeError(
      `Cannot tidy: fn must be a function, got ${fn === null ? "null" : typeof fn}`,
    );
  }
  const into: Matrix[] = [];
  let result: T;
  try {
    result = collect(fn, into).result;
  } catch (error) {
    for (const m of into) m.dispose();
    throw error;
  }
  if (result instanceof Promise) {
    throw new TypeError("Cannot tidy an async function: fn must return its result synchronously");
  }
  const keep = new Set<Storage>();
  const seen = new Set<unknown>();
  const visit = (x: unknown): void => {
    if (x instanceof Matrix) keep.add(storageOf_(x));
    else if (x !== null && typeof x === "object" && !seen.has(x)) {
      seen.add(x);
      for (const v of Array.isArray(x) ? x : Object.values(x)) visit(v);
    }
  };
  visit(result);
  for (const m of into) if (!keep.has(storageOf_(m))) m.dispose();
  return result;
}

/**
 * Internal: a matrix over the storage of `m` (a reshape, the input wrappers of
 * autodiff). {@link collect} does not report it, so {@link tidy} and the training
 * loop never dispose storage through a view.
 */
export function view(m: Matrix, rows: number, cols: number): Matrix {
  const outer = made;
  made = null;
  try {
    return new Matrix(TOKEN, m.kernel, storageOf_(m), rows, cols);
  } finally {
    made = outer;
  }
}

/** Internal: a matrix over existing storage (storage is shared, never copied). */
export function wrap(kernel: Kernel, storage: Storage, rows: number, cols: number): Matrix {
  return new Matrix(TOKEN, kernel, storage, rows, cols);
}

/** Internal: the storage of a matrix, for op implementations. */
export function storageOf(m: Matrix): Storage {
  return storageOf_(m);
}

/**
 * Internal: computes `m` now if its kernel holds it as a pending element-wise
 * expression, so that several later expressions read it instead of each inlining
 * (recomputing) it. Values are unchanged; returns `m`.
 */
export function realize(m: Matrix): Matrix {
  m.kernel.evaluate?.(storageOf_(m));
  return m;
}

/**
 * Internal: asks the kernel of `ms` to compute these pending results together, in
 * one pass, when the first of them is needed (values are unchanged). Returns false,
 * doing nothing, when the kernel has no such pass or the matrices are on several
 * kernels; see {@link canEvaluateTogether}.
 */
export function evaluateTogether(ms: readonly Matrix[]): boolean {
  const kernel = ms[0]?.kernel;
  if (kernel?.evaluateTogether === undefined || ms.some((m) => m.kernel !== kernel)) return false;
  kernel.evaluateTogether(ms.map(storageOf_));
  return true;
}

/**
 * Internal: whether `m`'s kernel computes several pending results in one pass. A
 * caller that inlines one pending result into another and needs both should then
 * group them with {@link evaluateTogether}, and else {@link realize} the inner one
 * first, so that it is not computed twice.
 */
export function canEvaluateTogether(m: Matrix): boolean {
  return m.kernel.evaluateTogether !== undefined;
}

/** Internal: behaviour that lives in higher layers (set by lib/ops). */
export const hooks: { astype: (m: Matrix, dtype: DType) => Matrix } = {
  astype: (m, dtype) => {
    checkKernelDType(`convert a ${shapeStr(m)} matrix to ${dtype}`, m.kernel, dtype);
    return wrap(m.kernel, m.kernel.cast(storageOf(m), dtype), m.rows, m.cols);
  },
};
