// Deterministic inputs shared by the kernel test suites (conformance, wasm).

/** Kinds of generated data. */
export type Kind = "uniform" | "positive" | "ints" | "nonzero";

/** Float32-representable values (xorshift32), so every kernel and dtype sees the same numbers. */
export function data(length: number, seed: number, kind: Kind = "uniform"): Float64Array {
  const out = new Float64Array(length);
  let s = (seed * 2654435761 >>> 0) || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const u = (s >>> 0) / 2 ** 32;
    const v = kind === "uniform"
      ? 2 * u - 1
      : kind === "positive"
      ? 0.1 + 9.9 * u
      : kind === "ints"
      ? Math.floor(u * 5) - 2
      : (u < 0.5 ? -1 : 1) * (0.5 + 3 * Math.abs(2 * u - 1));
    out[i] = Math.fround(v);
  }
  return out;
}

/** Inputs at the kinks of the unary ops. */
export const KINKS: readonly number[] = [
  0,
  -0,
  1e-30,
  -1e-20,
  1e-7,
  -1e-3,
  0.5,
  -0.625,
  0.7,
  1,
  -1,
  5,
  9,
  -10,
  20,
  -50,
  100,
  -100,
];

/** Every pair of matmul transpose flags. */
export const TRANS: [boolean, boolean][] = [[false, false], [true, false], [false, true], [
  true,
  true,
]];
