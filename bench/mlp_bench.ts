// One SGD step of document 003's 784-500-10 network (ReLU, softmax cross-entropy) at
// batch 128: forward, backward and update, as the peer harnesses in bench-peers/ time it
// (plain SGD, lr 0.01, the same minibatch every step). Cases: the hand-derived backward
// and autodiff, in float64 and float32, on the ts kernel and on the wasm kernel (2
// threads), against a plain-loop baseline (Float64Array, naive i-k-j products, in-place
// update) written out below.
//   deno bench bench/mlp_bench.ts          compare the cases (one group, baseline first)
//   deno run bench/mlp_bench.ts            ms/step and s/epoch, medians of interleaved runs
import {
  type DType,
  type GradMethod,
  initMlp,
  type Kernel,
  loadKernel,
  Matrix,
  type Mlp,
  mlpGrads,
  oneHot,
  Random,
  sgd,
  tidy,
  withParams,
} from "../mod.ts";

const [B, D, H, K] = [128, 784, 500, 10];
const LR = 0.01;
/** Steps in one epoch of the 60,000 MNIST training images at batch 128. */
const STEPS_PER_EPOCH = 60000 / B;

/** Inputs in [0, 1) like MNIST pixels, and labels cycling through the classes. */
function data(): { x: Float64Array; labels: Int32Array } {
  const rng = new Random(1);
  const x = new Float64Array(B * D);
  for (let i = 0; i < x.length; i++) x[i] = rng.next();
  return { x, labels: Int32Array.from({ length: B }, (_, i) => i % K) };
}

const wasm: Kernel = await loadKernel("wasm");

/** A step of our library: the gradient by `method`, then an immutable SGD update. */
function ours(dtype: DType, method: GradMethod, momentum = 0, kernel: string | Kernel = "ts") {
  const { x, labels } = data();
  const X = Matrix.fromArray(x, B, D, { dtype, kernel });
  const Y = oneHot(labels, K, { dtype, kernel });
  const opt = sgd({ lr: LR, momentum });
  let model: Mlp = initMlp([D, H, K], { seed: 0, dtype, kernel });
  let state = opt.init(model.params);
  return () => {
    // tidy disposes the step's intermediates (a no-op on the ts kernel), as trainMlp does.
    const r = tidy(() => opt.update(model.params, mlpGrads(model, X, Y, { method }).grads, state));
    // Free what this step replaced (the first velocity is the gradient itself).
    const kept = new Set([...r.params, ...r.state.velocity]);
    for (const m of [...state.velocity, ...model.params]) {
      if (!kept.has(m)) m.dispose();
    }
    model = withParams(model, r.params);
    state = r.state;
  };
}

/**
 * The baseline: the same step as a careful novice writes it with Float64Arrays and
 * naive i-k-j loops (the document's NumPy, loop by loop), updating in place.
 */
function plainLoops(): () => void {
  const { x, labels } = data();
  const rng = new Random(0);
  const w1 = new Float64Array(D * H).map(() => Math.sqrt(2 / D) * rng.nextNormal());
  const w2 = new Float64Array(H * K).map(() => Math.sqrt(2 / H) * rng.nextNormal());
  const b1 = new Float64Array(H), b2 = new Float64Array(K);
  const h = new Float64Array(B * H), z2 = new Float64Array(B * K), e2 = new Float64Array(B * K);
  const e1 = new Float64Array(B * H);
  const dw1 = new Float64Array(D * H), dw2 = new Float64Array(H * K);
  const db1 = new Float64Array(H), db2 = new Float64Array(K);
  return () => {
    // h = relu(x W1 + b1), z2 = h W2 + b2 (i-k-j products)
    for (let s = 0; s < B; s++) {
      const hs = s * H;
      for (let j = 0; j < H; j++) h[hs + j] = b1[j];
      for (let i = 0; i < D; i++) {
        const v = x[s * D + i];
        for (let j = 0, wi = i * H; j < H; j++) h[hs + j] += v * w1[wi + j];
      }
      for (let j = 0; j < H; j++) h[hs + j] = h[hs + j] > 0 ? h[hs + j] : 0;
      for (let c = 0; c < K; c++) z2[s * K + c] = b2[c];
      for (let i = 0; i < H; i++) {
        const v = h[hs + i];
        for (let c = 0; c < K; c++) z2[s * K + c] += v * w2[i * K + c];
      }
      // e2 = (softmax(z2) - y) / n
      let m = -Infinity, tot = 0;
      for (let c = 0; c < K; c++) m = Math.max(m, z2[s * K + c]);
      for (let c = 0; c < K; c++) tot += e2[s * K + c] = Math.exp(z2[s * K + c] - m);
      for (let c = 0; c < K; c++) {
        e2[s * K + c] = (e2[s * K + c] / tot - (labels[s] === c ? 1 : 0)) / B;
      }
      // e1 = (e2 W2^T) o 1(h > 0)
      for (let i = 0; i < H; i++) {
        let t = 0;
        for (let c = 0; c < K; c++) t += e2[s * K + c] * w2[i * K + c];
        e1[hs + i] = h[hs + i] > 0 ? t : 0;
      }
    }
    // dW = x^T e, db = sum of e's rows (i-k-j, k running over the samples)
    dw1.fill(0), dw2.fill(0), db1.fill(0), db2.fill(0);
    for (let s = 0; s < B; s++) {
      for (let i = 0; i < D; i++) {
        const v = x[s * D + i];
        for (let j = 0, o = i * H, es = s * H; j < H; j++) dw1[o + j] += v * e1[es + j];
      }
      for (let i = 0; i < H; i++) {
        const v = h[s * H + i];
        for (let c = 0; c < K; c++) dw2[i * K + c] += v * e2[s * K + c];
      }
      for (let j = 0; j < H; j++) db1[j] += e1[s * H + j];
      for (let c = 0; c < K; c++) db2[c] += e2[s * K + c];
    }
    for (let i = 0; i < w1.length; i++) w1[i] -= LR * dw1[i];
    for (let i = 0; i < w2.length; i++) w2[i] -= LR * dw2[i];
    for (let i = 0; i < H; i++) b1[i] -= LR * db1[i];
    for (let i = 0; i < K; i++) b2[i] -= LR * db2[i];
  };
}

const CASES: [string, () => () => void][] = [
  ["plain loops float64 (naive i-k-j)", plainLoops],
  ["hand backward float64", () => ours("float64", "hand")],
  ["autodiff float64", () => ours("float64", "autodiff")],
  ["hand backward float32", () => ours("float32", "hand")],
  ["autodiff float32", () => ours("float32", "autodiff")],
  ["hand backward float64, momentum 0.9", () => ours("float64", "hand", 0.9)],
  ["wasm: hand backward float64", () => ours("float64", "hand", 0, wasm)],
  ["wasm: autodiff float64", () => ours("float64", "autodiff", 0, wasm)],
  ["wasm: hand backward float32", () => ours("float32", "hand", 0, wasm)],
  ["wasm: autodiff float32", () => ours("float32", "autodiff", 0, wasm)],
];

const steps = new Map<string, () => void>();
/** Each case is set up on first use, so neither mode builds what it does not run. */
function get(name: string, make: () => () => void): () => void {
  let f = steps.get(name);
  if (!f) steps.set(name, f = make());
  return f;
}

for (const [i, [name, make]] of CASES.entries()) {
  Deno.bench({
    name,
    group: "784-500-10 SGD step, batch 128",
    baseline: i === 0,
    fn: () => get(name, make)(),
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

if (import.meta.main) {
  const rounds = Number(Deno.args[0] ?? 5), reps = 4;
  const fs = CASES.map(([name, make]) => get(name, make));
  fs.forEach((f) => f()); // warm up
  const ms: number[][] = CASES.map(() => []);
  // Cases alternate round by round so that all see the same machine load.
  for (let r = 0; r < rounds; r++) {
    fs.forEach((f, i) => {
      const t0 = performance.now();
      for (let k = 0; k < reps; k++) f();
      ms[i].push((performance.now() - t0) / reps);
    });
    // A turn of the event loop lets the wasm kernel's finalizers free what was not disposed.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const base = median(ms[0]);
  console.log("| case | ms/step | s/epoch (469 steps) | vs plain loops |");
  console.log("|---|---:|---:|---:|");
  CASES.forEach(([name], i) => {
    const m = median(ms[i]);
    console.log(
      `| ${name} | ${m.toFixed(1)} | ${(m * STEPS_PER_EPOCH / 1000).toFixed(1)} | ${
        (base / m).toFixed(2)
      }x faster |`,
    );
  });
}
