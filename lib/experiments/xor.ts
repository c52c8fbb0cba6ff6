/**
 * Document 001: a two-layer sigmoid network on XOR, H = s(X W1), Yhat = s(H W2),
 * loss L = 1/2 ||Yhat - Y||_F^2, trained by gradient descent (learning rate 1)
 * four ways from the same start:
 *  (a) the Jacobian form with dense Kronecker and Diag matrices,
 *  (b) the same chain with structured operators (never forming them),
 *  (c) the shape-matching form d2 = (Yhat - Y) o s'(H W2), d1 = (d2 W2^T) o s'(X W1),
 *      dW1 = X^T d1, dW2 = H^T d2,
 *  (d) reverse-mode autodiff.
 * X carries a constant 1 column, which gives the hidden units their biases.
 *
 * @module
 */
import { Matrix } from "../matrix.ts";
import { Random } from "../random.ts";
import { grad } from "../autodiff.ts";
import { abs, matmul, max, mul, scale, sigmoid, square, sub, sum, transpose } from "../ops/mod.ts";
import { diag, kron, unvec, vec } from "../kronecker.ts";
import { compose, DiagOp, KronOp } from "../linear_op.ts";
import { type Check, checkScalar } from "./check.ts";

/** The two weight matrices of the XOR network, [W1 (3 x hidden), W2 (hidden x 1)]. */
export type XorWeights = [Matrix, Matrix];
/** One gradient-descent step of the XOR network. */
export type XorStep = (W: XorWeights) => XorWeights;
type Weights = XorWeights;
type Step = XorStep;

/**
 * The XOR data and network, built on the current default kernel when called (not
 * at import, so a kernel chosen later with useKernel is the one used).
 */
function problem() {
  const X = Matrix.from([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]]);
  const Y = Matrix.from([[0], [1], [1], [0]]);
  const forward = ([W1, W2]: Weights) => {
    const H = sigmoid(matmul(X, W1));
    const Yhat = sigmoid(matmul(H, W2));
    return { H, Yhat };
  };
  const loss = (W1: Matrix, W2: Matrix): Matrix =>
    scale(sum(square(sub(forward([W1, W2]).Yhat, Y))), 0.5);
  return { X, Y, forward, loss };
}

/** s'(z) from s(z): s (1 - s). */
const dsig = (s: Matrix) => mul(s, sub(1, s));

function update([W1, W2]: Weights, g1: Matrix, g2: Matrix, lr: number): Weights {
  return [sub(W1, scale(g1, lr)), sub(W2, scale(g2, lr))];
}

/** The four training steps of document 001. */
export function xorSteps(
  lr: number,
): Record<"dense" | "structured" | "shape" | "autodiff", XorStep> {
  const { X, Y, forward, loss } = problem();
  return {
    dense: (W) => {
      const [W1, W2] = W;
      const { H, Yhat } = forward(W);
      const h = W1.cols, n = X.rows;
      const r = vec(sub(Yhat, Y));
      const D2 = diag(vec(dsig(Yhat)));
      const D1 = diag(vec(dsig(H)));
      // d vec Yhat / d (vec W2)^T = D2 (I_1 kron H);  / d (vec W1)^T = D2 (W2^T kron I_n) D1 (I_h kron X)
      const J2 = matmul(D2, kron(Matrix.eye(1), H));
      const J1 = matmul(
        matmul(matmul(D2, kron(transpose(W2), Matrix.eye(n))), D1),
        kron(Matrix.eye(h), X),
      );
      const g1 = unvec(matmul(transpose(J1), r), W1.rows, h);
      const g2 = unvec(matmul(transpose(J2), r), W2.rows, W2.cols);
      return update(W, g1, g2, lr);
    },
    structured: (W) => {
      const [W1, W2] = W;
      const { H, Yhat } = forward(W);
      const h = W1.cols, n = X.rows;
      const r = vec(sub(Yhat, Y));
      const D2 = new DiagOp(vec(dsig(Yhat)));
      const D1 = new DiagOp(vec(dsig(H)));
      const J2 = compose(D2, new KronOp(Matrix.eye(1), H));
      const J1 = compose(
        D2,
        new KronOp(transpose(W2), Matrix.eye(n)),
        D1,
        new KronOp(Matrix.eye(h), X),
      );
      const g1 = unvec(J1.transpose().apply(r), W1.rows, h);
      const g2 = unvec(J2.transpose().apply(r), W2.rows, W2.cols);
      return update(W, g1, g2, lr);
    },
    shape: (W) => {
      const [, W2] = W;
      const { H, Yhat } = forward(W);
      const d2 = mul(sub(Yhat, Y), dsig(Yhat));
      const d1 = mul(matmul(d2, transpose(W2)), dsig(H));
      return update(W, matmul(transpose(X), d1), matmul(transpose(H), d2), lr);
    },
    autodiff: (W) => {
      const [g1, g2] = grad(loss, [0, 1])(...W);
      return update(W, g1, g2, lr);
    },
  };
}

/** Options of {@link xorExperiment}. */
export interface XorOptions {
  /** Seed of the initial weights (default 0). */
  seed?: number;
  /** Epochs of full-batch gradient descent (default 3000). */
  epochs?: number;
  /** Hidden units (default 4). */
  hidden?: number;
  /** Learning rate (default 1, as in the document). */
  lr?: number;
  /** Called after each epoch with the epoch number and the largest weight difference so far. */
  onEpoch?: (epoch: number, maxDiff: number) => void;
}

/** What {@link xorExperiment} returns. */
export interface XorResult {
  /** Largest |difference| between any two forms' weights after each epoch. */
  maxDiffPerEpoch: number[];
  /** Final loss of each form. */
  finalLoss: Record<string, number>;
  /** Final predictions (autodiff form) for the inputs 00, 01, 10, 11. */
  predictions: number[];
  /** Milliseconds per epoch of each form. */
  msPerEpoch: Record<string, number>;
  /** Checks: forms agree to 1e-12, and XOR is solved. */
  checks: Check[];
  /** Whether every check held. */
  ok: boolean;
}

function maxAbsDiff(a: Matrix, b: Matrix): number {
  return max(abs(sub(a, b))).get(0, 0);
}

/**
 * Train the four forms side by side and compare them after every epoch.
 *
 * @example
 * ```ts
 * import { xorExperiment } from "../../mod.ts";
 * const r = xorExperiment({ epochs: 20 });
 * console.log(Math.max(...r.maxDiffPerEpoch) <= 1e-12); // true
 * ```
 */
export function xorExperiment(opts: XorOptions = {}): XorResult {
  const rng = new Random(opts.seed ?? 0);
  const hidden = opts.hidden ?? 4;
  const epochs = opts.epochs ?? 3000;
  const steps = xorSteps(opts.lr ?? 1);
  const { Y, forward, loss } = problem();
  const names = Object.keys(steps) as (keyof typeof steps)[];
  const init: Weights = [rng.normal(3, hidden), rng.normal(hidden, 1)];
  const state = new Map(names.map((k) => [k, init]));
  const ms = new Map(names.map((k) => [k, 0]));
  const maxDiffPerEpoch: number[] = [];
  for (let e = 1; e <= epochs; e++) {
    for (const k of names) {
      const t0 = performance.now();
      state.set(k, steps[k](state.get(k)!));
      ms.set(k, ms.get(k)! + performance.now() - t0);
    }
    const ref = state.get("shape")!;
    let d = 0;
    for (const k of names) {
      const W = state.get(k)!;
      d = Math.max(d, maxAbsDiff(W[0], ref[0]), maxAbsDiff(W[1], ref[1]));
    }
    maxDiffPerEpoch.push(d);
    opts.onEpoch?.(e, d);
  }
  const finalLoss = Object.fromEntries(names.map((k) => [k, loss(...state.get(k)!).get(0, 0)]));
  const predictions = Array.from(forward(state.get("autodiff")!).Yhat.toTypedArray());
  const worst = Math.max(0, ...maxDiffPerEpoch);
  const solved = predictions.every((p, i) => Math.abs(p - Y.get(i, 0)) < 0.5);
  const checks: Check[] = [
    checkScalar(
      `largest weight difference between the four forms over ${epochs} epochs`,
      worst,
      1e-12,
    ),
    {
      name: `XOR solved (predictions ${
        predictions.map((p) => p.toFixed(3)).join(", ")
      } for 0 1 1 0)`,
      maxAbs: Math.max(...predictions.map((p, i) => Math.abs(p - Y.get(i, 0)))),
      maxRel: 0,
      tol: 0.5,
      absolute: true,
      ok: solved,
      criterion: "largest |prediction - target|; pass when every one is below 0.5",
    },
  ];
  return {
    maxDiffPerEpoch,
    finalLoss,
    predictions,
    msPerEpoch: Object.fromEntries(names.map((k) => [k, ms.get(k)! / epochs])),
    checks,
    ok: checks.every((c) => c.ok),
  };
}
