/**
 * Storage of the wasm kernel: a block of the kernel's shared memory, or a pending
 * element-wise expression or matrix product over other storage that is computed
 * (once) when first needed. The kernel keeps its bookkeeping in a {@link Cell} that the storage hides.
 *
 * @module
 */
import type { DType, MatmulSizes, Storage } from "../../lib/kernel.ts";
import type { Expr } from "./program.ts";

/**
 * A pending result: an element-wise expression over materialised inputs (and over
 * pending products, which a product's epilogue can compute with it), or a pending
 * matrix product of `leaves` [A, B] (`product`; `expr` is then unused).
 */
export interface Lazy {
  expr: Expr;
  leaves: WasmStorage[];
  rows: number;
  cols: number;
  product?: MatmulSizes;
}

/** The kernel's record of one storage (no reference back to the storage itself). */
export interface Cell {
  /** The kernel that made it. */
  owner: object;
  /** Address of the block, or 0 when there is none (empty, pending, or freed). */
  ptr: number;
  /** Bytes requested for the block. */
  bytes: number;
  /** The pending expression, until it is computed or dropped. */
  lazy: Lazy | null;
  /** Pending expressions that read this block; it is freed only when none is left. */
  pins: number;
  /** `dispose` was called: later uses throw; the block goes once unpinned. */
  disposed: boolean;
  /**
   * Pending results to compute with this one in a single pass (see the kernel's
   * `evaluateTogether`), in order, this one included; cleared when computed.
   */
  group: WasmStorage[] | null;
}

let cellOfStorage: (s: WasmStorage) => Cell;

/**
 * Data of one wasm kernel: `length` elements of `dtype` in the kernel's memory.
 * Freed by `kernel.dispose(s)` or once the storage becomes unreachable.
 *
 * @example
 * ```ts
 * import { createWasmKernel } from "./mod.ts";
 * const kernel = await createWasmKernel({ threads: 1 });
 * const s = kernel.upload([1, 2, 3], "float64");
 * console.log(s.length, s.dtype); // 3 "float64"
 * kernel.destroy();
 * ```
 */
export class WasmStorage implements Storage {
  /** Element type. */
  readonly dtype: DType;
  /** Number of elements. */
  readonly length: number;
  #cell: Cell;

  /** Made by the wasm kernel only. */
  constructor(cell: Cell, dtype: DType, length: number) {
    this.#cell = cell;
    this.dtype = dtype;
    this.length = length;
  }

  static {
    cellOfStorage = (s) => s.#cell;
  }
}

/** The cell of `s` if `owner` made it, else null. */
export function cellOf(s: unknown, owner: object): Cell | null {
  if (!(s instanceof WasmStorage)) return null;
  const cell = cellOfStorage(s);
  return cell.owner === owner ? cell : null;
}
