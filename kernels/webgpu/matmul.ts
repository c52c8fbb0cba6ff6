/**
 * Which shader computes a matrix product, and with which uniforms and grid.
 *
 * @module
 */

import type { MatmulSizes } from "../../lib/kernel.ts";
import { type GpuContext, type Pass, uniform } from "./context.ts";
import {
  DIRECT_TILES,
  gemvWgsl,
  matmulDirectWgsl,
  matmulTiledWgsl,
  type TileConfig,
  tileSize,
} from "./wgsl_matmul.ts";

/**
 * The pass writing C = op(A) op(B) (m x n, m n > 0) into `c`: a matrix-vector shader
 * for one row or one column (tiles would idle 63/64 of their threads), else the
 * direct or tiled shader that `tiles` names.
 */
export function matmulPass(
  ctx: GpuContext,
  tiles: "direct" | TileConfig,
  [a, b, c]: readonly [GPUBuffer, GPUBuffer, GPUBuffer],
  { m, n, k, transA, transB }: MatmulSizes,
): Pass {
  if (n === 1 || m === 1) {
    const pipeline = ctx.pipeline("gemv", gemvWgsl);
    return n === 1
      ? { // out[i] = op(A)[i, :] . op(B)[:, 0]
        pipeline,
        uniform: uniform([m, k, transA ? 1 : k, transA ? m : 1, 1]),
        buffers: [a, b, c],
        workgroups: m,
      }
      : { // out[j] = op(B)[:, j] . op(A)[0, :]
        pipeline,
        uniform: uniform([n, k, transB ? k : 1, transB ? 1 : n, 1]),
        buffers: [b, a, c],
        workgroups: n,
      };
  }
  const direct = tiles === "direct";
  const pipeline = ctx.pipeline(
    `matmul:${direct ? "direct" : "tiled"}:${transA}:${transB}`,
    () => direct ? matmulDirectWgsl(transA, transB) : matmulTiledWgsl(transA, transB, tiles),
  );
  const { rows, cols } = tileSize(direct ? DIRECT_TILES : tiles);
  const tilesN = Math.ceil(n / cols), total = tilesN * Math.ceil(m / rows);
  return {
    pipeline,
    uniform: uniform([m, n, k, tilesN, total]),
    buffers: [a, b, c],
    workgroups: total,
  };
}
