// Checks the architecture fixtures themselves (test/fixtures/arch/, from scripts/export-architectures.py): the index
// agrees with the files, each NAME.json agrees with its ONNX graph, and onnxruntime-web, an independent runtime, gives
// PyTorch's logits on inputs.f32 — so a model that loads in lrp-wasm can be judged against these logits.

import fs from 'node:fs';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import type * as Ort from 'onnxruntime-web';
import { ARCH_DIR, archEntries, archIndex, archInputs, archLogits, archMeta, archOnnx } from '../helpers/arch.js';
import { expectClose, relError } from '../helpers/fixtures.js';
import { ort } from '../helpers/oracle.js';

const TOL = 1e-4;
const FAMILIES = [
  'alexnet',
  'densenet121',
  'efficientnet_b0',
  'googlenet',
  'mnasnet0_5',
  'mobilenet_v2',
  'mobilenet_v3_large',
  'mobilenet_v3_small',
  'preproc_zoo',
  'regnet_y_400mf',
  'resnet18',
  'resnet50',
  'shufflenet_v2_x1_0',
  'squeezenet1_1',
  'vgg16',
  'vgg16_bn',
];

async function runOrt(session: Ort.InferenceSession, x: Float32Array, n: number): Promise<Float32Array> {
  const { Tensor } = await ort();
  const shape = [n, ...archIndex().input_shape];
  const out = await session.run({ [session.inputNames[0]]: new Tensor('float32', x, shape) });
  const y = out[session.outputNames[0]];
  expect(y.dims).toEqual([n, archIndex().classes]);
  return y.data as Float32Array;
}

describe('arch fixtures: files', () => {
  it('index.json lists every stored file, and nothing else is in the folder', () => {
    const listed = archEntries().flatMap((e) => [e.file, e.json]);
    const expected = ['README.md', 'index.json', archIndex().inputs, ...listed].sort();
    expect(fs.readdirSync(ARCH_DIR).sort()).toEqual(expected);
    for (const e of archEntries()) {
      expect(fs.statSync(path.join(ARCH_DIR, e.file)).size, e.file).toBe(e.stored_bytes);
    }
  });

  it('covers every family: a dynamic and a fixed-batch export each (preproc_zoo: opset 13 and 14)', () => {
    expect([...new Set(archEntries().map((e) => e.family))].sort()).toEqual(FAMILIES);
    for (const family of FAMILIES) {
      const kinds = archEntries()
        .filter((e) => e.family === family)
        .map((e) => `${e.dynamic ? 'dynamic' : 'fixed'}@${e.opset}`)
        .sort();
      expect(kinds, family).toEqual(family === 'preproc_zoo' ? ['dynamic@13', 'dynamic@14'] : ['dynamic@13', 'fixed@13']);
    }
  });

  it('stays within the size budget (about 4.5 MB in all, about 300 KB a file)', () => {
    let total = 0;
    for (const f of fs.readdirSync(ARCH_DIR)) {
      const size = fs.statSync(path.join(ARCH_DIR, f)).size;
      expect(size, f).toBeLessThan(300e3);
      total += size;
    }
    expect(total).toBeLessThan(4.5e6);
  });

  it('inputs.f32 holds 2 samples of the input shape, values in [0, 1]', () => {
    const x = archInputs();
    expect(x.length).toBe(2 * archIndex().input_shape.reduce((a, b) => a * b, 1));
    expect(x.every((v) => v >= 0 && v <= 1)).toBe(true);
  });
});

describe.each(archEntries().map((e) => e.name))('arch fixture %s', (name) => {
  const meta = archMeta(name);

  it('NAME.json agrees with the ONNX graph (op types, opset, input and output shapes)', () => {
    const model = onnxProto.onnx.ModelProto.decode(archOnnx(name));
    const graph = model.graph!;
    const nodes = graph.node ?? [];
    const ops: Record<string, number> = {};
    for (const node of nodes) ops[node.opType!] = (ops[node.opType!] ?? 0) + 1;
    expect(ops).toEqual(meta.op_types);
    const opset = model.opsetImport.find((o) => !o.domain)?.version;
    expect(Number(opset)).toBe(meta.opset);

    const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
    const inputs = (graph.input ?? []).filter((v) => !initializers.has(v.name));
    const outputs = graph.output ?? [];
    expect(inputs.map((v) => v.name)).toEqual(['input']);
    expect(outputs.map((v) => v.name)).toEqual(['output']);
    const dims = (v: onnx.IValueInfoProto) =>
      (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue)));
    const batch = meta.dynamic ? 'N' : meta.batch;
    expect(dims(inputs[0])).toEqual([batch, ...meta.input_shape]);
    expect(dims(outputs[0])).toEqual([batch, meta.classes]);
    expect(meta.torch_logits.map((row) => row.length)).toEqual([meta.classes, meta.classes]);
  });

  it('float32 rounding alone moves the logits by well under the tolerance (PyTorch f32 vs f64)', () => {
    const f64 = Float64Array.from(meta.torch_logits_f64.flat());
    const err = Math.max(...relError(archLogits(name), f64, 2));
    expect(err).toBeCloseTo(meta.f32_vs_f64, 6);
    expect(err).toBeLessThan(TOL / 4);
  });

  it(`onnxruntime-web gives PyTorch's logits${meta.dynamic ? ' at batch 2 and batch 1' : ' at batch 2'}`, async () => {
    const { InferenceSession } = await ort();
    const session = await InferenceSession.create(archOnnx(name), { executionProviders: ['wasm'] });
    try {
      const x = archInputs();
      const expected = archLogits(name);
      expectClose(await runOrt(session, x, 2), expected, 2, TOL, `${name} batch 2`);
      if (meta.dynamic) {
        const per = x.length / 2;
        for (let s = 0; s < 2; s++) {
          const y = await runOrt(session, x.slice(s * per, (s + 1) * per), 1);
          const e = expected.subarray(s * meta.classes, (s + 1) * meta.classes);
          expectClose(y, e, 1, TOL, `${name} batch 1, sample ${s}`);
        }
      }
    } finally {
      await session.release();
    }
  });
});
