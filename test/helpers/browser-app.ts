// A throw-away web app that depends on lrp-wasm as an installed package would (node_modules/lrp-wasm
// → this repository, so package.json's exports/imports and dist/ are what the bundlers see), a
// static server for it, and a headless Chromium page (Debian's chromium driven by playwright-core).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
// CI installs Chromium (.ci/run); a developer machine without it must not silently pass
if (!hasChromium && process.env.CI) throw new Error(`CI needs Chromium at ${CHROMIUM}`);

/** Writes `files` into a new temporary app folder with node_modules/lrp-wasm linked to this repository. */
export function makeApp(files: Record<string, string>): { dir: string; remove(): void } {
  if (!existsSync(join(REPO, 'dist', 'index.js'))) throw new Error('run npm run build first (npm test does)');
  const dir = mkdtempSync(join(tmpdir(), 'lrp-app-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(REPO, join(dir, 'node_modules', 'lrp-wasm'), 'dir');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.css': 'text/css',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

/** Serves `mounts` (URL prefix → folder) on 127.0.0.1; `/` serves index.html of the '/' mount. Missing files are 404. */
export async function serveStatic(mounts: Record<string, string>): Promise<{ base: string; close(): void }> {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const prefix = prefixes.find((p) => path.startsWith(p));
    let file = prefix === undefined ? '' : normalize(join(mounts[prefix], path.slice(prefix.length)));
    if (file && existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!prefix || !file.startsWith(mounts[prefix]) || !existsSync(file)) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.setHeader('content-type', TYPES[extname(file)] ?? 'application/octet-stream');
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return { base, close: () => server.close() };
}

export interface PageRun<T> {
  value: T;
  /** console.error messages and uncaught page errors. */
  errors: string[];
}

/** Opens `url` in headless Chromium, waits for `ready` (a global name), runs `use`, closes. */
export async function withChromium<T>(url: string, ready: string, use: (page: Page) => Promise<T>): Promise<PageRun<T>> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
  const errors: string[] = [];
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction((name) => name in globalThis, ready, { timeout: 60_000 });
    return { value: await use(page), errors };
  } finally {
    await browser.close();
  }
}
