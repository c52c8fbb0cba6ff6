/**
 * Axis scales for the charts: a linear and a base-10 log map from data to pixels,
 * with "nice" ticks (1, 2, 5 times a power of ten; decades on a log axis).
 *
 * @module
 */

/** A map from data values to pixels, with its ticks and their labels. */
export interface Scale {
  /** Pixel position of a data value. */
  map(v: number): number;
  /** The domain after rounding out to ticks. */
  domain: [number, number];
  /** Tick values, ascending. */
  ticks: number[];
  /** Label of a tick, as SVG text content (may hold a `<tspan>`). */
  label(v: number): string;
}

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/** A linear scale over [lo, hi] (widened when they are equal) onto [p0, p1] pixels. */
export function linearScale(
  lo: number,
  hi: number,
  [p0, p1]: [number, number],
  count = 5,
  exact = false,
): Scale {
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) / 10;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, count);
  const d0 = exact ? lo : Math.floor(lo / step + 1e-9) * step;
  const d1 = exact ? hi : Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let t = Math.ceil(d0 / step - 1e-9); t * step <= d1 + step * 1e-9; t++) {
    ticks.push(t * step === 0 ? 0 : t * step);
  }
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const big = Math.max(Math.abs(d0), Math.abs(d1)) >= 1e6;
  return {
    map: (v) => p0 + ((v - d0) / (d1 - d0)) * (p1 - p0),
    domain: [d0, d1],
    ticks,
    label: (v) => big ? v.toExponential(1).replace("e+", "e") : v.toFixed(Math.min(decimals, 12)),
  };
}

/** A base-10 log scale over [lo, hi] (both > 0), rounded out to decades. */
export function logScale(lo: number, hi: number, [p0, p1]: [number, number]): Scale {
  let e0 = Math.floor(Math.log10(lo) + 1e-12), e1 = Math.ceil(Math.log10(hi) - 1e-12);
  if (e0 === e1) e1++;
  const every = Math.ceil((e1 - e0) / 8);
  e0 = Math.floor(e0 / every) * every;
  e1 = Math.ceil(e1 / every) * every;
  const ticks: number[] = [];
  for (let e = e0; e <= e1; e += every) ticks.push(10 ** e);
  if (e1 - e0 === 1) ticks.splice(1, 0, 2 * 10 ** e0, 5 * 10 ** e0);
  return {
    map: (v) => p0 + ((Math.log10(v) - e0) / (e1 - e0)) * (p1 - p0),
    domain: [10 ** e0, 10 ** e1],
    ticks,
    label: (v) => {
      const e = Math.round(Math.log10(v));
      if (Math.abs(v / 10 ** e - 1) > 1e-9 || Math.abs(e) < 3) {
        return String(Number(v.toPrecision(6)));
      }
      return `10<tspan dy="-5" font-size="9">${e < 0 ? "\u2212" : ""}${Math.abs(e)}</tspan>`;
    },
  };
}
