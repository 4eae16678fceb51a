// VGG16 and ResNet50 (torchvision's layer shapes, 224×224, 1000 classes) as ONNX bytes built in memory with seeded
// random weights, for benches that need ImageNet-size models without the exports of scripts/export-architectures.py.
// Batch norm is left out (a model file's BN is folded into its conv at load anyway): every conv has a bias.
// ResNet50's last conv of each residual branch is scaled by 0.2 so that the sums stay O(1) without BN.
import pkg from 'onnx-proto';
import { rng } from './models.mjs';

const { onnx } = pkg;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const { AttributeType } = onnx.AttributeProto;
const ints = (name, v) => ({ name, type: AttributeType.INTS, ints: v });
const int = (name, i) => ({ name, type: AttributeType.INT, i });

class Builder {
  constructor(seed) {
    this.r = rng(seed);
    this.nodes = [];
    this.inits = [];
    this.count = 0;
  }
  name(p) {
    return `${p}${this.count++}`;
  }
  tensor(name, dims, n, bound) {
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (2 * this.r() - 1) * bound;
    this.inits.push({ name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer) });
  }
  conv(x, cin, cout, k, stride, pad, scale = 1) {
    const n = this.name('conv');
    const fanIn = cin * k * k;
    this.tensor(`${n}.w`, [cout, cin, k, k], cout * fanIn, scale * Math.sqrt(6 / fanIn));
    this.tensor(`${n}.b`, [cout], cout, 1 / Math.sqrt(fanIn));
    this.nodes.push({ name: n, opType: 'Conv', input: [x, `${n}.w`, `${n}.b`], output: [n], attribute: [ints('kernel_shape', [k, k]), ints('strides', [stride, stride]), ints('pads', [pad, pad, pad, pad])] });
    return n;
  }
  op(opType, input, attribute = []) {
    const n = this.name(opType.toLowerCase());
    this.nodes.push({ name: n, opType, input, output: [n], attribute });
    return n;
  }
  relu(x) {
    return this.op('Relu', [x]);
  }
  maxpool(x, k, s, p) {
    return this.op('MaxPool', [x], [ints('kernel_shape', [k, k]), ints('strides', [s, s]), ints('pads', [p, p, p, p])]);
  }
  gemm(x, nin, nout) {
    const n = this.name('fc');
    this.tensor(`${n}.w`, [nout, nin], nout * nin, Math.sqrt(6 / nin));
    this.tensor(`${n}.b`, [nout], nout, 1 / Math.sqrt(nin));
    this.nodes.push({ name: n, opType: 'Gemm', input: [x, `${n}.w`, `${n}.b`], output: [n], attribute: [int('transB', 1)] });
    return n;
  }
  bytes(name, out) {
    const vi = (n, dims) => ({ name: n, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } });
    const proto = onnx.ModelProto.create({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 13 }],
      producerName: 'lrp-wasm bench/imagenet-models.mjs',
      graph: { name, node: this.nodes, initializer: this.inits, input: [vi('input', ['N', 3, 224, 224])], output: [vi(out, ['N', 1000])] },
    });
    const err = onnx.ModelProto.verify(proto);
    if (err) throw new Error(`bench: onnx verify: ${err}`);
    return onnx.ModelProto.encode(proto).finish();
  }
}

/** torchvision vgg16 (configuration D, no BN): 13 3×3 convs, 5 max pools, 3 dense layers. */
export function vgg16Onnx(seed = 16) {
  const b = new Builder(seed);
  let x = 'input', c = 3;
  for (const stage of [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]) {
    for (const co of stage) {
      x = b.relu(b.conv(x, c, co, 3, 1, 1));
      c = co;
    }
    x = b.maxpool(x, 2, 2, 0);
  }
  x = b.op('Flatten', [x], [int('axis', 1)]);
  x = b.relu(b.gemm(x, 512 * 7 * 7, 4096));
  x = b.relu(b.gemm(x, 4096, 4096));
  return b.bytes('vgg16', b.gemm(x, 4096, 1000));
}

/** torchvision resnet50 (v1.5: the stride sits on the 3×3 conv of a bottleneck), without BN. */
export function resnet50Onnx(seed = 50) {
  const b = new Builder(seed);
  let x = b.maxpool(b.relu(b.conv('input', 3, 64, 7, 2, 3)), 3, 2, 1);
  let c = 64;
  for (const [width, blocks, stride] of [[64, 3, 1], [128, 4, 2], [256, 6, 2], [512, 3, 2]]) {
    for (let i = 0; i < blocks; i++) {
      const s = i === 0 ? stride : 1;
      const out = width * 4;
      let y = b.relu(b.conv(x, c, width, 1, 1, 0));
      y = b.relu(b.conv(y, width, width, 3, s, 1));
      y = b.conv(y, width, out, 1, 1, 0, 0.2);
      const skip = i === 0 ? b.conv(x, c, out, 1, s, 0) : x;
      x = b.relu(b.op('Add', [y, skip]));
      c = out;
    }
  }
  x = b.op('GlobalAveragePool', [x]);
  x = b.op('Flatten', [x], [int('axis', 1)]);
  return b.bytes('resnet50', b.gemm(x, 2048, 1000));
}
