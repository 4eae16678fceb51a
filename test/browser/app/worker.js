// The worker entry of the esbuild app: the library's worker script, bundled on its own.
import 'lrp-wasm/worker';
