export {
  createWasmBackend, initWasm, selectVariant, wasmFeatures, wasmModule,
  type WasmBackend, type WasmBackendOptions, type WasmVariant, type KernelExports,
} from './loader.js';
export { convScratchBytes, winogradScratchBytes } from './scratch.js';
