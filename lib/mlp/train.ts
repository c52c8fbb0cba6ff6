/**
 * Minibatches with seeded shuffling, the training loop and evaluation of an
 * {@link Mlp} on a classification data set held in host arrays.
 *
 * @module
 */
import { Matrix, type MatrixOptions } from "../matrix.ts";
import { Random } from "../random.ts";
import type { DType } from "../kernel.ts";
import { checkMatrix } from "../ops/common.ts";
import { type GradMethod, lossOf, type Mlp, mlpForward, mlpGrads, withParams } from "./model.ts";
import { oneHot } from "./losses.ts";
import { type Optimizer, sgd, type SgdState } from "./sgd.ts";

/** A labelled data set in host memory: one sample per row. */
export interface Dataset {
  /** count x features inputs, row-major (e.g. MNIST images scaled to [0, 1]). */
  inputs: ArrayLike<number>;
  /** count class labels, integers in [0, classes). */
  labels: ArrayLike<number>;
}

/** Check a data set against a network; returns its sample count. */
function checkDataset(action: string, data: Dataset, model: Mlp): number {
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
  const x = new Float64Array(b * d);
  const labels = new Int32Array(b);
  const src = data.inputs;
  for (let r = 0; r < b; r++) {
    const i = index[r];
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new RangeError(`Cannot build a batch: index ${i} is out of range for ${n} samples`);
    }
    labels[r] = data.labels[i];
    const o = i * d, t = r * d;
    for (let j = 0; j < d; j++) x[t + j] = src[o + j];
  }
  return { X: Matrix.fromArray(x, b, d, opts), Y: oneHot(labels, classes, opts) };
}

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
    const { X, Y } = batchOf(data, idx, k, like);
    const out = mlpForward(model, X);
    const loss = lossOf(model.loss, out, Y);
    lossSum += (await loss.readTypedArray())[0] * idx.length;
    hits += correct(await out.readTypedArray(), k, data.labels, s);
  }
  return { loss: n === 0 ? NaN : lossSum / n, accuracy: n === 0 ? NaN : hits / n, count: n };
}

/** Progress of {@link trainMlp} after one step. */
export interface StepInfo {
  /** Epoch, from 1. */
  epoch: number;
  /** Step within the epoch, from 1. */
  step: number;
  /** Steps per epoch. */
  stepsPerEpoch: number;
  /** Steps so far over all epochs. */
  globalStep: number;
  /** Steps of the whole run. */
  totalSteps: number;
  /** This minibatch's loss (before the update). */
  loss: number;
  /** Samples this minibatch held. */
  batchSize: number;
  /** Seconds since training began (evaluation excluded). */
  seconds: number;
}

/** Summary of one epoch of {@link trainMlp}. */
export interface EpochInfo {
  /** Epoch, from 1. */
  epoch: number;
  /** Mean over the epoch's samples of the minibatch losses (taken before each update). */
  trainLoss: number;
  /** Test loss, when a test set was given. */
  testLoss?: number;
  /** Test accuracy, when a test set was given. */
  testAccuracy?: number;
  /** Seconds of training in this epoch. */
  seconds: number;
  /** Seconds of evaluation after it. */
  evalSeconds: number;
  /** Mean milliseconds per training step. */
  msPerStep: number;
}

/** Options of {@link trainMlp}. */
export interface TrainOptions {
  /** Passes over the data (default 1). */
  epochs?: number;
  /** Samples per minibatch (default 128). */
  batchSize?: number;
  /** The optimizer (default `sgd({ lr: 0.1 })`). */
  optimizer?: Optimizer;
  /** Gradient by the hand backward (default) or by autodiff. */
  method?: GradMethod;
  /** Seed of the shuffling (default 0); ignored when `rng` is given. */
  seed?: number;
  /** Generator of the shuffling (advanced by the run). */
  rng?: Random;
  /** Evaluated after each epoch when given. */
  test?: Dataset;
  /** Batch dtype (default: the parameters'). */
  dtype?: DType;
  /** Called after every step. */
  onStep?: (info: StepInfo) => void;
  /** Called after every epoch (and its evaluation). */
  onEpoch?: (info: EpochInfo) => void;
}

/** What {@link trainMlp} returns. */
export interface TrainResult {
  /** The trained network (the input network is unchanged). */
  model: Mlp;
  /** The optimizer's final state (to continue training). */
  state: SgdState;
  /** One entry per epoch. */
  history: EpochInfo[];
}

/**
 * Train a network by minibatch gradient descent: each epoch shuffles the data with
 * a seeded generator, and for each minibatch computes the loss and gradients
 * ({@link mlpGrads}) and applies the optimizer. Deterministic for a given seed.
 *
 * @example
 * ```ts
 * import { initMlp, sgd, trainMlp } from "../../mod.ts";
 * const data = { inputs: [0, 0, 0, 1, 1, 0, 1, 1], labels: [0, 1, 1, 0] };
 * const net = initMlp([2, 8, 2], { seed: 3 });
 * const { history } = await trainMlp(net, data, {
 *   epochs: 200,
 *   batchSize: 4,
 *   optimizer: sgd({ lr: 0.5, momentum: 0.9 }),
 * });
 * console.log(history[199].trainLoss < 0.05); // true: XOR learnt
 * ```
 */
export async function trainMlp(
  model: Mlp,
  data: Dataset,
  opts: TrainOptions = {},
): Promise<TrainResult> {
  const action = "train an MLP";
  const n = checkDataset(action, data, model);
  if (opts.test !== undefined) checkDataset(`${action} (test set)`, opts.test, model);
  const epochs = opts.epochs ?? 1;
  const batchSize = opts.batchSize ?? 128;
  for (const [name, v] of [["epochs", epochs], ["batchSize", batchSize]] as const) {
    if (!Number.isSafeInteger(v) || v < (name === "epochs" ? 0 : 1)) {
      throw new RangeError(`Cannot ${action}: ${name} must be a positive integer, got ${v}`);
    }
  }
  if (n === 0) throw new RangeError(`Cannot ${action}: the data set is empty`);
  const optimizer = opts.optimizer ?? sgd({ lr: 0.1 });
  const rng = opts.rng ?? new Random(opts.seed ?? 0);
  const like = { dtype: opts.dtype ?? model.params[0].dtype, kernel: model.params[0].kernel };
  const k = model.sizes[model.sizes.length - 1];
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const totalSteps = epochs * stepsPerEpoch;
  let state = optimizer.init(model.params);
  let params = model.params;
  const history: EpochInfo[] = [];
  let trainSeconds = 0, globalStep = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const t0 = performance.now();
    let lossSum = 0;
    const batches = minibatches(n, batchSize, rng);
    for (let s = 0; s < batches.length; s++) {
      const { X, Y } = batchOf(data, batches[s], k, like);
      const { loss, grads } = mlpGrads(withParams(model, params), X, Y, { method: opts.method });
      ({ params, state } = optimizer.update(params, grads, state));
      const value = (await loss.readTypedArray())[0];
      lossSum += value * X.rows;
      globalStep++;
      opts.onStep?.({
        epoch,
        step: s + 1,
        stepsPerEpoch,
        globalStep,
        totalSteps,
        loss: value,
        batchSize: X.rows,
        seconds: trainSeconds + (performance.now() - t0) / 1000,
      });
    }
    const seconds = (performance.now() - t0) / 1000;
    trainSeconds += seconds;
    const info: EpochInfo = {
      epoch,
      trainLoss: lossSum / n,
      seconds,
      evalSeconds: 0,
      msPerStep: (1000 * seconds) / batches.length,
    };
    if (opts.test) {
      const t1 = performance.now();
      const r = await evaluateMlp(withParams(model, params), opts.test);
      info.testLoss = r.loss;
      info.testAccuracy = r.accuracy;
      info.evalSeconds = (performance.now() - t1) / 1000;
    }
    history.push(info);
    opts.onEpoch?.(info);
  }
  return { model: withParams(model, params), state, history };
}
