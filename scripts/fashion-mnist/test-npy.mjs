#!/usr/bin/env node
// Writes the first N Fashion-MNIST test images as one float32 .npy [N, 28, 28, 1] (NHWC, pixel / 255),
// the input of `lrp evaluate` on the bundled TF.js model, and their labels as a .json list beside it.
//
// Usage: node scripts/fashion-mnist/test-npy.mjs [--count 1000] [--data-dir DIR] [--out FILE]
// Data: Debian package dataset-fashion-mnist (apt-get install -y dataset-fashion-mnist).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readIdx } from './idx.mjs';
import { writeNpy } from '../../dist/io/npy.js';

const opts = { count: '1000', 'data-dir': '/usr/share/datasets/fashion-mnist', out: 'out/fashion-mnist-test-1000.npy' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
  if (!m || !(m[1] in opts)) throw new Error(`unknown argument ${argv[i]} (options: --count, --data-dir, --out)`);
  opts[m[1]] = m[2] ?? argv[++i];
}
const count = Number(opts.count);
let images;
let labels;
try {
  images = readIdx(path.join(opts['data-dir'], 't10k-images-idx3-ubyte.gz'));
  labels = readIdx(path.join(opts['data-dir'], 't10k-labels-idx1-ubyte.gz'));
} catch (e) {
  console.error(`cannot read the Fashion-MNIST test set in ${opts['data-dir']} (apt-get install -y dataset-fashion-mnist): ${e.message}`);
  process.exit(1);
}
const [n, h, w] = images.shape;
if (!Number.isInteger(count) || count < 1 || count > n) throw new Error(`--count must be 1..${n}, got ${opts.count}`);
const x = new Float32Array(count * h * w);
for (let i = 0; i < x.length; i++) x[i] = images.data[i] / 255;
mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
writeFileSync(opts.out, writeNpy(x, [count, h, w, 1]));
writeFileSync(opts.out.replace(/\.npy$/, '') + '.labels.json', JSON.stringify(Array.from(labels.data.subarray(0, count))));
console.log(`wrote ${opts.out}: ${count} test images [${count}, ${h}, ${w}, 1]`);
