/**
 * The silent traps of explain/predict inputs, caught before they give plausible-looking nonsense:
 * - pixel bytes (a Uint8ClampedArray, i.e. ImageData.data or canvas pixels; an ImageData itself;
 *   a Uint8Array holding exactly one image's RGBA bytes): an InputError (E_PIXELS) pointing to
 *   explainImage, since taken as numbers they are several wrong samples at the wrong scale;
 * - values far outside the input range the model declares (model file or metadata): an
 *   InputError (E_INPUT_RANGE), opt out with `checkRange: false`. "Far" is more than one range
 *   width beyond either end, so augmented or slightly out-of-range data passes;
 * - where the model declares no range, whole numbers in 0..255 that exceed 1 look like pixel bytes:
 *   a console warning, once per model, since some models do take raw 0..255 values.
 * None of these applies to token-id models (`model.inputKind === 'tokens'`).
 */
import { InputError } from './errors.js';
import { imageGeometry } from './image/geometry.js';
import type { ExplainOptions, Model } from './model.js';

const warned = new WeakSet<object>();

/** The declared range of every input value, per channel: [lo, hi] after mean/std, or null when nothing is declared. */
function declaredRange(model: Model): { lo: number[]; hi: number[]; from: string } | null {
  const meta = model.metadata;
  const range = meta?.inputRange ?? model.graph.inputRange;
  if (!range) return null;
  const C = model.inputShape.length === 3 ? model.inputShape[0] : 1;
  const at = (v: number[] | undefined, c: number, d: number) => (v ? v[v.length === 1 ? 0 : c] : d);
  const lo: number[] = [];
  const hi: number[] = [];
  for (let c = 0; c < C; c++) {
    const a = (range[0] - at(meta?.mean, c, 0)) / at(meta?.std, c, 1);
    const b = (range[1] - at(meta?.mean, c, 0)) / at(meta?.std, c, 1);
    lo.push(Math.min(a, b));
    hi.push(Math.max(a, b));
  }
  return { lo, hi, from: meta?.inputRange ? 'metadata' : 'the model file' };
}

/**
 * explain() options with zbox bounds from metadata: when neither low nor high is given and the
 * metadata declares an input range, the bounds are that range after mean/std (per channel), as
 * for images. Otherwise the options as they are (the model file's range is the engine's default).
 */
export function withMetadataBounds(model: Model, opts: ExplainOptions): ExplainOptions {
  if (opts.low !== undefined || opts.high !== undefined || !model.metadata?.inputRange) return opts;
  const range = declaredRange(model)!;
  const one = (b: number[]) => (b.every((v) => v === b[0]) ? b[0] : b);
  return { ...opts, low: one(range.lo), high: one(range.hi) };
}

export function checkInputTraps(model: Model, x: unknown, checkRange = true): void {
  // token ids are whole numbers by nature and have no pixel range: Model checks them against the vocabulary
  if (model.inputKind === 'tokens') return;
  if (x && typeof x === 'object' && !('length' in x) && 'data' in x && 'width' in x && 'height' in x)
    throw new InputError('x is an image (ImageData or pixels), not model input: use model.explainImage(image), which converts, fits and scales it', 'E_PIXELS');
  if (x instanceof Uint8ClampedArray)
    throw new InputError(
      `x is a Uint8ClampedArray, the pixel bytes of an ImageData or canvas (${x.length} bytes): taken as model input they would be ${x.length / model.inputSize} samples at the wrong scale. Use model.explainImage(imageData), or convert to a Float32Array in the model's input range and layout`,
      'E_PIXELS',
    );
  const g = imageGeometry(model.inputShape);
  if (x instanceof Uint8Array && g.image && x.length === g.H * g.W * 4 && g.C !== 4)
    throw new InputError(`x holds ${x.length} bytes, the RGBA pixels of one ${g.W}×${g.H} image: use model.explainImage({ data, width, height, channels: 4 }), or convert to a Float32Array in the model's input range and layout`, 'E_PIXELS');
  if (!checkRange || !x || typeof (x as ArrayLike<number>).length !== 'number') return;
  const data = x as ArrayLike<number>;
  const range = declaredRange(model);
  if (range) {
    const per = model.inputSize;
    const C = range.lo.length;
    const hw = per / C;
    const nhwc = model.inputLayout === 'NHWC';
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      const j = i % per;
      const c = C === 1 ? 0 : nhwc ? j % C : Math.floor(j / hw);
      const w = range.hi[c] - range.lo[c];
      if (v < range.lo[c] - w || v > range.hi[c] + w) {
        const sample = Math.floor(i / per);
        const bytes = v > 1.5 && range.hi[c] <= 1 ? ' (0..255 pixel values? scale them, or use model.explainImage)' : '';
        throw new InputError(
          `input value ${v} at sample ${sample}, index ${j} is far outside the model's input range [${range.lo[c]}, ${range.hi[c]}] (from ${range.from})${bytes}; pass checkRange: false to use such values on purpose`,
          'E_INPUT_RANGE',
        );
      }
    }
    return;
  }
  if (warned.has(model)) return;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!(v >= 0 && v <= 255 && Number.isInteger(v))) return;
    if (v > max) max = v;
  }
  if (max > 1) {
    warned.add(model);
    console.warn(
      `lrp-wasm: model '${model.name}' got whole-number inputs up to ${max}, like 0..255 pixel bytes, and declares no input range. If they are pixels, scale them to the model's range or use model.explainImage(); declare the range with loadModel(src, { metadata: { inputRange } }) to check inputs against it. (Shown once per model.)`,
    );
  }
}
