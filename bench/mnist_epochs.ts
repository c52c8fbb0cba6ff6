// One epoch of the MNIST default run (document 003: 784-500-10, batch 128, SGD lr 0.1
// momentum 0.9, float64 unless --dtype float32) on the ts kernel and on the wasm kernel,
// alternating in one process, so that each pair of epochs sees the same machine. The
// shared VM's speed drifts by up to 2x over minutes: a ratio of two separate runs says
// little, the median of adjacent pairs much more. Each kernel trains its own network from
// the same initial weights and shuffles, epoch after epoch (momentum restarts with each
// epoch here: one step in 469 has no velocity yet); test-set evaluation is left out (the
// script reports it separately).
//   deno run --allow-read bench/mnist_epochs.ts [--pairs 4] [--dtype float64]
import { parseArgs } from "node:util";
import {
  type DType,
  initMlp,
  type Kernel,
  loadKernel,
  loadMnist,
  type Mlp,
  Random,
  sgd,
  trainMlp,
} from "../mod.ts";

const { values } = parseArgs({
  options: {
    pairs: { type: "string", default: "4" },
    dtype: { type: "string", default: "float64" },
  },
});
const pairs = Number(values.pairs);
const dtype = values.dtype as DType;
if (!Number.isSafeInteger(pairs) || pairs < 1) throw new RangeError("--pairs must be >= 1");
if (dtype !== "float64" && dtype !== "float32") throw new TypeError("--dtype: float64 or float32");

const mnist = await loadMnist();
const train = { inputs: mnist.train.images, labels: mnist.train.labels };
const optimizer = sgd({ lr: 0.1, momentum: 0.9 });

interface Run {
  name: string;
  kernel: Kernel;
  model: Mlp;
  rng: Random;
  seconds: number[];
}
const runs: Run[] = [];
for (const name of ["ts", "wasm"]) {
  const kernel = await loadKernel(name);
  const rng = new Random(0);
  runs.push({
    name,
    kernel,
    model: initMlp([784, 500, 10], { rng, dtype, kernel }),
    rng,
    seconds: [],
  });
}

console.log(
  `MNIST epochs, ${dtype}, ${mnist.train.count} images at batch 128, ts and wasm alternating` +
    ` (wasm tile ${
      (runs[1].kernel as { f64Tile?: string; f32Tile?: string })[
        dtype === "float64" ? "f64Tile" : "f32Tile"
      ]
    })`,
);
for (let p = 0; p < pairs; p++) {
  // Alternate which kernel goes first, so that a drift within a pair favours neither.
  for (const run of p % 2 === 0 ? runs : [...runs].reverse()) {
    const r = await trainMlp(run.model, train, {
      epochs: 1,
      batchSize: 128,
      optimizer,
      rng: run.rng,
    });
    for (const m of [...run.model.params, ...r.state.velocity]) m.dispose();
    run.model = r.model;
    run.seconds.push(r.history[0].seconds);
  }
  const [ts, wasm] = runs.map((r) => r.seconds[p]);
  console.log(
    `pair ${p + 1}: ts ${ts.toFixed(1)} s, wasm ${wasm.toFixed(2)} s, ratio ${
      (ts / wasm).toFixed(2)
    }`,
  );
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
};
const ratios = runs[0].seconds.map((t, i) => t / runs[1].seconds[i]);
console.log(
  `median: ts ${median(runs[0].seconds).toFixed(1)} s, wasm ${
    median(runs[1].seconds).toFixed(2)
  } s per epoch; ratio of pairs: median ${median(ratios).toFixed(2)}, range ${
    Math.min(...ratios).toFixed(2)
  }-${Math.max(...ratios).toFixed(2)}`,
);
