// Which conv layers may compute their own output on Winograd in an explain call (src/engine/rounding.ts),
// on hand-built graphs: a plain chain (VGG-like) and a residual block, under rule sets that allow it and
// under each thing that must block it.
import { describe, expect, it } from 'vitest';
import type { Assigned } from '../../src/engine/assign.js';
import { roundingLayers } from '../../src/engine/rounding.js';
import { MODEL_INPUT, type Graph, type GraphNode } from '../../src/graph/ir.js';
import { rules, type Rule } from '../../src/rules.js';

const conv = (name: string, input: string): GraphNode => ({
  op: 'conv2d', name, inputs: [input], inChannels: 4, outChannels: 4, kernel: [3, 3], stride: [1, 1], padding: [1, 1, 1, 1],
  dilation: [1, 1], groups: 1, weight: new Float32Array(144), bias: null,
});
const dense = (name: string, input: string, inF: number, outF: number): GraphNode => ({
  op: 'dense', name, inputs: [input], inFeatures: inF, outFeatures: outF, weight: new Float32Array(inF * outF), bias: null,
});
const relu = (name: string, input: string): GraphNode => ({ op: 'relu', name, inputs: [input] });
const graph = (nodes: GraphNode[]): Graph => ({ name: 't', inputShape: [4, 8, 8], inputLayout: 'NCHW', nodes, output: nodes[nodes.length - 1].name, notes: [], format: 'lrp-json' });

/** conv → relu → maxpool → conv → relu → avgpool → flatten → dense → relu → dense (cnn's layout, VGG's shape). */
const chain = graph([
  conv('c1', MODEL_INPUT),
  relu('r1', 'c1'),
  { op: 'maxpool2d', name: 'mp', inputs: ['r1'], kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0], dilation: [1, 1], ceilMode: false },
  conv('c2', 'mp'),
  relu('r2', 'c2'),
  { op: 'avgpool2d', name: 'ap', inputs: ['r2'], kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0], ceilMode: false, countIncludePad: true, divisorOverride: null },
  { op: 'flatten', name: 'fl', inputs: ['ap'] },
  dense('d1', 'fl', 16, 8),
  relu('r3', 'd1'),
  dense('d2', 'r3', 8, 3),
]);

/** Rules by op (the defaults of epsilon-plus), with per-node overrides. */
function assign(g: Graph, byOp: Record<string, Rule>, byName: Record<string, Rule> = {}): Map<string, Assigned> {
  const defaults: Record<string, Rule> = { conv2d: rules.zPlus(), dense: rules.epsilon(1e-6), relu: rules.pass(), maxpool2d: rules.gradient(), avgpool2d: rules.norm(), flatten: rules.gradient(), add: rules.norm() };
  return new Map(g.nodes.map((node) => [node.name, { rule: byName[node.name] ?? byOp[node.op] ?? defaults[node.op] }]));
}
const sorted = (s: Set<string>) => [...s].sort();

describe('roundingLayers on a plain chain', () => {
  it('epsilon-plus from the logit: both convs (the epsilon layers divide by what they pass on)', () => {
    expect(sorted(roundingLayers(chain, assign(chain, {}), true))).toEqual(['c1', 'c2']);
  });
  it("started from 'onehot' or given values: none (the output layer's relevance does not scale with its logit)", () => {
    expect(sorted(roundingLayers(chain, assign(chain, {}), false))).toEqual([]);
  });
  it('z⁺ on the dense layers too: both, whatever the start', () => {
    expect(sorted(roundingLayers(chain, assign(chain, { dense: rules.zPlus() }), false))).toEqual(['c1', 'c2']);
  });
  it('average pooling under the gradient before z⁺ convs: both (z⁺ divides by sign-definite sums)', () => {
    expect(sorted(roundingLayers(chain, assign(chain, { avgpool2d: rules.gradient() }), true))).toEqual(['c1', 'c2']);
  });
  it('an epsilon conv after average pooling under the gradient: not the conv before it', () => {
    const g = graph([...chain.nodes.slice(0, 6), conv('c3', 'ap'), relu('r4', 'c3'), { op: 'flatten', name: 'fl', inputs: ['r4'] }, dense('d2', 'fl', 16, 3)]);
    const a = assign(g, { avgpool2d: rules.gradient() }, { c3: rules.epsilon(1e-6) });
    // c3 divides by its z and its relevance is z₃ times a factor (the dense layer multiplies its input), so
    // the convs before it may round; the pooling's gradient reaches only c2, which does not read its z
    expect(sorted(roundingLayers(g, a, true))).toEqual(['c1', 'c2']);
    // a flat dense layer after it: c3's relevance no longer scales with z₃, so c3 blocks both
    const b = assign(g, { avgpool2d: rules.gradient() }, { c3: rules.epsilon(1e-6), d2: rules.flat() });
    expect(sorted(roundingLayers(g, b, true))).toEqual([]);
  });
  it('a flat, w² or zbox layer after an epsilon layer: none (their relevance is not their input times a factor)', () => {
    for (const r of [rules.flat(), rules.wSquare(), rules.gradient()])
      expect(sorted(roundingLayers(chain, assign(chain, {}, { d2: r }), true)), r.name).toEqual([]);
  });
  it('an epsilon conv never rounds itself; the conv before it does', () => {
    expect(sorted(roundingLayers(chain, assign(chain, {}, { c2: rules.epsilon(0.25) }), true))).toEqual(['c1']);
  });
  it('a gradient through a ReLU mask anywhere: none', () => {
    expect(sorted(roundingLayers(chain, assign(chain, {}, { r3: rules.gradient() }), true))).toEqual([]);
  });
});

describe('roundingLayers on a residual block', () => {
  // c1 → r1 ─┬─ c2 → add(norm) → r2 → c3 → r3 → flatten → dense
  //          └────────┘
  const g = graph([
    conv('c1', MODEL_INPUT),
    relu('r1', 'c1'),
    conv('c2', 'r1'),
    { op: 'add', name: 'add', inputs: ['r1', 'c2'] },
    relu('r2', 'add'),
    conv('c3', 'r2'),
    relu('r3', 'c3'),
    { op: 'flatten', name: 'fl', inputs: ['r3'] },
    dense('d', 'fl', 256, 3),
  ]);
  it('an add under the norm rule blocks the layers before it; the layers after it round', () => {
    expect(sorted(roundingLayers(g, assign(g, {}), true))).toEqual(['c3']);
  });
  it('without an epsilon layer after it the add still blocks (it divides by its sum)', () => {
    expect(sorted(roundingLayers(g, assign(g, { dense: rules.zPlus() }), true))).toEqual(['c3']);
  });
});
