// The demo's worker: lrp-wasm's worker script, bundled as its own entry (scripts/demo-web.mjs).
import 'lrp-wasm/worker';
