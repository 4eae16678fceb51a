// A module that is not lrp-wasm's worker: it runs and never answers (test/bundlers.test.ts).
