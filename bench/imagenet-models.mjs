// VGG16 and ResNet50 (torchvision's layouts, 3×224×224 → 1000) as ONNX bytes generated in memory with seeded
// kaiming-uniform weights, for benches that must run without the exported files (/work/arch-full, not in the repo).
// Batch norm is left out (an export folds it into the convs anyway); ResNet's last conv of every bottleneck gets a
// smaller gain so that the residual sums stay in a sane range with random weights.
import pkg from 'onnx-proto';
import { rng } from './models.mjs';

const { onnx } = pkg;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const { AttributeType } = onnx.AttributeProto;
const ints = (name, v) => ({ name, type: AttributeType.INTS, ints: v });
const int = (name, i) => ({ name, type: AttributeType.INT, i });

class OnnxBuilder {
  constructor(seed) {
    this.r = rng(seed);
    this.nodes = [];
    this.inits = [];
    this.count = 0;
  }

  name(prefix) {
    return `${prefix}${this.count++}`;
  }

  weight(name, dims, fanIn, gain = 1) {
    const n = dims.reduce((a, b) => a * b, 1);
    const bound = gain * Math.sqrt(6 / fanIn);
    const raw = new Uint8Array(n * 4);
    const dv = new DataView(raw.buffer);
    for (let i = 0; i < n; i++) dv.setFloat32(i * 4, (2 * this.r() - 1) * bound, true);
    this.inits.push({ name, dims, dataType: FLOAT, rawData: raw });
    return name;
  }

  conv(x, cin, cout, k, stride = 1, pad = 0, { relu = true, gain = 1 } = {}) {
    const n = this.name('conv');
    const fanIn = cin * k * k;
    const w = this.weight(`${n}.weight`, [cout, cin, k, k], fanIn, gain);
    const b = this.weight(`${n}.bias`, [cout], fanIn * 36, 1); // small biases: U(-1/sqrt(fan_in), …)
    this.nodes.push({
      name: n, opType: 'Conv', input: [x, w, b], output: [`${n}_out`],
      attribute: [ints('kernel_shape', [k, k]), ints('strides', [stride, stride]), ints('pads', [pad, pad, pad, pad]), ints('dilations', [1, 1]), int('group', 1)],
    });
    return relu ? this.relu(`${n}_out`) : `${n}_out`;
  }

  relu(x) {
    const n = this.name('relu');
    this.nodes.push({ name: n, opType: 'Relu', input: [x], output: [`${n}_out`] });
    return `${n}_out`;
  }

  maxpool(x, k, stride, pad = 0) {
    const n = this.name('pool');
    this.nodes.push({ name: n, opType: 'MaxPool', input: [x], output: [`${n}_out`], attribute: [ints('kernel_shape', [k, k]), ints('strides', [stride, stride]), ints('pads', [pad, pad, pad, pad])] });
    return `${n}_out`;
  }

  add(a, b) {
    const n = this.name('add');
    this.nodes.push({ name: n, opType: 'Add', input: [a, b], output: [`${n}_out`] });
    return `${n}_out`;
  }

  globalAvgPool(x) {
    const n = this.name('gap');
    this.nodes.push({ name: n, opType: 'GlobalAveragePool', input: [x], output: [`${n}_out`] });
    return `${n}_out`;
  }

  flatten(x) {
    const n = this.name('flatten');
    this.nodes.push({ name: n, opType: 'Flatten', input: [x], output: [`${n}_out`], attribute: [int('axis', 1)] });
    return `${n}_out`;
  }

  dense(x, nin, nout, relu = true) {
    const n = this.name('fc');
    const w = this.weight(`${n}.weight`, [nout, nin], nin);
    const b = this.weight(`${n}.bias`, [nout], nin * 36);
    this.nodes.push({ name: n, opType: 'Gemm', input: [x, w, b], output: [`${n}_out`], attribute: [int('transB', 1)] });
    return relu ? this.relu(`${n}_out`) : `${n}_out`;
  }

  encode(graphName, out, classes, size) {
    const vi = (name, dims) => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } });
    this.nodes.push({ name: 'output', opType: 'Identity', input: [out], output: ['logits'] });
    const proto = onnx.ModelProto.create({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 13 }],
      producerName: 'lrp-wasm bench/imagenet-models.mjs',
      graph: { name: graphName, node: this.nodes, initializer: this.inits, input: [vi('input', ['N', 3, size, size])], output: [vi('logits', ['N', classes])] },
    });
    const err = onnx.ModelProto.verify(proto);
    if (err) throw new Error(`bench: onnx verify: ${err}`);
    return onnx.ModelProto.encode(proto).finish();
  }
}

/** torchvision vgg16 (configuration D) without dropout: 13 convs, 5 max pools, 3 dense layers. */
export function makeVgg16Onnx({ seed = 16, size = 224, classes = 1000 } = {}) {
  const b = new OnnxBuilder(seed);
  let x = 'input';
  let c = 3;
  for (const v of [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M']) {
    if (v === 'M') x = b.maxpool(x, 2, 2);
    else {
      x = b.conv(x, c, v, 3, 1, 1);
      c = v;
    }
  }
  const s = size / 32;
  x = b.flatten(x);
  x = b.dense(x, c * s * s, 4096);
  x = b.dense(x, 4096, 4096);
  x = b.dense(x, 4096, classes, false);
  return b.encode('vgg16', x, classes, size);
}

/** torchvision resnet50 (v1.5: stride on the 3×3 conv of a bottleneck), batch norm folded away. */
export function makeResnet50Onnx({ seed = 50, size = 224, classes = 1000 } = {}) {
  const b = new OnnxBuilder(seed);
  let x = b.conv('input', 3, 64, 7, 2, 3);
  x = b.maxpool(x, 3, 2, 1);
  let c = 64;
  [[64, 3, 1], [128, 4, 2], [256, 6, 2], [512, 3, 2]].forEach(([width, blocks, stride]) => {
    for (let i = 0; i < blocks; i++) {
      const s = i === 0 ? stride : 1;
      const out = width * 4;
      let y = b.conv(x, c, width, 1);
      y = b.conv(y, width, width, 3, s, 1);
      y = b.conv(y, width, out, 1, 1, 0, { relu: false, gain: 0.3 });
      const skip = i === 0 ? b.conv(x, c, out, 1, s, 0, { relu: false }) : x;
      x = b.relu(b.add(y, skip));
      c = out;
    }
  });
  x = b.flatten(b.globalAvgPool(x));
  x = b.dense(x, c, classes, false);
  return b.encode('resnet50', x, classes, size);
}

/** The same models under the names bench/winograd.mjs uses. */
export const vgg16Onnx = (seed = 16) => makeVgg16Onnx({ seed });
export const resnet50Onnx = (seed = 50) => makeResnet50Onnx({ seed });
