// The demo page: the bundled Fashion-MNIST CNN in a Web Worker (createExplainer); pick a sample,
// drop/paste/draw an image, pick a composite or a rule; see the input, the heatmap, the overlay,
// the class scores, each layer's relevance and the time per explain; compare every composite.
// The Evaluate view (#evaluate, evaluate.js) measures the methods on the bundled samples.
// `?backend=wasm-simd` picks the kernels (e.g. Node 20's, for the digits `lrp evaluate` prints).
import { colormapNames, COMPOSITE_NAMES, createExplainer } from 'lrp-wasm';
import { setUpEvaluate } from './evaluate.js';

const MODEL = 'models/fashion-mnist/tfjs/model.json';
const METADATA = 'models/fashion-mnist/metadata.json';
const SAMPLES = 'models/fashion-mnist/samples/';

const $ = (id) => document.getElementById(id);
/** What the end-to-end test reads: readiness, the last result, the count of finished explains. */
const demo = { ready: false, explained: 0, last: null, evaluated: 0, failed: 0, cancelled: 0, evaluating: false };
globalThis.demo = demo;

let explainer;
/** The image on display (bytes, a File, or the drawing canvas), re-explained when the method changes. */
let current = null;
let running = null;

function status(text, error = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', error);
}

function option(select, value, label = value) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = label;
  select.append(o);
}

/** The explain options the controls describe. */
function methodOptions() {
  const opts = { heatmap: { cmap: $('cmap').value }, fit: $('fit').value, layers: true };
  if (document.querySelector('input[name=mode]:checked').value === 'composite') return { ...opts, composite: $('composite').value };
  const name = $('rule').value;
  const p = Number($('param').value);
  const spec = name === 'epsilon' || name === 'gamma' ? `${name}:${p}` : name === 'alphabeta' ? `alphabeta:${p + 1},${p}` : name;
  return { ...opts, rule: spec, ...($('first-rule').value ? { firstRule: $('first-rule').value } : {}) };
}

function methodName(o) {
  return o.composite ?? `${o.rule}${o.firstRule ? `, first layer ${o.firstRule}` : ''}`;
}

function draw(canvas, img) {
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.getContext('2d').putImageData(img, 0, 0);
}

function figure(img, caption) {
  const f = document.createElement('figure');
  const c = document.createElement('canvas');
  draw(c, img);
  const cap = document.createElement('figcaption');
  cap.textContent = caption;
  f.append(c, cap);
  return f;
}

function showScores(r) {
  const list = $('scores');
  list.replaceChildren();
  const order = Array.from(r.probabilities.keys()).sort((a, b) => r.probabilities[b] - r.probabilities[a]);
  for (const k of order) {
    const li = document.createElement('li');
    if (k === r.predicted) li.className = 'top';
    const name = document.createElement('span');
    name.textContent = r.classNames?.[k] ?? `class ${k}`;
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = `${(100 * r.probabilities[k]).toFixed(1)}%`;
    const p = document.createElement('span');
    p.textContent = `${(100 * r.probabilities[k]).toFixed(1)}%`;
    li.append(name, bar, p);
    list.append(li);
  }
}

function show(r, label, ms, opts) {
  draw($('input'), r.image);
  draw($('heatmap'), r.heatmap);
  draw($('overlay'), r.overlay);
  showScores(r);
  $('timing').textContent = `${label}, ${methodName(opts)}: ${ms.toFixed(1)} ms per explain`;
  const sums = `relevance: start ${r.sums.start.toFixed(3)}, input sum ${r.sums.input.toFixed(3)}`;
  $('notes').textContent = [`explained: ${r.targetName ?? r.target}`, sums, ...r.preprocessing.notes].join(' · ');
  $('layers').replaceChildren(...(r.layerMaps ?? []).map((m) => figure(m.heatmap, `${m.name} (${m.op}) ${m.shape.join('×')}`)));
}

/** Explains `image`; a newer call cancels an older one still running. */
async function explain(image, label) {
  current = { image, label };
  running?.abort();
  const ctrl = new AbortController();
  running = ctrl;
  const opts = methodOptions();
  status(`explaining ${label}…`);
  const t0 = performance.now();
  let r;
  try {
    r = await explainer.explainImage(image, { ...opts, signal: ctrl.signal });
  } catch (e) {
    if (e?.name !== 'AbortError') status(`${label}: ${e.message}`, true);
    return;
  }
  const ms = performance.now() - t0;
  show(r, label, ms, opts);
  status(`${label}: predicted ${r.predictedName} (${(100 * r.probabilities[r.predicted]).toFixed(1)}%)`);
  demo.last = { label, method: methodName(opts), heatmap: Array.from(r.heatmap.data), overlay: Array.from(r.overlay.data), relevance: Array.from(r.relevance), predicted: r.predicted, ms };
  demo.explained++;
}

async function compareAll() {
  if (!current) return status('pick an image first', true);
  const section = $('comparison');
  section.hidden = false;
  $('grid').replaceChildren();
  for (const composite of COMPOSITE_NAMES) {
    const t0 = performance.now();
    const r = await explainer.explainImage(current.image, { composite, heatmap: { cmap: $('cmap').value }, fit: $('fit').value });
    const ms = performance.now() - t0;
    $('grid').append(figure(r.heatmap, `${composite} (${ms.toFixed(0)} ms)`), figure(r.overlay, `${composite}, overlay`));
  }
  status(`${current.label}: every composite`);
}

/** The bundled samples, as labels.json lists them ({ file, className, … }). */
let sampleList = [];
const sampleBytes = new Map();
async function sample(file) {
  if (!sampleBytes.has(file)) sampleBytes.set(file, new Uint8Array(await (await fetch(SAMPLES + file)).arrayBuffer()));
  return sampleBytes.get(file);
}

async function setUpSamples() {
  const labels = await (await fetch(`${SAMPLES}labels.json`)).json();
  sampleList = labels;
  for (const { file, className } of labels) {
    const b = document.createElement('button');
    b.type = 'button';
    b.title = className;
    b.dataset.file = file;
    const img = document.createElement('img');
    img.src = SAMPLES + file;
    img.alt = className;
    b.append(img);
    b.addEventListener('click', async () => {
      document.querySelectorAll('#samples button').forEach((x) => x.classList.toggle('active', x === b));
      await explain(await sample(file), `${file} (${className})`);
    });
    $('samples').append(b);
  }
}

function setUpDrop() {
  const drop = $('drop');
  const take = (file) => file && explain(file, file.name || 'pasted image');
  drop.addEventListener('dragover', (e) => (e.preventDefault(), drop.classList.add('over')));
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    take(e.dataTransfer.files[0]);
  });
  $('file').addEventListener('change', (e) => take(e.target.files[0]));
  document.addEventListener('paste', (e) => take([...e.clipboardData.files].find((f) => f.type.startsWith('image/'))));
}

function setUpDrawing() {
  const pad = $('pad');
  const ctx = pad.getContext('2d');
  const clear = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, pad.width, pad.height);
  };
  clear();
  let drawing = false;
  const at = (e) => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  pad.addEventListener('pointerdown', (e) => {
    drawing = true;
    pad.setPointerCapture(e.pointerId);
    ctx.beginPath();
    ctx.moveTo(...at(e));
  });
  pad.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 24;
    ctx.lineCap = ctx.lineJoin = 'round';
    ctx.lineTo(...at(e));
    ctx.stroke();
  });
  pad.addEventListener('pointerup', () => {
    drawing = false;
    explain(pad, 'your drawing');
  });
  $('explain-drawing').addEventListener('click', () => explain(pad, 'your drawing'));
  $('clear').addEventListener('click', clear);
}

function setUpControls() {
  for (const c of COMPOSITE_NAMES) option($('composite'), c);
  $('composite').value = 'epsilon-gamma-box';
  for (const c of colormapNames()) option($('cmap'), c);
  $('cmap').value = 'bwr';
  const paramLabel = () => {
    const rule = $('rule').value;
    $('param-label').hidden = !['epsilon', 'gamma', 'alphabeta'].includes(rule);
    $('param-label').firstChild.textContent = rule === 'epsilon' ? 'ε ' : rule === 'gamma' ? 'γ ' : 'β ';
  };
  paramLabel();
  $('rule').addEventListener('change', paramLabel);
  for (const el of document.querySelectorAll('#method select, #method input')) el.addEventListener('change', () => current && explain(current.image, current.label));
  $('compare').addEventListener('click', () => compareAll().catch((e) => status(e.message, true)));
}

const sampleInputs = new Map();
/** A sample's model input, as explainImage prepares it (decoded PNG, scaled to the model's range). */
async function inputOf(file) {
  if (!sampleInputs.has(file)) sampleInputs.set(file, (await explainer.explainImage(await sample(file))).input);
  return sampleInputs.get(file);
}

/** Shows the view the address names (#evaluate, else the explain view). */
function showView() {
  const evaluate = location.hash === '#evaluate';
  $('explain-view').hidden = evaluate;
  $('evaluate-view').hidden = !evaluate;
  $('to-explain').classList.toggle('active', !evaluate);
  $('to-evaluate').classList.toggle('active', evaluate);
}

/** Frames per second of the page, to show that it stays responsive while the worker computes. */
function frameCounter() {
  let frames = 0;
  let since = performance.now();
  const tick = (now) => {
    frames++;
    if (now - since >= 1000) {
      $('fps').textContent = `Page: ${Math.round((frames * 1000) / (now - since))} frames/s.`;
      frames = 0;
      since = now;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

async function main() {
  setUpControls();
  setUpDrop();
  setUpDrawing();
  frameCounter();
  showView();
  addEventListener('hashchange', showView);
  const backend = new URLSearchParams(location.search).get('backend') ?? undefined;
  try {
    await setUpSamples();
    explainer = await createExplainer(MODEL, { workerUrl: new URL('worker.js', import.meta.url), metadata: METADATA, backend });
    await explainer.warmup(1, { composite: 'epsilon-gamma-box' });
  } catch (e) {
    status(`cannot start: ${e.message}`, true);
    return;
  }
  setUpEvaluate({ explainer, samples: () => sampleList, inputOf, state: demo });
  $('eval-run').disabled = false;
  status(`ready: ${explainer.name}, input ${explainer.inputShape.join('×')} (${explainer.inputLayout}), ${explainer.outputSize} classes, kernels ${explainer.backendName}. Pick an image.`);
  demo.ready = true;
}

main();
