// Small transformer graphs built by hand in the IR with seeded random weights: a 1-block ViT on a [3, 8, 8]
// image and a 1-block text model on token ids. Both follow the usual pre-norm block:
//   tokens → layernorm → attention (dense q, k, v; heads by reshape + transpose; q·kᵀ; scale; softmax;
//   ·v; heads back; dense) → residual add → layernorm → MLP (dense, GELU, dense) → residual add → head.
import { MODEL_INPUT, type Graph } from '../../src/graph/ir.js';
import { mulberry32, normal } from '../../src/evaluate/random.js';
import type { NodeF64 } from '../../src/reference/nodes-f64.js';

export interface TinyOptions {
  seed?: number;
  /** Drop every bias (dense, conv, layer norm) and the position embedding: the conserving variant. */
  biasFree?: boolean;
  /** GELU variant in the MLP. */
  gelu?: 'gelu' | 'gelu-tanh';
}

/** A graph the reference reads and the engine loads. */
export type TinyGraph = Graph;

class Builder {
  readonly nodes: NodeF64[] = [];
  private readonly gauss: () => number;
  constructor(
    seed: number,
    readonly biasFree: boolean,
  ) {
    this.gauss = normal(mulberry32(seed));
  }
  /** n values ~ N(0, scale²), rounded to float32 */
  rand(n: number, scale: number): Float32Array {
    return Float32Array.from({ length: n }, () => this.gauss() * scale);
  }
  add<N extends NodeF64>(node: N): string {
    this.nodes.push(node);
    return node.name;
  }
  dense(name: string, input: string, inF: number, outF: number): string {
    return this.add({ op: 'dense', name, inputs: [input], inFeatures: inF, outFeatures: outF, weight: this.rand(outF * inF, 1 / Math.sqrt(inF)), bias: this.biasFree ? null : this.rand(outF, 0.1) });
  }
  layerNorm(name: string, input: string, D: number): string {
    const weight = Float32Array.from(this.rand(D, 0.2), (v) => 1 + v);
    return this.add({ op: 'layernorm', name, inputs: [input], features: D, epsilon: 1e-5, weight, bias: this.biasFree ? null : this.rand(D, 0.1) });
  }
  /** One pre-norm encoder block over [T, D] with H heads; returns the block's output tensor. */
  block(x: string, T: number, D: number, H: number, F: number, gelu: 'gelu' | 'gelu-tanh'): string {
    const dh = D / H;
    const ln1 = this.layerNorm('ln1', x, D);
    const q = this.dense('q', ln1, D, D);
    const k = this.dense('k', ln1, D, D);
    const v = this.dense('v', ln1, D, D);
    const heads = (name: string, t: string, perm: number[]) =>
      this.add({ op: 'transpose', name: `${name}_heads`, perm, inputs: [this.add({ op: 'reshape', name: `${name}_split`, inputs: [t], shape: [T, H, dh] })] });
    const qh = heads('q', q, [1, 0, 2]); // [H, T, dh]
    const kt = heads('k', k, [1, 2, 0]); // [H, dh, T]
    const vh = heads('v', v, [1, 0, 2]); // [H, T, dh]
    const scores = this.add({ op: 'matmul', name: 'scores', inputs: [qh, kt] }); // [H, T, T]
    const scaled = this.add({ op: 'affine', name: 'scale', inputs: [scores], scale: Float32Array.of(1 / Math.sqrt(dh)), shift: Float32Array.of(0) });
    const attn = this.add({ op: 'softmax', name: 'attn', inputs: [scaled] });
    const ctx = this.add({ op: 'matmul', name: 'context', inputs: [attn, vh] }); // [H, T, dh]
    const merged = this.add({
      op: 'reshape', name: 'merge', shape: [T, D],
      inputs: [this.add({ op: 'transpose', name: 'unheads', perm: [1, 0, 2], inputs: [ctx] })],
    });
    const o = this.dense('out_proj', merged, D, D);
    const r1 = this.add({ op: 'add', name: 'residual1', inputs: [x, o] });
    const ln2 = this.layerNorm('ln2', r1, D);
    const up = this.dense('mlp_up', ln2, D, F);
    const act = this.add({ op: 'activation', name: 'mlp_act', fn: gelu, inputs: [up] });
    const down = this.dense('mlp_down', act, F, D);
    return this.add({ op: 'add', name: 'residual2', inputs: [r1, down] });
  }
  graph(name: string, inputShape: number[], output: string): TinyGraph {
    return { name, inputShape, inputLayout: 'NCHW', nodes: this.nodes, output, notes: [], format: 'lrp-json' };
  }
}

export const VIT = { C: 3, S: 8, P: 4, D: 8, H: 2, F: 16, classes: 5 };

/**
 * 1-block ViT: [3, 8, 8] → conv 4x4 stride 4 (patch embedding) → [D, 2, 2] → tokens [4, D] → class token
 * (constant, concat) → [5, D] → + position embedding (constant) → block → class token → dense head.
 */
export function tinyVit(opts: TinyOptions = {}): TinyGraph {
  const { C, S, P, D, H, F, classes } = VIT;
  const b = new Builder(opts.seed ?? 1, opts.biasFree ?? false);
  const patches = (S / P) ** 2, T = patches + 1;
  const conv = b.add({
    op: 'conv2d', name: 'patch', inputs: [MODEL_INPUT], inChannels: C, outChannels: D, kernel: [P, P], stride: [P, P],
    padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1, weight: b.rand(D * C * P * P, 1 / Math.sqrt(C * P * P)), bias: b.biasFree ? null : b.rand(D, 0.1),
  });
  const flat = b.add({ op: 'reshape', name: 'patch_flat', inputs: [conv], shape: [D, patches] });
  const tokens = b.add({ op: 'transpose', name: 'patch_tokens', inputs: [flat], perm: [1, 0] });
  const cls = b.add({ op: 'constant', name: 'cls_token', inputs: [], shape: [1, D], value: b.rand(D, 0.5) });
  let x = b.add({ op: 'concat', name: 'with_cls', inputs: [cls, tokens], axis: 0 });
  if (!b.biasFree) {
    const pos = b.add({ op: 'constant', name: 'pos_embed', inputs: [], shape: [T, D], value: b.rand(T * D, 0.5) });
    x = b.add({ op: 'add', name: 'add_pos', inputs: [x, pos] });
  }
  const y = b.block(x, T, D, H, F, opts.gelu ?? 'gelu');
  const clsOut = b.add({ op: 'slice', name: 'cls_out', inputs: [y], axis: 0, start: 0, end: 1, step: 1 }); // [1, D]
  const head = b.dense('head', clsOut, D, classes); // [1, classes]
  const logits = b.add({ op: 'reshape', name: 'logits', inputs: [head], shape: [classes] });
  return b.graph('tiny-vit', [C, S, S], logits);
}

export const TEXT = { T: 6, vocab: 11, D: 8, H: 2, F: 16, classes: 3 };

/**
 * 1-block text model: ids [T] → embedding [T, D] → + position embedding (constant) → block → mean over
 * the tokens (transpose to [D, T, 1], global average pool) → dense head.
 */
export function tinyText(opts: TinyOptions = {}): TinyGraph {
  const { T, vocab, D, H, F, classes } = TEXT;
  const b = new Builder(opts.seed ?? 2, opts.biasFree ?? false);
  let x = b.add({ op: 'embedding', name: 'embed', inputs: [MODEL_INPUT], vocab, dim: D, table: b.rand(vocab * D, 1) });
  if (!b.biasFree) {
    const pos = b.add({ op: 'constant', name: 'pos_embed', inputs: [], shape: [T, D], value: b.rand(T * D, 0.5) });
    x = b.add({ op: 'add', name: 'add_pos', inputs: [x, pos] });
  }
  const y = b.block(x, T, D, H, F, opts.gelu ?? 'gelu');
  const cols = b.add({ op: 'transpose', name: 'features_first', inputs: [y], perm: [1, 0] }); // [D, T]
  const img = b.add({ op: 'reshape', name: 'as_image', inputs: [cols], shape: [D, T, 1] });
  const mean = b.add({ op: 'globalavgpool', name: 'mean_tokens', inputs: [img] }); // [D, 1, 1]
  const flat = b.add({ op: 'flatten', name: 'pooled', inputs: [mean] });
  const head = b.dense('head', flat, D, classes);
  return b.graph('tiny-text', [T], head);
}

/** n seeded samples for a graph: images in [0, 1) or token ids in [0, vocab). */
export function tinyInputs(kind: 'vit' | 'text', n: number, seed = 7): Float32Array {
  const u = mulberry32(seed);
  if (kind === 'vit') return Float32Array.from({ length: n * VIT.C * VIT.S * VIT.S }, () => u());
  return Float32Array.from({ length: n * TEXT.T }, () => Math.floor(u() * TEXT.vocab));
}
