// Inputs shared by the benchmarks.

/** Uniform values in [-1, 1) from a fixed seed (xorshift32): the same on every run. */
export function random(length: number, seed: number): Float64Array {
  const out = new Float64Array(length);
  let s = seed;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = 2 * ((s >>> 0) / 2 ** 32) - 1;
  }
  return out;
}
