// The esbuild browser bundle, loaded by a page in headless Chromium (Debian's chromium driven by
// playwright-core), computes the same relevance as Node for a test case.
import { build } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../src/index.js';
import { expectClose, modelDir, readF32 } from './helpers/fixtures.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const MODELS = join(import.meta.dirname, '..', 'models');
// CI installs Chromium (.ci/run); a developer machine without it must not silently pass
if (!hasChromium && process.env.CI) throw new Error(`CI needs Chromium at ${CHROMIUM}`);

describe.skipIf(!hasChromium)('browser bundle', () => {
  let server: Server;
  /** The same files served with COOP/COEP: a cross-origin isolated page (SharedArrayBuffer, threads). */
  let isolatedServer: Server;
  let base = '';
  let isolatedBase = '';
  let bundle = '';
  let workerBundle = '';

  beforeAll(async () => {
    const bundleOf = async (entry: string) =>
      (await build({ entryPoints: [join(import.meta.dirname, entry)], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' }))
        .outputFiles[0].text;
    bundle = await bundleOf('browser/page-entry.ts');
    workerBundle = await bundleOf('../src/parallel-worker.ts');
    const root = modelDir('mlp');
    const handler = (isolated: boolean) => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
      if (isolated) {
        res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
        res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      }
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/') {
        res.setHeader('content-type', 'text/html');
        res.end('<!doctype html><script type="module" src="/bundle.js"></script>');
        return;
      }
      if (url.pathname === '/bundle.js' || url.pathname === '/worker.js') {
        res.setHeader('content-type', 'text/javascript');
        res.end(url.pathname === '/bundle.js' ? bundle : workerBundle);
        return;
      }
      // /model/… is the mlp fixture, /models/… the repository's bundled models
      const dir = url.pathname.startsWith('/models/') ? MODELS : root;
      const file = normalize(join(dir, decodeURIComponent(url.pathname.slice(url.pathname.indexOf('/', 1) + 1))));
      if (!(url.pathname.startsWith('/model/') || url.pathname.startsWith('/models/')) || !file.startsWith(dir) || !existsSync(file)) {
        res.statusCode = 404;
        res.end();
        return;
      }
      res.setHeader('content-type', extname(file) === '.json' ? 'application/json' : 'application/octet-stream');
      res.end(readFileSync(file));
    };
    const listen = async (s: Server) => {
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
      const addr = s.address();
      return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    };
    server = createServer(handler(false));
    isolatedServer = createServer(handler(true));
    base = await listen(server);
    isolatedBase = await listen(isolatedServer);
  });

  afterAll(() => {
    server?.close();
    isolatedServer?.close();
  });

  /** A headless Chromium page with the bundle loaded (window.lrp), closed after `use`. */
  const withPage = async <T>(use: (page: import('playwright-core').Page) => Promise<T>, origin = base): Promise<T> => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${origin}/`);
      await page.waitForFunction(() => 'lrp' in globalThis);
      return await use(page);
    } finally {
      await browser.close();
    }
  };

  it('matches Node on the mlp with gamma(0.25) and renders a PNG', async () => {
    const x = Array.from(readF32('mlp', 'inputs.f32'));
    const inBrowser = await withPage((page) =>
      page.evaluate(
        async ({ url, x }) => {
          const lib = (globalThis as unknown as { lrp: typeof import('../src/index.js') }).lrp;
          const model = await lib.loadModel(url);
          const r = model.explain(new Float32Array(x), { rule: lib.rules.gamma(0.25), start: 'logit' });
          const png = lib.encodePNG(lib.heatmap(r.relevance.subarray(0, 784), { width: 28, height: 28 }), 28, 28);
          const out = { relevance: Array.from(r.relevance), targets: Array.from(r.targets), backend: model.backendName, png: png.length, threads: model.threads };
          model.dispose();
          return out;
        },
        { url: `${base}/model/model.json`, x },
      ),
    );
    const model = await loadModel(`${modelDir('mlp')}/model.json`);
    const node = model.explain(new Float32Array(x), { rule: { name: 'gamma', gamma: 0.25 }, start: 'logit' });
    model.dispose();
    expect(inBrowser.backend).toMatch(/^wasm/);
    // this page is not cross-origin isolated: no SharedArrayBuffer, so one thread, and model.threads says why
    expect(inBrowser.threads).toEqual({ count: 1, reason: expect.stringMatching(/not cross-origin isolated/) });
    expect(inBrowser.targets).toEqual(Array.from(node.targets));
    expect(inBrowser.png).toBeGreaterThan(100);
    expectClose(inBrowser.relevance, node.relevance, 4, 1e-5, 'browser vs node');
  });

  it('splits a batch over two Web Workers with the same result as Node', async () => {
    const x = Array.from(readF32('mlp', 'inputs.f32'));
    const inBrowser = await withPage((page) =>
      page.evaluate(
        async ({ url, x }) => {
          const lib = (globalThis as unknown as { lrp: typeof import('../src/index.js') }).lrp;
          const pm = await lib.loadModelParallel(url, { workers: 2, workerUrl: '/worker.js' });
          const r = await pm.explain(new Float32Array(x), { composite: 'epsilon-plus-flat', target: [0, 1, 2, 3] });
          let missingUrl = '';
          try {
            await lib.loadModelParallel(url, { workers: 1 });
          } catch (e) {
            missingUrl = (e as Error).message;
          }
          await pm.dispose();
          return { relevance: Array.from(r.relevance), targets: Array.from(r.targets), missingUrl };
        },
        { url: `${base}/model/model.json`, x },
      ),
    );
    const model = await loadModel(`${modelDir('mlp')}/model.json`);
    const node = model.explain(new Float32Array(x), { composite: 'epsilon-plus-flat', target: [0, 1, 2, 3] });
    model.dispose();
    expect(inBrowser.targets).toEqual([0, 1, 2, 3]);
    expect(inBrowser.missingUrl).toMatch(/workerUrl/);
    expectClose(inBrowser.relevance, node.relevance, 4, 1e-5, 'web workers vs node');
  });

  it('explains the bundled ViT and text transformer with attnlrp as Node does', async () => {
    const image = Array.from({ length: 2 * 784 }, (_, i) => ((i * 7919) % 101) / 101);
    const ids = [2, 40, 7, 1, 0, 0, ...Array.from({ length: 58 }, (_, i) => (i * 37) % 2002)];
    const inBrowser = await withPage((page) =>
      page.evaluate(
        async ({ base, image, ids }) => {
          const lib = (globalThis as unknown as { lrp: typeof import('../src/index.js') }).lrp;
          const vit = await lib.loadModel(`${base}/models/fashion-mnist-vit/model.onnx`);
          const a = vit.explain(new Float32Array(image), { composite: 'attnlrp' });
          vit.dispose();
          const text = await lib.loadModel(`${base}/models/spam-transformer/model.onnx`);
          const b = text.explain(Int32Array.from(ids), { composite: 'attnlrp' });
          const kind = text.inputKind;
          text.dispose();
          return { vit: Array.from(a.relevance), text: Array.from(b.relevance), layout: b.layout, kind };
        },
        { base, image, ids },
      ),
    );
    const vit = await loadModel(join(MODELS, 'fashion-mnist-vit', 'model.onnx'));
    const text = await loadModel(join(MODELS, 'spam-transformer', 'model.onnx'));
    const a = vit.explain(new Float32Array(image), { composite: 'attnlrp' });
    const b = text.explain(Int32Array.from(ids), { composite: 'attnlrp' });
    vit.dispose();
    text.dispose();
    expect(inBrowser.kind).toBe('tokens');
    expect(inBrowser.layout).toBe('tokens');
    expect(inBrowser.text).toHaveLength(64);
    expectClose(inBrowser.vit, a.relevance, 2, 1e-5, 'ViT: browser vs node');
    expectClose(inBrowser.text, b.relevance, 1, 1e-5, 'text transformer: browser vs node');
  });

  it('on a cross-origin isolated page: one thread on the main thread, kernel threads in a worker, same numbers', async () => {
    // the Fashion-MNIST CNN: its convolutions are large enough to be split between the threads
    const x = Array.from({ length: 2 * 784 }, (_, i) => ((i * 7919) % 101) / 101);
    const inBrowser = await withPage(
      (page) =>
        page.evaluate(
          async ({ url, x }) => {
            const lib = (globalThis as unknown as { lrp: typeof import('../src/index.js') }).lrp;
            const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
            const model = await lib.loadModel(url);
            const main = model.threads;
            const onMain = Array.from(model.explain(new Float32Array(x), { composite: 'epsilon-plus' }).relevance);
            model.dispose();
            const ex = await lib.createExplainer(url, { workerUrl: '/worker.js', threads: 2 });
            const inWorker = Array.from((await ex.explain(new Float32Array(x), { composite: 'epsilon-plus' })).relevance);
            const threads = ex.threads;
            await ex.dispose();
            return { isolated, main, onMain, threads, inWorker };
          },
          { url: `${isolatedBase}/models/fashion-mnist/tfjs/model.json`, x },
        ),
      isolatedBase,
    );
    expect(inBrowser.isolated).toBe(true);
    expect(inBrowser.main).toEqual({ count: 1, reason: expect.stringMatching(/Atomics.wait is not allowed/) });
    expect(inBrowser.threads).toEqual({ count: 2, reason: null });
    expect(inBrowser.inWorker).toEqual(inBrowser.onMain);
  });
});
