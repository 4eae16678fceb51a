// The command line's text mode where no text model is needed: usage, and --text on an image model.
import { describe, expect, it } from 'vitest';
import { lrp } from '../cli/helpers.js';

const IMAGE_MODEL = 'models/fashion-mnist/tfjs/model.json';

describe('lrp text mode: usage', () => {
  it('lists --text and the text-model forms in --help', async () => {
    const r = await lrp(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('lrp explain TEXT-MODEL [--text "a sentence"]...');
    expect(r.stdout).toContain('--text "..."');
    expect(r.stdout).toMatch(/NO_COLOR/);
  });

  it('needs an INPUT or --text', async () => {
    const r = await lrp(['explain', IMAGE_MODEL]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs at least one INPUT after the MODEL \(or --text "\.\.\." for a text model/);
  });

  it('refuses --text on a model that takes values, naming its input shape', async () => {
    for (const command of ['explain', 'predict']) {
      const r = await lrp([command, IMAGE_MODEL, '--text', 'a shirt']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/--text needs a text model \(token ids into an embedding\), but model '.*' takes values of shape \[1, 28, 28\]/);
    }
  });

  it('refuses --text where it does not apply', async () => {
    const r = await lrp(['info', IMAGE_MODEL, '--text', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/option --text does not apply to 'lrp info'/);
  });
});
