/**
 * The script of a kernel thread, as source text: a classic Web Worker script with no imports (Node's
 * platform runs it as an `eval` worker thread with a `self` over its parentPort), so that it needs no
 * worker file to locate in any bundle, and is written as a string so that no bundler or minifier
 * rewrites it. It receives
 * the compiled shared-memory module and the shared memory once, instantiates them (the data segment
 * it re-applies holds constant tables only), answers READY, then serves calls from the control block
 * (thread-control.ts) until told to quit.
 */
import { CONTROL_INTS, Ctl, KERNEL_ARGS, KERNEL_EXPORTS, MESSAGE_CHARS, Slot, SPIN_MS } from './thread-control.js';

/** What the pool posts to a starting kernel thread. */
export interface ThreadStart {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** 1..threads-1: which GEMM workspace and control slot it uses. */
  index: number;
  /** Byte address of the control block. */
  control: number;
}

/** What a kernel thread answers once: READY, or why it could not start. */
export type ThreadReply = { ready: true } | { ready: false; error: string };

export const THREAD_WORKER_SOURCE = `'use strict';
(() => {
  const C = ${JSON.stringify(Ctl)};
  const S = ${JSON.stringify(Slot)};
  const NAMES = ${JSON.stringify(KERNEL_EXPORTS)};
  const ARGC = ${JSON.stringify(KERNEL_ARGS)};
  const post = (m) => self.postMessage(m);
  const SPIN_MS = ${SPIN_MS};
  const serve = (start) => {
    let ex;
    try {
      ex = new WebAssembly.Instance(start.module, { env: { memory: start.memory } }).exports;
      ex.lrp_set_thread(start.index);
    } catch (e) {
      post({ ready: false, error: String((e && e.message) || e) });
      return;
    }
    const c = new Int32Array(start.memory.buffer, start.control, ${CONTROL_INTS});
    const fns = NAMES.map((n) => ex[n]);
    const me = start.index;
    const slot = C.SLOTS + me;
    const a = C.ARGS;
    let seen = Atomics.load(c, C.GEN);
    post({ ready: true });
    for (;;) {
      // the next call often follows within microseconds: watch for it a little before sleeping
      for (const t0 = performance.now(); Atomics.load(c, C.GEN) === seen && performance.now() - t0 < SPIN_MS; );
      Atomics.wait(c, C.GEN, seen);
      const gen = Atomics.load(c, C.GEN);
      if (Atomics.load(c, C.QUIT)) return;
      if (gen === seen) continue;
      seen = gen;
      // join the call unless the caller has closed it (it took every part before this worker woke)
      if (Atomics.compareExchange(c, slot, S.PENDING, S.TAKEN) !== S.PENDING) continue;
      try {
        const parts = c[C.PARTS];
        const f = fns[c[C.KERNEL]];
        if (!f) throw new Error('unknown kernel ' + c[C.KERNEL]);
        const argc = ARGC[c[C.KERNEL]];
        for (let p = Atomics.add(c, C.NEXT, 1); p < parts; p = Atomics.add(c, C.NEXT, 1)) {
          if (argc === 10) f(c[a], c[a + 1], c[a + 2], c[a + 3], c[a + 4], c[a + 5], c[a + 6], c[a + 7], c[a + 8], c[a + 9], p, parts);
          else if (argc === 9) f(c[a], c[a + 1], c[a + 2], c[a + 3], c[a + 4], c[a + 5], c[a + 6], c[a + 7], c[a + 8], p, parts);
          else if (argc === 8) f(c[a], c[a + 1], c[a + 2], c[a + 3], c[a + 4], c[a + 5], c[a + 6], c[a + 7], p, parts);
          else if (argc === 7) f(c[a], c[a + 1], c[a + 2], c[a + 3], c[a + 4], c[a + 5], c[a + 6], p, parts);
          else f(c[a], c[a + 1], c[a + 2], c[a + 3], c[a + 4], p, parts);
        }
      } catch (e) {
        if (Atomics.compareExchange(c, C.FAILED, 0, me + 1) === 0) {
          const text = String((e && e.message) || e).slice(0, ${MESSAGE_CHARS});
          for (let i = 0; i < text.length; i++) c[C.MESSAGE + i] = text.charCodeAt(i);
          c[C.MESSAGE + text.length] = 0;
        }
      }
      Atomics.add(c, C.DONE, 1);
      Atomics.notify(c, C.DONE);
    }
  };
  self.addEventListener('message', (e) => serve(e.data), { once: true });
})();
`;
