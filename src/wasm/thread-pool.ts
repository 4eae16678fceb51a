/**
 * A pool of kernel threads over one shared linear memory: `threads - 1` workers, each with its own
 * instance of the same shared-memory module. A call is dispatched synchronously: the calling thread
 * writes the kernel and its arguments into the control block, bumps the generation and notifies,
 * computes part 0 itself, then waits (Atomics.wait with a timeout, never unbounded) until every
 * worker has finished its part. No allocation and no message per call.
 *
 * Failures never hang the caller: a part that throws in a worker (a trap) becomes a WorkerError on
 * the calling thread; a worker that does not claim a call within CLAIM_TIMEOUT_MS (it died) is
 * cancelled, the call fails with a WorkerError and the pool stops (later calls run on one thread).
 */
import { platform } from '#platform';
import { WorkerError } from '../errors.js';
import type { WorkerPort } from '../platform/types.js';
import { CONTROL_INTS, Ctl, Kernel, KERNEL_EXPORTS, MESSAGE_CHARS, Slot } from './thread-control.js';
import { THREAD_WORKER_SOURCE, type ThreadReply, type ThreadStart } from './thread-worker-source.js';
import type { KernelExports } from './loader.js';

/** How long a worker may take to start (compile nothing: it instantiates a compiled module). */
export const START_TIMEOUT_MS = 20_000;
/** How long a worker may take to claim a posted call before the caller gives up on it. */
const CLAIM_TIMEOUT_MS = 30_000;
/** The caller's wait slice: it re-checks the workers at least this often. */
const WAIT_SLICE_MS = 200;

type KernelId = (typeof Kernel)[keyof typeof Kernel];

/** Workers are stopped when their pool is garbage collected without dispose(). */
const orphans = new FinalizationRegistry<WorkerPort[]>((ports) => {
  for (const p of ports) void p.terminate();
});

export class ThreadPool {
  private readonly ctl: Int32Array;
  private stopped: string | null = null;

  private constructor(
    private readonly ex: KernelExports,
    control: number,
    private readonly workers: WorkerPort[],
    /** Threads per call, the calling thread included. */
    readonly threads: number,
  ) {
    this.ctl = new Int32Array(ex.memory.buffer, control, CONTROL_INTS);
    orphans.register(this, workers, this);
  }

  /**
   * Starts `threads - 1` workers on `module` and `memory` (control: CONTROL_BYTES at that address,
   * zero-filled) and waits for each to answer READY. Rejects with a WorkerError (and stops the
   * workers it started) when one fails to start or does not answer within `timeoutMs`.
   */
  static async start(
    module: WebAssembly.Module,
    ex: KernelExports,
    control: number,
    threads: number,
    timeoutMs = START_TIMEOUT_MS,
    source = THREAD_WORKER_SOURCE,
  ): Promise<ThreadPool> {
    const workers: WorkerPort[] = [];
    try {
      for (let i = 1; i < threads; i++) workers.push(platform.startInlineWorker(source));
      await Promise.all(workers.map((w, i) => ready(w, { module, memory: ex.memory, index: i + 1, control }, timeoutMs)));
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e instanceof WorkerError ? e : new WorkerError(`kernel threads could not start: ${(e as Error).message}`);
    }
    // idle workers wait in Atomics.wait forever: they must not keep a Node process alive
    for (const w of workers) w.unref?.();
    return new ThreadPool(ex, control, workers, threads);
  }

  /** Why the pool no longer runs calls (a worker stopped answering, or dispose()), or null. */
  get stoppedReason(): string | null {
    return this.stopped;
  }

  /**
   * Runs kernel `id` in `threads` parts: part 0 here, the others in the workers; returns when all
   * are done. `args` are the kernel's arguments before (part, parts).
   */
  run(id: KernelId, a0: number, a1: number, a2: number, a3: number, a4: number, a5: number, a6: number, a7 = 0, a8 = 0, a9 = 0): void {
    const c = this.ctl;
    const parts = this.threads;
    c[Ctl.KERNEL] = id;
    c[Ctl.PARTS] = parts;
    const a = Ctl.ARGS;
    c[a] = a0; c[a + 1] = a1; c[a + 2] = a2; c[a + 3] = a3; c[a + 4] = a4;
    c[a + 5] = a5; c[a + 6] = a6; c[a + 7] = a7; c[a + 8] = a8; c[a + 9] = a9;
    c[Ctl.DONE] = 0;
    c[Ctl.FAILED] = 0;
    for (let w = 1; w < parts; w++) c[Ctl.SLOTS + w] = Slot.PENDING;
    // the seq-cst add publishes everything written above (and the operands in memory) to the workers
    Atomics.add(c, Ctl.GEN, 1);
    Atomics.notify(c, Ctl.GEN);
    let own: unknown = null;
    try {
      this.part(id, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, parts);
    } catch (e) {
      own = e ?? new Error('kernel failed');
    }
    this.wait(id, parts - 1);
    if (own) throw own;
  }

  private part(id: KernelId, a0: number, a1: number, a2: number, a3: number, a4: number, a5: number, a6: number, a7: number, a8: number, a9: number, parts: number): void {
    const ex = this.ex;
    switch (id) {
      case Kernel.CONV2D_FORWARD: return ex.conv2d_forward_f32(a0, a1, a2, a3, a4, a5, a6, 0, parts);
      case Kernel.CONV2D_TRANSPOSE: return ex.conv2d_transpose_f32(a0, a1, a2, a3, a4, a5, a6, 0, parts);
      case Kernel.DENSE_FORWARD: return ex.dense_forward_f32(a0, a1, a2, a3, a4, a5, a6, 0, parts);
      case Kernel.DENSE_TRANSPOSE: return ex.dense_transpose_f32(a0, a1, a2, a3, a4, a5, a6, 0, parts);
      case Kernel.MATMUL: return ex.matmul_f32(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, 0, parts);
    }
  }

  /** Waits until `expected` workers are done; throws a WorkerError for a failed or lost worker. */
  private wait(id: KernelId, expected: number): void {
    const c = this.ctl;
    const started = Date.now();
    let lost = 0;
    for (;;) {
      const done = Atomics.load(c, Ctl.DONE);
      if (done >= expected - lost) break;
      if (Atomics.wait(c, Ctl.DONE, done, WAIT_SLICE_MS) !== 'timed-out' || Date.now() - started < CLAIM_TIMEOUT_MS) continue;
      // a worker that has not even claimed the call by now is gone: cancel its part (it will never run it)
      for (let w = 1; w <= expected; w++) {
        if (Atomics.compareExchange(c, Ctl.SLOTS + w, Slot.PENDING, Slot.CANCELLED) === Slot.PENDING) lost++;
      }
    }
    const kernel = KERNEL_EXPORTS[id];
    if (lost > 0) {
      this.stop(`${lost} kernel thread(s) stopped answering`);
      throw new WorkerError(`${kernel}: ${lost} kernel thread(s) did not answer within ${CLAIM_TIMEOUT_MS / 1000} s; this result is incomplete and the model runs on one thread from now on`);
    }
    const failed = Atomics.load(c, Ctl.FAILED);
    if (failed) {
      let text = '';
      for (let i = 0; i < MESSAGE_CHARS && c[Ctl.MESSAGE + i] !== 0; i++) text += String.fromCharCode(c[Ctl.MESSAGE + i]);
      throw new WorkerError(`${kernel} failed in kernel thread ${failed - 1}: ${text}`);
    }
  }

  private stop(reason: string): void {
    if (this.stopped) return;
    this.stopped = reason;
    Atomics.store(this.ctl, Ctl.QUIT, 1);
    Atomics.notify(this.ctl, Ctl.GEN);
    orphans.unregister(this);
    for (const w of this.workers) void w.terminate();
  }

  /** Stops the workers (idempotent). */
  dispose(): void {
    this.stop('disposed');
  }
}

/** Posts the start message and waits for READY, a start error, a worker failure or the timeout. */
function ready(w: WorkerPort, start: ThreadStart, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new WorkerError(`kernel thread ${start.index} did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    const settle = (fn: () => void) => {
      clearTimeout(timer);
      fn();
    };
    w.onFailure((why) => settle(() => reject(new WorkerError(`kernel thread ${start.index} failed to start: ${why}`))));
    w.onReply((msg) => {
      const r = msg as ThreadReply;
      settle(() => (r.ready ? resolve() : reject(new WorkerError(`kernel thread ${start.index} failed to start: ${r.error}`))));
    });
    w.post(start);
  });
}
