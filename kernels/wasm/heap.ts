/**
 * The wasm kernel's memory as the TypeScript side sees it: typed views that follow
 * the memory as it grows, the allocator, and the lifetime of storage (explicit
 * `dispose`, a FinalizationRegistry for the rest, and pins that keep inputs of
 * pending expressions alive).
 *
 * @module
 */
import type { DType, HostArray } from "../../lib/kernel.ts";
import { Allocator } from "./allocator.ts";
import { HEAP } from "./layout.ts";
import { type Cell, cellOf, type Lazy, WasmStorage } from "./storage.ts";

/** The ballast of a block is its size shifted right by this (a half). */
const BALLAST_SHIFT = 1;
/** Blocks get a ballast while the blocks in use (not freed) add up to this many bytes. */
const BALLAST_FROM = 128 * 2 ** 20;

/** Bytes per element. */
export const SIZE: Record<DType, number> = { float64: 8, float32: 4 };

/** Storage bookkeeping over one shared memory. */
export class Heap {
  readonly memory: WebAssembly.Memory;
  readonly owner: object;
  f64: Float64Array<ArrayBufferLike> = new Float64Array(0);
  f32: Float32Array<ArrayBufferLike> = new Float32Array(0);
  i32: Int32Array<ArrayBufferLike> = new Int32Array(0);
  #alloc: Allocator;
  #registry: FinalizationRegistry<Cell>;
  #closed = false;
  /**
   * An untouched ArrayBuffer half the size of a block, held by the storage object:
   * V8 counts ArrayBuffer bytes as external memory and collects garbage sooner as
   * they grow, but it cannot see inside the wasm memory. Without this, a loop making
   * small storage objects over big blocks and never disposing them fills the memory
   * before the collector runs (the finalizers free the blocks). A ballast costs time
   * (V8 zeroes it: about 0.15 us per KiB), so blocks carry one only while the blocks
   * not freed add up to {@link BALLAST_FROM}: a program that disposes what it makes, or
   * that holds little, never pays for it, even after a peak. (It was the high-water
   * mark: after one evaluation of the MNIST test set, every later training step paid
   * about 0.4 ms of ballast.)
   */
  #ballast = new WeakMap<WasmStorage, ArrayBuffer>();

  constructor(memory: WebAssembly.Memory, owner: object) {
    this.memory = memory;
    this.owner = owner;
    this.#alloc = new Allocator(memory, HEAP, () => this.#views());
    this.#views();
    this.#registry = new FinalizationRegistry((cell) => this.#finalize(cell));
  }

  #views(): void {
    const buf = this.memory.buffer;
    this.f64 = new Float64Array(buf);
    this.f32 = new Float32Array(buf);
    this.i32 = new Int32Array(buf);
  }

  /** The view of `dtype`. */
  view(dtype: DType): HostArray {
    return dtype === "float64" ? this.f64 : this.f32;
  }

  /** A raw block of `bytes` bytes (scratch that the caller frees). */
  alloc(bytes: number): number {
    return this.#alloc.alloc(bytes);
  }

  /** Frees a raw block from {@link alloc}. */
  free(ptr: number, bytes: number): void {
    this.#alloc.free(ptr, bytes);
  }

  /** New storage with a block for `length` elements (none when empty). */
  storage(dtype: DType, length: number): WasmStorage {
    const bytes = length * SIZE[dtype];
    const ptr = length > 0 ? this.#alloc.alloc(bytes) : 0;
    const cell: Cell = {
      owner: this.owner,
      ptr,
      bytes,
      lazy: null,
      pins: 0,
      disposed: false,
      group: null,
    };
    const s = new WasmStorage(cell, dtype, length);
    if (ptr) {
      this.#registry.register(s, cell, cell);
      if (this.#alloc.liveBytes >= BALLAST_FROM) {
        this.#ballast.set(s, new ArrayBuffer(bytes >>> BALLAST_SHIFT));
      }
    }
    return s;
  }

  /**
   * New storage holding a pending expression; pins its leaves. It is not registered
   * for finalization until it has a block: while it lives, it holds its leaves, so
   * they cannot be collected; if it dies pending, a disposed leaf it pinned is freed
   * by the leaf's own finalizer instead of at once.
   */
  lazy(dtype: DType, lazy: Lazy): WasmStorage {
    for (const leaf of lazy.leaves) this.cell(leaf).pins++;
    const cell: Cell = {
      owner: this.owner,
      ptr: 0,
      bytes: 0,
      lazy,
      pins: 0,
      disposed: false,
      group: null,
    };
    return new WasmStorage(cell, dtype, lazy.rows * lazy.cols);
  }

  /** The cell of `s` without checks (storage this kernel made). */
  cell(s: WasmStorage): Cell {
    return cellOf(s, this.owner)!;
  }

  /** The cell of `s`, checking that this kernel made it and that it is live. */
  check(s: WasmStorage, op: string): Cell {
    const cell = cellOf(s, this.owner);
    if (cell === null) {
      throw new TypeError(
        `Cannot use storage in ${op} on the wasm kernel: it was made by another kernel`,
      );
    }
    if (cell.disposed) {
      throw new TypeError(
        `Cannot use storage in ${op} on the wasm kernel: it was disposed (${s.length} elements)`,
      );
    }
    return cell;
  }

  /**
   * Blocks that the pending results `group` (computed together, in this order, one
   * work unit at a time; usually just one) may take over as their outputs.
   * `readers[i]` holds the inputs member i's program reads (may be empty for a lone
   * member: nothing reads after it). Member i may take an
   * input of its own dtype and length that was disposed, that only the group still
   * pins, and that no later member reads; else it gets null. Writing in place is then
   * safe: a program reads an input of the output's length only at the index it
   * writes, earlier members read it before, later ones not at all. It saves a fresh
   * block's cache misses: a momentum SGD step's `p - lr v` reads the old parameters,
   * disposed by then, and writes the new ones over them.
   */
  donors(group: readonly WasmStorage[], readers: readonly Set<WasmStorage>[]): (Cell | null)[] {
    const pins = new Map<Cell, number>();
    for (const s of group) {
      for (const leaf of this.cell(s).lazy!.leaves) {
        const cell = this.cell(leaf);
        pins.set(cell, (pins.get(cell) ?? 0) + 1);
      }
    }
    const taken = new Set<Cell>();
    return group.map((s, i) => {
      for (const leaf of this.cell(s).lazy!.leaves) {
        const cell = this.cell(leaf);
        if (
          !taken.has(cell) && cell.disposed && cell.ptr !== 0 && leaf.dtype === s.dtype &&
          leaf.length === s.length && cell.pins === pins.get(cell) &&
          readers.every((r, j) => j <= i || !r.has(leaf))
        ) {
          taken.add(cell);
          return cell;
        }
      }
      return null;
    });
  }

  /** Gives computed pending storage `s` its block and unpins its inputs. */
  settle(s: WasmStorage, ptr: number, bytes: number): void {
    const cell = this.cell(s);
    const leaves = cell.lazy!.leaves;
    cell.lazy = null;
    cell.ptr = ptr;
    cell.bytes = bytes;
    if (ptr) {
      this.#registry.register(s, cell, cell);
      if (this.#alloc.liveBytes >= BALLAST_FROM) {
        this.#ballast.set(s, new ArrayBuffer(bytes >>> BALLAST_SHIFT));
      }
    }
    for (const leaf of leaves) this.#unpin(this.cell(leaf));
  }

  #unpin(cell: Cell): void {
    if (--cell.pins === 0 && cell.disposed) {
      this.#registry.unregister(cell);
      this.#release(cell);
    }
  }

  /** Frees the block of `cell` and drops its expression. */
  #release(cell: Cell): void {
    if (cell.lazy) {
      const leaves = cell.lazy.leaves;
      cell.lazy = null;
      for (const leaf of leaves) this.#unpin(this.cell(leaf));
    }
    if (cell.ptr !== 0 && !this.#closed) this.#alloc.free(cell.ptr, cell.bytes);
    cell.ptr = 0;
  }

  /** Disposes `s` now (idempotent); its block is freed once no pending expression reads it. */
  dispose(s: WasmStorage): void {
    const cell = cellOf(s, this.owner);
    if (cell === null) {
      throw new TypeError(
        "Cannot dispose storage on the wasm kernel: it was made by another kernel",
      );
    }
    if (cell.disposed) return;
    cell.disposed = true;
    // A pinned block stays registered: its finalizer frees it if no pin is released.
    if (cell.pins === 0) {
      this.#registry.unregister(cell);
      this.#release(cell);
    }
  }

  #finalize(cell: Cell): void {
    // Unreachable storage: nothing can read it any more, pins or not.
    cell.pins = 0;
    cell.disposed = true;
    this.#release(cell);
  }

  /** Blocks allocated and not freed (storage, pending expressions excluded). */
  get live(): number {
    return this.#alloc.live;
  }

  /** Bytes of memory in use by live or cached blocks. */
  get top(): number {
    return this.#alloc.top;
  }

  /** Stops freeing (the memory goes with the kernel). */
  close(): void {
    this.#closed = true;
  }
}
