// The demo page end to end: built as static files (scripts/demo-web.mjs), served, opened in
// headless Chromium; clicking a sample gives the heatmap Node computes for that file, pixel for
// pixel; drawing, switching to a rule and comparing composites work; no console errors.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPOSITE_NAMES, loadModel } from '../src/index.js';
import { hasChromium, REPO, withChromium } from './helpers/browser-app.js';

const DIR = join(REPO, 'models', 'fashion-mnist');

describe.skipIf(!hasChromium)('the demo page', () => {
  it('explains a clicked sample as Node does, a drawing, a rule, and every composite', async () => {
    const { buildDemo, serveDir } = (await import(join(REPO, 'scripts', 'demo-web.mjs'))) as {
      buildDemo(out: string): Promise<string>;
      serveDir(dir: string): Promise<{ url: string; close(): void }>;
    };
    const out = join(mkdtempSync(join(tmpdir(), 'lrp-demo-')), 'site');
    await buildDemo(out);
    const server = await serveDir(out);
    const model = await loadModel(join(DIR, 'tfjs', 'model.json'), { metadata: join(DIR, 'metadata.json') });
    try {
      const file = '0002_trouser.png';
      const want = await model.explainImage(readFileSync(join(DIR, 'samples', file)), { composite: 'epsilon-gamma-box', layers: true });
      const run = await withChromium(server.url, 'demo', async (page) => {
        await page.waitForFunction(() => (globalThis as unknown as { demo: { ready: boolean } }).demo.ready, null, { timeout: 60_000 });
        const demo = () => page.evaluate(() => (globalThis as unknown as { demo: { explained: number; last: Record<string, unknown> } }).demo);
        await page.click(`#samples button[data-file="${file}"]`);
        await page.waitForFunction(() => (globalThis as unknown as { demo: { explained: number } }).demo.explained >= 1);
        const sample = (await demo()).last as { heatmap: number[]; overlay: number[]; predicted: number; method: string };
        const canvas = await page.evaluate(() => Array.from((document.getElementById('heatmap') as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 28, 28).data));
        const layers = await page.locator('#layers figure').count();
        const status = await page.textContent('#status');

        // a rule instead of a composite re-explains the same image
        await page.check('input[name=mode][value=rule]');
        await page.selectOption('#rule', 'gamma');
        await page.waitForFunction(() => (globalThis as unknown as { demo: { last: { method: string } } }).demo.last.method === 'gamma:0.25');

        // a drawing: a stroke on the pad
        const box = (await page.locator('#pad').boundingBox())!;
        await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.2);
        await page.mouse.down();
        await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.8, { steps: 8 });
        await page.mouse.up();
        await page.waitForFunction(() => (globalThis as unknown as { demo: { last: { label: string } } }).demo.last.label === 'your drawing');

        await page.click('#compare');
        await page.waitForFunction((want) => document.querySelectorAll('#grid figure').length === want, 2 * COMPOSITE_NAMES.length, { timeout: 60_000 });
        return { sample, canvas, layers, status, fps: await page.textContent('#fps') };
      });
      const { sample, canvas, layers, status } = run.value;
      expect(sample.method).toBe('epsilon-gamma-box');
      expect(sample.heatmap).toEqual(Array.from(want.heatmap.data));
      expect(sample.overlay).toEqual(Array.from(want.overlay.data));
      expect(canvas).toEqual(Array.from(want.heatmap.data));
      expect(sample.predicted).toBe(want.predicted);
      expect(status).toMatch(/predicted Trouser/);
      expect(layers).toBe(want.layerMaps!.length);
      expect(run.errors).toEqual([]);
    } finally {
      model.dispose();
      server.close();
      rmSync(join(out, '..'), { recursive: true, force: true });
    }
  });
});
