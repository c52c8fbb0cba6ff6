/**
 * Singular value decomposition of an upper bidiagonal matrix by implicit QR
 * iterations, after LAPACK's dbdsqr (Demmel and Kahan, "Accurate singular values of
 * bidiagonal matrices", 1990): shifted QR sweeps, switching to the zero-shift sweep
 * when a shift would spoil the relative accuracy of small singular values, chasing the
 * bulge from the larger end of each unreduced block towards the smaller one, with
 * the relative-accuracy convergence tests. Two departures, both for speed: shifts are
 * snapped to singular values computed beforehand (see {@link bidiagonalQr}), and the
 * rotations of a sweep are applied to each row of the row-major U and V in one pass
 * (dlasr's work, but reading and writing each entry once per sweep, four rows at a
 * time). Internal: not part of the public API.
 *
 * @module
 */

const EPS = Number.EPSILON;
/** Smallest positive normal number (LAPACK's safe minimum). */
const UNFL = 2 ** -1022;
/**
 * Relative convergence tolerance: an off-diagonal entry is set to zero once it is
 * below TOL times the size of its neighbours. dbdsqr takes TOLMUL = max(10, min(100,
 * eps^(-1/8))), 90 in double precision; 30 (within that range) keeps the backward error
 * on clustered spectra about 4 times smaller (at most about 0.5 max(m, n) eps in the
 * tests), for about 6% more rotations than 90.
 */
const TOL = 30 * EPS;
const MAXITR = 6;
/** Bounds for squaring in {@link givens} without overflow or harmful underflow. */
const RTMIN = Math.sqrt(UNFL);
const RTMAX = Math.sqrt(Number.MAX_VALUE / 2);

/**
 * Computes B = Ub diag(|d|) Vb^T for the n x n upper bidiagonal B with diagonal `d` and
 * superdiagonal `e` (both overwritten: `d` ends as the singular values, unsorted and
 * possibly negative, `e` as zeros), and accumulates U <- U Ub and V <- V Vb, where
 * `u` (`uRows` x `uLd`, row-major) and `v` (n x n, row-major) hold their first n
 * columns in the leading n entries of each row. Returns false if the iteration did not
 * converge (6 n^2 inner steps, as LAPACK; never observed), true otherwise. Negative
 * entries of `d` are left to the caller, with the matching column of V.
 *
 * Applying the rotations to U and V is nearly all the cost, so the singular values
 * are computed first without them (O(n^2)), then serve as shifts for the run with
 * them: an exact singular value as the shift deflates the end of the block in one
 * sweep in exact arithmetic, where the usual shift from the trailing 2 x 2 block needs
 * about 1.6 sweeps per singular value. In floating point such a "perfect" shift
 * sometimes leaves the end off-diagonal entry a little above the tolerance; the next
 * sweep on that block then takes the usual shift. This cuts the rotations about 25%.
 */
export function bidiagonalQr(
  d: Float64Array,
  e: Float64Array,
  u: Float64Array,
  uRows: number,
  uLd: number,
  v: Float64Array,
): boolean {
  const n = d.length;
  if (n <= 1) return true;
  const dd = d.slice();
  if (!iterate(dd, e.slice(), [], [], undefined)) return false;
  const known = dd.map(Math.abs).sort();
  return iterate(d, e, rowViews(u, uRows, uLd), rowViews(v, n, n), known);
}

/**
 * The QR iterations of {@link bidiagonalQr}, rotating the rows `uViews` and `vViews`
 * (none for values only); `known`, if given, holds approximate singular values
 * (ascending) to snap shifts to.
 */
function iterate(
  d: Float64Array,
  e: Float64Array,
  uViews: Float64Array[],
  vViews: Float64Array[],
  known: Float64Array | undefined,
): boolean {
  const n = d.length;
  // Rotations of one sweep: (rc, rs) act on V, (lc, ls) on U.
  const rc = new Float64Array(n);
  const rs = new Float64Array(n);
  const lc = new Float64Array(n);
  const ls = new Float64Array(n);
  const g = new Float64Array(3); // givens() output: c, s, r
  const sv = new Float64Array(6); // svd2() output

  let smax = 0;
  for (let i = 0; i < n; i++) smax = Math.max(smax, Math.abs(d[i]));
  for (let i = 0; i < n - 1; i++) smax = Math.max(smax, Math.abs(e[i]));
  // Estimate of the smallest singular value (for the absolute threshold).
  let sminoa = Math.abs(d[0]);
  if (sminoa !== 0) {
    let mu = sminoa;
    for (let i = 1; i < n; i++) {
      mu = Math.abs(d[i]) * (mu / (mu + Math.abs(e[i - 1])));
      sminoa = Math.min(sminoa, mu);
      if (sminoa === 0) break;
    }
  }
  sminoa /= Math.sqrt(n);
  const thresh = Math.max(TOL * sminoa, MAXITR * (n * (n * UNFL)));

  const maxItDivN = MAXITR * n;
  let iterDivN = 0;
  let iter = -1;
  let oldLl = -1;
  let oldHi = -1;
  let idir = 0;
  let hi = n - 1; // last index of the unconverged part
  // The block [snapLl, snapHi] had a snapped shift in the last sweep (-1: none).
  let snapLl = -1;
  let snapHi = -1;
  outer: while (hi > 0) {
    if (iter >= n) {
      iter -= n;
      iterDivN++;
      if (iterDivN >= maxItDivN) return false;
    }
    // Find the unreduced block d[ll..hi] (e[ll..hi-1] nonzero).
    smax = Math.abs(d[hi]);
    let ll = 0;
    for (let l = hi - 1; l >= 0; l--) {
      const abss = Math.abs(d[l]);
      const abse = Math.abs(e[l]);
      if (abse <= thresh) {
        e[l] = 0;
        if (l === hi - 1) {
          hi--; // the bottom singular value converged
          continue outer;
        }
        ll = l + 1;
        break;
      }
      smax = Math.max(smax, abss, abse);
    }
    if (ll === hi - 1) {
      // 2 x 2 block: solve it directly.
      svd2(d[hi - 1], e[hi - 1], d[hi], sv);
      d[hi - 1] = sv[1];
      e[hi - 1] = 0;
      d[hi] = sv[0];
      rotateOne(vViews, hi - 1, sv[3], sv[2]);
      rotateOne(uViews, hi - 1, sv[5], sv[4]);
      hi -= 2;
      continue;
    }
    // On a new block, chase the bulge from the larger end towards the smaller.
    if (ll > oldHi || hi < oldLl) idir = Math.abs(d[ll]) >= Math.abs(d[hi]) ? 1 : 2;
    // Convergence tests (relative accuracy), and an estimate smin of the smallest
    // singular value of the block.
    let smin: number;
    if (idir === 1) {
      if (Math.abs(e[hi - 1]) <= TOL * Math.abs(d[hi])) {
        e[hi - 1] = 0;
        continue;
      }
      let mu = Math.abs(d[ll]);
      smin = mu;
      for (let l = ll; l < hi; l++) {
        if (Math.abs(e[l]) <= TOL * mu) {
          e[l] = 0;
          continue outer;
        }
        mu = Math.abs(d[l + 1]) * (mu / (mu + Math.abs(e[l])));
        smin = Math.min(smin, mu);
      }
    } else {
      if (Math.abs(e[ll]) <= TOL * Math.abs(d[ll])) {
        e[ll] = 0;
        continue;
      }
      let mu = Math.abs(d[hi]);
      smin = mu;
      for (let l = hi - 1; l >= ll; l--) {
        if (Math.abs(e[l]) <= TOL * mu) {
          e[l] = 0;
          continue outer;
        }
        mu = Math.abs(d[l]) * (mu / (mu + Math.abs(e[l])));
        smin = Math.min(smin, mu);
      }
    }
    oldLl = ll;
    oldHi = hi;
    // The shift: zero if shifting would spoil relative accuracy, else the smaller
    // singular value of the trailing (leading, for idir 2) 2 x 2 block.
    let shift = 0;
    if (n * TOL * (smin / smax) > Math.max(EPS, 0.01 * TOL)) {
      let sll: number;
      if (idir === 1) {
        sll = Math.abs(d[ll]);
        shift = svd2Min(d[hi - 1], e[hi - 1], d[hi]);
      } else {
        sll = Math.abs(d[hi]);
        shift = svd2Min(d[ll], e[ll], d[ll + 1]);
      }
      if (known !== undefined) {
        if (ll === snapLl && hi === snapHi) {
          snapLl = snapHi = -1; // a snapped sweep did not deflate: the usual shift once
        } else {
          shift = nearest(known, shift);
          snapLl = ll;
          snapHi = hi;
        }
      }
      if (sll > 0 && (shift / sll) ** 2 < EPS) shift = 0;
    }
    iter += hi - ll;
    const count = hi - ll; // rotations per side in this sweep
    if (shift === 0) {
      if (idir === 1) {
        // Zero-shift sweep, top to bottom.
        let cs = 1;
        let oldcs = 1;
        let oldsn = 0;
        for (let i = ll; i < hi; i++) {
          givens(d[i] * cs, e[i], g);
          cs = g[0];
          const sn = g[1];
          const r = g[2];
          if (i > ll) e[i - 1] = oldsn * r;
          givens(oldcs * r, d[i + 1] * sn, g);
          oldcs = g[0];
          oldsn = g[1];
          d[i] = g[2];
          const k = i - ll;
          rc[k] = cs;
          rs[k] = sn;
          lc[k] = oldcs;
          ls[k] = oldsn;
        }
        const h = d[hi] * cs;
        d[hi] = h * oldcs;
        e[hi - 1] = h * oldsn;
        rotateForward(vViews, ll, count, rc, rs);
        rotateForward(uViews, ll, count, lc, ls);
        if (Math.abs(e[hi - 1]) <= thresh) e[hi - 1] = 0;
      } else {
        // Zero-shift sweep, bottom to top.
        let cs = 1;
        let oldcs = 1;
        let oldsn = 0;
        for (let i = hi; i > ll; i--) {
          givens(d[i] * cs, e[i - 1], g);
          cs = g[0];
          const sn = g[1];
          const r = g[2];
          if (i < hi) e[i] = oldsn * r;
          givens(oldcs * r, d[i - 1] * sn, g);
          oldcs = g[0];
          oldsn = g[1];
          d[i] = g[2];
          const k = i - ll - 1;
          rc[k] = cs;
          rs[k] = -sn;
          lc[k] = oldcs;
          ls[k] = -oldsn;
        }
        const h = d[ll] * cs;
        d[ll] = h * oldcs;
        e[ll] = h * oldsn;
        rotateBackward(vViews, ll, count, lc, ls);
        rotateBackward(uViews, ll, count, rc, rs);
        if (Math.abs(e[ll]) <= thresh) e[ll] = 0;
      }
    } else if (idir === 1) {
      // Shifted sweep, top to bottom.
      let f = (Math.abs(d[ll]) - shift) * ((d[ll] >= 0 ? 1 : -1) + shift / d[ll]);
      let gg = e[ll];
      for (let i = ll; i < hi; i++) {
        givens(f, gg, g);
        const cosr = g[0];
        const sinr = g[1];
        if (i > ll) e[i - 1] = g[2];
        f = cosr * d[i] + sinr * e[i];
        e[i] = cosr * e[i] - sinr * d[i];
        gg = sinr * d[i + 1];
        d[i + 1] = cosr * d[i + 1];
        givens(f, gg, g);
        const cosl = g[0];
        const sinl = g[1];
        d[i] = g[2];
        f = cosl * e[i] + sinl * d[i + 1];
        d[i + 1] = cosl * d[i + 1] - sinl * e[i];
        if (i < hi - 1) {
          gg = sinl * e[i + 1];
          e[i + 1] = cosl * e[i + 1];
        }
        const k = i - ll;
        rc[k] = cosr;
        rs[k] = sinr;
        lc[k] = cosl;
        ls[k] = sinl;
      }
      e[hi - 1] = f;
      rotateForward(vViews, ll, count, rc, rs);
      rotateForward(uViews, ll, count, lc, ls);
      if (Math.abs(e[hi - 1]) <= thresh) e[hi - 1] = 0;
    } else {
      // Shifted sweep, bottom to top.
      let f = (Math.abs(d[hi]) - shift) * ((d[hi] >= 0 ? 1 : -1) + shift / d[hi]);
      let gg = e[hi - 1];
      for (let i = hi; i > ll; i--) {
        givens(f, gg, g);
        const cosr = g[0];
        const sinr = g[1];
        if (i < hi) e[i] = g[2];
        f = cosr * d[i] + sinr * e[i - 1];
        e[i - 1] = cosr * e[i - 1] - sinr * d[i];
        gg = sinr * d[i - 1];
        d[i - 1] = cosr * d[i - 1];
        givens(f, gg, g);
        const cosl = g[0];
        const sinl = g[1];
        d[i] = g[2];
        f = cosl * e[i - 1] + sinl * d[i - 1];
        d[i - 1] = cosl * d[i - 1] - sinl * e[i - 1];
        if (i > ll + 1) {
          gg = sinl * e[i - 2];
          e[i - 2] = cosl * e[i - 2];
        }
        const k = i - ll - 1;
        rc[k] = cosr;
        rs[k] = -sinr;
        lc[k] = cosl;
        ls[k] = -sinl;
      }
      e[ll] = f;
      if (Math.abs(e[ll]) <= thresh) e[ll] = 0;
      rotateBackward(vViews, ll, count, lc, ls);
      rotateBackward(uViews, ll, count, rc, rs);
    }
  }
  return true;
}

/**
 * The entry of the ascending `known` nearest to `x` if within x / 2 of it (else x).
 */
function nearest(known: Float64Array, x: number): number {
  let lo = 0;
  let hi = known.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (known[mid] < x) lo = mid;
    else hi = mid;
  }
  const k = Math.abs(known[lo] - x) <= Math.abs(known[hi] - x) ? known[lo] : known[hi];
  return Math.abs(k - x) <= 0.5 * x ? k : x;
}

/**
 * A plane rotation with [c s; -s c] [f; g] = [r; 0], c >= 0 and r carrying the sign
 * of f (LAPACK 3.10's dlartg), written to out = [c, s, r].
 */
export function givens(f: number, g: number, out: Float64Array): void {
  if (g === 0) {
    out[0] = 1;
    out[1] = 0;
    out[2] = f;
    return;
  }
  if (f === 0) {
    out[0] = 0;
    out[1] = g > 0 ? 1 : -1;
    out[2] = Math.abs(g);
    return;
  }
  const f1 = Math.abs(f);
  const g1 = Math.abs(g);
  if (f1 > RTMIN && f1 < RTMAX && g1 > RTMIN && g1 < RTMAX) {
    const dd = Math.sqrt(f * f + g * g);
    const r = f > 0 ? dd : -dd;
    out[0] = f1 / dd;
    out[1] = g / r;
    out[2] = r;
    return;
  }
  const w = Math.min(Number.MAX_VALUE, Math.max(UNFL, f1, g1));
  const fs = f / w;
  const gs = g / w;
  const dd = Math.sqrt(fs * fs + gs * gs);
  const r = f > 0 ? dd : -dd;
  out[0] = Math.abs(fs) / dd;
  out[1] = gs / r;
  out[2] = r * w;
}

/** The smaller singular value of [f g; 0 h] (LAPACK's dlas2), accurate to a few ulps. */
export function svd2Min(f: number, g: number, h: number): number {
  const fa = Math.abs(f);
  const ga = Math.abs(g);
  const ha = Math.abs(h);
  const fhmn = Math.min(fa, ha);
  const fhmx = Math.max(fa, ha);
  if (fhmn === 0) return 0;
  if (ga < fhmx) {
    const as = 1 + fhmn / fhmx;
    const at = (fhmx - fhmn) / fhmx;
    const au = (ga / fhmx) ** 2;
    const c = 2 / (Math.sqrt(as * as + au) + Math.sqrt(at * at + au));
    return fhmn * c;
  }
  const au = fhmx / ga;
  if (au === 0) return (fhmn * fhmx) / ga;
  const as = 1 + fhmn / fhmx;
  const at = (fhmx - fhmn) / fhmx;
  const c = 1 / (Math.sqrt(1 + (as * au) ** 2) + Math.sqrt(1 + (at * au) ** 2));
  const smin = (fhmn * c) * au;
  return smin + smin;
}

/**
 * SVD of the 2 x 2 upper triangular [f g; 0 h] (LAPACK's dlasv2):
 * [csl snl; -snl csl] [f g; 0 h] [csr -snr; snr csr] = [ssmax 0; 0 ssmin], written
 * to out = [ssmin, ssmax, snr, csr, snl, csl]; |ssmax| >= |ssmin|, signed.
 */
export function svd2(f: number, g: number, h: number, out: Float64Array): void {
  let ft = f;
  let fa = Math.abs(ft);
  let ht = h;
  let ha = Math.abs(h);
  // pmax: which entry is largest in magnitude (1: f, 2: g, 3: h).
  let pmax = 1;
  const swap = ha > fa;
  if (swap) {
    pmax = 3;
    [ft, ht] = [ht, ft];
    [fa, ha] = [ha, fa];
  }
  const gt = g;
  const ga = Math.abs(gt);
  let ssmin: number;
  let ssmax: number;
  let clt: number;
  let crt: number;
  let slt: number;
  let srt: number;
  if (ga === 0) {
    ssmin = ha;
    ssmax = fa;
    clt = 1;
    crt = 1;
    slt = 0;
    srt = 0;
  } else {
    let gasmal = true;
    ssmin = 0;
    ssmax = 0;
    clt =
      crt =
      slt =
      srt =
        0;
    if (ga > fa) {
      pmax = 2;
      if (fa / ga < EPS) {
        // Very large g.
        gasmal = false;
        ssmax = ga;
        ssmin = ha > 1 ? fa / (ga / ha) : (fa / ga) * ha;
        clt = 1;
        slt = ht / gt;
        srt = 1;
        crt = ft / gt;
      }
    }
    if (gasmal) {
      const dd = fa - ha;
      let l = dd === fa ? 1 : dd / fa;
      const m = gt / ft;
      let t = 2 - l;
      const mm = m * m;
      const tt = t * t;
      const s = Math.sqrt(tt + mm);
      const r = l === 0 ? Math.abs(m) : Math.sqrt(l * l + mm);
      const a = 0.5 * (s + r);
      ssmin = ha / a;
      ssmax = fa * a;
      if (mm === 0) {
        // m is very tiny.
        if (l === 0) t = sign(2, ft) * sign(1, gt);
        else t = gt / sign(dd, ft) + m / t;
      } else {
        t = (m / (s + t) + m / (r + l)) * (1 + a);
      }
      l = Math.sqrt(t * t + 4);
      crt = 2 / l;
      srt = t / l;
      clt = (crt + srt * m) / a;
      slt = (ht / ft) * srt / a;
    }
  }
  let csl: number, snl: number, csr: number, snr: number;
  if (swap) {
    csl = srt;
    snl = crt;
    csr = slt;
    snr = clt;
  } else {
    csl = clt;
    snl = slt;
    csr = crt;
    snr = srt;
  }
  let tsign: number;
  if (pmax === 1) tsign = sign(1, csr) * sign(1, csl) * sign(1, f);
  else if (pmax === 2) tsign = sign(1, snr) * sign(1, csl) * sign(1, g);
  else tsign = sign(1, snr) * sign(1, snl) * sign(1, h);
  out[0] = sign(ssmin, tsign * sign(1, f) * sign(1, h));
  out[1] = sign(ssmax, tsign);
  out[2] = snr;
  out[3] = csr;
  out[4] = snl;
  out[5] = csl;
}

/** Fortran's SIGN(a, b): |a| with the sign of b (b = -0 counts as positive). */
function sign(a: number, b: number): number {
  return b >= 0 ? Math.abs(a) : -Math.abs(a);
}

/** Row views `x[i*cols .. (i+1)*cols)` of a row-major rows x cols array. */
function rowViews(x: Float64Array, rows: number, cols: number): Float64Array[] {
  const views = new Array<Float64Array>(rows);
  for (let i = 0; i < rows; i++) views[i] = x.subarray(i * cols, (i + 1) * cols);
  return views;
}

/** (x_j, x_{j+1}) <- (c x_j + s x_{j+1}, c x_{j+1} - s x_j) in every row, j = col. */
function rotateOne(rows: Float64Array[], col: number, c: number, s: number) {
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    const x = row[col];
    const y = row[col + 1];
    row[col] = c * x + s * y;
    row[col + 1] = c * y - s * x;
  }
}

/**
 * Applies, in every row, the rotations k = 0..count-1 in increasing order, rotation k
 * taking entries (col+k, col+k+1) = (x, y) to (c_k x + s_k y, c_k y - s_k x): what
 * LAPACK's dlasr('R', 'V', 'F') does to the columns of U. Each row is swept once with
 * the running entry in a register; four rows go together so their dependency chains
 * overlap.
 */
function rotateForward(
  rows: Float64Array[],
  col: number,
  count: number,
  c: Float64Array,
  s: Float64Array,
) {
  const nr = rows.length;
  const end = col + count;
  let r = 0;
  for (; r + 3 < nr; r += 4) {
    const r0 = rows[r];
    const r1 = rows[r + 1];
    const r2 = rows[r + 2];
    const r3 = rows[r + 3];
    let x0 = r0[col];
    let x1 = r1[col];
    let x2 = r2[col];
    let x3 = r3[col];
    for (let j = col, k = 0; j < end; j++, k++) {
      const ck = c[k];
      const sk = s[k];
      const y0 = r0[j + 1];
      const y1 = r1[j + 1];
      const y2 = r2[j + 1];
      const y3 = r3[j + 1];
      r0[j] = ck * x0 + sk * y0;
      x0 = ck * y0 - sk * x0;
      r1[j] = ck * x1 + sk * y1;
      x1 = ck * y1 - sk * x1;
      r2[j] = ck * x2 + sk * y2;
      x2 = ck * y2 - sk * x2;
      r3[j] = ck * x3 + sk * y3;
      x3 = ck * y3 - sk * x3;
    }
    r0[end] = x0;
    r1[end] = x1;
    r2[end] = x2;
    r3[end] = x3;
  }
  for (; r < nr; r++) {
    const r0 = rows[r];
    let x0 = r0[col];
    for (let j = col, k = 0; j < end; j++, k++) {
      const y0 = r0[j + 1];
      r0[j] = c[k] * x0 + s[k] * y0;
      x0 = c[k] * y0 - s[k] * x0;
    }
    r0[end] = x0;
  }
}

/** As {@link rotateForward}, with the rotations applied in decreasing order of k. */
function rotateBackward(
  rows: Float64Array[],
  col: number,
  count: number,
  c: Float64Array,
  s: Float64Array,
) {
  const nr = rows.length;
  const end = col + count;
  let r = 0;
  for (; r + 3 < nr; r += 4) {
    const r0 = rows[r];
    const r1 = rows[r + 1];
    const r2 = rows[r + 2];
    const r3 = rows[r + 3];
    let y0 = r0[end];
    let y1 = r1[end];
    let y2 = r2[end];
    let y3 = r3[end];
    for (let j = end - 1, k = count - 1; j >= col; j--, k--) {
      const ck = c[k];
      const sk = s[k];
      const x0 = r0[j];
      const x1 = r1[j];
      const x2 = r2[j];
      const x3 = r3[j];
      r0[j + 1] = ck * y0 - sk * x0;
      y0 = ck * x0 + sk * y0;
      r1[j + 1] = ck * y1 - sk * x1;
      y1 = ck * x1 + sk * y1;
      r2[j + 1] = ck * y2 - sk * x2;
      y2 = ck * x2 + sk * y2;
      r3[j + 1] = ck * y3 - sk * x3;
      y3 = ck * x3 + sk * y3;
    }
    r0[col] = y0;
    r1[col] = y1;
    r2[col] = y2;
    r3[col] = y3;
  }
  for (; r < nr; r++) {
    const r0 = rows[r];
    let y0 = r0[end];
    for (let j = end - 1, k = count - 1; j >= col; j--, k--) {
      const x0 = r0[j];
      r0[j + 1] = c[k] * y0 - s[k] * x0;
      y0 = c[k] * x0 + s[k] * y0;
    }
    r0[col] = y0;
  }
}
