// The relevance buffers share one slab by liveness (src/engine/tensors.ts, planRelevance). Two tensors whose
// relevance is live at the same node of the backward walk must never share bytes; this checks it on every
// architecture fixture (residual forks, concats, gates, views) and checks that sharing actually saves memory.
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/index.js';
import { aliasRoots, planRelevance } from '../../src/engine/tensors.js';
import { MODEL_INPUT, type Graph } from '../../src/graph/ir.js';
import { inferShapes, size } from '../../src/graph/shapes.js';
import { archEntries, archOnnx } from '../helpers/arch.js';

/** [first, last] node index at which each root tensor's relevance is live (computed here independently). */
function liveness(graph: Graph): Map<string, [number, number]> {
  const roots = aliasRoots(graph);
  const live = new Map<string, [number, number]>([[MODEL_INPUT, [-1, -1]]]);
  graph.nodes.forEach((node, i) => {
    if (roots.get(node.name) === node.name) live.set(node.name, [i, i]);
    for (const input of node.inputs) {
      const l = live.get(roots.get(input)!)!;
      l[1] = Math.max(l[1], i);
    }
  });
  live.get(roots.get(graph.output)!)![1] = Infinity;
  return live;
}

describe('relevance plan', () => {
  const entries = archEntries().filter((e) => e.dynamic);
  it.each(entries.map((e) => [e.name]))('%s: buffers live at the same time never overlap, and sharing saves memory', async (name) => {
    const model = await loadModel(archOnnx(name));
    const graph = (model as unknown as { engine: { graph: Graph } }).engine.graph;
    const shapes = inferShapes(graph);
    for (const capacity of [1, 3]) {
      const plan = planRelevance(graph, shapes, capacity);
      const live = liveness(graph);
      expect([...plan.offsets.keys()].sort()).toEqual([...live.keys()].sort());
      const spans = [...live.entries()].map(([t, [from, to]]) => {
        const at = plan.offsets.get(t)!;
        expect(at % 16).toBe(0);
        return { t, from, to, at, end: at + size(shapes.get(t)!) * capacity * 4 };
      });
      for (const s of spans) expect(s.end).toBeLessThanOrEqual(plan.slabBytes);
      for (let i = 0; i < spans.length; i++)
        for (let j = i + 1; j < spans.length; j++) {
          const [a, b] = [spans[i], spans[j]];
          const together = a.from <= b.to && b.from <= a.to;
          const overlap = a.at < b.end && b.at < a.end;
          if (together && overlap) throw new Error(`${name}: '${a.t}' and '${b.t}' are live together and share bytes`);
        }
      expect(plan.slabBytes).toBeLessThanOrEqual(plan.unsharedBytes);
      // deep nets keep only a few layers' relevance at a time
      if (/^(resnet|densenet|mobilenet|efficientnet|regnet)/.test(name)) expect(plan.slabBytes).toBeLessThan(plan.unsharedBytes / 2);
    }
    model.dispose();
  });

  it('per-layer relevance (layers: true) is the same in a second call, after the buffers were reused', async () => {
    const model = await loadModel(archOnnx('resnet18'));
    const x = new Float32Array(2 * model.inputSize).map((_, i) => ((i * 7919) % 101) / 101);
    const a = model.explain(x, { composite: 'epsilon-plus', layers: true });
    const b = model.explain(x.map((v) => 1 - v), { composite: 'epsilon-plus', layers: true });
    const c = model.explain(x, { composite: 'epsilon-plus', layers: true });
    expect(Object.keys(c.layers!)).toEqual(Object.keys(a.layers!));
    for (const k of Object.keys(a.layers!)) expect(c.layers![k]).toEqual(a.layers![k]);
    expect(c.relevance).toEqual(a.relevance);
    expect(b.relevance).not.toEqual(a.relevance);
    model.dispose();
  });
});
