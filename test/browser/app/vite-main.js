// The Vite app's entry: Vite bundles the worker script itself and gives its URL.
import * as lrp from 'lrp-wasm';
import workerUrl from 'lrp-wasm/worker?worker&url';

globalThis.lrp = lrp;
globalThis.workerUrl = workerUrl;
globalThis.appReady = true;
