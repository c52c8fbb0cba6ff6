/**
 * The dispatch core: every differentiable primitive runs through `bind`, which
 * computes the forward value and, when autodiff transforms are active, records
 * what reverse mode needs or pushes tangents forward.
 *
 * Transforms nest (grad of grad, jvp of grad): each active transform is a trace
 * with a level, a traced value is a Matrix aliasing its primal's storage with the
 * trace's bookkeeping in a WeakMap, and an op on values of several levels is
 * handled by the highest one, whose rules run on the lower-level primals (so the
 * rules themselves are differentiated by the outer transforms).
 *
 * @module
 */
import { type Matrix, storageOf, view, wrap } from "./matrix.ts";

/** A differentiable primitive: its forward and its derivative rules, side by side. */
export interface Primitive<P> {
  /** Name used in error messages. */
  readonly name: string;
  /** The value, on concrete matrices. */
  forward(inputs: readonly Matrix[], params: P): Matrix;
  /**
   * Cotangents of the inputs given the output cotangent `g` (null means zero or
   * not needed; `needs[i]` says whether input i wants one). Written with
   * differentiable ops so it can itself be differentiated.
   */
  vjp(
    g: Matrix,
    inputs: readonly Matrix[],
    out: Matrix,
    params: P,
    needs: readonly boolean[],
  ): (Matrix | null)[];
  /** Tangent of the output from the inputs' tangents (null means zero). */
  jvp(
    tangents: readonly (Matrix | null)[],
    inputs: readonly Matrix[],
    out: Matrix,
    params: P,
  ): Matrix | null;
}

/** An active (or finished) transform. */
export class Trace {
  /** Whether ops still record on this trace. */
  active = true;
  /** Create a trace of `kind` at nesting `level`. */
  constructor(readonly kind: "vjp" | "jvp", readonly level: number) {}
}

/** A node of the reverse-mode graph. */
export interface Node {
  /** Parent nodes, one per input of the op (null for inputs that are constants here). */
  readonly parents: readonly (Node | null)[];
  /** Cotangents of the inputs, from the output's; null for a leaf. */
  readonly backward: ((g: Matrix, needs: readonly boolean[]) => (Matrix | null)[]) | null;
  /** The primal value, to check cotangent shapes against. */
  readonly primal: Matrix;
  /** The primitive's name, for error messages. */
  readonly name: string;
}

interface Info {
  trace: Trace;
  primal: Matrix;
  node?: Node;
  tangent?: Matrix | null;
}

const infos = new WeakMap<Matrix, Info>();
let depth = 0;

/** Open a new trace one level deeper than the current ones. */
export function openTrace(kind: "vjp" | "jvp"): Trace {
  return new Trace(kind, ++depth);
}

/** Close a trace opened by {@link openTrace}. */
export function closeTrace(trace: Trace): void {
  trace.active = false;
  depth = trace.level - 1;
}

/** Strip the bookkeeping of finished traces from a value. */
function settle(x: Matrix): Matrix {
  let info = infos.get(x);
  while (info && !info.trace.active) {
    x = info.primal;
    info = infos.get(x);
  }
  return x;
}

/** The value `x` seen as a variable of `trace` (reverse mode leaf or jvp input). */
export function traceInput(
  trace: Trace,
  x: Matrix,
  tangent: Matrix | null = null,
): { value: Matrix; node?: Node } {
  const value = view(x, x.rows, x.cols);
  if (trace.kind === "vjp") {
    const node: Node = { parents: [], backward: null, primal: x, name: "input" };
    infos.set(value, { trace, primal: x, node });
    return { value, node };
  }
  infos.set(value, { trace, primal: x, tangent });
  return { value };
}

/** What `trace` recorded for `y`: its primal and node or tangent (undefined if y is constant there). */
export function traceOutput(
  trace: Trace,
  y: Matrix,
): { primal: Matrix; node?: Node; tangent?: Matrix | null } | undefined {
  let x = y;
  for (let info = infos.get(x); info; info = infos.get(x)) {
    if (info.trace === trace) return info;
    x = info.primal;
  }
  return undefined;
}

/** The value of `y` with the bookkeeping of `trace` and deeper traces removed. */
export function primalAt(trace: Trace, y: Matrix): Matrix {
  let x = y;
  for (let info = infos.get(x); info && info.trace.level >= trace.level; info = infos.get(x)) {
    x = info.primal;
  }
  return x;
}

/** Apply a primitive: compute its value and record it on the active traces. */
export function bind<P>(prim: Primitive<P>, inputs: readonly Matrix[], params: P): Matrix {
  const xs = inputs.map(settle);
  let top: Trace | null = null;
  for (const x of xs) {
    const info = infos.get(x);
    if (info && (top === null || info.trace.level > top.level)) top = info.trace;
  }
  if (top === null) return prim.forward(xs, params);
  const here = xs.map((x) => {
    const info = infos.get(x);
    return info && info.trace === top ? info : undefined;
  });
  const primals = xs.map((x, i) => here[i]?.primal ?? x);
  const out = bind(prim, primals, params);
  const y = wrap(out.kernel, storageOf(out), out.rows, out.cols);
  if (top.kind === "vjp") {
    const node: Node = {
      parents: here.map((info) => info?.node ?? null),
      backward: (g, needs) => prim.vjp(g, primals, out, params, needs),
      primal: out,
      name: prim.name,
    };
    infos.set(y, { trace: top, primal: out, node });
  } else {
    const tangents = here.map((info) => info?.tangent ?? null);
    const tangent = tangents.every((t) => t === null)
      ? null
      : prim.jvp(tangents, primals, out, params);
    infos.set(y, { trace: top, primal: out, tangent });
  }
  return y;
}

/**
 * Run reverse mode from `root` with cotangent `g`; returns the cotangent of each
 * node in `wanted` (null where nothing flowed). `add` accumulates cotangents.
 */
export function backward(
  root: Node,
  g: Matrix,
  wanted: readonly Node[],
  add: (a: Matrix, b: Matrix) => Matrix,
): (Matrix | null)[] {
  // Iterative depth-first post-order, so long chains do not overflow the stack.
  const order: Node[] = [];
  const seen = new Set<Node>([root]);
  const stack: [Node, number][] = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.parents.length) {
      top[1] = i + 1;
      const p = node.parents[i];
      if (p !== null && !seen.has(p)) {
        seen.add(p);
        stack.push([p, 0]);
      }
    } else {
      order.push(node);
      stack.pop();
    }
  }
  const grads = new Map<Node, Matrix>([[root, g]]);
  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k];
    const gn = grads.get(node);
    if (gn === undefined || node.backward === null) continue;
    grads.delete(node);
    const needs = node.parents.map((p) => p !== null);
    const cts = node.backward(gn, needs);
    node.parents.forEach((p, i) => {
      const ct = cts[i];
      if (p === null || ct === null || ct === undefined) return;
      if (ct.rows !== p.primal.rows || ct.cols !== p.primal.cols) {
        throw new Error(
          `Internal error in the VJP of ${node.name}: cotangent ${ct.rows}x${ct.cols} for an input of ${p.primal.rows}x${p.primal.cols}`,
        );
      }
      const prev = grads.get(p);
      grads.set(p, prev === undefined ? ct : add(prev, ct));
    });
  }
  return wanted.map((n) => grads.get(n) ?? null);
}
