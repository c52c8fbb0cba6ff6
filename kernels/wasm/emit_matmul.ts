/**
 * Emits the SIMD matrix product of one dtype (GotoBLAS/BLIS layout) as two jobs:
 *
 * - `pack_<dt>`: packs all of op(A) as panels `mr` tall and all of op(B) as panels
 *   `nr` wide (zero-padded), k block by k block (depth kb), in the order the
 *   microkernel reads them; a work unit per group of {@link PACK_GROUP} panels of
 *   one k block. Each operand is packed once per product, whatever the number of
 *   work units of the product, so those can be small.
 * - `matmul_<dt>`: a work unit per block of C (mb rows x nb columns): for each k block
 *   it runs the microkernel over every mr x nr tile, reading the packed panels (a B
 *   panel stays in L1 while the rows of the block pass over it; the A block in L2).
 *
 * With the `inline` parameter set, op(B) is not packed by `pack`: each unit of `matmul` packs
 * its own columns of each k block into its thread's scratch before using them (kernel.ts
 * sets it for products of one row block, where each panel has one reader).
 *
 * With the `epilogue` parameter set, a unit then runs the element-wise program in PROGRAM
 * (program_unit, see emit_elementwise.ts) over each row of its finished block of C, whose
 * `block` slots read that row; C's blocks may then live in per-thread scratch instead of C.
 *
 * The microkernel keeps the mr x nr tile in mr * nv v128 locals and per k step loads
 * nv vectors of B and broadcasts each A value (a splat load, or one vector load and
 * lane shuffles), then multiplies and adds (relaxed-SIMD madd where enabled); the k
 * loop is unrolled twice. The float64 kernel broadcasts nothing: see {@link swapForm}. Edge tiles go through a scratch tile. The transpose flags
 * only change the strides the packing reads with. Each element of C is summed by one
 * thread in the same order whatever the thread count, so results do not depend on it.
 *
 * @module
 */
import {
  type Code,
  ctl,
  type FloatSimd,
  floatSimd,
  forRange,
  Func,
  i32,
  local,
  type ModuleBuilder,
  seq,
  v128,
} from "./asm.ts";
import { eachUnit, param, PRODUCT, scratchOf } from "./emit_common.ts";
import { CHUNK, type MatmulShape, scratchLayout } from "./layout.ts";

/** Word indices of the matmul parameters in PARAMS. */
export const MM = {
  ...PRODUCT,
  sai: 6,
  sap: 7,
  sbj: 8,
  sbp: 9,
  /** Depth of a k block. */
  kb: 10,
  /** Rows of C per work unit (a multiple of mr). */
  mb: 11,
  /** Columns of C per work unit (a multiple of nr). */
  nb: 12,
  /** Work units per row block. */
  colBlocks: 13,
  /** The packed op(B): every k block, each as panels nr wide (0 when inline). */
  packed: 14,
  /** n rounded up to a multiple of nr. */
  npad: 15,
  /**
   * Groups of {@link PACK_GROUP} panels of op(B) per k block: ceil(npad / nr / PACK_GROUP),
   * or 0 when inline (`pack` then packs op(A) only).
   */
  groups: 16,
  /** The packed op(A): every k block, each as panels mr tall. */
  apacked: 17,
  /** m rounded up to a multiple of mr. */
  mpad: 18,
  /** Groups of panels of op(A) per k block: ceil(mpad / mr / PACK_GROUP). */
  groupsA: 19,
  /** This pass's range of k (a multiple of kb, and its end): see `matmul` in kernel.ts. */
  k0: 20,
  k1: 21,
  /**
   * Nonzero: after its block of C is complete (the last pass over k), a work unit runs
   * the element-wise program in PROGRAM over the block's rows, its `block` slots
   * reading the block (see {@link productJob}).
   */
  epilogue: 22,
  /**
   * 0: C is written to `c`. Else each thread computes its blocks of C in its own
   * scratch, at cscratch + tid * cstride bytes, rows nb apart, and only the epilogue
   * reads them (kernel.ts does this for a product that nothing else reads, when it
   * takes one pass over k): such a product never goes to memory.
   */
  cscratch: 23,
  cstride: 24,
  /**
   * Nonzero: op(B) is not packed beforehand; each work unit packs its own columns of
   * each k block into its thread's scratch (`bpanels`) just before using them
   * (kernel.ts does this when there is one row block, so each panel has one reader).
   */
  inline: 25,
} as const;

/** Panels per work unit of `pack`. */
export const PACK_GROUP = 16;

/**
 * Adds the matmul functions of `dtype` with blocking `shape` to `mb` and exports its two
 * jobs; `unit` is the function index of the dtype's `program_unit` (the epilogue).
 */
export function emitMatmul(
  mb: ModuleBuilder,
  dtype: "float32" | "float64",
  fma: boolean,
  unit: number,
  shape: MatmulShape,
): void {
  const V = floatSimd(dtype, fma);
  const { mr, nv } = shape;
  const nr = nv * V.lanes;
  const suffix = dtype === "float64" ? "f64" : "f32";
  const packA = mb.add(packer(V, mr), undefined, `pack_a_panels_${suffix}`);
  const packB = mb.add(packer(V, nr), undefined, `pack_b_panels_${suffix}`);
  const kern = mb.add(
    microkernel(V, mr, nv, shape.a),
    undefined,
    `microkernel_${suffix}`,
  );
  const edge = mb.add(edgeStore(V, nr), undefined, `edge_store_${suffix}`);
  mb.add(packJob(V, packA, packB, mr, nr), `pack_${suffix}`);
  mb.add(productJob(V, kern, edge, unit, packB, mr, nr), `matmul_${suffix}`);
}

const g = local.get;

/**
 * Job `pack`: unit u packs group u % (groups + groupsA) of k block u / (groups +
 * groupsA): a group of op(B) panels, or after those a group of op(A) panels.
 */
function packJob(V: FloatSimd, packA: number, packB: number, mr: number, nr: number): Func {
  const f = new Func(["i32"]);
  const [blk, grp, pc, kcl, j0, kb, k, per, rel, u] = f.localsOf("i32", 10);
  const sh = i32.const(V.shift);
  /**
   * Packs PACK_GROUP panels `r` wide from row (or column) j0 of one operand, given by
   * its parameter words, into its packed copy at (rel * pad + j0 * kcl) * size.
   */
  const packGroup = (
    packer: number,
    r: number,
    w: { src: number; si: number; sp: number; len: number; dst: number; pad: number },
  ) =>
    ctl.call(
      packer,
      param(w.src),
      param(w.si),
      param(w.sp),
      g(j0),
      i32.min_s(i32.sub(param(w.len), g(j0)), i32.const(PACK_GROUP * r)),
      g(pc),
      g(kcl),
      i32.add(
        param(w.dst),
        i32.shl(i32.add(i32.mul(g(rel), param(w.pad)), i32.mul(g(j0), g(kcl))), sh),
      ),
    );
  f.body = seq(
    local.set(kb, param(MM.kb)),
    local.set(k, param(MM.k1)),
    local.set(per, i32.add(param(MM.groups), param(MM.groupsA))),
    eachUnit(
      f,
      u,
      local.set(blk, i32.div_u(g(u), g(per))),
      local.set(grp, i32.sub(g(u), i32.mul(g(blk), g(per)))),
      local.set(rel, i32.mul(g(blk), g(kb))),
      local.set(pc, i32.add(param(MM.k0), g(rel))),
      local.set(kcl, i32.sub(g(k), g(pc))),
      local.set(kcl, i32.min_s(g(kcl), g(kb))),
      ctl.if(
        i32.lt_s(g(grp), param(MM.groups)),
        [
          local.set(j0, i32.mul(g(grp), i32.const(PACK_GROUP * nr))),
          packGroup(packB, nr, {
            src: MM.b,
            si: MM.sbj,
            sp: MM.sbp,
            len: MM.n,
            dst: MM.packed,
            pad: MM.npad,
          }),
        ],
        [
          local.set(j0, i32.mul(i32.sub(g(grp), param(MM.groups)), i32.const(PACK_GROUP * mr))),
          packGroup(packA, mr, {
            src: MM.a,
            si: MM.sai,
            sp: MM.sap,
            len: MM.m,
            dst: MM.apacked,
            pad: MM.mpad,
          }),
        ],
      ),
    ),
  );
  return f;
}

/**
 * Job `matmul`: unit u computes the block (u / colBlocks, u % colBlocks) of C, mb x nb,
 * from the packed op(A) and op(B), one k block at a time.
 */
function productJob(
  V: FloatSimd,
  kern: number,
  edge: number,
  unit: number,
  packB: number,
  mr: number,
  nr: number,
): Func {
  const f = new Func(["i32"]);
  const [tid] = [0];
  const [c, m, n, k, kb, mbk, nb, apack, tile, ldc, cblk] = f.localsOf("i32", 11);
  const [rb, i0, mc, j0, jEnd, pc, kcl, acc, jr, w, ir, h, cptr, ap, bp, rel, u] = f.localsOf(
    "i32",
    17,
  );
  const [row, col, inline, bpanels] = f.localsOf("i32", 4);
  const sh = i32.const(V.shift);
  const lay = scratchLayout();
  f.body = seq(
    local.set(c, param(MM.c)),
    local.set(m, param(MM.m)),
    local.set(n, param(MM.n)),
    local.set(k, param(MM.k1)),
    local.set(kb, param(MM.kb)),
    local.set(mbk, param(MM.mb)),
    local.set(nb, param(MM.nb)),
    local.set(tile, i32.add(scratchOf(g(tid)), i32.const(lay.tile))),
    local.set(inline, param(MM.inline)),
    local.set(bpanels, i32.add(scratchOf(g(tid)), i32.const(lay.bpanels))),
    // C's blocks: in place (rows n apart), or in this thread's scratch (rows nb apart).
    local.set(ldc, i32.shl(ctl.select(g(n), g(nb), i32.eqz(param(MM.cscratch))), sh)),
    eachUnit(
      f,
      u,
      local.set(rb, i32.div_u(g(u), param(MM.colBlocks))),
      local.set(i0, i32.mul(g(rb), g(mbk))),
      local.set(mc, i32.sub(g(m), g(i0))),
      local.set(mc, i32.min_s(g(mc), g(mbk))),
      local.set(j0, i32.mul(i32.sub(g(u), i32.mul(g(rb), param(MM.colBlocks))), g(nb))),
      local.set(jEnd, i32.add(g(j0), g(nb))),
      local.set(jEnd, i32.min_s(g(jEnd), g(n))),
      // cblk: where element (i0, j0) of C goes
      local.set(
        cblk,
        ctl.select(
          i32.add(g(c), i32.shl(i32.add(i32.mul(g(i0), g(n)), g(j0)), sh)),
          i32.add(param(MM.cscratch), i32.mul(g(tid), param(MM.cstride))),
          i32.eqz(param(MM.cscratch)),
        ),
      ),
      forRange(
        pc,
        param(MM.k0),
        g(k),
        g(kb),
        local.set(rel, i32.sub(g(pc), param(MM.k0))),
        local.set(kcl, i32.sub(g(k), g(pc))),
        local.set(kcl, i32.min_s(g(kcl), g(kb))),
        local.set(acc, i32.ne(g(pc), i32.const(0))),
        // apack = apacked + (rel * mpad + i0 * kcl) * size: this block's rows of op(A)
        local.set(
          apack,
          i32.add(
            param(MM.apacked),
            i32.shl(i32.add(i32.mul(g(rel), param(MM.mpad)), i32.mul(g(i0), g(kcl))), sh),
          ),
        ),
        // Inline: this unit's columns of op(B) for this k block, packed now.
        ctl.if(g(inline), [
          ctl.call(
            packB,
            param(MM.b),
            param(MM.sbj),
            param(MM.sbp),
            g(j0),
            i32.sub(g(jEnd), g(j0)),
            g(pc),
            g(kcl),
            g(bpanels),
          ),
        ]),
        forRange(
          jr,
          g(j0),
          g(jEnd),
          i32.const(nr),
          local.set(w, i32.sub(g(jEnd), g(jr))),
          local.set(
            bp,
            ctl.select(
              i32.add(g(bpanels), i32.shl(i32.mul(i32.sub(g(jr), g(j0)), g(kcl)), sh)),
              i32.add(
                param(MM.packed),
                i32.shl(i32.add(i32.mul(g(rel), param(MM.npad)), i32.mul(g(jr), g(kcl))), sh),
              ),
              g(inline),
            ),
          ),
          forRange(
            ir,
            i32.const(0),
            g(mc),
            i32.const(mr),
            local.set(h, i32.sub(g(mc), g(ir))),
            local.set(ap, i32.add(g(apack), i32.shl(i32.mul(g(ir), g(kcl)), sh))),
            // cptr = cblk + ir * ldc + (jr - j0) * size
            local.set(
              cptr,
              i32.add(
                i32.add(g(cblk), i32.mul(g(ir), g(ldc))),
                i32.shl(i32.sub(g(jr), g(j0)), sh),
              ),
            ),
            ctl.if(
              i32.and(i32.ge_s(g(h), i32.const(mr)), i32.ge_s(g(w), i32.const(nr))),
              [ctl.call(kern, g(ap), g(bp), g(kcl), g(cptr), g(ldc), g(acc))],
              [
                ctl.call(
                  kern,
                  g(ap),
                  g(bp),
                  g(kcl),
                  g(tile),
                  i32.const(nr * V.size),
                  i32.const(0),
                ),
                ctl.call(
                  edge,
                  g(tile),
                  g(cptr),
                  g(ldc),
                  i32.min_s(g(h), i32.const(mr)),
                  i32.min_s(g(w), i32.const(nr)),
                  g(acc),
                ),
              ],
            ),
          ),
        ),
      ),
      // The epilogue, while the block is in cache: the program on each of its rows,
      // CHUNK columns at a time (a unit of the interpreter holds at most CHUNK).
      ctl.if(param(MM.epilogue), [
        forRange(
          row,
          i32.const(0),
          g(mc),
          i32.const(1),
          forRange(
            col,
            g(j0),
            g(jEnd),
            i32.const(CHUNK),
            ctl.call(
              unit,
              g(tid),
              i32.add(g(i0), g(row)),
              g(col),
              i32.min_s(i32.sub(g(jEnd), g(col)), i32.const(CHUNK)),
              i32.add(
                i32.add(g(cblk), i32.mul(g(row), g(ldc))),
                i32.shl(i32.sub(g(col), g(j0)), sh),
              ),
            ),
          ),
        ),
      ]),
    ),
  );
  return f;
}

/**
 * Packs `ni` rows of a strided source into panels `r` tall (zero-padded):
 * `(src, si, sp, i0, ni, p0, kc, dst)` with element (i, p) at
 * `src[(i0 + i) * si + (p0 + p) * sp]`; the panel of rows ip.. holds, for each p,
 * the r values of those rows. Full panels take one of two vector paths:
 *
 * - rows adjacent (si = 1, r values a whole number of vectors, or of half vectors as
 *   float32's 6): p in the outer loop, so the source is read along its rows and each
 *   panel is written in order;
 * - each row contiguous along p (sp = 1): blocks of lanes x lanes values are loaded
 *   as vectors from `lanes` rows and transposed with shuffles; float32's 6 rows are one
 *   such block and a pair of rows, interleaved and stored 8 bytes per step.
 *
 * A last partial panel, odd depths and other strides are copied one value at a time.
 */
function packer(V: FloatSimd, r: number): Func {
  const f = new Func(["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"]);
  const [src, si, sp, i0, ni, p0, kc, dst] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [ip, hh, p, i, rowp, s, sib, spb, full, d, panelBytes, q, off] = f.localsOf("i32", 13);
  const g = local.get;
  const sh = i32.const(V.shift);
  const L = V.lanes;
  // Whole vectors of a panel's step, and a half vector after them (float32, r = 6).
  const vecs = Math.floor((r * V.size) / 16);
  const half = (r * V.size) % 16 === 8;
  const adjacent = (r * V.size) % 16 === 0 || half;
  // Groups of L rows transposed as L x L blocks, and a last pair of rows (float32, r = 6).
  const pair = L === 4 && r % L === 2;
  const transposable = r % L === 0 || pair;
  const rows = transposable ? f.localsOf("i32", r) : [];
  const xs = transposable ? f.localsOf("v128", 2 * L) : [];
  /** Lane shuffle of two vectors by element index (0..L-1: a, L..2L-1: b). */
  const lanes = (a: Code, b: Code, idx: number[]) =>
    v128.shuffle(
      a,
      b,
      idx.flatMap((e) => Array.from({ length: V.size }, (_, t) => e * V.size + t)),
    );
  /** Transposes the L x L block in xs[0..L) (row u holds p..p+L-1) into xs[0..L). */
  function transpose(): Code {
    if (L === 2) {
      return seq(
        local.set(xs[2], lanes(g(xs[0]), g(xs[1]), [0, 2])),
        local.set(xs[3], lanes(g(xs[0]), g(xs[1]), [1, 3])),
        local.set(xs[0], g(xs[2])),
        local.set(xs[1], g(xs[3])),
      );
    }
    return seq(
      local.set(xs[4], lanes(g(xs[0]), g(xs[1]), [0, 4, 1, 5])),
      local.set(xs[5], lanes(g(xs[2]), g(xs[3]), [0, 4, 1, 5])),
      local.set(xs[6], lanes(g(xs[0]), g(xs[1]), [2, 6, 3, 7])),
      local.set(xs[7], lanes(g(xs[2]), g(xs[3]), [2, 6, 3, 7])),
      local.set(xs[0], lanes(g(xs[4]), g(xs[5]), [0, 1, 4, 5])),
      local.set(xs[1], lanes(g(xs[4]), g(xs[5]), [2, 3, 6, 7])),
      local.set(xs[2], lanes(g(xs[6]), g(xs[7]), [0, 1, 4, 5])),
      local.set(xs[3], lanes(g(xs[6]), g(xs[7]), [2, 3, 6, 7])),
    );
  }
  /**
   * Rows u and u + 1 at steps p..p+3 (float32): interleaved into (u p, u+1 p, u p+1,
   * u+1 p+1) and the same for p+2, p+3, then each step's pair stored as 8 bytes.
   */
  function pairRows(u: number): Code {
    return seq(
      local.set(xs[0], v128.load(i32.add(g(rows[u]), g(off)))),
      local.set(xs[1], v128.load(i32.add(g(rows[u + 1]), g(off)))),
      local.set(xs[2], lanes(g(xs[0]), g(xs[1]), [0, 4, 1, 5])),
      local.set(xs[3], lanes(g(xs[0]), g(xs[1]), [2, 6, 3, 7])),
      ...[0, 1, 2, 3].map((v) =>
        v128.store64_lane(g(d), g(xs[2 + (v >> 1)]), v & 1, (v * r + u) * V.size)
      ),
    );
  }
  f.body = seq(
    local.set(sib, i32.shl(g(si), sh)),
    local.set(spb, i32.shl(g(sp), sh)),
    local.set(full, i32.sub(g(ni), i32.rem_u(g(ni), i32.const(r)))),
    local.set(panelBytes, i32.mul(g(kc), i32.const(r * V.size))),
    local.set(ip, i32.const(0)),
    adjacent
      ? ctl.if(i32.eq(g(si), i32.const(1)), [
        forRange(
          p,
          i32.const(0),
          g(kc),
          i32.const(1),
          local.set(
            rowp,
            i32.add(g(src), i32.shl(i32.add(g(i0), i32.mul(i32.add(g(p0), g(p)), g(sp))), sh)),
          ),
          local.set(d, i32.add(g(dst), i32.mul(g(p), i32.const(r * V.size)))),
          forRange(
            q,
            i32.const(0),
            g(full),
            i32.const(r),
            ...Array.from({ length: vecs }, (_, j) =>
              v128.store(g(d), v128.load(g(rowp), 16 * j), 16 * j)),
            half ? v128.store64_lane(g(d), v128.load64_zero(g(rowp), 16 * vecs), 0, 16 * vecs) : [],
            local.set(rowp, i32.add(g(rowp), i32.const(r * V.size))),
            local.set(d, i32.add(g(d), g(panelBytes))),
          ),
        ),
        local.set(ip, g(full)),
      ])
      : [],
    transposable
      ? ctl.if(i32.and(i32.eq(g(sp), i32.const(1)), i32.ne(g(si), i32.const(1))), [
        forRange(
          q,
          i32.const(0),
          g(full),
          i32.const(r),
          // rows[u] = src + ((i0 + q + u) * si + p0) * size
          local.set(
            rows[0],
            i32.add(g(src), i32.shl(i32.add(i32.mul(i32.add(g(i0), g(q)), g(si)), g(p0)), sh)),
          ),
          ...rows.slice(1).map((rl, u) => local.set(rl, i32.add(g(rows[u]), g(sib)))),
          local.set(d, i32.add(g(dst), i32.mul(g(q), i32.shl(g(kc), sh)))),
          local.set(p, i32.const(0)),
          ctl.block(
            ctl.br_if(0, i32.gt_s(i32.add(g(p), i32.const(L)), g(kc))),
            ctl.loop(
              local.set(off, i32.shl(g(p), sh)),
              ...Array.from({ length: Math.floor(r / L) }, (_, t) =>
                seq(
                  ...Array.from(
                    { length: L },
                    (_, u) => local.set(xs[u], v128.load(i32.add(g(rows[t * L + u]), g(off)))),
                  ),
                  transpose(),
                  ...Array.from(
                    { length: L },
                    (_, v) => v128.store(g(d), g(xs[v]), (v * r + t * L) * V.size),
                  ),
                )),
              pair ? pairRows(r - 2) : [],
              local.set(d, i32.add(g(d), i32.const(L * r * V.size))),
              local.set(p, i32.add(g(p), i32.const(L))),
              ctl.br_if(0, i32.le_s(i32.add(g(p), i32.const(L)), g(kc))),
            ),
          ),
          // The last kc % L values of each row, one at a time.
          forRange(
            s,
            g(p),
            g(kc),
            i32.const(1),
            ...rows.map((rl, u) =>
              V.storeScalar(
                i32.add(g(d), i32.const(u * V.size)),
                V.loadScalar(i32.add(g(rl), i32.shl(g(s), sh))),
              )
            ),
            local.set(d, i32.add(g(d), i32.const(r * V.size))),
          ),
        ),
        local.set(ip, g(full)),
      ])
      : [],
    // The rest (every panel on other strides, else the partial panel), value by value.
    local.set(dst, i32.add(g(dst), i32.mul(g(ip), i32.shl(g(kc), sh)))),
    ctl.block(
      ctl.br_if(0, i32.ge_s(g(ip), g(ni))),
      ctl.loop(
        local.set(hh, i32.sub(g(ni), g(ip))),
        local.set(hh, i32.min_s(g(hh), i32.const(r))),
        // rowp = src + ((i0 + ip) * si + p0 * sp) * size
        local.set(
          rowp,
          i32.add(
            g(src),
            i32.shl(i32.add(i32.mul(i32.add(g(i0), g(ip)), g(si)), i32.mul(g(p0), g(sp))), sh),
          ),
        ),
        forRange(
          p,
          i32.const(0),
          g(kc),
          i32.const(1),
          local.set(s, g(rowp)),
          forRange(
            i,
            i32.const(0),
            g(hh),
            i32.const(1),
            V.storeScalar(i32.add(g(dst), i32.shl(g(i), sh)), V.loadScalar(g(s))),
            local.set(s, i32.add(g(s), g(sib))),
          ),
          forRange(
            i,
            g(hh),
            i32.const(r),
            i32.const(1),
            V.storeScalar(i32.add(g(dst), i32.shl(g(i), sh)), V.scalarConst(0)),
          ),
          local.set(dst, i32.add(g(dst), i32.const(r * V.size))),
          local.set(rowp, i32.add(g(rowp), g(spb))),
        ),
        local.set(ip, i32.add(g(ip), i32.const(r))),
        ctl.br_if(0, i32.lt_s(g(ip), g(ni))),
      ),
    ),
  );
  return f;
}

/** The accumulators of a microkernel tile, one k step, and the tile's rows. */
interface TileForm {
  /** Every accumulator (zeroed first). */
  accs: number[];
  /** Code for k step `s` of the unrolled pair (0 or 1). */
  step: (s: number) => Code;
  /** The v128 holding vector j of row i of the finished tile. */
  row: (i: number, j: number) => Code;
}

/**
 * `(ap, bp, kc, c, ldc, acc)`: the mr x nr tile C (row stride ldc bytes) gets
 * `Ap Bp`, added to what C holds when acc is non-zero. The k loop, unrolled twice,
 * and the store are shared; `mode` picks how a step reads A ({@link broadcastForm},
 * {@link swapForm}).
 */
export function microkernel(
  V: FloatSimd,
  mr: number,
  nv: number,
  mode: "splat" | "vector" | "swap",
): Func {
  const f = new Func(["i32", "i32", "i32", "i32", "i32", "i32"]);
  const [ap, bp, kc, c, ldc, acc] = [0, 1, 2, 3, 4, 5];
  const [end, crow] = f.localsOf("i32", 2);
  const g = local.get;
  const nr = nv * V.lanes;
  const form = mode === "swap"
    ? swapForm(V, f, mr, nv, ap, bp)
    : broadcastForm(V, f, mr, nv, ap, bp, mode === "vector");
  const zero = V.constant(0);
  const store = (add: boolean) =>
    Array.from({ length: mr }, (_, i) =>
      seq(
        ...Array.from({ length: nv }, (_, j) =>
          v128.store(
            g(crow),
            add ? V.add(v128.load(g(crow), j * 16), form.row(i, j)) : form.row(i, j),
            j * 16,
          )),
        local.set(crow, i32.add(g(crow), g(ldc))),
      ));
  f.body = seq(
    ...form.accs.map((cl) => local.set(cl, zero)),
    // end = ap + (kc & ~1) * mr * size: two steps per iteration, then one odd step.
    local.set(end, i32.add(g(ap), i32.mul(i32.and(g(kc), i32.const(-2)), i32.const(mr * V.size)))),
    ctl.block(
      ctl.br_if(0, i32.ge_u(g(ap), g(end))),
      ctl.loop(
        form.step(0),
        form.step(1),
        local.set(ap, i32.add(g(ap), i32.const(2 * mr * V.size))),
        local.set(bp, i32.add(g(bp), i32.const(2 * nr * V.size))),
        ctl.br_if(0, i32.lt_u(g(ap), g(end))),
      ),
    ),
    ctl.if(i32.and(g(kc), i32.const(1)), [form.step(0)]),
    local.set(crow, g(c)),
    ctl.if(g(acc), store(true), store(false)),
  );
  return f;
}

/**
 * The tile as mr x nv accumulators: per k step, nv vectors of B and each A value
 * broadcast to all lanes (a splat load, or with `vectorA` one vector load and lane
 * shuffles).
 */
function broadcastForm(
  V: FloatSimd,
  f: Func,
  mr: number,
  nv: number,
  ap: number,
  bp: number,
  vectorA: boolean,
): TileForm {
  const cs = Array.from({ length: mr }, () => f.localsOf("v128", nv));
  const bs = f.localsOf("v128", nv);
  const [av, sp] = f.localsOf("v128", 2);
  const g = local.get;
  const nr = nv * V.lanes;
  const lanePattern = (l: number) =>
    Array.from({ length: 16 }, (_, i) => l * V.size + (i % V.size));
  return {
    accs: cs.flat(),
    step: (s) =>
      seq(
        ...bs.map((bl, j) => local.set(bl, v128.load(g(bp), (s * nr + j * V.lanes) * V.size))),
        ...cs.flatMap((row, i) => {
          const lane = i % V.lanes;
          const splat = vectorA
            ? seq(
              lane === 0 ? local.set(av, v128.load(g(ap), (s * mr + i) * V.size)) : [],
              local.set(sp, v128.shuffle(g(av), g(av), lanePattern(lane))),
            )
            : local.set(sp, V.loadSplat(g(ap), (s * mr + i) * V.size));
          return [splat, ...row.map((cl, j) => local.set(cl, V.madd(g(sp), g(bs[j]), g(cl))))];
        }),
      ),
    row: (i, j) => g(cs[i][j]),
  };
}

/** `(tile, c, ldc, h, w, acc)`: copies the h x w corner of a tile nr wide into C. */
function edgeStore(V: FloatSimd, nr: number): Func {
  const f = new Func(["i32", "i32", "i32", "i32", "i32", "i32"]);
  const [tile, c, ldc, h, w, acc] = [0, 1, 2, 3, 4, 5];
  const [i, j, src, dst] = f.localsOf("i32", 4);
  const g = local.get;
  const sh = i32.const(V.shift);
  f.body = forRange(
    i,
    i32.const(0),
    g(h),
    i32.const(1),
    local.set(src, i32.add(g(tile), i32.mul(g(i), i32.const(nr * V.size)))),
    local.set(dst, i32.add(g(c), i32.mul(g(i), g(ldc)))),
    forRange(
      j,
      i32.const(0),
      g(w),
      i32.const(1),
      ctl.if(
        g(acc),
        [
          V.storeScalar(
            i32.add(g(dst), i32.shl(g(j), sh)),
            V.scalarAdd(
              V.loadScalar(i32.add(g(dst), i32.shl(g(j), sh))),
              V.loadScalar(i32.add(g(src), i32.shl(g(j), sh))),
            ),
          ),
        ],
        [V.storeScalar(
          i32.add(g(dst), i32.shl(g(j), sh)),
          V.loadScalar(i32.add(g(src), i32.shl(g(j), sh))),
        )],
      ),
    ),
  );
  return f;
}

/**
 * The `swap` form of {@link microkernel} (two lanes, mr even): no broadcast. Per k step, for each
 * pair of rows p it loads a = (A[2p], A[2p+1]) and forms s = (A[2p+1], A[2p]); with
 * b = (B[2j], B[2j+1]) it adds a * b to d[p][j], which holds (C[2p][2j], C[2p+1][2j+1]),
 * and s * b to x[p][j], which holds (C[2p+1][2j], C[2p][2j+1]). Each lane is one
 * element of C summed in the same order as the splat form, so results are identical.
 * Row 2p of the tile is (d lane 0, x lane 1) and row 2p + 1 is (x lane 0, d lane 1).
 */
function swapForm(
  V: FloatSimd,
  f: Func,
  mr: number,
  nv: number,
  ap: number,
  bp: number,
): TileForm {
  if (V.lanes !== 2 || mr % 2 !== 0) {
    throw new Error(`the swap microkernel needs two lanes and an even mr, got ${V.lanes}, ${mr}`);
  }
  const pairs = mr / 2;
  const ds = Array.from({ length: pairs }, () => f.localsOf("v128", nv));
  const xs = Array.from({ length: pairs }, () => f.localsOf("v128", nv));
  const bs = f.localsOf("v128", nv);
  const [av, sa] = f.localsOf("v128", 2);
  const g = local.get;
  const nr = nv * 2;
  const swap = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
  const lo = [0, 1, 2, 3, 4, 5, 6, 7, 24, 25, 26, 27, 28, 29, 30, 31];
  const hi = [16, 17, 18, 19, 20, 21, 22, 23, 8, 9, 10, 11, 12, 13, 14, 15];
  return {
    accs: [...ds.flat(), ...xs.flat()],
    step: (s) =>
      seq(
        ...ds.flatMap((drow, p) => [
          local.set(av, v128.load(g(ap), (s * mr + 2 * p) * 8)),
          local.set(sa, v128.shuffle(g(av), g(av), swap)),
          ...drow.flatMap((dl, j) => [
            p === 0 ? local.set(bs[j], v128.load(g(bp), (s * nr + j * 2) * 8)) : [],
            local.set(dl, V.madd(g(av), g(bs[j]), g(dl))),
            local.set(xs[p][j], V.madd(g(sa), g(bs[j]), g(xs[p][j]))),
          ]),
        ]),
      ),
    row: (i, j) => v128.shuffle(g(ds[i >> 1][j]), g(xs[i >> 1][j]), i % 2 === 0 ? lo : hi),
  };
}
