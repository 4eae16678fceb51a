/**
 * A deliberately plain, float64 forward pass over the IR, for tests only: it checks that an
 * importer's graph computes what the source model computes. Semantics follow PyTorch:
 * cross-correlation with zero padding; max pooling pads with −∞; average pooling divides by the
 * window clipped to the padded input (countIncludePad) or to the real input.
 */
import type { Graph, GraphNode } from '../../src/graph/ir.js';

export interface Tensor {
  shape: number[]; // per sample
  data: Float64Array; // [n, ...shape]
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

function outSize(i: number, k: number, s: number, d: number, p0: number, p1: number, ceil: boolean): number {
  const span = i + p0 + p1 - ((k - 1) * d + 1);
  let o = ceil ? Math.ceil(span / s) + 1 : Math.floor(span / s) + 1;
  if (ceil && (o - 1) * s >= i + p0) o -= 1;
  return o;
}

function evalNode(node: GraphNode, ins: Tensor[], n: number): Tensor {
  const x = ins[0];
  switch (node.op) {
    case 'dense': {
      const { inFeatures: I, outFeatures: O, weight: w, bias: b } = node;
      if (prod(x.shape) !== I) throw new Error(`${node.name}: input ${x.shape} vs ${I}`);
      const y = new Float64Array(n * O);
      for (let s = 0; s < n; s++)
        for (let o = 0; o < O; o++) {
          let acc = b ? b[o] : 0;
          for (let i = 0; i < I; i++) acc += x.data[s * I + i] * w[o * I + i];
          y[s * O + o] = acc;
        }
      return { shape: [O], data: y };
    }
    case 'conv2d': {
      const [C, H, W] = x.shape;
      const { outChannels: O, kernel: [KH, KW], stride: [SH, SW], padding: [PT, PL, PB, PR], dilation: [DH, DW], groups: G } = node;
      if (C !== node.inChannels) throw new Error(`${node.name}: channels ${C} vs ${node.inChannels}`);
      const OH = outSize(H, KH, SH, DH, PT, PB, false);
      const OW = outSize(W, KW, SW, DW, PL, PR, false);
      const cg = C / G, og = O / G;
      const y = new Float64Array(n * O * OH * OW);
      for (let s = 0; s < n; s++)
        for (let o = 0; o < O; o++) {
          const g = Math.floor(o / og);
          for (let oy = 0; oy < OH; oy++)
            for (let ox = 0; ox < OW; ox++) {
              let acc = node.bias ? node.bias[o] : 0;
              for (let i = 0; i < cg; i++)
                for (let ky = 0; ky < KH; ky++) {
                  const iy = oy * SH - PT + ky * DH;
                  if (iy < 0 || iy >= H) continue;
                  for (let kx = 0; kx < KW; kx++) {
                    const ix = ox * SW - PL + kx * DW;
                    if (ix < 0 || ix >= W) continue;
                    acc += x.data[((s * C + g * cg + i) * H + iy) * W + ix] * node.weight[((o * cg + i) * KH + ky) * KW + kx];
                  }
                }
              y[((s * O + o) * OH + oy) * OW + ox] = acc;
            }
        }
      return { shape: [O, OH, OW], data: y };
    }
    case 'maxpool2d':
    case 'avgpool2d': {
      const [C, H, W] = x.shape;
      const { kernel: [KH, KW], stride: [SH, SW], padding: [PT, PL, PB, PR], ceilMode } = node;
      const [DH, DW] = node.op === 'maxpool2d' ? node.dilation : [1, 1];
      const OH = outSize(H, KH, SH, DH, PT, PB, ceilMode);
      const OW = outSize(W, KW, SW, DW, PL, PR, ceilMode);
      const y = new Float64Array(n * C * OH * OW);
      for (let s = 0; s < n; s++)
        for (let c = 0; c < C; c++)
          for (let oy = 0; oy < OH; oy++)
            for (let ox = 0; ox < OW; ox++) {
              let acc = node.op === 'maxpool2d' ? -Infinity : 0;
              let count = 0;
              for (let ky = 0; ky < KH; ky++) {
                const iy = oy * SH - PT + ky * DH;
                if (iy < 0 || iy >= H) continue;
                for (let kx = 0; kx < KW; kx++) {
                  const ix = ox * SW - PL + kx * DW;
                  if (ix < 0 || ix >= W) continue;
                  const v = x.data[((s * C + c) * H + iy) * W + ix];
                  if (node.op === 'maxpool2d') acc = Math.max(acc, v);
                  else acc += v;
                  count++;
                }
              }
              if (node.op === 'avgpool2d') {
                let div = count;
                if (node.divisorOverride) div = node.divisorOverride;
                else if (node.countIncludePad) {
                  const y0 = oy * SH - PT, x0 = ox * SW - PL;
                  const y1 = Math.min(y0 + KH, H + PB), x1 = Math.min(x0 + KW, W + PR);
                  div = (y1 - y0) * (x1 - x0);
                }
                acc /= div;
              }
              y[((s * C + c) * OH + oy) * OW + ox] = acc;
            }
      return { shape: [C, OH, OW], data: y };
    }
    case 'globalavgpool': {
      const [C, H, W] = x.shape;
      const y = new Float64Array(n * C);
      for (let s = 0; s < n; s++)
        for (let c = 0; c < C; c++) {
          let acc = 0;
          for (let i = 0; i < H * W; i++) acc += x.data[(s * C + c) * H * W + i];
          y[s * C + c] = acc / (H * W);
        }
      return { shape: [C, 1, 1], data: y };
    }
    case 'batchnorm': {
      const C = x.shape[0];
      const inner = prod(x.shape.slice(1));
      const y = new Float64Array(x.data.length);
      for (let s = 0; s < n; s++)
        for (let c = 0; c < C; c++) {
          const k = node.weight[c] / Math.sqrt(node.runningVar[c] + node.eps);
          for (let i = 0; i < inner; i++) {
            const at = (s * C + c) * inner + i;
            y[at] = (x.data[at] - node.runningMean[c]) * k + node.bias[c];
          }
        }
      return { shape: x.shape.slice(), data: y };
    }
    case 'relu':
      return { shape: x.shape.slice(), data: x.data.map((v) => (v > 0 ? v : 0)) };
    case 'flatten':
      return { shape: [prod(x.shape)], data: x.data };
    case 'reshape':
      return { shape: node.shape.slice(), data: x.data };
    case 'identity':
    case 'dropout':
      return x;
    case 'softmax': {
      const F = x.shape[0];
      const y = new Float64Array(x.data.length);
      for (let s = 0; s < n; s++) {
        let m = -Infinity;
        for (let i = 0; i < F; i++) m = Math.max(m, x.data[s * F + i]);
        let z = 0;
        for (let i = 0; i < F; i++) z += Math.exp(x.data[s * F + i] - m);
        for (let i = 0; i < F; i++) y[s * F + i] = Math.exp(x.data[s * F + i] - m) / z;
      }
      return { shape: x.shape.slice(), data: y };
    }
    case 'add': {
      const y = new Float64Array(x.data.length);
      for (const t of ins) for (let i = 0; i < y.length; i++) y[i] += t.data[i];
      return { shape: x.shape.slice(), data: y };
    }
    case 'concat': {
      const a = node.axis;
      const outer = prod(x.shape.slice(0, a));
      const shape = x.shape.slice();
      shape[a] = ins.reduce((s, t) => s + t.shape[a], 0);
      const size = prod(shape);
      const y = new Float64Array(n * size);
      for (let s = 0; s < n; s++)
        for (let o = 0; o < outer; o++) {
          let at = s * size + o * prod(shape.slice(a));
          for (const t of ins) {
            const chunk = prod(t.shape.slice(a));
            const src = s * prod(t.shape) + o * chunk;
            y.set(t.data.subarray(src, src + chunk), at);
            at += chunk;
          }
        }
      return { shape, data: y };
    }
  }
}

/** Runs the graph on `input` ([n, ...graph.inputShape], NCHW); returns every node's output. */
export function evaluate(graph: Graph, input: ArrayLike<number>, n: number): Map<string, Tensor> {
  const values = new Map<string, Tensor>([['input', { shape: graph.inputShape.slice(), data: Float64Array.from(input) }]]);
  if (input.length !== n * prod(graph.inputShape)) throw new Error('input size');
  for (const node of graph.nodes) {
    const ins = node.inputs.map((i) => {
      const t = values.get(i);
      if (!t) throw new Error(`${node.name}: missing input ${i}`);
      return t;
    });
    values.set(node.name, evalNode(node, ins, n));
  }
  return values;
}

/** NHWC [n, H, W, C] → NCHW [n, C, H, W]. */
export function nhwcToNchw(x: ArrayLike<number>, n: number, h: number, w: number, c: number): Float64Array {
  const y = new Float64Array(n * c * h * w);
  for (let s = 0; s < n; s++)
    for (let yy = 0; yy < h; yy++)
      for (let xx = 0; xx < w; xx++)
        for (let ch = 0; ch < c; ch++) y[((s * c + ch) * h + yy) * w + xx] = x[((s * h + yy) * w + xx) * c + ch];
  return y;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
