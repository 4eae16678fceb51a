// Builds an ONNX (opset 13) twin of the small Keras-style CNN from its trained
// tfjs weights: NCHW input, Conv/Relu/MaxPool/Flatten/Gemm/Relu/Gemm/Softmax.
import pkg from 'onnx-proto';

const { onnx } = pkg;
const { AttributeType } = onnx.AttributeProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

const attrInts = (name, ints) => ({ name, type: AttributeType.INTS, ints });
const attrInt = (name, i) => ({ name, type: AttributeType.INT, i });

function initializer(name, dims, data) {
  const f32 = Float32Array.from(data);
  // ONNX raw_data is little-endian; write explicitly so host order never matters.
  const raw = new Uint8Array(f32.length * 4);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < f32.length; i++) dv.setFloat32(i * 4, f32[i], true);
  return { name, dims, dataType: FLOAT, rawData: raw };
}

function valueInfo(name, dims) {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/** Keras conv kernel [kh, kw, in, out] -> ONNX [out, in, kh, kw]. */
export function convKernelToOnnx(k, [kh, kw, ci, co]) {
  const w = new Float32Array(k.length);
  for (let o = 0; o < co; o++)
    for (let i = 0; i < ci; i++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++)
          w[((o * ci + i) * kh + y) * kw + x] = k[((y * kw + x) * ci + i) * co + o];
  return w;
}

/**
 * Keras Dense kernel [in, out] -> Gemm B [out, in] (transB = 1).
 * If `chw` ([c, h, w]) is given, the Dense follows a Flatten: Keras flattened an
 * NHWC map in (h, w, c) order, ONNX Flatten of NCHW yields (c, h, w) order, so
 * the input rows are permuted accordingly.
 */
export function denseKernelToOnnx(k, [nin, nout], chw) {
  const w = new Float32Array(k.length);
  for (let o = 0; o < nout; o++) {
    for (let r = 0; r < nin; r++) {
      let kerasRow = r;
      if (chw) {
        const [C, H, W] = chw;
        const c = Math.floor(r / (H * W));
        const h = Math.floor((r % (H * W)) / W);
        const x = r % W;
        kerasRow = (h * W + x) * C + c;
      }
      w[o * nin + r] = k[kerasRow * nout + o];
    }
  }
  return w;
}

/** TF 'same' padding (extra pixel at the end) or 'valid' -> ONNX pads [t, l, b, r]. */
function onnxPads(padding, [h, w], [kh, kw], [sh, sw]) {
  if (padding === 'valid') return [0, 0, 0, 0];
  const tot = (n, k, s) => Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  const th = tot(h, kh, sh);
  const tw = tot(w, kw, sw);
  return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
}

/**
 * @param {import('@tensorflow/tfjs').Sequential} model trained tfjs model
 * @returns {{bytes: Uint8Array, tensors: Record<string, {dims:number[], data:Float32Array}>}}
 */
export function buildOnnx(model, { producerVersion = '0.1.0', docString = '' } = {}) {
  const nodes = [];
  const inits = [];
  const tensors = {};
  const addInit = (name, dims, data) => {
    const t = initializer(name, dims, data);
    inits.push(t);
    tensors[name] = { dims, data: Float32Array.from(data) };
  };
  const [, H0, W0, C0] = model.inputs[0].shape;
  let cur = 'input';
  let shape = [C0, H0, W0]; // current CHW (or [features] after Flatten)
  let flattenedFrom = null; // CHW before the last Flatten, for the first Dense after it
  let idx = 0;
  const fresh = (base) => `${base}_${idx++}`;

  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const cfg = layer.getConfig();
    const name = layer.name;
    if (cls === 'Conv2D') {
      const [k, b] = layer.getWeights().map((t) => t.dataSync());
      const [kh, kw] = cfg.kernelSize;
      const [sh, sw] = cfg.strides;
      const ci = shape[0];
      const co = cfg.filters;
      if (cfg.dataFormat !== 'channelsLast') throw new Error('channelsLast only');
      if (cfg.dilationRate.some((d) => d !== 1)) throw new Error('dilation unsupported');
      addInit(`${name}.weight`, [co, ci, kh, kw], convKernelToOnnx(k, [kh, kw, ci, co]));
      const inputs = [cur, `${name}.weight`];
      if (cfg.useBias) {
        addInit(`${name}.bias`, [co], b);
        inputs.push(`${name}.bias`);
      }
      const pads = onnxPads(cfg.padding, [shape[1], shape[2]], [kh, kw], [sh, sw]);
      const out = fresh(name);
      nodes.push({
        name, opType: 'Conv', input: inputs, output: [out],
        attribute: [attrInts('kernel_shape', [kh, kw]), attrInts('strides', [sh, sw]),
          attrInts('pads', pads), attrInts('dilations', [1, 1]), attrInt('group', 1)],
      });
      const oh = Math.floor((shape[1] + pads[0] + pads[2] - kh) / sh) + 1;
      const ow = Math.floor((shape[2] + pads[1] + pads[3] - kw) / sw) + 1;
      shape = [co, oh, ow];
      cur = out;
      cur = addActivation(nodes, cfg.activation, cur, name, fresh);
    } else if (cls === 'MaxPooling2D' || cls === 'AveragePooling2D') {
      const [ph, pw] = cfg.poolSize;
      const [sh, sw] = cfg.strides;
      const pads = onnxPads(cfg.padding, [shape[1], shape[2]], [ph, pw], [sh, sw]);
      const out = fresh(name);
      const attribute = [attrInts('kernel_shape', [ph, pw]), attrInts('strides', [sh, sw]),
        attrInts('pads', pads)];
      if (cls === 'AveragePooling2D') attribute.push(attrInt('count_include_pad', 0));
      nodes.push({
        name, opType: cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool',
        input: [cur], output: [out], attribute,
      });
      shape = [shape[0], Math.floor((shape[1] + pads[0] + pads[2] - ph) / sh) + 1,
        Math.floor((shape[2] + pads[1] + pads[3] - pw) / sw) + 1];
      cur = out;
    } else if (cls === 'Flatten') {
      const out = fresh(name);
      nodes.push({ name, opType: 'Flatten', input: [cur], output: [out], attribute: [attrInt('axis', 1)] });
      flattenedFrom = shape;
      shape = [shape.reduce((a, b) => a * b, 1)];
      cur = out;
    } else if (cls === 'Dense') {
      const [k, b] = layer.getWeights().map((t) => t.dataSync());
      const nin = shape[0];
      const nout = cfg.units;
      addInit(`${name}.weight`, [nout, nin], denseKernelToOnnx(k, [nin, nout], flattenedFrom));
      flattenedFrom = null;
      const inputs = [cur, `${name}.weight`];
      if (cfg.useBias) {
        addInit(`${name}.bias`, [nout], b);
        inputs.push(`${name}.bias`);
      }
      const isLast = layer === model.layers[model.layers.length - 1];
      const out = isLast && cfg.activation === 'softmax' ? 'logits' : fresh(name);
      nodes.push({
        name, opType: 'Gemm', input: inputs, output: [out],
        attribute: [attrInt('transB', 1)],
      });
      shape = [nout];
      cur = out;
      if (isLast && cfg.activation === 'softmax') {
        nodes.push({ name: 'softmax', opType: 'Softmax', input: [cur], output: ['output'], attribute: [attrInt('axis', 1)] });
        cur = 'output';
      } else {
        cur = addActivation(nodes, cfg.activation, cur, name, fresh);
      }
    } else if (cls === 'Dropout' || cls === 'InputLayer') {
      // inference no-op
    } else {
      throw new Error(`onnx export: unsupported layer ${cls}`);
    }
  }
  if (cur !== 'output') throw new Error('expected a final Dense with softmax');

  const modelProto = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'lrp-wasm scripts/train-fashion-mnist.mjs',
    producerVersion,
    modelVersion: 1,
    docString,
    graph: {
      name: model.name,
      node: nodes,
      initializer: inits,
      input: [valueInfo('input', ['N', C0, H0, W0])],
      output: [valueInfo('output', ['N', shape[0]])],
    },
  });
  const err = onnx.ModelProto.verify(modelProto);
  if (err) throw new Error(`onnx verify: ${err}`);
  return { bytes: onnx.ModelProto.encode(modelProto).finish(), tensors };
}

function addActivation(nodes, activation, cur, name, fresh) {
  if (activation === 'linear') return cur;
  if (activation === 'relu') {
    const out = fresh(`${name}_relu`);
    nodes.push({ name: `${name}_relu`, opType: 'Relu', input: [cur], output: [out] });
    return out;
  }
  throw new Error(`onnx export: unsupported activation ${activation}`);
}
