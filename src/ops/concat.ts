/** Concatenation along a per-sample axis (0 = channels for [C, H, W]). Relevance: each input's slice. */
import type { NodeBase } from '../graph/ir.js';
import { ShapeError } from '../errors.js';
import { rules } from '../rules.js';
import type { OpSpec } from './spec.js';

export interface ConcatNode extends NodeBase {
  op: 'concat';
  axis: number;
}

/** Floats per outer block: (outer, inner) around `axis` of shape. */
function blocks(shape: number[], axis: number): { outer: number; inner: number } {
  return {
    outer: shape.slice(0, axis).reduce((a, b) => a * b, 1),
    inner: shape.slice(axis + 1).reduce((a, b) => a * b, 1),
  };
}

export const concat: OpSpec<ConcatNode> = {
  op: 'concat',
  arity: [1, Infinity],
  shape(node, ins, where) {
    const ax = node.axis;
    if (!Number.isInteger(ax) || ax < 0 || ax >= ins[0].length)
      throw new ShapeError(`${where}: axis ${ax} out of range for [${ins[0].join(', ')}]`);
    const out = ins[0].slice();
    out[ax] = 0;
    for (const s of ins) {
      if (s.length !== out.length || s.some((v, i) => i !== ax && v !== out[i]))
        throw new ShapeError(`${where}: inputs [${ins.map((x) => x.join('x')).join('], [')}] differ outside axis ${ax}`);
      out[ax] += s[ax];
    }
    return out;
  },
  forward({ k, ins, out, n, node }) {
    const { outer, inner } = blocks(out.shape, node.axis);
    const outLen = out.shape[node.axis] * inner;
    let offset = 0;
    for (const t of ins) {
      const len = t.shape[node.axis] * inner;
      k.copyBlocks(t.act, out.act + offset * 4, n * outer, len, len, outLen);
      offset += len;
    }
  },
  rules: {
    gradient(s) {
      const { outer, inner } = blocks(s.out.shape, s.node.axis);
      const outLen = s.out.shape[s.node.axis] * inner;
      let offset = 0;
      for (const t of s.ins) {
        const len = t.shape[s.node.axis] * inner;
        if (s.first(t)) s.k.copyBlocks(s.out.rel + offset * 4, t.rel, s.n * outer, len, outLen, len);
        else s.k.addBlocks(s.out.rel + offset * 4, t.rel, s.n * outer, len, outLen, len);
        offset += len;
      }
    },
  },
  defaultRule: () => rules.gradient(),
  ruleNote: 'gradient: each input gets its slice',
  nonNegative: (_node, ins) => ins.every(Boolean),
  detail: (n) => `axis ${n.axis}`,
};
