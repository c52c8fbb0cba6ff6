/**
 * Document 000: backpropagation through the SVD of a tall data matrix (9000 x 3),
 * step by step: orthogonality of U and V, the thin U's U U^T != I, the orthogonal
 * complement U_perp (9000 x 8997), the skew symmetry of U^T dU, dS = I o (U^T dA V),
 * and the gradient of a loss through U, S and V three ways: autodiff, Townsend's
 * formula written out here, and finite differences along random directions.
 *
 * @module
 */
import { Matrix } from "../matrix.ts";
import { Random } from "../random.ts";
import { grad, jvp } from "../autodiff.ts";
import { gradcheck } from "../gradcheck.ts";
import {
  abs,
  add,
  matmul,
  max,
  mul,
  reciprocal,
  scale,
  square,
  sub,
  sum,
  transpose,
} from "../ops/mod.ts";
import { diag, diagonal } from "../kronecker.ts";
import { svd } from "../svd.ts";
import { ComplementOp, orthcomp } from "../orthcomp.ts";
import { type Check, checkScalar, compare, gradcheckCheck } from "./check.ts";

const EPS = 2 ** -52;

const maxAbs = (A: Matrix) => max(abs(A)).get(0, 0);
const norm = (A: Matrix) => Math.sqrt(sum(square(A)).get(0, 0));

/** Options of {@link svdBackpropExperiment}. */
export interface SvdBackpropOptions {
  /** Seed of the data matrix and the probes (default 0). */
  seed?: number;
  /** Rows m of the data matrix (default 9000). */
  rows?: number;
  /** Columns n (default 3; m > n). */
  cols?: number;
  /** Random probes for the complement's properties (default 4). */
  probes?: number;
  /** Form U_perp and the m x m products (slow for m = 9000: minutes). */
  exact?: boolean;
  /** Progress messages (for scripts). */
  onProgress?: (message: string) => void;
}

/** What {@link svdBackpropExperiment} returns. */
export interface SvdBackpropResult {
  /** Shape of the data matrix. */
  shape: [number, number];
  /** Singular values. */
  singularValues: number[];
  /** Every check, in the document's order. */
  checks: Check[];
  /** Milliseconds of the thin SVD, the gradient, and (with exact) the m x m products. */
  timings: Record<string, number>;
  /** Whether every check held. */
  ok: boolean;
}

/**
 * Townsend's formula for Abar given Ubar, sbar (k x 1) and Vbar, written out with
 * public ops (independently of the svd primitive's own rule):
 * Abar = U [(F o (U^T Ubar - Ubar^T U)) S + diag(sbar) + S (F o (V^T Vbar - Vbar^T V))] V^T
 *        + (I - U U^T) Ubar S^-1 V^T + U S^-1 Vbar^T (I - V V^T),
 * with F_ij = 1 / (s_j^2 - s_i^2) off the diagonal and 0 on it.
 */
export function townsendAbar(
  U: Matrix,
  s: Matrix,
  V: Matrix,
  Ubar: Matrix,
  sbar: Matrix,
  Vbar: Matrix,
): Matrix {
  const k = s.rows;
  const I = Matrix.eye(k);
  const s2 = square(s);
  const D = sub(transpose(s2), s2); // D_ij = s_j^2 - s_i^2
  const F = mul(sub(1, I), reciprocal(add(D, I)));
  const S = diag(s), Sinv = diag(reciprocal(s));
  const UtUb = matmul(transpose(U), Ubar);
  const VtVb = matmul(transpose(V), Vbar);
  const inner = add(
    add(matmul(mul(F, sub(UtUb, transpose(UtUb))), S), diag(sbar)),
    matmul(S, mul(F, sub(VtVb, transpose(VtVb)))),
  );
  const projU = sub(Ubar, matmul(U, UtUb)); // (I - U U^T) Ubar without forming I - U U^T
  const projV = sub(Vbar, matmul(V, VtVb));
  return add(
    add(matmul(matmul(U, inner), transpose(V)), matmul(matmul(projU, Sinv), transpose(V))),
    matmul(matmul(U, Sinv), transpose(projV)),
  );
}

/**
 * Run document 000's walk-through and checks.
 *
 * @example
 * ```ts
 * import { svdBackpropExperiment } from "../../mod.ts";
 * const r = svdBackpropExperiment({ rows: 200, cols: 3 });
 * console.log(r.ok, r.checks.length > 10); // true true
 * ```
 */
export function svdBackpropExperiment(opts: SvdBackpropOptions = {}): SvdBackpropResult {
  const m = opts.rows ?? 9000, n = opts.cols ?? 3;
  if (!(m > n && n >= 1)) {
    throw new RangeError(`Cannot run the SVD experiment on ${m}x${n}: it needs rows > cols >= 1`);
  }
  const rng = new Random(opts.seed ?? 0);
  const timings: Record<string, number> = {};
  // Progress messages name each step as it starts and how long the previous one took.
  let stepStart = performance.now(), previous = "";
  const say = (message: string) => {
    const now = performance.now();
    if (previous) timings[previous] = now - stepStart;
    opts.onProgress?.(
      previous ? `${message} (${previous}: ${(now - stepStart).toFixed(1)} ms)` : message,
    );
    stepStart = now;
    previous = message.split(" ")[0] === "thin" ? "svd and its properties" : message;
  };
  const tol = 10 * m * EPS;
  const checks: Check[] = [];

  say(`thin SVD of a ${m}x${n} matrix`);
  const A = rng.normal(m, n);
  let t0 = performance.now();
  const { U, S, V, s } = svd(A);
  timings.svd = performance.now() - t0;
  const In = Matrix.eye(n);
  checks.push(
    checkScalar(
      "A = U S V^T (relative residual)",
      norm(sub(A, matmul(matmul(U, S), transpose(V)))) / norm(A),
      tol,
    ),
    checkScalar("U^T U = I", maxAbs(sub(matmul(transpose(U), U), In)), tol),
    checkScalar("V^T V = I", maxAbs(sub(matmul(transpose(V), V), In)), tol),
    checkScalar("V V^T = I", maxAbs(sub(matmul(V, transpose(V)), In)), tol),
  );

  // U U^T != I for the thin U: on random x, |U U^T x - x| / |x| is far from 0.
  say("complement probes");
  const probes = opts.probes ?? 4;
  let offIdentity = Infinity;
  const comp = new ComplementOp(U);
  const compT = comp.transpose();
  let cross = 0, orth = 0, complete = 0;
  for (let p = 0; p < probes; p++) {
    const x = rng.normal(m, 1);
    const UUx = matmul(U, matmul(transpose(U), x));
    offIdentity = Math.min(offIdentity, norm(sub(UUx, x)) / norm(x));
    const y = rng.normal(m - n, 1);
    const Py = comp.apply(y);
    cross = Math.max(cross, maxAbs(matmul(transpose(U), Py)) / norm(y));
    orth = Math.max(orth, Math.abs(norm(Py) - norm(y)) / norm(y));
    complete = Math.max(complete, norm(sub(add(UUx, comp.apply(compT.apply(x))), x)) / norm(x));
  }
  checks.push(
    {
      name:
        `U U^T != I for the thin U (min over ${probes} probes of |U U^T x - x| / |x|, must exceed 0.5)`,
      maxAbs: offIdentity,
      maxRel: offIdentity,
      tol: 0.5,
      absolute: true,
      ok: offIdentity > 0.5,
      criterion: "pass when it exceeds 0.5",
    },
    checkScalar(`U^T U_perp = 0 (U_perp ${m}x${m - n}, ${probes} random probes)`, cross, tol),
    checkScalar("U_perp has orthonormal columns (|U_perp y| = |y|, probes)", orth, tol),
    checkScalar("U U^T + U_perp U_perp^T = I (probes)", complete, tol),
  );
  if (opts.exact) {
    say(`forming U_perp (${m}x${m - n}) and the ${m}x${m} products`);
    t0 = performance.now();
    const P = orthcomp(U);
    const cr = maxAbs(matmul(transpose(U), P));
    const sumProj = add(matmul(U, transpose(U)), matmul(P, transpose(P)));
    const err = maxAbs(sub(sumProj, Matrix.eye(m)));
    timings.exact = performance.now() - t0;
    checks.push(
      checkScalar("U^T U_perp = 0 (formed exactly)", cr, tol),
      checkScalar(`U U^T + U_perp U_perp^T = I (formed exactly, ${m}x${m})`, err, 10 * tol),
    );
  }

  // Skew symmetry along a random direction dA, via forward mode.
  say("forward mode along a random dA");
  const dA = rng.normal(m, n);
  const [, dU] = jvp((a) => svd(a).U, [A], [dA]);
  const [, dV] = jvp((a) => svd(a).V, [A], [dA]);
  const [, ds] = jvp((a) => svd(a).s, [A], [dA]);
  const UtdU = matmul(transpose(U), dU);
  const VtdV = matmul(transpose(V), dV);
  const scaleU = Math.max(maxAbs(UtdU), 1);
  checks.push(
    checkScalar(
      "U^T dU is skew-symmetric (max |U^T dU + dU^T U| / max |U^T dU|)",
      maxAbs(add(UtdU, transpose(UtdU))) / scaleU,
      1e3 * tol,
    ),
    checkScalar("diag(U^T dU) = 0", maxAbs(diagonal(UtdU)) / scaleU, 1e3 * tol),
    checkScalar(
      "V^T dV is skew-symmetric",
      maxAbs(add(VtdV, transpose(VtdV))) / Math.max(maxAbs(VtdV), 1),
      1e3 * tol,
    ),
    compare("dS = I o (U^T dA V)", ds, diagonal(matmul(matmul(transpose(U), dA), V)), 1e3 * tol),
  );

  // A loss through U, S and V (invariant to the sign of each singular pair).
  say("gradient of a loss through U, S, V: autodiff, Townsend's formula, finite differences");
  const Wu = rng.normal(m, n), ws = rng.normal(n, 1), Wv = rng.normal(n, n);
  const loss = (a: Matrix) => {
    const r = svd(a);
    return add(add(sum(mul(Wu, square(r.U))), sum(mul(ws, r.s))), sum(mul(Wv, square(r.V))));
  };
  t0 = performance.now();
  const Abar = grad(loss)(A);
  timings.grad = performance.now() - t0;
  const formula = townsendAbar(U, s, V, scale(mul(Wu, U), 2), ws, scale(mul(Wv, V), 2));
  checks.push(compare("Abar: autodiff vs Townsend's formula", Abar, formula, 1e-10));
  const report = gradcheck(loss, [A], { directions: 3, elementwiseLimit: 0, seed: opts.seed ?? 0 });
  checks.push(gradcheckCheck("Abar vs finite differences along random directions", report));
  say("done");
  return {
    shape: [m, n],
    singularValues: Array.from(s.toTypedArray()),
    checks,
    timings,
    ok: checks.every((c) => c.ok),
  };
}
