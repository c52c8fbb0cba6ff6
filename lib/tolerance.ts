/**
 * Tolerances derived from the dtype, in one place, for tests and checks.
 *
 * @module
 */
import type { DType } from "./kernel.ts";

/** Machine epsilon of a dtype. */
export function epsOf(dtype: DType): number {
  return dtype === "float64" ? 2 ** -52 : 2 ** -23;
}

/**
 * Relative and absolute tolerances for comparing derivatives with central finite
 * differences. The finite-difference error is about eps^(2/3) of the scale (the
 * step is eps^(1/3)); we allow 1000 times that for curvature, which gives 1e-7
 * for float64 and 2.4e-2 for float32 (finite differences in float32 are crude).
 */
export function gradTolerance(dtype: DType): { rtol: number; atol: number; step: number } {
  const eps = epsOf(dtype);
  const fd = Math.cbrt(eps) ** 2;
  return { rtol: 1000 * fd, atol: 1000 * fd, step: Math.cbrt(eps) };
}
