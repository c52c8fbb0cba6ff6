/**
 * Accuracy and evaluation of an {@link Mlp} on a data set.
 *
 * @module
 */
import { collect, type Matrix } from "../matrix.ts";
import { checkMatrix } from "../ops/common.ts";
import { lossOf, type Mlp, mlpForward } from "./model.ts";
import { batchOf, checkDataset, type Dataset } from "./data.ts";

/**
 * The fraction of rows whose largest score is at the label's column (the first
 * largest on ties, as NumPy's argmax). Reads the scores synchronously, so they must
 * be on the host (the ts kernel); {@link evaluateMlp} works on every kernel.
 *
 * @example
 * ```ts
 * import { accuracy, Matrix } from "../../mod.ts";
 * console.log(accuracy(Matrix.from([[0.1, 0.9], [0.8, 0.2]]), [1, 1])); // 0.5
 * ```
 */
export function accuracy(scores: Matrix, labels: ArrayLike<number>): number {
  checkMatrix("compute the accuracy", scores, "scores");
  if (labels.length !== scores.rows) {
    throw new TypeError(
      `Cannot compute the accuracy: ${labels.length} labels for ${scores.rows} rows of scores`,
    );
  }
  return correct(scores.toTypedArray(), scores.cols, labels, 0) / Math.max(1, scores.rows);
}

function correct(s: ArrayLike<number>, k: number, labels: ArrayLike<number>, at: number): number {
  let hits = 0;
  const rows = s.length / k;
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (s[r * k + j] > s[r * k + best]) best = j;
    if (best === labels[at + r]) hits++;
  }
  return hits;
}

/** What {@link evaluateMlp} returns. */
export interface Evaluation {
  /** Mean loss over the samples. */
  loss: number;
  /** Fraction classified correctly. */
  accuracy: number;
  /** Number of samples. */
  count: number;
}

/**
 * The mean loss and the accuracy of the network on a data set, in batches of
 * `batchSize` (default 1000) of the parameters' dtype and kernel. Async because
 * device (WebGPU) results are read asynchronously.
 *
 * @example
 * ```ts
 * import { evaluateMlp, initMlp } from "../../mod.ts";
 * const net = initMlp([2, 4, 2]);
 * const r = await evaluateMlp(net, { inputs: [0, 1, 1, 0], labels: [0, 1] });
 * console.log(r.count, r.accuracy >= 0); // 2 true
 * ```
 */
export async function evaluateMlp(
  model: Mlp,
  data: Dataset,
  opts: { batchSize?: number } = {},
): Promise<Evaluation> {
  const n = checkDataset("evaluate an MLP", data, model);
  const batch = opts.batchSize ?? 1000;
  if (!Number.isSafeInteger(batch) || batch < 1) {
    throw new RangeError(`Cannot evaluate an MLP: batchSize must be a positive integer`);
  }
  const k = model.sizes[model.sizes.length - 1];
  const like = { dtype: model.params[0].dtype, kernel: model.params[0].kernel };
  let lossSum = 0, hits = 0;
  for (let s = 0; s < n; s += batch) {
    const idx = Int32Array.from({ length: Math.min(batch, n - s) }, (_, i) => s + i);
    // Each batch's matrices are disposed once read: kernels with their own memory
    // reuse the blocks instead of growing by 10 MB per 1000 MNIST images.
    const { result: { out, loss }, made } = collect(() => {
      const { X, Y } = batchOf(data, idx, k, like);
      const out = mlpForward(model, X);
      return { out, loss: lossOf(model.loss, out, Y) };
    });
    try {
      lossSum += (await loss.readTypedArray())[0] * idx.length;
      hits += correct(await out.readTypedArray(), k, data.labels, s);
    } finally {
      for (const m of made) m.dispose();
    }
  }
  return { loss: n === 0 ? NaN : lossSum / n, accuracy: n === 0 ? NaN : hits / n, count: n };
}
