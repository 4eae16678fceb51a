/**
 * ONNX → IR. Decodes the protobuf (onnx-proto), resolves initializers and Constant nodes,
 * walks the (topologically sorted) nodes once, translating each through ONNX_OPS, and checks
 * shapes on the way. Shape arithmetic feeding a Reshape is evaluated at import (onnx-shape.ts). Layouts are already PyTorch's (NCHW, conv weight [out, in/groups, kh, kw]);
 * Gemm/MatMul weights are brought to [out, in].
 */
import { LrpError, ModelFormatError, ShapeError, UnsupportedError } from '../errors.js';
import { MODEL_INPUT, type Conv2dNode, type DenseNode, type Graph, type Shape } from '../graph/ir.js';
import { Attrs } from './onnx-attrs.js';
import { layoutStr } from './onnx-batch.js';
import { fuseLayerNorms } from './onnx-layernorm-pattern.js';
import { GraphBuilder } from './builder.js';
import { shapeStr } from './geometry.js';
import { ONNX_OPS, type OnnxContext, type OnnxNode, type Value } from './onnx-ops.js';
import { constFromProto, dtypeName, DT, onnxRoot, toNum, type ConstTensor, type onnx } from './onnx-tensor.js';

export interface OnnxImportOptions {
  /** Graph name (default: the ONNX graph's name). */
  name?: string;
  /**
   * Per-sample input shape (no batch axis, NCHW), for inputs whose dimensions are symbolic in
   * the file. Static dimensions in the file must agree.
   */
  inputShape?: number[];
}

const DEFAULT_DOMAINS = new Set(['', 'ai.onnx']);

function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  let model: onnx.ModelProto;
  try {
    model = onnxRoot.ModelProto.decode(bytes);
  } catch (e) {
    throw new ModelFormatError(`truncated or corrupt ONNX file: ${(e as Error).message}`);
  }
  if (!model.graph || (model.graph.node ?? []).length === 0) {
    throw new ModelFormatError('truncated or corrupt ONNX file: it holds no graph nodes');
  }
  return model;
}

function defaultOpset(model: onnx.ModelProto): number {
  for (const o of model.opsetImport ?? []) {
    if (DEFAULT_DOMAINS.has(o.domain ?? '')) return toNum(o.version ?? 0, 'opset_import');
  }
  return 13;
}

/** Per-sample input shape from the graph input's type and the caller's override. */
function resolveInputShape(vi: onnx.IValueInfoProto, override: number[] | undefined, tokenIds: boolean): Shape {
  const inName = vi.name ?? MODEL_INPUT;
  const tt = vi.type?.tensorType;
  if (vi.type && !tt) throw new UnsupportedError(`the ONNX model input '${inName}' is not a tensor`);
  if (tt && tt.elemType !== undefined && tt.elemType !== null && tt.elemType !== DT.FLOAT && tt.elemType !== 0 && !tokenIds) {
    throw new UnsupportedError(
      `the ONNX model input '${inName}' has element type ${dtypeName(tt.elemType)}; only float32 inputs are supported, ` +
        'or integer token ids (int64/int32) read only by Gather on an embedding table',
    );
  }
  if (override) {
    if (override.length < 1 || override.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ShapeError(`inputShape ${shapeStr(override)} must be positive integers (per sample, no batch axis)`);
    }
  }
  const dims = tt?.shape?.dim;
  if (!dims) {
    if (override) return override.slice();
    throw new ModelFormatError(`the ONNX model input '${inName}' has no shape; pass inputShape (per sample, NCHW)`);
  }
  if (dims.length < 2) {
    throw new UnsupportedError(`the ONNX model input '${inName}' has rank ${dims.length}; expected [N, ...] with a batch axis`);
  }
  const fileDims = dims.slice(1).map((d) => {
    if (d.dimValue !== undefined && d.dimValue !== null) {
      const v = toNum(d.dimValue, `the shape of input '${inName}'`);
      return v > 0 ? v : null;
    }
    return null;
  });
  const describe = () =>
    `[${dims
      .map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? String(d.dimValue) : '?'))
      .join(', ')}]`;
  if (override) {
    if (override.length !== fileDims.length) {
      throw new ShapeError(
        `inputShape ${shapeStr(override)} has ${override.length} axes but the ONNX input '${inName}' ${describe()} has ${fileDims.length} per sample`,
      );
    }
    fileDims.forEach((d, i) => {
      if (d !== null && d !== override[i]) {
        throw new ShapeError(`inputShape ${shapeStr(override)} disagrees with the ONNX input '${inName}' ${describe()}`);
      }
    });
    return override.slice();
  }
  if (fileDims.some((d) => d === null)) {
    throw new ModelFormatError(
      `the ONNX input '${inName}' ${describe()} has symbolic dimensions besides the batch; pass inputShape (per sample, NCHW)`,
    );
  }
  return fileDims as number[];
}

function nodeLabel(node: onnx.INodeProto, index: number): string {
  return node.name || node.output?.find((o) => o) || `${node.opType ?? 'node'}_${index}`;
}

/** Imports an ONNX model (the bytes of a .onnx file) into the IR. */
export function importOnnx(bytes: Uint8Array, opts: OnnxImportOptions = {}): Graph {
  const model = decodeModel(bytes);
  const g = model.graph!;
  const opset = defaultOpset(model);

  const values = new Map<string, Value>();
  const initNames = new Set<string>();
  for (const t of g.initializer ?? []) {
    const c: ConstTensor = constFromProto(t, '');
    if (!c.name) throw new ModelFormatError('an ONNX initializer has no name');
    initNames.add(c.name);
    values.set(c.name, { kind: 'const', t: c });
  }
  if ((g.sparseInitializer ?? []).length > 0) {
    throw new UnsupportedError('sparse initializers are not supported');
  }

  const inputs = (g.input ?? []).filter((i) => !initNames.has(i.name ?? ''));
  if (inputs.length !== 1) {
    throw new UnsupportedError(
      `the ONNX graph has ${inputs.length} inputs (${inputs.map((i) => `'${i.name}'`).join(', ') || 'none'}); exactly one is supported`,
    );
  }
  const outputs = g.output ?? [];
  if (outputs.length !== 1) {
    throw new UnsupportedError(
      `the ONNX graph has ${outputs.length} outputs (${outputs.map((o) => `'${o.name}'`).join(', ') || 'none'}); exactly one is supported`,
    );
  }
  const inputName = inputs[0].name ?? '';
  const outputName = outputs[0].name ?? '';
  // Integer inputs are token ids when every node reading them is a Gather that takes them as
  // indices (an embedding; Shape reads only the dimensions).
  const inputType = inputs[0].type?.tensorType?.elemType ?? null;
  const tokenIds =
    (inputType === DT.INT64 || inputType === DT.INT32) &&
    (g.node ?? []).every((node) =>
      !(node.input ?? []).includes(inputName) || node.opType === 'Shape' || (node.opType === 'Gather' && node.input?.[1] === inputName && node.input?.[0] !== inputName),
    );
  const inputShape = resolveInputShape(inputs[0], opts.inputShape, tokenIds);
  const batchDim = inputs[0].type?.tensorType?.shape?.dim?.[0]?.dimValue;
  const staticBatch = batchDim !== undefined && batchDim !== null ? toNum(batchDim, `the batch size of input '${inputName}'`) : null;
  values.set(inputName, { kind: 'act', node: MODEL_INPUT, shape: inputShape.slice() });

  // Shape reads only the dimensions, not the values: it does not count as a reader (so a
  // `x.view(x.size(0), -1)` after a bias-less MatMul/Conv still lets a bias Add fold).
  const notes: string[] = [];
  const graphNodes = fuseLayerNorms(g.node ?? [], g.initializer ?? [], [outputName], notes);
  const readers = new Map<string, number>();
  for (const node of graphNodes) {
    if (node.opType === 'Shape' && DEFAULT_DOMAINS.has(node.domain ?? '')) continue;
    for (const i of node.input ?? []) if (i) readers.set(i, (readers.get(i) ?? 0) + 1);
  }
  readers.set(outputName, (readers.get(outputName) ?? 0) + 1);

  const b = new GraphBuilder();
  const biasless = new Map<string, DenseNode | Conv2dNode>();
  let tokens = false;
  const ctx: OnnxContext = {
    b,
    opset,
    notes,
    biasless,
    staticBatch: staticBatch && staticBatch > 0 ? staticBatch : null,
    input(n: OnnxNode, i: number): Value | undefined {
      const tensor = n.proto.input?.[i];
      if (!tensor) return undefined;
      const v = values.get(tensor);
      if (!v) {
        throw new ModelFormatError(
          `${n.where} reads '${tensor}', which no earlier node produces (graph not topologically sorted, or a missing initializer)`,
        );
      }
      return v;
    },
    setOutput(n: OnnxNode, i: number, v: Value): void {
      const tensor = n.proto.output?.[i];
      if (tensor) values.set(tensor, v);
    },
    consumers: (tensor) => readers.get(tensor) ?? 0,
    isGraphOutput: (tensor) => tensor === outputName,
    inputType: () => inputType,
    markTokenInput(n: OnnxNode): void {
      if (!tokens) notes.push(`${n.where} reads the model input as token ids (an embedding)`);
      tokens = true;
    },
  };

  graphNodes.forEach((proto, index) => {
    const op = proto.opType ?? '';
    const label = nodeLabel(proto, index);
    const domain = proto.domain ?? '';
    if (!DEFAULT_DOMAINS.has(domain)) {
      throw new UnsupportedError(`unsupported ONNX op '${domain}.${op}' at node '${label}' (custom domain)`);
    }
    const handler = Object.prototype.hasOwnProperty.call(ONNX_OPS, op) ? ONNX_OPS[op] : undefined;
    if (!handler) throw new UnsupportedError(`unsupported ONNX op '${op}' at node '${label}'`);
    const where = `ONNX ${op} node '${label}'`;
    const n: OnnxNode = { proto, op, name: label, where, attrs: new Attrs(proto, where) };
    try {
      handler(n, ctx);
    } catch (e) {
      if (e instanceof LrpError) throw e;
      throw new ModelFormatError(`${where}: ${(e as Error).message}`);
    }
  });

  const out = values.get(outputName);
  if (!out) throw new ModelFormatError(`the ONNX graph output '${outputName}' is not produced by any node`);
  if (out.kind === 'const') throw new UnsupportedError(`the ONNX graph output '${outputName}' is a constant`);
  if (out.kind === 'pad') throw new UnsupportedError(`the ONNX graph output '${outputName}' comes from a Pad`);
  if (out.kind === 'shape') throw new UnsupportedError(`the ONNX graph output '${outputName}' is a shape value (from Shape '${out.from}')`);
  if (out.node === MODEL_INPUT) throw new ModelFormatError('the ONNX graph has no layers between input and output');
  if (out.batch && ctx.staticBatch !== 1) {
    throw new UnsupportedError(
      `the ONNX graph output '${outputName}' has the layout ${layoutStr(out.batch.axes)} (N = batch size, moved by ${out.batch.movedBy}); ` +
        'the batch must be its leading axis',
    );
  }
  if (out.shape.length !== 1) {
    notes.push(`the model output has per-sample shape ${shapeStr(out.shape)} (not a logit vector)`);
  }

  // Drop nodes that do not lead to the output (e.g. a dangling branch).
  const needed = new Set<string>([out.node]);
  for (let i = b.nodes.length - 1; i >= 0; i--) {
    const node = b.nodes[i];
    if (needed.has(node.name)) for (const inp of node.inputs) needed.add(inp);
  }
  const nodes = b.nodes.filter((node) => needed.has(node.name));
  if (nodes.length !== b.nodes.length) {
    const dropped = b.nodes.filter((node) => !needed.has(node.name)).map((node) => node.name);
    notes.push(`nodes not leading to the output were dropped: ${dropped.join(', ')}`);
  }

  return {
    name: opts.name ?? (g.name || 'onnx-model'),
    inputShape,
    inputLayout: 'NCHW',
    nodes,
    output: out.node,
    notes,
    format: 'onnx',
    ...(tokens ? { inputKind: 'tokens' as const } : {}),
  };
}
