/**
 * TF.js Embedding → the IR's embedding op: token ids [N, L] (the model input, float32 values)
 * → vectors [L, dim] in the sequence layout. Relevance per token is the sum over its vector
 * (the op's pass rule), so `explain` on a text model returns [N, L].
 *
 * `mask_zero` marks id 0 as padding for the layers that read masks. TF.js's own layers use the
 * mask only in recurrent layers (refused here) and in Masking; the layers imported here ignore it
 * as TF.js does, so id 0 is embedded like any other id and the numbers equal TF.js predict.
 */
import { ModelFormatError, ShapeError, UnsupportedError } from '../errors.js';
import { MODEL_INPUT } from '../graph/ir.js';
import type { EmbeddingNode } from '../ops/embedding.js';
import { bool, get, kerasShape, one, posInt, source, weight, where, type LayerHandler } from './tfjs-context.js';

const embedding: LayerHandler = (layer, inputs, ctx) => {
  const x = one(layer, inputs);
  if (x.node !== MODEL_INPUT) {
    throw new UnsupportedError(`${where(layer)} reads '${x.node}'; an Embedding must read the model input (the token ids)`);
  }
  if (x.shape.length !== 1) {
    throw new ShapeError(`${where(layer)}: expects token ids of shape [N, steps], got per-sample shape ${kerasShape(x.shape)}`);
  }
  const vocab = posInt(layer, 'input_dim');
  const dim = posInt(layer, 'output_dim');
  const given = get(layer, 'input_length');
  const length = Array.isArray(given) && given.length === 1 ? given[0] : given;
  if (length !== undefined && length !== null) {
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 1) {
      throw new ModelFormatError(`${where(layer)}: 'input_length' must be a positive integer, got ${JSON.stringify(given)}`);
    }
    if (length !== x.shape[0]) {
      throw new ShapeError(`${where(layer)}: input_length ${length} disagrees with the model input of ${x.shape[0]} steps`);
    }
  }
  const name = ctx.b.unique(layer.name);
  ctx.b.add<EmbeddingNode>({
    op: 'embedding',
    name,
    inputs: [x.node],
    source: source(layer),
    vocab,
    dim,
    table: weight(layer, ctx, 'embeddings', [vocab, dim]),
  });
  if (bool(layer, 'mask_zero', false)) {
    ctx.notes.push(`Embedding '${layer.name}' has mask_zero: the layers after it ignore the mask, as in TF.js (id 0 is embedded like any other id)`);
  }
  return { node: name, shape: [x.shape[0], dim], perm: null };
};

/** Embedding layers by Keras class name. */
export const TFJS_EMBEDDING_LAYERS: Readonly<Record<string, LayerHandler>> = {
  Embedding: embedding,
};
