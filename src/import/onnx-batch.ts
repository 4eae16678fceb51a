/**
 * Where the batch sits in an ONNX activation tensor. The IR holds per-sample tensors with the
 * batch leading; ONNX graphs exported from seq-first attention (nn.MultiheadAttention) move the
 * batch: x [N, T, E] → Transpose → [T, N, E] → Reshape → [T, N·H, hd] → … → [N, T, E] again.
 *
 * Each ONNX axis is a length, or a length that contains the batch: pre·N·post. The batch is one
 * indivisible atom, so the ONNX tensor is a row-major array over the atoms (…, pre, N, post, …)
 * and the IR tensor is that array with the N atom removed, in the same order. Its shape has one
 * axis per ONNX axis (pre·post for the batch axis), except that an axis holding the batch alone
 * has none. A Transpose permutes whole axes (an IR transpose over the others), a Reshape regroups
 * the atoms (an IR view) as long as it neither splits the batch atom nor moves it. Ops act on the
 * IR axes the ONNX axes map to; an op over an axis that contains the batch is refused.
 */
import { UnsupportedError } from '../errors.js';
import type { Shape } from '../graph/ir.js';
import type { ActValue } from './onnx-context.js';

/** An ONNX axis of length pre·N·post (N = batch size). */
export interface BatchAxis {
  pre: number;
  post: number;
}
export type OnnxAxis = number | BatchAxis;

/** The ONNX layout of an activation whose batch is not its leading axis. */
export interface BatchLayout {
  /** Every axis of the ONNX tensor (exactly one is a BatchAxis). */
  axes: OnnxAxis[];
  /** The ONNX node that moved the batch (for messages). */
  movedBy: string;
}

export const isBatchAxis = (a: OnnxAxis): a is BatchAxis => typeof a !== 'number';

/**
 * True if ops over this axis would mix samples: it holds the batch, and the batch is not a fixed
 * 1 (a batch of 1 is a length-1 atom, so an axis holding it is the same data as without it).
 */
export function holdsBatch(a: OnnxAxis, fixedBatch: number | null): boolean {
  return isBatchAxis(a) && fixedBatch !== 1;
}

/** The ONNX axes of an activation (batch leading when it has no layout). */
export function onnxAxes(x: ActValue): OnnxAxis[] {
  return x.batch ? x.batch.axes.slice() : [{ pre: 1, post: 1 }, ...x.shape];
}

/** The IR axis length of each ONNX axis, or null for an axis that holds the batch alone. */
function irLengths(axes: readonly OnnxAxis[]): Array<number | null> {
  return axes.map((a) => (isBatchAxis(a) ? (a.pre * a.post === 1 ? null : a.pre * a.post) : a));
}

/** Per-sample (IR) shape of an ONNX layout. */
export function irShape(axes: readonly OnnxAxis[]): Shape {
  return irLengths(axes).filter((d): d is number => d !== null);
}

/** Index of ONNX axis `a` in the IR shape, or null for an axis that holds the batch alone. */
export function irAxisOf(axes: readonly OnnxAxis[], a: number): number | null {
  const lens = irLengths(axes);
  if (lens[a] === null) return null;
  return lens.slice(0, a).filter((d) => d !== null).length;
}

/** Position of the batch among the ONNX axes. */
export function batchIndex(axes: readonly OnnxAxis[]): number {
  return axes.findIndex(isBatchAxis);
}

export function batchLeads(axes: readonly OnnxAxis[]): boolean {
  const a = axes[0];
  return axes.length > 0 && isBatchAxis(a) && a.pre === 1 && a.post === 1;
}

/** An activation with the given ONNX layout (no `batch` field when the batch leads). */
export function withAxes(node: string, axes: OnnxAxis[], movedBy: string): ActValue {
  const shape = irShape(axes);
  return batchLeads(axes) ? { kind: 'act', node, shape } : { kind: 'act', node, shape, batch: { axes, movedBy } };
}

/** The same layout as `x` for an element-wise op's output. */
export function sameLayout(x: ActValue, node: string): ActValue {
  return x.batch ? { kind: 'act', node, shape: x.shape.slice(), batch: { axes: x.batch.axes.slice(), movedBy: x.batch.movedBy } } : { kind: 'act', node, shape: x.shape.slice() };
}

export function axisStr(a: OnnxAxis): string {
  if (!isBatchAxis(a)) return String(a);
  return [a.pre > 1 ? String(a.pre) : '', 'N', a.post > 1 ? String(a.post) : ''].filter((s) => s).join('·');
}

/** "[197, N·12, 64]" */
export function layoutStr(axes: readonly OnnxAxis[]): string {
  return `[${axes.map(axisStr).join(', ')}]`;
}

export function sameAxes(a: readonly OnnxAxis[], b: readonly OnnxAxis[]): boolean {
  return a.length === b.length && a.every((d, i) => axisStr(d) === axisStr(b[i]));
}

/** Why an op cannot read `x`: its batch is not the leading axis. */
export function batchMoved(where: string, x: ActValue, what: string, needs: string): UnsupportedError {
  return new UnsupportedError(
    `${where}: the ${what} has the ONNX layout ${layoutStr(onnxAxes(x))} (N = batch size, moved by ${x.batch?.movedBy}); ${needs}`,
  );
}

/**
 * `axes` with axis `i` given the length `len` (a dense's features, a matmul's columns). Only a
 * fixed batch of 1 can be in such an axis: it stays there. Another batch axis elsewhere wins.
 */
export function resizeAxis(axes: readonly OnnxAxis[], i: number, len: number): OnnxAxis[] {
  const out = axes.slice();
  const keep = isBatchAxis(axes[i]) && axes.filter(isBatchAxis).length === 1;
  out[i] = keep ? { pre: 1, post: len } : len;
  return out;
}

/** Transpose of the ONNX axes: the new axes and the permutation of the IR axes (null: none needed). */
export function transposeAxes(axes: readonly OnnxAxis[], perm: readonly number[]): { axes: OnnxAxis[]; irPerm: number[] | null } {
  const out = perm.map((p) => axes[p]);
  const irPerm: number[] = [];
  for (const p of perm) {
    const ir = irAxisOf(axes, p);
    if (ir !== null) irPerm.push(ir);
  }
  return { axes: out, irPerm: irPerm.every((v, i) => v === i) ? null : irPerm };
}

/**
 * One entry of a Reshape target: `k` elements besides the batch. `batch` says whether the axis
 * holds the batch (true/false), or null for a literal length of a fixed-batch model, where the
 * batch atom counts as its fixed size and is found by grouping.
 */
export interface TargetAxis {
  k: number;
  batch: boolean | null;
}

/**
 * Regroups the atoms of `axes` into the target axes (row-major, so the grouping is unique).
 * `batchSize` is the fixed batch of the model (null when dynamic). Returns the new axes, or a
 * reason why the batch atom would have to be split or moved.
 */
export function regroup(axes: readonly OnnxAxis[], target: readonly TargetAxis[], batchSize: number | null): OnnxAxis[] | string {
  const BATCH_ATOM = -1;
  const atoms: number[] = [];
  for (const a of axes) {
    if (isBatchAxis(a)) atoms.push(a.pre, BATCH_ATOM, a.post);
    else atoms.push(a);
  }
  // A fixed batch of 1 is a length-1 atom: it may sit anywhere, so it is placed after grouping.
  const floating = batchSize === 1;
  const queue = atoms.filter((v) => v !== 1 && !(floating && v === BATCH_ATOM));
  const out: OnnxAxis[] = [];
  for (let t = 0; t < target.length; t++) {
    const want = target[t];
    let need = want.k;
    let needBatch = want.batch === true;
    const fixedLen = want.batch === null;
    let pre = 1;
    let post = 1;
    let hasBatch = false;
    const take = (v: number) => {
      if (hasBatch) post *= v;
      else pre *= v;
    };
    for (;;) {
      const next = queue[0];
      if (fixedLen) {
        // A literal length: the batch atom counts as its fixed size.
        if (next === BATCH_ATOM && batchSize !== null && need % batchSize === 0 && need > 1) {
          queue.shift();
          hasBatch = true;
          need /= batchSize;
          continue;
        }
        if (need === 1) break;
      } else {
        if (floating) needBatch = false;
        if (need === 1 && !needBatch) break;
        if (next === BATCH_ATOM) {
          if (!needBatch) return `axis ${t} (length ${want.k}) would take the batch N, which it does not include`;
          queue.shift();
          hasBatch = true;
          needBatch = false;
          continue;
        }
        if (need === 1) return `the batch N comes after the other elements of axis ${t}: a Reshape cannot move it`;
      }
      if (next === undefined) return 'the sizes do not add up';
      if (next === BATCH_ATOM) {
        return `axis ${t} (length ${want.k}) ${batchSize === null ? 'would split or take the batch N' : `cannot take the batch N = ${batchSize}`}`;
      }
      if (need % next === 0) {
        queue.shift();
        take(next);
        need /= next;
      } else if (next % need === 0) {
        queue[0] = next / need;
        take(need);
        need = 1;
      } else {
        return `axis ${t} (length ${want.k}) does not divide the elements ${next} it would take`;
      }
    }
    out.push(hasBatch ? { pre, post } : pre);
  }
  if (queue.length > 0) return 'the sizes do not add up';
  if (floating && out.length > 0) {
    // Prefer an axis of length 1 (that is where an export with batch 1 keeps it), else the first.
    const one = out.indexOf(1);
    if (one >= 0) out[one] = { pre: 1, post: 1 };
    else out[0] = { pre: 1, post: out[0] as number };
  }
  return out;
}
