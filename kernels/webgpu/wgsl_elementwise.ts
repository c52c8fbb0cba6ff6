/**
 * WGSL for the element-wise kernels: unary, binary with broadcasting, fill, gather,
 * transpose. Every shader reads its sizes from the uniform block at binding 0 and
 * numbers its workgroups linearly over a 2-D grid (`wid.y * nwg.x + wid.x`).
 *
 * @module
 */

import type { BinaryOp, UnaryOp } from "../../lib/kernel.ts";

/** Threads per workgroup of the 1-D element-wise shaders. */
export const ELEMENTWISE_THREADS = 256;

const HEAD = `@compute @workgroup_size(${ELEMENTWISE_THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${ELEMENTWISE_THREADS}u + li;
  if (i >= p.n) { return; }`;

/** Stable helpers; the built-in tanh of some drivers loses all precision near 0. */
const MATH = `
fn sigmoid_(x: f32) -> f32 {
  let e = exp(-abs(x));            // in (0, 1]: never overflows
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, x >= 0.0);
}
fn tanh_(x: f32) -> f32 {
  let a = abs(x);
  var r: f32;
  if (a < 0.625) {                 // Cephes tanhf polynomial: full precision near 0
    let z = a * a;
    r = ((((-5.70498872745e-3 * z + 2.06390887954e-2) * z - 5.37397155531e-2) * z
      + 1.33314422036e-1) * z - 3.33332819422e-1) * z * a + a;
  } else {
    r = 1.0 - 2.0 / (exp(2.0 * a) + 1.0);   // exp overflow gives 1
  }
  return select(-r, r, x >= 0.0);
}`;

/** WGSL expression of each unary op in `x`; the mapped type makes a missing op a type error. */
const UNARY: { readonly [P in UnaryOp]: string } = {
  neg: "-x",
  abs: "abs(x)",
  sign: "sign(x)",
  exp: "exp(x)",
  log: "log(x)",
  sqrt: "sqrt(x)",
  square: "x * x",
  reciprocal: "1.0 / x",
  tanh: "tanh_(x)",
  sigmoid: "sigmoid_(x)",
  relu: "max(x, 0.0)",
  step: "select(0.0, 1.0, x > 0.0)",
};

/** WGSL expression of each binary op in `x` and `y`. */
const BINARY: { readonly [P in BinaryOp]: string } = {
  add: "x + y",
  sub: "x - y",
  mul: "x * y",
  div: "x / y",
  max: "max(x, y)",
  min: "min(x, y)",
  gt: "select(0.0, 1.0, x > y)",
  ge: "select(0.0, 1.0, x >= y)",
  eq: "select(0.0, 1.0, x == y)",
};

const IO = `@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;`;

/** `out[i] = op(a[i])`; uniform `{ n }`. */
export function unaryWgsl(op: UnaryOp): string {
  return `${MATH}
struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
${IO}
${HEAD}
  let x = a[i];
  out[i] = ${UNARY[op]};
}`;
}

/**
 * `out[i] = op(a[ia], b[ib])`. `same`: both operands full, uniform `{ n }`. Otherwise
 * broadcasting by strides, uniform `{ n, cols, aRow, aCol, bRow, bCol }` where a
 * repeated dimension has stride 0.
 */
export function binaryWgsl(op: BinaryOp, same: boolean): string {
  const fields = same ? "n: u32" : "n: u32, cols: u32, ar: u32, ac: u32, br: u32, bc: u32";
  const load = same ? "let x = a[i];\n  let y = b[i];" : `let r = i / p.cols;
  let c = i - r * p.cols;
  let x = a[r * p.ar + c * p.ac];
  let y = b[r * p.br + c * p.bc];`;
  return `struct P { ${fields} }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${HEAD}
  ${load}
  out[i] = ${BINARY[op]};
}`;
}

/** `out[i] = value`; uniform `{ n, value: f32 }`. */
export function fillWgsl(): string {
  return `struct P { n: u32, value: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${HEAD}
  out[i] = p.value;
}`;
}

/** `out[i] = index[i] < 0 ? 0 : a[index[i]]`; uniform `{ n }`. */
export function gatherWgsl(): string {
  return `struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> index: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${HEAD}
  let j = index[i];
  out[i] = select(0.0, a[u32(max(j, 0))], j >= 0);
}`;
}

/** Side of the square tiles of {@link transposeWgsl}. */
export const TRANSPOSE_TILE = 16;

/** Tiled transpose of `rows x cols`; uniform `{ rows, cols, tilesX, total }`. */
export function transposeWgsl(): string {
  const T = TRANSPOSE_TILE;
  return `struct P { rows: u32, cols: u32, tilesX: u32, total: u32 }
@group(0) @binding(0) var<uniform> p: P;
${IO}
var<workgroup> tile: array<array<f32, ${T + 1}>, ${T}>;
@compute @workgroup_size(${T}, ${T})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) lid: vec3u) {
  let t = wid.y * nwg.x + wid.x;
  if (t >= p.total) { return; }
  let r0 = (t / p.tilesX) * ${T}u;
  let c0 = (t % p.tilesX) * ${T}u;
  if (r0 + lid.y < p.rows && c0 + lid.x < p.cols) {
    tile[lid.y][lid.x] = a[(r0 + lid.y) * p.cols + c0 + lid.x];
  }
  workgroupBarrier();
  if (c0 + lid.y < p.cols && r0 + lid.x < p.rows) {
    out[(c0 + lid.y) * p.rows + r0 + lid.x] = tile[lid.x][lid.y];
  }
}`;
}
