// Tiny float64 reference interpreter for the ONNX twin (plain JS loops, NCHW).
// Decodes the .onnx file itself, so it checks what was actually written.
// Supports exactly the ops the exporter emits.
import pkg from 'onnx-proto';

const { onnx } = pkg;
const ints = (a) => (a ? a.ints.map(Number) : undefined);

export function loadOnnx(bytes) {
  const model = onnx.ModelProto.decode(bytes);
  const inits = new Map();
  for (const t of model.graph.initializer) {
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT) throw new Error(`${t.name}: float only`);
    const dims = t.dims.map(Number);
    const n = dims.reduce((a, b) => a * b, 1);
    let data;
    if (t.rawData && t.rawData.length) {
      const dv = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
      data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = dv.getFloat32(i * 4, true);
    } else {
      data = Float64Array.from(t.floatData);
    }
    inits.set(t.name, { dims, data });
  }
  return { model, inits };
}

/** Runs the graph; returns every named value ({dims, data}) so callers can read 'logits'. */
export function runReference({ model, inits }, input /* {dims:[N,C,H,W], data} */) {
  const env = new Map(inits);
  env.set(model.graph.input[0].name, { dims: input.dims, data: Float64Array.from(input.data) });
  for (const node of model.graph.node) {
    const a = Object.fromEntries(node.attribute.map((x) => [x.name, x]));
    const ins = node.input.map((n) => env.get(n));
    let out;
    switch (node.opType) {
      case 'Conv': out = conv(ins[0], ins[1], ins[2], ints(a.pads), ints(a.strides)); break;
      case 'Relu': out = { dims: ins[0].dims, data: ins[0].data.map((v) => (v > 0 ? v : 0)) }; break;
      case 'MaxPool': out = pool(ins[0], ints(a.kernel_shape), ints(a.strides), ints(a.pads), 'max'); break;
      case 'AveragePool': out = pool(ins[0], ints(a.kernel_shape), ints(a.strides), ints(a.pads), 'avg'); break;
      case 'Flatten': {
        const [n, ...rest] = ins[0].dims;
        out = { dims: [n, rest.reduce((p, q) => p * q, 1)], data: ins[0].data };
        break;
      }
      case 'Gemm': out = gemm(ins[0], ins[1], ins[2], a.transB ? Number(a.transB.i) : 0); break;
      case 'Softmax': out = softmax(ins[0]); break;
      default: throw new Error(`reference: unsupported op ${node.opType}`);
    }
    env.set(node.output[0], out);
  }
  return env;
}

function conv(x, w, b, pads = [0, 0, 0, 0], strides = [1, 1]) {
  const [N, C, H, W] = x.dims;
  const [CO, CI, KH, KW] = w.dims;
  if (CI !== C) throw new Error('conv: channel mismatch');
  const [pt, pl, pb, pr] = pads;
  const [sh, sw] = strides;
  const OH = Math.floor((H + pt + pb - KH) / sh) + 1;
  const OW = Math.floor((W + pl + pr - KW) / sw) + 1;
  const y = new Float64Array(N * CO * OH * OW);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < CO; o++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let s = b ? b.data[o] : 0;
          for (let c = 0; c < C; c++)
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * sh - pt + kh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * sw - pl + kw;
                if (iw < 0 || iw >= W) continue;
                s += x.data[((n * C + c) * H + ih) * W + iw] * w.data[((o * CI + c) * KH + kh) * KW + kw];
              }
            }
          y[((n * CO + o) * OH + oh) * OW + ow] = s;
        }
  return { dims: [N, CO, OH, OW], data: y };
}

function pool(x, [KH, KW], [sh, sw] = [1, 1], [pt, pl, pb, pr] = [0, 0, 0, 0], kind) {
  const [N, C, H, W] = x.dims;
  const OH = Math.floor((H + pt + pb - KH) / sh) + 1;
  const OW = Math.floor((W + pl + pr - KW) / sw) + 1;
  const y = new Float64Array(N * C * OH * OW);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let m = -Infinity;
          let s = 0;
          let cnt = 0;
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * sh - pt + kh;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * sw - pl + kw;
              if (iw < 0 || iw >= W) continue;
              const v = x.data[((n * C + c) * H + ih) * W + iw];
              if (v > m) m = v;
              s += v;
              cnt++;
            }
          }
          y[((n * C + c) * OH + oh) * OW + ow] = kind === 'max' ? m : s / cnt;
        }
  return { dims: [N, C, OH, OW], data: y };
}

function gemm(a, b, c, transB) {
  const [M, K] = a.dims;
  const Nn = transB ? b.dims[0] : b.dims[1];
  const y = new Float64Array(M * Nn);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < Nn; n++) {
      let s = c ? c.data[n] : 0;
      for (let k = 0; k < K; k++) s += a.data[m * K + k] * (transB ? b.data[n * K + k] : b.data[k * Nn + n]);
      y[m * Nn + n] = s;
    }
  return { dims: [M, Nn], data: y };
}

function softmax(x) {
  const [M, K] = x.dims;
  const y = new Float64Array(M * K);
  for (let m = 0; m < M; m++) {
    let mx = -Infinity;
    for (let k = 0; k < K; k++) mx = Math.max(mx, x.data[m * K + k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += (y[m * K + k] = Math.exp(x.data[m * K + k] - mx));
    for (let k = 0; k < K; k++) y[m * K + k] /= s;
  }
  return { dims: [M, K], data: y };
}
