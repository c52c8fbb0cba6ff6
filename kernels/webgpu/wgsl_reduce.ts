/**
 * WGSL for reductions over segments: segment `s` holds `len` elements at
 * `s * segStride + e * stride`. Long segments go through tree passes (each workgroup
 * folds a chunk of {@link REDUCE_CHUNK} elements into one partial); a final serial
 * pass, one thread per segment, folds at most {@link SERIAL_MAX} partials.
 *
 * @module
 */

import type { ReduceOp } from "../../lib/kernel.ts";

const THREADS = 256;
const ITEMS = 4;
/** Elements one workgroup of the tree pass folds. */
export const REDUCE_CHUNK: number = THREADS * ITEMS;
/** Longest segment the serial pass folds (one thread loops over it). */
export const SERIAL_MAX = 256;

const COMBINE: { readonly [P in ReduceOp]: string } = {
  sum: "u + v",
  max: "max(u, v)",
};

/** Identity of each reduction, passed to the shaders as a uniform (WGSL has no -inf literal). */
export const IDENTITY: { readonly [P in ReduceOp]: number } = {
  sum: 0,
  max: -Infinity,
};

const HEAD = `@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;`;

/**
 * Tree pass: uniform `{ len, stride, segStride, chunks, total, identity: f32 }`;
 * workgroup `w` folds chunk `w % chunks` of segment `w / chunks` into `out[w]`.
 */
export function reduceTreeWgsl(op: ReduceOp): string {
  return `struct P { len: u32, stride: u32, segStride: u32, chunks: u32, total: u32, identity: f32 }
@group(0) @binding(0) var<uniform> p: P;
${HEAD}
var<workgroup> part: array<f32, ${THREADS}>;
fn combine(u: f32, v: f32) -> f32 { return ${COMBINE[op]}; }
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let w = wid.y * nwg.x + wid.x;
  if (w >= p.total) { return; }
  let s = w / p.chunks;
  let base = s * p.segStride;
  let first = (w - s * p.chunks) * ${REDUCE_CHUNK}u;
  var acc = p.identity;
  for (var q = 0u; q < ${ITEMS}u; q++) {
    let e = first + q * ${THREADS}u + li;
    if (e < p.len) { acc = combine(acc, a[base + e * p.stride]); }
  }
  part[li] = acc;
  workgroupBarrier();
  for (var h = ${THREADS / 2}u; h > 0u; h >>= 1u) {
    if (li < h) { part[li] = combine(part[li], part[li + h]); }
    workgroupBarrier();
  }
  if (li == 0u) { out[w] = part[0]; }
}`;
}

/** Serial pass: uniform `{ segs, len, stride, segStride, identity: f32 }`; thread `s` writes `out[s]`. */
export function reduceSerialWgsl(op: ReduceOp): string {
  return `struct P { segs: u32, len: u32, stride: u32, segStride: u32, identity: f32 }
@group(0) @binding(0) var<uniform> p: P;
${HEAD}
fn combine(u: f32, v: f32) -> f32 { return ${COMBINE[op]}; }
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let s = (wid.y * nwg.x + wid.x) * ${THREADS}u + li;
  if (s >= p.segs) { return; }
  var acc = p.identity;
  for (var e = 0u; e < p.len; e++) { acc = combine(acc, a[s * p.segStride + e * p.stride]); }
  out[s] = acc;
}`;
}

/** Threads per workgroup of the serial pass. */
export const SERIAL_THREADS = THREADS;
