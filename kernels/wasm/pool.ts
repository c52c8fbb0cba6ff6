/**
 * Worker threads of the wasm kernel. Each worker instantiates the same module on the
 * same shared memory and waits on the generation word (it polls the word for a moment,
 * then sleeps in `Atomics.wait`). A job is an exported function `(tid)` that claims
 * work units from a shared counter until none is left (see emit_common.ts). To run
 * one, the main thread writes its parameters, opens the job, bumps the generation,
 * wakes the workers and claims units itself; when the units run out it closes the job
 * and waits (polling, then sleeping) until the workers that joined have finished. A worker that wakes after the job closed skips
 * it, so a busy machine costs the main thread nothing but the work it does itself.
 * The API stays synchronous and no message is passed per job.
 *
 * Workers come from `node:worker_threads` because Deno implements `unref()` there: an
 * idle pool never keeps the process alive, so users need not call `destroy()`.
 *
 * @module
 */
import {
  CLOSED,
  CTL,
  CTL_ERROR,
  CTL_GEN,
  CTL_GRAIN,
  CTL_JOB,
  CTL_NEXT,
  CTL_STATE,
  CTL_UNITS,
} from "./layout.ts";

/** A job: an exported function of the module. */
export type Job = (tid: number) => void;

interface NodeWorker {
  once(event: "message" | "error", listener: (value: unknown) => void): void;
  unref(): void;
  terminate(): Promise<number>;
}

/**
 * Polls of a shared word (about 10 ns each in Deno 2.9.6, so about 0.3 ms) before a
 * thread sleeps in `Atomics.wait`: a worker after a job, the main thread before it
 * waits for the workers to leave one. Waking a sleeping thread takes tens of
 * microseconds on a VM, as long as a small job; an MLP step runs a job every 50-500
 * us, so a polling worker joins at once. Measured: 4-7% faster float64 MLP steps.
 */
const SPINS = 30_000;

// The worker's source (CommonJS, run with `eval`): no file, no permission needed. It
// joins an open job by incrementing the state, reads the job only once inside it, and
// notifies the main thread when it is the last to leave a closed job.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { bytes, memory, tid, jobs } = workerData;
const exports_ = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
const fns = jobs.map((name) => exports_[name]);
const ctl = new Int32Array(memory.buffer, ${CTL}, 16);
let gen = Atomics.load(ctl, ${CTL_GEN});
parentPort.postMessage("ready");
for (let stop = false; !stop; ) {
  for (let i = 0; i < ${SPINS} && Atomics.load(ctl, ${CTL_GEN}) === gen; i++);
  Atomics.wait(ctl, ${CTL_GEN}, gen);
  gen = Atomics.load(ctl, ${CTL_GEN});
  for (;;) {
    const s = Atomics.load(ctl, ${CTL_STATE});
    if (s & ${CLOSED}) break;
    if (Atomics.compareExchange(ctl, ${CTL_STATE}, s, s + 1) !== s) continue;
    const job = Atomics.load(ctl, ${CTL_JOB});
    if (job < 0) {
      stop = true;
    } else {
      try {
        fns[job](tid);
      } catch {
        Atomics.store(ctl, ${CTL_ERROR}, 1);
      }
    }
    if (Atomics.sub(ctl, ${CTL_STATE}, 1) === (${CLOSED} | 1)) Atomics.notify(ctl, ${CTL_STATE});
    break;
  }
}
`;

/** Runs jobs on the main thread plus `threads - 1` workers. */
export class ThreadPool {
  /** Threads that share a job (the main thread included). */
  readonly threads: number;
  #workers: NodeWorker[];
  #ctl: Int32Array;
  #fns: Job[];
  #names: string[];
  #destroyed = false;

  private constructor(workers: NodeWorker[], ctl: Int32Array, fns: Job[], names: string[]) {
    this.threads = workers.length + 1;
    this.#workers = workers;
    this.#ctl = ctl;
    this.#fns = fns;
    this.#names = names;
  }

  /**
   * Starts `threads - 1` workers on `memory` running the module `bytes`; `jobs` names
   * its exported jobs and `exports` are the main thread's instance's exports.
   */
  static async create(
    memory: WebAssembly.Memory,
    bytes: Uint8Array,
    exports: WebAssembly.Exports,
    jobs: string[],
    threads: number,
  ): Promise<ThreadPool> {
    const fns = jobs.map((name) => exports[name] as Job);
    const ctl = new Int32Array(memory.buffer, CTL, 16);
    Atomics.store(ctl, CTL_STATE, CLOSED);
    const workers: NodeWorker[] = [];
    if (threads > 1) {
      const { Worker } = await import("node:worker_threads");
      try {
        for (let tid = 1; tid < threads; tid++) {
          const w = new Worker(WORKER_SOURCE, {
            eval: true,
            workerData: { bytes, memory, tid, jobs },
          }) as unknown as NodeWorker;
          workers.push(w);
          await new Promise<void>((resolve, reject) => {
            w.once("message", () => resolve());
            w.once("error", reject);
          });
          w.unref();
        }
      } catch (cause) {
        for (const w of workers) void w.terminate();
        throw new Error(`Cannot start the wasm kernel's worker threads: ${cause}`, { cause });
      }
    }
    return new ThreadPool(workers, ctl, fns, jobs);
  }

  /**
   * Runs job number `job` over `units` work units claimed `grain` at a time, on up to
   * `threads` threads (1: here only), and returns when every unit is done.
   */
  run(job: number, units: number, grain: number, threads: number): void {
    if (this.#destroyed) throw new Error("Cannot run a job on the wasm kernel: it was destroyed");
    const ctl = this.#ctl;
    Atomics.store(ctl, CTL_UNITS, units);
    Atomics.store(ctl, CTL_GRAIN, Math.max(1, grain));
    Atomics.store(ctl, CTL_NEXT, 0);
    const helpers = Math.min(threads, this.threads) - 1;
    if (helpers <= 0) {
      this.#fns[job](0);
      return;
    }
    Atomics.store(ctl, CTL_JOB, job);
    Atomics.store(ctl, CTL_STATE, 0);
    Atomics.add(ctl, CTL_GEN, 1);
    Atomics.notify(ctl, CTL_GEN, helpers);
    try {
      this.#fns[job](0);
    } finally {
      Atomics.or(ctl, CTL_STATE, CLOSED);
      for (let i = 0; i < SPINS && Atomics.load(ctl, CTL_STATE) !== CLOSED; i++);
      for (let s = Atomics.load(ctl, CTL_STATE); s !== CLOSED; s = Atomics.load(ctl, CTL_STATE)) {
        Atomics.wait(ctl, CTL_STATE, s);
      }
    }
    if (Atomics.exchange(ctl, CTL_ERROR, 0) !== 0) {
      throw new Error(`Cannot run ${this.#names[job]} on the wasm kernel: a worker thread failed`);
    }
  }

  /** Stops the workers (idempotent); later jobs throw. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    Atomics.store(this.#ctl, CTL_JOB, -1);
    Atomics.store(this.#ctl, CTL_STATE, 0);
    Atomics.add(this.#ctl, CTL_GEN, 1);
    Atomics.notify(this.#ctl, CTL_GEN);
    for (const w of this.#workers) void w.terminate();
  }
}
