// Set-up of the peer runtimes the benchmark compares against, both single-threaded WASM in Node:
//   onnxruntime-web (wasm execution provider)   — 'onnxruntime-web' resolves to dist/ort.node.min.mjs in Node
//   @tensorflow/tfjs with @tensorflow/tfjs-backend-wasm (SIMD build, no threads)
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** onnxruntime-web, 1 thread, no proxy worker. */
export async function initOrt() {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  return ort;
}

/** ORT session on the wasm EP, all graph optimisations, 1 intra-op thread. */
export async function ortSession(ort, bytes) {
  return ort.InferenceSession.create(bytes, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
}

/** TF.js on the WASM backend (SIMD, single-threaded). Returns { tf, info }. */
export async function initTfjs() {
  const tf = await import('@tensorflow/tfjs');
  const tfw = await import('@tensorflow/tfjs-backend-wasm');
  // no threads: never pick the threaded build (Node has SharedArrayBuffer, so TF.js would otherwise try it)
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
  tfw.setWasmPaths(dist + path.sep);
  tfw.setThreadsCount?.(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('TF.js: cannot initialise the wasm backend');
  await tf.ready();
  const info = {
    version: tf.version.tfjs,
    backend: tf.getBackend(),
    simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    threads: tfw.getThreadsCount?.() ?? 1,
  };
  return { tf, info };
}
