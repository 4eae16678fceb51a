/**
 * TF.js merge layers → IR nodes: Add (residual sum, norm rule), Subtract (Keras files; a − b as
 * a + (−1)·b), Multiply (ops/mul.ts: a gate gets signal-take-all, another product the uniform rule) and Concatenate.
 */
import { ModelFormatError, ShapeError, UnsupportedError } from '../errors.js';
import { classifyProduct } from './gating.js';
import { get, kerasShape, sameShape, samePerm, source, where, type LayerHandler, type TValue } from './tfjs-context.js';
import type { KerasLayer } from './tfjs-topology.js';

/** Inputs of equal shape and layout, or a typed error naming the layer. */
function equalInputs(layer: KerasLayer, inputs: TValue[], verb: string, count?: number): void {
  if (count !== undefined ? inputs.length !== count : inputs.length < 2) {
    throw new ModelFormatError(`${where(layer)} expects ${count ?? 'at least two'} inputs, got ${inputs.length}`);
  }
  for (const x of inputs.slice(1)) {
    if (!sameShape(x.shape, inputs[0].shape)) {
      throw new ShapeError(
        `${where(layer)}: cannot ${verb} shapes ${inputs.map((v) => kerasShape(v.shape)).join(' and ')} (broadcasting is not supported)`,
      );
    }
    if (!samePerm(x.perm, inputs[0].perm)) {
      throw new UnsupportedError(`${where(layer)}: ${verb}s flattened tensors with different layouts`);
    }
  }
}

const addLayer: LayerHandler = (layer, inputs, ctx) => {
  equalInputs(layer, inputs, 'add');
  const name = ctx.b.unique(layer.name);
  ctx.b.add({ op: 'add', name, inputs: inputs.map((x) => x.node), source: source(layer) });
  return { node: name, shape: inputs[0].shape.slice(), perm: inputs[0].perm };
};

/** a − b = a + (−1)·b: the norm rule of the sum then splits relevance between a and −b. */
const subtractLayer: LayerHandler = (layer, inputs, ctx) => {
  equalInputs(layer, inputs, 'subtract', 2);
  const [a, b] = inputs;
  const neg = ctx.b.unique(`${layer.name}_negate`);
  ctx.b.add({ op: 'affine', name: neg, inputs: [b.node], source: source(layer), scale: Float32Array.of(-1), shift: Float32Array.of(0) });
  const name = ctx.b.unique(layer.name);
  ctx.b.add({ op: 'add', name, inputs: [a.node, neg], source: source(layer) });
  return { node: name, shape: a.shape.slice(), perm: a.perm };
};

/**
 * Multiply of two tensors: a gate and the signal it scales (squeeze-excitation, x·σ(x), …; see
 * gating.ts). Any other product is refused, naming the layer.
 */
const multiplyLayer: LayerHandler = (layer, inputs, ctx) => {
  if (inputs.length !== 2) {
    throw new UnsupportedError(`${where(layer)}: Multiply of ${inputs.length} tensors is not supported (only a signal and its gate)`);
  }
  const g = classifyProduct(ctx.b, inputs[0], inputs[1]);
  if (!g) {
    throw new UnsupportedError(
      `${where(layer)}: Multiply of ${inputs.map((v) => kerasShape(v.shape)).join(' and ')} is neither an activation pattern ` +
        '(x times a function of x, e.g. swish) nor a gate (a per-channel factor, as in squeeze-excitation); no LRP rule applies to it',
    );
  }
  const layouts = g.pattern === 'squeeze-excitation' ? g.gate.perm === null : samePerm(g.signal.perm, g.gate.perm);
  if (!layouts) throw new UnsupportedError(`${where(layer)}: multiplies flattened tensors with different layouts`);
  const name = ctx.b.unique(layer.name);
  ctx.b.add({ op: 'mul', name, inputs: [g.signal.node, g.gate.node], source: source(layer), pattern: g.pattern });
  ctx.notes.push(
    g.pattern === 'product'
      ? `Multiply '${layer.name}' is a product of two activations: each factor gets half of its relevance (uniform rule)`
      : `Multiply '${layer.name}' is a ${g.pattern} product: the gate '${g.gate.node}' gets no relevance (signal-take-all)`,
  );
  return { node: name, shape: g.signal.shape.slice(), perm: g.signal.perm };
};

const concatenate: LayerHandler = (layer, inputs, ctx) => {
  if (inputs.length < 1) throw new ModelFormatError(`${where(layer)} has no inputs`);
  const rank = inputs[0].shape.length + 1;
  const axis = get(layer, 'axis') ?? -1;
  if (typeof axis !== 'number' || !Number.isInteger(axis)) {
    throw new ModelFormatError(`${where(layer)}: bad axis ${JSON.stringify(axis)}`);
  }
  const kAxis = axis < 0 ? axis + rank : axis; // Keras axis incl. batch
  if (kAxis < 1 || kAxis >= rank) {
    throw new UnsupportedError(`${where(layer)}: concatenation along axis ${axis} (batch or out of range) is not supported`);
  }
  // Keras NHWC axis → IR per-sample axis: C (3) → 0, H (1) → 1, W (2) → 2; other ranks keep the Keras order.
  const a = rank === 4 ? (kAxis === 3 ? 0 : kAxis) : kAxis - 1;
  const out = inputs[0].shape.slice();
  out[a] = 0;
  for (const x of inputs) {
    if (x.shape.length !== out.length || x.shape.some((d, i) => i !== a && d !== out[i])) {
      throw new ShapeError(
        `${where(layer)}: cannot concatenate shapes ${inputs.map((v) => kerasShape(v.shape)).join(', ')} along axis ${axis}`,
      );
    }
    out[a] += x.shape[a];
  }
  let perm: Int32Array | null = null;
  if (rank === 2 && inputs.some((x) => x.perm)) {
    perm = new Int32Array(out[0]);
    let at = 0;
    for (const x of inputs) {
      for (let j = 0; j < x.shape[0]; j++) perm[at + j] = at + (x.perm ? x.perm[j] : j);
      at += x.shape[0];
    }
  }
  const name = ctx.b.unique(layer.name);
  ctx.b.add({ op: 'concat', name, inputs: inputs.map((x) => x.node), source: source(layer), axis: a });
  return { node: name, shape: out, perm };
};

/** Merge layers by Keras class name. */
export const TFJS_MERGE_LAYERS: Readonly<Record<string, LayerHandler>> = {
  Add: addLayer,
  Subtract: subtractLayer,
  Multiply: multiplyLayer,
  Concatenate: concatenate,
};
