/**
 * WebAssembly threads end to end: models on 2 and 3 kernel threads (every product split, however
 * small) give bit for bit the logits and relevance of one thread, on conv nets (strided, residual,
 * depthwise, pointwise), a dense net and transformers, at batch 1 and 5, and after the shared memory
 * has grown. Plus loadModel's `threads` option, what `model.threads` reports, and the failure paths
 * (workers that do not start, a kernel that traps in a worker).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { createBackend } from '../src/backends.js';
import { NumericError, WorkerError } from '../src/errors.js';
import { canonicalize } from '../src/graph/canonicalize.js';
import type { Graph } from '../src/graph/ir.js';
import { importGraph, loadModel } from '../src/load.js';
import { Model, type ExplainOptions } from '../src/model.js';
import { initWasm, createWasmBackend } from '../src/wasm/index.js';
import { createThreadedBackend, defaultThreads, MAX_THREADS, withThreads, type ThreadedBackend } from '../src/wasm/threads.js';
import { randArray } from './kernels/harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixture = (rel: string) => zlib.gunzipSync(fs.readFileSync(path.join(ROOT, 'test/fixtures', rel)));

const disposers: Array<() => void> = [];
afterAll(() => disposers.forEach((d) => d()));

async function threaded(threads: number): Promise<ThreadedBackend> {
  // every product and element-wise pass in parts, however small
  const b = await createThreadedBackend(await initWasm('auto'), threads, { minSplitMacs: 0, minSplitFloats: 0 });
  disposers.push(() => b.dispose?.());
  return b;
}

function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  expect(a.length, what).toBe(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let bad = -1;
  for (let i = 0; i < ua.length && bad < 0; i++) if (ua[i] !== ub[i]) bad = i;
  expect(bad, `${what}: first differing element ${bad} (${a[bad]} vs ${b[bad]})`).toBe(-1);
}

interface Case {
  name: string;
  file: string;
  opts: ExplainOptions;
  /** Token models: random ids in [0, vocab). */
  tokens?: number;
}

const CASES: Case[] = [
  { name: 'resnet18 (3x64x64: strided, residual, pointwise)', file: 'arch/resnet18.onnx.gz', opts: { composite: 'epsilon-plus' } },
  { name: 'vgg16 (3x64x64: 2x2 max pooling)', file: 'arch/vgg16.onnx.gz', opts: { composite: 'epsilon-plus' } },
  { name: 'mobilenet_v2 (depthwise)', file: 'arch/mobilenet_v2.onnx.gz', opts: { composite: 'epsilon-gamma-box', low: 0, high: 1 } },
  { name: 'mlp_deep (dense)', file: 'mlp_deep/model.onnx.gz', opts: { composite: 'epsilon-plus' } },
  { name: 'vit (attention: dense, matmul)', file: 'transformers/vit.opset17.onnx.gz', opts: { composite: 'attnlrp' } },
  { name: 'text transformer (tokens)', file: 'transformers/text_transformer.opset17.onnx.gz', opts: { composite: 'attnlrp' }, tokens: 40 },
];

function inputs(m: Model, c: Case, n: number, seed: number): Float32Array {
  if (c.tokens) return randArray(n * m.inputSize, seed, 0, c.tokens).map(Math.floor);
  return randArray(n * m.inputSize, seed, 0, 1);
}

describe.each(CASES)('$name: threads 2 and 3 equal threads 1 bitwise', (c) => {
  let graph: Graph;
  test('batch 1 and 5, explain and predict', async () => {
    graph = canonicalize(await importGraph(fixture(c.file), { format: 'onnx' }));
    const one = new Model(graph, await createBackend('wasm', 1));
    for (const threads of [2, 3]) {
      const many = new Model(graph, await threaded(threads));
      expect(many.threads).toEqual({ count: threads, reason: null });
      for (const n of [1, 5]) {
        const x = inputs(one, c, n, 10 + n);
        const opts = { ...c.opts, checkRange: false };
        sameBits(many.predict(x), one.predict(x), `${c.name} predict, ${threads} threads, batch ${n}`);
        sameBits(many.explain(x, opts).relevance, one.explain(x, opts).relevance, `${c.name} explain, ${threads} threads, batch ${n}`);
      }
      many.dispose();
    }
    one.dispose();
  });
});

test('Winograd convolutions run in parts too: threads 2 equal threads 1 bitwise with winograd on', async () => {
  const graph = canonicalize(await importGraph(fixture('arch/resnet18.onnx.gz'), { format: 'onnx' }));
  const one = new Model(graph, await createBackend('wasm', 1, null, 'on'));
  const backend = await createThreadedBackend(await initWasm('auto'), 2, { minSplitMacs: 0, minSplitFloats: 0, winograd: 'on' });
  disposers.push(() => backend.dispose());
  expect(backend.winograd).toBe('on');
  const many = new Model(graph, backend);
  const x = randArray(3 * one.inputSize, 5, 0, 1);
  for (const composite of ['epsilon-plus', 'epsilon-gamma-box'] as const) {
    const opts = { composite, low: 0, high: 1, checkRange: false };
    sameBits(many.explain(x, opts).relevance, one.explain(x, opts).relevance, `winograd on, ${composite}`);
  }
  many.dispose();
  one.dispose();
});

test('the split scans: inputs with negatives take the x⁻ terms, and an overflow is the same NumericError as on one thread', async () => {
  const graph = canonicalize(await importGraph(fixture('arch/resnet18.onnx.gz'), { format: 'onnx' }));
  const one = new Model(graph, await createBackend('wasm', 1));
  const many = new Model(graph, await threaded(2));
  const x = randArray(2 * one.inputSize, 6, -1, 1);
  const opts = { composite: 'epsilon-plus' as const, checkRange: false };
  sameBits(many.explain(x, opts).relevance, one.explain(x, opts).relevance, 'inputs with negatives');
  // the second sample overflows float32 in the forward pass
  const big = x.slice();
  for (let i = one.inputSize; i < big.length; i++) big[i] *= 3e37;
  const error = (m: Model) => {
    try {
      m.predict(big);
    } catch (e) {
      return e;
    }
    return null;
  };
  const [e1, e2] = [error(one), error(many)];
  expect(e1).toBeInstanceOf(NumericError);
  expect((e1 as Error).message).toMatch(/sample 1/);
  expect(e2).toBeInstanceOf(NumericError);
  expect((e2 as Error).message).toBe((e1 as Error).message);
  many.dispose();
  one.dispose();
});

test('after the shared memory grows (workers see the grown memory)', async () => {
  const graph = canonicalize(await importGraph(fixture('arch/resnet18.onnx.gz'), { format: 'onnx' }));
  const one = new Model(graph, await createBackend('wasm', 1));
  const backend = await threaded(2);
  const many = new Model(graph, backend);
  const x = randArray(2 * one.inputSize, 3, 0, 1);
  sameBits(many.explain(x, { checkRange: false }).relevance, one.explain(x, { checkRange: false }).relevance, 'before growth');
  const before = many.memoryBytes;
  const block = backend.memory.alloc(before + 64 * 2 ** 20); // more than the memory holds: it grows
  expect(many.memoryBytes).toBeGreaterThan(2 * before);
  backend.memory.free(block);
  const y = randArray(6 * one.inputSize, 4, 0, 1); // a larger workspace, above the grown region's start
  sameBits(many.explain(y, { checkRange: false }).relevance, one.explain(y, { checkRange: false }).relevance, 'after growth');
  sameBits(many.predict(y), one.predict(y), 'predict after growth');
  many.dispose();
  one.dispose();
});

describe('loadModel({ threads })', () => {
  const cnn = () => fixture('cnn/model.onnx.gz');

  test('default: what the runtime offers, capped by the cores', async () => {
    const m = await loadModel(cnn());
    const cores = Math.min(MAX_THREADS, os.availableParallelism());
    expect(defaultThreads()).toBe(cores);
    expect(m.threads.count).toBe(cores);
    expect(m.threads.reason).toBe(cores === 1 ? 'this machine has one core' : null);
    m.dispose();
  });

  test('threads: 1 is the single-threaded path, and says so', async () => {
    const m = await loadModel(cnn(), { threads: 1 });
    expect(m.threads).toEqual({ count: 1, reason: 'threads: 1 was asked for' });
    m.dispose();
  });

  test('threads: 2 on a real model equals threads: 1, predict and explain', async () => {
    const m1 = await loadModel(cnn(), { threads: 1 });
    const m2 = await loadModel(cnn(), { threads: 2 });
    expect(m2.threads.count).toBe(2);
    const x = randArray(5 * m1.inputSize, 8, 0, 1);
    sameBits(m2.predict(x), m1.predict(x), 'cnn predict');
    sameBits(m2.explain(x).relevance, m1.explain(x).relevance, 'cnn explain');
    m1.dispose();
    m2.dispose();
  });

  test.each([0, -1, 1.5, MAX_THREADS + 1, Number.NaN, Infinity, '2', null])('threads: %s is an E_OPTION InputError', async (t) => {
    await expect(loadModel(cnn(), { threads: t as number })).rejects.toMatchObject({ name: 'InputError', code: 'E_OPTION', message: expect.stringContaining('threads') });
  });

  test('backends without a threaded build run on one thread and say why', async () => {
    const ref = await loadModel(cnn(), { threads: 2, backend: 'reference' });
    expect(ref.threads).toEqual({ count: 1, reason: 'the reference backend is single-threaded' });
    const scalar = await loadModel(cnn(), { threads: 2, backend: 'wasm-scalar' });
    expect(scalar.threads).toEqual({ count: 1, reason: 'the scalar kernel build is single-threaded' });
    const simd = await loadModel(cnn(), { threads: 2, backend: 'wasm-simd' });
    expect(simd.threads).toEqual({ count: 2, reason: null });
    expect(simd.backendName).toBe('wasm-simd');
    for (const m of [ref, scalar, simd]) m.dispose();
  });

  test('dispose() stops the kernel threads; later calls throw DisposedError', async () => {
    const backend = await threaded(2);
    const m = new Model(canonicalize(await importGraph(cnn(), { format: 'onnx' })), backend);
    expect(backend.threads.count).toBe(2);
    m.dispose();
    expect(backend.threads).toEqual({ count: 1, reason: 'kernel threads stopped: disposed' });
    expect(() => m.predict(new Float32Array(784))).toThrow(/disposed/);
  });

  // the kernel threads run as Node eval workers, which are modules or CommonJS like their parent: both
  test.each(['module', 'commonjs'])('a %s process exits without dispose() (the workers are unref-ed)', (type) => {
    const body = `const m = await loadModel(${JSON.stringify(path.join(ROOT, 'models/fashion-mnist/tfjs/model.json'))}, { threads: 2 });
      m.explain(new Float32Array(784).fill(0.5));
      console.log(m.threads.count, m.threads.reason);`;
    const dist = JSON.stringify(path.join(ROOT, 'dist/index.js'));
    const script = type === 'module' ? `import { loadModel } from ${dist};\n${body}` : `import(${dist}).then(async ({ loadModel }) => { ${body} });`;
    const r = spawnSync(process.execPath, [`--input-type=${type}`, '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('2 null');
  });
});

describe('failures never hang', () => {
  const single = () => createWasmBackend({ variant: 'simd' });

  test('a worker that throws at start: one thread, with the reason', async () => {
    const b = await withThreads('simd', 2, null, single, { workerSource: 'throw new Error("no kernels here")' });
    expect(b.threads.count).toBe(1);
    expect(b.threads.reason).toMatch(/kernel threads failed to start .*no kernels here/);
  });

  test('a worker that never answers: one thread after the start timeout', async () => {
    const b = await withThreads('simd', 2, null, single, { workerSource: 'setInterval(() => {}, 1000);', startTimeoutMs: 300 });
    expect(b.threads).toEqual({ count: 1, reason: expect.stringMatching(/did not start within 0.3 s/) });
  });

  test('a kernel that traps in a worker is a WorkerError on the calling thread; the pool keeps working', async () => {
    const b = await threaded(2);
    const k = b.kernels;
    // 8 products of 600x600x600, one per part: the first is valid and long (the calling thread takes it
    // first), the others read A beyond the end of memory, so a worker that joins traps on its first part
    const M = 600, size = M * M * 4, batch = 8;
    const bPtr = b.memory.alloc(batch * size), cPtr = b.memory.alloc(batch * size);
    b.memory.f32().set(randArray(M * M, 1), bPtr >>> 2);
    const aBad = b.memory.byteLength() - size;
    const kinds = new Set<string>();
    for (let attempt = 0; attempt < 20 && !kinds.has('worker'); attempt++) {
      try {
        k.matmul(aBad, bPtr, cPtr, batch, M, M, M, 0, 0, 0);
        kinds.add('no error');
      } catch (e) {
        if (e instanceof WorkerError) {
          expect(e.message).toMatch(/^matmul_f32 failed in kernel thread 1: .*out of bounds/);
          kinds.add('worker');
        } else {
          expect(String(e)).toMatch(/out of bounds/); // the calling thread's own part trapped first
          kinds.add('caller');
        }
      }
    }
    expect(kinds.has('no error')).toBe(false);
    expect(kinds.has('worker')).toBe(true);
    // the next call runs normally on both threads
    const inF = 16, outF = 64;
    const x = b.memory.alloc(inF * 4), y = b.memory.alloc(outF * 4), w = b.memory.alloc(outF * inF * 4);
    const f32 = () => b.memory.f32();
    f32().set(randArray(inF, 1), x >>> 2);
    f32().set(randArray(outF * inF, 2), w >>> 2);
    k.denseForward(x, w, 0, y, 1, inF, outF);
    const ref = createWasmBackend({ variant: await initWasm('auto') }); // the same build, on one thread
    const rx = ref.memory.alloc(inF * 4), rw = ref.memory.alloc(outF * inF * 4), ry = ref.memory.alloc(outF * 4);
    ref.memory.f32().set(f32().subarray(x >>> 2, (x >>> 2) + inF), rx >>> 2);
    ref.memory.f32().set(f32().subarray(w >>> 2, (w >>> 2) + outF * inF), rw >>> 2);
    ref.kernels.denseForward(rx, rw, 0, ry, 1, inF, outF);
    expect(b.threads.count).toBe(2);
    expect(Array.from(f32().slice(y >>> 2, (y >>> 2) + outF))).toEqual(Array.from(ref.memory.f32().subarray(ry >>> 2, (ry >>> 2) + outF)));
  });
});
