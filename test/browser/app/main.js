// The test app's entry: the library as an app imports it (bare 'lrp-wasm'), exposed on globalThis
// for the test to drive. Bundled by esbuild and by Vite with their default settings.
import * as lrp from 'lrp-wasm';

globalThis.lrp = lrp;
globalThis.appReady = true;
