/**
 * Layout ops as one strided gather (kernel ABI: StrideDesc): the output, read row-major over
 * `dims`, takes input element offset + Σ idx_d·strides_d. Relevance goes back through the
 * adjoint, a strided scatter-add: exact index moves for transposes and slices, sums for
 * repeated reads (nearest upsampling).
 */
import { makeStrideDesc } from '../kernels/stride-desc.js';
import type { Shape } from '../graph/ir.js';
import { size } from '../graph/shapes.js';
import type { ForwardStep, PrepareEnv, RelevanceStep } from './spec.js';

export interface StridedView {
  dims: number[];
  strides: number[];
  offset: number;
}

/** Row-major strides of a shape. */
export function rowMajorStrides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i];
  }
  return out;
}

/** Merge adjacent output dims that are contiguous in the input, so that views of any rank fit RANK ≤ 6. */
function simplify(v: StridedView): StridedView {
  const dims: number[] = [];
  const strides: number[] = [];
  for (let i = 0; i < v.dims.length; i++) {
    if (v.dims[i] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides[last] === v.strides[i] * v.dims[i]) {
      dims[last] *= v.dims[i];
      strides[last] = v.strides[i];
    } else {
      dims.push(v.dims[i]);
      strides.push(v.strides[i]);
    }
  }
  if (dims.length === 0) return { dims: [1], strides: [0], offset: v.offset };
  return { dims, strides, offset: v.offset };
}

/** Writes the (checked) descriptor of a view into linear memory; returns its pointer. */
export function stridedDescriptor(view: StridedView, env: PrepareEnv, where: string): number {
  const v = simplify(view);
  return env.ints(makeStrideDesc({ inSize: size(env.inShapes[0]), dims: v.dims, strides: v.strides, offset: v.offset }, where));
}

export function stridedForward({ k, state, ins, out, n }: ForwardStep<unknown, number>): void {
  k.stridedGather(state, ins[0].act, out.act, n);
}

/** The adjoint of the gather: scatter-add into a zeroed buffer (or add to what other consumers sent). */
export function stridedGradient(s: RelevanceStep<unknown, number>): void {
  const x = s.ins[0];
  if (s.first(x)) s.k.fill(x.rel, s.n * x.size, 0);
  s.k.stridedScatterAdd(s.state, s.out.rel, x.rel, s.n);
}
