#!/usr/bin/env node
// Trains the small Fashion-MNIST CNN bundled in models/fashion-mnist/ and writes:
//   tfjs/model.json + tfjs/group1-shard1of1.bin   (tfjs layers model, NHWC)
//   model.onnx                                     (ONNX opset 13 twin, NCHW, softmax output)
//   samples/*.png + samples/labels.json            (16 test images)
//   metadata.json
//
// Data: Debian package `dataset-fashion-mnist` (IDX files, gzipped) in
//   /usr/share/datasets/fashion-mnist   (apt-get install -y dataset-fashion-mnist)
//
// Usage: node scripts/train-fashion-mnist.mjs [--epochs 8] [--batch 64] [--lr 0.001]
//          [--seed 42] [--train-limit 60000] [--backend wasm|cpu] [--max-minutes 22]
//          [--data-dir DIR] [--out DIR] [--verify-count 10000]
//
// tfjs-backend-wasm has no Conv2DBackpropFilter kernel; scripts/fashion-mnist/
// wasm-conv2d-grad.mjs registers one (self-tested against the cpu backend at start).
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { encode as encodePng } from 'fast-png';
import { readIdx } from './fashion-mnist/idx.mjs';
import {
  registerWasmConv2DBackpropFilter, selfTestConv2DBackpropFilter,
} from './fashion-mnist/wasm-conv2d-grad.mjs';
import { buildOnnx } from './fashion-mnist/onnx-export.mjs';
import { loadOnnx, runReference } from './fashion-mnist/onnx-reference.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
  'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '_');

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
const opts = {
  epochs: 8, batch: 64, lr: 0.001, seed: 42, 'train-limit': 60000, backend: 'wasm',
  'max-minutes': 22, 'data-dir': '/usr/share/datasets/fashion-mnist',
  out: path.join(ROOT, 'models/fashion-mnist'), 'verify-count': 10000,
};
for (let i = 0; i < argv.length; i++) {
  const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
  if (!m || !(m[1] in opts)) throw new Error(`unknown argument ${argv[i]}`);
  const v = m[2] ?? argv[++i];
  opts[m[1]] = typeof opts[m[1]] === 'number' ? Number(v) : v;
}
const COMMAND = ['node', 'scripts/train-fashion-mnist.mjs', ...argv].join(' ');
const log = (...a) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

// ---------------------------------------------------------------- data
function loadSplit(prefix) {
  const images = readIdx(path.join(opts['data-dir'], `${prefix}-images-idx3-ubyte.gz`));
  const labels = readIdx(path.join(opts['data-dir'], `${prefix}-labels-idx1-ubyte.gz`));
  if (images.dtype !== 'uint8' || labels.dtype !== 'uint8') throw new Error('expected uint8 IDX');
  const [n, h, w] = images.shape;
  if (h !== 28 || w !== 28 || labels.shape[0] !== n) throw new Error(`bad shapes ${images.shape} ${labels.shape}`);
  return { n, pixels: images.data, labels: labels.data };
}

/** mulberry32 */
function makeRng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function batchTensor(split, indices) {
  const x = new Float32Array(indices.length * 784);
  for (let b = 0; b < indices.length; b++) {
    const off = indices[b] * 784;
    for (let p = 0; p < 784; p++) x[b * 784 + p] = split.pixels[off + p] / 255;
  }
  return tf.tensor4d(x, [indices.length, 28, 28, 1]);
}

// ---------------------------------------------------------------- model
function buildModel(seed, finalActivation = 'softmax') {
  const init = (k) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  const m = tf.sequential({ name: 'fashion_mnist_cnn' });
  m.add(tf.layers.conv2d({
    name: 'conv1', inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: 'same',
    activation: 'relu', kernelInitializer: init(1),
  }));
  m.add(tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2, strides: 2 }));
  m.add(tf.layers.conv2d({
    name: 'conv2', filters: 32, kernelSize: 3, padding: 'same', activation: 'relu',
    kernelInitializer: init(2),
  }));
  m.add(tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2, strides: 2 }));
  m.add(tf.layers.flatten({ name: 'flatten' }));
  m.add(tf.layers.dense({ name: 'dense1', units: 64, activation: 'relu', kernelInitializer: init(3) }));
  m.add(tf.layers.dense({
    name: 'dense2', units: 10, activation: finalActivation, kernelInitializer: init(4),
  }));
  return m;
}

function predictAll(model, split, n, batch = 500) {
  const out = new Float32Array(n * 10);
  for (let s = 0; s < n; s += batch) {
    const idx = Array.from({ length: Math.min(batch, n - s) }, (_, i) => s + i);
    const y = tf.tidy(() => model.predict(batchTensor(split, idx)).dataSync());
    out.set(y, s * 10);
  }
  return out;
}

const argmax = (a, off, k = 10) => {
  let best = 0;
  for (let j = 1; j < k; j++) if (a[off + j] > a[off + best]) best = j;
  return best;
};

function accuracy(probs, labels, n) {
  let ok = 0;
  for (let i = 0; i < n; i++) if (argmax(probs, i * 10) === labels[i]) ok++;
  return ok / n;
}

// ---------------------------------------------------------------- main
const tStart = Date.now();
setWasmPaths(path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep);
if (opts.backend === 'wasm') {
  registerWasmConv2DBackpropFilter();
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
  const diff = await selfTestConv2DBackpropFilter();
  log(`wasm Conv2DBackpropFilter shim vs cpu: max |diff| = ${diff.toExponential(2)}`);
  if (!(diff < 1e-4)) throw new Error('Conv2DBackpropFilter shim self-test failed');
} else {
  await tf.setBackend(opts.backend);
}
await tf.ready();
log(`backend ${tf.getBackend()}, tfjs ${tf.version.tfjs}, options ${JSON.stringify(opts)}`);

const train = loadSplit('train');
const test = loadSplit('t10k');
log(`train ${train.n} images, test ${test.n} images`);
const nTrain = Math.min(opts['train-limit'], train.n);

const model = buildModel(opts.seed);
model.compile({ optimizer: tf.train.adam(opts.lr), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
model.summary(undefined, undefined, (line) => log(line));

const rng = makeRng(opts.seed);
const order = Array.from({ length: nTrain }, (_, i) => i);
const tTrain = Date.now();
const history = [];
let epochsDone = 0;
for (let epoch = 1; epoch <= opts.epochs; epoch++) {
  const tEpoch = Date.now();
  for (let i = nTrain - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  let lossSum = 0;
  let accSum = 0;
  let steps = 0;
  for (let s = 0; s < nTrain; s += opts.batch) {
    const idx = order.slice(s, s + opts.batch);
    const xb = batchTensor(train, idx);
    const yb = tf.tidy(() => tf.oneHot(tf.tensor1d(idx.map((k) => train.labels[k]), 'int32'), 10));
    const [loss, acc] = await model.trainOnBatch(xb, yb);
    xb.dispose();
    yb.dispose();
    lossSum += loss;
    accSum += acc;
    steps++;
    if (steps % 200 === 0) log(`  epoch ${epoch} step ${steps}: loss ${(lossSum / steps).toFixed(4)} acc ${(accSum / steps).toFixed(4)}`);
  }
  const testAcc = accuracy(predictAll(model, test, test.n), test.labels, test.n);
  const secs = (Date.now() - tEpoch) / 1000;
  history.push({ epoch, loss: lossSum / steps, trainAccuracy: accSum / steps, testAccuracy: testAcc, seconds: secs });
  epochsDone = epoch;
  log(`epoch ${epoch}/${opts.epochs}: loss ${(lossSum / steps).toFixed(4)} train-acc ${(accSum / steps).toFixed(4)} test-acc ${testAcc.toFixed(4)} (${secs.toFixed(1)} s, ${tf.memory().numTensors} tensors)`);
  const elapsedMin = (Date.now() - tStart) / 60000;
  if (epoch < opts.epochs && elapsedMin + secs / 60 > opts['max-minutes']) {
    log(`stopping early: time budget of ${opts['max-minutes']} min would be exceeded`);
    break;
  }
}
const trainSeconds = (Date.now() - tTrain) / 1000;

// ---------------------------------------------------------------- evaluate
const testProbs = predictAll(model, test, test.n);
const testAccuracy = accuracy(testProbs, test.labels, test.n);
const correct = Math.round(testAccuracy * test.n);
log(`TEST accuracy: ${correct}/${test.n} = ${(testAccuracy * 100).toFixed(2)}% (training ${trainSeconds.toFixed(0)} s)`);

// ---------------------------------------------------------------- save tfjs
const outDir = path.resolve(opts.out);
const tfjsDir = path.join(outDir, 'tfjs');
const samplesDir = path.join(outDir, 'samples');
rmSync(tfjsDir, { recursive: true, force: true });
rmSync(samplesDir, { recursive: true, force: true });
mkdirSync(tfjsDir, { recursive: true });
mkdirSync(samplesDir, { recursive: true });

await model.save(tf.io.withSaveHandler(async (artifacts) => {
  const wd = artifacts.weightData;
  const weightBytes = Array.isArray(wd) ? tf.io.concatenateArrayBuffers(wd) : wd;
  const modelJson = {
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology,
    ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: artifacts.weightSpecs }],
  };
  writeFileSync(path.join(tfjsDir, 'model.json'), JSON.stringify(modelJson));
  writeFileSync(path.join(tfjsDir, 'group1-shard1of1.bin'), new Uint8Array(weightBytes));
  return {
    modelArtifactsInfo: {
      dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weightBytes.byteLength,
    },
  };
}));

// Reload from disk and check it predicts identically.
{
  const mj = JSON.parse(readFileSync(path.join(tfjsDir, 'model.json'), 'utf8'));
  const bin = readFileSync(path.join(tfjsDir, mj.weightsManifest[0].paths[0]));
  const reloaded = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: mj.modelTopology,
    weightSpecs: mj.weightsManifest[0].weights,
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
  }));
  const p2 = predictAll(reloaded, test, 1000);
  let d = 0;
  for (let i = 0; i < p2.length; i++) d = Math.max(d, Math.abs(p2[i] - testProbs[i]));
  log(`reloaded tfjs model vs trained (1000 test images): max |prob diff| = ${d}`);
  if (d > 1e-6) throw new Error('reloaded model differs');
  reloaded.dispose();
}

// ---------------------------------------------------------------- ONNX twin
const onnxPath = path.join(outDir, 'model.onnx');
const { bytes: onnxBytes } = buildOnnx(model, {
  docString: `Fashion-MNIST CNN trained with TensorFlow.js (${COMMAND}); `
    + `test accuracy ${(testAccuracy * 100).toFixed(2)}%. Input: float32 NCHW [N,1,28,28], pixel/255. `
    + `Output: softmax probabilities over ${CLASSES.join(', ')}.`,
});
writeFileSync(onnxPath, onnxBytes);

// tfjs logits: same architecture with a linear last layer, same weights.
const logitModel = buildModel(opts.seed, 'linear');
logitModel.setWeights(model.getWeights());
const nVerify = Math.min(opts['verify-count'], test.n);
const tfLogits = predictAll(logitModel, test, nVerify);
const twin = loadOnnx(readFileSync(onnxPath));
let maxLogitDiff = 0;
let maxProbDiff = 0;
let refCorrect = 0;
let argmaxMismatch = 0;
const CHUNK = 200;
for (let s = 0; s < nVerify; s += CHUNK) {
  const n = Math.min(CHUNK, nVerify - s);
  const data = new Float64Array(n * 784);
  for (let i = 0; i < n * 784; i++) data[i] = test.pixels[s * 784 + i] / 255; // C=1: NHWC == NCHW
  const env = runReference(twin, { dims: [n, 1, 28, 28], data });
  const logits = env.get('logits').data;
  const probs = env.get('output').data;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 10; k++) {
      maxLogitDiff = Math.max(maxLogitDiff, Math.abs(logits[i * 10 + k] - tfLogits[(s + i) * 10 + k]));
      maxProbDiff = Math.max(maxProbDiff, Math.abs(probs[i * 10 + k] - testProbs[(s + i) * 10 + k]));
    }
    const a = argmax(probs, i * 10);
    if (a === test.labels[s + i]) refCorrect++;
    if (a !== argmax(testProbs, (s + i) * 10)) argmaxMismatch++;
  }
}
log(`ONNX twin (float64 reference) vs tfjs on ${nVerify} test images: max |logit diff| = ${maxLogitDiff.toExponential(3)}, `
  + `max |prob diff| = ${maxProbDiff.toExponential(3)}, argmax mismatches = ${argmaxMismatch}, `
  + `reference accuracy = ${(refCorrect / nVerify * 100).toFixed(2)}%`);
if (!(maxLogitDiff < 1e-3)) throw new Error('ONNX twin disagrees with tfjs');

// Optional independent check with onnxruntime-web (devDependency), if it runs here.
let ortCheck = null;
try {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(readFileSync(onnxPath));
  const n = Math.min(1000, test.n);
  const x = new Float32Array(n * 784);
  for (let i = 0; i < n * 784; i++) x[i] = test.pixels[i] / 255;
  const res = await session.run({ input: new ort.Tensor('float32', x, [n, 1, 28, 28]) });
  const p = res.output.data;
  let d = 0;
  for (let i = 0; i < n * 10; i++) d = Math.max(d, Math.abs(p[i] - testProbs[i]));
  ortCheck = { images: n, maxProbDiff: d, onnxruntimeWeb: ort.env.versions?.web ?? null };
  log(`onnxruntime-web on model.onnx vs tfjs (${n} images): max |prob diff| = ${d.toExponential(3)}`);
} catch (e) {
  log(`onnxruntime-web check skipped: ${e.message}`);
}

// ---------------------------------------------------------------- samples
// Rule (no cherry-picking): walk the test set in order; take an image if its class is
// not represented yet, or if there are more free slots than missing classes.
const NSAMPLES = 16;
const chosen = [];
const have = new Set();
for (let i = 0; i < test.n && chosen.length < NSAMPLES; i++) {
  const c = test.labels[i];
  if (!have.has(c) || NSAMPLES - chosen.length > 10 - have.size) {
    chosen.push(i);
    have.add(c);
  }
}
const labelsJson = chosen.map((i) => {
  const label = test.labels[i];
  const file = `${String(i).padStart(4, '0')}_${slug(CLASSES[label])}.png`;
  const img = test.pixels.slice(i * 784, (i + 1) * 784);
  writeFileSync(path.join(samplesDir, file), encodePng({ width: 28, height: 28, data: img, channels: 1, depth: 8 }));
  const predicted = argmax(testProbs, i * 10);
  return {
    file, label, className: CLASSES[label], testIndex: i,
    predicted, predictedClassName: CLASSES[predicted], correct: predicted === label,
    probability: Number(testProbs[i * 10 + predicted].toFixed(4)),
  };
});
writeFileSync(path.join(samplesDir, 'labels.json'), JSON.stringify(labelsJson, null, 2) + '\n');
const wrong = labelsJson.filter((s) => !s.correct);
log(`samples: ${labelsJson.length} written, ${wrong.length} misclassified: ${wrong.map((s) => `${s.file} -> ${s.predictedClassName}`).join(', ') || 'none'}`);

// ---------------------------------------------------------------- metadata
let debVersion = null;
try {
  debVersion = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'dataset-fashion-mnist'], { encoding: 'utf8' });
} catch { /* not a dpkg system */ }
const files = {};
for (const rel of ['tfjs/model.json', 'tfjs/group1-shard1of1.bin', 'model.onnx']) {
  const buf = readFileSync(path.join(outDir, rel));
  files[rel] = { bytes: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
}
const metadata = {
  name: 'fashion-mnist-cnn',
  classes: CLASSES,
  input: {
    tfjs: { layout: 'NHWC', shape: [null, 28, 28, 1], name: model.inputs[0].name },
    onnx: { layout: 'NCHW', shape: ['N', 1, 28, 28], name: 'input' },
    dtype: 'float32',
    range: [0, 1],
    scale: '1/255',
  },
  output: {
    tfjs: 'softmax probabilities [N,10] (layer dense2)',
    onnx: "'output' = Softmax(logits) [N,10]; pre-softmax tensor is named 'logits'",
  },
  architecture: 'Conv2D(16,3x3,same,relu) MaxPool(2) Conv2D(32,3x3,same,relu) MaxPool(2) Flatten Dense(64,relu) Dense(10,softmax)',
  parameters: model.countParams(),
  testAccuracy: Number(testAccuracy.toFixed(4)),
  testCorrect: correct,
  testSize: test.n,
  trainedOn: `Fashion-MNIST training set, first ${nTrain} of ${train.n} images (Debian package dataset-fashion-mnist${debVersion ? ` ${debVersion}` : ''})`,
  epochs: epochsDone,
  epochsRequested: opts.epochs,
  batchSize: opts.batch,
  optimizer: `adam(lr=${opts.lr})`,
  seed: opts.seed,
  backend: tf.getBackend(),
  tfjsVersion: tf.version.tfjs,
  trainSeconds: Math.round(trainSeconds),
  history: history.map((h) => ({
    epoch: h.epoch, loss: +h.loss.toFixed(4), trainAccuracy: +h.trainAccuracy.toFixed(4),
    testAccuracy: +h.testAccuracy.toFixed(4), seconds: Math.round(h.seconds),
  })),
  onnxTwin: {
    opset: 13,
    verifiedImages: nVerify,
    maxAbsLogitDiffVsTfjs: Number(maxLogitDiff.toExponential(3)),
    maxAbsProbDiffVsTfjs: Number(maxProbDiff.toExponential(3)),
    argmaxMismatches: argmaxMismatch,
    referenceAccuracy: Number((refCorrect / nVerify).toFixed(4)),
    onnxruntimeWebCheck: ortCheck,
  },
  samples: { count: labelsJson.length, misclassified: wrong.map((s) => s.file) },
  files,
  command: COMMAND,
};
writeFileSync(path.join(outDir, 'metadata.json'), JSON.stringify(metadata, null, 2) + '\n');
for (const f of [...Object.keys(files), 'metadata.json']) log(`  ${f}: ${statSync(path.join(outDir, f)).size} bytes`);
log(`samples dir: ${readdirSync(samplesDir).length} files`);
log(`done in ${((Date.now() - tStart) / 1000).toFixed(0)} s`);
