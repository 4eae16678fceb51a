/**
 * 1-D convolution and pooling (Conv1d, MaxPool1d, AvgPool1d, AdaptiveMaxPool1d(1), global 1-D
 * pooling) on [N, C, L]: there is no 1-D op in the IR. The input is viewed as [C, 1, L], the
 * 2-D handler runs on a 2-D rewrite of the node (kernel [1, k], strides [1, s], pads
 * [0, p0, 0, p1], dilations [1, d], weight [M, C/g, 1, k]) and its output [C', 1, L'] is viewed
 * as [C', L'] again. Reshapes are free views, so this costs nothing, and every check of the 2-D
 * handler (groups, padding, ceil mode) applies as it is.
 */
import { UnsupportedError } from '../errors.js';
import type { onnx } from 'onnx-proto';
import { Attrs } from './onnx-attrs.js';
import { act, name, type ActValue, type OnnxContext, type OnnxNode, type OpHandler, type Value } from './onnx-context.js';
import { shapeStr } from './geometry.js';
import type { ConstTensor } from './onnx-tensor.js';

const AT_INTS = 7;

/** The node with its 1-D window attributes written for 2-D (a leading axis of length 1). */
function as2d(n: OnnxNode): OnnxNode {
  const lift: Record<string, (v: number[]) => number[]> = {
    kernel_shape: (v) => [1, ...v],
    strides: (v) => [1, ...v],
    dilations: (v) => [1, ...v],
    pads: (v) => (v.length === 2 ? [0, v[0], 0, v[1]] : v),
  };
  const attribute = (n.proto.attribute ?? []).map((a): onnx.IAttributeProto => {
    const f = a.name ? lift[a.name] : undefined;
    if (!f) return a;
    const ints = (a.ints ?? []).map((v) => Number(v));
    return { ...a, type: AT_INTS, ints: f(ints) };
  });
  const proto = { ...n.proto, attribute };
  return { ...n, proto, attrs: new Attrs(proto, n.where) };
}

/** A view of `x` as `shape` (a reshape node). */
function view(n: OnnxNode, ctx: OnnxContext, x: ActValue, shape: number[], suffix: string): ActValue {
  const node = ctx.b.add({ op: 'reshape', name: ctx.b.unique(`${n.name}${suffix}`), inputs: [x.node], source: n.name, shape });
  return { kind: 'act', node: node.name, shape };
}

/**
 * Runs the 2-D handler `handler2d` on `n` with the input [C, L] viewed as [C, 1, L] (and a 3-D
 * weight as 4-D), then views its [C', 1, L'] output as [C', L'].
 */
export function run1d(n: OnnxNode, ctx: OnnxContext, handler2d: OpHandler, weight?: ConstTensor): void {
  const x = act(n, ctx);
  if (x.shape.length !== 2) {
    throw new UnsupportedError(`${n.where}: a 1-D ${n.op} expects [N, C, L], got per-sample shape ${shapeStr(x.shape)}`);
  }
  const [c, l] = x.shape;
  const x2 = view(n, ctx, x, [c, 1, l], '_2d');
  const w2: Value | undefined = weight ? { kind: 'const', t: { ...weight, dims: [weight.dims[0], weight.dims[1], 1, weight.dims[2]] } } : undefined;
  let produced: ActValue | null = null;
  const inner: OnnxContext = {
    ...ctx,
    input: (m, i) => (i === 0 ? x2 : i === 1 && w2 ? w2 : ctx.input(m, i)),
    setOutput: (m, i, v) => {
      if (i === 0 && v.kind === 'act') produced = v;
      else ctx.setOutput(m, i, v);
    },
  };
  handler2d(as2d(n), inner);
  const out = produced as ActValue | null;
  if (!out || out.shape.length !== 3 || out.shape[1] !== 1) throw new UnsupportedError(`${n.where}: the 1-D ${n.op} did not give a [C, 1, L] result`);
  const back = ctx.b.add({ op: 'reshape', name: name(n, ctx), inputs: [out.node], source: n.name, shape: [out.shape[0], out.shape[2]] });
  ctx.setOutput(n, 0, { kind: 'act', node: back.name, shape: [out.shape[0], out.shape[2]] });
}
