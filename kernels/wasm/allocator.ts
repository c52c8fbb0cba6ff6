/**
 * The allocator of the wasm kernel's one shared memory: blocks of 64-byte-aligned
 * size classes (multiples of 64 bytes up to 4 KiB, then four classes per power of
 * two, so at most 19% of a block is slack) with a free list per class, on top of a
 * bump pointer that grows the memory. Freed blocks are reused for the same class and
 * never returned to the system or merged: a program that churns through many sizes
 * keeps its high-water mark. Runs on the main thread only.
 *
 * @module
 */

const PAGE = 65536;
/** Most pages of a 32-bit memory (4 GiB). */
export const MAX_PAGES = 65536;

/** The size class (block size in bytes) of a request of `bytes` bytes. */
export function sizeClass(bytes: number): number {
  if (bytes <= 4096) return Math.max(64, Math.ceil(bytes / 64) * 64);
  const e = 2 ** Math.floor(Math.log2(bytes));
  const step = e / 4;
  return Math.ceil(bytes / step) * step;
}

/** Free lists by size class over a bump pointer in `memory`. */
export class Allocator {
  readonly memory: WebAssembly.Memory;
  #top: number;
  #free = new Map<number, number[]>();
  #live = 0;
  #liveBytes = 0;
  #onGrow: () => void;

  /** Manages `memory` from byte `heap` up; `onGrow` runs after the memory grows. */
  constructor(memory: WebAssembly.Memory, heap: number, onGrow: () => void) {
    this.memory = memory;
    this.#top = heap;
    this.#onGrow = onGrow;
  }

  /** A block of at least `bytes` bytes (64-byte aligned); returns its address. */
  alloc(bytes: number): number {
    const size = sizeClass(bytes);
    this.#live++;
    this.#liveBytes += size;
    const list = this.#free.get(size);
    if (list && list.length) return list.pop()!;
    const at = this.#top;
    const end = at + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = have / PAGE;
      const need = Math.ceil((end - have) / PAGE);
      // Grow by at least a quarter of the memory, so that growth is amortised.
      const grow = Math.min(Math.max(need, Math.ceil(pages / 4)), MAX_PAGES - pages);
      if (grow < need) {
        this.#live--;
        this.#liveBytes -= size;
        throw new RangeError(
          `Cannot allocate ${bytes} bytes in the wasm kernel: its memory would exceed 4 GiB ` +
            `(${(have / 2 ** 20).toFixed(0)} MiB in use or cached); dispose unused matrices`,
        );
      }
      this.memory.grow(grow);
      this.#onGrow();
    }
    this.#top = end;
    return at;
  }

  /** Returns the block at `ptr`, allocated for `bytes` bytes, to its free list. */
  free(ptr: number, bytes: number): void {
    const size = sizeClass(bytes);
    let list = this.#free.get(size);
    if (!list) this.#free.set(size, list = []);
    list.push(ptr);
    this.#live--;
    this.#liveBytes -= size;
  }

  /** Blocks allocated and not freed. */
  get live(): number {
    return this.#live;
  }

  /** Bytes of the blocks allocated and not freed. */
  get liveBytes(): number {
    return this.#liveBytes;
  }

  /** Bytes of the memory in use by live or cached blocks (the high-water mark). */
  get top(): number {
    return this.#top;
  }
}
