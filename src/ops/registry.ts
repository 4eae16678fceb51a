/**
 * The one table of ops. The engine, shape inference, rule assignment and describe() look every
 * op up here; importers map foreign ops onto these node types. Adding an op: write its module in
 * src/ops/, add it to OPS below, map it in the importers (ARCHITECTURE.md, "How to add an op").
 */
import type { GraphNode } from '../graph/ir.js';
import { activation } from './activation.js';
import { add } from './add.js';
import { affine } from './affine.js';
import { avgpool2d, globalavgpool } from './avgpool2d.js';
import { batchnorm } from './batchnorm.js';
import { concat } from './concat.js';
import { constant } from './constant.js';
import { conv2d } from './conv2d.js';
import { dense } from './dense.js';
import { layernorm } from './layernorm.js';
import { embedding } from './embedding.js';
import { matmul } from './matmul.js';
import { maxpool2d } from './maxpool2d.js';
import { mul } from './mul.js';
import { prelu } from './prelu.js';
import { relu } from './relu.js';
import { dropout, identity } from './removed.js';
import { softmax } from './softmax.js';
import type { OpSpec } from './spec.js';
import { flatten, reshape } from './views.js';
import { slice } from './slice.js';
import { transpose } from './transpose.js';
import { upsample } from './upsample.js';

export const OPS = {
  dense,
  conv2d,
  relu,
  activation,
  prelu,
  mul,
  maxpool2d,
  avgpool2d,
  globalavgpool,
  batchnorm,
  layernorm,
  affine,
  flatten,
  reshape,
  add,
  concat,
  transpose,
  slice,
  upsample,
  matmul,
  embedding,
  constant,
  identity,
  dropout,
  softmax,
} as const;

export type OpName = keyof typeof OPS;

/** The spec of a node's op (typed loosely: the engine passes each node to its own spec). */
export function specOf(node: { op: string }): OpSpec<GraphNode, unknown> {
  const spec = (OPS as Record<string, unknown>)[node.op];
  if (!spec) throw new Error(`internal: no op module for '${node.op}'`);
  return spec as OpSpec<GraphNode, unknown>;
}
