/**
 * The transformer fixtures (test/fixtures/transformers/, scripts/export-transformers.py): a small
 * ViT, ConvNeXt, a text CNN and text transformers, each exported at opset 17 (LayerNormalization)
 * and opset 13 (the LayerNorm pattern), with a dynamic and a fixed batch of 2. Every entry must
 * load, predict like PyTorch's recorded logits and like onnxruntime-web, and explain with the
 * 'attnlrp' composite. On the bias-free variants relevance is accounted for exactly: AttnLRP
 * conserves everywhere except in the softmax, whose rule gives part of the relevance to the bias
 * term of its linearisation by design (Achtibat et al. 2024, Prop. 3.1).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../../src/import/onnx.js';
import type { Model } from '../../src/model.js';
import { onnxModel, ort, relDiff } from '../helpers/oracle.js';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'transformers');

interface Entry {
  name: string;
  model: string;
  kind: 'image' | 'text';
  inputs: string;
  dynamic: boolean;
  bias_free: boolean;
  opset: number;
  input: { name: string; shape: Array<number | string> };
  torch_logits: number[][];
}

const entryNames = (JSON.parse(readFileSync(path.join(DIR, 'index.json'), 'utf8')) as { entries?: Array<{ name: string } | string> }).entries;
const names = (entryNames ?? []).map((e) => (typeof e === 'string' ? e : e.name));
const entries: Entry[] = names.map((n) => JSON.parse(readFileSync(path.join(DIR, `${n}.json`), 'utf8')) as Entry);
const bytesOf = (e: Entry) => new Uint8Array(gunzipSync(readFileSync(path.join(DIR, `${e.name}.onnx.gz`))));

function inputsOf(e: Entry): { x: Float32Array; shape: number[] } {
  const raw = readFileSync(path.join(DIR, e.inputs));
  if (e.inputs.endsWith('.i32')) {
    const ids = new Int32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    return { x: Float32Array.from(ids), shape: [2, ids.length / 2] };
  }
  const x = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  return { x, shape: [2, 3, 32, 32] };
}

async function ortLogits(e: Entry, bytes: Uint8Array, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const o = await ort();
  const session = await o.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'disabled' });
  try {
    const feed = e.kind === 'text' ? new o.Tensor('int64', BigInt64Array.from(x, (v) => BigInt(v)), shape) : new o.Tensor('float32', x, shape);
    const out = await session.run({ [session.inputNames[0]]: feed });
    return Float32Array.from(out[session.outputNames[0]].data as Float32Array);
  } finally {
    await session.release();
  }
}

/**
 * Per sample: Σ R_in, R_start, and the relevance the softmax nodes absorb (what reaches their
 * output minus what they send to their input, which they must be the only reader of).
 */
function ledger(model: Model, x: Float32Array): Array<{ input: number; start: number; absorbed: number }> {
  const r = model.explain(x, { composite: 'attnlrp', layers: true });
  const n = r.sums.start.length;
  const sum = (a: Float32Array, s: number) => {
    const per = a.length / n;
    let t = 0;
    for (let i = 0; i < per; i++) t += a[s * per + i];
    return t;
  };
  const nodes = model.graph.nodes;
  const softmaxes = nodes.filter((v) => v.op === 'softmax');
  for (const sm of softmaxes) expect(nodes.filter((v) => v.inputs.includes(sm.inputs[0])).length).toBe(1);
  return Array.from(r.sums.start, (start, s) => ({
    input: r.sums.input[s],
    start,
    absorbed: softmaxes.reduce((acc, sm) => acc + sum(r.layers![sm.name], s) - sum(r.layers![sm.inputs[0]], s), 0),
  }));
}

describe('transformer fixtures: load, predict like PyTorch and onnxruntime-web, explain with attnlrp', () => {
  it('the index lists the 32 entries (8 models × opset 13/17 × dynamic/fixed batch)', () => {
    expect(entries.length).toBe(32);
  });

  for (const e of entries) {
    it(`${e.name}`, async () => {
      const bytes = bytesOf(e);
      const { x, shape } = inputsOf(e);
      const graph = importOnnx(bytes);
      if (e.kind === 'text') expect(graph.inputKind).toBe('tokens');
      else expect(graph.inputKind).toBeUndefined();
      if (e.opset === 13 && e.model !== 'text_cnn') expect(graph.notes.join('\n')).toMatch(/recognised LayerNorm/);
      const model = await onnxModel(bytes);
      const y = model.predict(x);
      expect(relDiff(y, e.torch_logits.flat())).toBeLessThan(1e-4);
      expect(relDiff(y, await ortLogits(e, bytes, x, shape))).toBeLessThan(1e-4);
      const r = model.explain(x, { composite: 'attnlrp' });
      expect(r.relevance.length).toBe(x.length); // per token for text models, per pixel for images
      expect(r.relevance.every(Number.isFinite)).toBe(true);
      expect(r.relevance.some((v) => v !== 0)).toBe(true);
      model.dispose();
    });
  }
});

describe('transformer fixtures, bias-free: where AttnLRP conserves relevance', () => {
  for (const e of entries.filter((v) => v.bias_free)) {
    it(`${e.name}: Σ R_in + (relevance absorbed by the softmaxes) = R_start within 1e-3; the softmaxes absorb a measurable share`, async () => {
      const model = await onnxModel(bytesOf(e));
      for (const { input, start, absorbed } of ledger(model, inputsOf(e).x)) {
        expect(Math.abs(input + absorbed - start) / Math.abs(start)).toBeLessThan(1e-3);
        // Not conserving by design: Σ R_in / R_start is not 1 (the bias term of the softmax takes a part).
        expect(Math.abs(absorbed / start)).toBeGreaterThan(1e-3);
      }
      model.dispose();
    });
  }
});
