/**
 * A seeded random generator that gives the same numbers for the same seed on every
 * machine and every run.
 *
 * Algorithm: xoshiro128** (Blackman and Vigna) on four 32-bit words, seeded by
 * running splitmix32 over the seed; all state updates are 32-bit integer
 * operations (`Math.imul`, shifts), which JavaScript defines exactly. Uniform
 * doubles take 53 bits from two outputs. Normals use Marsaglia's polar method,
 * which needs only `Math.log` and `Math.sqrt` (V8 computes `Math.log` with its own
 * fdlibm port, not the C library, so it is the same on every machine).
 *
 * @module
 */
import { Matrix, type MatrixOptions } from "./matrix.ts";
import { checkFinite, checkSize } from "./errors.ts";

function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [state, (z ^ (z >>> 16)) >>> 0];
}

/** Options for {@link Random.uniform}. */
export interface UniformOptions extends MatrixOptions {
  /** Lower bound (inclusive), default 0. */
  low?: number;
  /** Upper bound (exclusive), default 1. */
  high?: number;
}

/** Options for {@link Random.normal}. */
export interface NormalOptions extends MatrixOptions {
  /** Mean, default 0. */
  mean?: number;
  /** Standard deviation, default 1. */
  std?: number;
}

/**
 * A seeded generator of uniform and normal numbers and matrices.
 *
 * @example
 * ```ts
 * import { Random } from "./random.ts";
 * import assert from "node:assert/strict";
 * const a = new Random(42).normal(2, 3);
 * const b = new Random(42).normal(2, 3);
 * assert.deepEqual(a.toArray(), b.toArray());
 * ```
 */
export class Random {
  #s = new Uint32Array(4);
  #spare: number | null = null;

  /** A generator seeded with an integer (default 0). */
  constructor(seed = 0) {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`Cannot seed Random: the seed must be a safe integer, got ${seed}`);
    }
    // Fold both halves of the seed into the splitmix state.
    let state = (seed | 0) ^ Math.imul(Math.floor(seed / 2 ** 32) | 0, 0x27d4eb2d);
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(state);
      state = next;
      this.#s[i] = out;
    }
    if ((this.#s[0] | this.#s[1] | this.#s[2] | this.#s[3]) === 0) this.#s[0] = 1;
  }

  /**
   * The next 32-bit unsigned integer.
   *
   * @example
   * ```ts
   * import { Random } from "./random.ts";
   * console.log(new Random(1).nextUint32());
   * ```
   */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /**
   * A uniform double in [0, 1) with 53 random bits.
   *
   * @example
   * ```ts
   * import { Random } from "./random.ts";
   * const x = new Random(1).next();
   * console.log(x >= 0 && x < 1); // true
   * ```
   */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * A standard normal double (Marsaglia's polar method).
   *
   * @example
   * ```ts
   * import { Random } from "./random.ts";
   * console.log(Number.isFinite(new Random(1).nextNormal())); // true
   * ```
   */
  nextNormal(): number {
    if (this.#spare !== null) {
      const x = this.#spare;
      this.#spare = null;
      return x;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt(-2 * Math.log(s) / s);
    this.#spare = v * f;
    return u * f;
  }

  /**
   * A uniform integer in [0, n).
   *
   * @example
   * ```ts
   * import { Random } from "./random.ts";
   * console.log(new Random(3).int(10) < 10); // true
   * ```
   */
  int(n: number): number {
    checkSize("draw a random integer", "n", n);
    if (n === 0) throw new RangeError("Cannot draw a random integer in [0, 0): n must be positive");
    return Math.floor(this.next() * n);
  }

  /**
   * A random permutation of 0..n-1 (Fisher-Yates).
   *
   * @example
   * ```ts
   * import { Random } from "./random.ts";
   * console.log(new Random(3).permutation(5).length); // 5
   * ```
   */
  permutation(n: number): Int32Array {
    checkSize("draw a random permutation", "n", n);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /**
   * A rows x cols matrix of uniform numbers in [low, high).
   *
   * @example
   * ```ts
   * import { Random } from "./random.ts";
   * console.log(new Random(0).uniform(2, 2, { low: -1, high: 1 }).shape); // [2, 2]
   * ```
   */
  uniform(rows: number, cols: number, opts: UniformOptions = {}): Matrix {
    const low = checkFinite("draw uniform numbers", "low", opts.low ?? 0);
    const high = checkFinite("draw uniform numbers", "high", opts.high ?? 1);
    if (!(high > low)) {
      throw new RangeError(`Cannot draw uniform numbers: high (${high}) must exceed low (${low})`);
    }
    const n = checkSize("draw uniform numbers", "rows", rows) *
      checkSize("draw uniform numbers", "cols", cols);
    const data = new Float64Array(n);
    const f32 = opts.dtype === "float32";
    for (let i = 0; i < n; i++) {
      let x = low + (high - low) * this.next();
      // Rounding to float32 (or float64 rounding of low + (high - low) u) can reach
      // high; draw again so the interval stays half-open.
      while ((f32 ? Math.fround(x) : x) >= high) x = low + (high - low) * this.next();
      data[i] = x;
    }
    return Matrix.fromArray(data, rows, cols, opts);
  }

  /**
   * A rows x cols matrix of normal numbers.
   *
   * @example
   * ```ts
   * import { Random } from "./random.ts";
   * console.log(new Random(0).normal(3, 1, { std: 0.1 }).shape); // [3, 1]
   * ```
   */
  normal(rows: number, cols: number, opts: NormalOptions = {}): Matrix {
    const mean = checkFinite("draw normal numbers", "mean", opts.mean ?? 0);
    const std = checkFinite("draw normal numbers", "std", opts.std ?? 1);
    if (std < 0) throw new RangeError(`Cannot draw normal numbers: std must be >= 0, got ${std}`);
    const n = checkSize("draw normal numbers", "rows", rows) *
      checkSize("draw normal numbers", "cols", cols);
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = mean + std * this.nextNormal();
    return Matrix.fromArray(data, rows, cols, opts);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
