// Strided gather and its transpose, scatter-add: one descriptor covers transpose, slice (with steps and offsets),
// crop, nearest upsampling (stride-0 dims) and channel shuffle. Descriptor (Int32 x 16, see StrideDesc in
// src/kernels/abi.ts): RANK, IN_SIZE and OUT_SIZE (floats per sample), OFFSET, DIMS[6] (output dims, row-major),
// STRIDES[6] (input stride per output dim, >= 0).
//   gather:      y[s*OUT + flat(idx)]                      = x[s*IN + OFFSET + sum_d idx_d * STRIDES_d]
//   scatterAdd:  out[s*IN + OFFSET + sum_d idx_d * STRIDES_d] += g[s*OUT + flat(idx)]
// The dims are padded to rank 6 from the left and the innermost dims are merged while they are contiguous in the
// input (stride_d == stride_{d+1} * dim_{d+1}), so the inner loop runs as long as possible; the outer dims are five
// nested loops with running offsets (no division or modulo per element). x and y must not overlap.

// @ts-ignore: decorator
@inline const RANK: i32 = 0;
// @ts-ignore: decorator
@inline const IN_SIZE: i32 = 1;
// @ts-ignore: decorator
@inline const OUT_SIZE: i32 = 2;
// @ts-ignore: decorator
@inline const OFFSET: i32 = 3;
// @ts-ignore: decorator
@inline const DIMS: i32 = 4;
// @ts-ignore: decorator
@inline const STRIDES: i32 = 10;

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }
// @ts-ignore: decorator
@inline function field(desc: usize, k: i32): i32 { return load<i32>(at(desc, k)); }
/** Output dim k (0..5) of the descriptor padded to rank 6 from the left with size-1 dims. */
// @ts-ignore: decorator
@inline function dimOf(desc: usize, rank: i32, k: i32): i32 { return k >= 6 - rank ? field(desc, DIMS + k - 6 + rank) : 1; }
// @ts-ignore: decorator
@inline function strideOf(desc: usize, rank: i32, k: i32): i32 { return k >= 6 - rank ? field(desc, STRIDES + k - 6 + rank) : 0; }

/** dst[j] = src[j * stride] for j < len */
// @ts-ignore: decorator
@inline function gatherRun(src: usize, stride: i32, len: i32, dst: usize): void {
  let j = 0;
  if (stride == 1) {
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= len; j += 4) v128.store(at(dst, j), v128.load(at(src, j)));
    }
    for (; j < len; j++) store<f32>(at(dst, j), load<f32>(at(src, j)));
  } else if (stride == 0) {
    const v = load<f32>(src);
    if (ASC_FEATURE_SIMD) {
      const vv = f32x4.splat(v);
      for (; j + 4 <= len; j += 4) v128.store(at(dst, j), vv);
    }
    for (; j < len; j++) store<f32>(at(dst, j), v);
  } else {
    let p = src;
    const step = <usize>stride << 2;
    for (; j < len; j++, p += step) store<f32>(at(dst, j), load<f32>(p));
  }
}

/** dst[j * stride] += src[j] for j < len (stride 0: the run is summed in float64 and added once) */
// @ts-ignore: decorator
@inline function scatterAddRun(src: usize, len: i32, dst: usize, stride: i32): void {
  let j = 0;
  if (stride == 1) {
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= len; j += 4) v128.store(at(dst, j), f32x4.add(v128.load(at(dst, j)), v128.load(at(src, j))));
    }
    for (; j < len; j++) store<f32>(at(dst, j), load<f32>(at(dst, j)) + load<f32>(at(src, j)));
  } else if (stride == 0) {
    let sum: f64 = 0;
    for (; j < len; j++) sum += <f64>load<f32>(at(src, j));
    if (len > 0) store<f32>(dst, <f32>(<f64>load<f32>(dst) + sum));
  } else {
    let p = dst;
    const step = <usize>stride << 2;
    for (; j < len; j++, p += step) store<f32>(p, load<f32>(p) + load<f32>(at(src, j)));
  }
}

/**
 * Walks every output index of every sample: `strided` is the input-side array (x, or out for scatter-add), `packed`
 * the output-side one (y, or g). `scatter` picks the run operation (a constant after inlining).
 */
// @ts-ignore: decorator
@inline function walk(desc: usize, strided: usize, packed: usize, n: i32, scatter: bool): void {
  const rank = field(desc, RANK);
  const inSize = field(desc, IN_SIZE), outSize = field(desc, OUT_SIZE), offset = field(desc, OFFSET);
  let d0 = dimOf(desc, rank, 0), d1 = dimOf(desc, rank, 1), d2 = dimOf(desc, rank, 2);
  let d3 = dimOf(desc, rank, 3), d4 = dimOf(desc, rank, 4), d5 = dimOf(desc, rank, 5);
  let s0 = strideOf(desc, rank, 0), s1 = strideOf(desc, rank, 1), s2 = strideOf(desc, rank, 2);
  let s3 = strideOf(desc, rank, 3), s4 = strideOf(desc, rank, 4), s5 = strideOf(desc, rank, 5);
  // merge dim 4 into dim 5 while it continues dim 5's run in the input, shifting the outer dims inwards
  for (let k = 0; k < 5; k++) {
    if (d4 != 1 && <i64>s4 != <i64>s5 * <i64>d5) break;
    d5 *= d4;
    d4 = d3; s4 = s3; d3 = d2; s3 = s2; d2 = d1; s2 = s1; d1 = d0; s1 = s0; d0 = 1; s0 = 0;
  }
  for (let s = 0; s < n; s++) {
    const xs = at(strided, s * inSize + offset);
    let yp = at(packed, s * outSize);
    let o0 = 0;
    for (let i0 = 0; i0 < d0; i0++, o0 += s0) {
      let o1 = o0;
      for (let i1 = 0; i1 < d1; i1++, o1 += s1) {
        let o2 = o1;
        for (let i2 = 0; i2 < d2; i2++, o2 += s2) {
          let o3 = o2;
          for (let i3 = 0; i3 < d3; i3++, o3 += s3) {
            let o4 = o3;
            for (let i4 = 0; i4 < d4; i4++, o4 += s4) {
              if (scatter) scatterAddRun(yp, d5, at(xs, o4), s5);
              else gatherRun(at(xs, o4), s5, d5, yp);
              yp += <usize>d5 << 2;
            }
          }
        }
      }
    }
  }
}

/** y[s*OUT + flat(idx)] = x[s*IN + OFFSET + sum_d idx_d * STRIDES_d] */
export function strided_gather_f32(desc: usize, x: usize, y: usize, n: i32): void {
  walk(desc, x, y, n, false);
}

/** out[s*IN + OFFSET + sum_d idx_d * STRIDES_d] += g[s*OUT + flat(idx)]; repeated targets accumulate, out is not zeroed */
export function strided_scatter_add_f32(desc: usize, g: usize, out: usize, n: i32): void {
  walk(desc, out, g, n, true);
}
