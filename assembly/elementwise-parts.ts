// One part of a large element-wise call: the threaded backend (src/wasm/threads.ts) runs the big
// element-wise passes of the rules in parts on every thread, as it does the GEMMs. Part `part` of
// `parts` takes its own range of elements (multiples of 16 floats: whole cache lines), so the parts
// write disjoint elements and each element is computed as in the whole call. Scans (has_*) write
// their part's answer to flags[part]; the caller ORs them once every part is done.
import { threadPartStart } from "./common";
import {
  relu_f32, add_f32, mul_f32, mul_acc_f32, stab_divide_f32, stab_divide_masked_f32, fill_f32, copy_f32,
  has_non_finite_f32, has_negative_f32, has_nonzero_f32, gamma_divide_f32,
} from "./elementwise";

/** Element-wise operations of elementwise_part_f32 (mirrored by EwOp in src/wasm/thread-control.ts). */
// @ts-ignore: decorator
@inline const RELU: i32 = 0;
// @ts-ignore: decorator
@inline const ADD: i32 = 1;
// @ts-ignore: decorator
@inline const MUL: i32 = 2;
// @ts-ignore: decorator
@inline const MUL_ACC: i32 = 3;
// @ts-ignore: decorator
@inline const STAB_DIVIDE: i32 = 4;
// @ts-ignore: decorator
@inline const STAB_DIVIDE_MASKED: i32 = 5;
// @ts-ignore: decorator
@inline const FILL: i32 = 6;
// @ts-ignore: decorator
@inline const COPY: i32 = 7;
// @ts-ignore: decorator
@inline const HAS_NON_FINITE: i32 = 8;
// @ts-ignore: decorator
@inline const HAS_NEGATIVE: i32 = 9;
// @ts-ignore: decorator
@inline const HAS_NONZERO: i32 = 10;

/** Elements per grain of a part's range: 16 floats, one cache line. */
// @ts-ignore: decorator
@inline const GRAIN: i32 = 16;

/**
 * Part `part` of `parts` of op over `len` elements: the op's kernel in elementwise.ts with its arrays
 * at p0…p3 in the order it takes them (relu: x, y; add/mul/mul_acc: a, b, y; stab_divide: r, z, y;
 * stab_divide_masked: r, z, m, y; fill: y; copy: x, y; the scans: x), s0 and s1 the bits of its f32
 * arguments (mul_acc: coef; stab_divide: eps; stab_divide_masked: eps, sign; fill: value).
 */
export function elementwise_part_f32(
  op: i32, p0: usize, p1: usize, p2: usize, p3: usize, len: i32, s0: i32, s1: i32, flags: usize, part: i32, parts: i32,
): void {
  const lo = threadPartStart(len, GRAIN, part, parts), n = threadPartStart(len, GRAIN, part + 1, parts) - lo;
  const off = <usize>lo << 2;
  const f0 = reinterpret<f32>(s0), f1 = reinterpret<f32>(s1);
  if (op == RELU) relu_f32(p0 + off, p1 + off, n);
  else if (op == ADD) add_f32(p0 + off, p1 + off, p2 + off, n);
  else if (op == MUL) mul_f32(p0 + off, p1 + off, p2 + off, n);
  else if (op == MUL_ACC) mul_acc_f32(p0 + off, p1 + off, p2 + off, n, f0);
  else if (op == STAB_DIVIDE) stab_divide_f32(p0 + off, p1 + off, p2 + off, n, f0);
  else if (op == STAB_DIVIDE_MASKED) stab_divide_masked_f32(p0 + off, p1 + off, p2 + off, p3 + off, n, f0, f1);
  else if (op == FILL) fill_f32(p0 + off, n, f0);
  else if (op == COPY) copy_f32(p0 + off, p1 + off, n);
  else {
    let flag = 0;
    if (op == HAS_NON_FINITE) flag = has_non_finite_f32(p0 + off, n);
    else if (op == HAS_NEGATIVE) flag = has_negative_f32(p0 + off, n);
    else if (op == HAS_NONZERO) flag = has_nonzero_f32(p0 + off, n);
    else unreachable();
    store<i32>(flags + (<usize>part << 2), flag);
  }
}

/**
 * Part `part` of `parts` of gamma_divide_f32 over `len` elements; its four f32 constants (cUp, cDown,
 * cOne, eps) are read from `consts`, and its answer (any gn not zero) goes to flags[part].
 */
export function gamma_divide_part_f32(
  r: usize, z: usize, zplus: usize, gp: usize, gn: usize, len: i32, consts: usize, flags: usize, part: i32, parts: i32,
): void {
  const lo = threadPartStart(len, GRAIN, part, parts), n = threadPartStart(len, GRAIN, part + 1, parts) - lo;
  const off = <usize>lo << 2;
  const any = gamma_divide_f32(r + off, z + off, zplus + off, gp + off, gn + off, n,
    load<f32>(consts), load<f32>(consts, 4), load<f32>(consts, 8), load<f32>(consts, 12));
  store<i32>(flags + (<usize>part << 2), any);
}
