// The rules' scratch buffers: x⁺ and x⁻ sized to the layer that splits its input (not to the largest input),
// growing once when a larger layer asks; the b term of a pair of forwards borrowing the quotient's buffer.
// Checked on the numbers (float64 reference) and on the bytes the workspace holds.
import { describe, expect, it } from 'vitest';
import { createWasmBackend } from '../../src/wasm/index.js';
import { canonicalize, Model, type Graph } from '../../src/index.js';
import { parseRule, type Rule } from '../../src/rules.js';
import { referenceExplain } from '../../src/reference/attnlrp.js';
import { relDiff } from '../helpers/oracle.js';

const wave = (n: number, phase: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 2.399 + phase) * 0.3);
const dense = (name: string, input: string, inF: number, outF: number, k: number) =>
  ({ name, op: 'dense', inputs: [input], inFeatures: inF, outFeatures: outF, weight: wave(inF * outF, k), bias: wave(outF, k + 0.5) }) as const;

/**
 * No ReLU anywhere, so every layer's input has negatives and splits it. The backward walk meets fc3 first
 * (input 96 floats), then fc2 (input 40: the buffers fit), then fc1 (input 300: they grow to the largest).
 */
function signedMlp(): Graph {
  return canonicalize({
    name: 'signed-mlp',
    inputShape: [300],
    inputLayout: 'NCHW',
    inputRange: [-1, 1],
    nodes: [dense('fc1', 'input', 300, 40, 0.1), dense('fc2', 'fc1', 40, 96, 0.7), dense('fc3', 'fc2', 96, 5, 1.3)],
    output: 'fc3',
    notes: [],
    format: 'lrp-json',
  });
}

describe('rule scratch', () => {
  it.each(['zplus', 'alphabeta:2:1', 'gamma:0.25'])('%s on inputs with negatives at every layer matches the float64 reference', (spec) => {
    const graph = signedMlp();
    const model = new Model(graph, createWasmBackend());
    const n = 3;
    const x = Float32Array.from({ length: n * 300 }, (_, i) => Math.cos(i * 0.77) * 2);
    const got = model.explain(x, { rule: spec, batch: n });
    const rule: Rule = parseRule(spec);
    const ref = referenceExplain(graph, x, n, { rules: new Map(graph.nodes.map((node) => [node.name, rule])), targets: got.targets });
    expect(relDiff(got.relevance, ref.relevance)).toBeLessThan(1e-5);
    model.dispose();
  });

  it('a buffer asked for less than the largest input takes only that, and grows once to the largest size', () => {
    const model = new Model(signedMlp(), createWasmBackend());
    const engine = (model as unknown as { engine: { workspace(n: number): import('../../src/engine/tensors.js').Workspace } }).engine;
    const ws = engine.workspace(4);
    const mem = ws.backend.memory;
    const before = mem.used();
    const small = ws.scratchInSized(0, 4 * 40);
    expect(mem.used() - before).toBeLessThan(4 * 4 * 96); // 160 floats, not the largest input's 4 × 300
    expect(ws.scratchInSized(0, 4 * 40)).toBe(small);
    const grown = ws.scratchInSized(0, 4 * 96); // grows, straight to the largest size (maybe in place)
    expect(mem.used() - before).toBeGreaterThanOrEqual(4 * 4 * 300);
    expect(mem.used() - before).toBeLessThan(4 * 4 * (300 + 40) + 256); // the small block was given back
    expect(ws.scratchInSized(0, 4 * 300)).toBe(grown);
    expect(ws.scratchIn[0]).toBe(grown); // the unsized view is the same buffer
    model.dispose();
  });
});
