// Micro-benchmark of the layout and activation kernels (activations, PReLU, channel gate, strided gather/scatter).
// Per kernel: the median CPU time (user + system of this process, so that other processes competing for the 2 cores
// do not inflate long calls more than short ones) of many runs on one MobileNet-sized tensor (32 x 112 x 112
// floats), reported as ns per element and as ratios to peers measured in the same run:
//   * relu_f32, this module's cheapest element-wise kernel (the memory-bound floor), and
//   * TF.js on its WASM backend (SIMD, one thread), where it has the same op.
// Usage (after `npm run build`): node bench/kernels.mjs [--variant auto|simd|relaxed|scalar] [--runs 41] [--out FILE]
import { writeFileSync } from 'node:fs';
import { createWasmBackend } from '../dist/wasm/index.js';
import { ActKind } from '../dist/kernels/abi.js';
import { makeStrideDesc } from '../dist/kernels/stride-desc.js';
import { initTfjs } from './peers.mjs';
import { cpuMedianPerElement } from './timing.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Math.max(11, Number(opt('runs', 41)));
const be = createWasmBackend({ variant: opt('variant', 'auto') });
const { tf, info } = await initTfjs();

const C = 32, H = 112, W = 112, LEN = C * H * W;

const median = (fn) => cpuMedianPerElement(fn, RUNS, LEN);

const mem = be.memory, k = be.kernels;
const x = mem.alloc(LEN * 4), g = mem.alloc(LEN * 4), y = mem.alloc(LEN * 4);
const fill = (p, lo, hi, seed) => {
  const f = mem.f32();
  let s = seed;
  for (let i = 0; i < LEN; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    f[(p >>> 2) + i] = lo + ((hi - lo) * s) / 4294967296;
  }
};
fill(x, -6, 6, 1);
fill(g, -1, 1, 2);
const slope = mem.alloc(C * 4), gate = mem.alloc(C * 4), dots = mem.alloc(C * 4);
mem.f32().fill(0.25, slope >>> 2, (slope >>> 2) + C);
mem.f32().fill(0.5, gate >>> 2, (gate >>> 2) + C);

const xt = tf.tensor4d(mem.f32().slice(x >>> 2, (x >>> 2) + LEN), [1, C, H, W]);
const gt = tf.tensor4d(mem.f32().slice(g >>> 2, (g >>> 2) + LEN), [1, C, H, W]);
const slopeT = tf.fill([1, C, 1, 1], 0.25), gateT = tf.fill([1, C, 1, 1], 0.5);
const tfRun = (op) => () => tf.tidy(op).dispose();

const relu = median(() => k.relu(x, y, LEN));
const rows = [];
const row = (name, ns, tfNs) => rows.push({ name, ns, tfNs });

const P = {
  CLIP: [0, 6, 0], LEAKY_RELU: [0.01, 0, 0], ELU: [1, 0, 0], SELU: [1.6732632, 1.050701, 0],
  HARD_SIGMOID: [1 / 6, 0.5, 0], TF_RELU: [0.1, 6, 0.5],
};
const TF_FORWARD = {
  CLIP: () => tf.relu6(xt), LEAKY_RELU: () => tf.leakyRelu(xt, 0.01), ELU: () => tf.elu(xt), SELU: () => tf.selu(xt),
  SIGMOID: () => tf.sigmoid(xt), TANH: () => tf.tanh(xt), SOFTPLUS: () => tf.softplus(xt), ERF: () => tf.erf(xt),
  SILU: () => tf.mul(xt, tf.sigmoid(xt)),
};
for (const [name, kind] of Object.entries(ActKind)) {
  const [a, b, c] = P[name] ?? [0, 0, 0];
  row(`${name} forward`, median(() => k.activationForward(kind, x, y, LEN, a, b, c)),
    TF_FORWARD[name] ? median(tfRun(TF_FORWARD[name])) : undefined);
}
for (const [name, kind] of Object.entries(ActKind)) {
  const [a, b, c] = P[name] ?? [0, 0, 0];
  row(`${name} gradient`, median(() => k.activationGradient(kind, x, g, y, LEN, a, b, c)));
}
row('preluForward', median(() => k.preluForward(x, slope, y, 1, C, H * W)), median(tfRun(() => tf.prelu(xt, slopeT))));
row('preluGradient', median(() => k.preluGradient(x, slope, g, y, 1, C, H * W)));
row('channelMul', median(() => k.channelMul(x, gate, y, 1, C, H * W)), median(tfRun(() => tf.mul(xt, gateT))));
row('channelDot', median(() => k.channelDot(x, g, dots, 1, C, H * W, 0)), median(tfRun(() => tf.sum(tf.mul(xt, gt), [2, 3]))));

// layout ops through the strided descriptor
const shape = [C, H, W], rs = [H * W, W, 1];
const descOf = (layout) => {
  const d = mem.alloc(64);
  mem.i32().set(makeStrideDesc(layout), d >>> 2);
  return d;
};
const toNHWC = descOf({ inSize: LEN, dims: [H, W, C], strides: [rs[1], rs[2], rs[0]] });
const shuffle = descOf({ inSize: LEN, dims: [4, 8, H, W], strides: [H * W, 4 * H * W, W, 1] });
const half = descOf({ inSize: LEN, dims: [C, H / 2, W / 2], strides: [H * W, 2 * W, 2] }); // x[:, ::2, ::2]
const upLen = C * (H / 2) * (W / 2); // nearest x2 upsampling of a [C, 56, 56] tensor back to [C, 112, 112]
const up = descOf({ inSize: upLen, dims: [C, H / 2, 2, W / 2, 2], strides: [(H / 2) * (W / 2), W / 2, 0, 1, 0] });
row('gather: transpose CHW -> HWC', median(() => k.stridedGather(toNHWC, x, y, 1)), median(tfRun(() => tf.transpose(xt, [0, 2, 3, 1]))));
row('gather: channel shuffle (g = 4)', median(() => k.stridedGather(shuffle, x, y, 1)),
  median(tfRun(() => tf.transpose(tf.reshape(xt, [1, 4, 8, H, W]), [0, 2, 1, 3, 4]))));
row('gather: slice [:, ::2, ::2] (per output)', median(() => k.stridedGather(half, x, y, 1)) * 4,
  median(tfRun(() => tf.stridedSlice(xt, [0, 0, 0, 0], [1, C, H, W], [1, 1, 2, 2]))) * 4);
const small = tf.tensor4d(mem.f32().slice(x >>> 2, (x >>> 2) + upLen), [1, H / 2, W / 2, C]);
row('gather: nearest upsampling x2 (per output)', median(() => k.stridedGather(up, x, y, 1)),
  median(tfRun(() => tf.image.resizeNearestNeighbor(small, [H, W]))));
row('scatterAdd: transpose HWC -> CHW', median(() => k.stridedScatterAdd(toNHWC, g, y, 1)));
row('scatterAdd: nearest upsampling x2 (per output)', median(() => k.stridedScatterAdd(up, g, y, 1)));

const f = (v) => (v === undefined ? '' : v.toFixed(2));
const lines = [
  `# Layout and activation kernels (bench/kernels.mjs)`,
  '',
  `${be.name}, one tensor of ${C}x${H}x${W} floats, median CPU time of ${RUNS} runs, ns per element. ` +
    `Peers in the same run: relu_f32 (${relu.toFixed(2)} ns/element) and TF.js ${info.version} ` +
    `(${info.backend}, SIMD ${info.simd}, ${info.threads} thread; its times include op dispatch and the output allocation).`,
  '',
  '| kernel | ns/element | x relu | TF.js ns/element | TF.js / ours |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.name} | ${f(r.ns)} | ${f(r.ns / relu)} | ${f(r.tfNs)} | ${r.tfNs ? f(r.tfNs / r.ns) : ''} |`),
  '',
];
const text = lines.join('\n');
console.log(text);
const out = opt('out');
if (out) writeFileSync(out, text);
