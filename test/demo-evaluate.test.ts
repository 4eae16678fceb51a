// The demo page's Evaluate view end to end: built as static files (scripts/demo-web.mjs), served,
// opened in headless Chromium at #evaluate. A small evaluation (4 bundled samples, 2 methods,
// 5 steps, seeded noise) prints the AOPC and sanity tables that the library prints in Node on the
// same inputs, seed and kernels; the charts are there; Cancel stops a long run and the page stays
// usable; bad options are readable errors in the page.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { aopcTable, compareMethods, loadModel, sanityCheck, sanityTable, type BackendChoice } from '../src/index.js';
import { ALL_METHODS } from '../src/evaluate/methods.js';
import { hasChromium, REPO, withChromium } from './helpers/browser-app.js';

const DIR = join(REPO, 'models', 'fashion-mnist');
const METHODS = ['epsilon-gamma-box', 'gradient'];
const OPTIONS = { patch: 4, steps: 5, replacement: 'uniform' as const, seed: 7 };
const IMAGES = 4;
/** The backend choice that runs the kernels a backendName names (the page shows its name). */
const CHOICE: Record<string, BackendChoice> = { 'wasm-relaxed-simd': 'wasm-relaxed', 'wasm-simd': 'wasm-simd', 'wasm-scalar': 'wasm-scalar', reference: 'reference' };

type State = { ready: boolean; evaluated: number; failed: number; cancelled: number; evaluating: boolean };
const state = (page: Page) => page.evaluate(() => (globalThis as unknown as { demo: State }).demo);
const waitFor = (page: Page, key: 'evaluated' | 'failed' | 'cancelled', count: number) =>
  page.waitForFunction(([k, c]) => (globalThis as unknown as { demo: Record<string, number> }).demo[k] >= (c as number), [key, count] as const, { timeout: 60_000 });
const table = (page: Page, id: string) =>
  page.$$eval(`#${id} tr`, (rows) => rows.map((r) => Array.from(r.children, (c) => c.textContent ?? '')));

/** Sets the view's controls: these methods checked, the others not, the numbers as given (strings as typed). */
async function setControls(page: Page, c: { methods: string[] | 'all'; patch: string; steps: string; images: string; sanity: boolean }) {
  await page.$$eval('#eval-methods input', (boxes, want) => boxes.forEach((b) => ((b as HTMLInputElement).checked = want === 'all' || (want as string[]).includes((b as HTMLInputElement).value))), c.methods);
  await page.fill('#eval-patch', c.patch);
  await page.fill('#eval-steps', c.steps);
  await page.fill('#eval-images', c.images);
  await page.fill('#eval-seed', String(OPTIONS.seed));
  await page.selectOption('#eval-replacement', OPTIONS.replacement);
  await page.setChecked('#eval-sanity', c.sanity);
}

describe.skipIf(!hasChromium)('the demo page: Evaluate view', () => {
  it('prints the tables Node computes, draws the charts, cancels, and names bad options', async () => {
    const { buildDemo, serveDir } = (await import(join(REPO, 'scripts', 'demo-web.mjs'))) as {
      buildDemo(out: string): Promise<string>;
      serveDir(dir: string): Promise<{ url: string; close(): void }>;
    };
    const out = join(mkdtempSync(join(tmpdir(), 'lrp-demo-eval-')), 'site');
    await buildDemo(out);
    const server = await serveDir(out);
    try {
      const small = { methods: METHODS, patch: '4', steps: String(OPTIONS.steps), images: String(IMAGES), sanity: true };
      const run = await withChromium(`${server.url}#evaluate`, 'demo', async (page) => {
        await page.waitForFunction(() => (globalThis as unknown as { demo: State }).demo.ready, null, { timeout: 60_000 });
        const visible = await page.isVisible('#evaluate');
        const backend = /kernels (\S+)\./.exec((await page.textContent('#status')) ?? '')?.[1];

        await setControls(page, small);
        await page.click('#eval-run');
        await waitFor(page, 'evaluated', 1);
        const aopc = await table(page, 'eval-table');
        const sanity = await table(page, 'eval-sanity-table');
        const charts = await page.$$eval('#eval-curves svg, #eval-aopc svg, #eval-sanity-chart svg', (svgs) => svgs.map((s) => s.textContent ?? ''));
        const status = await page.textContent('#eval-status');

        // a long run (every method, all 16 samples), cancelled once it is under way
        await setControls(page, { methods: 'all', patch: '4', steps: '49', images: '16', sanity: false });
        await page.click('#eval-run');
        await page.waitForFunction(() => Number((document.getElementById('eval-progress') as HTMLProgressElement).value) > 0);
        const progressMax = await page.$eval('#eval-progress', (p) => (p as HTMLProgressElement).max);
        await page.click('#eval-cancel');
        await waitFor(page, 'cancelled', 1);
        const cancelled = { state: await state(page), status: await page.textContent('#eval-status'), resultsHidden: await page.isHidden('#eval-results'), progressHidden: await page.isHidden('#eval-progress') };

        // bad options: the library's typed errors, and the page's own for the sample count
        const errors: string[] = [];
        for (const [i, bad] of [{ patch: '40' }, { steps: '0' }, { images: '20' }, { methods: [] }].entries()) {
          await setControls(page, { ...small, ...bad });
          await page.click('#eval-run');
          await waitFor(page, 'failed', i + 1);
          expect(await page.getAttribute('#eval-status', 'class')).toBe('error');
          errors.push((await page.textContent('#eval-status')) ?? '');
        }

        // after all that, the same small run gives the same table
        await setControls(page, { ...small, sanity: false });
        await page.click('#eval-run');
        await waitFor(page, 'evaluated', 2);
        const again = await table(page, 'eval-table');
        return { visible, backend, aopc, sanity, charts, status, progressMax, cancelled, errors, again };
      });
      const v = run.value;

      // Node: the same samples prepared by explainImage, the same options, the same kernels
      expect(v.backend, 'the page names its kernels').toBeDefined();
      const model = await loadModel(join(DIR, 'tfjs', 'model.json'), { metadata: join(DIR, 'metadata.json'), backend: CHOICE[v.backend!] });
      try {
        const files = (JSON.parse(readFileSync(join(DIR, 'samples', 'labels.json'), 'utf8')) as Array<{ file: string }>).slice(0, IMAGES);
        const parts = await Promise.all(files.map(async ({ file }) => (await model.explainImage(readFileSync(join(DIR, 'samples', file)))).input));
        const x = new Float32Array(parts.length * 784);
        parts.forEach((p, i) => x.set(p, i * 784));
        const [low, high] = model.metadata!.inputRange!;
        const want = aopcTable(compareMethods(model, x, METHODS, { ...OPTIONS, low, high }));
        const wantSanity = sanityTable(await sanityCheck(model, x, METHODS, { seed: OPTIONS.seed, low, high }));

        expect(v.visible).toBe(true);
        expect(v.aopc).toEqual([want.header, ...want.rows]);
        expect(v.sanity).toEqual([wantSanity.header, ...wantSanity.rows]);
        expect(v.again).toEqual(v.aopc);
        expect(v.status).toMatch(new RegExp(`2 methods × 4 images, 4×4 patches, 5 steps, uniform, seed 7: .*kernels: ${v.backend}`));
        expect(v.charts).toHaveLength(3);
        expect(v.charts[0]).toMatch(/MoRF: most relevant first.*LeRF: least relevant first/s);
        for (const chart of v.charts) for (const m of METHODS) expect(chart).toContain(m);

        expect(v.progressMax).toBe(ALL_METHODS.length * 16);
        expect(v.cancelled).toMatchObject({ status: 'cancelled', resultsHidden: true, progressHidden: true, state: { evaluated: 1, cancelled: 1, failed: 0, evaluating: false } });

        expect(v.errors[0]).toMatch(/^InputError \(E_OPTION\): patch 40x40 is larger than the 28x28 input/);
        expect(v.errors[1]).toMatch(/^InputError \(E_OPTION\): steps must be a positive integer, got 0/);
        expect(v.errors[2]).toMatch(/^Error: number of images must be a whole number from 1 to 16 \(the bundled samples\), got '20'/);
        expect(v.errors[3]).toMatch(/^Error: pick at least one method/);
        expect(run.errors).toEqual([]);
      } finally {
        model.dispose();
      }
    } finally {
      server.close();
      rmSync(join(out, '..'), { recursive: true, force: true });
    }
  });
});
