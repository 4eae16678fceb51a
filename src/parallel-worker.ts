/**
 * Worker side of src/parallel.ts and src/explainer.ts: one model per thread, answering calls.
 * Runs as a Node worker thread or as a browser module Web Worker (bundle `lrp-wasm/worker` as its
 * own entry and pass its URL as `workerUrl`). Announces itself with READY first (see
 * worker-start.ts), then answers { id, method, args } with { id, ok, value | error }.
 */
import { platform } from '#platform';
import { WorkerError } from './errors.js';
import { answerCall, type Call } from './worker-calls.js';
import { READY } from './worker-start.js';

const parent = platform.parentPort();
if (!parent) throw new WorkerError('lrp-wasm/worker is a worker script: start it with new Worker(url, { type: "module" }), or pass its URL as workerUrl');
parent.onMessage((msg) => answerCall(msg as Call, (reply, transfer) => parent.post(reply, transfer)));
parent.post(READY);
