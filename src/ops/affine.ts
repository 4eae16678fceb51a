/**
 * y = x·scale + shift with constant scale and shift, one value or one per channel (axis 0 of the
 * per-sample shape): what Add/Sub/Mul/Div by a constant, TF.js Rescaling and Normalization become.
 * Canonicalize folds it into a preceding dense/conv (exact, like batch norm). At the model input
 * (in-graph preprocessing such as (x − mean)/std) it stays: zbox bounds are then given in the raw
 * input domain and mapped through it (engine/assign.ts), and relevance passes through it.
 */
import type { NodeBase } from '../graph/ir.js';
import { ShapeError } from '../errors.js';
import { rules } from '../rules.js';
import { channelAffineForward, channelAffineRules, type ChannelAffineState } from './channel-affine.js';
import type { OpSpec } from './spec.js';

export interface AffineNode extends NodeBase {
  op: 'affine';
  /** length 1 (every element) or C (per channel, axis 0) */
  scale: Float32Array;
  shift: Float32Array;
}

/** "0.5" or "[4.367, 4.464, 4.444]" (at most 4 values shown). */
function values(v: Float32Array): string {
  const f = (x: number) => String(Number(x.toPrecision(4)));
  if (v.length === 1) return f(v[0]);
  return `[${Array.from(v.subarray(0, 4), f).join(', ')}${v.length > 4 ? `, … (${v.length})` : ''}]`;
}

/** Per-channel arrays of length C from a scalar or per-channel parameter. */
function perChannel(v: Float32Array, C: number): Float32Array {
  return v.length === C ? v : new Float32Array(C).fill(v[0]);
}

export const affine: OpSpec<AffineNode, ChannelAffineState> = {
  op: 'affine',
  arity: 1,
  shape(node, [inp], where) {
    for (const [k, v] of [['scale', node.scale], ['shift', node.shift]] as const) {
      if (v.length !== 1 && v.length !== inp[0])
        throw new ShapeError(`${where}: ${k} has ${v.length} values; expected 1 or one per channel (${inp[0]})`);
      for (let i = 0; i < v.length; i++)
        if (!Number.isFinite(v[i])) throw new ShapeError(`${where}: ${k} holds ${v[i]} at index ${i}`);
    }
    return inp.slice();
  },
  prepare: (node, env) => {
    const C = env.inShapes[0][0];
    return { scale: env.floats(perChannel(node.scale, C)), shift: env.floats(perChannel(node.shift, C)) };
  },
  forward: channelAffineForward,
  rules: channelAffineRules,
  defaultRule: (_node, c) => c.affine ?? rules.pass(),
  ruleNote: 'pass: constant scale/shift (preprocessing); zbox bounds are mapped through it',
  nonNegative: (node, ins) => ins[0] && node.scale.every((v) => v >= 0) && node.shift.every((v) => v >= 0),
  detail: (n) => `x·${values(n.scale)} + ${values(n.shift)}`,
};
