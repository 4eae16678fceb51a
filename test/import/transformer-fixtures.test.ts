// Checks the transformer fixtures themselves (test/fixtures/transformers/, from scripts/export-transformers.py): the
// index agrees with the files, each NAME.json agrees with its ONNX graph, the gradient files agree with their
// description, the bias-free variants are bias-free, and onnxruntime-web, an independent runtime, gives PyTorch's
// logits on the inputs files — so a model that loads in lrp-wasm can be judged against these numbers.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import type * as Ort from 'onnxruntime-web';
import { expectClose, relError } from '../helpers/fixtures.js';
import { ort } from '../helpers/oracle.js';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'transformers');
const TOL = 1e-4;
const MODELS = [
  'convnext',
  'text_cnn',
  'text_transformer',
  'text_transformer_biasfree',
  'text_transformer_gelu',
  'vit',
  'vit_1block',
  'vit_biasfree',
];
const LAYER_NORM_MODELS = MODELS.filter((m) => m !== 'text_cnn');

interface Entry {
  name: string;
  model: string;
  family: string;
  kind: 'image' | 'text';
  file: string;
  json: string;
  opset: number;
  dynamic: boolean;
  stored_bytes: number;
  onnx_bytes: number;
}

interface Meta {
  name: string;
  model: string;
  kind: 'image' | 'text';
  file: string;
  onnx_bytes: number;
  onnx_sha256: string;
  input: { name: string; elem_type: string; shape: (number | string)[]; per_sample_shape: number[]; file_dtype: string };
  classes: number;
  opset: number;
  dynamic: boolean;
  batch: number | null;
  op_types: Record<string, number>;
  node_ops: string[];
  input_consumers: string[];
  inputs: string;
  torch_logits: number[][];
  torch_logits_f64: number[][];
  f32_vs_f64: number;
  gradient: {
    file: string;
    dtype: string;
    target: number;
    blocks: { what: string; shape: number[]; offset: number }[];
    bytes: number;
    sha256: string;
  };
  bias_free: boolean;
}

interface Index {
  inputs: Record<string, { dtype: string; shape: number[]; range: number[] }>;
  input_seed: number;
  vocab: number;
  models: { model: string; family: string; kind: string; gradient: string; target: number }[];
  entries: Entry[];
}

const read = (file: string) => fs.readFileSync(path.join(DIR, file));
const index = JSON.parse(read('index.json').toString('utf8')) as Index;
const meta = (e: Entry) => JSON.parse(read(e.json).toString('utf8')) as Meta;
const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function onnxBytes(e: Entry): Buffer {
  const raw = read(e.file);
  return e.file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw;
}

function images(): Float32Array {
  const buf = read('images.f32');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

function tokens(): Int32Array {
  const buf = read('tokens.i32');
  return new Int32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

function float64s(file: string): Float64Array {
  const buf = read(file);
  return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

const dims = (v: onnx.IValueInfoProto) =>
  (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue)));

describe('transformer fixtures: files', () => {
  it('index.json lists every stored file, and nothing else is in the folder', () => {
    const listed = index.entries.flatMap((e) => [e.file, e.json]);
    const expected = ['README.md', 'index.json', ...Object.keys(index.inputs), ...index.models.map((m) => m.gradient)];
    expect(fs.readdirSync(DIR).sort()).toEqual([...expected, ...listed].sort());
    for (const e of index.entries) expect(fs.statSync(path.join(DIR, e.file)).size, e.file).toBe(e.stored_bytes);
  });

  it('has every model at opset 17 and 13, each with a dynamic and a fixed-batch export', () => {
    expect(index.models.map((m) => m.model).sort()).toEqual(MODELS);
    for (const model of MODELS) {
      const kinds = index.entries
        .filter((e) => e.model === model)
        .map((e) => `${e.dynamic ? 'dynamic' : 'fixed'}@${e.opset}`)
        .sort();
      expect(kinds, model).toEqual(['dynamic@13', 'dynamic@17', 'fixed@13', 'fixed@17']);
    }
  });

  it('stays within the size budget (3 MB in all, 150 KB a file)', () => {
    let total = 0;
    for (const f of fs.readdirSync(DIR)) {
      const bytes = fs.statSync(path.join(DIR, f)).size;
      expect(bytes, f).toBeLessThan(150e3);
      total += bytes;
    }
    expect(total).toBeLessThan(3e6);
  });

  it('images.f32 holds 2 images in [0, 1); tokens.i32 holds 2 sequences of ids below the vocabulary size', () => {
    const x = images();
    expect(x.length).toBe(size(index.inputs['images.f32'].shape));
    expect(x.every((v) => v >= 0 && v < 1)).toBe(true);
    const t = tokens();
    expect(t.length).toBe(size(index.inputs['tokens.i32'].shape));
    expect(t.every((v) => v >= 0 && v < index.vocab)).toBe(true);
    expect(new Set(t).size).toBeGreaterThan(5);
  });
});

describe.each(index.models.map((m) => m.model))('transformer fixture model %s', (model) => {
  const entries = index.entries.filter((e) => e.model === model);
  const metas = entries.map(meta);
  const first = metas[0];

  it('its four exports share the logits, the gradient and the target (the same weights)', () => {
    for (const m of metas) {
      expect(m.torch_logits).toEqual(first.torch_logits);
      expect(m.gradient).toEqual(first.gradient);
    }
    expect(index.models.find((m) => m.model === model)!.target).toBe(first.gradient.target);
  });

  it('the target is the argmax of sample 0, and float32 alone moves the logits by well under the tolerance', () => {
    const row = first.torch_logits_f64[0];
    expect(row.indexOf(Math.max(...row))).toBe(first.gradient.target);
    const err = Math.max(...relError(first.torch_logits.flat(), first.torch_logits_f64.flat(), 2));
    expect(err).toBeCloseTo(first.f32_vs_f64, 6);
    expect(err).toBeLessThan(TOL / 4);
  });

  it('the gradient file agrees with its description (size, sha256, layout; text: the per-token sums)', () => {
    const g = first.gradient;
    const bytes = read(g.file);
    expect(bytes.length).toBe(g.bytes);
    expect(sha256(bytes)).toBe(g.sha256);
    expect(g.dtype).toBe('float64');
    const values = float64s(g.file);
    expect(values.every(Number.isFinite)).toBe(true);
    const full = g.blocks[0];
    expect(full.offset).toBe(0);
    if (first.kind === 'image') {
      expect(g.blocks.length).toBe(1);
      expect(full.shape).toEqual([2, ...first.input.per_sample_shape]);
      expect(values.length).toBe(size(full.shape));
    } else {
      const [n, t, d] = full.shape;
      expect([n, t]).toEqual([2, ...first.input.per_sample_shape]);
      const sums = g.blocks[1];
      expect(sums.shape).toEqual([n, t]);
      expect(sums.offset).toBe(8 * n * t * d);
      expect(values.length).toBe(n * t * d + n * t);
      for (let i = 0; i < n * t; i++) {
        let acc = 0;
        for (let k = 0; k < d; k++) acc += values[i * d + k];
        expect(values[n * t * d + i]).toBeCloseTo(acc, 12);
      }
    }
    // a non-trivial gradient: not all zero, and not the same for the two samples
    const per = size(full.shape) / 2;
    expect(values.some((v) => v !== 0)).toBe(true);
    expect(values.slice(0, per)).not.toEqual(values.slice(per, 2 * per));
  });
});

describe.each(index.entries.map((e) => e.name))('transformer fixture %s', (name) => {
  const entry = index.entries.find((e) => e.name === name)!;
  const m = meta(entry);

  it('NAME.json agrees with the ONNX bytes and graph (sha256, op types and order, opset, input, output)', () => {
    const bytes = onnxBytes(entry);
    expect(bytes.length).toBe(m.onnx_bytes);
    expect(sha256(bytes)).toBe(m.onnx_sha256);
    const proto = onnxProto.onnx.ModelProto.decode(bytes);
    const graph = proto.graph!;
    const nodes = graph.node ?? [];
    expect(nodes.map((n) => n.opType)).toEqual(m.node_ops);
    const ops: Record<string, number> = {};
    for (const n of nodes) ops[n.opType!] = (ops[n.opType!] ?? 0) + 1;
    expect(ops).toEqual(m.op_types);
    expect(Number(proto.opsetImport.find((o) => !o.domain)?.version)).toBe(m.opset);

    const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
    const inputs = (graph.input ?? []).filter((v) => !initializers.has(v.name));
    expect(inputs.map((v) => v.name)).toEqual([m.input.name]);
    const elemType = inputs[0].type!.tensorType!.elemType;
    expect(elemType).toBe(m.kind === 'text' ? onnxProto.onnx.TensorProto.DataType.INT64 : onnxProto.onnx.TensorProto.DataType.FLOAT);
    expect(m.input.elem_type).toBe(m.kind === 'text' ? 'int64' : 'float');
    const batch = m.dynamic ? 'N' : m.batch;
    expect(dims(inputs[0])).toEqual([batch, ...m.input.per_sample_shape]);
    expect(m.input.shape).toEqual([batch, ...m.input.per_sample_shape]);
    expect(dims(graph.output![0])).toEqual([batch, m.classes]);
    expect(nodes.filter((n) => (n.input ?? []).includes(m.input.name)).map((n) => n.opType)).toEqual(m.input_consumers);
    if (m.kind === 'text') expect(m.input_consumers).toEqual(['Gather']); // token ids read as Gather indices
  });

  it('LayerNorm is one LayerNormalization node at opset 17 and the ReduceMean/Pow/Sqrt pattern at opset 13', () => {
    const ln = m.op_types.LayerNormalization ?? 0;
    if (!LAYER_NORM_MODELS.includes(m.model)) {
      expect(ln).toBe(0);
      return;
    }
    if (m.opset === 17) {
      expect(ln).toBeGreaterThan(0);
      expect(m.op_types.Pow ?? 0).toBe(0);
      expect(m.op_types.Sqrt ?? 0).toBe(0);
    } else {
      expect(ln).toBe(0);
      expect(m.op_types.Pow).toBeGreaterThan(0);
      expect(m.op_types.Sqrt).toBe(m.op_types.Pow);
    }
  });

  it(`onnxruntime-web gives PyTorch's logits${m.dynamic ? ' at batch 2 and batch 1' : ' at batch 2'}`, async () => {
    const { InferenceSession, Tensor } = await ort();
    const session = await InferenceSession.create(onnxBytes(entry), { executionProviders: ['wasm'] });
    const per = size(m.input.per_sample_shape);
    const run = async (first: number, n: number): Promise<Float32Array> => {
      const shape = [n, ...m.input.per_sample_shape];
      const x: Ort.Tensor =
        m.kind === 'text'
          ? new Tensor('int64', BigInt64Array.from(tokens().subarray(first * per, (first + n) * per), BigInt), shape)
          : new Tensor('float32', images().slice(first * per, (first + n) * per), shape);
      const out = await session.run({ [session.inputNames[0]]: x });
      const y = out[session.outputNames[0]];
      expect(y.dims).toEqual([n, m.classes]);
      return y.data as Float32Array;
    };
    try {
      const expected = Float32Array.from(m.torch_logits.flat());
      expectClose(await run(0, 2), expected, 2, TOL, `${name} batch 2`);
      if (m.dynamic) {
        for (let s = 0; s < 2; s++) {
          const e = expected.subarray(s * m.classes, (s + 1) * m.classes);
          expectClose(await run(s, 1), e, 1, TOL, `${name} batch 1, sample ${s}`);
        }
      }
    } finally {
      await session.release();
    }
  });
});

const biasFree = index.entries.filter((e) => meta(e).bias_free);

describe.each(biasFree.map((e) => e.name))('bias-free transformer fixture %s', (name) => {
  const entry = biasFree.find((e) => e.name === name)!;

  it('every bias, position embedding and class token initializer is zero', () => {
    const graph = onnxProto.onnx.ModelProto.decode(onnxBytes(entry)).graph!;
    const zeroed = (graph.initializer ?? []).filter((t) => /(bias|pos_embedding|class_token)$/.test(t.name ?? ''));
    expect(zeroed.length).toBeGreaterThan(4);
    for (const t of zeroed) {
      const raw = t.rawData!;
      const values = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
      expect(values.length, t.name!).toBeGreaterThan(0);
      expect(values.every((v) => v === 0), t.name!).toBe(true);
    }
  });
});
