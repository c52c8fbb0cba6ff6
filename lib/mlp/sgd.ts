/**
 * Stochastic gradient descent with optional momentum (heavy ball or Nesterov) and
 * weight decay, as an immutable optimizer in the style of optax: `init` makes a
 * state, `update` returns new parameters and a new state and changes nothing.
 *
 * @module
 */
import { canEvaluateTogether, evaluateTogether, type Matrix, realize } from "../matrix.ts";
import { checkMatrix } from "../ops/common.ts";
import { add, scale, sub } from "../ops/mod.ts";
import { shapeStr } from "../errors.ts";

/** Options of {@link sgd}. */
export interface SgdOptions {
  /** Learning rate (> 0). */
  lr: number;
  /** Momentum factor mu in [0, 1) (default 0: plain SGD). */
  momentum?: number;
  /** L2 penalty factor lambda >= 0 added to every gradient as lambda p (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false). */
  nesterov?: boolean;
}

/** Optimizer state: the velocity of each parameter (empty without momentum) and the step count. */
export interface SgdState {
  /** One velocity per parameter, or none when momentum is 0. */
  readonly velocity: readonly Matrix[];
  /** Updates made so far. */
  readonly step: number;
}

/** An immutable first-order optimizer. */
export interface Optimizer {
  /** The options it was made with. */
  readonly options: Readonly<Required<SgdOptions>>;
  /** The initial state for `params`. */
  init(params: readonly Matrix[]): SgdState;
  /** New parameters and state after one step along `grads`; the inputs are unchanged. */
  update(
    params: readonly Matrix[],
    grads: readonly Matrix[],
    state: SgdState,
  ): { params: readonly Matrix[]; state: SgdState };
}

function checkNumber(name: string, v: unknown, ok: (x: number) => boolean, want: string): number {
  if (typeof v !== "number") {
    throw new TypeError(`Cannot make an SGD optimizer: ${name} must be a number, got ${typeof v}`);
  }
  if (!ok(v)) {
    throw new RangeError(`Cannot make an SGD optimizer: ${name} must be ${want}, got ${v}`);
  }
  return v;
}

/**
 * SGD as PyTorch's `torch.optim.SGD` (dampening 0) computes it, for each parameter p
 * with gradient g:
 *   g' = g + lambda p,   v' = mu v + g' (v starts at 0),   p' = p - lr d
 * with d = v' (heavy ball), d = g' + mu v' (Nesterov), or d = g' when mu = 0.
 * Weight decay applies to every parameter given, biases included, as in PyTorch.
 *
 * @example
 * ```ts
 * import { Matrix, sgd } from "../../mod.ts";
 * const opt = sgd({ lr: 0.1, momentum: 0.9 });
 * const p = [Matrix.from([[1]])], g = [Matrix.from([[2]])];
 * let { params, state } = opt.update(p, g, opt.init(p)); // v = 2, p = 1 - 0.2
 * ({ params, state } = opt.update(params, g, state)); // v = 0.9 * 2 + 2, p = 0.8 - 0.38
 * console.log(params[0].get(0, 0).toFixed(2), state.step); // 0.42 2
 * ```
 */
export function sgd(opts: SgdOptions): Optimizer {
  if (opts === null || typeof opts !== "object") {
    throw new TypeError("Cannot make an SGD optimizer: options must be an object with lr");
  }
  const finitePos = (x: number) => x > 0 && x < Infinity;
  const options = Object.freeze({
    lr: checkNumber("lr", opts.lr, finitePos, "finite and > 0"),
    momentum: checkNumber("momentum", opts.momentum ?? 0, (x) => x >= 0 && x < 1, "in [0, 1)"),
    weightDecay: checkNumber(
      "weightDecay",
      opts.weightDecay ?? 0,
      (x) => x >= 0 && x < Infinity,
      "finite and >= 0",
    ),
    nesterov: opts.nesterov ?? false,
  });
  const { lr, momentum: mu, weightDecay: wd, nesterov } = options;
  if (typeof nesterov !== "boolean") {
    throw new TypeError("Cannot make an SGD optimizer: nesterov must be a boolean");
  }
  if (nesterov && mu === 0) {
    throw new RangeError("Cannot make an SGD optimizer: nesterov needs a momentum > 0");
  }
  const action = "take an SGD step";
  return {
    options,
    init(params) {
      params.forEach((p, i) => checkMatrix("initialise SGD", p, `parameter ${i}`));
      // v starts at 0: mu 0 + g = g, so the first step needs no zeros.
      return Object.freeze({ velocity: Object.freeze([]), step: 0 });
    },
    update(params, grads, state) {
      if (params.length !== grads.length) {
        throw new TypeError(
          `Cannot ${action}: ${params.length} parameters but ${grads.length} gradients`,
        );
      }
      if (
        state === null || typeof state !== "object" || !Number.isSafeInteger(state.step) ||
        !Array.isArray(state.velocity)
      ) {
        throw new TypeError(`Cannot ${action}: state must come from init or update`);
      }
      const hasV = mu > 0 && state.step > 0;
      if (hasV && state.velocity.length !== params.length) {
        throw new TypeError(
          `Cannot ${action}: the state holds ${state.velocity.length} velocities for ${params.length} parameters`,
        );
      }
      const newP: Matrix[] = [], newV: Matrix[] = [];
      params.forEach((p, i) => {
        checkMatrix(action, p, `parameter ${i}`);
        let g = checkMatrix(action, grads[i], `gradient ${i}`);
        if (g.rows !== p.rows || g.cols !== p.cols) {
          throw new TypeError(
            `Cannot ${action}: gradient ${i} is ${shapeStr(g)} but parameter ${i} is ${
              shapeStr(p)
            }`,
          );
        }
        if (wd > 0) g = add(g, scale(p, wd));
        let d = g;
        // The update below and the next step both read the velocity. Where the kernel
        // computes several pending results in one pass (wasm), it stays pending and is
        // computed with the new parameters, which inline it: one sweep reads p, v and g
        // and writes both, over the old ones if the caller has disposed those by then
        // (trainMlp does). Elsewhere it is computed now, so that the two reads do not
        // each recompute it (and chain every past g).
        const together = mu > 0 && canEvaluateTogether(p);
        if (mu > 0) {
          const v = hasV ? add(scale(state.velocity[i], mu), g) : g;
          newV.push(together ? v : realize(v));
          d = nesterov ? add(g, scale(newV[i], mu)) : newV[i];
        }
        newP.push(sub(p, scale(d, lr)));
        // The velocity first: the parameters' pass then reads it instead of recomputing.
        if (together) evaluateTogether([newV[i], newP[i]]);
      });
      return {
        params: Object.freeze(newP),
        state: Object.freeze({ velocity: Object.freeze(newV), step: state.step + 1 }),
      };
    },
  };
}
