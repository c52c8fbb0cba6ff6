/**
 * Document 002: the gradients of f = ||max(XW, 0) - Y||_F^2 with respect to W, X
 * and Y, by hand (Z = XW, h = max(Z, 0), G = (h - Y) o 1(Z > 0):
 * df/dW = 2 X^T G, df/dX = 2 G W^T, df/dY = 2 (Y - h)) and by autodiff.
 *
 * @module
 */
import { Matrix } from "../matrix.ts";
import { Random } from "../random.ts";
import { grad } from "../autodiff.ts";
import { gradcheck } from "../gradcheck.ts";
import { greater, matmul, mul, relu, scale, square, sub, sum, transpose } from "../ops/mod.ts";
import { type Check, checkScalar, compare, gradcheckCheck } from "./check.ts";
import { DW_DOC, DX_DOC, DY_DOC, F_DOC, W_DOC, X_DOC, Y_DOC } from "./relu_grad_data.ts";

/** f(X, W, Y) = ||max(XW, 0) - Y||_F^2 as a 1x1 matrix. */
export function reluLoss(X: Matrix, W: Matrix, Y: Matrix): Matrix {
  return sum(square(sub(relu(matmul(X, W)), Y)));
}

/** The hand-derived gradients of {@link reluLoss}. */
export function reluLossHandGrads(
  X: Matrix,
  W: Matrix,
  Y: Matrix,
): { dW: Matrix; dX: Matrix; dY: Matrix } {
  const Z = matmul(X, W);
  const h = relu(Z);
  const G = mul(sub(h, Y), greater(Z, 0));
  return {
    dW: scale(matmul(transpose(X), G), 2),
    dX: scale(matmul(G, transpose(W)), 2),
    dY: scale(sub(Y, h), 2),
  };
}

/** What {@link reluGradDocument} and {@link reluGradRandom} return. */
export interface ReluGradResult {
  /** f at the inputs. */
  f: number;
  /** Hand-derived gradients. */
  hand: { dW: Matrix; dX: Matrix; dY: Matrix };
  /** Autodiff gradients. */
  auto: { dW: Matrix; dX: Matrix; dY: Matrix };
  /** Every comparison made. */
  checks: Check[];
  /** Whether every check held. */
  ok: boolean;
}

function solve(X: Matrix, W: Matrix, Y: Matrix): Omit<ReluGradResult, "checks" | "ok"> {
  const [dX, dW, dY] = grad(reluLoss, [0, 1, 2])(X, W, Y);
  return {
    f: reluLoss(X, W, Y).get(0, 0),
    hand: reluLossHandGrads(X, W, Y),
    auto: { dW, dX, dY },
  };
}

function handVsAuto(r: Omit<ReluGradResult, "checks" | "ok">, tol: number): Check[] {
  return (["dW", "dX", "dY"] as const).map((k) =>
    compare(`${k}: hand formula vs autodiff`, r.hand[k], r.auto[k], tol)
  );
}

/**
 * Run document 002 on its printed X, W, Y: f (the document reports 99.9048), the
 * hand and autodiff gradients compared with each other (to 1e-12) and with the
 * document's printed PyTorch gradients.
 *
 * The printed inputs are rounded to 4 decimals, so our f and gradients differ
 * from PyTorch's by the effect of that rounding (at most |grad| times 5e-5 per
 * input, summed: about 1e-2 for f and 2e-3 for the gradients), plus the 4-decimal
 * rounding of the printed outputs. The document comparisons use those bounds.
 *
 * @example
 * ```ts
 * import { reluGradDocument } from "../../mod.ts";
 * const r = reluGradDocument();
 * console.log(r.f.toFixed(4), r.ok); // about 99.9048, true
 * ```
 */
export function reluGradDocument(): ReluGradResult {
  const [X, W, Y] = [X_DOC, W_DOC, Y_DOC].map((a) => Matrix.from(a));
  const r = solve(X, W, Y);
  const checks = [
    checkScalar("f vs the document's 99.9048", r.f - F_DOC, 2e-2),
    ...handVsAuto(r, 1e-12),
    compare("dW vs the document", r.auto.dW, Matrix.from(DW_DOC), 5e-3, true),
    compare("dX vs the document", r.auto.dX, Matrix.from(DX_DOC), 5e-3, true),
    compare("dY vs the document", r.auto.dY, Matrix.from(DY_DOC), 5e-3, true),
  ];
  return { ...r, checks, ok: checks.every((c) => c.ok) };
}

/** Options of {@link reluGradRandom}. */
export interface ReluGradRandomOptions {
  /** Seed (default 0). */
  seed?: number;
  /** Rows of X and Y (default 10). */
  rows?: number;
  /** Columns of X (default 4). */
  inner?: number;
  /** Columns of W and Y (default 4). */
  cols?: number;
}

/**
 * A random float64 instance: hand vs autodiff, and autodiff vs finite differences
 * (gradcheck along random directions, and entry-wise for small inputs).
 *
 * @example
 * ```ts
 * import { reluGradRandom } from "../../mod.ts";
 * console.log(reluGradRandom({ seed: 1, rows: 20, inner: 5, cols: 3 }).ok); // true
 * ```
 */
export function reluGradRandom(opts: ReluGradRandomOptions = {}): ReluGradResult {
  const rng = new Random(opts.seed ?? 0);
  const n = opts.rows ?? 10, k = opts.inner ?? 4, m = opts.cols ?? 4;
  const X = rng.normal(n, k), W = rng.normal(k, m), Y = rng.normal(n, m);
  const r = solve(X, W, Y);
  const report = gradcheck(reluLoss, [X, W, Y], { seed: opts.seed ?? 0 });
  const checks = [
    ...handVsAuto(r, 1e-12),
    gradcheckCheck("autodiff vs finite differences", report),
  ];
  return { ...r, checks, ok: checks.every((c) => c.ok) };
}
