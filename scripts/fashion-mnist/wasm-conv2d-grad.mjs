// tfjs-backend-wasm 4.22 has no 'Conv2DBackpropFilter' kernel, so Conv2D layers
// cannot be trained on it. This registers one: im2col (transposed, written in JS
// straight into a wasm-heap tensor) followed by the backend's own BatchMatMul kernel.
//   P^T [K = kh*kw*ci, N = b*oh*ow]  x  dy [N, co]  ->  dW [kh, kw, ci, co]
import * as tf from '@tensorflow/tfjs';

function conv2DBackpropFilterWasm({ inputs, backend, attrs }) {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (dataFormat && dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter(wasm shim): only NHWC supported, got ${dataFormat}`);
  }
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error('Conv2DBackpropFilter(wasm shim): float32 only');
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const {
    batchSize: B, inHeight: H, inWidth: W, inChannels: CI, outHeight: HO, outWidth: WO,
    outChannels: CO, filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW,
    dilationHeight: DH, dilationWidth: DW, padInfo,
  } = info;
  const N = B * HO * WO;
  const K = KH * KW * CI;
  const patches = backend.makeOutput([1, K, N], 'float32');
  // Views must be taken after makeOutput (heap growth detaches older views).
  const xv = backend.typedArrayFromHeap(x);
  const pv = backend.typedArrayFromHeap(patches);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      for (let c = 0; c < CI; c++) {
        let o = ((kh * KW + kw) * CI + c) * N;
        for (let b = 0; b < B; b++) {
          for (let oh = 0; oh < HO; oh++) {
            const ih = oh * SH - padInfo.top + kh * DH;
            if (ih < 0 || ih >= H) {
              pv.fill(0, o, o + WO);
              o += WO;
              continue;
            }
            const rowBase = (b * H + ih) * W;
            for (let ow = 0; ow < WO; ow++) {
              const iw = ow * SW - padInfo.left + kw * DW;
              pv[o++] = iw < 0 || iw >= W ? 0 : xv[(rowBase + iw) * CI + c];
            }
          }
        }
      }
    }
  }
  const reshape = tf.getKernel('Reshape', 'wasm').kernelFunc;
  const batchMatMul = tf.getKernel('BatchMatMul', 'wasm').kernelFunc;
  const dy3 = reshape({ inputs: { x: dy }, backend, attrs: { shape: [1, N, CO] } });
  const prod = batchMatMul({
    inputs: { a: patches, b: dy3 }, backend, attrs: { transposeA: false, transposeB: false },
  });
  backend.disposeData(patches.dataId);
  backend.disposeData(dy3.dataId);
  const out = reshape({ inputs: { x: prod }, backend, attrs: { shape: filterShape } });
  backend.disposeData(prod.dataId);
  return out;
}

export function registerWasmConv2DBackpropFilter() {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return false;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: conv2DBackpropFilterWasm,
  });
  return true;
}

/**
 * Compares the shim with the cpu backend's kernel on a few configurations.
 * Leaves the active backend as it found it. Returns the max abs difference.
 */
export async function selfTestConv2DBackpropFilter() {
  const prev = tf.getBackend();
  const cases = [
    { x: [2, 7, 6, 3], f: [3, 3, 3, 4], s: 1, pad: 'same' },
    { x: [2, 8, 8, 1], f: [3, 3, 1, 5], s: 1, pad: 'valid' },
    { x: [1, 9, 7, 2], f: [3, 2, 2, 3], s: 2, pad: 'same' },
    { x: [3, 6, 6, 4], f: [5, 5, 4, 2], s: 1, pad: 'same' },
  ];
  let worst = 0;
  for (const c of cases) {
    const n = (s) => s.reduce((a, b) => a * b, 1);
    let seed = 1234;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const xs = Float32Array.from({ length: n(c.x) }, rnd);
    const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.pad);
    const dyShape = [c.x[0], info.outHeight, info.outWidth, c.f[3]];
    const dys = Float32Array.from({ length: n(dyShape) }, rnd);
    const results = [];
    for (const be of ['cpu', 'wasm']) {
      await tf.setBackend(be);
      results.push(tf.tidy(() =>
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x: tf.tensor4d(xs, c.x), dy: tf.tensor4d(dys, dyShape) },
          { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f },
        ).dataSync().slice()));
    }
    for (let i = 0; i < results[0].length; i++) {
      worst = Math.max(worst, Math.abs(results[0][i] - results[1][i]));
    }
  }
  await tf.setBackend(prev);
  return worst;
}
