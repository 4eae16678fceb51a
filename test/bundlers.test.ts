// The package as a web developer uses it: an app that imports 'lrp-wasm' is bundled by esbuild and
// by Vite with their default settings (no flags, no externals), served, and run in headless
// Chromium, where it loads the bundled Fashion-MNIST model from every kind of source (a relative
// URL, a URL object, a Response, Files, ONNX bytes) and explains on the main thread and in Web
// Workers; the numbers must equal Node's. A Node bundle (esbuild --platform=node) runs too.
import { build as esbuild } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type ImageExplanation } from '../src/index.js';
import { decodeImage, imageToTensor } from '../src/io/index.js';
import { hasChromium, makeApp, REPO, serveStatic, withChromium } from './helpers/browser-app.js';
import { expectClose } from './helpers/fixtures.js';

const APP = join(import.meta.dirname, 'browser', 'app');
// served beside the app: a script that is not lrp-wasm's worker
const EXTRA = join(import.meta.dirname, 'browser', 'extra');
const MODEL_DIR = join(REPO, 'models', 'fashion-mnist');
const SAMPLES = ['0000_ankle_boot.png', '0002_trouser.png'];
const appFiles = (names: string[]) => Object.fromEntries(names.map((n) => [n, readFileSync(join(APP, n), 'utf8')]));

/** Two Fashion-MNIST samples, NHWC (= NCHW for one channel), scaled to [0, 1]. */
function samples(): number[] {
  const out: number[] = [];
  for (const s of SAMPLES) {
    const img = decodeImage(readFileSync(join(MODEL_DIR, 'samples', s)));
    out.push(...imageToTensor(img, { channels: 1, width: 28, height: 28, range: [0, 1], layout: 'NHWC' }));
  }
  return out;
}

const OPTS = { composite: 'epsilon-gamma-box', low: 0, high: 1 } as const;

async function nodeResult(x: number[]) {
  const model = await loadModel(join(MODEL_DIR, 'tfjs', 'model.json'), { metadata: join(MODEL_DIR, 'metadata.json') });
  const r = model.explain(new Float32Array(x), OPTS);
  const image = await model.explainImage(readFileSync(join(MODEL_DIR, 'samples', SAMPLES[0])), OPTS);
  model.dispose();
  return { ...r, image };
}

/** Every /["']node:…["']/ import specifier left in a bundle. */
const nodeImports = (code: string) => code.match(/["']node:[a-z_/]+["']/g) ?? [];

type Lib = typeof import('../src/index.js');

/** In the page: explain x with the model from each source; returns relevance per source. */
async function runInPage(base: string, x: number[], bundler: 'esbuild' | 'vite' | 'webpack') {
  return withChromium(`${base}/`, 'appReady', (page) =>
    page.evaluate(
      async ({ x, opts, workerKind }) => {
        const g = globalThis as unknown as { lrp: Lib; workerUrl?: string; createWorker?: () => Worker };
        const lib = g.lrp;
        const input = new Float32Array(x);
        const out: Record<string, number[]> = {};
        const explainWith = async (name: string, source: Parameters<Lib['loadModel']>[0]) => {
          const model = await lib.loadModel(source);
          out[name] = Array.from(model.explain(input, opts).relevance);
          out[`${name}:name`] = [...model.name].map((c) => c.charCodeAt(0));
          model.dispose();
        };
        await explainWith('relative', 'models/fashion-mnist/tfjs/model.json');
        await explainWith('url', new URL('models/fashion-mnist/tfjs/model.json', location.href));
        await explainWith('response', await fetch('models/fashion-mnist/tfjs/model.json'));
        const files = await Promise.all(
          ['model.json', 'group1-shard1of1.bin'].map(async (n) => new File([await (await fetch(`models/fashion-mnist/tfjs/${n}`)).arrayBuffer()], n)),
        );
        await explainWith('files', files);
        await explainWith('onnx-bytes', await (await fetch('models/fashion-mnist/model.onnx')).arrayBuffer());
        // how each bundler's app gets its worker: a URL it gives, a bundled entry, or a factory it sees
        const worker = workerKind === 'vite' ? { workerUrl: g.workerUrl! } : workerKind === 'webpack' ? { createWorker: g.createWorker! } : { workerUrl: 'worker.js' };
        const pm = await lib.loadModelParallel('models/fashion-mnist/tfjs/model.json', { workers: 2, ...worker });
        out.workers = Array.from((await pm.explain(input, opts)).relevance);
        await pm.dispose();
        const failure = async (start: () => Promise<unknown>) => {
          const t0 = performance.now();
          try {
            await start();
            return 'started';
          } catch (e) {
            return `${(e as Error).name} after ${Math.round((performance.now() - t0) / 1000)} s: ${(e as Error).message}`;
          }
        };
        const missing = await failure(() => lib.loadModelParallel('models/fashion-mnist/tfjs/model.json', { workers: 1, workerUrl: 'no-such-worker.js' }));
        const explainer404 = await failure(() => lib.createExplainer('models/fashion-mnist/tfjs/model.json', { workerUrl: 'no-such-worker.js' }));
        const notAWorker = await failure(() => lib.createExplainer('models/fashion-mnist/tfjs/model.json', { workerUrl: '/extra/not-a-worker.js', startTimeoutMs: 1500 }));

        // an explainer in a Web Worker: an <img> (pixels read on the page), relative model and metadata URLs
        const ex = await lib.createExplainer('models/fashion-mnist/tfjs/model.json', { ...worker, metadata: 'models/fashion-mnist/metadata.json' });
        const img = new Image();
        img.src = 'models/fashion-mnist/samples/0000_ankle_boot.png';
        await img.decode();
        const fromImg = await ex.explainImage(img, opts);
        out.image = Array.from(fromImg.relevance);
        out.overlay = Array.from(fromImg.overlay.data);
        const isImageData = fromImg.overlay instanceof ImageData;
        const ctrl = new AbortController();
        let progressed = 0;
        const aborted = await failure(() =>
          ex.explain(new Float32Array(400 * 784), { batch: 4, signal: ctrl.signal, onProgress: (p) => ((progressed = p.done), p.done >= 8 && ctrl.abort()) }),
        );
        await ex.dispose();
        return { out, missing, explainer404, notAWorker, aborted, progressed, isImageData, predictedName: fromImg.predictedName };
      },
      { x, opts: OPTS, workerKind: bundler },
    ),
  );
}

function checkPage(run: Awaited<ReturnType<typeof runInPage>>, node: { relevance: Float32Array }, image: ImageExplanation) {
  const { out, missing, explainer404, notAWorker, aborted, progressed, isImageData, predictedName } = run.value;
  for (const source of ['relative', 'url', 'response', 'files', 'onnx-bytes', 'workers']) expectClose(out[source], node.relevance, 2, 1e-5, source);
  // named after the folder, never after the storage folder ('tfjs') or the file ('model')
  expect(String.fromCharCode(...out['relative:name'])).toBe('fashion-mnist');
  // a wrong worker URL is a WorkerError within seconds: a 404 at once, another script at the timeout
  expect(missing).toMatch(/^WorkerError after [0-2] s: .*no-such-worker\.js.* did not start/);
  expect(explainer404).toMatch(/^WorkerError after [0-2] s: .*no-such-worker\.js.* did not start/);
  expect(notAWorker).toMatch(/^WorkerError after [1-3] s: .*not-a-worker\.js did not start: no answer within 2 s/);
  expect(aborted).toMatch(/^AbortError after 0 s/);
  expect(progressed).toBeGreaterThanOrEqual(8);
  expect(progressed).toBeLessThan(400);
  // an <img> read on the page, explained in the worker: Node's numbers for the PNG file, a real ImageData back
  expectClose(out.image, image.relevance, 1, 1e-5, '<img> in a worker');
  expect(out.overlay).toEqual(Array.from(image.overlay.data));
  expect(isImageData).toBe(true);
  expect(predictedName).toBe('Ankle boot');
  expect(run.errors.filter((e) => !/no-such-worker|404/.test(e))).toEqual([]);
}

describe.skipIf(!hasChromium)('bundled with default settings, run in Chromium', () => {
  const x = samples();
  let node: Awaited<ReturnType<typeof nodeResult>>;
  beforeAll(async () => {
    node = await nodeResult(x);
  });

  it('esbuild (app and worker entries, no flags)', async () => {
    const app = makeApp(appFiles(['main.js', 'worker.js', 'index.html']));
    try {
      const result = await esbuild({ entryPoints: [join(app.dir, 'main.js'), join(app.dir, 'worker.js')], bundle: true, outdir: join(app.dir, 'out'), logLevel: 'silent' });
      expect(result.errors).toEqual([]);
      expect(result.warnings.map((w) => w.text)).toEqual([]);
      for (const f of ['main.js', 'worker.js']) expect(nodeImports(readFileSync(join(app.dir, 'out', f), 'utf8')), f).toEqual([]);
      const html = readFileSync(join(app.dir, 'index.html'), 'utf8');
      const server = await serveStatic({ '/': join(app.dir, 'out'), '/models/fashion-mnist/': MODEL_DIR, '/extra/': EXTRA });
      try {
        // the page itself: index.html next to the bundles
        writeFileSync(join(app.dir, 'out', 'index.html'), html);
        checkPage(await runInPage(server.base, x, 'esbuild'), node, node.image);
      } finally {
        server.close();
      }
    } finally {
      app.remove();
    }
  });

  it('Vite (worker through ?worker&url), with the ONNX importer in its own chunk', async () => {
    const app = makeApp({ ...appFiles(['vite-main.js']), 'index.html': readFileSync(join(APP, 'index.html'), 'utf8').replace('./main.js', './vite-main.js') });
    try {
      const { build } = await import('vite');
      await build({ root: app.dir, configFile: false, logLevel: 'silent' });
      const assets = join(app.dir, 'dist', 'assets');
      const chunks = readdirSync(assets);
      for (const f of chunks) expect(nodeImports(readFileSync(join(assets, f), 'utf8')), f).toEqual([]);
      // loaded on demand: the entry chunk does not hold the ONNX protobuf decoder
      const entry = chunks.find((f) => /^index-.*\.js$/.test(f))!;
      const onnx = chunks.find((f) => /^onnx-.*\.js$/.test(f));
      expect(onnx, chunks.join(', ')).toBeDefined();
      expect(readFileSync(join(assets, entry), 'utf8')).not.toMatch(/ModelProto/);
      expect(readFileSync(join(assets, onnx!), 'utf8')).toMatch(/ModelProto/);
      const server = await serveStatic({ '/': join(app.dir, 'dist'), '/models/fashion-mnist/': MODEL_DIR, '/extra/': EXTRA });
      try {
        checkPage(await runInPage(server.base, x, 'vite'), node, node.image);
      } finally {
        server.close();
      }
    } finally {
      app.remove();
    }
  });
  it('webpack 5 (production mode; worker through new Worker(new URL(...)) in app code)', async () => {
    const app = makeApp({ ...appFiles(['webpack-main.js', 'worker.js', 'index.html']) });
    try {
      const webpack = (await import('webpack')).default;
      const out = join(app.dir, 'dist');
      const stats = await new Promise<import('webpack').Stats>((resolve, reject) =>
        webpack({ mode: 'production', context: app.dir, entry: './webpack-main.js', output: { path: out, filename: 'main.js' } }, (err, st) => (err || !st ? reject(err) : resolve(st))),
      );
      const info = stats.toJson({ all: false, errors: true, warnings: true, moduleTrace: true });
      expect(info.errors?.map((e) => e.message) ?? []).toEqual([]);
      // warnings allowed: webpack's size hints, and protobufjs's optional require (@protobufjs/inquire,
      // in the ONNX decoder's dependency; harmless, known to webpack users)
      const allowed = (w: { message: string; moduleName?: string }) =>
        /exceed the recommended size limit|limit the size of your bundles|entrypoint size limit|performance recommendations/.test(w.message) || (w.moduleName?.includes('@protobufjs/inquire') && /Critical dependency/.test(w.message));
      expect((info.warnings ?? []).filter((w) => !allowed(w)).map((w) => `${w.moduleName}: ${w.message}`)).toEqual([]);
      for (const f of readdirSync(out).filter((f) => f.endsWith('.js'))) expect(nodeImports(readFileSync(join(out, f), 'utf8')), f).toEqual([]);
      writeFileSync(join(out, 'index.html'), readFileSync(join(app.dir, 'index.html'), 'utf8'));
      const server = await serveStatic({ '/': out, '/models/fashion-mnist/': MODEL_DIR, '/extra/': EXTRA });
      try {
        checkPage(await runInPage(server.base, x, 'webpack'), node, node.image);
      } finally {
        server.close();
      }
    } finally {
      app.remove();
    }
  });
});

describe('bundled for Node with default settings', () => {
  it('esbuild --platform=node: the bundle runs and gives the same numbers', async () => {
    const app = makeApp(appFiles(['node-main.js']));
    try {
      const out = join(app.dir, 'out', 'main.mjs');
      const result = await esbuild({ entryPoints: [join(app.dir, 'node-main.js')], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'silent' });
      expect(result.errors).toEqual([]);
      const x = samples();
      const stdout = execFileSync(process.execPath, [out, join(MODEL_DIR, 'tfjs', 'model.json')], { input: JSON.stringify({ x, composite: 'epsilon-plus' }) });
      const got = JSON.parse(stdout.toString()) as { relevance: number[]; name: string };
      const model = await loadModel(join(MODEL_DIR, 'tfjs', 'model.json'));
      const want = model.explain(new Float32Array(x), { composite: 'epsilon-plus' });
      model.dispose();
      expect(got.name).toBe('fashion-mnist');
      expectClose(got.relevance, want.relevance, 2, 1e-6, 'node bundle');
    } finally {
      app.remove();
    }
  });
});
