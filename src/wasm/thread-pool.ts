/**
 * A pool of kernel threads over one shared linear memory: `threads - 1` workers, each with its own
 * instance of the same shared-memory module. A call is dispatched synchronously: the calling thread
 * writes the kernel and its arguments into the control block, bumps the generation and notifies,
 * then every thread takes parts (PARTS_PER_THREAD per thread, first come first served) until none is
 * left. Workers that have not joined by then are closed out of the call and not waited for (a worker
 * that is slow to wake never holds a call up); the caller waits (Atomics.wait in slices) only for
 * those that joined. No allocation and no message per call.
 *
 * A part that throws in a worker (a trap) becomes a WorkerError on the calling thread.
 */
import { platform } from '#platform';
import { WorkerError } from '../errors.js';
import type { WorkerPort } from '../platform/types.js';
import { CONTROL_INTS, Ctl, Kernel, KERNEL_ARGS, KERNEL_EXPORTS, MESSAGE_CHARS, PARTS_PER_THREAD, Slot, SPIN_MS } from './thread-control.js';
import { THREAD_WORKER_SOURCE, type ThreadReply, type ThreadStart } from './thread-worker-source.js';
import type { KernelExports } from './loader.js';

/** How long a worker may take to start (compile nothing: it instantiates a compiled module). */
export const START_TIMEOUT_MS = 20_000;
/** The caller's wait slice (it waits only for workers that joined, and they always report). */
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

  /** Why the pool no longer runs calls (dispose()), or null. */
  get stoppedReason(): string | null {
    return this.stopped;
  }

  /** Parts of one call: the kernels' scratch holds one slice per part. */
  get parts(): number {
    return this.threads * PARTS_PER_THREAD;
  }

  /**
   * Runs kernel `id` in `parts` parts on every thread; returns when all are done. `a0…a9` are the
   * kernel's arguments before (part, parts); those past its KERNEL_ARGS are unused (default 0).
   */
  run(id: KernelId, a0: number, a1: number, a2: number, a3: number, a4: number, a5 = 0, a6 = 0, a7 = 0, a8 = 0, a9 = 0): void {
    const c = this.ctl;
    const parts = this.parts;
    c[Ctl.KERNEL] = id;
    c[Ctl.PARTS] = parts;
    const a = Ctl.ARGS;
    c[a] = a0; c[a + 1] = a1; c[a + 2] = a2; c[a + 3] = a3; c[a + 4] = a4;
    c[a + 5] = a5; c[a + 6] = a6; c[a + 7] = a7; c[a + 8] = a8; c[a + 9] = a9;
    c[Ctl.DONE] = 0;
    c[Ctl.FAILED] = 0;
    Atomics.store(c, Ctl.NEXT, 0);
    // seq-cst stores and add: a worker that joins sees the arguments above (and the operands in memory)
    for (let w = 1; w < this.threads; w++) Atomics.store(c, Ctl.SLOTS + w, Slot.PENDING);
    Atomics.add(c, Ctl.GEN, 1);
    Atomics.notify(c, Ctl.GEN);
    let own: unknown = null;
    try {
      for (let p = Atomics.add(c, Ctl.NEXT, 1); p < parts; p = Atomics.add(c, Ctl.NEXT, 1)) this.part(id, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, p, parts);
    } catch (e) {
      own = e ?? new Error('kernel failed');
    }
    this.wait(id);
    if (own) throw own;
  }

  /** One part of kernel `id`, looked up in the same table the worker script uses (KERNEL_EXPORTS, KERNEL_ARGS). */
  private part(id: KernelId, a0: number, a1: number, a2: number, a3: number, a4: number, a5: number, a6: number, a7: number, a8: number, a9: number, p: number, parts: number): void {
    const f = this.ex[KERNEL_EXPORTS[id]] as (...args: number[]) => void;
    const argc = KERNEL_ARGS[id];
    if (argc === 10) f(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, p, parts);
    else if (argc === 9) f(a0, a1, a2, a3, a4, a5, a6, a7, a8, p, parts);
    else if (argc === 8) f(a0, a1, a2, a3, a4, a5, a6, a7, p, parts);
    else if (argc === 7) f(a0, a1, a2, a3, a4, a5, a6, p, parts);
    else f(a0, a1, a2, a3, a4, p, parts);
  }

  /** Closes the call to workers that have not joined it, waits for those that have; throws for a failed part. */
  private wait(id: KernelId): void {
    const c = this.ctl;
    let joined = 0;
    for (let w = 1; w < this.threads; w++) if (Atomics.compareExchange(c, Ctl.SLOTS + w, Slot.PENDING, Slot.CANCELLED) !== Slot.PENDING) joined++;
    // the last parts usually end within a part's time: watch for them before sleeping (SPIN_MS)
    for (const t0 = performance.now(); Atomics.load(c, Ctl.DONE) < joined && performance.now() - t0 < SPIN_MS; );
    for (let done = Atomics.load(c, Ctl.DONE); done < joined; done = Atomics.load(c, Ctl.DONE)) Atomics.wait(c, Ctl.DONE, done, WAIT_SLICE_MS);
    const failed = Atomics.load(c, Ctl.FAILED);
    if (failed) {
      let text = '';
      for (let i = 0; i < MESSAGE_CHARS && c[Ctl.MESSAGE + i] !== 0; i++) text += String.fromCharCode(c[Ctl.MESSAGE + i]);
      throw new WorkerError(`${KERNEL_EXPORTS[id]} failed in kernel thread ${failed - 1}: ${text}`);
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
