/**
 * Check derivatives against central finite differences, as JAX's check_grads
 * does: along a few random directions (cost independent of the input size) and,
 * for small inputs, entry by entry.
 *
 * @module
 */
import { Matrix } from "./matrix.ts";
import { Random } from "./random.ts";
import { gradTolerance } from "./tolerance.ts";
import { shapeStr } from "./errors.ts";
import { jvp, type MatrixFn, vjp } from "./autodiff.ts";
import { checkMatrix } from "./ops/common.ts";
import { add, mul, scale, sub, sum } from "./ops/mod.ts";

/** Options of {@link gradcheck}. */
export interface GradcheckOptions {
  /** Number of random directions (default 3). */
  directions?: number;
  /** Also check every input entry when an argument has at most this many entries (default 64; 0 turns it off). */
  elementwiseLimit?: number;
  /** Seed of the random directions (default 0). */
  seed?: number;
  /** Relative tolerance (default from the dtype, see lib/tolerance.ts). */
  rtol?: number;
  /** Absolute tolerance (default from the dtype). */
  atol?: number;
  /** Finite-difference step, relative to max(1, |x|_max) (default eps^(1/3)). */
  step?: number;
}

/** One comparison made by {@link gradcheck}. */
export interface GradcheckEntry {
  /** What was compared, e.g. "jvp along direction 1 of argument 0". */
  what: string;
  /** The derivative from autodiff. */
  autodiff: number;
  /** The central finite difference. */
  finiteDifference: number;
  /** |autodiff - finiteDifference|. */
  absError: number;
  /** absError / max(|autodiff|, |finiteDifference|), 0 when both are 0. */
  relError: number;
  /** Whether absError <= atol + rtol max(|autodiff|, |finiteDifference|). */
  ok: boolean;
}

/** The result of {@link gradcheck}. */
export interface GradcheckReport {
  /** Whether every comparison held. */
  ok: boolean;
  /** The worst comparison (largest error relative to its tolerance). */
  worst: GradcheckEntry;
  /** Largest absolute and relative errors seen. */
  maxAbsError: number;
  /** Largest relative error seen. */
  maxRelError: number;
  /** Every comparison. */
  entries: GradcheckEntry[];
  /** The relative tolerance used. */
  rtol: number;
  /** The absolute tolerance used. */
  atol: number;
}

function checkOption(name: string, v: unknown, ok: (x: number) => boolean, want: string): void {
  if (v === undefined) return;
  if (typeof v !== "number") {
    throw new TypeError(`Cannot run gradcheck: ${name} must be a number, got ${typeof v}`);
  }
  if (!ok(v)) throw new RangeError(`Cannot run gradcheck: ${name} must be ${want}, got ${v}`);
}

function dot(a: Matrix, b: Matrix): number {
  return sum(mul(a, b)).toTypedArray()[0];
}

/**
 * Compare forward- and reverse-mode derivatives of `f` at `args` with central
 * finite differences. For random unit directions d (one argument at a time) and
 * a random output weight u it checks  <u, J d>  three ways: finite differences
 * <u, (f(x + h d) - f(x - h d)) / 2h>, forward mode <u, jvp(d)>, and reverse mode
 * <vjp(u), d>. Meant for float64; float32 gets loose tolerances.
 *
 * @example
 * ```ts
 * import { gradcheck, Matrix, Random, sum, tanh } from "../mod.ts";
 * const X = new Random(1).normal(3, 2);
 * const report = gradcheck((x) => sum(tanh(x)), [X]);
 * console.log(report.ok, report.maxRelError < 1e-6); // true true
 * ```
 */
export function gradcheck(
  f: MatrixFn,
  args: readonly Matrix[],
  opts: GradcheckOptions = {},
): GradcheckReport {
  const action = "run gradcheck";
  if (typeof f !== "function") {
    throw new TypeError(`Cannot ${action}: f must be a function, got ${typeof f}`);
  }
  if (!Array.isArray(args) || args.length === 0) {
    throw new TypeError(`Cannot ${action}: args must be a non-empty array of matrices`);
  }
  args.forEach((a, i) => checkMatrix(action, a, `argument ${i}`));
  const count = (x: number) => Number.isSafeInteger(x) && x >= 0;
  checkOption("directions", opts.directions, count, "a non-negative integer");
  checkOption("elementwiseLimit", opts.elementwiseLimit, count, "a non-negative integer");
  checkOption("rtol", opts.rtol, (x) => x >= 0 && x < Infinity, "finite and >= 0");
  checkOption("atol", opts.atol, (x) => x >= 0 && x < Infinity, "finite and >= 0");
  checkOption("step", opts.step, (x) => x > 0 && x < Infinity, "finite and > 0");
  const rng = new Random(opts.seed ?? 0);
  const y0 = f(...args);
  if (!(y0 instanceof Matrix)) throw new TypeError(`Cannot ${action}: f must return a Matrix`);
  // The least precise of the arguments and the output sets the tolerance.
  const low = [...args, y0].some((m) => m.dtype === "float32");
  const tol = gradTolerance(low ? "float32" : "float64");
  const rtol = opts.rtol ?? tol.rtol;
  const atol = opts.atol ?? tol.atol;
  const u = rng.normal(y0.rows, y0.cols, { dtype: y0.dtype, kernel: y0.kernel });
  const [, pullback] = vjp(f, ...args);
  const bars = pullback(u);
  const entries: GradcheckEntry[] = [];

  const probe = (i: number, d: Matrix, what: string) => {
    const x = args[i];
    let scaleX = 1; // a loop, not Math.max(...data), which overflows the stack for big inputs
    for (const v of x.toTypedArray()) scaleX = Math.max(scaleX, Math.abs(v));
    const h = (opts.step ?? tol.step) * scaleX;
    const at = (s: number) => {
      const moved = [...args];
      moved[i] = add(x, scale(d, s));
      return f(...moved);
    };
    const fd = dot(u, sub(at(h), at(-h))) / (2 * h);
    const tangents = args.map((a, k) => k === i ? d : Matrix.zeros(a.rows, a.cols, a));
    const fwd = dot(u, jvp(f, args, tangents)[1]);
    const rev = dot(bars[i], d);
    for (const [mode, ad] of [["jvp", fwd], ["vjp", rev]] as const) {
      const absError = Math.abs(ad - fd);
      const mag = Math.max(Math.abs(ad), Math.abs(fd));
      entries.push({
        what: `${mode} ${what} of argument ${i} (${shapeStr(x)})`,
        autodiff: ad,
        finiteDifference: fd,
        absError,
        relError: mag === 0 ? 0 : absError / mag,
        ok: absError <= atol + rtol * mag,
      });
    }
  };

  const limit = opts.elementwiseLimit ?? 64;
  args.forEach((x, i) => {
    const opt = { dtype: x.dtype, kernel: x.kernel };
    for (let k = 0; k < (opts.directions ?? 3); k++) {
      const d = rng.normal(x.rows, x.cols, opt);
      const norm = Math.sqrt(dot(d, d)) || 1;
      probe(i, scale(d, 1 / norm), `along random direction ${k + 1}`);
    }
    if (x.rows * x.cols <= limit) {
      for (let r = 0; r < x.rows; r++) {
        for (let c = 0; c < x.cols; c++) {
          const e = new Float64Array(x.rows * x.cols);
          e[r * x.cols + c] = 1;
          probe(i, Matrix.fromArray(e, x.rows, x.cols, opt), `at entry (${r}, ${c})`);
        }
      }
    }
  });
  if (entries.length === 0) {
    throw new RangeError(
      `Cannot ${action}: nothing to compare, directions is 0 and every argument has more than elementwiseLimit (${limit}) entries`,
    );
  }
  const badness = (e: GradcheckEntry) =>
    e.absError / (atol + rtol * Math.max(Math.abs(e.autodiff), Math.abs(e.finiteDifference)));
  const worst = entries.reduce((w, e) => badness(e) > badness(w) ? e : w);
  return {
    ok: entries.every((e) => e.ok),
    worst,
    maxAbsError: Math.max(...entries.map((e) => e.absError)),
    maxRelError: Math.max(...entries.map((e) => e.relError)),
    entries,
    rtol,
    atol,
  };
}
