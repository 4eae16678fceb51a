// The bundled Fashion-MNIST model (models/fashion-mnist/, when it has been trained): explain and
// predict its sample PNGs through the command line, with the class names from metadata.json.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodePNG } from '../../src/index.js';
import { listFiles, lrp, tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../models/fashion-mnist/', import.meta.url));
const TFJS = path.join(ROOT, 'tfjs', 'model.json');
const ONNX = path.join(ROOT, 'model.onnx');
const SAMPLES = path.join(ROOT, 'samples');
const ready = [TFJS, ONNX, path.join(ROOT, 'metadata.json'), path.join(SAMPLES, 'labels.json')].every((f) => existsSync(f));

interface Label {
  file: string;
  label: number;
  className: string;
  predicted: number;
  predictedClassName: string;
}

describe.skipIf(!ready)('lrp on models/fashion-mnist', () => {
  const labels = (): Label[] => JSON.parse(readFileSync(path.join(SAMPLES, 'labels.json'), 'utf8'));
  const classes = (): string[] => JSON.parse(readFileSync(path.join(ROOT, 'metadata.json'), 'utf8')).classes;
  const pngs = () => readdirSync(SAMPLES).filter((f) => f.endsWith('.png')).sort().map((f) => path.join(SAMPLES, f));

  for (const [format, model] of [['tfjs', TFJS], ['onnx', ONNX]] as const) {
    it(`explain (${format}): a heatmap per sample PNG, the overview, class names from metadata.json`, async () => {
      const out = tempDir();
      const files = pngs();
      const run = await lrp(['explain', model, ...files, '--out', out, '--json', '--composite', 'epsilon-gamma-box']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const summary = JSON.parse(run.stdout);
      const byFile = new Map(labels().map((l) => [l.file, l]));
      expect(summary.samples).toHaveLength(files.length);
      for (const s of summary.samples) {
        const l = byFile.get(path.basename(s.file));
        expect(l).toBeDefined();
        // the model's own prediction, recorded by the training script (tfjs; the ONNX twin agrees)
        expect(s.predicted).toBe(l!.predicted);
        expect(s.predictedClassName).toBe(l!.predictedClassName);
        expect(s.className).toBe(classes()[s.target]);
        expect(Number.isFinite(s.relevanceSum)).toBe(true);
        const png = decodePNG(new Uint8Array(readFileSync(s.heatmap)));
        expect(png.width).toBe(224); // 28 px enlarged 8 times, a colour bar below
        expect(png.height).toBeGreaterThan(224);
      }
      expect(listFiles(out)).toEqual(['overview.png', ...files.map((f) => path.basename(f))].sort());
    });
  }

  it('explain the true class by name and predict with class names', async () => {
    const first = labels()[0];
    const out = tempDir();
    const run = await lrp(['explain', TFJS, path.join(SAMPLES, first.file), '--out', out, '--target', first.className, '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).samples[0]).toMatchObject({ target: first.label, className: first.className });
    const pred = await lrp(['predict', ONNX, ...pngs()]);
    expect(pred.code).toBe(0);
    expect(pred.stdout).toContain(`(${first.predictedClassName})`);
  });
});
