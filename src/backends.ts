/**
 * Backend choice: the WASM kernels (default; relaxed SIMD where the runtime validates it, plain
 * SIMD otherwise, scalar as the last resort) or the plain TypeScript reference (tests, bench).
 */
import type { Backend } from './kernels/abi.js';
import { createReferenceBackend } from './reference/kernels.js';
import { initWasm, createWasmBackend } from './wasm/index.js';
import { InputError } from './errors.js';

/** A compute backend: the WASM kernels ('wasm' picks the best build the runtime runs) or the TypeScript reference. */
export type BackendChoice = 'wasm' | 'wasm-simd' | 'wasm-relaxed' | 'wasm-scalar' | 'reference';

/** Every {@link BackendChoice}. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ['wasm', 'wasm-simd', 'wasm-relaxed', 'wasm-scalar', 'reference'];

export async function createBackend(choice: BackendChoice): Promise<Backend> {
  switch (choice) {
    case 'reference':
      return createReferenceBackend();
    case 'wasm':
      // async compile first (browsers refuse large synchronous compiles on the main thread)
      return createWasmBackend({ variant: await initWasm('auto') });
    case 'wasm-simd':
    case 'wasm-relaxed':
    case 'wasm-scalar': {
      const variant = choice.slice(5) as 'simd' | 'relaxed' | 'scalar';
      await initWasm(variant);
      return createWasmBackend({ variant });
    }
    default:
      throw new InputError(`unknown backend '${String(choice)}' (known: ${BACKEND_CHOICES.join(', ')})`);
  }
}
