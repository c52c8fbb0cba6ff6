/**
 * The comparison record every experiment prints and tests assert on.
 *
 * @module
 */
import type { Matrix } from "../matrix.ts";
import { shapeStr } from "../errors.ts";
import type { GradcheckReport } from "../gradcheck.ts";

/** One comparison of an experiment: what, how far apart, and whether it held. */
export interface Check {
  /** What was compared. */
  name: string;
  /** Largest absolute difference. */
  maxAbs: number;
  /** Largest absolute difference divided by the largest magnitude of the reference. */
  maxRel: number;
  /** The tolerance on maxRel (or on maxAbs when `absolute`). */
  tol: number;
  /** Whether the tolerance applies to maxAbs instead of maxRel. */
  absolute?: boolean;
  /** Whether it held. */
  ok: boolean;
  /** The pass criterion in words, when it is not a plain tolerance. */
  criterion?: string;
}

/**
 * Compare `actual` with `reference` entry by entry: max |a - r| and that divided
 * by max |r|; passes when the relative (or, with `absolute`, the absolute) error
 * is within `tol`.
 */
export function compare(
  name: string,
  actual: Matrix,
  reference: Matrix,
  tol: number,
  absolute = false,
): Check {
  if (actual.rows !== reference.rows || actual.cols !== reference.cols) {
    throw new TypeError(
      `Cannot compare ${name}: shapes ${shapeStr(actual)} and ${shapeStr(reference)} differ`,
    );
  }
  const a = actual.toTypedArray();
  const r = reference.toTypedArray();
  let maxAbs = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - r[i]);
    if (!(d <= maxAbs)) maxAbs = d; // NaN sticks
    scale = Math.max(scale, Math.abs(r[i]));
  }
  const maxRel = scale === 0 ? maxAbs : maxAbs / scale;
  const err = absolute ? maxAbs : maxRel;
  return { name, maxAbs, maxRel, tol, absolute, ok: err <= tol };
}

/** A check of a scalar quantity against a tolerance on its absolute value. */
export function checkScalar(name: string, value: number, tol: number): Check {
  const maxAbs = Math.abs(value);
  return { name, maxAbs, maxRel: maxAbs, tol, absolute: true, ok: maxAbs <= tol };
}

/** One line per check, for scripts: PASS/FAIL, the name, the errors and the tolerance. */
export function formatChecks(checks: readonly Check[]): string {
  return checks.map((c) =>
    `${c.ok ? "PASS" : "FAIL"}  ${c.name}: max abs ${c.maxAbs.toExponential(2)}, max rel ${
      c.maxRel.toExponential(2)
    } (${c.criterion ?? `tol ${c.tol.toExponential(1)}${c.absolute ? " abs" : " rel"}`})`
  ).join("\n");
}

/** A check from a gradcheck report: its worst entry, and the report's own criterion. */
export function gradcheckCheck(name: string, report: GradcheckReport): Check {
  return {
    name: `${name} (${report.entries.length} probes; worst: ${report.worst.what})`,
    maxAbs: report.worst.absError,
    maxRel: report.worst.relError,
    tol: report.rtol,
    ok: report.ok,
    criterion: `pass when |autodiff - fd| <= ${report.atol.toExponential(1)} + ${
      report.rtol.toExponential(1)
    } max(|autodiff|, |fd|)`,
  };
}
