/**
 * Element-wise primitives: the unary set and the broadcasting binary set, each
 * with its derivative rule beside it.
 *
 * @module
 */
import type { Matrix } from "../matrix.ts";
import type { BinaryOp, UnaryOp } from "../kernel.ts";
import { bind, type Primitive } from "../core.ts";
import { fullLike, result, scalarLike, st } from "./common.ts";
import { unbroadcast } from "./reduce.ts";
import { broadcastRaw } from "./structure.ts";

const u = (op: UnaryOp, x: Matrix) => unaryRaw(op, x);
const b = (op: BinaryOp, x: Matrix, y: Matrix) => binaryRaw(op, x, y);
const c = (like: Matrix, v: number) => scalarLike(like, v);

/**
 * d op(x) / dx as a matrix, from the input x and output y; null where the
 * derivative is zero everywhere it exists (sign, step). relu'(0) = 0 (PyTorch's
 * and JAX's choice).
 */
const DERIVATIVE: { [K in UnaryOp]: (x: Matrix, y: Matrix) => Matrix | null } = {
  neg: (x) => c(x, -1),
  abs: (x) => u("sign", x),
  sign: () => null,
  exp: (_x, y) => y,
  log: (x) => u("reciprocal", x),
  sqrt: (_x, y) => b("div", c(y, 0.5), y),
  square: (x) => b("mul", c(x, 2), x),
  reciprocal: (_x, y) => u("neg", u("square", y)),
  tanh: (_x, y) => b("sub", c(y, 1), u("square", y)),
  sigmoid: (_x, y) => b("mul", y, b("sub", c(y, 1), y)),
  relu: (x) => u("step", x),
  step: () => null,
};

const unaryPrims = new Map<UnaryOp, Primitive<void>>();

function unaryPrim(op: UnaryOp): Primitive<void> {
  let p = unaryPrims.get(op);
  if (p === undefined) {
    const d = DERIVATIVE[op];
    p = {
      name: op,
      forward: ([x]) => result(x, x.kernel.unary(op, st(x)), x.rows, x.cols),
      vjp: (g, [x], y) => {
        const dx = d(x, y);
        return [dx === null ? null : b("mul", g, dx)];
      },
      jvp: ([t], [x], y) => {
        const dx = d(x, y);
        return dx === null ? null : b("mul", t!, dx);
      },
    };
    unaryPrims.set(op, p);
  }
  return p;
}

/** Internal unary op (no checks). */
export function unaryRaw(op: UnaryOp, x: Matrix): Matrix {
  return bind(unaryPrim(op), [x], undefined);
}

/**
 * Partial derivatives (d/da, d/db) of each binary op, as matrices broadcastable to
 * the output. max and min split ties equally, as JAX and PyTorch do.
 */
const PARTIALS: {
  [K in BinaryOp]: (x: Matrix, y: Matrix, out: Matrix) => [Matrix | null, Matrix | null];
} = {
  add: (x) => [c(x, 1), c(x, 1)],
  sub: (x) => [c(x, 1), c(x, -1)],
  mul: (x, y) => [y, x],
  div: (_x, y, out) => [u("reciprocal", y), u("neg", b("div", out, y))],
  max: (x, y) => {
    const wx = b("add", b("gt", x, y), b("mul", c(x, 0.5), b("eq", x, y)));
    return [wx, b("sub", c(x, 1), wx)];
  },
  min: (x, y) => {
    const wx = b("add", b("gt", y, x), b("mul", c(x, 0.5), b("eq", x, y)));
    return [wx, b("sub", c(x, 1), wx)];
  },
  gt: () => [null, null],
  ge: () => [null, null],
  eq: () => [null, null],
};

const binaryPrims = new Map<BinaryOp, Primitive<void>>();

function binaryPrim(op: BinaryOp): Primitive<void> {
  let p = binaryPrims.get(op);
  if (p === undefined) {
    const partials = PARTIALS[op];
    p = {
      name: op,
      forward: ([x, y]) => {
        // NumPy's rule: a size-1 dimension stretches to the other (also to 0).
        const rows = x.rows === 1 ? y.rows : x.rows;
        const cols = x.cols === 1 ? y.cols : x.cols;
        const s = x.kernel.binary(op, st(x), st(y), {
          rows,
          cols,
          a: [x.rows, x.cols],
          b: [y.rows, y.cols],
        });
        return result(x, s, rows, cols);
      },
      vjp: (g, [x, y], out, _p, needs) => {
        if (op === "add" || op === "sub") {
          return [
            needs[0] ? unbroadcast(g, x.rows, x.cols) : null,
            needs[1] ? unbroadcast(op === "add" ? g : u("neg", g), y.rows, y.cols) : null,
          ];
        }
        const [dx, dy] = partials(x, y, out);
        return [
          needs[0] && dx ? unbroadcast(b("mul", g, dx), x.rows, x.cols) : null,
          needs[1] && dy ? unbroadcast(b("mul", g, dy), y.rows, y.cols) : null,
        ];
      },
      jvp: ([tx, ty], [x, y], out) => {
        const [dx, dy] = partials(x, y, out);
        const terms: Matrix[] = [];
        if (tx && dx) terms.push(b("mul", tx, dx));
        if (ty && dy) terms.push(b("mul", ty, dy));
        if (terms.length === 0) return null;
        const sum = terms.length === 2 ? b("add", terms[0], terms[1]) : terms[0];
        return broadcastRaw(sum, out.rows, out.cols);
      },
    };
    binaryPrims.set(op, p);
  }
  return p;
}

/** Internal binary op (no checks; operands share kernel and dtype and broadcast). */
export function binaryRaw(op: BinaryOp, x: Matrix, y: Matrix): Matrix {
  return bind(binaryPrim(op), [x, y], undefined);
}

/** Zeros of the shape of `like` (a constant). */
export function zerosLike(like: Matrix): Matrix {
  return fullLike(like, like.rows, like.cols, 0);
}
