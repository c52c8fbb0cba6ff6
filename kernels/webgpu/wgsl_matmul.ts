/**
 * WGSL for matrix products C (m x n) = op(A) op(B), A stored m x k (k x m when
 * transposed), B stored k x n (n x k when transposed). Three shaders:
 *
 * - `tiled`: for GPUs. A workgroup computes a tile of C; slices of op(A) and op(B)
 *   are staged in workgroup memory (the transpose flags only change how the loads
 *   index), and each thread keeps a small block of C in registers.
 * - `direct`: for CPU adapters (llvmpipe, lavapipe, SwiftShader), where workgroup
 *   memory is ordinary memory: the same register blocking, loading straight from the
 *   storage buffers. Barriers make llvmpipe compile a 4x4-blocked tiled shader for
 *   25 s to minutes (LLVM coroutines), and it then runs 2-3x slower than this one.
 * - `gemv`: products with one row or one column, one workgroup per output.
 *
 * @module
 */

/** Shape of the work of one workgroup of the tiled shader. */
export interface TileConfig {
  /** Rows of C per thread. */
  tm: number;
  /** Columns of C per thread (strided by `wx`, so that neighbours write neighbours). */
  tn: number;
  /** Threads per workgroup along columns and along rows. */
  wx: number;
  /** Threads per workgroup along rows. */
  wy: number;
  /** Depth of op(A) and op(B) staged per step. */
  bk: number;
}

/** The tiled shader's configuration on GPUs: 64x64 tiles of C, 4x4 per thread. */
export const GPU_TILES: TileConfig = { tm: 4, tn: 4, wx: 16, wy: 16, bk: 16 };

/** Rows and columns of C per workgroup. */
export function tileSize(cfg: TileConfig): { rows: number; cols: number } {
  return { rows: cfg.tm * cfg.wy, cols: cfg.tn * cfg.wx };
}

const HEAD = `struct P { m: u32, n: u32, k: u32, tilesN: u32, total: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;`;

const ENTRY = `fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32)`;

/** `expr(i)` for i in 0..n-1, joined. */
const each = (n: number, expr: (i: number) => string, sep = "\n  "): string =>
  Array.from({ length: n }, (_, i) => expr(i)).join(sep);

/**
 * Tiled matmul; uniform `{ m, n, k, tilesN, total }` (`tilesN` tiles across n,
 * `total` tiles in all, numbered row-major over a 2-D grid of workgroups).
 */
export function matmulTiledWgsl(
  transA: boolean,
  transB: boolean,
  cfg: TileConfig = GPU_TILES,
): string {
  const { tm, tn, wx, wy, bk } = cfg;
  const { rows: M, cols: N } = tileSize(cfg);
  const NT = wx * wy;
  // Consecutive threads load consecutive addresses in both layouts.
  const loadA = transA
    ? `let kk = e / ${M}u; let i = e % ${M}u; let r = row0 + i; let c = k0 + kk;
      As[kk * ${M}u + i] = select(0.0, A[c * p.m + r], r < p.m && c < p.k);`
    : `let i = e / ${bk}u; let kk = e % ${bk}u; let r = row0 + i; let c = k0 + kk;
      As[kk * ${M}u + i] = select(0.0, A[r * p.k + c], r < p.m && c < p.k);`;
  const loadB = transB
    ? `let j = e / ${bk}u; let kk = e % ${bk}u; let r = k0 + kk; let c = col0 + j;
      Bs[kk * ${N}u + j] = select(0.0, B[c * p.k + r], r < p.k && c < p.n);`
    : `let kk = e / ${N}u; let j = e % ${N}u; let r = k0 + kk; let c = col0 + j;
      Bs[kk * ${N}u + j] = select(0.0, B[r * p.n + c], r < p.k && c < p.n);`;
  return `${HEAD}
var<workgroup> As: array<f32, ${M * bk}>; // [kk][i]
var<workgroup> Bs: array<f32, ${N * bk}>; // [kk][j]
@compute @workgroup_size(${wx}, ${wy})
${ENTRY} {
  let t = wid.y * nwg.x + wid.x;
  if (t >= p.total) { return; }
  let row0 = (t / p.tilesN) * ${M}u;
  let col0 = (t % p.tilesN) * ${N}u;
  ${each(tm * tn, (q) => `var c${q} = 0.0;`, " ")}
  for (var k0 = 0u; k0 < p.k; k0 += ${bk}u) {
    for (var e = li; e < ${M * bk}u; e += ${NT}u) {
      ${loadA}
    }
    for (var e = li; e < ${N * bk}u; e += ${NT}u) {
      ${loadB}
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${bk}u; kk++) {
      ${each(tm, (i) => `let a${i} = As[kk * ${M}u + lid.y * ${tm}u + ${i}u];`, " ")}
      ${each(tn, (j) => `let b${j} = Bs[kk * ${N}u + lid.x + ${j * wx}u];`, " ")}
      ${each(tm * tn, (q) => `c${q} = fma(a${Math.floor(q / tn)}, b${q % tn}, c${q});`, " ")}
    }
    workgroupBarrier();
  }
  ${store(tm, tn, `row0 + lid.y * ${tm}u`, `col0 + lid.x`, wx)}
}`;
}

/** Guarded stores of the register block `c{q}` at rows r0 + i, columns c0 + j * step. */
function store(tm: number, tn: number, r0: string, c0: string, step: number): string {
  return `let sr = ${r0}; let sc = ${c0};
  ${
    each(tm * tn, (q) => {
      const i = Math.floor(q / tn), j = q % tn;
      return `if (sr + ${i}u < p.m && sc + ${j * step}u < p.n) { C[(sr + ${i}u) * p.n + sc + ${
        j * step
      }u] = c${q}; }`;
    })
  }`;
}

/** The direct shader's work per workgroup: 64x64 tiles of C, 4x4 per thread, 16x16 threads. */
export const DIRECT_TILES: TileConfig = { tm: 4, tn: 4, wx: 16, wy: 16, bk: 1 };

/** Register-blocked matmul reading the storage buffers directly; same uniform as tiled. */
export function matmulDirectWgsl(transA: boolean, transB: boolean): string {
  const { tm, tn, wx } = DIRECT_TILES;
  const { rows: M, cols: N } = tileSize(DIRECT_TILES);
  // Row and column indices are clamped so that the loop needs no bounds checks;
  // the stores are guarded instead.
  const a = (i: number) => transA ? `A[kk * p.m + ra${i}]` : `A[ra${i} * p.k + kk]`;
  const b = (j: number) => transB ? `B[cb${j} * p.k + kk]` : `B[kk * p.n + cb${j}]`;
  return `${HEAD}
@compute @workgroup_size(${wx}, ${DIRECT_TILES.wy})
${ENTRY} {
  let t = wid.y * nwg.x + wid.x;
  if (t >= p.total) { return; }
  let r = (t / p.tilesN) * ${M}u + lid.y * ${tm}u;
  let c = (t % p.tilesN) * ${N}u + lid.x;
  ${each(tm, (i) => `let ra${i} = min(r + ${i}u, p.m - 1u);`, " ")}
  ${each(tn, (j) => `let cb${j} = min(c + ${j * wx}u, p.n - 1u);`, " ")}
  ${each(tm, (i) => `var acc${i} = vec${tn}f();`, " ")}
  for (var kk = 0u; kk < p.k; kk++) {
    let b = vec${tn}f(${each(tn, b, ", ")});
    ${each(tm, (i) => `acc${i} = fma(vec${tn}f(${a(i)}), b, acc${i});`)}
  }
  ${each(tm * tn, (q) => `let c${q} = acc${Math.floor(q / tn)}[${q % tn}];`, " ")}
  ${store(tm, tn, "r", "c", wx)}
}`;
}

/** Threads per output of {@link gemvWgsl}. */
export const GEMV_THREADS = 64;

/**
 * `out[r] = sum_k X[r * xr + k * xc] * y[k * ys]`, one workgroup per output with a
 * tree reduction; uniform `{ rows, k, xr, xc, ys }`.
 */
export function gemvWgsl(): string {
  const W = GEMV_THREADS;
  return `struct P { rows: u32, k: u32, xr: u32, xc: u32, ys: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
var<workgroup> part: array<f32, ${W}>;
@compute @workgroup_size(${W})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let r = wid.y * nwg.x + wid.x;
  if (r >= p.rows) { return; }
  var s = 0.0;
  for (var k = li; k < p.k; k += ${W}u) { s = fma(X[r * p.xr + k * p.xc], y[k * p.ys], s); }
  part[li] = s;
  workgroupBarrier();
  for (var h = ${W / 2}u; h > 0u; h >>= 1u) {
    if (li < h) { part[li] += part[li + h]; }
    workgroupBarrier();
  }
  if (li == 0u) { out[r] = part[0]; }
}`;
}
