/**
 * Dense linear algebra on host float64 data: Householder QR, orthogonal complements
 * and the singular value decomposition, on flat row-major `Float64Array`s with the
 * sizes passed alongside (no Matrix class). These are the sequential building blocks
 * that the differentiable `qr`, `orthcomp` and `svd` ops run on.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { orthcompHost, qrHost, svdHost } from "./mod.ts";
 *
 * const a = Float64Array.from([1, 2, 3, 4, 5, 6]); // 3 x 2
 * const { s } = svdHost(a, 3, 2);
 * assert.ok(s[0] > s[1] && s[1] > 0);
 * const { q } = qrHost(a, 3, 2);
 * assert.equal(orthcompHost(q, 3, 2).length, 3); // 3 x 1
 * ```
 *
 * @module
 */

export { qrHost } from "./qr_host.ts";
export type { QrHostOptions, QrHostResult } from "./qr_host.ts";
export { orthcompHost } from "./orthcomp_host.ts";
export { svdHost } from "./svd_host.ts";
export type { SvdHostOptions, SvdHostResult } from "./svd_host.ts";
