/**
 * The fuzzer's child process: runs the cases the parent sends (over IPC) against the built
 * library (dist/), one at a time, and answers with the outcome of each:
 *
 * - 'typed-error': an LrpError with a code (at load, predict, explain or attribute);
 * - 'finite': every call returned finite results of the right length, and x was not modified;
 * - anything else is a defect: 'untyped-error', 'non-finite', 'wrong-length', 'input-modified'.
 *
 * Hangs and crashes are seen by the parent (timeout, exit without an answer).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from './random.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const lib = await import(path.join(ROOT, 'dist', 'index.js'));

const EXTREMES = [3e38, -3e38, 1e30, -1e30, 1e20];

function makeInput(length, kind, seed) {
  const r = rng(seed);
  const x = new Float32Array(length);
  for (let i = 0; i < length; i++) x[i] = r.u();
  if (kind === 'negative') for (let i = 0; i < length; i++) x[i] = x[i] * 4 - 2;
  if (kind === 'extreme') {
    const v = r.pick(EXTREMES);
    if (r.chance(0.5)) x.fill(v);
    else for (let k = 0; k < 1 + r.int(8); k++) x[r.int(length)] = v;
  }
  return x;
}

/** null if `a` is a Float32Array of `length` finite values, else what is wrong with it. */
function problem(a, length, what) {
  if (!(a instanceof Float32Array)) return { outcome: 'wrong-length', detail: `${what} is not a Float32Array` };
  if (a.length !== length) return { outcome: 'wrong-length', detail: `${what} has ${a.length} values, expected ${length}` };
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return { outcome: 'non-finite', detail: `${what}[${i}] = ${a[i]}` };
  return null;
}

function checkExplanation(r, n, x, O, what) {
  return (
    problem(r.relevance, x.length, `${what}.relevance`) ??
    problem(r.logits, n * O, `${what}.logits`) ??
    problem(r.sums?.start, n, `${what}.sums.start`) ??
    problem(r.sums?.input, n, `${what}.sums.input`) ??
    (r.targets?.length === n && Array.from(r.targets).every((t) => t >= 0 && t < O) ? null : { outcome: 'wrong-length', detail: `${what}.targets ${Array.from(r.targets ?? [])}` }) ??
    (r.layers ? Object.entries(r.layers).map(([k, v]) => problem(v, v.length, `${what}.layers['${k}']`)).find(Boolean) ?? null : null)
  );
}

async function runCase(c) {
  let stage = 'load';
  let model = null;
  try {
    model = await lib.loadModel(path.join(c.dir, c.entry));
    const n = c.run.samples;
    const O = model.outputSize;
    const x = makeInput(n * model.inputSize, c.run.input, c.run.inputSeed);
    const copy = x.slice();
    stage = 'predict';
    const bad = problem(model.predict(x), n * O, 'predict()');
    if (bad) return { ...bad, stage };
    stage = 'explain';
    const e = checkExplanation(model.explain(x, c.run.explain), n, x, O, 'explain()');
    if (e) return { ...e, stage };
    if (c.run.attribute) {
      stage = 'attribute';
      const a = checkExplanation(model.attribute(x, c.run.attribute), n, x, O, 'attribute()');
      if (a) return { ...a, stage };
    }
    for (let i = 0; i < x.length; i++)
      if (!Object.is(x[i], copy[i])) return { outcome: 'input-modified', stage, detail: `x[${i}] changed from ${copy[i]} to ${x[i]}` };
    return { outcome: 'finite', stage: 'done' };
  } catch (e) {
    if (e instanceof lib.LrpError && typeof e.code === 'string') return { outcome: 'typed-error', stage, code: e.code, name: e.name, detail: String(e.message).slice(0, 300) };
    return { outcome: 'untyped-error', stage, name: e?.name, detail: `${e?.name}: ${String(e?.message ?? e).slice(0, 300)}\n${String(e?.stack ?? '').split('\n').slice(1, 6).join('\n')}` };
  } finally {
    model?.dispose();
  }
}

process.on('message', async (c) => {
  const result = await runCase(c);
  process.send({ id: c.id, ...result });
});
process.send({ ready: true });
