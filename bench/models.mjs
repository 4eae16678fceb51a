// Benchmark models: ONNX bytes (for lrp-wasm and onnxruntime-web) plus an equivalent TF.js model built in code with
// the SAME weights (NHWC / Keras layouts).
//
//   mlp_deep  784→400→400→400→400→10 ReLU MLP          (test data)
//   cnn       Conv8-Relu-MaxPool-Conv16-Relu-AvgPool-Flatten-Dense32-Relu-Dense10 on 1×28×28 (test data)
//   vgg       VGG-style net on 3×64×64, generated here with seeded kaiming-uniform weights (kept in memory)
//
// The test models come from /work/shared/testdata/<m>/model.onnx if it exists, else from
// test/fixtures/<m>/model.onnx.gz. Run `node bench/models.mjs` on its own to build everything and print the
// TF.js-vs-ORT (and lrp-wasm-vs-ORT) logit checks.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pkg from 'onnx-proto';

const { onnx } = pkg;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED_TESTDATA = process.env.LRP_TESTDATA ?? '/work/shared/testdata';

// ---------------------------------------------------------------------------------------------------------------
// Random numbers (seeded) and small array helpers
// ---------------------------------------------------------------------------------------------------------------

/** mulberry32: a small seeded PRNG giving floats in [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n floats uniform in [lo, hi), seeded. */
export function uniform(n, seed, lo = 0, hi = 1) {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** [n, C, H, W] → [n, H, W, C]; a per-sample shape of rank 1 is returned as is. */
export function nchwToNhwc(x, n, shape) {
  if (shape.length !== 3) return x;
  const [C, H, W] = shape;
  const per = C * H * W;
  const out = new Float32Array(x.length);
  for (let s = 0; s < n; s++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) out[s * per + (h * W + w) * C + c] = x[s * per + (c * H + h) * W + w];
  return out;
}

/** max |a - b| and max |b|. */
export function maxDiff(a, b) {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    d = Number.isNaN(e) ? Infinity : Math.max(d, e);
    m = Math.max(m, Math.abs(b[i]));
  }
  return { abs: d, ref: m, rel: m > 0 ? d / m : d };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the test models
// ---------------------------------------------------------------------------------------------------------------

/** ONNX bytes of a test-data model: shared test data if present, else the gzipped fixture. */
export function testModelBytes(name) {
  const shared = path.join(SHARED_TESTDATA, name, 'model.onnx');
  if (fs.existsSync(shared)) return { bytes: new Uint8Array(fs.readFileSync(shared)), source: shared };
  const fixture = path.join(ROOT, 'test', 'fixtures', name, 'model.onnx.gz');
  if (fs.existsSync(fixture)) return { bytes: new Uint8Array(zlib.gunzipSync(fs.readFileSync(fixture))), source: fixture };
  throw new Error(`bench: no model.onnx for '${name}' (looked in ${shared} and ${fixture})`);
}

// ---------------------------------------------------------------------------------------------------------------
// ONNX → a flat layer list (sequential graphs of Conv/Relu/MaxPool/AveragePool/Pad(0)/Flatten/Gemm only)
// ---------------------------------------------------------------------------------------------------------------

const num = (v) => (typeof v === 'object' && v !== null && 'low' in v ? Number(v.toString()) : Number(v));

function tensorToF32(t) {
  const dims = (t.dims ?? []).map(num);
  const count = dims.reduce((a, b) => a * b, 1);
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) throw new Error(`initializer ${t.name}: dtype ${t.dataType}, expected float`);
  const out = new Float32Array(count);
  if (t.rawData && t.rawData.length) {
    const dv = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, true);
  } else if (t.floatData && t.floatData.length) out.set(t.floatData);
  else throw new Error(`initializer ${t.name}: no data (external data is not supported)`);
  return { dims, data: out };
}

function tensorToInts(t) {
  if (t.int64Data && t.int64Data.length) return t.int64Data.map(num);
  if (t.int32Data && t.int32Data.length) return t.int32Data.map(num);
  const raw = t.rawData ?? new Uint8Array();
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = [];
  if (t.dataType === onnx.TensorProto.DataType.INT64) for (let i = 0; i < raw.length; i += 8) out.push(Number(dv.getBigInt64(i, true)));
  else if (t.dataType === onnx.TensorProto.DataType.INT32) for (let i = 0; i < raw.length; i += 4) out.push(dv.getInt32(i, true));
  else throw new Error(`constant ${t.name}: dtype ${t.dataType} not an integer type`);
  return out;
}

function attrs(node) {
  const out = {};
  for (const a of node.attribute ?? []) {
    if (a.ints && a.ints.length) out[a.name] = a.ints.map(num);
    else if (a.t) out[a.name] = a.t;
    else if (a.s && a.s.length) out[a.name] = new TextDecoder().decode(a.s);
    else if (a.type === onnx.AttributeProto.AttributeType.FLOAT) out[a.name] = a.f;
    else out[a.name] = num(a.i ?? 0);
  }
  return out;
}

/**
 * The model as { inputName, outputName, inputShape (per sample, NCHW), layers }. Each layer:
 *   { op: 'conv', cin, cout, kh, kw, strides, pads [t,l,b,r], weight OIHW, bias, relu, inShape, outShape }
 *   { op: 'maxpool' | 'avgpool', kernel, strides, pads, inShape, outShape }
 *   { op: 'flatten', inShape, outShape }
 *   { op: 'dense', nin, nout, weight [out,in], bias, relu, flattenedFrom: [C,H,W] | null, inShape, outShape }
 *   { op: 'relu', inShape, outShape }   (a ReLU that does not follow a conv or dense)
 */
export function parseSequentialOnnx(bytes) {
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const consts = new Map();
  const graphInputs = g.input.filter((i) => !inits.has(i.name));
  if (graphInputs.length !== 1 || g.output.length !== 1) throw new Error('bench: expected one input and one output');
  const dims = graphInputs[0].type.tensorType.shape.dim.map((d) => (d.dimValue != null && num(d.dimValue) > 0 ? num(d.dimValue) : -1));
  let shape = dims.slice(1);
  if (shape.some((d) => d < 0)) throw new Error(`bench: input shape ${JSON.stringify(dims)} has an unknown non-batch dim`);
  const inputShape = shape.slice();
  const layers = [];
  let cur = graphInputs[0].name;
  let flattenedFrom = null;
  for (const node of g.node) {
    const a = attrs(node);
    if (node.opType === 'Constant') {
      consts.set(node.output[0], a.value);
      continue;
    }
    if (node.input[0] !== cur) throw new Error(`bench: node ${node.name || node.opType} does not continue the chain (not a sequential model)`);
    const inShape = shape.slice();
    switch (node.opType) {
      case 'Conv': {
        const w = tensorToF32(inits.get(node.input[1]));
        const b = node.input[2] ? tensorToF32(inits.get(node.input[2])).data : new Float32Array(w.dims[0]);
        const [cout, cin, kh, kw] = w.dims;
        if ((a.group ?? 1) !== 1) throw new Error('bench: grouped conv not supported');
        if ((a.dilations ?? [1, 1]).some((d) => d !== 1)) throw new Error('bench: dilated conv not supported');
        const strides = a.strides ?? [1, 1];
        const pads = a.pads ?? [0, 0, 0, 0];
        const oh = Math.floor((shape[1] + pads[0] + pads[2] - kh) / strides[0]) + 1;
        const ow = Math.floor((shape[2] + pads[1] + pads[3] - kw) / strides[1]) + 1;
        shape = [cout, oh, ow];
        layers.push({ op: 'conv', cin, cout, kh, kw, strides, pads, weight: w.data, bias: b, relu: false, inShape, outShape: shape.slice() });
        break;
      }
      case 'Relu': {
        const last = layers[layers.length - 1];
        if (last && (last.op === 'conv' || last.op === 'dense') && !last.relu) last.relu = true;
        else layers.push({ op: 'relu', inShape, outShape: inShape });
        break;
      }
      case 'Pad': {
        const pads = a.pads ?? (node.input[1] ? tensorToInts(consts.get(node.input[1]) ?? inits.get(node.input[1])) : []);
        if (pads.some((p) => p !== 0)) throw new Error('bench: only all-zero Pad is supported');
        break; // identity
      }
      case 'MaxPool':
      case 'AveragePool': {
        const kernel = a.kernel_shape;
        const strides = a.strides ?? kernel;
        const pads = a.pads ?? [0, 0, 0, 0];
        if ((a.ceil_mode ?? 0) !== 0) throw new Error('bench: ceil_mode pooling not supported');
        const oh = Math.floor((shape[1] + pads[0] + pads[2] - kernel[0]) / strides[0]) + 1;
        const ow = Math.floor((shape[2] + pads[1] + pads[3] - kernel[1]) / strides[1]) + 1;
        shape = [shape[0], oh, ow];
        layers.push({ op: node.opType === 'MaxPool' ? 'maxpool' : 'avgpool', kernel, strides, pads, inShape, outShape: shape.slice() });
        break;
      }
      case 'Flatten': {
        if ((a.axis ?? 1) !== 1) throw new Error('bench: Flatten axis must be 1');
        if (shape.length === 3) flattenedFrom = shape.slice();
        shape = [shape.reduce((x, y) => x * y, 1)];
        layers.push({ op: 'flatten', inShape, outShape: shape.slice() });
        break;
      }
      case 'Gemm': {
        if ((a.transA ?? 0) !== 0) throw new Error('bench: Gemm transA not supported');
        if ((a.alpha ?? 1) !== 1 || (a.beta ?? 1) !== 1) throw new Error('bench: Gemm alpha/beta must be 1');
        const w = tensorToF32(inits.get(node.input[1]));
        let weight = w.data;
        let [nout, nin] = w.dims;
        if ((a.transB ?? 0) === 0) {
          // B is [in, out]: transpose to [out, in]
          [nin, nout] = w.dims;
          weight = new Float32Array(nin * nout);
          for (let i = 0; i < nin; i++) for (let o = 0; o < nout; o++) weight[o * nin + i] = w.data[i * nout + o];
        }
        if (shape.length !== 1 || shape[0] !== nin) throw new Error(`bench: Gemm expects [${nin}] input, has [${shape}]`);
        const b = node.input[2] ? tensorToF32(inits.get(node.input[2])).data : new Float32Array(nout);
        shape = [nout];
        layers.push({ op: 'dense', nin, nout, weight, bias: b, relu: false, flattenedFrom, inShape, outShape: shape.slice() });
        flattenedFrom = null;
        break;
      }
      default:
        throw new Error(`bench: op ${node.opType} not supported by the TF.js twin builder`);
    }
    cur = node.output[0];
  }
  if (cur !== g.output[0].name) throw new Error('bench: the chain does not end at the graph output');
  return { inputName: graphInputs[0].name, outputName: g.output[0].name, inputShape, outputSize: shape[0], layers };
}

/** Multiply-accumulates per sample of the convs and dense layers. */
export function macsPerSample(spec) {
  let macs = 0;
  for (const l of spec.layers) {
    if (l.op === 'conv') macs += l.outShape[0] * l.outShape[1] * l.outShape[2] * l.cin * l.kh * l.kw;
    else if (l.op === 'dense') macs += l.nin * l.nout;
  }
  return macs;
}

// ---------------------------------------------------------------------------------------------------------------
// The TF.js twin (tf.sequential, NHWC, Keras weight layouts)
// ---------------------------------------------------------------------------------------------------------------

/** ONNX conv weight [out, in, kh, kw] → Keras kernel [kh, kw, in, out]. */
export function convWeightToKeras(w, cout, cin, kh, kw) {
  const k = new Float32Array(w.length);
  for (let o = 0; o < cout; o++)
    for (let i = 0; i < cin; i++)
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) k[((y * kw + x) * cin + i) * cout + o] = w[((o * cin + i) * kh + y) * kw + x];
  return k;
}

/**
 * ONNX Gemm weight [out, in] → Keras kernel [in, out]. After a Flatten of a [C,H,W] map (`chw`), ONNX rows are in
 * (c,h,w) order and Keras rows in (h,w,c) order: permute them.
 */
export function denseWeightToKeras(w, nout, nin, chw) {
  const k = new Float32Array(w.length);
  for (let r = 0; r < nin; r++) {
    let kr = r;
    if (chw) {
      const [C, H, W] = chw;
      const c = Math.floor(r / (H * W));
      const h = Math.floor((r % (H * W)) / W);
      const x = r % W;
      kr = (h * W + x) * C + c;
    }
    for (let o = 0; o < nout; o++) k[kr * nout + o] = w[o * nin + r];
  }
  return k;
}

function tfPadding(pads, kernel, strides, what) {
  if (pads.every((p) => p === 0)) return 'valid';
  const [kh, kw] = kernel;
  const same = strides.every((s) => s === 1) && kh % 2 === 1 && kw % 2 === 1 && pads[0] === (kh - 1) / 2 && pads[2] === pads[0] && pads[1] === (kw - 1) / 2 && pads[3] === pads[1];
  if (!same) throw new Error(`bench: ${what} pads ${pads} have no TF.js equivalent`);
  return 'same';
}

/** Build a tf.Sequential with the weights of `spec` (from parseSequentialOnnx). */
export function buildTfjsModel(tf, spec) {
  const m = tf.sequential();
  const tfInput = spec.inputShape.length === 3 ? [spec.inputShape[1], spec.inputShape[2], spec.inputShape[0]] : spec.inputShape.slice();
  let first = true;
  const withInput = (cfg) => (first ? ((first = false), { ...cfg, inputShape: tfInput }) : cfg);
  for (const l of spec.layers) {
    if (l.op === 'conv') {
      const layer = tf.layers.conv2d(
        withInput({ filters: l.cout, kernelSize: [l.kh, l.kw], strides: l.strides, padding: tfPadding(l.pads, [l.kh, l.kw], l.strides, 'conv'), activation: l.relu ? 'relu' : 'linear', useBias: true }),
      );
      m.add(layer);
      tf.tidy(() => layer.setWeights([tf.tensor4d(convWeightToKeras(l.weight, l.cout, l.cin, l.kh, l.kw), [l.kh, l.kw, l.cin, l.cout]), tf.tensor1d(l.bias)]));
    } else if (l.op === 'maxpool' || l.op === 'avgpool') {
      const cfg = withInput({ poolSize: l.kernel, strides: l.strides, padding: tfPadding(l.pads, l.kernel, l.strides, 'pool') });
      if (cfg.padding === 'same') throw new Error('bench: padded pooling not supported'); // TF 'same' pooling ignores pads in averages
      m.add(l.op === 'maxpool' ? tf.layers.maxPooling2d(cfg) : tf.layers.averagePooling2d(cfg));
    } else if (l.op === 'flatten') {
      m.add(tf.layers.flatten(withInput({})));
    } else if (l.op === 'dense') {
      const layer = tf.layers.dense(withInput({ units: l.nout, activation: l.relu ? 'relu' : 'linear', useBias: true }));
      m.add(layer);
      tf.tidy(() => layer.setWeights([tf.tensor2d(denseWeightToKeras(l.weight, l.nout, l.nin, l.flattenedFrom), [l.nin, l.nout]), tf.tensor1d(l.bias)]));
    } else if (l.op === 'relu') {
      m.add(tf.layers.reLU(withInput({})));
    } else throw new Error(`bench: layer ${l.op}`);
  }
  return m;
}

// ---------------------------------------------------------------------------------------------------------------
// The generated VGG-style model (ONNX, opset 13)
// ---------------------------------------------------------------------------------------------------------------

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const { AttributeType } = onnx.AttributeProto;
const attrInts = (name, ints) => ({ name, type: AttributeType.INTS, ints });
const attrInt = (name, i) => ({ name, type: AttributeType.INT, i });

function initializer(name, dims, data) {
  const raw = new Uint8Array(data.length * 4);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i], true);
  return { name, dims, dataType: FLOAT, rawData: raw };
}

function valueInfo(name, dims) {
  return {
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}

/** Kaiming-uniform (ReLU gain): U(-sqrt(6/fan_in), sqrt(6/fan_in)); bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
function kaiming(n, fanIn, r) {
  const bound = Math.sqrt(6 / fanIn);
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = (2 * r() - 1) * bound;
  return w;
}
function biasInit(n, fanIn, r) {
  const bound = 1 / Math.sqrt(fanIn);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) b[i] = (2 * r() - 1) * bound;
  return b;
}

/**
 * VGG-style net on [N,3,64,64]: six 3×3 pad-1 convs (32,32,64,64,128,128) with ReLU, a 2×2 max pool after every
 * second conv, Flatten, Gemm 8192→256, ReLU, Gemm 256→10. Seeded kaiming-uniform weights. Returns ONNX bytes.
 */
export function makeVggOnnx({ seed = 20240601, channels = [32, 32, 64, 64, 128, 128], size = 64, hidden = 256, classes = 10 } = {}) {
  const r = rng(seed);
  const nodes = [];
  const inits = [];
  let cur = 'input';
  let c = 3;
  let s = size;
  channels.forEach((co, i) => {
    const fanIn = c * 9;
    inits.push(initializer(`conv${i}.weight`, [co, c, 3, 3], kaiming(co * c * 9, fanIn, r)));
    inits.push(initializer(`conv${i}.bias`, [co], biasInit(co, fanIn, r)));
    nodes.push({
      name: `conv${i}`,
      opType: 'Conv',
      input: [cur, `conv${i}.weight`, `conv${i}.bias`],
      output: [`conv${i}_out`],
      attribute: [attrInts('kernel_shape', [3, 3]), attrInts('strides', [1, 1]), attrInts('pads', [1, 1, 1, 1]), attrInts('dilations', [1, 1]), attrInt('group', 1)],
    });
    nodes.push({ name: `relu${i}`, opType: 'Relu', input: [`conv${i}_out`], output: [`relu${i}_out`] });
    cur = `relu${i}_out`;
    c = co;
    if (i % 2 === 1) {
      nodes.push({ name: `pool${i >> 1}`, opType: 'MaxPool', input: [cur], output: [`pool${i >> 1}_out`], attribute: [attrInts('kernel_shape', [2, 2]), attrInts('strides', [2, 2]), attrInts('pads', [0, 0, 0, 0])] });
      cur = `pool${i >> 1}_out`;
      s /= 2;
    }
  });
  nodes.push({ name: 'flatten', opType: 'Flatten', input: [cur], output: ['flat'], attribute: [attrInt('axis', 1)] });
  const flat = c * s * s;
  inits.push(initializer('fc1.weight', [hidden, flat], kaiming(hidden * flat, flat, r)));
  inits.push(initializer('fc1.bias', [hidden], biasInit(hidden, flat, r)));
  nodes.push({ name: 'fc1', opType: 'Gemm', input: ['flat', 'fc1.weight', 'fc1.bias'], output: ['fc1_out'], attribute: [attrInt('transB', 1)] });
  nodes.push({ name: 'fc1_relu', opType: 'Relu', input: ['fc1_out'], output: ['fc1_relu_out'] });
  inits.push(initializer('fc2.weight', [classes, hidden], kaiming(classes * hidden, hidden, r)));
  inits.push(initializer('fc2.bias', [classes], biasInit(classes, hidden, r)));
  nodes.push({ name: 'fc2', opType: 'Gemm', input: ['fc1_relu_out', 'fc2.weight', 'fc2.bias'], output: ['logits'], attribute: [attrInt('transB', 1)] });

  const proto = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'lrp-wasm bench/models.mjs',
    modelVersion: 1,
    graph: {
      name: 'vgg',
      node: nodes,
      initializer: inits,
      input: [valueInfo('input', ['N', 3, size, size])],
      output: [valueInfo('logits', ['N', classes])],
    },
  });
  const err = onnx.ModelProto.verify(proto);
  if (err) throw new Error(`bench: onnx verify: ${err}`);
  return onnx.ModelProto.encode(proto).finish();
}

// ---------------------------------------------------------------------------------------------------------------
// The three benchmark models
// ---------------------------------------------------------------------------------------------------------------

export const MODEL_NAMES = ['mlp_deep', 'cnn', 'vgg'];

/** { name, bytes, source, spec, macs } for each requested model (ONNX side only; no TF.js yet). */
export function benchModels(names = MODEL_NAMES) {
  return names.map((name) => {
    let bytes;
    let source;
    if (name === 'vgg') {
      bytes = makeVggOnnx();
      source = 'generated in memory (bench/models.mjs makeVggOnnx, seed 20240601)';
    } else ({ bytes, source } = testModelBytes(name));
    const spec = parseSequentialOnnx(bytes);
    return { name, bytes, source, spec, macs: macsPerSample(spec), inputSize: spec.inputShape.reduce((a, b) => a * b, 1) };
  });
}

/**
 * Compare the TF.js twin's logits (and, if given, lrp-wasm's) with ORT's on a seeded random input; print the
 * result. Returns { tfjs, ours, ok } with the max differences. Passes when max|diff| ≤ tol·max(1, max|logit|).
 */
export async function checkTwins({ name, spec, inputSize }, { ort, session, tf, tfModel, ours }, { n = 4, seed = 7, tol = 1e-4, log = console.log } = {}) {
  const x = uniform(n * inputSize, seed);
  const feeds = { [spec.inputName]: new ort.Tensor('float32', x, [n, ...spec.inputShape]) };
  const res = await session.run(feeds);
  const ref = res[spec.outputName].data;
  const out = { ok: true };
  const judge = (label, d) => {
    const pass = d.abs <= tol * Math.max(1, d.ref);
    out.ok &&= pass;
    log(`  check ${name}: ${label} vs ORT logits (batch ${n}): max|diff| ${d.abs.toExponential(2)}, max|logit| ${d.ref.toFixed(3)} → ${pass ? 'OK' : 'MISMATCH'} (tol ${tol})`);
    return { ...d, pass };
  };
  if (tf && tfModel) {
    const xt = tf.tensor(nchwToNhwc(x, n, spec.inputShape), [n, ...(spec.inputShape.length === 3 ? [spec.inputShape[1], spec.inputShape[2], spec.inputShape[0]] : spec.inputShape)]);
    const y = tf.tidy(() => tfModel.predict(xt).dataSync());
    xt.dispose();
    out.tfjs = judge('TF.js', maxDiff(y, ref));
  }
  if (ours) out.ours = judge('lrp-wasm predict', maxDiff(ours.predict(x), ref));
  return out;
}

// Stand-alone: build every model and run the checks.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { initOrt, initTfjs } = await import('./peers.mjs');
  const ort = await initOrt();
  const { tf } = await initTfjs();
  let ok = true;
  for (const m of benchModels()) {
    console.log(`${m.name}: input [${m.spec.inputShape}], ${m.spec.layers.length} layers, ${(m.macs / 1e6).toFixed(2)} MMAC/sample, ${(m.bytes.length / 1e6).toFixed(2)} MB ONNX (${m.source})`);
    const session = await ort.InferenceSession.create(m.bytes, { executionProviders: ['wasm'] });
    const tfModel = buildTfjsModel(tf, m.spec);
    const r = await checkTwins(m, { ort, session, tf, tfModel });
    ok &&= r.ok;
    tfModel.dispose();
    await session.release();
  }
  process.exit(ok ? 0 : 1);
}

/**
 * The ONNX file of a full-size model for the ImageNet-scale benches: models/NAME/model.onnx when it is
 * bundled, else DIR/NAME.onnx, exported first by `scripts/SCRIPT --full DIR` (Debian's python3-torch;
 * `only`: the script takes `--only NAME`). Exits the bench with a message when it cannot be had.
 */
export function exportedOnnx(name, { dir, script, only = false }) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const bundled = path.join(root, 'models', name, 'model.onnx');
  if (fs.existsSync(bundled)) return bundled;
  const file = path.join(dir, `${name}.onnx`);
  if (fs.existsSync(file)) return file;
  console.log(`exporting ${name} to ${dir} (scripts/${script} --full)…`);
  const r = spawnSync('/usr/bin/python3', [path.join(root, 'scripts', script), '--full', dir, ...(only ? ['--only', name] : [])], { stdio: 'inherit' });
  if (r.status !== 0 || !fs.existsSync(file)) {
    console.error(`bench: cannot export ${name}: install Debian's python3-torch python3-torchvision python3-onnx, or pass --dir with ${name}.onnx`);
    process.exit(2);
  }
  return file;
}
