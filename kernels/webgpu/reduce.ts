/**
 * The passes of a reduction: tree passes while segments are long, then a serial pass.
 *
 * @module
 */

import type { ReduceOp } from "../../lib/kernel.ts";
import { type GpuContext, type Pass, uniform } from "./context.ts";
import {
  IDENTITY,
  REDUCE_CHUNK,
  reduceSerialWgsl,
  reduceTreeWgsl,
  SERIAL_MAX,
  SERIAL_THREADS,
} from "./wgsl_reduce.ts";

/** Segment `s` of the input holds `len` elements at `s * segStride + e * stride`. */
export interface Segments {
  /** Number of segments (outputs). */
  segs: number;
  /** Elements per segment, at least 1. */
  len: number;
  /** Distance between consecutive elements of a segment. */
  stride: number;
  /** Distance between the first elements of consecutive segments. */
  segStride: number;
}

/**
 * Passes folding each segment of `input` into `out[s]`. Each tree pass cuts the
 * length by {@link REDUCE_CHUNK} into a temporary buffer (returned in `temps`, to free
 * after submitting); the last pass folds at most {@link SERIAL_MAX} values per thread.
 */
export function reducePasses(
  ctx: GpuContext,
  op: ReduceOp,
  input: GPUBuffer,
  out: GPUBuffer,
  segments: Segments,
): { passes: Pass[]; temps: GPUBuffer[] } {
  let { len, stride, segStride } = segments;
  const { segs } = segments, name = `reduce ${op}`;
  const id = { f32: IDENTITY[op] };
  const passes: Pass[] = [], temps: GPUBuffer[] = [];
  while (len > SERIAL_MAX) {
    const chunks = Math.ceil(len / REDUCE_CHUNK);
    const partial = ctx.buffer(segs * chunks, name);
    temps.push(partial);
    passes.push({
      pipeline: ctx.pipeline(`reduce-tree:${op}`, () => reduceTreeWgsl(op)),
      uniform: uniform([len, stride, segStride, chunks, segs * chunks, id]),
      buffers: [input, partial],
      workgroups: segs * chunks,
    });
    [input, len, stride, segStride] = [partial, chunks, 1, chunks];
  }
  passes.push({
    pipeline: ctx.pipeline(`reduce-serial:${op}`, () => reduceSerialWgsl(op)),
    uniform: uniform([segs, len, stride, segStride, id]),
    buffers: [input, out],
    workgroups: Math.ceil(segs / SERIAL_THREADS),
  });
  return { passes, temps };
}
