/** Builds tiny ONNX models with onnx-proto's encoder, for importer tests. */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;
export { onnx };

export const FLOAT = 1;
export const INT64 = 7;
export const DOUBLE = 11;

export function tensor(
  name: string,
  dims: number[],
  values: number[],
  opts: { raw?: boolean; dataType?: number } = {},
): OnnxTypes.ITensorProto {
  const dataType = opts.dataType ?? FLOAT;
  const t: OnnxTypes.ITensorProto = { name, dims, dataType };
  if (opts.raw) {
    const width = dataType === FLOAT ? 4 : 8;
    const buf = new DataView(new ArrayBuffer(values.length * width));
    values.forEach((v, i) => {
      if (dataType === FLOAT) buf.setFloat32(i * 4, v, true);
      else if (dataType === INT64) buf.setBigInt64(i * 8, BigInt(v), true);
      else buf.setFloat64(i * 8, v, true);
    });
    t.rawData = new Uint8Array(buf.buffer);
  } else if (dataType === FLOAT) t.floatData = values;
  else if (dataType === INT64) t.int64Data = values;
  else if (dataType === DOUBLE) t.doubleData = values;
  return t;
}

/** Deterministic pseudo-random values in [-1, 1). */
export function rand(count: number, seed = 1): number[] {
  let s = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(Math.fround((s / 2 ** 32) * 2 - 1));
  }
  return out;
}

const AT = onnx.AttributeProto.AttributeType;
export const attr = {
  i: (name: string, i: number): OnnxTypes.IAttributeProto => ({ name, type: AT.INT, i }),
  f: (name: string, f: number): OnnxTypes.IAttributeProto => ({ name, type: AT.FLOAT, f }),
  ints: (name: string, ints: number[]): OnnxTypes.IAttributeProto => ({ name, type: AT.INTS, ints }),
  s: (name: string, s: string): OnnxTypes.IAttributeProto => ({ name, type: AT.STRING, s: new TextEncoder().encode(s) }),
  t: (name: string, t: OnnxTypes.ITensorProto): OnnxTypes.IAttributeProto => ({ name, type: AT.TENSOR, t }),
};

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attribute: OnnxTypes.IAttributeProto[] = [],
  name = outputs[0],
): OnnxTypes.INodeProto {
  return { opType, input: inputs, output: outputs, attribute, name };
}

export function valueInfo(name: string, dims: Array<number | string>, elemType = FLOAT): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

export interface ModelSpec {
  nodes: OnnxTypes.INodeProto[];
  initializers?: OnnxTypes.ITensorProto[];
  /** Default: one input 'x' [N, ...inputShape]. */
  inputs?: OnnxTypes.IValueInfoProto[];
  inputShape?: Array<number | string>;
  outputs?: string[];
  opset?: number;
}

export function buildModel(spec: ModelSpec): Uint8Array {
  const inputs = spec.inputs ?? [valueInfo('x', ['N', ...(spec.inputShape ?? [4])])];
  const outputs = (spec.outputs ?? [spec.nodes[spec.nodes.length - 1].output![0]]).map((o) => ({ name: o }));
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    producerName: 'lrp-wasm-test',
    graph: { name: 'test', node: spec.nodes, initializer: spec.initializers ?? [], input: inputs, output: outputs },
  });
  return onnx.ModelProto.encode(model).finish();
}
