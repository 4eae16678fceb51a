// The Node app's entry (bundled with esbuild --platform=node): explains the inputs given as JSON on
// stdin with the model at argv[2] and prints the relevance as JSON.
import { loadModel } from 'lrp-wasm';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const { x, composite } = JSON.parse(Buffer.concat(chunks).toString());
const model = await loadModel(process.argv[2]);
const r = model.explain(new Float32Array(x), { composite });
process.stdout.write(JSON.stringify({ relevance: Array.from(r.relevance), targets: Array.from(r.targets), name: model.name }));
model.dispose();
