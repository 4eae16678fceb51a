/**
 * Backend choice: the WASM kernels (default; relaxed SIMD where the runtime validates it, plain
 * SIMD otherwise, scalar as the last resort) or the plain TypeScript reference (tests, bench).
 */
import type { Backend, WinogradMode } from './kernels/abi.js';
import { createReferenceBackend } from './reference/kernels.js';
import { initWasm, createWasmBackend } from './wasm/index.js';
import { withThreads } from './wasm/threads.js';
import { InputError } from './errors.js';

/** A compute backend: the WASM kernels ('wasm' picks the best build the runtime runs) or the TypeScript reference. */
export type BackendChoice = 'wasm' | 'wasm-simd' | 'wasm-relaxed' | 'wasm-scalar' | 'reference';

/** Every {@link BackendChoice}. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ['wasm', 'wasm-simd', 'wasm-relaxed', 'wasm-scalar', 'reference'];

/** Every {@link WinogradMode}. */
export const WINOGRAD_MODES: readonly WinogradMode[] = ['auto', 'on', 'off'];

/**
 * The backend `choice` on up to `threads` threads (src/wasm/threads.ts: fewer when the runtime or
 * the kernel build cannot, `backend.threads` says why); `why1` is the reason given for threads = 1.
 * `winograd`: where 3×3 stride-1 convolutions use Winograd (src/engine/winograd.ts; default 'auto',
 * 'off' for the reference backend).
 */
export async function createBackend(choice: BackendChoice, threads = 1, why1: string | null = null, winograd?: WinogradMode): Promise<Backend> {
  if (winograd !== undefined && !WINOGRAD_MODES.includes(winograd))
    throw new InputError(`unknown winograd mode '${String(winograd)}' (known: ${WINOGRAD_MODES.join(', ')})`, 'E_OPTION');
  switch (choice) {
    case 'reference':
      return Object.assign(createReferenceBackend(undefined, winograd), { threads: { count: 1, reason: threads > 1 ? 'the reference backend is single-threaded' : why1 } });
    case 'wasm':
    case 'wasm-simd':
    case 'wasm-relaxed':
    case 'wasm-scalar': {
      // async compile first (browsers refuse large synchronous compiles on the main thread)
      const variant = await initWasm(choice === 'wasm' ? 'auto' : (choice.slice(5) as 'simd' | 'relaxed' | 'scalar'));
      return withThreads(variant, threads, why1, () => createWasmBackend({ variant, winograd }), { winograd });
    }
    default:
      throw new InputError(`unknown backend '${String(choice)}' (known: ${BACKEND_CHOICES.join(', ')})`);
  }
}
