/**
 * Backend choice: the WASM kernels (default; relaxed SIMD where the runtime validates it, plain
 * SIMD otherwise, scalar as the last resort) or the plain TypeScript reference (tests, bench).
 */
import { createReferenceBackend } from './reference/kernels.js';
import { initWasm, createWasmBackend } from './wasm/index.js';
import type { Backend } from './kernels/abi.js';
import { withThreads } from './wasm/threads.js';
import { InputError } from './errors.js';

/** A compute backend: the WASM kernels ('wasm' picks the best build the runtime runs) or the TypeScript reference. */
export type BackendChoice = 'wasm' | 'wasm-simd' | 'wasm-relaxed' | 'wasm-scalar' | 'reference';

/** Every {@link BackendChoice}. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ['wasm', 'wasm-simd', 'wasm-relaxed', 'wasm-scalar', 'reference'];

/**
 * The backend `choice` on up to `threads` threads (src/wasm/threads.ts: fewer when the runtime or
 * the kernel build cannot, `backend.threads` says why); `why1` is the reason given for threads = 1.
 */
export async function createBackend(choice: BackendChoice, threads = 1, why1: string | null = null): Promise<Backend> {
  switch (choice) {
    case 'reference':
      return Object.assign(createReferenceBackend(), { threads: { count: 1, reason: threads > 1 ? 'the reference backend is single-threaded' : why1 } });
    case 'wasm':
    case 'wasm-simd':
    case 'wasm-relaxed':
    case 'wasm-scalar': {
      // async compile first (browsers refuse large synchronous compiles on the main thread)
      const variant = await initWasm(choice === 'wasm' ? 'auto' : (choice.slice(5) as 'simd' | 'relaxed' | 'scalar'));
      return withThreads(variant, threads, why1, () => createWasmBackend({ variant }));
    }
    default:
      throw new InputError(`unknown backend '${String(choice)}' (known: ${BACKEND_CHOICES.join(', ')})`);
  }
}
