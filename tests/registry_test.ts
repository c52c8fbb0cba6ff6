import assert from "node:assert/strict";
import { add, currentKernel, kernelNames, loadKernel, Matrix, useKernel } from "../mod.ts";

Deno.test("kernel registry: names, auto, and switching the default", async () => {
  const names = kernelNames();
  assert.ok(names.includes("ts") && names.includes("wasm"), names.join(", "));
  assert.equal(currentKernel().name, "ts", "nothing but ts is loaded at import");
  const auto = await loadKernel("auto");
  assert.equal(auto.name, "wasm", "auto picks wasm where WebAssembly SIMD and threads exist");
  assert.equal(await loadKernel("wasm"), auto, "a kernel loads once");
  try {
    await useKernel("auto");
    const A = Matrix.from([[1, 2]]);
    assert.equal(A.kernel.name, "wasm");
    assert.deepEqual(add(A, 1).toArray(), [[2, 3]]);
    assert.equal(A.to("ts").kernel.name, "ts");
  } finally {
    await useKernel("ts");
  }
  assert.equal(Matrix.eye(1).kernel.name, "ts");
  (auto as unknown as { destroy(): void }).destroy();
});

Deno.test("kernel registry: clear errors for unknown and unloaded kernels", async () => {
  await assert.rejects(() => loadKernel("cuda"), {
    name: "TypeError",
    message: /Cannot load kernel "cuda": unknown name, expected auto or one of ts, webgpu, wasm/,
  });
  assert.throws(() => Matrix.zeros(1, 1, { kernel: "nope" }), {
    name: "TypeError",
    message: /unknown kernel "nope"/,
  });
});
