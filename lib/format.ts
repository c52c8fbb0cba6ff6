/**
 * NumPy-like text for matrices: aligned columns, big matrices shown by their
 * corners with "..." between.
 *
 * @module
 */
import type { HostArray } from "./kernel.ts";

const EDGE = 3;
const LIMIT = 10;

function pick(n: number): (number | null)[] {
  if (n <= LIMIT) return Array.from({ length: n }, (_, i) => i);
  const head = Array.from({ length: EDGE }, (_, i) => i);
  const tail = Array.from({ length: EDGE }, (_, i) => n - EDGE + i);
  return [...head, null, ...tail];
}

/** Format one number with up to 6 significant digits, integers without a point. */
export function formatNumber(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return Object.is(x, -0) ? "-0" : String(x);
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e-4 && a < 1e6) return String(Number(x.toPrecision(6)));
  return x.toExponential(4);
}

/** Text of a rows x cols row-major array. */
export function formatMatrix(data: HostArray, rows: number, cols: number): string {
  if (rows === 0 || cols === 0) return "[]";
  const ri = pick(rows);
  const ci = pick(cols);
  const cells = ri.map((r) =>
    ci.map((c) => (r === null || c === null) ? "..." : formatNumber(data[r * cols + c]))
  );
  const widths = ci.map((_, j) => Math.max(...cells.map((row) => row[j].length)));
  const lines = cells.map((row, i) => {
    const body = row.map((s, j) => s.padStart(widths[j])).join(", ");
    const open = i === 0 ? "[[" : " [";
    const close = i === cells.length - 1 ? "]]" : "],";
    return `${open}${body}${close}`;
  });
  return lines.join("\n");
}
