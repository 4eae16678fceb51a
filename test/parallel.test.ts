// Worker-thread parallelism over the batch gives the same numbers as one model. Runs against the
// compiled package (dist/, built by `npm test`), since worker threads load JavaScript files.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { modelDir, readF32 } from './helpers/fixtures.js';

const dist = new URL('../dist/index.js', import.meta.url);

describe('loadModelParallel', () => {
  it('splits a batch over worker threads with the same result as one model', async () => {
    expect(existsSync(dist), 'run npm run build first (npm test does)').toBe(true);
    const lib = (await import(dist.href)) as typeof import('../src/index.js');
    const x = readF32('cnn', 'inputs.f32');
    const path = `${modelDir('cnn')}/model.json`;
    const one = await lib.loadModel(path);
    const pm = await lib.loadModelParallel(path, { workers: 2 });
    try {
      const opts = { composite: 'epsilon-gamma-box', low: 0, high: 1, target: [1, 2, 3, 4], layers: true } as const;
      const a = one.explain(x, opts);
      const b = await pm.explain(x, opts);
      expect(Array.from(b.targets)).toEqual([1, 2, 3, 4]);
      expect(b.relevance).toEqual(a.relevance);
      expect(b.logits).toEqual(a.logits);
      expect(Object.keys(b.layers!)).toEqual(Object.keys(a.layers!));
      expect(b.layers!['0']).toEqual(a.layers!['0']);
      expect(await pm.predict(x)).toEqual(one.predict(x));
      await expect(pm.explain(new Float32Array(5))).rejects.toThrow(lib.InputError);
      await expect(pm.explain(x, { rule: { name: 'nope' } as never })).rejects.toThrow(lib.RuleError);
    } finally {
      one.dispose();
      await pm.dispose();
    }
  });
});
