// Compiled by test/types.test.ts with tsc --strict, lib ES2022 + Node types, no DOM lib: the
// package's declarations must not need the DOM, and Node code needs no casts either.
import { readFileSync, writeFileSync } from 'node:fs';
import { createExplainer, encodePNG, heatmap, loadModel, writeNpy, type ImageExplanation } from 'lrp-wasm';

export async function cli(): Promise<void> {
  const model = await loadModel('models/fashion-mnist/model.onnx', { metadata: { inputRange: [0, 1] } });
  const r = model.explain(new Float32Array(784), { composite: 'epsilon-plus' });
  writeFileSync('heat.png', encodePNG(heatmap(r.relevance, { width: 28, height: 28 }), 28, 28));
  writeFileSync('r.npy', writeNpy(r.relevance, [1, 28, 28]));
  await loadModel(readFileSync('model.onnx'));
  await loadModel(new URL('file:///models/model.onnx'));
  const e: ImageExplanation = await model.explainImage(readFileSync('sample.png'), { fit: 'pad' });
  const bytes: Uint8ClampedArray<ArrayBuffer> = e.heatmap.data;
  void bytes;
  const ex = await createExplainer('model.onnx', { workers: 2 });
  await ex.explain(new Float32Array(784), { signal: AbortSignal.timeout(1000) });
  await ex.dispose();
  // @ts-expect-error a typo in a composite name does not compile
  model.explain(new Float32Array(784), { composite: 'epsilon-pluss' });
}
