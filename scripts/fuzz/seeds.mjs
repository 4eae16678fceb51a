/**
 * The fuzzer's seed models: real files from the repository in the three formats, read once.
 * A seed is { format, name, entry, files }: `files` maps a relative path to its bytes and `entry`
 * is the file loadModel() opens. Fixture files are stored gzipped (test/fixtures/README.md); the
 * lrp JSON parameter files are slices of the fixture's model.onnx (offsets in MANIFEST.json).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures');

const read = (...p) => new Uint8Array(readFileSync(path.join(...p)));
const readMaybeGz = (file) => {
  try {
    return read(file);
  } catch {
    return new Uint8Array(gunzipSync(readFileSync(`${file}.gz`)));
  }
};

function fixtureLrp(model) {
  const manifest = JSON.parse(readFileSync(path.join(FIXTURES, 'MANIFEST.json'), 'utf8')).models[model].kept;
  const onnx = readMaybeGz(path.join(FIXTURES, model, 'model.onnx'));
  const files = new Map([['model.json', read(FIXTURES, model, 'model.json')]]);
  for (const [rel, e] of Object.entries(manifest)) {
    if (!rel.startsWith('params/')) continue;
    if (e.in !== 'model.onnx') throw new Error(`fuzz seeds: ${model}/${rel} is not inside model.onnx`);
    files.set(rel, onnx.slice(e.offset, e.offset + e.bytes));
  }
  return { format: 'lrp-json', name: `${model} (lrp JSON)`, entry: 'model.json', files };
}

function tfjsFolder(dir, name) {
  const json = read(dir, 'model.json');
  const manifest = JSON.parse(new TextDecoder().decode(json)).weightsManifest;
  const files = new Map([['model.json', json]]);
  for (const group of manifest) for (const p of group.paths) files.set(p, readMaybeGz(path.join(dir, p)));
  return { format: 'tfjs', name, entry: 'model.json', files };
}

const onnxFile = (file, name) => ({ format: 'onnx', name, entry: 'model.onnx', files: new Map([['model.onnx', readMaybeGz(file)]]) });

/** Every seed, in a fixed order (the case number picks one). */
export function loadSeeds() {
  const fm = path.join(ROOT, 'models', 'fashion-mnist');
  return [
    onnxFile(path.join(fm, 'model.onnx'), 'fashion-mnist (ONNX)'),
    onnxFile(path.join(FIXTURES, 'cnn_bn', 'model.onnx'), 'cnn_bn (ONNX)'),
    onnxFile(path.join(FIXTURES, 'concat_net', 'model.onnx'), 'concat_net (ONNX)'),
    onnxFile(path.join(FIXTURES, 'resnet_mini', 'model.onnx'), 'resnet_mini (ONNX)'),
    fixtureLrp('cnn_bn'),
    fixtureLrp('concat_net'),
    fixtureLrp('resnet_mini'),
    fixtureLrp('cnn_strided'),
    tfjsFolder(path.join(fm, 'tfjs'), 'fashion-mnist (TF.js)'),
    tfjsFolder(path.join(FIXTURES, 'tfjs_cnn', 'tfjs'), 'tfjs_cnn (TF.js)'),
    tfjsFolder(path.join(FIXTURES, 'tfjs_residual', 'tfjs'), 'tfjs_residual (TF.js)'),
    tfjsFolder(path.join(FIXTURES, 'tfjs_mlp', 'tfjs'), 'tfjs_mlp (TF.js)'),
  ];
}
