/**
 * Token ids → vectors: row `id` of a constant table [vocab, dim] for every id of the input (ONNX
 * Gather on a constant table with the model input as indices, TF.js Embedding). The ids arrive as
 * float32 values (exact below 2^24); one that is not an integer in [0, vocab) is an InputError
 * naming the sample and position, found before any row is read. Input [...positions] → output
 * [...positions, dim]. Default rule: pass, i.e. each token gets the sum of the relevance of its
 * vector (relevance per token). The ids are not differentiable: the gradient rule gives the same
 * per-token sum of the vector's gradient.
 */
import type { NodeBase } from '../graph/ir.js';
import { positive, size, where } from '../graph/shapes.js';
import { InputError, ShapeError } from '../errors.js';
import { rules } from '../rules.js';
import type { OpSpec, RuleFn } from './spec.js';

export interface EmbeddingNode extends NodeBase {
  op: 'embedding';
  vocab: number;
  dim: number;
  /** [vocab, dim] */
  table: Float32Array;
}

export interface EmbeddingState {
  /** Byte pointer of the table in linear memory. */
  table: number;
  /** Ids per sample. */
  count: number;
  inShape: number[];
}

/** Float32 holds every integer up to 2^24 exactly; larger ids could not be told apart. */
const MAX_VOCAB = 2 ** 24;

/** "5" for a rank-1 input, "[1, 5]" otherwise. */
function position(flat: number, shape: number[]): string {
  if (shape.length === 1) return String(flat);
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(flat % shape[d]);
    flat = Math.floor(flat / shape[d]);
  }
  return `[${idx.join(', ')}]`;
}

/** Each token gets the sum over its vector, summed in float64 (channelDot against ones). */
const perToken: RuleFn<EmbeddingNode, EmbeddingState> = (s) => {
  const ids = s.ins[0];
  s.k.channelDot(s.out.rel, s.ws.ones, ids.rel, s.n, s.state.count, s.node.dim, s.first(ids) ? 0 : 1);
};

export const embedding: OpSpec<EmbeddingNode, EmbeddingState> = {
  op: 'embedding',
  arity: 1,
  shape(node, [ids], at) {
    positive([node.vocab, node.dim], 'vocab and dim', at);
    if (node.vocab > MAX_VOCAB)
      throw new ShapeError(`${at}: vocab ${node.vocab} is above 2^24: token ids are float32 values, exact only up to 2^24`);
    if (node.table.length !== node.vocab * node.dim)
      throw new ShapeError(`${at}: table has ${node.table.length} values, expected ${node.vocab}x${node.dim}`);
    return [...ids, node.dim];
  },
  prepare: (node, env) => ({ table: env.floats(node.table), count: size(env.inShapes[0]), inShape: env.inShapes[0].slice() }),
  forward({ k, ws, node, state: s, ins, out, n, firstSample }) {
    const bad = k.embeddingForward(ins[0].act, s.table, out.act, n * s.count, node.vocab, node.dim);
    if (bad < 0) return;
    const value = ws.backend.memory.f32()[(ins[0].act >>> 2) + bad];
    const sample = (firstSample ?? 0) + Math.floor(bad / s.count);
    throw new InputError(
      `${where(node)}: token id ${value} at sample ${sample}, position ${position(bad % s.count, s.inShape)} is not an integer from 0 to ${node.vocab - 1} (the vocabulary size is ${node.vocab})`,
      'E_TOKEN_ID',
    );
  },
  rules: { pass: perToken, gradient: perToken },
  defaultRule: () => rules.pass(),
  ruleNote: "pass: each token gets the sum of its vector's relevance",
  nonNegative: (node) => node.table.every((v) => v >= 0),
  detail: (node) => `${node.vocab}×${node.dim}`,
};
