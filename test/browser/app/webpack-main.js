// The webpack app's entry: the worker is made in app code with the new Worker(new URL(...)) pattern
// that webpack 5 recognises, bundles and gives a URL.
import * as lrp from 'lrp-wasm';

globalThis.lrp = lrp;
globalThis.createWorker = () => new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
globalThis.appReady = true;
