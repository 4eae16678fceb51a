/**
 * Byte pointers are unsigned: with the workspace placed above 2 GiB of linear memory (where a signed
 * `p >> 2` turns negative), predict and explain give exactly the numbers of a model whose buffers
 * sit low. The parameters live low, the workspace high: both halves of the address space are used.
 */
import { describe, expect, it } from 'vitest';
import { loadModel, rules, type Model } from '../src/index.js';
import { archInputs, archOnnx } from './helpers/arch.js';

const GIB = 2 ** 30;

describe('linear memory above 2 GiB', () => {
  it('explains a model whose workspace lives above 2^31 bytes exactly like one below', async () => {
    const bytes = archOnnx('efficientnet_b0');
    const x = archInputs();
    const low = await loadModel(bytes);
    const high = await loadModel(bytes);
    const mem = (m: Model) => (m as unknown as { engine: { backend: { memory: { alloc(b: number): number; free(p: number): void; byteLength(): number } } } }).engine.backend.memory;
    // push the arena's top past 2 GiB before the first call creates the workspace
    const filler = mem(high).alloc(2 * GIB + 64 * 2 ** 20);
    expect(filler + 2 * GIB).toBeGreaterThan(2 ** 31);
    const want = low.explain(x, { composite: 'epsilon-gamma-box', low: 0, high: 1 });
    const got = high.explain(x, { composite: 'epsilon-gamma-box', low: 0, high: 1 });
    expect(mem(high).byteLength()).toBeGreaterThan(2 * GIB);
    expect(Array.from(got.logits)).toEqual(Array.from(want.logits));
    expect(Array.from(got.relevance)).toEqual(Array.from(want.relevance));
    const g1 = low.attribute(x, { method: 'gradient' });
    const g2 = high.attribute(x, { method: 'gradient' });
    expect(Array.from(g2.relevance)).toEqual(Array.from(g1.relevance));
    expect(Array.from(high.predict(x))).toEqual(Array.from(low.predict(x)));
    const r = high.explain(x, { rule: rules.zPlus(), layers: true });
    expect(Object.values(r.layers!).every((a) => a.every(Number.isFinite))).toBe(true);
    low.dispose();
    high.dispose();
  }, 120_000);
});
