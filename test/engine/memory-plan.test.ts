// model.memoryPlan(batch), loadModel({ memoryLimit }) and the automatic batch of calls without `batch`.
import { describe, expect, it } from 'vitest';
import { InputError, loadModel } from '../../src/index.js';
import { archOnnx } from '../helpers/arch.js';

const MiB = 2 ** 20;

describe('memory plan', () => {
  it('reports every part; the workspace parts grow linearly with the batch; caches appear once rules ran', async () => {
    const model = await loadModel(archOnnx('resnet18'));
    const p1 = model.memoryPlan(1);
    const p4 = model.memoryPlan(4);
    expect(p1.parameters).toBeGreaterThan(0);
    expect(p4.parameters).toBe(p1.parameters);
    for (const k of ['activations', 'relevanceUnshared'] as const) expect(p4[k]).toBeGreaterThanOrEqual(4 * p1[k] - 64);
    expect(p1.relevance).toBeLessThan(p1.relevanceUnshared);
    expect(p1.total).toBe(p1.parameters + p1.modifiedParameters + p1.constants + p1.activations + p1.relevance + p1.scratch);
    expect(p1.modifiedParameters).toBe(0);
    const x = new Float32Array(2 * model.inputSize).fill(0.5);
    model.explain(x, { composite: 'epsilon-plus' });
    const after = model.memoryPlan(2);
    // zplus on the convs caches W+ (as large as the conv weights)
    expect(after.modifiedParameters).toBeGreaterThan(0.5 * after.parameters);
    expect(after.linearMemory).toBeGreaterThanOrEqual(after.total - after.scratch);
    expect(() => model.memoryPlan(0)).toThrow(InputError);
    model.dispose();
  });

  it('without `batch`, calls run the largest chunk that fits in memoryLimit, with the same numbers', async () => {
    const big = await loadModel(archOnnx('efficientnet_b0'));
    const plan = big.memoryPlan(1);
    const perSample = big.memoryPlan(2).total - plan.total;
    // room for the parameters, one modified copy and about 3 samples
    const limit = plan.total + plan.parameters + 3 * perSample;
    const small = await loadModel(archOnnx('efficientnet_b0'), { memoryLimit: Math.max(limit, 16 * MiB) });
    const n = 12;
    const x = new Float32Array(n * big.inputSize).map((_, i) => ((i * 7919) % 97) / 97);
    const a = big.explain(x, { composite: 'epsilon-plus' });
    const b = small.explain(x, { composite: 'epsilon-plus' });
    expect(b.relevance).toEqual(a.relevance);
    expect(small.memoryBytes).toBeLessThan(big.memoryBytes);
    big.dispose();
    small.dispose();
  });

  it('memoryLimit must be a number of bytes between 16 MiB and 4 GiB', async () => {
    for (const bad of [0, -1, 1e3, 2 ** 33, Number.NaN, '1GB'])
      await expect(loadModel(archOnnx('resnet18'), { memoryLimit: bad as number })).rejects.toThrow(/memoryLimit must be a number of bytes/);
  });
});
