/**
 * The singular value decomposition A = U S V^T, differentiable in reverse and
 * forward mode by closed-form rules (Townsend, "Differentiating the Singular Value
 * Decomposition", 2016), never by differentiating the iterations.
 *
 * The decomposition runs on host float64 data (lib/linalg: QR-preconditioned
 * one-sided Jacobi). It is one primitive whose output packs U, s and V into one
 * (m + 1 + n) x k matrix, unpacked by gathers, so every derivative of U, S and V
 * flows through the rules below.
 *
 * @module
 */
import type { Matrix } from "./matrix.ts";
import { shapeStr } from "./errors.ts";
import { bind, type Primitive } from "./core.ts";
import { checkMatrix, scalarLike } from "./ops/common.ts";
import { binaryRaw, unaryRaw } from "./ops/elementwise.ts";
import { mm } from "./ops/matmul.ts";
import { fromHost, hostF64 } from "./ops/host.ts";
import { gatherRaw, transposeRaw } from "./ops/structure.ts";
import { sliceRaw } from "./ops/stack.ts";
import { svdHost } from "./linalg/mod.ts";
import { diag } from "./kronecker.ts";
import { orthcomp } from "./orthcomp.ts";
import { hstack } from "./ops/stack.ts";

/** Options of {@link svd}. */
export interface SvdOptions {
  /** Square U (m x m) and V (n x n), and S m x n; thin (k = min(m, n)) by default. */
  full?: boolean;
  /**
   * Lorentzian broadening of the derivative's 1 / (s_j^2 - s_i^2) factors:
   * 1/x -> x / (x^2 + eps). 0 (the default) gives the exact derivative, as PyTorch
   * and JAX do; a small eps (e.g. 1e-12 times s_max^2) keeps gradients finite for
   * repeated or nearly repeated singular values, at the price of a bias.
   */
  eps?: number;
}

/** The result of {@link svd}: A = U S V^T. */
export interface SvdResult {
  /** Left singular vectors: m x k (thin) or m x m (full). */
  U: Matrix;
  /** Singular values on the diagonal, descending: k x k (thin) or m x n (full). */
  S: Matrix;
  /** Right singular vectors: n x k (thin) or n x n (full). */
  V: Matrix;
  /** The singular values as a k x 1 vector. */
  s: Matrix;
}

interface Params {
  m: number;
  n: number;
  eps: number;
}

const k = (p: Params) => Math.min(p.m, p.n);

function unpack(P: Matrix, p: Params): { U: Matrix; s: Matrix; V: Matrix } {
  const kk = k(p);
  return {
    U: sliceRaw(P, 0, p.m, 0, kk),
    s: sliceRaw(P, p.m, p.m + 1, 0, kk),
    V: sliceRaw(P, p.m + 1, p.m + 1 + p.n, 0, kk),
  };
}

function pack(U: Matrix, s: Matrix, V: Matrix, p: Params): Matrix {
  const kk = k(p), rows = p.m + 1 + p.n;
  const place = (a: Matrix, r0: number) => {
    const index = new Int32Array(rows * kk).fill(-1);
    for (let i = 0; i < a.rows * kk; i++) index[r0 * kk + i] = i;
    return gatherRaw(a, { index, rows, cols: kk });
  };
  return binaryRaw("add", binaryRaw("add", place(U, 0), place(s, p.m)), place(V, p.m + 1));
}

/** Relative gap under which two singular values count as equal. */
const TIE = 64 * 2 ** -52;

/**
 * F_ij = 1 / (s_j^2 - s_i^2) off the diagonal, 0 on it (broadened when eps > 0).
 * Exactly tied pairs get 0 and are listed, so the caller can check that the loss
 * does not depend on the basis inside their subspace.
 */
function fMatrix(s: Matrix, eps: number): { F: Matrix; ties: [number, number][] } {
  const s2 = unaryRaw("square", s); // 1 x k
  const D = binaryRaw("sub", s2, transposeRaw(s2)); // D_ij = s_j^2 - s_i^2
  if (eps > 0) {
    return {
      F: binaryRaw("div", D, binaryRaw("add", unaryRaw("square", D), scalarLike(s, eps))),
      ties: [],
    };
  }
  const sv = hostF64("differentiate svd", s);
  const kk = sv.length, smax = sv[0] ?? 0;
  const keep = new Float64Array(kk * kk);
  const ties: [number, number][] = [];
  for (let i = 0; i < kk; i++) {
    for (let j = 0; j < kk; j++) {
      if (i === j) continue;
      if (Math.abs(sv[i] - sv[j]) <= TIE * smax) ties.push([i, j]);
      else keep[i * kk + j] = 1;
    }
  }
  const M = fromHost(s, keep, kk, kk);
  const safe = binaryRaw("add", D, binaryRaw("sub", scalarLike(s, 1), M));
  return { F: binaryRaw("mul", M, unaryRaw("reciprocal", safe)), ties };
}

/** 1/s with zero singular values mapped to 0 (their terms are checked separately). */
function invS(s: Matrix): { inv: Matrix; zeros: number[] } {
  const sv = hostF64("differentiate svd", s);
  const smax = sv[0] ?? 0;
  const zeros: number[] = [];
  const mask = new Float64Array(sv.length);
  sv.forEach((x, i) => (x <= TIE * smax || x === 0) ? zeros.push(i) : (mask[i] = 1));
  const M = fromHost(s, mask, 1, sv.length);
  const safe = binaryRaw("add", s, binaryRaw("sub", scalarLike(s, 1), M));
  return { inv: binaryRaw("mul", M, unaryRaw("reciprocal", safe)), zeros };
}

function checkColumnsZero(X: Matrix, cols: number[], why: (j: number) => string): void {
  if (cols.length === 0) return;
  const d = hostF64("differentiate svd", X);
  let scale = 0;
  for (const x of d) scale = Math.max(scale, Math.abs(x));
  for (const j of cols) {
    for (let i = 0; i < X.rows; i++) {
      if (Math.abs(d[i * X.cols + j]) > 1e-10 * Math.max(scale, 1)) {
        throw new RangeError(`Cannot differentiate svd: ${why(j)}`);
      }
    }
  }
}

function checkTies(J: Matrix, ties: [number, number][], which: string): void {
  if (ties.length === 0) return;
  const d = hostF64("differentiate svd", J);
  let scale = 1;
  for (const x of d) scale = Math.max(scale, Math.abs(x));
  for (const [i, j] of ties) {
    if (Math.abs(d[i * J.cols + j]) > 1e-10 * scale) {
      throw new RangeError(
        `Cannot differentiate svd: singular values ${i} and ${j} are equal and the loss depends on the choice of ${which} singular vectors inside their subspace, where the SVD is not unique; pass { eps } for a broadened (approximate) gradient`,
      );
    }
  }
}

/**
 * Within a tied group the rule sees sbar only in the (arbitrary) basis it returned;
 * the exact gradient needs sbar to be the same for the whole group (e.g. sum(s),
 * ||s||^2). Otherwise, as for sum(W o (U S^2 U^T)), the answer would depend on that
 * basis, so throw rather than return it.
 */
function checkTiedValues(sb: Matrix, ties: [number, number][]): void {
  if (ties.length === 0) return;
  const d = hostF64("differentiate svd", sb);
  let scale = 1e-300;
  for (const x of d) scale = Math.max(scale, Math.abs(x));
  for (const [i, j] of ties) {
    if (Math.abs(d[i] - d[j]) > 1e-10 * scale) {
      throw new RangeError(
        `Cannot differentiate svd: singular values ${i} and ${j} are equal and the loss weighs them differently (sbar ${
          d[i].toExponential(2)
        } and ${
          d[j].toExponential(2)
        }), so its gradient depends on the choice of singular vectors inside their subspace, where the SVD is not unique; pass { eps } for a broadened (approximate) gradient`,
      );
    }
  }
}

const sub = (a: Matrix, b: Matrix) => binaryRaw("sub", a, b);
const add = (a: Matrix, b: Matrix) => binaryRaw("add", a, b);
const mul = (a: Matrix, b: Matrix) => binaryRaw("mul", a, b);

/** Thin SVD as one primitive with packed output. */
export const svdP: Primitive<Params> = {
  name: "svd",
  forward: ([A], p) => {
    const { u, s, v } = svdHost(hostF64("compute svd", A), p.m, p.n);
    const kk = k(p);
    const packed = new Float64Array((p.m + 1 + p.n) * kk);
    packed.set(u, 0);
    packed.set(s, p.m * kk);
    packed.set(v, (p.m + 1) * kk);
    return fromHost(A, packed, p.m + 1 + p.n, kk);
  },
  vjp: (g, _x, out, p) => {
    const { U, s, V } = unpack(out, p);
    const { U: Ub, s: sb, V: Vb } = unpack(g, p);
    const kk = k(p);
    const { F, ties } = fMatrix(s, p.eps);
    const { inv, zeros } = invS(s);
    const XU = mm(U, Ub, true, false);
    const XV = mm(V, Vb, true, false);
    const JU = sub(XU, transposeRaw(XU));
    const JV = sub(XV, transposeRaw(XV));
    checkTies(JU, ties, "left");
    checkTies(JV, ties, "right");
    checkTiedValues(sb, ties);
    // (F o JU) S + diag(sbar) + S (F o JV)
    const inner = add(
      add(mul(mul(F, JU), s), diag(sb)),
      mul(transposeRaw(s), mul(F, JV)),
    );
    let Abar = mm(mm(U, inner), V, false, true);
    if (p.m > kk) {
      const projU = sub(Ub, mm(U, XU)); // (I - U U^T) Ubar
      checkColumnsZero(
        projU,
        zeros,
        (j) =>
          `singular value ${j} is zero and the loss depends on the left singular vector ${j} beyond its span`,
      );
      Abar = add(Abar, mm(mul(projU, inv), V, false, true));
    }
    if (p.n > kk) {
      const projV = sub(Vb, mm(V, XV)); // (I - V V^T) Vbar
      checkColumnsZero(
        projV,
        zeros,
        (j) =>
          `singular value ${j} is zero and the loss depends on the right singular vector ${j} beyond its span`,
      );
      Abar = add(Abar, mm(mul(U, inv), projV, false, true));
    }
    return [Abar];
  },
  jvp: ([dA], _x, out, p) => {
    const { U, s, V } = unpack(out, p);
    const kk = k(p);
    const { F } = fMatrix(s, p.eps);
    const { inv } = invS(s);
    const dAV = mm(dA!, V);
    const dP = mm(U, dAV, true, false); // U^T dA V
    const dPt = transposeRaw(dP);
    const sc = transposeRaw(s);
    const ds = transposeRaw(gatherRaw(dP, { index: diagIndex(kk), rows: kk, cols: 1 }));
    let dU = mm(U, mul(F, add(mul(dP, s), mul(sc, dPt))));
    let dV = mm(V, mul(F, add(mul(sc, dP), mul(dPt, s))));
    if (p.m > kk) dU = add(dU, mul(sub(dAV, mm(U, dP)), inv));
    if (p.n > kk) dV = add(dV, mul(sub(mm(dA!, U, true, false), mm(V, dPt)), inv));
    return pack(dU, ds, dV, p);
  },
};

function diagIndex(kk: number): Int32Array {
  const index = new Int32Array(kk);
  for (let i = 0; i < kk; i++) index[i] = i * kk + i;
  return index;
}

/**
 * The singular value decomposition A = U S V^T: thin by default (k = min(m, n);
 * U m x k, S k x k diagonal, descending and non-negative, V n x k), full with
 * `{ full: true }` (U m x m, S m x n, V n x n). Sign convention: each pair of
 * singular vectors is flipped so the largest-magnitude entry of the U column is
 * positive. Differentiable (see {@link svdP}); with `full`, the extra columns come
 * from {@link orthcomp}, so losses depending on them only through
 * U_perp U_perp^T = I - U U^T get the exact gradient (PyTorch drops that term, JAX
 * raises). Runs on host float64 data; the result has A's dtype and kernel.
 *
 * @example
 * ```ts
 * import { matmul, Matrix, svd, transpose } from "../mod.ts";
 * const A = Matrix.from([[3, 0], [0, 4], [0, 0]]);
 * const { U, S, V } = svd(A);
 * console.log(S.toArray()); // [[4, 0], [0, 3]]
 * console.log(matmul(matmul(U, S), transpose(V)).toArray()); // A again
 * ```
 */
export function svd(A: Matrix, opts: SvdOptions = {}): SvdResult {
  const action = "compute svd";
  checkMatrix(action, A, "A");
  const eps = opts.eps ?? 0;
  if (typeof eps !== "number") {
    throw new TypeError(`Cannot ${action}: eps must be a number, got ${typeof eps}`);
  }
  if (opts.full && (A.rows === 0 || A.cols === 0)) {
    throw new TypeError(`Cannot ${action} of a ${shapeStr(A)} matrix with full: true: it is empty`);
  }
  if (!(eps >= 0) || !Number.isFinite(eps)) {
    throw new RangeError(`Cannot ${action}: eps must be a finite number >= 0, got ${eps}`);
  }
  const p: Params = { m: A.rows, n: A.cols, eps };
  const { U, s, V } = unpack(bind(svdP, [A], p), p);
  const sCol = transposeRaw(s);
  if (!opts.full) return { U, S: diag(s), V, s: sCol };
  const kk = k(p);
  const Uf = p.m > kk ? hstack(U, orthcomp(U)) : U;
  const Vf = p.n > kk ? hstack(V, orthcomp(V)) : V;
  const index = new Int32Array(p.m * p.n).fill(-1);
  for (let i = 0; i < kk; i++) index[i * p.n + i] = i;
  const S = gatherRaw(s, { index, rows: p.m, cols: p.n });
  return { U: Uf, S, V: Vf, s: sCol };
}
