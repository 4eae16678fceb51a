/**
 * The control block through which the calling thread hands a kernel call to the kernel threads:
 * Int32 slots in the shared linear memory, read and written with Atomics (no message per call).
 * Shared by the pool (thread-pool.ts) and the worker script (thread-worker-source.ts).
 */

/** Slot indices (Int32) of the control block. */
export const Ctl = {
  /** Bumped once per call; the workers wait on it. */
  GEN: 0,
  /** Workers that have finished the current call (successfully or not). */
  DONE: 1,
  /** 1 + the index of the first worker whose part threw, or 0. */
  FAILED: 2,
  /** 1: the workers leave their loop. */
  QUIT: 3,
  /** Which kernel (Kernel below). */
  KERNEL: 4,
  /** Number of parts of the current call: PARTS_PER_THREAD per thread. */
  PARTS: 5,
  /** The next part to take: every thread takes parts with Atomics.add until none is left. */
  NEXT: 6,
  /** The kernel's arguments before (part, parts), as i32 (pointers above 2 GiB wrap, as wasm reads them). */
  ARGS: 8,
  /**
   * Per worker: PENDING when a call is posted; the worker joins it (TAKEN), or the caller, having
   * taken every part already, closes it to the worker (CANCELLED) and does not wait for it.
   */
  SLOTS: 24,
  /** UTF-16 code units of the failed worker's error message, 0-terminated. */
  MESSAGE: 48,
} as const;

export const MAX_ARGS = Ctl.SLOTS - Ctl.ARGS;
export const MESSAGE_CHARS = 200;
export const CONTROL_INTS = Ctl.MESSAGE + MESSAGE_CHARS + 1;
export const CONTROL_BYTES = CONTROL_INTS * 4;

export const Slot = { IDLE: 0, PENDING: 1, TAKEN: 2, CANCELLED: 3 } as const;

/**
 * A call is cut into this many parts per thread, taken first come first served: a thread that gets
 * less of a core (another process, a slow wake-up) takes fewer parts instead of holding up the call.
 * The kernels size the parts from it (assembly/common.ts PARTS_PER_THREAD: part sizes shrinking round by
 * round, one part per thread for some splits); change both together.
 */
export const PARTS_PER_THREAD = 4;

/**
 * How long a thread watches the control block before it sleeps in Atomics.wait: a kernel thread for the
 * next call after one ends, the caller for the workers' last parts. An explain posts its calls back to
 * back, and a wake-up from Atomics.wait cost about as much as a short part.
 */
export const SPIN_MS = 1;

/** The kernels that run in parts, with the export each calls (its arguments, then part, parts). */
export const Kernel = {
  CONV2D_FORWARD: 0,
  CONV2D_TRANSPOSE: 1,
  DENSE_FORWARD: 2,
  DENSE_TRANSPOSE: 3,
  MATMUL: 4,
  WINOGRAD_FORWARD: 5,
  WINOGRAD_TRANSPOSE: 6,
  ELEMENTWISE: 7,
  GAMMA_DIVIDE: 8,
  MAXPOOL_FORWARD: 9,
  MAXPOOL_BACKWARD: 10,
  CONV2D_TRANSPOSE_PAIR: 11,
} as const;

export const KERNEL_EXPORTS = [
  'conv2d_forward_f32', 'conv2d_transpose_f32', 'dense_forward_f32', 'dense_transpose_f32', 'matmul_f32',
  'winograd_forward_f32', 'winograd_transpose_f32', 'elementwise_part_f32', 'gamma_divide_part_f32',
  'maxpool2d_forward_f32', 'maxpool2d_backward_f32', 'conv2d_transpose_pair_f32',
] as const;

/** How many arguments (before part, parts) each kernel takes. */
export const KERNEL_ARGS = [7, 7, 7, 7, 10, 8, 8, 9, 8, 5, 5, 8] as const;

/** The operations of Kernel.ELEMENTWISE (its first argument; mirrors assembly/elementwise-parts.ts). */
export const EwOp = {
  RELU: 0, ADD: 1, MUL: 2, MUL_ACC: 3, STAB_DIVIDE: 4, STAB_DIVIDE_MASKED: 5, FILL: 6, COPY: 7,
  HAS_NON_FINITE: 8, HAS_NEGATIVE: 9, HAS_NONZERO: 10,
} as const;
