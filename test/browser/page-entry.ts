// Entry of the browser bundle used by test/browser.test.ts: exposes the library on window.
import * as lrp from '../../src/index.js';

(globalThis as unknown as { lrp: typeof lrp }).lrp = lrp;
