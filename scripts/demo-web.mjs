// The demo page (demo/): builds it into a static folder that works from any static host, and
// serves it. Run after `npm run build` (npm run demo:web does both).
//
//   node scripts/demo-web.mjs                      build into build/demo-web and serve on :8080
//   node scripts/demo-web.mjs --build-only [--out DIR]
//   node scripts/demo-web.mjs --port 3000
//   node scripts/demo-web.mjs --screenshot docs/demo.png   (headless Chromium, for the README)
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = join(REPO, 'models', 'fashion-mnist');

/** Bundles demo/ (page and worker, ESM, minified, with source maps) and copies the model and samples beside it. */
export async function buildDemo(out = join(REPO, 'build', 'demo-web')) {
  if (!existsSync(join(REPO, 'dist', 'index.js'))) throw new Error('run npm run build first');
  // replace a previous build only, never a folder of other files
  const earlier = join(out, 'index.html');
  if (existsSync(out) && readdirSync(out).length > 0 && !(existsSync(earlier) && readFileSync(earlier, 'utf8').includes('lrp-wasm demo')))
    throw new Error(`${out} is not empty and holds no earlier demo build: give another --out`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(REPO, 'demo', 'main.js'), join(REPO, 'demo', 'worker.js')],
    bundle: true,
    format: 'esm',
    minify: true,
    sourcemap: true,
    outdir: out,
    logLevel: 'warning',
  });
  for (const f of ['index.html', 'style.css']) cpSync(join(REPO, 'demo', f), join(out, f));
  const models = join(out, 'models', 'fashion-mnist');
  cpSync(join(MODEL, 'tfjs'), join(models, 'tfjs'), { recursive: true });
  cpSync(join(MODEL, 'samples'), join(models, 'samples'), { recursive: true });
  cpSync(join(MODEL, 'metadata.json'), join(models, 'metadata.json'));
  return out;
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.png': 'image/png', '.map': 'application/json' };

/** A static file server for `dir` on 127.0.0.1:`port` (0: any free port). */
export async function serveDir(dir, port = 0) {
  const server = createServer((req, res) => {
    let file = normalize(join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    if (file.startsWith(dir) && existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.setHeader('content-type', TYPES[extname(file)] ?? 'application/octet-stream');
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

async function screenshot(url, file) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 1300 } });
    await page.goto(url);
    await page.waitForFunction(() => globalThis.demo?.ready, null, { timeout: 60_000 });
    await page.click('#samples button:nth-child(1)');
    await page.waitForFunction(() => globalThis.demo.explained >= 1);
    await page.click('#compare');
    await page.waitForFunction(() => document.querySelectorAll('#grid figure').length >= 10);
    await page.screenshot({ path: file, fullPage: true });
  } finally {
    await browser.close();
  }
}

const invoked = process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invoked) {
  const args = process.argv.slice(2);
  const value = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const out = await buildDemo(value('--out') ? resolve(value('--out')) : undefined);
  console.log(`built the demo into ${out} (static files: any static host serves it)`);
  if (value('--screenshot')) {
    const server = await serveDir(out);
    await screenshot(server.url, resolve(value('--screenshot')));
    server.close();
    console.log(`wrote ${value('--screenshot')}`);
  } else if (!args.includes('--build-only')) {
    const server = await serveDir(out, Number(value('--port') ?? 8080));
    console.log(`serving the demo at ${server.url} (Ctrl-C stops)`);
  }
}
