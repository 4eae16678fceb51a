// Compiled by test/types.test.ts with tsc --strict, lib ES2022 + DOM, no Node types: what a web
// developer writes with lrp-wasm must type-check as it is, without casts.
import { composites, createExplainer, encodePNG, heatmap, loadModel, rules, type CompositeName, type ExplainOptions } from 'lrp-wasm';
import * as tf from '@tensorflow/tfjs';

export async function page(canvas: HTMLCanvasElement, img: HTMLImageElement, files: FileList, signal: AbortSignal): Promise<void> {
  const ctx = canvas.getContext('2d')!;
  const model = await loadModel('models/fashion-mnist/tfjs/model.json', { metadata: 'models/fashion-mnist/metadata.json' });
  const r = model.explain(new Float32Array(784), { composite: 'epsilon-gamma-box', target: 3 });
  // DOM-compatible arrays: ImageData and Blob take them
  const rgba = heatmap(r.relevance, { width: 28, height: 28, cmap: 'coldnhot' });
  ctx.putImageData(new ImageData(rgba, 28, 28), 0, 0);
  const png = new Blob([encodePNG(rgba, 28, 28)], { type: 'image/png' });
  const raw = new Blob([r.relevance, r.logits]);
  void [png, raw];

  // every image a page holds
  for (const image of [img, canvas, ctx.getImageData(0, 0, 28, 28), await createImageBitmap(img), new OffscreenCanvas(28, 28), tf.browser.fromPixels(canvas)]) {
    const e = await model.explainImage(image, { fit: 'center-crop', heatmap: { cmap: 'bwr' } });
    ctx.putImageData(e.overlay, 0, 0);
    const name: string | undefined = e.predictedName;
    void name;
  }

  // every model source a page holds
  await loadModel(files);
  await loadModel(await fetch('model.onnx'));
  await loadModel(new URL('model.onnx', document.baseURI));
  await loadModel(await (await fetch('model.onnx')).arrayBuffer());
  await loadModel(files[0]);
  const net = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2 })] });
  await loadModel(net);

  // the worker API
  const explainer = await createExplainer('model/model.json', { workerUrl: new URL('./worker.js', import.meta.url) });
  const e = await explainer.explainImage(img, { signal, onProgress: ({ done, total }) => console.log(done, total) });
  ctx.putImageData(e.heatmap, 0, 0);
  await explainer.dispose();
  const viaFactory = await createExplainer('model/model.json', { createWorker: () => new Worker(new URL('./lrp-worker.js', import.meta.url), { type: 'module' }) });
  await viaFactory.dispose();

  // names and rules are checked by the compiler
  const name: CompositeName = 'epsilon-plus-flat';
  const opts: ExplainOptions[] = [{ composite: name }, { composite: 'EpsilonGammaBox' }, { rule: 'epsilon:0.25', firstRule: rules.zBox(0, 1) }, { composite: composites.custom({ conv: rules.gamma(0.5) }) }];
  void opts;
  // @ts-expect-error a typo in a composite name does not compile
  model.explain(new Float32Array(784), { composite: 'epsilon-gama-box' });
}
