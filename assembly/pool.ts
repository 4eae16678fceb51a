// Max and average pooling (forward and transpose). Descriptor (Int32 x 16):
// C H W KH KW SH SW PT PL DH DW OH OW. Window of output (oh, ow) starts at (oh*SH-PT, ow*SW-PL),
// taps at +kh*DH, +kw*DW; taps outside the input are ignored.
//
// The windows are small and strided, so the per-window loops are scalar; the valid tap range of
// each window is computed up front so the inner loops carry no bounds checks. Clearing outputs is
// SIMD (memory.fill).

// @ts-ignore: decorator
@inline function di(desc: usize, i: i32): i32 { return load<i32>(desc + <usize>(i * 4)); }

// @ts-ignore: decorator
@inline function lowTap(start: i32, D: i32, K: i32): i32 {
  return start >= 0 ? 0 : min(K, (-start + D - 1) / D);
}
// @ts-ignore: decorator
@inline function highTap(start: i32, D: i32, K: i32, limit: i32): i32 {
  const u = limit - start;
  return u <= 0 ? 0 : min(K, (u + D - 1) / D);
}

/**
 * y = max over each window; argmax (i32) = h*W+w of the first maximum in row-major window order
 * (strictly greater). A window with no valid tap gives -inf and argmax -1.
 */
export function maxpool2d_forward_f32(desc: usize, x: usize, y: usize, argmax: usize, n: i32): void {
  const C = di(desc, 0), H = di(desc, 1), W = di(desc, 2), KH = di(desc, 3), KW = di(desc, 4);
  const SH = di(desc, 5), SW = di(desc, 6), PT = di(desc, 7), PL = di(desc, 8);
  const DH = di(desc, 9), DW = di(desc, 10), OH = di(desc, 11), OW = di(desc, 12);
  const planes = n * C, HW = H * W, P = OH * OW;
  for (let pl = 0; pl < planes; pl++) {
    const xc = x + <usize>(pl * HW) * 4;
    const yc = y + <usize>(pl * P) * 4;
    const ac = argmax + <usize>(pl * P) * 4;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * SH - PT;
      const kh0 = lowTap(h0, DH, KH), kh1 = highTap(h0, DH, KH, H);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * SW - PL;
        const kw0 = lowTap(w0, DW, KW), kw1 = highTap(w0, DW, KW, W);
        let m: f32 = -Infinity;
        let idx = -1;
        for (let kh = kh0; kh < kh1; kh++) {
          const rowIdx = (h0 + kh * DH) * W + w0;
          for (let kw = kw0; kw < kw1; kw++) {
            const t = rowIdx + kw * DW;
            const v = load<f32>(xc + <usize>t * 4);
            if (v > m || idx < 0) { m = v; idx = t; }
          }
        }
        const o = <usize>(oh * OW + ow) * 4;
        store<f32>(yc + o, m);
        store<i32>(ac + o, idx);
      }
    }
  }
}

/** out = 0, then out[n,c,argmax] += g[n,c,oh,ow] for every output. */
export function maxpool2d_backward_f32(desc: usize, g: usize, argmax: usize, out: usize, n: i32): void {
  const C = di(desc, 0), H = di(desc, 1), W = di(desc, 2), OH = di(desc, 11), OW = di(desc, 12);
  const planes = n * C, HW = H * W, P = OH * OW;
  memory.fill(out, 0, <usize>(planes * HW) * 4);
  for (let pl = 0; pl < planes; pl++) {
    const oc = out + <usize>(pl * HW) * 4;
    const gc = g + <usize>(pl * P) * 4;
    const ac = argmax + <usize>(pl * P) * 4;
    for (let p = 0; p < P; p++) {
      const idx = load<i32>(ac + <usize>p * 4);
      if (idx >= 0) {
        const q = oc + <usize>idx * 4;
        store<f32>(q, load<f32>(q) + load<f32>(gc + <usize>p * 4));
      }
    }
  }
}

/** y[n,c,oh,ow] = invDiv[oh*OW+ow] * sum of x over the valid positions of the window. */
export function avgpool2d_forward_f32(desc: usize, x: usize, invDiv: usize, y: usize, n: i32): void {
  const C = di(desc, 0), H = di(desc, 1), W = di(desc, 2), KH = di(desc, 3), KW = di(desc, 4);
  const SH = di(desc, 5), SW = di(desc, 6), PT = di(desc, 7), PL = di(desc, 8);
  const DH = di(desc, 9), DW = di(desc, 10), OH = di(desc, 11), OW = di(desc, 12);
  const planes = n * C, HW = H * W, P = OH * OW;
  for (let pl = 0; pl < planes; pl++) {
    const xc = x + <usize>(pl * HW) * 4;
    const yc = y + <usize>(pl * P) * 4;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * SH - PT;
      const kh0 = lowTap(h0, DH, KH), kh1 = highTap(h0, DH, KH, H);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * SW - PL;
        const kw0 = lowTap(w0, DW, KW), kw1 = highTap(w0, DW, KW, W);
        let s: f32 = 0;
        for (let kh = kh0; kh < kh1; kh++) {
          const rowIdx = (h0 + kh * DH) * W + w0;
          for (let kw = kw0; kw < kw1; kw++) s += load<f32>(xc + <usize>(rowIdx + kw * DW) * 4);
        }
        const o = <usize>(oh * OW + ow) * 4;
        store<f32>(yc + o, s * load<f32>(invDiv + o));
      }
    }
  }
}

/** out = 0, then out[valid window positions] += g * invDiv. */
export function avgpool2d_transpose_f32(desc: usize, g: usize, invDiv: usize, out: usize, n: i32): void {
  const C = di(desc, 0), H = di(desc, 1), W = di(desc, 2), KH = di(desc, 3), KW = di(desc, 4);
  const SH = di(desc, 5), SW = di(desc, 6), PT = di(desc, 7), PL = di(desc, 8);
  const DH = di(desc, 9), DW = di(desc, 10), OH = di(desc, 11), OW = di(desc, 12);
  const planes = n * C, HW = H * W, P = OH * OW;
  memory.fill(out, 0, <usize>(planes * HW) * 4);
  for (let pl = 0; pl < planes; pl++) {
    const oc = out + <usize>(pl * HW) * 4;
    const gc = g + <usize>(pl * P) * 4;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * SH - PT;
      const kh0 = lowTap(h0, DH, KH), kh1 = highTap(h0, DH, KH, H);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * SW - PL;
        const kw0 = lowTap(w0, DW, KW), kw1 = highTap(w0, DW, KW, W);
        const o = <usize>(oh * OW + ow) * 4;
        const v = load<f32>(gc + o) * load<f32>(invDiv + o);
        for (let kh = kh0; kh < kh1; kh++) {
          const rowIdx = (h0 + kh * DH) * W + w0;
          for (let kw = kw0; kw < kw1; kw++) {
            const q = oc + <usize>(rowIdx + kw * DW) * 4;
            store<f32>(q, load<f32>(q) + v);
          }
        }
      }
    }
  }
}
