/**
 * The device side of the WebGPU kernel: buffers and their lifetime, the pipeline
 * cache, dispatch over 2-D grids, reads, and GPU error reporting.
 *
 * @module
 */

import { bufferOf, ownedBy, release, WebGpuStorage } from "./storage.ts";

const STORAGE_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** A compiled pipeline and its bind group layout. */
export interface Pipeline {
  /** The compute pipeline. */
  readonly pipeline: GPUComputePipeline;
  /** Its bind group layout 0. */
  readonly layout: GPUBindGroupLayout;
}

/** One compute dispatch: uniform values (binding 0), storage buffers (1..), workgroup count. */
export interface Pass {
  /** Cached pipeline, from {@link GpuContext.pipeline}. */
  pipeline: Pipeline;
  /** Uniform block as raw bytes (u32 and f32 fields), bound at binding 0. */
  uniform: ArrayBuffer;
  /** Storage buffers bound at bindings 1, 2, ... in order. */
  buffers: GPUBuffer[];
  /** Workgroups, counted linearly; spread over a 2-D grid. Shaders must skip ids >= this. */
  workgroups: number;
}

/** Packs u32 fields (numbers) and f32 fields (`{ f32: x }`) into a 16-byte-aligned block. */
export function uniform(fields: readonly (number | { f32: number })[]): ArrayBuffer {
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil(fields.length / 4) * 16));
  const u = new Uint32Array(bytes), f = new Float32Array(bytes);
  fields.forEach((v, i) => typeof v === "number" ? (u[i] = v) : (f[i] = v.f32));
  return bytes;
}

/** Owns a GPUDevice on behalf of one kernel. */
export class GpuContext {
  /** The device; exposed for interop and tests. */
  readonly device: GPUDevice;
  /** Largest storage, in float32 elements, one binding can hold. */
  readonly maxElements: number;
  #debug: boolean;
  #pipelines = new Map<string, Pipeline>();
  #live = new Set<GPUBuffer>();
  #registry = new FinalizationRegistry<GPUBuffer>((b) => this.#free(b));
  #errors: string[] = [];
  #pending = new Set<Promise<void>>();
  #destroyed = false;
  #lost: GPUDeviceLostInfo | null = null;

  constructor(device: GPUDevice, debug: boolean) {
    this.device = device;
    this.#debug = debug;
    const l = device.limits;
    this.maxElements = Math.floor(Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize) / 4);
    device.addEventListener("uncapturederror", (e) => {
      this.#errors.push((e as GPUUncapturedErrorEvent).error.message.trim());
    });
    device.lost.then((info) => (this.#lost = info));
  }

  /** Number of buffers made and not yet destroyed (storage plus in-flight temporaries). */
  get liveBuffers(): number {
    return this.#live.size;
  }

  /** Throws if the device is gone or an earlier GPU command failed (reported once). */
  check(op: string): void {
    if (this.#destroyed) {
      throw new Error(`Cannot run ${op} on the webgpu kernel: the kernel was destroyed`);
    }
    if (this.#lost) {
      const { reason, message } = this.#lost;
      throw new Error(
        `Cannot run ${op} on the webgpu kernel: the device was lost (${reason}: ${message})`,
      );
    }
    if (this.#errors.length > 0) {
      const all = this.#errors.splice(0);
      throw new Error(
        `Cannot run ${op} on the webgpu kernel: an earlier GPU command failed: ${all.join("; ")}`,
      );
    }
  }

  /** The pipeline for `key`, compiling `code()` on first use only. */
  pipeline(key: string, code: () => string): Pipeline {
    let entry = this.#pipelines.get(key);
    if (!entry) {
      const module = this.device.createShaderModule({ label: key, code: code() });
      const pipeline = this.device.createComputePipeline({
        label: key,
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
      entry = { pipeline, layout: pipeline.getBindGroupLayout(0) };
      this.#pipelines.set(key, entry);
    }
    return entry;
  }

  /** New storage of `length` float32 elements, filled from `data` when given. */
  storage(length: number, op: string, data?: ArrayLike<number>): WebGpuStorage {
    const buffer = this.buffer(length, op, data);
    const s = new WebGpuStorage(this, buffer, length);
    this.#registry.register(s, buffer, s);
    return s;
  }

  /**
   * A tracked storage-usage buffer of `length` 4-byte elements (at least 4 bytes), filled
   * from `data` (as i32 when it is an Int32Array, else f32); free it with {@link free}.
   */
  buffer(length: number, op: string, data?: ArrayLike<number>): GPUBuffer {
    if (!Number.isInteger(length) || length < 0 || length > this.maxElements) {
      throw new RangeError(
        `Cannot allocate ${length} float32 elements in ${op} on the webgpu kernel: ` +
          `the device holds at most ${this.maxElements} elements (${
            this.maxElements * 4
          } bytes) in one buffer`,
      );
    }
    const size = Math.max(4, length * 4);
    const mappedAtCreation = data !== undefined && length > 0;
    const buffer = this.device.createBuffer({
      label: op,
      size,
      usage: STORAGE_USAGE,
      mappedAtCreation,
    });
    if (mappedAtCreation) {
      const View = data instanceof Int32Array ? Int32Array : Float32Array;
      new View(buffer.getMappedRange(), 0, length).set(data);
      buffer.unmap();
    }
    this.#live.add(buffer);
    return buffer;
  }

  /** Destroys a buffer made by {@link buffer} (after submit is fine: the GPU finishes first). */
  free(b: GPUBuffer): void {
    this.#free(b);
  }

  #free(b: GPUBuffer): void {
    if (this.#live.delete(b)) b.destroy();
  }

  /** The buffer behind `s` (checked). */
  bufferOf(s: WebGpuStorage, op: string): GPUBuffer {
    return bufferOf(s, this, op);
  }

  /** Destroys the buffer of `s` now; later uses of `s` throw. Idempotent. */
  dispose(s: WebGpuStorage): void {
    if (!ownedBy(s, this)) bufferOf(s, this, "dispose"); // throws the usual TypeError
    const b = release(s);
    if (b === null) return;
    this.#registry.unregister(s);
    this.#free(b);
  }

  /** Encodes `passes` in one compute pass, submits, then frees `temps`. */
  run(op: string, passes: Pass[], temps: GPUBuffer[] = []): void {
    const device = this.device;
    if (this.#debug) this.#pushScopes();
    const encoder = device.createCommandEncoder({ label: op });
    const cp = encoder.beginComputePass({ label: op });
    const uniforms: GPUBuffer[] = [];
    for (const p of passes) {
      if (p.workgroups === 0) continue;
      const u = device.createBuffer({
        label: op,
        size: p.uniform.byteLength,
        usage: GPUBufferUsage.UNIFORM,
        mappedAtCreation: true,
      });
      new Uint8Array(u.getMappedRange()).set(new Uint8Array(p.uniform));
      u.unmap();
      uniforms.push(u);
      const entries = [u, ...p.buffers].map((buffer, binding) => ({
        binding,
        resource: { buffer },
      }));
      cp.setPipeline(p.pipeline.pipeline);
      cp.setBindGroup(0, device.createBindGroup({ label: op, layout: p.pipeline.layout, entries }));
      const [x, y] = this.#grid(p.workgroups, op);
      cp.dispatchWorkgroups(x, y);
    }
    cp.end();
    device.queue.submit([encoder.finish()]);
    for (const u of uniforms) u.destroy();
    for (const t of temps) this.#free(t);
    if (this.#debug) this.#popScopes(op);
  }

  /** Copies `bytes` bytes from `src` to `dst` on the device. */
  copy(op: string, src: GPUBuffer, dst: GPUBuffer, bytes: number): void {
    if (bytes === 0) return;
    if (this.#debug) this.#pushScopes();
    const encoder = this.device.createCommandEncoder({ label: op });
    encoder.copyBufferToBuffer(src, 0, dst, 0, bytes);
    this.device.queue.submit([encoder.finish()]);
    if (this.#debug) this.#popScopes(op);
  }

  /** Copies `s` to the host through a mappable staging buffer. */
  async read(s: WebGpuStorage): Promise<Float32Array> {
    const src = this.bufferOf(s, "read");
    this.check("read");
    if (s.length === 0) return new Float32Array(0);
    const bytes = s.length * 4;
    const staging = this.device.createBuffer({
      label: "read",
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.#live.add(staging);
    try {
      if (this.#debug) this.#pushScopes();
      const encoder = this.device.createCommandEncoder({ label: "read" });
      encoder.copyBufferToBuffer(src, 0, staging, 0, bytes);
      this.device.queue.submit([encoder.finish()]);
      if (this.#debug) this.#popScopes("read");
      try {
        await staging.mapAsync(GPUMapMode.READ);
      } catch (cause) {
        this.check("read"); // names a destroyed or lost device
        throw new Error(`Cannot read from the webgpu kernel: ${cause}`, { cause });
      }
      const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
      staging.unmap();
      await Promise.all(this.#pending);
      this.check("read");
      return out;
    } finally {
      this.#free(staging);
    }
  }

  /** Waits for all submitted work; throws if any GPU command failed. */
  async flush(): Promise<void> {
    this.check("flush");
    await this.device.queue.onSubmittedWorkDone();
    await Promise.all(this.#pending);
    this.check("flush");
  }

  /** Destroys every buffer and the device. Idempotent. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const b of this.#live) b.destroy();
    this.#live.clear();
    this.#pipelines.clear();
    this.device.destroy();
  }

  #grid(workgroups: number, op: string): [number, number] {
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    const x = Math.min(workgroups, max), y = Math.ceil(workgroups / x);
    if (y > max) {
      throw new RangeError(
        `Cannot dispatch ${op} on the webgpu kernel: ${workgroups} workgroups exceed ${max}^2`,
      );
    }
    return [x, y];
  }

  #pushScopes(): void {
    this.device.pushErrorScope("validation");
    this.device.pushErrorScope("out-of-memory");
    this.device.pushErrorScope("internal");
  }

  #popScopes(op: string): void {
    for (let i = 0; i < 3; i++) {
      const p: Promise<void> = this.device.popErrorScope().then((e) => {
        if (e) this.#errors.push(`${op}: ${e.message.trim()}`);
      }, (e) => {
        this.#errors.push(`${op}: ${e}`);
      }).finally(() => this.#pending.delete(p));
      this.#pending.add(p);
    }
  }
}
