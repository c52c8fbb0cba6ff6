// Autodiff and training on the webgpu kernel, against the ts kernel in float32.
// Deno finds Mesa's llvmpipe software adapter on machines without a GPU, so this runs in CI.
import assert from "node:assert/strict";
import {
  grad,
  initMlp,
  type Kernel,
  Matrix,
  mlpLoss,
  oneHot,
  Random,
  sgd,
  trainMlp,
} from "../mod.ts";
import { tsKernel } from "../kernels/ts/mod.ts";
import { createWebGpuKernel } from "../kernels/webgpu/mod.ts";

const hasGpu = "gpu" in navigator && (await navigator.gpu.requestAdapter()) !== null;

/** A separable 4-class problem: labels from the signs of two linear functions. */
function dataset(n: number, features: number) {
  const rng = new Random(7);
  const inputs = new Float64Array(n * features);
  for (let i = 0; i < inputs.length; i++) inputs[i] = rng.nextNormal();
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const row = inputs.subarray(i * features, (i + 1) * features);
    labels[i] = (row[0] + row[1] > 0 ? 1 : 0) + (row[2] - row[3] > 0 ? 2 : 0);
  }
  return { inputs, labels };
}

async function train(kernel: Kernel) {
  const model = initMlp([16, 24, 4], { seed: 3, dtype: "float32", kernel });
  const losses: number[] = [];
  const r = await trainMlp(model, dataset(192, 16), {
    epochs: 3,
    batchSize: 32,
    optimizer: sgd({ lr: 0.1, momentum: 0.9 }),
    seed: 5,
    dtype: "float32",
    onStep: (s) => losses.push(s.loss),
  });
  return { losses, params: await Promise.all(r.model.params.map((p) => p.readTypedArray())) };
}

Deno.test({
  name: "webgpu: grad of an MLP loss matches the ts kernel (float32)",
  ignore: !hasGpu,
  fn: async () => {
    const gpu = await createWebGpuKernel();
    try {
      const { inputs, labels } = dataset(32, 16);
      const results = [];
      for (const kernel of [tsKernel, gpu] as Kernel[]) {
        const model = initMlp([16, 24, 4], { seed: 1, dtype: "float32", kernel });
        const X = Matrix.fromArray(inputs, 32, 16, { dtype: "float32", kernel });
        const Y = oneHot(labels, 4, { dtype: "float32", kernel });
        const W1 = model.params[0];
        const f = (w: Matrix) => mlpLoss({ ...model, params: [w, ...model.params.slice(1)] }, X, Y);
        results.push(await grad(f)(W1).readTypedArray());
      }
      const [want, got] = results;
      const scale = Math.max(...Array.from(want, Math.abs));
      // float32 on both sides, summed in different orders (GPU tree reductions): a few
      // ulps of the largest entry, times the 32-sample sums.
      for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * scale);
    } finally {
      gpu.destroy();
    }
  },
});

Deno.test({
  name: "webgpu: training follows the ts kernel's loss curve, and frees its buffers",
  ignore: !hasGpu,
  fn: async () => {
    const gpu = await createWebGpuKernel();
    try {
      const base = gpu.liveBuffers();
      const ref = await train(tsKernel);
      const run = await train(gpu);
      assert.equal(run.losses.length, 18);
      assert.ok(ref.losses.at(-1)! < 0.7 * ref.losses[0], "the network learns");
      // float32 rounding differs between kernels and compounds over 18 SGD steps with
      // momentum; 1e-4 relative is still 1000x below the change per step.
      for (let i = 0; i < ref.losses.length; i++) {
        assert.ok(
          Math.abs(run.losses[i] - ref.losses[i]) <= 1e-4 * Math.max(1, ref.losses[i]),
          `step ${i}: ${run.losses[i]} vs ${ref.losses[i]}`,
        );
      }
      // Unreachable matrices give their GPU buffers back (FinalizationRegistry); this
      // needs a collection, so it is checked where the test runner exposes gc.
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc) {
        for (let i = 0; i < 30 && gpu.liveBuffers() > base; i++) {
          gc();
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(gpu.liveBuffers(), base, "no GPU buffer outlives the training loop");
      }
    } finally {
      gpu.destroy();
    }
  },
});
