/**
 * SIMD exp, expm1, log, tanh and sigmoid for f64x2 and f32x4 (WebAssembly has no
 * transcendental instructions). Each builder takes the argument as code that pushes a
 * v128 and returns code that pushes the result, using locals of the function it
 * emits into.
 *
 * - exp: x = k ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2), e^r - 1 by its
 *   Taylor series (13 terms in f64, 7 in f32: truncation below half an ulp), and 2^k
 *   applied as two exact powers of two so that results near overflow and underflow
 *   (subnormals) come out right. NaN propagates through the clamping min/max.
 * - log: x = 2^e m with m in (sqrt(1/2), sqrt(2)], log m = 2 atanh(s) with
 *   s = (m - 1)/(m + 1) by its series in s^2; subnormal inputs are scaled first;
 *   0, negatives, Infinity and NaN are fixed up at the end.
 * - tanh(x) = sign(x) (-e / (e + 2)) with e = expm1(-2|x|): no cancellation near 0,
 *   exactly 1 for large |x|; sigmoid from e = exp(-|x|), so it never overflows.
 *
 * Errors are a few ulp, far inside the conformance tolerance (84 ulp in float32,
 * 4500 in float64); tests compare with the ts kernel's Math functions.
 *
 * @module
 */
import { type Code, type FloatSimd, type Func, local, seq, v128 } from "./asm.ts";

/** Per-dtype constants. */
function constants(V: FloatSimd) {
  const wide = V.size === 8;
  const factorial = (n: number): number => n <= 1 ? 1 : n * factorial(n - 1);
  const expTerms = wide ? 13 : 7;
  const logTerms = wide ? 11 : 5;
  return {
    wide,
    lo: wide ? -746 : -104,
    hi: wide ? 710 : 89,
    ln2hi: wide ? 0.6931471803691238 : 0.693359375,
    ln2lo: wide ? 1.9082149292705877e-10 : -2.12194440e-4,
    // Taylor coefficients 1/n! for n = expTerms .. 1 (Horner order).
    expCoefs: Array.from({ length: expTerms }, (_, i) => 1 / factorial(expTerms - i)),
    // 2/(2n+1) for n = logTerms-1 .. 0.
    logCoefs: Array.from({ length: logTerms }, (_, i) => 2 / (2 * (logTerms - 1 - i) + 1)),
    magic: wide ? 6755399441055744 : 12582912, // 1.5 * 2^52, 1.5 * 2^23
    mantBits: wide ? 52 : 23,
    bias: wide ? 1023 : 127,
    minNormal: wide ? 2 ** -1022 : 2 ** -126,
    subScale: wide ? 54 : 24,
  };
}

/** Integer vector ops on the lanes of the dtype (i64x2 for f64, i32x4 for f32). */
function ints(V: FloatSimd) {
  const wide = V.size === 8;
  const lanesConst = (n: number): Code =>
    v128.const(
      new Uint8Array(
        wide ? BigInt64Array.of(BigInt(n), BigInt(n)).buffer : Int32Array.of(n, n, n, n).buffer,
      ),
    );
  return {
    const: lanesConst,
    add: wide ? v128.i64x2_add : v128.i32x4_add,
    shl: (a: Code, n: number): Code => (wide ? v128.i64x2_shl : v128.i32x4_shl)(a, [0x41, n]),
    shr_u: (a: Code, n: number): Code => (wide ? v128.i64x2_shr_u : v128.i32x4_shr_u)(a, [0x41, n]),
  };
}

/** The math builders for one dtype inside `f`. */
export function simdMath(V: FloatSimd, f: Func) {
  const K = constants(V);
  const I = ints(V);
  const c = (x: number) => f.hoist(V.constant(x));
  const g = local.get;
  const t = () => f.local("v128");

  /** 2^e for an integer-valued vector e in the normal exponent range. */
  const pow2 = (e: Code): Code =>
    I.shl(I.add(V.add(e, c(K.magic)), f.hoist(I.const(K.bias))), K.mantBits);

  /** Sets locals q = e^r - 1 on the reduced argument and s1, s2 with 2^k = s1 s2. */
  function reduce(x: Code) {
    const [xl, k, r, p, s1, s2, e1] = [t(), t(), t(), t(), t(), t(), t()];
    const code = seq(
      // Clamp (pmax and pmin keep a NaN in their first operand).
      local.set(xl, V.pmin(V.pmax(x, c(K.lo)), c(K.hi))),
      local.set(k, V.nearest(V.mul(g(xl), c(Math.LOG2E)))),
      local.set(r, V.sub(V.sub(g(xl), V.mul(g(k), c(K.ln2hi))), V.mul(g(k), c(K.ln2lo)))),
      local.set(p, c(K.expCoefs[0])),
      ...K.expCoefs.slice(1).map((coef) => local.set(p, V.madd(g(p), g(r), c(coef)))),
      local.set(p, V.mul(g(p), g(r))), // q = e^r - 1
      local.set(e1, V.floor(V.mul(g(k), c(0.5)))),
      local.set(s1, pow2(g(e1))),
      local.set(s2, pow2(V.sub(g(k), g(e1)))),
    );
    return { code, q: p, s1, s2 };
  }

  function exp(x: Code): Code {
    const { code, q, s1, s2 } = reduce(x);
    return seq(code, V.mul(V.mul(V.add(g(q), c(1)), g(s1)), g(s2)));
  }

  /** e^x - 1, accurate near 0. */
  function expm1(x: Code): Code {
    const { code, q, s1, s2 } = reduce(x);
    const s = t();
    return seq(
      code,
      local.set(s, V.mul(g(s1), g(s2))),
      V.add(V.mul(g(q), g(s)), V.sub(g(s), c(1))),
    );
  }

  function log(x: Code): Code {
    const [x0, xs, tiny, big, m, e, s, z, p] = [t(), t(), t(), t(), t(), t(), t(), t(), t()];
    const mantMask = K.wide ? 0x000fffffffffffffn : 0x007fffffn;
    const one = K.wide ? 0x3ff0000000000000n : 0x3f800000n;
    const bigConst = (n: bigint): Code =>
      f.hoist(v128.const(
        new Uint8Array(
          K.wide
            ? BigInt64Array.of(n, n).buffer
            : Int32Array.of(...Array(4).fill(Number(n))).buffer,
        ),
      ));
    // A float whose low mantissa bits hold an exponent field: 2^52 (or 2^23) plus it.
    const twoP = K.wide ? 2 ** 52 : 2 ** 23;
    return seq(
      local.set(x0, x),
      local.set(tiny, V.lt(g(x0), c(K.minNormal))),
      local.set(xs, v128.bitselect(V.mul(g(x0), c(2 ** K.subScale)), g(x0), g(tiny))),
      local.set(m, v128.or(v128.and(g(xs), bigConst(mantMask)), bigConst(one))),
      local.set(big, V.gt(g(m), c(Math.SQRT2))),
      local.set(m, v128.bitselect(V.mul(g(m), c(0.5)), g(m), g(big))),
      // e = exponent field - bias - (tiny ? subScale : 0) + (big ? 1 : 0)
      local.set(e, V.sub(v128.or(I.shr_u(g(xs), K.mantBits), c(twoP)), c(twoP + K.bias))),
      local.set(e, V.sub(g(e), v128.and(g(tiny), c(K.subScale)))),
      local.set(e, V.add(g(e), v128.and(g(big), c(1)))),
      local.set(s, V.div(V.sub(g(m), c(1)), V.add(g(m), c(1)))),
      local.set(z, V.mul(g(s), g(s))),
      local.set(p, c(K.logCoefs[0])),
      ...K.logCoefs.slice(1).map((coef) => local.set(p, V.madd(g(p), g(z), c(coef)))),
      local.set(
        p,
        V.add(V.mul(g(e), c(K.ln2hi)), V.add(V.mul(g(e), c(K.ln2lo)), V.mul(g(p), g(s)))),
      ),
      // Special values.
      local.set(p, v128.bitselect(c(-Infinity), g(p), V.eq(g(x0), c(0)))),
      local.set(p, v128.bitselect(c(Infinity), g(p), V.eq(g(x0), c(Infinity)))),
      v128.bitselect(c(NaN), g(p), v128.or(V.lt(g(x0), c(0)), V.ne(g(x0), g(x0)))),
    );
  }

  function tanh(x: Code): Code {
    const [x0, e] = [t(), t()];
    const sign = c(-0);
    return seq(
      local.set(x0, x),
      local.set(e, expm1(V.mul(V.abs(g(x0)), c(-2)))),
      v128.or(V.div(V.neg(g(e)), V.add(g(e), c(2))), v128.and(g(x0), sign)),
    );
  }

  /** 1 / (1 + e) for x >= 0 and e / (1 + e) below, with e = exp(-|x|): no overflow. */
  function sigmoid(x: Code): Code {
    const [x0, e, s] = [t(), t(), t()];
    return seq(
      local.set(x0, x),
      local.set(e, exp(V.neg(V.abs(g(x0))))),
      local.set(s, V.div(c(1), V.add(c(1), g(e)))),
      v128.bitselect(V.mul(g(e), g(s)), g(s), V.lt(g(x0), c(0))),
    );
  }

  return { exp, expm1, log, tanh, sigmoid };
}
