/**
 * Backend choice: the WASM kernels (default; relaxed SIMD where the runtime validates it, plain
 * SIMD otherwise, scalar as the last resort) or the plain TypeScript reference (tests, bench).
 */
import type { Backend, WinogradMode } from './kernels/abi.js';
import { createReferenceBackend } from './reference/kernels.js';
import { initWasm, createWasmBackend } from './wasm/index.js';
import { InputError } from './errors.js';

/** A compute backend: the WASM kernels ('wasm' picks the best build the runtime runs) or the TypeScript reference. */
export type BackendChoice = 'wasm' | 'wasm-simd' | 'wasm-relaxed' | 'wasm-scalar' | 'reference';

/** Every {@link BackendChoice}. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ['wasm', 'wasm-simd', 'wasm-relaxed', 'wasm-scalar', 'reference'];

/** Every {@link WinogradMode}. */
export const WINOGRAD_MODES: readonly WinogradMode[] = ['auto', 'on', 'off'];

export async function createBackend(choice: BackendChoice, opts: { winograd?: WinogradMode } = {}): Promise<Backend> {
  const { winograd } = opts;
  if (winograd !== undefined && !WINOGRAD_MODES.includes(winograd))
    throw new InputError(`unknown winograd mode '${String(winograd)}' (known: ${WINOGRAD_MODES.join(', ')})`, 'E_OPTION');
  switch (choice) {
    case 'reference':
      return createReferenceBackend(undefined, winograd);
    case 'wasm':
      // async compile first (browsers refuse large synchronous compiles on the main thread)
      return createWasmBackend({ variant: await initWasm('auto'), winograd });
    case 'wasm-simd':
    case 'wasm-relaxed':
    case 'wasm-scalar': {
      const variant = choice.slice(5) as 'simd' | 'relaxed' | 'scalar';
      await initWasm(variant);
      return createWasmBackend({ variant, winograd });
    }
    default:
      throw new InputError(`unknown backend '${String(choice)}' (known: ${BACKEND_CHOICES.join(', ')})`);
  }
}
