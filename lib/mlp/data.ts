/**
 * Classification data in host arrays, and the minibatches cut from it: seeded
 * shuffling, and gathering a batch into matrices with one-hot targets.
 *
 * @module
 */
import { Matrix, type MatrixOptions } from "../matrix.ts";
import { Random } from "../random.ts";
import type { Mlp } from "./model.ts";
import { oneHot } from "./losses.ts";

/** A labelled data set in host memory: one sample per row. */
export interface Dataset {
  /** count x features inputs, row-major (e.g. MNIST images scaled to [0, 1]). */
  inputs: ArrayLike<number>;
  /** count class labels, integers in [0, classes). */
  labels: ArrayLike<number>;
}

/** Internal (not re-exported): check a data set against a network; returns its sample count. */
export function checkDataset(action: string, data: Dataset, model: Mlp): number {
  if (data === null || typeof data !== "object" || !data.inputs || !data.labels) {
    throw new TypeError(`Cannot ${action}: the data set must be { inputs, labels }`);
  }
  const n = data.labels.length;
  const d = model.sizes[0], k = model.sizes[model.sizes.length - 1];
  if (data.inputs.length !== n * d) {
    throw new TypeError(
      `Cannot ${action}: ${n} labels need ${n}x${d} = ${
        n * d
      } inputs for the network's ${d} features, got ${data.inputs.length}`,
    );
  }
  for (let i = 0; i < n; i++) {
    const y = data.labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= k) {
      throw new RangeError(
        `Cannot ${action}: label ${y} at index ${i} is not an integer in [0, ${k})`,
      );
    }
  }
  return n;
}

/**
 * The index sets of one epoch's minibatches: a seeded permutation of 0..n-1
 * (`Random.permutation`) cut into batches of `batchSize`; the last batch is short
 * when batchSize does not divide n (PyTorch's `drop_last=False`).
 *
 * @example
 * ```ts
 * import { minibatches, Random } from "../../mod.ts";
 * const b = minibatches(5, 2, new Random(0));
 * console.log(b.map((i) => i.length)); // [2, 2, 1]
 * ```
 */
export function minibatches(n: number, batchSize: number, rng: Random): Int32Array[] {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`Cannot make minibatches: n must be a non-negative integer, got ${n}`);
  }
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError(
      `Cannot make minibatches: batchSize must be a positive integer, got ${batchSize}`,
    );
  }
  if (!(rng instanceof Random)) {
    throw new TypeError("Cannot make minibatches: rng must be a Random");
  }
  const perm = rng.permutation(n);
  const out: Int32Array[] = [];
  for (let s = 0; s < n; s += batchSize) out.push(perm.subarray(s, Math.min(n, s + batchSize)));
  return out;
}

/** The host buffer batchOf gathers rows into before the kernel copies them. */
let staging = new Float64Array(0);

/**
 * The samples `index` of a data set as a matrix X (index.length x features) and
 * one-hot targets Y (index.length x classes), in `opts.dtype` on `opts.kernel`.
 *
 * @example
 * ```ts
 * import { batchOf } from "../../mod.ts";
 * const data = { inputs: [1, 2, 3, 4, 5, 6], labels: [0, 2, 1] };
 * const { X, Y } = batchOf(data, [2, 0], 3, { dtype: "float32" });
 * console.log(X.toArray(), Y.toArray()); // [[5, 6], [1, 2]] [[0, 1, 0], [1, 0, 0]]
 * ```
 */
export function batchOf(
  data: Dataset,
  index: ArrayLike<number>,
  classes: number,
  opts: MatrixOptions = {},
): { X: Matrix; Y: Matrix } {
  const n = data.labels.length;
  const d = n === 0 ? 0 : data.inputs.length / n;
  if (!Number.isInteger(d)) {
    throw new TypeError(
      `Cannot build a batch: ${data.inputs.length} inputs do not split into ${n} rows`,
    );
  }
  const b = index.length;
  // Kernels copy what they upload, so one staging buffer serves every batch: a fresh
  // 800 KB array per MNIST step (zeroed, then collected) cost a third of batchOf.
  if (staging.length < b * d) staging = new Float64Array(b * d);
  const x = staging.subarray(0, b * d);
  const labels = new Int32Array(b);
  const src = data.inputs;
  // Typed inputs (MNIST's Float64Array) are copied a row at a time by set().
  const typed = ArrayBuffer.isView(src) && !(src instanceof DataView) ? src as Float64Array : null;
  for (let r = 0; r < b; r++) {
    const i = index[r];
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new RangeError(`Cannot build a batch: index ${i} is out of range for ${n} samples`);
    }
    labels[r] = data.labels[i];
    const o = i * d, t = r * d;
    if (typed) x.set(typed.subarray(o, o + d), t);
    else for (let j = 0; j < d; j++) x[t + j] = src[o + j];
  }
  return { X: Matrix.fromArray(x, b, d, opts), Y: oneHot(labels, classes, opts) };
}
